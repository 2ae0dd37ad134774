/** The Kryo serializer of {@link dev.dinoj.actors.ClusterMessage}s, with class registration required. */
package dev.dinoj.actors.serialization;
