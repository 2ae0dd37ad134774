package dev.dinoj.trainer.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigResolveOptions;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.trainer.schedule.Schedules;
import java.nio.file.Path;
import java.util.List;

/**
 * The resolved, validated training configuration, one record per section: {@code reference.conf} (every key with its
 * default) under a preset or file under {@code --set} overrides ({@link ConfigLayers}). Unknown keys and out-of-range
 * values are rejected with the key's full name ({@link ConfigError}).
 */
public final class TrainSettings {

    /** Presets shipped in the jar ({@code dinoj/presets/NAME.conf}). */
    public static final List<String> PRESETS = ConfigLayers.PRESETS;

    private final Config config;
    private final SslConfig ssl;
    private final Schedules schedules;
    private final GramSettings gram;
    private final LoopSettings loop;
    private final CheckpointSettings checkpoint;
    private final DataSettings data;
    private final CropSettings crops;
    private final MaskSettings masks;
    private final CollectivesConfig collectives;
    private final DistillSettings distill;
    private final Path pretrainedWeights;
    private final DeviceSpec device;

    private TrainSettings(Config config) {
        this.config = config;
        ConfigReader r = new ConfigReader(config);
        this.ssl = ConfigReader.reading(() -> SslConfig.from(r));
        this.loop = ConfigReader.reading(() -> LoopSettings.from(r));
        this.schedules = ConfigReader.reading(() -> ScheduleSettings.from(r, loop.batchSize()));
        this.gram = ConfigReader.reading(() -> GramSettings.from(r));
        this.checkpoint = ConfigReader.reading(() -> CheckpointSettings.from(r));
        this.data = ConfigReader.reading(() -> DataSettings.from(r));
        this.crops =
                ConfigReader.reading(() -> CropSettings.from(r, ssl.backbone().patchSize()));
        this.masks = ConfigReader.reading(() -> MaskSettings.from(r));
        this.collectives = ConfigReader.reading(() -> CollectivesConfig.from(r));
        this.distill = ConfigReader.reading(() -> DistillSettings.from(r));
        String pretrained = ConfigReader.reading(() -> r.string("dinoj.model.pretrained-weights"));
        this.pretrainedWeights = pretrained.isEmpty() ? null : Path.of(pretrained);
        this.device = ConfigReader.reading(() -> DeviceSpec.parse(r.string(DeviceSpec.KEY)));
        checkDistillation();
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
        return fromConfig(ConfigLayers.merge(configFiles, sets));
    }

    /**
     * Loads the configuration of a run submitted to a cluster: {@code config} is a preset or a file the caller has
     * checked (it is parsed as data: no includes, syntax errors without its text), {@code sets} as for {@link #load}.
     */
    public static TrainSettings loadSubmitted(String config, List<String> sets) {
        return fromConfig(ConfigLayers.mergeSubmitted(List.of(config), sets));
    }

    /**
     * Settings from an already merged config (a checkpoint's resolved config). It is resolved without the environment
     * and the system properties: a substitution may name only keys of the configuration itself.
     */
    public static TrainSettings fromConfig(Config merged) {
        Config resolved;
        try {
            resolved = merged.resolve(ConfigResolveOptions.noSystem());
        } catch (ConfigException.UnresolvedSubstitution e) {
            throw new ConfigError(e.getMessage() + " (a substitution may name only keys of the configuration, e.g. "
                    + "${dinoj.train.batch-size}; environment variables and system properties are not read)");
        } catch (ConfigException e) {
            throw new ConfigError(e.getMessage());
        }
        try {
            return new TrainSettings(resolved);
        } catch (ConfigException e) {
            throw new ConfigError(e.getMessage());
        }
    }

    private void checkDistillation() {
        if (distill.enabled() && ssl.backbone().dropPathRate() > 0) {
            throw new ConfigError(
                    "dinoj.model.drop-path-rate = " + ssl.backbone().dropPathRate() + " must be 0 when "
                            + "distilling (dinoj.distill.teacher is set): the recipe trains the student without stochastic depth");
        }
        if (distill.enabled() && gram != null && gram.tokensUsed() != GramSettings.Tokens.ALL) {
            throw new ConfigError(
                    "dinoj.gram.tokens-used must be all when distilling: the student's crops are not masked");
        }
    }

    /**
     * The same configuration with {@code train.epoch-length} replaced (the schedule fitted to a time limit): every
     * epoch-counted key scales with it.
     */
    public TrainSettings withEpochLength(long epochLength) {
        return new TrainSettings(config.withValue(
                "dinoj.train.epoch-length", com.typesafe.config.ConfigValueFactory.fromAnyRef(epochLength)));
    }

    /** The whole resolved configuration. */
    public Config config() {
        return config;
    }

    /** The resolved configuration as HOCON text (written beside the checkpoints). */
    public String render() {
        return config.withOnlyPath("dinoj")
                .root()
                .render(ConfigRenderOptions.defaults().setOriginComments(false).setJson(false));
    }

    /** Model, heads, losses and optimiser constants of the step. */
    public SslConfig ssl() {
        return ssl;
    }

    /** Learning rate, weight decay, teacher momentum and temperature, last-layer freeze, by step. */
    public Schedules schedules() {
        return schedules;
    }

    /** DINOv3 Gram anchoring, or null when {@code gram.use-loss = false}. */
    public GramSettings gram() {
        return gram;
    }

    /** Batch size, seed, length, logging. */
    public LoopSettings loop() {
        return loop;
    }

    /** Checkpoint cadence. */
    public CheckpointSettings checkpoint() {
        return checkpoint;
    }

    /** The dataset and the batch loader. */
    public DataSettings data() {
        return data;
    }

    /** The multi-crop recipe and its high-resolution phase. */
    public CropSettings crops() {
        return crops;
    }

    /** iBOT masking. */
    public MaskSettings masks() {
        return masks;
    }

    /** Multi-rank training: the collectives and the sharded step. */
    public CollectivesConfig collectives() {
        return collectives;
    }

    /** Distillation from a frozen teacher ({@link DistillSettings#enabled()}). */
    public DistillSettings distill() {
        return distill;
    }

    /**
     * {@code model.pretrained-weights}: the backbone weights the student and the teacher start from, or null for a
     * fresh initialisation.
     */
    public Path pretrainedWeights() {
        return pretrainedWeights;
    }

    /**
     * {@code device}: where parameters, optimiser state, teacher, batches and the step live ({@code cpu}, {@code cuda}
     * = the local rank's GPU, {@code cuda:N}); {@link DeviceSpec#resolve(int)} gives the DJL device.
     */
    public DeviceSpec device() {
        return device;
    }

    /** {@code train.batch-size}. */
    public int batchSize() {
        return loop.batchSize();
    }

    /** {@code train.seed}. */
    public long seed() {
        return loop.seed();
    }

    /** Steps to run: {@code train.max-steps}, or all scheduled iterations. */
    public long totalSteps() {
        return loop.totalSteps();
    }

    /**
     * Opens {@code data.dataset}. S3 settings for {@code curated:s3://…} are {@code dinoj.storage.*} of, in this
     * order, {@code -D} system properties, this run's config (file and {@code --set}s), the application config; then
     * the environment ({@code DINOJ_S3_ENDPOINT}, {@code AWS_*}).
     */
    public ImageDataset openDataset() {
        Config app = ConfigFactory.systemProperties().withFallback(config).withFallback(ConfigFactory.load());
        return data.dataset().open(StorageSettings.fromConfig(app), app);
    }
}
