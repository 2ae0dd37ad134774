package dev.dinoj.trainer.config;

/**
 * Upper bounds of the size keys of a training configuration. A value above one is refused when the configuration is
 * loaded, naming the key and the range, so that a typo or a hostile submission (two billion prototypes, a batch of
 * two billion) is one line at submit and never a worker or coordinator that allocates until it dies. Each bound is
 * well above the largest published recipe (DINOv2 ViT-g/14, DINOv3 ViT-7B), and with them every head matrix stays
 * below 2^31 elements.
 */
final class Bounds {

    /** Crop sides in pixels (the high-resolution phase of the paper uses 518). */
    static final int CROP_SIDE = 2048;

    /** Patch side in pixels (DINOv2 14, DINOv3 16). */
    static final int PATCH = 64;

    /** Register tokens (the paper uses 4). */
    static final int REGISTERS = 64;

    /** Local crops per image (DINOv2 uses 8). */
    static final int LOCAL_CROPS = 64;

    /** Prototypes of a head (DINOv2 65 536, DINOv3's ViT-7B 262 144 = 2^18). */
    static final int PROTOTYPES = 1 << 18;

    /** Hidden width of a head's MLP (DINOv3's ViT-7B: 8192). */
    static final int HEAD_HIDDEN = 1 << 14;

    /** Bottleneck width of a head (DINOv2 256, DINOv3 512). */
    static final int HEAD_BOTTLENECK = 1 << 12;

    /** Linear layers of a head's MLP (3). */
    static final int HEAD_LAYERS = 16;

    /** Images per step over all workers (DINOv2's ViT-g/14: 3072; DINOv3: 4096). */
    static final int BATCH = 1 << 16;

    /** Epochs of the schedules, and any count of epochs. */
    static final int EPOCHS = 1_000_000;

    /** Steps per epoch. */
    static final int EPOCH_LENGTH = 100_000_000;

    /** Steps of a run, and any step number or count of steps (about 10^12). */
    static final long STEPS = 1L << 40;

    /** Threads of a JVM (loader threads, PyTorch threads per rank). */
    static final int THREADS = 1024;

    /** Batches prepared ahead of the step. */
    static final int PREFETCH = 64;

    /** Checkpoints kept. */
    static final int KEEP = 10_000;

    /** Width of a backbone (DINOv3's ViT-7B: 4096). */
    static final int EMBED_DIM = 1 << 13;

    /** Blocks of a backbone (ViT-g: 40). */
    static final int DEPTH = 256;

    /** Attention heads of a teacher. */
    static final int HEADS = 1024;

    private Bounds() {}
}
