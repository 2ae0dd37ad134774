package dev.dinoj.actors;

/**
 * Marker of every message that crosses JVMs. Bound in {@code actors/reference.conf} to
 * {@link dev.dinoj.actors.serialization.KryoClusterSerializer}, which serializes only the classes registered in
 * {@link dev.dinoj.actors.serialization.ClusterRegistry}: a message of any other class is refused on both sides (never
 * instantiated on the receiving side).
 */
public interface ClusterMessage {}
