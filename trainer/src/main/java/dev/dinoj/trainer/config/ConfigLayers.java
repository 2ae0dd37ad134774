package dev.dinoj.trainer.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How a training configuration is put together: {@code reference.conf} (every key with its default) under presets or
 * HOCON files (each overriding the ones before it) under {@code --set key=value} overrides. Keys nobody reads are
 * refused, naming where they came from. A {@code --set} value is data: it includes nothing ({@link NoIncludes}), and
 * the configuration is resolved without the environment ({@link TrainSettings#fromConfig}). The files of a run
 * submitted to a cluster are data too ({@link #mergeSubmitted}); the files the local user names may include others.
 */
public final class ConfigLayers {

    /** Presets shipped in the jar ({@code dinoj/presets/NAME.conf}). */
    public static final List<String> PRESETS =
            List.of("fmnist-tiny", "fmnist-pico", "fmnist-fast", "vits14", "vitb14", "vitl14");

    /** How data is parsed: no includes. */
    private static final ConfigParseOptions DATA =
            ConfigParseOptions.defaults().setIncluder(NoIncludes.INSTANCE).setAllowMissing(false);

    private ConfigLayers() {}

    /**
     * The merged, unresolved configuration of {@code configFiles} (files or preset names, later ones win) and
     * {@code sets} ({@code key=value}; keys may omit the {@code dinoj.} prefix) over {@code reference.conf}.
     */
    public static Config merge(List<String> configFiles, List<String> sets) {
        return merge(configFiles, sets, false);
    }

    /**
     * As {@link #merge}, for a run submitted to a cluster: its files (checked by the caller to be where the node
     * allows) include nothing either, and a syntax error names the file and line without repeating the file's text.
     */
    public static Config mergeSubmitted(List<String> configFiles, List<String> sets) {
        return merge(configFiles, sets, true);
    }

    /** Whether {@code spec} names a preset ({@code NAME} or {@code NAME.conf}). */
    public static boolean isPreset(String spec) {
        return PRESETS.contains(presetName(spec));
    }

    private static Config merge(List<String> configFiles, List<String> sets, boolean submitted) {
        Config reference = ConfigFactory.parseResources(ConfigLayers.class.getClassLoader(), "reference.conf")
                .withOnlyPath("dinoj");
        Config user = ConfigFactory.empty();
        for (String configFile : configFiles) {
            user = (submitted ? parseSubmitted(configFile) : parseFileOrPreset(configFile)).withFallback(user);
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
        String value = set.substring(eq + 1).trim();
        if (full.equals(DeviceSpec.KEY) && !value.startsWith("\"")) {
            value = ConfigUtil.quoteString(value); // cuda:N is not a HOCON unquoted string
        }
        try {
            return ConfigFactory.parseString(full + " = " + value, DATA.setOriginDescription("--set " + full));
        } catch (ConfigException e) {
            throw new ConfigError(e.origin() != null ? e.getMessage() : "--set " + full + ": " + e.getMessage());
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
        if (isPreset(spec)) {
            return preset(spec);
        }
        throw new ConfigError(spec + ": no such config file and not a preset; use a HOCON file or one of " + PRESETS);
    }

    /** A preset first (a file of that name does not hide it), else the file, parsed as data. */
    private static Config parseSubmitted(String spec) {
        if (isPreset(spec)) {
            return preset(spec);
        }
        Path p = Path.of(spec);
        if (!Files.isRegularFile(p)) {
            throw new ConfigError(spec + ": no such config file and not a preset " + PRESETS);
        }
        try {
            return ConfigFactory.parseFile(p.toFile(), DATA);
        } catch (ConfigException.Parse e) {
            int line = e.origin() == null ? -1 : e.origin().lineNumber();
            throw new ConfigError(
                    spec + (line > 0 ? ": line " + line : "") + ": not valid HOCON (the file's text is not shown)");
        } catch (ConfigException e) {
            throw new ConfigError(spec + ": " + e.getMessage());
        }
    }

    private static String presetName(String spec) {
        return spec.endsWith(".conf") ? spec.substring(0, spec.length() - 5) : spec;
    }

    private static Config preset(String spec) {
        return ConfigFactory.parseResources(
                ConfigLayers.class.getClassLoader(),
                "dinoj/presets/" + presetName(spec) + ".conf",
                ConfigParseOptions.defaults().setAllowMissing(false));
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
