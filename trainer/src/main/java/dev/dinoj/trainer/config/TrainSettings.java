package dev.dinoj.trainer.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import dev.dinoj.pipeline.augment.MultiCropConfig;
import dev.dinoj.trainer.collective.CollectiveSettings;
import dev.dinoj.trainer.collective.WireFormat;
import dev.dinoj.trainer.model.FfnType;
import dev.dinoj.trainer.model.HeadConfig;
import dev.dinoj.trainer.model.VitConfig;
import dev.dinoj.trainer.schedule.Schedules;
import dev.dinoj.trainer.loss.GramLoss;
import dev.dinoj.trainer.train.Centering;
import dev.dinoj.trainer.train.DistillTeacher;
import dev.dinoj.trainer.train.GramSettings;
import dev.dinoj.trainer.train.SslConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The resolved, validated training configuration: {@code reference.conf} (every key with its default) under a
 * preset or file under {@code --set} overrides. Unknown keys and out-of-range values are rejected with the key's
 * full name.
 */
public final class TrainSettings {

    /** Presets shipped in the jar ({@code dinoj/presets/NAME.conf}). */
    public static final List<String> PRESETS = List.of("fmnist-tiny", "fmnist-pico");

    private final Config config;
    private final SslConfig ssl;
    private final Schedules schedules;
    private final GramSettings gram;

    private TrainSettings(Config config) {
        this.config = config;
        this.ssl = get(this::buildSsl);
        this.schedules = get(this::buildSchedules);
        this.gram = get(this::buildGram);
        get(this::validate);
        get(this::validateDistill);
    }

    /**
     * Loads a configuration.
     *
     * @param configFile a HOCON file, a preset name ({@link #PRESETS}), or null for the defaults
     * @param sets       {@code key=value} overrides; keys may omit the {@code dinoj.} prefix
     */
    public static TrainSettings load(String configFile, List<String> sets) {
        return load(configFile == null ? List.of() : List.of(configFile), sets);
    }

    /**
     * Loads a configuration from several layers: each file or preset overrides the ones before it, {@code sets}
     * override them all (e.g. {@code dinoj distill}: the student preset, then {@code --config}).
     */
    public static TrainSettings load(List<String> configFiles, List<String> sets) {
        Config reference = ConfigFactory.parseResources(TrainSettings.class.getClassLoader(), "reference.conf")
                .withOnlyPath("dinoj");
        Config user = ConfigFactory.empty();
        for (String configFile : configFiles) {
            user = parseFileOrPreset(configFile).withFallback(user);
        }
        for (String set : sets) {
            int eq = set.indexOf('=');
            if (eq <= 0) {
                throw new ConfigError("--set " + set + ": expected key=value, e.g. --set optim.base-lr=0.002");
            }
            String key = set.substring(0, eq).trim();
            String full = key.startsWith("dinoj.") ? key : "dinoj." + key;
            try {
                user = ConfigFactory.parseString(full + " = " + set.substring(eq + 1).trim()).withFallback(user);
            } catch (ConfigException e) {
                throw new ConfigError("--set " + set + ": " + e.getMessage());
            }
        }
        rejectUnknownKeys(user, reference);
        return fromConfig(user.withFallback(reference));
    }

    /** Settings from an already merged config (a checkpoint's resolved config). */
    public static TrainSettings fromConfig(Config merged) {
        try {
            return new TrainSettings(merged.resolve());
        } catch (ConfigException e) {
            throw new ConfigError(e.getMessage());
        }
    }

    private static Config parseFileOrPreset(String spec) {
        Path p = Path.of(spec);
        if (Files.isRegularFile(p)) {
            try {
                return ConfigFactory.parseFile(p.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
            } catch (ConfigException e) {
                throw new ConfigError(spec + ": " + e.getMessage());
            }
        }
        String name = spec.endsWith(".conf") ? spec.substring(0, spec.length() - 5) : spec;
        if (PRESETS.contains(name)) {
            return ConfigFactory.parseResources(TrainSettings.class.getClassLoader(), "dinoj/presets/" + name + ".conf",
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

    private static <T> T get(Supplier<T> s) {
        try {
            return s.get();
        } catch (ConfigException e) {
            throw new ConfigError(e.getMessage());
        }
    }

    private static void get(Runnable r) {
        get(() -> {
            r.run();
            return null;
        });
    }

    // ---- typed accessors with the key in every error ----

    public Config config() {
        return config;
    }

    /** The resolved configuration as HOCON text (written beside the checkpoints). */
    public String render() {
        return config.withOnlyPath("dinoj").root().render(ConfigRenderOptions.defaults().setOriginComments(false)
                .setJson(false));
    }

    private int intAt(String key, int min) {
        return (int) longAt(key, min);
    }

    /** An integer value (a fractional number is a wrong type, not silently truncated). */
    private long longAt(String key, long min) {
        Object raw = config.getValue(key).unwrapped();
        if (raw instanceof Number n && n.doubleValue() != Math.rint(n.doubleValue())) {
            throw new ConfigError(key + " = " + raw + " must be a whole number");
        }
        long v = config.getLong(key);
        if (v < min) {
            throw new ConfigError(key + " = " + v + " is out of range: must be >= " + min);
        }
        return v;
    }

    private double doubleAt(String key, double min, double max) {
        double v = config.getDouble(key);
        if (!(v >= min && v <= max)) {
            throw new ConfigError(key + " = " + v + " is out of range: must be in [" + min + ", " + max + "]");
        }
        return v;
    }

    /** A crop scale range: 0 < low <= high <= 1. */
    private double[] scaleAt(String key) {
        double[] p = pairAt(key, 0, 1);
        if (p[0] <= 0) {
            throw new ConfigError(key + " = " + config.getDoubleList(key) + " must be [low, high] with 0 < low <= high <= 1");
        }
        return p;
    }

    private double[] pairAt(String key, double min, double max) {
        List<Double> l = config.getDoubleList(key);
        if (l.size() != 2 || !(l.get(0) >= min && l.get(0) <= l.get(1) && l.get(1) <= max)) {
            throw new ConfigError(key + " = " + l + " must be [low, high] with " + min + " <= low <= high <= " + max);
        }
        return new double[] {l.get(0), l.get(1)};
    }

    private SslConfig buildSsl() {
        String arch = config.getString("dinoj.model.arch");
        VitConfig preset;
        try {
            preset = VitConfig.preset(arch, intAt("dinoj.crops.global-crops-size", 1), intAt("dinoj.model.patch-size", 1));
        } catch (IllegalArgumentException e) {
            throw new ConfigError("dinoj.model.arch / crops.global-crops-size / model.patch-size: " + e.getMessage());
        }
        VitConfig vit;
        try {
            vit = new VitConfig(preset.imgSize(), preset.patchSize(), preset.embedDim(), preset.depth(), preset.numHeads(),
                    preset.mlpRatio(), FfnType.parse(config.getString("dinoj.model.ffn-layer")),
                    intAt("dinoj.model.num-register-tokens", 0), doubleAt("dinoj.model.layerscale", 0, 10),
                    config.getBoolean("dinoj.model.qkv-bias"), config.getBoolean("dinoj.model.proj-bias"),
                    config.getBoolean("dinoj.model.ffn-bias"), doubleAt("dinoj.model.drop-path-rate", 0, 0.99),
                    config.getBoolean("dinoj.model.drop-path-uniform"), doubleAt("dinoj.model.interpolate-offset", 0, 0.99),
                    config.getBoolean("dinoj.model.interpolate-antialias"));
        } catch (ConfigError e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ConfigError("dinoj.model: " + e.getMessage());
        }
        if (config.getDouble("dinoj.dino.loss-weight") == 0 && config.getDouble("dinoj.ibot.loss-weight") == 0) {
            throw new ConfigError("dinoj.dino.loss-weight and dinoj.ibot.loss-weight are both 0: nothing to train; "
                    + "set at least one of them > 0");
        }
        HeadConfig dino = head("dinoj.dino", vit.embedDim());
        HeadConfig ibot = config.getBoolean("dinoj.ibot.separate-head") ? head("dinoj.ibot", vit.embedDim()) : null;
        Centering centering;
        try {
            centering = Centering.parse(config.getString("dinoj.train.centering"));
        } catch (IllegalArgumentException e) {
            throw new ConfigError("dinoj.train.centering: " + e.getMessage());
        }
        return new SslConfig(vit, dino, ibot, intAt("dinoj.crops.local-crops-number", 0),
                doubleAt("dinoj.dino.loss-weight", 0, 1e6), doubleAt("dinoj.dino.koleo-loss-weight", 0, 1e6),
                doubleAt("dinoj.ibot.loss-weight", 0, 1e6), centering, 0.1, 0.9,
                doubleAt("dinoj.optim.clip-grad", 0, 1e9), doubleAt("dinoj.optim.layerwise-decay", 0, 1),
                doubleAt("dinoj.optim.patch-embed-lr-mult", 0, 1e3), doubleAt("dinoj.optim.adamw-beta1", 0, 0.999999),
                doubleAt("dinoj.optim.adamw-beta2", 0, 0.999999999));
    }

    private HeadConfig head(String p, int inDim) {
        return new HeadConfig(inDim, intAt(p + ".head-n-prototypes", 1), intAt(p + ".head-hidden-dim", 1),
                intAt(p + ".head-bottleneck-dim", 1), intAt(p + ".head-nlayers", 1));
    }

    private Schedules buildSchedules() {
        long epochLength = intAt("dinoj.train.epoch-length", 1);
        long epochs = intAt("dinoj.optim.epochs", 1);
        long warmup = intAt("dinoj.optim.warmup-epochs", 0);
        if (warmup > epochs) {
            throw new ConfigError("dinoj.optim.warmup-epochs = " + warmup + " exceeds dinoj.optim.epochs = " + epochs);
        }
        double lr;
        try {
            lr = Schedules.scaledLr(config.getString("dinoj.optim.scaling-rule"), doubleAt("dinoj.optim.base-lr", 0, 10),
                    batchSize());
        } catch (ConfigError e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ConfigError("dinoj.optim.scaling-rule: " + e.getMessage());
        }
        return Schedules.official(epochs, epochLength, lr, doubleAt("dinoj.optim.min-lr", 0, 10), warmup,
                doubleAt("dinoj.optim.weight-decay", 0, 10), doubleAt("dinoj.optim.weight-decay-end", 0, 10),
                doubleAt("dinoj.teacher.momentum-teacher", 0, 1), doubleAt("dinoj.teacher.final-momentum-teacher", 0, 1),
                doubleAt("dinoj.teacher.teacher-temp", 1e-6, 10), doubleAt("dinoj.teacher.warmup-teacher-temp", 1e-6, 10),
                intAt("dinoj.teacher.warmup-teacher-temp-epochs", 0), intAt("dinoj.optim.freeze-last-layer-epochs", 0));
    }

    private void validate() {
        intAt("dinoj.data.loader-threads", 0);
        intAt("dinoj.data.prefetch", 1);
        intAt("dinoj.train.log-every", 1);
        intAt("dinoj.checkpoint.every-steps", 1);
        intAt("dinoj.checkpoint.keep-last", 1);
        doubleAt("dinoj.train.max-minutes", 0, 1e9);
        longAt("dinoj.train.max-steps", 0);
        config.getBoolean("dinoj.train.crop-packing");
        longAt("dinoj.train.seed", Long.MIN_VALUE);
        longAt("dinoj.high-res.start-step", 0);
        doubleAt("dinoj.crops.solarize-probability", 0, 1);
        List<Double> blur = config.getDoubleList("dinoj.crops.blur-probabilities");
        if (blur.size() != 3 || blur.stream().anyMatch(b -> !(b >= 0 && b <= 1))) {
            throw new ConfigError("dinoj.crops.blur-probabilities = " + blur
                    + " must be 3 probabilities in [0, 1]: global crop 1, global crop 2, local crops");
        }
        scaleAt("dinoj.crops.global-crops-scale");
        scaleAt("dinoj.crops.local-crops-scale");
        doubleAt("dinoj.ibot.mask-sample-probability", 0, 1);
        pairAt("dinoj.ibot.mask-ratio-min-max", 0, 1);
        int p = ssl.backbone().patchSize();
        for (String k : new String[] {"dinoj.crops.global-crops-size", "dinoj.crops.local-crops-size"}) {
            int s = intAt(k, 1);
            if (s % p != 0) {
                throw new ConfigError(k + " = " + s + " must be a multiple of dinoj.model.patch-size = " + p);
            }
        }
        if (highResStartStep() > 0) {
            for (String k : new String[] {"dinoj.high-res.global-crops-size", "dinoj.high-res.local-crops-size"}) {
                int s = intAt(k, 1);
                if (s % p != 0) {
                    throw new ConfigError(k + " = " + s + " must be a multiple of dinoj.model.patch-size = " + p);
                }
            }
        }
        multiCrop(false);
        dataset();
        collectives();
        gradientWire();
        collectiveTransport();
        collectivesBasePort();
        threadsPerRank(1);
        config.getBoolean("dinoj.collectives.overlap");
    }

    private GramSettings buildGram() {
        String g = "dinoj.gram.";
        boolean use = config.getBoolean(g + "use-loss");
        double weight = doubleAt(g + "loss-weight", 0, 1e6);
        boolean scheduled = config.getBoolean(g + "loss-weight-schedule.enabled");
        double start = doubleAt(g + "loss-weight-schedule.start", 0, 1e6);
        double peak = doubleAt(g + "loss-weight-schedule.peak", 0, 1e6);
        double end = doubleAt(g + "loss-weight-schedule.end", 0, 1e6);
        long epochLength = intAt("dinoj.train.epoch-length", 1);
        long total = intAt("dinoj.optim.epochs", 1) * epochLength;
        long warmup = longAt(g + "loss-weight-schedule.warmup-epochs", 0) * epochLength;
        long cosine = longAt(g + "loss-weight-schedule.cosine-epochs", 0) * epochLength;
        if (scheduled && warmup + cosine > total) {
            throw new ConfigError(g + "loss-weight-schedule: warmup-epochs + cosine-epochs exceed dinoj.optim.epochs");
        }
        boolean emaTeacher = config.getBoolean(g + "ema-teacher");
        long itLoad = longAt(g + "it-load-ema-teacher", 0);
        boolean repUpdate = config.getBoolean(g + "rep-update");
        long frequency = longAt(g + "update-frequency", 1);
        long first = longAt(g + "it-first-update", 0);
        long max = longAt(g + "max-updates", 0);
        boolean normalized = config.getBoolean(g + "normalized");
        boolean imgLevel = config.getBoolean(g + "img-level");
        boolean removeNeg = config.getBoolean(g + "remove-neg");
        boolean removeOnlyTeacherNeg = config.getBoolean(g + "remove-only-teacher-neg");
        GramSettings.Tokens tokens;
        try {
            tokens = GramSettings.Tokens.parse(config.getString(g + "tokens-used"));
        } catch (IllegalArgumentException e) {
            throw new ConfigError(g + "tokens-used: " + e.getMessage());
        }
        if (!use) {
            return null;
        }
        if (removeNeg && removeOnlyTeacherNeg) {
            throw new ConfigError(g + "remove-neg and " + g + "remove-only-teacher-neg are both true: choose one");
        }
        if (tokens != GramSettings.Tokens.ALL && imgLevel) {
            throw new ConfigError(g + "tokens-used = " + config.getString(g + "tokens-used") + " needs " + g
                    + "img-level = false (the selected patches form one batch-level Gram matrix)");
        }
        if (emaTeacher && repUpdate) {
            throw new ConfigError(g + "rep-update = true but " + g + "ema-teacher = true has no Gram teacher to refresh; "
                    + "set " + g + "rep-update = false");
        }
        long cosineIters = cosine > 0 ? cosine : total - warmup;
        return new GramSettings(weight, scheduled ? new GramSettings.WeightSchedule(start, peak, end, warmup, cosineIters) : null,
                emaTeacher, itLoad, repUpdate, frequency, first, max,
                new GramLoss.Options(normalized, imgLevel, removeNeg, removeOnlyTeacherNeg), tokens);
    }

    private void validateDistill() {
        String teacher = config.getString("dinoj.distill.teacher");
        intAt("dinoj.distill.teacher-num-heads", 0);
        longAt("dinoj.distill.teacher-head-seed", Long.MIN_VALUE);
        String heads = config.getString("dinoj.distill.missing-teacher-heads");
        if (!heads.equals("error") && !heads.equals("random")) {
            throw new ConfigError("dinoj.distill.missing-teacher-heads = " + heads + ": use error or random");
        }
        if (!teacher.isEmpty() && ssl.backbone().dropPathRate() > 0) {
            throw new ConfigError("dinoj.model.drop-path-rate = " + ssl.backbone().dropPathRate() + " must be 0 when "
                    + "distilling (dinoj.distill.teacher is set): the recipe trains the student without stochastic depth");
        }
        if (!teacher.isEmpty() && gram != null && gram.tokensUsed() != GramSettings.Tokens.ALL) {
            throw new ConfigError("dinoj.gram.tokens-used must be all when distilling: the student's crops are not masked");
        }
    }

    // ---- public view ----

    /** DINOv3 Gram anchoring, or null when {@code gram.use-loss = false}. */
    public GramSettings gram() {
        return gram;
    }

    /** The frozen teacher of a distillation run ({@code distill.teacher}), or null for DINOv2 pretraining. */
    public Path distillTeacher() {
        String t = config.getString("dinoj.distill.teacher");
        return t.isEmpty() ? null : Path.of(t);
    }

    /** How the distillation teacher is loaded. */
    public DistillTeacher.Options distillOptions() {
        return new DistillTeacher.Options(config.getInt("dinoj.distill.teacher-num-heads"),
                config.getString("dinoj.distill.missing-teacher-heads").equals("random"),
                config.getLong("dinoj.distill.teacher-head-seed"));
    }

    public SslConfig ssl() {
        return ssl;
    }

    public Schedules schedules() {
        return schedules;
    }

    public int batchSize() {
        return intAt("dinoj.train.batch-size", 1);
    }

    public long seed() {
        return config.getLong("dinoj.train.seed");
    }

    /** Steps to run: {@code train.max-steps}, or all scheduled iterations. */
    public long totalSteps() {
        long max = config.getLong("dinoj.train.max-steps");
        long scheduled = (long) config.getInt("dinoj.optim.epochs") * config.getInt("dinoj.train.epoch-length");
        return max > 0 ? max : scheduled;
    }

    /** {@code train.crop-packing}: global and local crops through the student in one packed pass. */
    public boolean cropPacking() {
        return config.getBoolean("dinoj.train.crop-packing");
    }

    public double maxMinutes() {
        return config.getDouble("dinoj.train.max-minutes");
    }

    public int logEvery() {
        return config.getInt("dinoj.train.log-every");
    }

    public int checkpointEvery() {
        return config.getInt("dinoj.checkpoint.every-steps");
    }

    public int keepLast() {
        return config.getInt("dinoj.checkpoint.keep-last");
    }

    public int loaderThreads() {
        int t = config.getInt("dinoj.data.loader-threads");
        return t > 0 ? t : Runtime.getRuntime().availableProcessors();
    }

    public int prefetch() {
        return config.getInt("dinoj.data.prefetch");
    }

    /** First step of the high-resolution phase, 0 when disabled. */
    public long highResStartStep() {
        return config.getLong("dinoj.high-res.start-step");
    }

    public double maskSampleProbability() {
        return config.getDouble("dinoj.ibot.mask-sample-probability");
    }

    public double[] maskRatioMinMax() {
        return pairAt("dinoj.ibot.mask-ratio-min-max", 0, 1);
    }

    /** Multi-crop recipe of the normal phase, or of the high-resolution phase. */
    public MultiCropConfig multiCrop(boolean highRes) {
        try {
            int g = highRes ? config.getInt("dinoj.high-res.global-crops-size") : config.getInt("dinoj.crops.global-crops-size");
            int l = highRes ? config.getInt("dinoj.high-res.local-crops-size") : config.getInt("dinoj.crops.local-crops-size");
            double[] blur = config.getDoubleList("dinoj.crops.blur-probabilities").stream().mapToDouble(Double::doubleValue).toArray();
            return MultiCropConfig.official(g, scaleAt("dinoj.crops.global-crops-scale"),
                    config.getInt("dinoj.crops.local-crops-number"), l, scaleAt("dinoj.crops.local-crops-scale"))
                    .toBuilder().blurProbabilities(blur)
                    .solarizeProbability(config.getDouble("dinoj.crops.solarize-probability")).build();
        } catch (ConfigError | ConfigException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ConfigError("dinoj.crops: " + e.getMessage());
        }
    }

    // ---- collectives (multi-rank training) ----

    /** Aeron settings of the collectives ({@code dinoj.collectives}), validated with the key in every error. */
    public CollectiveSettings collectives() {
        String p = "dinoj.collectives.";
        Duration timeout = positiveDuration(p + "timeout");
        Duration connect = positiveDuration(p + "connect-timeout");
        int mtu = intAt(p + "mtu", 128);
        if (mtu % 32 != 0 || mtu > CollectiveSettings.MAX_MTU) {
            throw new ConfigError(p + "mtu = " + mtu + " must be a multiple of 32 in [128, " + CollectiveSettings.MAX_MTU + "]");
        }
        int ring = termAt(p + "ring-term-length", mtu);
        int small = termAt(p + "small-term-length", mtu);
        int stream = intAt(p + "stream-id-base", 1);
        long smallMax = config.getBytes(p + "small-max-bytes");
        if (smallMax < 0 || smallMax > 1 << 30) {
            throw new ConfigError(p + "small-max-bytes = " + smallMax + " must be in [0, 1 GiB]");
        }
        String idle = config.getString(p + "idle");
        if (!List.of("backoff", "yield", "busy").contains(idle)) {
            throw new ConfigError(p + "idle = " + idle + " must be backoff, yield or busy");
        }
        long sock = config.getBytes(p + "udp-socket-buffer");
        long window = config.getBytes(p + "udp-receiver-window");
        if (sock < 64 * 1024 || sock > 1 << 30) {
            throw new ConfigError(p + "udp-socket-buffer = " + sock + " must be in [64 KiB, 1 GiB]");
        }
        if (window < mtu || window > 1 << 30) {
            throw new ConfigError(p + "udp-receiver-window = " + window + " must be in [mtu (" + mtu + "), 1 GiB]");
        }
        return new CollectiveSettings(timeout, connect, mtu, ring, small, stream, (int) smallMax, idle, (int) sock,
                (int) window);
    }

    /** {@code dinoj.collectives.gradient-wire}. */
    public WireFormat gradientWire() {
        String w = config.getString("dinoj.collectives.gradient-wire");
        try {
            return WireFormat.parse(w);
        } catch (IllegalArgumentException e) {
            throw new ConfigError("dinoj.collectives.gradient-wire = " + w + ": use f32 or bf16");
        }
    }

    /** {@code dinoj.collectives.overlap}. */
    public boolean overlapCommunication() {
        return config.getBoolean("dinoj.collectives.overlap");
    }

    /** {@code dinoj.collectives.transport}: {@code ipc} or {@code udp}. */
    public String collectiveTransport() {
        String t = config.getString("dinoj.collectives.transport");
        if (!t.equals("ipc") && !t.equals("udp")) {
            throw new ConfigError("dinoj.collectives.transport = " + t + " must be ipc or udp");
        }
        return t;
    }

    /** {@code dinoj.collectives.base-port}; 0 = find a free one. */
    public int collectivesBasePort() {
        int p = intAt("dinoj.collectives.base-port", 0);
        if (p > 65000) {
            throw new ConfigError("dinoj.collectives.base-port = " + p + " must be in [0, 65000] (0 = a free port)");
        }
        return p;
    }

    /** PyTorch threads of each of {@code ranks} ranks: {@code dinoj.collectives.threads-per-rank}, or cores / ranks. */
    public int threadsPerRank(int ranks) {
        int t = intAt("dinoj.collectives.threads-per-rank", 0);
        return t > 0 ? t : Math.max(1, Runtime.getRuntime().availableProcessors() / Math.max(1, ranks));
    }

    private Duration positiveDuration(String key) {
        Duration d = config.getDuration(key);
        if (d.isNegative() || d.isZero()) {
            throw new ConfigError(key + " = " + d + " must be positive");
        }
        return d;
    }

    private int termAt(String key, int mtu) {
        long t = config.getBytes(key);
        if (Long.bitCount(t) != 1 || t < 64 * 1024 || t > 1 << 30) {
            throw new ConfigError(key + " = " + t + " bytes must be a power of two in [64 KiB, 1 GiB]");
        }
        if (t / 8 < mtu) {
            throw new ConfigError(key + " = " + t + " bytes must be at least 8 x dinoj.collectives.mtu (" + mtu
                    + "): Aeron's largest message is a term / 8");
        }
        return (int) t;
    }

    /** The dataset spec and the Fashion-MNIST folder. */
    /**
     * Opens {@link #dataset()}. S3 settings for {@code curated:s3://…} are {@code dinoj.storage.*} of, in this
     * order, {@code -D} system properties, this run's config (file and {@code --set}s), the application config; then
     * the environment ({@code DINOJ_S3_ENDPOINT}, {@code AWS_*}).
     */
    public dev.dinoj.pipeline.data.ImageDataset openDataset() {
        Config app = ConfigFactory.systemProperties().withFallback(config).withFallback(ConfigFactory.load());
        return dataset().open(dev.dinoj.pipeline.storage.StorageSettings.fromConfig(app), app);
    }

    public DatasetSpec dataset() {
        return DatasetSpec.parse(config.getString("dinoj.data.dataset"), Path.of(config.getString("dinoj.data.fashion-mnist-dir")),
                Path.of(config.getString("dinoj.data.cache-dir")));
    }
}
