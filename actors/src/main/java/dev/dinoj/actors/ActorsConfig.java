package dev.dinoj.actors;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

/**
 * The Akka settings the cluster runtime needs ({@code dinoj/actors-akka.conf}: provider, Kryo serializer and bindings,
 * Artery's 4 MiB frame, the split-brain resolver, sharding) layered right under a node's own configuration and above
 * every jar's {@code reference.conf}. They are in actors' {@code reference.conf} too, but when several jars'
 * {@code reference.conf} set one key, the class path order decides: with akka-remote's first, the frame was 256 KiB.
 */
public final class ActorsConfig {
    /** The resource holding the runtime's Akka settings. */
    public static final String RESOURCE = "dinoj/actors-akka.conf";

    private ActorsConfig() {}

    /** The runtime's Akka settings alone. */
    public static Config runtimeDefaults() {
        return ConfigFactory.parseResources(ActorsConfig.class.getClassLoader(), RESOURCE);
    }

    /**
     * System-property overrides, then {@code user} (a node's config, unresolved), then the application config, then the
     * runtime's settings, then every {@code reference.conf}; resolved.
     */
    public static Config load(Config user) {
        return load(user, ActorsConfig.class.getClassLoader());
    }

    /** {@link #load(Config)} with the application and reference configs of {@code loader}. */
    public static Config load(Config user, ClassLoader loader) {
        return ConfigFactory.defaultOverrides(loader)
                .withFallback(user)
                .withFallback(ConfigFactory.defaultApplication(loader))
                .withFallback(runtimeDefaults())
                .withFallback(ConfigFactory.defaultReference(loader))
                .resolve();
    }
}
