package dev.dinoj.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;

import java.util.SplittableRandom;

/**
 * dinov2's {@code DinoVisionTransformer} as a function of a {@link ParamSet} (parameters named
 * {@code prefix + official name}): conv patch embedding, CLS token, learned position embedding interpolated to the
 * input size, optional register tokens, {@code mask_token} replacing masked patch embeddings, pre-norm blocks
 * (LayerNorm ε 1e-6, fused-qkv attention, LayerScale, MLP/SwiGLU FFN), stochastic depth, final norm.
 *
 * <p>The same instance serves the student (parameters with gradients, inside a {@code GradientCollector}) and the
 * teacher (no gradients). All intermediate arrays are created in the caller's scope.
 */
public final class VisionTransformer {

    private static final float LN_EPS = 1e-6f;

    private final VitConfig cfg;
    private final ParamSet params;
    private final String prefix;

    public VisionTransformer(VitConfig cfg, ParamSet params, String prefix) {
        this.cfg = cfg;
        this.params = params;
        this.prefix = prefix;
    }

    public VitConfig config() {
        return cfg;
    }

    private NDArray p(String name) {
        return params.get(prefix + name);
    }

    /**
     * Forward pass.
     *
     * @param images   (B, 3, H, W), H and W multiples of the patch size
     * @param masks    null, or (B, N) boolean/float patch mask; masked patch embeddings become {@code mask_token}
     * @param training applies stochastic depth (needs {@code rng})
     * @param rng      randomness for stochastic depth (may be null when not training or when the rate is 0)
     */
    public BackboneOutput forward(NDArray images, NDArray masks, boolean training, SplittableRandom rng) {
        NDArray x = prepareTokens(images, masks);                       // (B, T, D)
        for (int i = 0; i < cfg.depth(); i++) {
            x = block(i, x, training, rng);
        }
        return outputs(x);
    }

    /** Tokens after patch embedding, masking, CLS, position embedding and registers: (B, 1 + R + N, D). */
    public NDArray prepareTokens(NDArray images, NDArray masks) {
        Shape s = images.getShape();
        long b = s.get(0);
        int ph = (int) s.get(2) / cfg.patchSize();
        int pw = (int) s.get(3) / cfg.patchSize();
        if (s.get(2) % cfg.patchSize() != 0 || s.get(3) % cfg.patchSize() != 0) {
            throw new IllegalArgumentException("input " + s + " is not a multiple of the patch size " + cfg.patchSize());
        }
        NDArray x = patchEmbed(images, ph, pw);                         // (B, N, D)
        if (masks != null) {
            NDArray m = masks.toType(x.getDataType(), false).reshape(b, ph * pw, 1);   // (B, N, 1)
            x = x.mul(m.neg().add(1)).add(m.mul(p("mask_token").reshape(1, 1, cfg.embedDim())));
        }
        NDArray cls = p("cls_token").broadcast(b, 1, cfg.embedDim());  // (B, 1, D)
        x = NDArrays.concat(new NDList(cls, x), 1);                     // (B, 1 + N, D)
        x = x.add(positionEmbedding(ph, pw));                           // (B, 1 + N, D)
        if (cfg.numRegisterTokens() > 0) {
            NDArray reg = p("register_tokens").broadcast(b, cfg.numRegisterTokens(), cfg.embedDim());
            x = NDArrays.concat(new NDList(x.get(":, :1"), reg, x.get(":, 1:")), 1);  // (B, 1 + R + N, D)
        }
        return x;
    }

    /** Conv2d with kernel = stride = patch, as a patchify + linear (same arithmetic, one GEMM). */
    private NDArray patchEmbed(NDArray images, int ph, int pw) {
        long b = images.getShape().get(0);
        int ps = cfg.patchSize();
        NDArray patches = images.reshape(b, 3, ph, ps, pw, ps)         // (B, 3, h, p, w, p)
                .transpose(0, 2, 4, 1, 3, 5)                            // (B, h, w, 3, p, p)
                .reshape(b, (long) ph * pw, 3L * ps * ps);              // (B, N, 3·p·p)
        NDArray w = p("patch_embed.proj.weight").reshape(cfg.embedDim(), 3L * ps * ps);
        return Linear.linear(patches, w, p("patch_embed.proj.bias")).singletonOrThrow();  // (B, N, D)
    }

    /** dinov2 {@code interpolate_pos_encoding}: (1, 1 + ph·pw, D). */
    public NDArray positionEmbedding(int ph, int pw) {
        NDArray pos = p("pos_embed");                                   // (1, 1 + M², D)
        int n = (int) pos.getShape().get(1) - 1;
        int m = (int) Math.round(Math.sqrt(n));
        if (m * m != n) {
            throw new IllegalStateException("pos_embed holds " + n + " patches, not a square grid");
        }
        if (ph * pw == n && ph == pw) {
            return pos;
        }
        NDManager mgr = pos.getManager();
        float[] k = PosEmbedInterpolation.matrix(m, ph, pw, cfg.interpolateOffset(), cfg.interpolateAntialias());
        NDArray kron = mgr.create(k, new Shape((long) ph * pw, n));     // (ph·pw, M²)
        NDArray patchPos = pos.get(":, 1:").reshape(n, cfg.embedDim()); // (M², D)
        NDArray resized = kron.matMul(patchPos).reshape(1, (long) ph * pw, cfg.embedDim());
        return NDArrays.concat(new NDList(pos.get(":, :1"), resized), 1);
    }

    /** One pre-norm block with LayerScale and stochastic depth. */
    public NDArray block(int i, NDArray x, boolean training, SplittableRandom rng) {
        String b = "blocks." + i + ".";
        double rate = training ? cfg.dropPath(i) : 0.0;
        if (rate > 0.1) {
            // batch-subset trick: compute each residual branch only on the kept samples
            x = subsetResidual(x, rate, rng, xs -> attnResidual(b, xs));
            return subsetResidual(x, rate, rng, xs -> ffnResidual(b, xs));
        }
        if (rate > 0.0) {
            x = x.add(dropPath(attnResidual(b, x), rate, rng));
            return x.add(dropPath(ffnResidual(b, x), rate, rng));
        }
        x = x.add(attnResidual(b, x));
        return x.add(ffnResidual(b, x));
    }

    private NDArray attnResidual(String b, NDArray x) {
        NDArray h = layerNorm(x, b + "norm1");
        h = attention(b, h);
        return cfg.layerScale() ? h.mul(p(b + "ls1.gamma")) : h;
    }

    private NDArray ffnResidual(String b, NDArray x) {
        NDArray h = layerNorm(x, b + "norm2");
        h = ffn(b, h);
        return cfg.layerScale() ? h.mul(p(b + "ls2.gamma")) : h;
    }

    private NDArray attention(String b, NDArray x) {
        Shape s = x.getShape();
        long bs = s.get(0);
        long t = s.get(1);
        int heads = cfg.numHeads();
        int hd = cfg.headDim();
        NDArray qkv = linear(x, b + "attn.qkv", cfg.qkvBias())        // (B, T, 3D)
                .reshape(bs, t, 3, heads, hd)                           // (B, T, 3, H, hd)
                .transpose(2, 0, 3, 1, 4);                              // (3, B, H, T, hd)
        NDArray q = qkv.get(0).mul(1.0 / Math.sqrt(hd));                // (B, H, T, hd)
        NDArray k = qkv.get(1);
        NDArray v = qkv.get(2);
        NDArray attn = q.matMul(k.transpose(0, 1, 3, 2)).softmax(-1);   // (B, H, T, T)
        NDArray o = attn.matMul(v)                                      // (B, H, T, hd)
                .transpose(0, 2, 1, 3)                                  // (B, T, H, hd)
                .reshape(bs, t, cfg.embedDim());                        // (B, T, D)
        return linear(o, b + "attn.proj", cfg.projBias());
    }

    private NDArray ffn(String b, NDArray x) {
        if (cfg.ffn() == FfnType.MLP) {
            NDArray h = Activation.gelu(linear(x, b + "mlp.fc1", cfg.ffnBias()));   // (B, T, hidden)
            return linear(h, b + "mlp.fc2", cfg.ffnBias());
        }
        NDArray w12 = linear(x, b + "mlp.w12", cfg.ffnBias());
        NDList x12 = w12.split(2, w12.getShape().dimension() - 1);                 // 2 × (B, T, hidden)
        NDArray x1 = x12.get(0);
        NDArray hidden = x1.mul(Activation.sigmoid(x1)).mul(x12.get(1));           // SiLU(x1) · x2
        return linear(hidden, b + "mlp.w3", cfg.ffnBias());
    }

    private NDArray linear(NDArray x, String name, boolean bias) {
        NDArray w = p(name + ".weight");
        return (bias ? Linear.linear(x, w, p(name + ".bias")) : Linear.linear(x, w)).singletonOrThrow();
    }

    private NDArray layerNorm(NDArray x, String name) {
        return LayerNorm.layerNorm(x, new Shape(cfg.embedDim()), p(name + ".weight"), p(name + ".bias"), LN_EPS)
                .singletonOrThrow();
    }

    /** Classic per-sample drop path: residual · Bernoulli(1 − rate) / (1 − rate). */
    private static NDArray dropPath(NDArray residual, double rate, SplittableRandom rng) {
        int b = (int) residual.getShape().get(0);
        double keep = 1.0 - rate;
        float[] mask = new float[b];
        for (int i = 0; i < b; i++) {
            mask[i] = rng.nextDouble() < keep ? (float) (1.0 / keep) : 0f;
        }
        return residual.mul(residual.getManager().create(mask, new Shape(b, 1, 1)));
    }

    /**
     * dinov2 {@code drop_add_residual_stochastic_depth}: the branch runs on a random subset of
     * {@code max(int(B·(1−rate)), 1)} samples and its output, scaled by B / subset, is added back to those rows.
     */
    private static NDArray subsetResidual(NDArray x, double rate, SplittableRandom rng,
                                          java.util.function.UnaryOperator<NDArray> branch) {
        Shape s = x.getShape();
        int b = (int) s.get(0);
        int keep = Math.max((int) (b * (1 - rate)), 1);
        int[] perm = new int[b];
        for (int i = 0; i < b; i++) {
            perm[i] = i;
        }
        for (int i = b - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        long[] subset = new long[keep];
        long[] scatter = new long[b];                                   // row of the padded residual for each sample
        java.util.Arrays.fill(scatter, keep);                           // index `keep` is the zero row
        for (int i = 0; i < keep; i++) {
            subset[i] = perm[i];
            scatter[perm[i]] = i;
        }
        NDManager mgr = x.getManager();
        NDArray residual = branch.apply(x.get(mgr.create(subset)));     // (keep, T, D)
        NDArray zero = mgr.zeros(new Shape(1, s.get(1), s.get(2)), x.getDataType());
        NDArray padded = NDArrays.concat(new NDList(residual, zero), 0);  // (keep + 1, T, D)
        NDArray added = padded.get(mgr.create(scatter));               // (B, T, D), zeros for dropped samples
        return x.add(added.mul((double) b / keep));
    }

    /** Final norm and the token split of {@code forward_features}. */
    public BackboneOutput outputs(NDArray x) {
        NDArray xn = layerNorm(x, "norm");
        int r = cfg.numRegisterTokens();
        NDArray cls = xn.get(":, 0");                                   // (B, D)
        NDArray reg = xn.get(new NDIndex(":, 1:{}", 1 + r));           // (B, R, D)
        NDArray patches = xn.get(new NDIndex(":, {}:", 1 + r));        // (B, N, D)
        return new BackboneOutput(cls, reg, patches, x);
    }
}
