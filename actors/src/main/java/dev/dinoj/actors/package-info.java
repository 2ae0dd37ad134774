/**
 * The cluster runtime: the coordinator (cluster singleton), data-shard entities (cluster sharding), the trainer-worker
 * actor (one per JVM), their protocols (records marked {@link dev.dinoj.actors.ClusterMessage}) and the Kryo
 * serializer those records travel with. Numerical work stays in the trainer's plain classes; actors only order it.
 */
package dev.dinoj.actors;
