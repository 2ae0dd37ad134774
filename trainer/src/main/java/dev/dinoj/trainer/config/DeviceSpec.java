package dev.dinoj.trainer.config;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code dinoj.device} setting: {@code cpu}, {@code cuda} (in a rank JVM or a cluster worker: the GPU of the local
 * rank, {@code cuda:localRank}; in a single JVM GPU 0) or {@code cuda:N} (GPU N, whatever the rank). Parsing checks the
 * spelling; {@link #resolve(int)} checks that the engine can place tensors there (CUDA natives loaded, GPU present).
 * Both fail with a {@link ConfigError} naming the key.
 *
 * @param cuda  whether a GPU is asked for
 * @param index the GPU for {@code cuda:N}; -1 for {@code cpu} and for {@code cuda} (the local rank's GPU)
 */
public record DeviceSpec(boolean cuda, int index) {

    /** The configuration key. */
    public static final String KEY = "dinoj.device";

    /** {@code cpu}. */
    public static final DeviceSpec CPU = new DeviceSpec(false, -1);

    private static final Pattern CUDA = Pattern.compile("(?:cuda|gpu)(?::(\\d{1,4}))?");

    /** Parses {@code cpu | cuda | cuda:N} (case-insensitive; {@code gpu} is taken as {@code cuda}). */
    public static DeviceSpec parse(String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("cpu")) {
            return CPU;
        }
        Matcher m = CUDA.matcher(v);
        if (m.matches()) {
            return new DeviceSpec(true, m.group(1) == null ? -1 : Integer.parseInt(m.group(1)));
        }
        throw new ConfigError(KEY + " = " + value + " must be cpu, cuda (the local rank's GPU) or cuda:N");
    }

    /**
     * The DJL device for a JVM whose rank is the {@code localRank}-th on its host (0 in a single JVM).
     *
     * @throws ConfigError when the natives have no CUDA or the GPU does not exist
     */
    public Device resolve(int localRank) {
        if (!cuda) {
            return Device.cpu();
        }
        int gpu = index >= 0 ? index : localRank;
        Engine engine = Engine.getInstance();
        if (!engine.hasCapability(StandardCapabilities.CUDA)) {
            throw new ConfigError(KEY + " = " + this + ": the PyTorch natives loaded here (" + engine.getEngineName()
                    + " " + engine.getVersion() + ") have no CUDA; build with -Pcuda or point PYTORCH_LIBRARY_PATH at "
                    + "a CUDA libtorch (docs/PERFORMANCE.md, GPU runs)");
        }
        int gpus = engine.getGpuCount();
        if (gpu >= gpus) {
            throw new ConfigError(KEY + " = " + this + ": GPU " + gpu
                    + (index < 0 ? " (the local rank " + localRank + ")" : "") + " does not exist; this machine has "
                    + gpus + " visible GPU" + (gpus == 1 ? "" : "s"));
        }
        return Device.gpu(gpu);
    }

    @Override
    public String toString() {
        return !cuda ? "cpu" : index < 0 ? "cuda" : "cuda:" + index;
    }
}
