package dev.dinoj.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;

/**
 * DINO head (dinov2/layers/dino_head.py): MLP ({@code nlayers} linear layers with GELU between) → L2 normalise
 * (ε 1e-12) → weight-normalised linear onto the prototypes, {@code W = g · v / ‖v‖} row-wise, both {@code weight_g}
 * and {@code weight_v} trainable. Applied row-wise, so any leading shape works.
 */
public final class DinoHead {

    private final HeadConfig cfg;
    private final ParamSet params;
    private final String prefix;
    private HeadKernels kernels; // null: DJL operations in float32

    public DinoHead(HeadConfig cfg, ParamSet params, String prefix) {
        this.cfg = cfg;
        this.params = params;
        this.prefix = prefix;
    }

    /** Official name of MLP layer {@code i} ({@code mlp.0}, {@code mlp.2}, …; just {@code mlp} for one layer). */
    static String mlpLayerName(String prefix, int i, int nlayers) {
        return nlayers == 1 ? prefix + "mlp" : prefix + "mlp." + (2 * i);
    }

    public HeadConfig config() {
        return cfg;
    }

    /**
     * Computes the forward with {@code kernels} (bfloat16, one TorchScript call) instead of DJL operations; null
     * restores the float32 DJL path. The kernels belong to the caller.
     */
    public DinoHead withKernels(HeadKernels kernels) {
        if (kernels != null && kernels.nlayers() != cfg.nlayers()) {
            throw new IllegalArgumentException(
                    "head kernels for " + kernels.nlayers() + " layers do not fit a head of " + cfg.nlayers());
        }
        this.kernels = kernels;
        return this;
    }

    /** (…, in) → (…, prototypes). */
    public NDArray forward(NDArray x) {
        if (kernels != null) {
            return kernels.forward(x, params, prefix);
        }
        for (int i = 0; i < cfg.nlayers(); i++) {
            String name = mlpLayerName(prefix, i, cfg.nlayers());
            x = Linear.linear(x, params.get(name + ".weight"), params.get(name + ".bias"))
                    .singletonOrThrow();
            if (i < cfg.nlayers() - 1) {
                x = Activation.gelu(x); // (…, hidden)
            }
        }
        x = x.normalize(2, -1, 1e-12); // (…, bottleneck), unit L2
        return Linear.linear(x, lastLayerWeight()).singletonOrThrow(); // (…, prototypes)
    }

    /** The effective last-layer weight {@code g · v / ‖v‖} (prototypes, bottleneck). */
    public NDArray lastLayerWeight() {
        NDArray v = params.get(prefix + "last_layer.weight_v"); // (K, bottleneck)
        NDArray g = params.get(prefix + "last_layer.weight_g"); // (K, 1)
        return v.mul(g.div(v.norm(new int[] {1}, true)));
    }
}
