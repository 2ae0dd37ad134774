/** Data-shard entities (cluster sharding): each owns a slice of the dataset and serves encoded samples. */
package dev.dinoj.actors.data;
