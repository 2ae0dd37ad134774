package dev.dinoj.trainer.bench;

import dev.dinoj.trainer.config.SslConfig;
import dev.dinoj.trainer.model.FfnType;
import dev.dinoj.trainer.model.HeadConfig;
import dev.dinoj.trainer.model.VitConfig;

/**
 * Analytic FLOP count of a DINOv2 step (multiply-add = 2 FLOPs; backward = 2 × forward), the way the anchor
 * figure of 326 GFLOP per step for the tiny preset is counted: matrix products of patch embedding, attention
 * (qkv, QKᵀ, AV, projection), FFN and heads; element-wise work is not counted. The student's blocks count the
 * images the batch-subset stochastic depth actually computes.
 */
public final class FlopModel {

    private FlopModel() {}

    /** Forward FLOPs of one image of {@code size}×{@code size} pixels through the backbone. */
    public static double backboneForward(VitConfig c, int size) {
        return c.depth() * blockForward(c, size) + patchEmbedForward(c, size);
    }

    /**
     * Forward FLOPs of {@code batch} training images through the student backbone: with stochastic depth above 0.1
     * the batch-subset trick runs each block's residual branches on {@code max(⌊B·(1 − rate)⌋, 1)} of the B images
     * (VisionTransformer), so those blocks cost that fraction; at 0.1 and below every image is computed.
     */
    public static double studentBackboneForward(VitConfig c, int size, int batch) {
        double blocks = 0;
        for (int i = 0; i < c.depth(); i++) {
            double rate = c.dropPath(i);
            double kept = rate > 0.1 ? Math.max(Math.floor(batch * (1 - rate)), 1) : batch;
            blocks += kept * blockForward(c, size);
        }
        return blocks + batch * patchEmbedForward(c, size);
    }

    private static double blockForward(VitConfig c, int size) {
        long t = 1 + c.numRegisterTokens() + patches(c, size);
        double d = c.embedDim();
        double h = c.ffnHiddenDim();
        double ffn = c.ffn() == FfnType.MLP ? 2 * d * h : 3 * d * h; // fc1 + fc2, or w12 (2h) + w3
        return 2.0 * t * (3 * d * d + d * d + ffn) + 4.0 * t * t * d;
    }

    private static double patchEmbedForward(VitConfig c, int size) {
        return 2.0 * patches(c, size) * 3 * c.patchSize() * c.patchSize() * c.embedDim();
    }

    private static long patches(VitConfig c, int size) {
        return (long) (size / c.patchSize()) * (size / c.patchSize());
    }

    /** Forward FLOPs of one row through a head. */
    public static double headForward(HeadConfig h) {
        double f = 0;
        for (int i = 0; i < h.nlayers(); i++) {
            double in = i == 0 ? h.inDim() : h.hiddenDim();
            double out = i == h.nlayers() - 1 ? h.bottleneckDim() : h.hiddenDim();
            f += 2 * in * out;
        }
        return f + 2.0 * h.bottleneckDim() * h.prototypes();
    }

    /** FLOPs of one training step: student forward + backward, teacher forward, heads. */
    public static Breakdown step(SslConfig cfg, int batch, int globalSize, int localSize, double maskedPatches) {
        VitConfig v = cfg.backbone();
        // the subset is drawn per crop group: the global crops (2·B images) and the local crops (n·B images)
        double studentFwd = studentBackboneForward(v, globalSize, 2 * batch)
                + studentBackboneForward(v, localSize, cfg.nLocalCrops() * batch);
        double teacherFwd = 2.0 * batch * backboneForward(v, globalSize);
        double clsRowsStudent = (2.0 + cfg.nLocalCrops()) * batch;
        double dino = headForward(cfg.dinoHead());
        double ibot = cfg.separateIbotHead() ? headForward(cfg.ibotHead()) : dino;
        double studentHeads = clsRowsStudent * dino + (cfg.doIbot() ? maskedPatches * ibot : 0);
        double teacherHeads = 2.0 * batch * dino + (cfg.doIbot() ? maskedPatches * ibot : 0);
        return new Breakdown(3 * (studentFwd + studentHeads), teacherFwd + teacherHeads);
    }

    /** Student (forward + backward) and teacher (forward) FLOPs. */
    public record Breakdown(double student, double teacher) {
        public double total() {
            return student + teacher;
        }
    }
}
