package dev.dinoj.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import dev.dinoj.pipeline.compute.TorchScriptModule;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The residual branches of a {@link VisionTransformer} block as TorchScript methods, one call per branch and crop
 * group: {@code attn} (norm1 → qkv → attention → proj → LayerScale) and {@code ffn} (norm2 → MLP or SwiGLU →
 * LayerScale). The residual add and stochastic depth stay in the caller.
 *
 * <p>In {@link Precision#BF16} the linear layers, the attention (on CPUs the fused attention in float32, {@link
 * #bf16Attention(Device)}) and the FFN activation run in bfloat16 on bfloat16 casts of the float32 weights; LayerNorm runs in float32 on the float32 residual stream, and the branch output is
 * cast back to float32 before LayerScale — what {@code torch.autocast("cpu", torch.bfloat16)} does with these ops.
 * The casts are differentiable, so the gradients reach the float32 parameters in float32. In {@link Precision#FP32}
 * the same ops run in float32 (with {@link AttentionKernel#SDPA}: the fused kernel instead of the explicit scores).
 *
 * <p>Every method returns float32: a bfloat16 array handed to DJL aborts the JVM (DJL 0.36's PyTorch JNI has no
 * bfloat16 data type).
 *
 * <p>Calls run under the calling thread's autograd mode: inside a {@code GradientCollector} they are recorded, the
 * teacher's calls (autograd off) are not.
 */
public final class VitKernels implements AutoCloseable {

    private static final int BF16 = 15; // c10::ScalarType::BFloat16 (6 is Float)

    private final VitConfig cfg;
    private final Compute compute;
    private final boolean bf16Attention;
    private final TorchScriptModule module;

    private VitKernels(VitConfig cfg, Compute compute, boolean bf16Attention, TorchScriptModule module) {
        this.cfg = cfg;
        this.compute = compute;
        this.bf16Attention = bf16Attention;
        this.module = module;
    }

    /** Compiles the branches of {@code cfg}'s blocks for {@code compute} on {@code device} (about 0.1 s). */
    public static VitKernels compile(VitConfig cfg, Compute compute, Device device) {
        boolean bf16Attention = bf16Attention(device);
        return new VitKernels(
                cfg,
                compute,
                bf16Attention,
                TorchScriptModule.compile("DinojVitBranches", source(cfg, compute, bf16Attention), device));
    }

    /**
     * Whether bf16 runs the fused attention itself in bfloat16: on GPUs (flash attention); not on CPUs, where
     * PyTorch 2.7.1's bfloat16 flash kernel (forward + backward) took 2-3× the time of its float32 one at head dim 64
     * and 17-65 tokens (measured here, AVX512-BF16), so the bf16 qkv product is cast to float32 for the attention and
     * its output back to bfloat16 for the projection. The manual composition stays bfloat16 either way.
     */
    static boolean bf16Attention(Device device) {
        return device.isGpu();
    }

    /** The architecture these kernels were generated for (everything but the image size must match a user's). */
    public VitConfig config() {
        return cfg;
    }

    public Compute compute() {
        return compute;
    }

    /** Whether a transformer of {@code other}'s block architecture can use these kernels. */
    public boolean fits(VitConfig other) {
        return source(other, compute, bf16Attention).equals(source(cfg, compute, bf16Attention));
    }

    /**
     * The attention branch of block {@code block} on one crop group.
     *
     * @param x      (B, T, D) float32 tokens
     * @param params the parameters, named {@code prefix + "blocks.i.…"}
     * @return (B, T, D) float32, LayerScale applied
     */
    public NDArray attention(NDArray x, ParamSet params, String prefix, int block) {
        String b = prefix + "blocks." + block + ".";
        List<NDArray> args = new ArrayList<>();
        args.add(x);
        args.add(params.get(b + "norm1.weight"));
        args.add(params.get(b + "norm1.bias"));
        args.add(params.get(b + "attn.qkv.weight"));
        if (cfg.qkvBias()) {
            args.add(params.get(b + "attn.qkv.bias"));
        }
        args.add(params.get(b + "attn.proj.weight"));
        if (cfg.projBias()) {
            args.add(params.get(b + "attn.proj.bias"));
        }
        if (cfg.layerScale()) {
            args.add(params.get(b + "ls1.gamma"));
        }
        return module.call1("attn", true, args.toArray(NDArray[]::new));
    }

    /** The FFN branch of block {@code block} on (R, D) or (B, T, D) float32 tokens; same shape out, LayerScale applied. */
    public NDArray ffn(NDArray x, ParamSet params, String prefix, int block) {
        String b = prefix + "blocks." + block + ".";
        List<NDArray> args = new ArrayList<>();
        args.add(x);
        args.add(params.get(b + "norm2.weight"));
        args.add(params.get(b + "norm2.bias"));
        String[] layers =
                cfg.ffn() == FfnType.MLP ? new String[] {"mlp.fc1", "mlp.fc2"} : new String[] {"mlp.w12", "mlp.w3"};
        for (String l : layers) {
            args.add(params.get(b + l + ".weight"));
            if (cfg.ffnBias()) {
                args.add(params.get(b + l + ".bias"));
            }
        }
        if (cfg.layerScale()) {
            args.add(params.get(b + "ls2.gamma"));
        }
        return module.call1("ffn", true, args.toArray(NDArray[]::new));
    }

    @Override
    public void close() {
        module.close();
    }

    /**
     * The TorchScript class body: {@code attn} and {@code ffn} for this architecture and compute ({@code
     * bf16Attention}: see {@link #bf16Attention(Device)}).
     */
    static String source(VitConfig c, Compute k, boolean bf16Attention) {
        boolean bf = k.precision() == Precision.BF16;
        boolean f32Sdpa = bf && !bf16Attention && k.attention() == AttentionKernel.SDPA;
        int d = c.embedDim();
        int h = c.numHeads();
        int hd = c.headDim();
        StringBuilder s = new StringBuilder();
        // ---- attention branch ----
        s.append("  def attn(self, x: Tensor, nw: Tensor, nb: Tensor, qw: Tensor");
        s.append(c.qkvBias() ? ", qb: Tensor" : "").append(", pw: Tensor");
        s.append(c.projBias() ? ", pb: Tensor" : "").append(c.layerScale() ? ", g: Tensor" : "");
        s.append(") -> Tensor:\n");
        s.append("    b = x.size(0)\n    t = x.size(1)\n");
        s.append("    y = torch.layer_norm(x, [").append(d).append("], nw, nb, 1e-06)\n");
        s.append("    qkv = torch.linear(")
                .append(lo("y", bf))
                .append(", ")
                .append(lo("qw", bf))
                .append(", ")
                .append(c.qkvBias() ? lo("qb", bf) : "None")
                .append(")\n");
        s.append(f32Sdpa ? "    qkv = torch.to(qkv, 6)\n" : "");
        s.append("    qkv = torch.permute(torch.reshape(qkv, [b, t, 3, ")
                .append(h)
                .append(", ")
                .append(hd)
                .append("]), [2, 0, 3, 1, 4])\n");
        s.append("    q = qkv[0]\n    k = qkv[1]\n    v = qkv[2]\n");
        if (k.attention() == AttentionKernel.SDPA) {
            s.append("    o = torch.scaled_dot_product_attention(q, k, v)\n");
        } else {
            // the DJL composition's arithmetic: scale q, scores, softmax (float32, as autocast), weighted sum
            s.append("    q = torch.mul(q, ")
                    .append(String.format(Locale.ROOT, "%.17g", 1.0 / Math.sqrt(hd)))
                    .append(")\n");
            s.append("    a = torch.matmul(q, torch.transpose(k, 2, 3))\n");
            s.append(
                    bf
                            ? "    a = torch.to(torch.softmax(torch.to(a, 6), -1), 15)\n"
                            : "    a = torch.softmax(a, -1)\n");
            s.append("    o = torch.matmul(a, v)\n");
        }
        s.append("    o = torch.reshape(torch.transpose(o, 1, 2), [b, t, ")
                .append(d)
                .append("])\n");
        s.append(f32Sdpa ? "    o = torch.to(o, 15)\n" : "");
        s.append("    o = torch.linear(o, ")
                .append(lo("pw", bf))
                .append(", ")
                .append(c.projBias() ? lo("pb", bf) : "None")
                .append(")\n");
        s.append(bf ? "    o = torch.to(o, 6)\n" : "");
        s.append(c.layerScale() ? "    return torch.mul(o, g)\n" : "    return o\n");
        // ---- FFN branch ----
        boolean fb = c.ffnBias();
        s.append("  def ffn(self, x: Tensor, nw: Tensor, nb: Tensor, w1: Tensor");
        s.append(fb ? ", b1: Tensor" : "").append(", w2: Tensor").append(fb ? ", b2: Tensor" : "");
        s.append(c.layerScale() ? ", g: Tensor" : "").append(") -> Tensor:\n");
        s.append("    y = torch.layer_norm(x, [").append(d).append("], nw, nb, 1e-06)\n");
        s.append("    y = torch.linear(")
                .append(lo("y", bf))
                .append(", ")
                .append(lo("w1", bf))
                .append(", ")
                .append(fb ? lo("b1", bf) : "None")
                .append(")\n");
        if (c.ffn() == FfnType.MLP) {
            s.append("    y = torch.gelu(y)\n");
        } else {
            s.append("    y12 = torch.chunk(y, 2, -1)\n");
            s.append("    y = torch.mul(torch.silu(y12[0]), y12[1])\n");
        }
        s.append("    y = torch.linear(y, ")
                .append(lo("w2", bf))
                .append(", ")
                .append(fb ? lo("b2", bf) : "None")
                .append(")\n");
        s.append(bf ? "    y = torch.to(y, 6)\n" : "");
        s.append(c.layerScale() ? "    return torch.mul(y, g)\n" : "    return y\n");
        return s.toString();
    }

    /** {@code v} in the compute format: a bfloat16 cast in bf16, itself in fp32. */
    static String lo(String v, boolean bf) {
        return bf ? "torch.to(" + v + ", " + BF16 + ")" : v;
    }
}
