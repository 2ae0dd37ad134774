package dev.dinoj.trainer.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How a training configuration is put together: {@code reference.conf} (every key with its default) under presets or
 * HOCON files (each overriding the ones before it) under {@code --set key=value} overrides. Keys nobody reads are
 * refused, naming where they came from.
 */
public final class ConfigLayers {

    /** Presets shipped in the jar ({@code dinoj/presets/NAME.conf}). */
    public static final List<String> PRESETS = List.of("fmnist-tiny", "fmnist-pico");

    private ConfigLayers() {}

    /**
     * The merged, unresolved configuration of {@code configFiles} (files or preset names, later ones win) and
     * {@code sets} ({@code key=value}; keys may omit the {@code dinoj.} prefix) over {@code reference.conf}.
     */
    public static Config merge(List<String> configFiles, List<String> sets) {
        Config reference = ConfigFactory.parseResources(ConfigLayers.class.getClassLoader(), "reference.conf")
                .withOnlyPath("dinoj");
        Config user = ConfigFactory.empty();
        for (String configFile : configFiles) {
            user = parseFileOrPreset(configFile).withFallback(user);
        }
        for (String set : sets) {
            user = parseSet(set).withFallback(user);
        }
        rejectUnknownKeys(user, reference);
        return user.withFallback(reference);
    }

    private static Config parseSet(String set) {
        int eq = set.indexOf('=');
        if (eq <= 0) {
            throw new ConfigError("--set " + set + ": expected key=value, e.g. --set optim.base-lr=0.002");
        }
        String key = set.substring(0, eq).trim();
        String full = key.startsWith("dinoj.") ? key : "dinoj." + key;
        try {
            return ConfigFactory.parseString(
                    full + " = " + set.substring(eq + 1).trim());
        } catch (ConfigException e) {
            throw new ConfigError("--set " + set + ": " + e.getMessage());
        }
    }

    private static Config parseFileOrPreset(String spec) {
        Path p = Path.of(spec);
        if (Files.isRegularFile(p)) {
            try {
                return ConfigFactory.parseFile(
                        p.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
            } catch (ConfigException e) {
                throw new ConfigError(spec + ": " + e.getMessage());
            }
        }
        String name = spec.endsWith(".conf") ? spec.substring(0, spec.length() - 5) : spec;
        if (PRESETS.contains(name)) {
            return ConfigFactory.parseResources(
                    ConfigLayers.class.getClassLoader(),
                    "dinoj/presets/" + name + ".conf",
                    ConfigParseOptions.defaults().setAllowMissing(false));
        }
        throw new ConfigError(spec + ": no such config file and not a preset; use a HOCON file or one of " + PRESETS);
    }

    private static void rejectUnknownKeys(Config user, Config reference) {
        List<String> unknown = new ArrayList<>();
        for (Map.Entry<String, ConfigValue> e : user.entrySet()) {
            if (!reference.hasPath(e.getKey())) {
                unknown.add(e.getKey() + " (" + e.getValue().origin().description() + ")");
            }
        }
        if (!unknown.isEmpty()) {
            throw new ConfigError("unknown config key" + (unknown.size() > 1 ? "s " : " ") + String.join(", ", unknown)
                    + ": every accepted key is listed with its default in trainer/src/main/resources/reference.conf"
                    + " (keys use dashes, e.g. optim.base-lr)");
        }
    }
}
