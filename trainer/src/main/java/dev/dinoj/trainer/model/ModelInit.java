package dev.dinoj.trainer.model;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.SplittableRandom;

/**
 * Fresh parameters with dinov2's initialisation: {@code trunc_normal_(std=0.02)} for linear weights and the
 * position embedding, {@code normal(std=1e-6)} for the CLS and register tokens, zeros for biases and the mask
 * token, ones for LayerNorm weights, {@code init_values} for LayerScale, PyTorch's default (Kaiming-uniform) for
 * the patch-embedding convolution and the head's weight-normalised last layer with {@code weight_g = 1}.
 */
public final class ModelInit {

    private final SplittableRandom rng;

    public ModelInit(long seed) {
        this.rng = new SplittableRandom(seed);
    }

    /** Adds backbone parameters, named {@code prefix + official name}, in the official order. */
    public void backbone(ParamSet p, String prefix, VitConfig c) {
        int d = c.embedDim();
        int n = c.gridSize() * c.gridSize();
        int patchIn = 3 * c.patchSize() * c.patchSize();
        p.put(prefix + "cls_token", normal(d, 1e-6), 1, 1, d);
        p.put(prefix + "pos_embed", truncNormal((n + 1) * d, 0.02), 1, n + 1, d);
        if (c.numRegisterTokens() > 0) {
            p.put(prefix + "register_tokens", normal(c.numRegisterTokens() * d, 1e-6), 1, c.numRegisterTokens(), d);
        }
        p.put(prefix + "mask_token", new float[d], 1, d);
        double bound = 1.0 / Math.sqrt(patchIn);
        p.put(prefix + "patch_embed.proj.weight", uniform(d * patchIn, bound), d, 3, c.patchSize(), c.patchSize());
        p.put(prefix + "patch_embed.proj.bias", uniform(d, bound), d);
        int h = c.ffnHiddenDim();
        for (int i = 0; i < c.depth(); i++) {
            String b = prefix + "blocks." + i + ".";
            p.put(b + "norm1.weight", ones(d), d);
            p.put(b + "norm1.bias", new float[d], d);
            linear(p, b + "attn.qkv", 3 * d, d, c.qkvBias());
            linear(p, b + "attn.proj", d, d, c.projBias());
            if (c.layerScale()) {
                p.put(b + "ls1.gamma", fill(d, (float) c.layerScaleInit()), d);
            }
            p.put(b + "norm2.weight", ones(d), d);
            p.put(b + "norm2.bias", new float[d], d);
            if (c.ffn() == FfnType.MLP) {
                linear(p, b + "mlp.fc1", h, d, c.ffnBias());
                linear(p, b + "mlp.fc2", d, h, c.ffnBias());
            } else {
                linear(p, b + "mlp.w12", 2 * h, d, c.ffnBias());
                linear(p, b + "mlp.w3", d, h, c.ffnBias());
            }
            if (c.layerScale()) {
                p.put(b + "ls2.gamma", fill(d, (float) c.layerScaleInit()), d);
            }
        }
        p.put(prefix + "norm.weight", ones(d), d);
        p.put(prefix + "norm.bias", new float[d], d);
    }

    /**
     * The names (without a prefix) and shapes of the parameters {@link #backbone} adds, in the same order: what a
     * weights file of architecture {@code c} must hold, known without allocating it.
     */
    public static LinkedHashMap<String, long[]> backboneShapes(VitConfig c) {
        long d = c.embedDim();
        long n = (long) c.gridSize() * c.gridSize();
        long h = c.ffnHiddenDim();
        LinkedHashMap<String, long[]> s = new LinkedHashMap<>();
        s.put("cls_token", new long[] {1, 1, d});
        s.put("pos_embed", new long[] {1, n + 1, d});
        if (c.numRegisterTokens() > 0) {
            s.put("register_tokens", new long[] {1, c.numRegisterTokens(), d});
        }
        s.put("mask_token", new long[] {1, d});
        s.put("patch_embed.proj.weight", new long[] {d, 3, c.patchSize(), c.patchSize()});
        s.put("patch_embed.proj.bias", new long[] {d});
        for (int i = 0; i < c.depth(); i++) {
            String b = "blocks." + i + ".";
            s.put(b + "norm1.weight", new long[] {d});
            s.put(b + "norm1.bias", new long[] {d});
            linearShapes(s, b + "attn.qkv", 3 * d, d, c.qkvBias());
            linearShapes(s, b + "attn.proj", d, d, c.projBias());
            if (c.layerScale()) {
                s.put(b + "ls1.gamma", new long[] {d});
            }
            s.put(b + "norm2.weight", new long[] {d});
            s.put(b + "norm2.bias", new long[] {d});
            if (c.ffn() == FfnType.MLP) {
                linearShapes(s, b + "mlp.fc1", h, d, c.ffnBias());
                linearShapes(s, b + "mlp.fc2", d, h, c.ffnBias());
            } else {
                linearShapes(s, b + "mlp.w12", 2 * h, d, c.ffnBias());
                linearShapes(s, b + "mlp.w3", d, h, c.ffnBias());
            }
            if (c.layerScale()) {
                s.put(b + "ls2.gamma", new long[] {d});
            }
        }
        s.put("norm.weight", new long[] {d});
        s.put("norm.bias", new long[] {d});
        return s;
    }

    private static void linearShapes(LinkedHashMap<String, long[]> s, String name, long out, long in, boolean bias) {
        s.put(name + ".weight", new long[] {out, in});
        if (bias) {
            s.put(name + ".bias", new long[] {out});
        }
    }

    /** Adds DINO/iBOT head parameters ({@code mlp.0}, {@code mlp.2}, … then {@code last_layer.weight_g/_v}). */
    public void head(ParamSet p, String prefix, HeadConfig h) {
        for (int i = 0; i < h.nlayers(); i++) {
            int in = i == 0 ? h.inDim() : h.hiddenDim();
            int out = i == h.nlayers() - 1 ? h.bottleneckDim() : h.hiddenDim();
            linear(p, DinoHead.mlpLayerName(prefix, i, h.nlayers()), out, in, true);
        }
        p.put(prefix + "last_layer.weight_g", ones(h.prototypes()), h.prototypes(), 1);
        p.put(
                prefix + "last_layer.weight_v",
                uniform(h.prototypes() * h.bottleneckDim(), 1.0 / Math.sqrt(h.bottleneckDim())),
                h.prototypes(),
                h.bottleneckDim());
    }

    private void linear(ParamSet p, String name, int out, int in, boolean bias) {
        p.put(name + ".weight", truncNormal(out * in, 0.02), out, in);
        if (bias) {
            p.put(name + ".bias", new float[out], out);
        }
    }

    private float[] truncNormal(int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            double v;
            do {
                v = gaussian() * std;
            } while (v < -2 || v > 2);
            a[i] = (float) v;
        }
        return a;
    }

    private float[] normal(int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (gaussian() * std);
        }
        return a;
    }

    private float[] uniform(int n, double bound) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
        return a;
    }

    private double gaussian() {
        // Box–Muller on the splittable generator (java.util.Random#nextGaussian is not on SplittableRandom in 17)
        double u1 = rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }

    private static float[] ones(int n) {
        return fill(n, 1f);
    }

    private static float[] fill(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }
}
