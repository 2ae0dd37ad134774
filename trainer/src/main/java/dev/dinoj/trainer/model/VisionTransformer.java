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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.random.RandomGenerator;

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
    private int attentionChunk;
    private BlockCut cut;
    private VitKernels kernels; // null: every op through DJL

    /**
     * Runs the blocks of a forward pass in the caller's way: the segmented backward cuts the autograd graph after
     * each, activation checkpointing keeps only each block's input and recomputes the block in the backward, the
     * teacher frees each block's scratch arrays early.
     */
    @FunctionalInterface
    public interface BlockCut {
        /**
         * @param block    the block's index
         * @param xs       its input, one (B_g, T_g, D) array per crop group
         * @param training whether this is a training forward (stochastic depth)
         * @param rng      the forward's randomness (stochastic depth draws)
         * @param run      computes the block: {@code run.apply(xs, rng)}, any number of times with the same draws
         * @return what the next block (or the final norm) gets: the block's output or a stand-in for it
         */
        List<NDArray> run(int block, List<NDArray> xs, boolean training, RandomGenerator rng, BlockFunction run);
    }

    /** One block over packed crop groups, as a function of its input and its randomness. */
    @FunctionalInterface
    public interface BlockFunction {
        List<NDArray> apply(List<NDArray> xs, RandomGenerator rng);
    }

    public VisionTransformer(VitConfig cfg, ParamSet params, String prefix) {
        this.cfg = cfg;
        this.params = params;
        this.prefix = prefix;
    }

    public VitConfig config() {
        return cfg;
    }

    /**
     * Computes attention in blocks of at most {@code queries} query tokens (0 = all at once), so no (T × T) score
     * matrix larger than (queries × T) per head is materialised — for the long token counts of the high-resolution
     * phase. Exactly the same result.
     */
    public VisionTransformer withAttentionChunk(int queries) {
        if (queries < 0) {
            throw new IllegalArgumentException("attention chunk must be >= 0");
        }
        this.attentionChunk = queries;
        return this;
    }

    /**
     * Computes each block's attention and FFN branches with {@code kernels} (fused attention, bfloat16; one
     * TorchScript call per branch and crop group) instead of DJL operations; null restores the DJL path. The kernels
     * belong to the caller (closed with the model).
     *
     * @throws IllegalArgumentException when the kernels were generated for another block architecture
     */
    public VisionTransformer withKernels(VitKernels kernels) {
        if (kernels != null && !kernels.fits(cfg)) {
            throw new IllegalArgumentException("kernels for " + kernels.config() + " do not fit " + cfg);
        }
        this.kernels = kernels;
        return this;
    }

    /** The branch kernels in use, or null. */
    public VitKernels kernels() {
        return kernels;
    }

    /** Runs every block of a forward through {@code cut} (see {@link BlockCut}); null (the default): plainly. */
    public void setBlockCut(BlockCut cut) {
        this.cut = cut;
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
        return forwardPacked(List.of(images), Collections.singletonList(masks), training, rng)
                .get(0);
    }

    /**
     * Forward pass of several crop groups (e.g. global and local crops, of different sizes) packed together, as
     * dinov2's nested-tensor path: LayerNorm, qkv, projection and FFN run once over the concatenated tokens of all
     * groups (one large GEMM each), attention runs per group. Same results as one {@link #forward} per group.
     *
     * @param images per group (B_g, 3, H_g, W_g)
     * @param masks  per group: null or (B_g, N_g)
     */
    public List<BackboneOutput> forwardPacked(
            List<NDArray> images, List<NDArray> masks, boolean training, SplittableRandom rng) {
        List<NDArray> xs = new ArrayList<>();
        for (int g = 0; g < images.size(); g++) {
            xs.add(prepareTokens(images.get(g), masks.get(g))); // (B_g, T_g, D)
        }
        for (int i = 0; i < cfg.depth(); i++) {
            int blk = i;
            xs = cut == null
                    ? block(i, xs, training, rng)
                    : cut.run(i, xs, training, rng, (ys, r) -> block(blk, ys, training, r)); // (B_g, T_g, D)
        }
        List<BackboneOutput> out = new ArrayList<>();
        for (NDArray x : xs) {
            out.add(outputs(x));
        }
        return out;
    }

    /** Tokens after patch embedding, masking, CLS, position embedding and registers: (B, 1 + R + N, D). */
    public NDArray prepareTokens(NDArray images, NDArray masks) {
        Shape s = images.getShape();
        long b = s.get(0);
        int ph = (int) s.get(2) / cfg.patchSize();
        int pw = (int) s.get(3) / cfg.patchSize();
        if (s.get(2) % cfg.patchSize() != 0 || s.get(3) % cfg.patchSize() != 0) {
            throw new IllegalArgumentException(
                    "input " + s + " is not a multiple of the patch size " + cfg.patchSize());
        }
        NDArray x = patchEmbed(images, ph, pw); // (B, N, D)
        if (masks != null) {
            NDArray m = masks.toType(x.getDataType(), false).reshape(b, ph * pw, 1); // (B, N, 1)
            x = x.mul(Scalars.add(m.neg(), 1)).add(m.mul(p("mask_token").reshape(1, 1, cfg.embedDim())));
        }
        NDArray cls = p("cls_token").broadcast(b, 1, cfg.embedDim()); // (B, 1, D)
        x = NDArrays.concat(new NDList(cls, x), 1); // (B, 1 + N, D)
        x = x.add(positionEmbedding(ph, pw)); // (B, 1 + N, D)
        if (cfg.numRegisterTokens() > 0) {
            NDArray reg = p("register_tokens").broadcast(b, cfg.numRegisterTokens(), cfg.embedDim());
            x = NDArrays.concat(new NDList(x.get(":, :1"), reg, x.get(":, 1:")), 1); // (B, 1 + R + N, D)
        }
        return x;
    }

    /** Conv2d with kernel = stride = patch, as a patchify + linear (same arithmetic, one GEMM). */
    private NDArray patchEmbed(NDArray images, int ph, int pw) {
        long b = images.getShape().get(0);
        int ps = cfg.patchSize();
        NDArray patches = images.reshape(b, 3, ph, ps, pw, ps) // (B, 3, h, p, w, p)
                .transpose(0, 2, 4, 1, 3, 5) // (B, h, w, 3, p, p)
                .reshape(b, (long) ph * pw, 3L * ps * ps); // (B, N, 3·p·p)
        NDArray w = p("patch_embed.proj.weight").reshape(cfg.embedDim(), 3L * ps * ps);
        return Linear.linear(patches, w, p("patch_embed.proj.bias")).singletonOrThrow(); // (B, N, D)
    }

    /** dinov2 {@code interpolate_pos_encoding}: (1, 1 + ph·pw, D). */
    public NDArray positionEmbedding(int ph, int pw) {
        NDArray pos = p("pos_embed"); // (1, 1 + M², D)
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
        NDArray kron = mgr.create(k, new Shape((long) ph * pw, n)); // (ph·pw, M²)
        NDArray patchPos = pos.get(":, 1:").reshape(n, cfg.embedDim()); // (M², D)
        NDArray resized = kron.matMul(patchPos).reshape(1, (long) ph * pw, cfg.embedDim());
        return NDArrays.concat(new NDList(pos.get(":, :1"), resized), 1);
    }

    /** One pre-norm block with LayerScale and stochastic depth, on one group of tokens (B, T, D). */
    public NDArray block(int i, NDArray x, boolean training, RandomGenerator rng) {
        return block(i, List.of(x), training, rng).get(0);
    }

    /** One block over packed groups (see {@link #forwardPacked}). */
    public List<NDArray> block(int i, List<NDArray> xs, boolean training, RandomGenerator rng) {
        String b = "blocks." + i + ".";
        double rate = training ? cfg.dropPath(i) : 0.0;
        Function<List<NDArray>, List<NDArray>> attn = kernels == null
                ? ys -> attnResidual(b, ys)
                : ys -> eachGroup(ys, y -> kernels.attention(y, params, prefix, i));
        Function<List<NDArray>, List<NDArray>> ffn = kernels == null
                ? ys -> ffnResidual(b, ys)
                : ys -> eachGroup(ys, y -> kernels.ffn(y, params, prefix, i));
        if (rate > 0.1) {
            // batch-subset trick: compute each residual branch only on the kept samples of every group
            xs = subsetResidual(xs, rate, rng, attn);
            return subsetResidual(xs, rate, rng, ffn);
        }
        xs = addResiduals(xs, attn.apply(xs), rate, rng);
        return addResiduals(xs, ffn.apply(xs), rate, rng);
    }

    private static List<NDArray> eachGroup(List<NDArray> xs, Function<NDArray, NDArray> f) {
        List<NDArray> out = new ArrayList<>(xs.size());
        for (NDArray x : xs) {
            out.add(f.apply(x));
        }
        return out;
    }

    private static List<NDArray> addResiduals(
            List<NDArray> xs, List<NDArray> residuals, double rate, RandomGenerator rng) {
        List<NDArray> out = new ArrayList<>(xs.size());
        for (int g = 0; g < xs.size(); g++) {
            NDArray r = residuals.get(g);
            out.add(xs.get(g).add(rate > 0 ? dropPath(r, rate, rng) : r));
        }
        return out;
    }

    private List<NDArray> attnResidual(String b, List<NDArray> xs) {
        NDArray h = layerNorm(packRows(xs), b + "norm1"); // (R, D), R = Σ B_g·T_g
        NDArray qkv = linear(h, b + "attn.qkv", cfg.qkvBias()); // (R, 3D)
        List<NDArray> attended = new ArrayList<>(xs.size());
        for (NDArray group : unpackRows(qkv, xs)) { // (B_g, T_g, 3D)
            attended.add(attention(group)); // (B_g, T_g, D)
        }
        NDArray o = linear(packRows(attended), b + "attn.proj", cfg.projBias()); // (R, D)
        return unpackRows(cfg.layerScale() ? o.mul(p(b + "ls1.gamma")) : o, xs);
    }

    private List<NDArray> ffnResidual(String b, List<NDArray> xs) {
        NDArray h = ffn(b, layerNorm(packRows(xs), b + "norm2")); // (R, D)
        return unpackRows(cfg.layerScale() ? h.mul(p(b + "ls2.gamma")) : h, xs);
    }

    /** Multi-head self-attention of one group from its fused qkv (B, T, 3D), without the output projection. */
    private NDArray attention(NDArray qkvGroup) {
        Shape s = qkvGroup.getShape();
        long bs = s.get(0);
        long t = s.get(1);
        int heads = cfg.numHeads();
        int hd = cfg.headDim();
        NDArray qkv = qkvGroup.reshape(bs, t, 3, heads, hd) // (B, T, 3, H, hd)
                .transpose(2, 0, 3, 1, 4); // (3, B, H, T, hd)
        NDArray q = Scalars.mul(qkv.get(0), 1.0 / Math.sqrt(hd)); // (B, H, T, hd)
        NDArray k = qkv.get(1);
        NDArray v = qkv.get(2);
        NDArray kt = k.transpose(0, 1, 3, 2); // (B, H, hd, T)
        NDArray o;
        if (attentionChunk <= 0 || t <= attentionChunk) {
            o = q.matMul(kt).softmax(-1).matMul(v); // (B, H, T, T) → (B, H, T, hd)
        } else {
            NDList parts = new NDList();
            for (long from = 0; from < t; from += attentionChunk) {
                NDArray qc = q.get(new NDIndex(":, :, {}:{}", from, Math.min(t, from + attentionChunk)));
                parts.add(qc.matMul(kt).softmax(-1).matMul(v)); // (B, H, c, T) → (B, H, c, hd)
            }
            o = NDArrays.concat(parts, 2); // (B, H, T, hd)
        }
        return o.transpose(0, 2, 1, 3) // (B, T, H, hd)
                .reshape(bs, t, cfg.embedDim()); // (B, T, D)
    }

    /** (B_g, T_g, D) groups → (Σ B_g·T_g, D) rows. */
    private static NDArray packRows(List<NDArray> xs) {
        if (xs.size() == 1) {
            NDArray x = xs.get(0);
            return x.reshape(-1, x.getShape().get(x.getShape().dimension() - 1));
        }
        NDList rows = new NDList(xs.size());
        for (NDArray x : xs) {
            rows.add(x.reshape(-1, x.getShape().get(2)));
        }
        return NDArrays.concat(rows, 0);
    }

    /** (Σ B_g·T_g, C) rows → groups (B_g, T_g, C) shaped like {@code like}. */
    private static List<NDArray> unpackRows(NDArray rows, List<NDArray> like) {
        long c = rows.getShape().get(1);
        if (like.size() == 1) {
            Shape s = like.get(0).getShape();
            return List.of(rows.reshape(s.get(0), s.get(1), c));
        }
        long[] cuts = new long[like.size() - 1];
        long acc = 0;
        for (int g = 0; g < cuts.length; g++) {
            acc += like.get(g).getShape().get(0) * like.get(g).getShape().get(1);
            cuts[g] = acc;
        }
        NDList parts = rows.split(cuts, 0);
        List<NDArray> out = new ArrayList<>(like.size());
        for (int g = 0; g < like.size(); g++) {
            Shape s = like.get(g).getShape();
            out.add(parts.get(g).reshape(s.get(0), s.get(1), c));
        }
        return out;
    }

    private NDArray ffn(String b, NDArray x) {
        if (cfg.ffn() == FfnType.MLP) {
            NDArray h = Activation.gelu(linear(x, b + "mlp.fc1", cfg.ffnBias())); // (R, hidden)
            return linear(h, b + "mlp.fc2", cfg.ffnBias());
        }
        NDArray w12 = linear(x, b + "mlp.w12", cfg.ffnBias());
        NDList x12 = w12.split(2, w12.getShape().dimension() - 1); // 2 × (R, hidden)
        NDArray x1 = x12.get(0);
        NDArray hidden = x1.mul(Activation.sigmoid(x1)).mul(x12.get(1)); // SiLU(x1) · x2
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
    private static NDArray dropPath(NDArray residual, double rate, RandomGenerator rng) {
        int b = (int) residual.getShape().get(0);
        double keep = 1.0 - rate;
        float[] mask = new float[b];
        for (int i = 0; i < b; i++) {
            mask[i] = rng.nextDouble() < keep ? (float) (1.0 / keep) : 0f;
        }
        return residual.mul(residual.getManager().create(mask, new Shape(b, 1, 1)));
    }

    /**
     * dinov2 {@code drop_add_residual_stochastic_depth(_list)}: in every group the branch runs on a random subset of
     * {@code max(int(B·(1−rate)), 1)} samples (the subsets of all groups packed together), and its output, scaled by
     * B / subset, is added back to those rows.
     */
    private static List<NDArray> subsetResidual(
            List<NDArray> xs, double rate, RandomGenerator rng, Function<List<NDArray>, List<NDArray>> branch) {
        List<NDArray> subsets = new ArrayList<>(xs.size());
        List<long[]> scatters = new ArrayList<>(xs.size());
        List<Integer> keeps = new ArrayList<>(xs.size());
        for (NDArray x : xs) {
            int b = (int) x.getShape().get(0);
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
            long[] scatter = new long[b]; // row of the padded residual per sample
            Arrays.fill(scatter, keep); // index `keep` is the zero row
            for (int i = 0; i < keep; i++) {
                subset[i] = perm[i];
                scatter[perm[i]] = i;
            }
            subsets.add(x.get(x.getManager().create(subset))); // (keep, T, D)
            scatters.add(scatter);
            keeps.add(keep);
        }
        List<NDArray> residuals = branch.apply(subsets);
        List<NDArray> out = new ArrayList<>(xs.size());
        for (int g = 0; g < xs.size(); g++) {
            NDArray x = xs.get(g);
            Shape s = x.getShape();
            NDManager mgr = x.getManager();
            NDArray zero = mgr.zeros(new Shape(1, s.get(1), s.get(2)), x.getDataType());
            NDArray padded = NDArrays.concat(new NDList(residuals.get(g), zero), 0); // (keep + 1, T, D)
            NDArray added = padded.get(mgr.create(scatters.get(g))); // (B, T, D), zeros for dropped samples
            out.add(x.add(Scalars.mul(added, (double) s.get(0) / keeps.get(g))));
        }
        return out;
    }

    /** Final norm and the token split of {@code forward_features}. */
    public BackboneOutput outputs(NDArray x) {
        NDArray xn = layerNorm(x, "norm");
        int r = cfg.numRegisterTokens();
        NDArray cls = xn.get(":, 0"); // (B, D)
        NDArray reg = xn.get(new NDIndex(":, 1:{}", 1 + r)); // (B, R, D)
        NDArray patches = xn.get(new NDIndex(":, {}:", 1 + r)); // (B, N, D)
        return new BackboneOutput(cls, reg, patches, x);
    }
}
