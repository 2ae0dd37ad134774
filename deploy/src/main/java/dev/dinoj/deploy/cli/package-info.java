/** The {@code dinoj} command line (picocli): one class per sub-command. */
package dev.dinoj.deploy.cli;
