package dev.dinoj.trainer.config;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigIncludeContext;
import com.typesafe.config.ConfigIncluder;
import com.typesafe.config.ConfigIncluderClasspath;
import com.typesafe.config.ConfigIncluderFile;
import com.typesafe.config.ConfigIncluderURL;
import com.typesafe.config.ConfigObject;
import java.io.File;
import java.net.URL;

/**
 * The includer of text that is data ({@code --set} values, submitted config files): every {@code include} (plain,
 * {@code file()}, {@code url()}, {@code classpath()}, {@code required()}) is refused before anything is read or
 * fetched. It implements every include interface, because Typesafe Config falls back to its own reading for a kind
 * the includer does not handle.
 */
final class NoIncludes implements ConfigIncluder, ConfigIncluderFile, ConfigIncluderURL, ConfigIncluderClasspath {

    static final NoIncludes INSTANCE = new NoIncludes();

    private NoIncludes() {}

    @Override
    public ConfigIncluder withFallback(ConfigIncluder fallback) {
        return this;
    }

    @Override
    public ConfigObject include(ConfigIncludeContext context, String what) {
        throw refused();
    }

    @Override
    public ConfigObject includeFile(ConfigIncludeContext context, File what) {
        throw refused();
    }

    @Override
    public ConfigObject includeURL(ConfigIncludeContext context, URL what) {
        throw refused();
    }

    @Override
    public ConfigObject includeResources(ConfigIncludeContext context, String what) {
        throw refused();
    }

    private static ConfigException refused() {
        return new ConfigException.Generic("include is not allowed in a --set value or a submitted config file (they"
                + " are data: write the keys themselves)");
    }
}
