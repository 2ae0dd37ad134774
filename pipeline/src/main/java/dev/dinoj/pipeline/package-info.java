/** dinoj pipeline module. */
package dev.dinoj.pipeline;
