/** Starting cluster nodes: one node in this JVM ({@link dev.dinoj.deploy.node.NodeLauncher}) or N local JVMs. */
package dev.dinoj.deploy.node;
