package dev.dinoj.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import dev.dinoj.pipeline.compute.TorchScriptModule;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@link DinoHead} forward in bfloat16 as one TorchScript call: the MLP (linear layers and GELU) and the
 * prototype layer compute in bfloat16 on bfloat16 casts of the float32 weights; the L2 normalisation of the
 * bottleneck and the weight normalisation {@code g · v / ‖v‖} of the prototypes run in float32, and the logits come
 * back in float32 (the losses, softmax/centering and Sinkhorn-Knopp that follow are float32). Differentiable: the
 * gradients reach the float32 parameters in float32.
 */
public final class HeadKernels implements AutoCloseable {

    private final int nlayers;
    private final TorchScriptModule module;

    private HeadKernels(int nlayers, TorchScriptModule module) {
        this.nlayers = nlayers;
        this.module = module;
    }

    /** Compiles the bfloat16 forward of a head with {@code nlayers} MLP layers on {@code device}. */
    public static HeadKernels compile(int nlayers, Device device) {
        return new HeadKernels(nlayers, TorchScriptModule.compile("DinojHeadBf16", source(nlayers), device));
    }

    public int nlayers() {
        return nlayers;
    }

    /**
     * (N, in) float32 → (N, prototypes) float32 logits.
     *
     * @param prefix the head's parameter prefix ({@code dino_head.})
     */
    public NDArray forward(NDArray x, ParamSet params, String prefix) {
        List<NDArray> args = new ArrayList<>();
        args.add(x);
        for (int i = 0; i < nlayers; i++) {
            String name = DinoHead.mlpLayerName(prefix, i, nlayers);
            args.add(params.get(name + ".weight"));
            args.add(params.get(name + ".bias"));
        }
        args.add(params.get(prefix + "last_layer.weight_v"));
        args.add(params.get(prefix + "last_layer.weight_g"));
        return module.call1("head", true, args.toArray(NDArray[]::new));
    }

    @Override
    public void close() {
        module.close();
    }

    static String source(int nlayers) {
        StringBuilder s = new StringBuilder("  def head(self, x: Tensor");
        for (int i = 0; i < nlayers; i++) {
            s.append(", w").append(i).append(": Tensor, b").append(i).append(": Tensor");
        }
        s.append(", v: Tensor, g: Tensor) -> Tensor:\n");
        s.append("    y = torch.to(x, 15)\n");
        for (int i = 0; i < nlayers; i++) {
            s.append("    y = torch.linear(y, torch.to(w")
                    .append(i)
                    .append(", 15), torch.to(b")
                    .append(i)
                    .append(", 15))\n");
            if (i < nlayers - 1) {
                s.append("    y = torch.gelu(y)\n");
            }
        }
        s.append("    y = torch.to(y, 6)\n");
        s.append("    y = torch.div(y, torch.clamp_min(torch.norm(y, 2, [-1], True), 1e-12))\n");
        s.append("    w = torch.mul(v, torch.div(g, torch.norm(v, 2, [1], True)))\n");
        s.append("    return torch.to(torch.linear(torch.to(y, 15), torch.to(w, 15)), 6)\n");
        return s.toString();
    }
}
