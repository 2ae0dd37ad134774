package dev.dinoj.evaluation.features;

import ai.djl.ndarray.NDManager;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.trainer.checkpoint.AtomicDirectory;
import dev.dinoj.trainer.checkpoint.Checkpoints;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.model.VitConfig;
import dev.dinoj.trainer.weights.BackboneFile;
import dev.dinoj.trainer.weights.Backbones;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * Where a frozen backbone comes from: a dinoj checkpoint (its EMA teacher), safetensors weights in any published
 * layout, a random
 * initialisation, or no model at all (pixels). {@link #id()} names the weights exactly and is the model part of
 * every feature-cache key: a checkpoint by the SHA-256 of its {@code teacher.safetensors} (read from the
 * checkpoint's {@code SHA256SUMS}, so identical weights share cache entries wherever they are), a safetensors file
 * by its own SHA-256, a random backbone by its architecture and seed.
 */
public final class ModelSource {

    /** What kind of source this is. */
    public enum Type {
        CHECKPOINT,
        SAFETENSORS,
        RANDOM,
        PIXELS
    }

    private final Type type;
    private final Path path;
    private final VitConfig config;
    private final long seed;
    private final long step;
    private String id;

    private ModelSource(Type type, Path path, VitConfig config, long seed, long step) {
        this.type = type;
        this.path = path;
        this.config = config;
        this.seed = seed;
        this.step = step;
    }

    /**
     * The teacher of a checkpoint.
     *
     * @param checkpoint a {@code step-N} directory, or a run directory (its newest checkpoint)
     * @return the source
     */
    public static ModelSource checkpoint(Path checkpoint) {
        Path dir = Checkpoints.resolve(checkpoint);
        Checkpoints.State st = Checkpoints.peek(dir);
        return new ModelSource(Type.CHECKPOINT, dir, configOf(st), 0, st.step());
    }

    /**
     * Safetensors backbone weights in any published layout ({@link BackboneFile}: dinov2 hub / dinoj export,
     * transformers, timm).
     *
     * @param file the safetensors file
     * @param config the architecture, or null to read it from the file (its header and metadata)
     * @return the source
     * @throws IllegalArgumentException one line naming the file and the tensor that does not fit
     * @throws UncheckedIOException the file cannot be read
     */
    public static ModelSource safetensors(Path file, VitConfig config) {
        VitConfig vit = config;
        if (vit == null) {
            try {
                vit = BackboneFile.inspect(file).config();
            } catch (IOException e) {
                throw new UncheckedIOException(e.getMessage(), e);
            }
        }
        return new ModelSource(Type.SAFETENSORS, file, vit, 0, -1);
    }

    /**
     * A freshly initialised backbone ({@link Backbones#random}).
     *
     * @param config the architecture
     * @param seed the initialisation seed
     * @return the source
     */
    public static ModelSource random(VitConfig config, long seed) {
        return new ModelSource(Type.RANDOM, null, config, seed, 0);
    }

    /** @return no model: {@link FeatureKind#PIXELS} and pixel patches only */
    public static ModelSource pixels() {
        return new ModelSource(Type.PIXELS, null, null, 0, -1);
    }

    /** The backbone architecture recorded in a checkpoint's resolved config. */
    public static VitConfig configOf(Checkpoints.State st) {
        return TrainSettings.fromConfig(ConfigFactory.parseString(st.config())
                        .withFallback(
                                ConfigFactory.parseResources(ModelSource.class.getClassLoader(), "reference.conf")))
                .ssl()
                .backbone();
    }

    /** @return the type */
    public Type type() {
        return type;
    }

    /** @return the architecture, or null for pixels */
    public VitConfig config() {
        return config;
    }

    /** @return the checkpoint's step (0 for a random backbone, -1 when unknown) */
    public long step() {
        return step;
    }

    /** @return the resolved checkpoint directory or the safetensors file; null otherwise */
    public Path path() {
        return path;
    }

    /**
     * The evaluation image side: the backbone's training size, or {@code nativeSize} for pixels.
     *
     * @param nativeSize the dataset's image side
     * @return the side
     */
    public int evalSize(int nativeSize) {
        return config == null ? nativeSize : config.imgSize();
    }

    /**
     * Loads the backbone.
     *
     * @param manager owns the parameters
     * @return the loaded backbone, or null for pixels
     */
    public Backbones.Loaded open(NDManager manager) {
        switch (type) {
            case CHECKPOINT:
                return Backbones.teacherFromCheckpoint(path, manager);
            case SAFETENSORS:
                try {
                    return Backbones.fromSafetensors(path, config, manager);
                } catch (IOException e) {
                    throw new UncheckedIOException(path + ": " + e.getMessage(), e);
                }
            case RANDOM:
                return Backbones.random(config, seed, manager);
            default:
                return null;
        }
    }

    /** @return the exact identity of the weights (the model part of a feature-cache key) */
    public synchronized String id() {
        if (id == null) {
            id = switch (type) {
                case CHECKPOINT -> "teacher-sha256:" + Checkpoints.teacherSha256(path) + "|vit:" + config;
                case SAFETENSORS -> "safetensors-sha256:" + sha256(path) + "|vit:" + config;
                case RANDOM -> "random:seed=" + seed + "|vit:" + config;
                case PIXELS -> "pixels";
            };
        }
        return id;
    }

    /** @return one line for logs and reports */
    public String describe() {
        return switch (type) {
            case CHECKPOINT -> "teacher of " + path + " (step " + step + ")";
            case SAFETENSORS -> "weights " + path;
            case RANDOM -> "random init (seed " + seed + ")";
            case PIXELS -> "raw pixels";
        };
    }

    @Override
    public String toString() {
        return describe();
    }

    /** SHA-256 of a file, hex. */
    static String sha256(Path file) {
        try {
            return AtomicDirectory.sha256(file);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }
}
