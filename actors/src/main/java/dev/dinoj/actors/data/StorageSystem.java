package dev.dinoj.actors.data;

import akka.actor.ActorSystem;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageSettings;

/**
 * The storage streams of a node (S3 listing and downloads of the curation workers, the curated-set fetch of the data
 * shards) run in one local classic actor system per JVM, next to the node's cluster system. It is built from
 * {@code dinoj.*} of the node config and the libraries' reference config only, with the local provider: a system made
 * from the node config itself would bind the node's Artery port a second time.
 */
public final class StorageSystem {

    private static ActorSystem system;

    private StorageSystem() {}

    /** The config of storage systems on a node whose config is {@code app}. */
    public static Config config(Config app) {
        return ConfigFactory.parseString("akka.actor.provider = local\nakka.daemonic = on\nakka.extensions = []\n"
                        + "akka.coordinated-shutdown.run-by-jvm-shutdown-hook = off")
                .withFallback(app.withOnlyPath("dinoj"))
                .withFallback(ConfigFactory.defaultReference());
    }

    /** This JVM's storage system (created on first use). */
    public static synchronized ActorSystem get(Config app) {
        if (system == null) {
            system = ObjectStores.createSystem("dinoj-storage", config(app), StorageSettings.fromConfig(app));
        }
        return system;
    }
}
