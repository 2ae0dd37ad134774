/** Starting a node's actors by role (coordinator, worker, data). */
package dev.dinoj.actors.node;
