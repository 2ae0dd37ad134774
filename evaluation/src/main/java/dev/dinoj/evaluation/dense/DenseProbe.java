package dev.dinoj.evaluation.dense;

import dev.dinoj.evaluation.features.EvalDataset;
import dev.dinoj.evaluation.features.EvalImages;
import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.evaluation.linear.LinearHead;
import dev.dinoj.evaluation.logreg.LogRegSweep;
import dev.dinoj.evaluation.logreg.LogisticRegression;
import dev.dinoj.evaluation.metrics.HoldOut;
import dev.dinoj.pipeline.data.RgbImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A dense (patch-level) linear probe: foreground vs background of Fashion-MNIST, scored by mIoU, in the manner of
 * dinov2's linear segmentation head ({@code BNHead}: batch-norm statistics, then a 1×1 convolution on the frozen
 * patch tokens, logits resized bilinearly to the label map).
 *
 * <p>Labels: a pixel of the image resized to the evaluation side (the backbone's input, same bicubic weights) is
 * foreground when its intensity exceeds {@code threshold}; a patch is foreground when at least half its pixels
 * are. The head: the patch tokens standardised with the training patches' per-channel mean and std (the
 * batch-norm in eval mode), then a 2-class logistic regression fitted by L-BFGS on the training patches, its C
 * chosen on a held-out share of the training images among {@code cs}, and refitted on all of them. Test: patch
 * mIoU from the patch logits, and pixel mIoU from the logits upsampled bilinearly ({@code align_corners=False}) to
 * the evaluation side and compared with the pixel labels; both over the whole test set (mmseg's totals).
 *
 * <p>Departure: the official head trains on the upsampled pixel logits with SGD; here it trains on patch labels
 * (the resize and the 1×1 conv are both linear, so only the loss weighting of mixed boundary patches differs).
 */
public final class DenseProbe {

    /**
     * Settings.
     *
     * @param threshold foreground intensity threshold in [0, 1]
     * @param cs the C grid
     * @param heldOutFraction share of training images held out to choose C
     * @param seed split seed
     * @param maxIter L-BFGS iterations per fit
     */
    public record Settings(double threshold, double[] cs, double heldOutFraction, long seed, int maxIter) {

        /**
         * Copies the grid.
         *
         * @param threshold threshold
         * @param cs grid
         * @param heldOutFraction held-out share
         * @param seed seed
         * @param maxIter iterations
         */
        public Settings {
            cs = cs.clone();
        }

        @Override
        public double[] cs() {
            return cs.clone();
        }

        /** @return threshold 0.1, C in 10^{−3..2} (6 points), 20 % held out, seed 0, 300 iterations */
        public static Settings defaults() {
            return new Settings(0.1, LogRegSweep.grid(-3, 2, 6), 0.2, 0, 300);
        }
    }

    private final Settings settings;

    /** @param settings the settings */
    public DenseProbe(Settings settings) {
        this.settings = settings;
    }

    /**
     * Pixel and patch labels of one image at the evaluation side.
     *
     * @param img the image
     * @param size the evaluation side
     * @param patch the patch side
     * @param threshold the foreground threshold
     * @return {@code [0]}: size² pixel labels (1 = foreground), {@code [1]}: (size/patch)² patch labels
     */
    public static int[][] labels(RgbImage img, int size, int patch, double threshold) {
        float[] r = EvalImages.resizedPlane(img, 0, size);
        float[] g = EvalImages.resizedPlane(img, 1, size);
        float[] b = EvalImages.resizedPlane(img, 2, size);
        int[] pixels = new int[size * size];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (r[i] + g[i] + b[i]) / 3 > threshold ? 1 : 0;
        }
        int grid = size / patch;
        int[] patches = new int[grid * grid];
        for (int py = 0; py < grid; py++) {
            for (int px = 0; px < grid; px++) {
                int fg = 0;
                for (int y = 0; y < patch; y++) {
                    for (int x = 0; x < patch; x++) {
                        fg += pixels[(py * patch + y) * size + px * patch + x];
                    }
                }
                patches[py * grid + px] = 2 * fg >= patch * patch ? 1 : 0;
            }
        }
        return new int[][] {pixels, patches};
    }

    /**
     * Fits the head on the training images' patch tokens and scores it on the test images.
     *
     * @param trainTokens patch tokens of the training images ({@code N·D} per row)
     * @param trainImages those images (row i = image i), for the labels
     * @param testTokens patch tokens of the test images
     * @param testImages those images
     * @param size the evaluation side the tokens were computed at
     * @param patch the patch side
     * @return the result
     */
    public DenseResult run(
            FeatureSet trainTokens,
            EvalDataset trainImages,
            FeatureSet testTokens,
            EvalDataset testImages,
            int size,
            int patch) {
        int grid = size / patch;
        int np = grid * grid;
        if (trainTokens.dim() % np != 0 || testTokens.dim() != trainTokens.dim()) {
            throw new IllegalArgumentException("patch-token rows of " + trainTokens.dim() + " / " + testTokens.dim()
                    + " values do not hold " + np + " patches");
        }
        int dim = trainTokens.dim() / np;
        int[][] trainPatchLabels = new int[trainTokens.n()][];
        for (int i = 0; i < trainTokens.n(); i++) {
            trainPatchLabels[i] = labels(trainImages.images().image(i), size, patch, settings.threshold())[1];
        }
        // ---- per-channel standardisation (the BN of BNHead with the training statistics)
        double[] mean = new double[dim];
        double[] sq = new double[dim];
        float[] x = trainTokens.data();
        long count = (long) trainTokens.n() * np;
        for (int i = 0; i < x.length; i++) {
            mean[i % dim] += x[i];
            sq[i % dim] += (double) x[i] * x[i];
        }
        float[] mu = new float[dim];
        float[] inv = new float[dim];
        for (int c = 0; c < dim; c++) {
            double m = mean[c] / count;
            double var = Math.max(sq[c] / count - m * m, 0);
            mu[c] = (float) m;
            inv[c] = (float) (1.0 / Math.sqrt(var + 1e-5));
        }
        FeatureSet trainPatches = patches(trainTokens, trainPatchLabels, np, dim, mu, inv, range(trainTokens.n()));

        // ---- C on held-out images, then refit on all
        HoldOut split = HoldOut.of(trainTokens.n(), settings.heldOutFraction(), settings.seed());
        FeatureSet fitPatches = patches(trainTokens, trainPatchLabels, np, dim, mu, inv, split.train());
        FeatureSet heldPatches = patches(trainTokens, trainPatchLabels, np, dim, mu, inv, split.heldOut());
        LogisticRegression lr = new LogisticRegression(settings.maxIter(), 1e-6, 1e-10);
        double[] cs = settings.cs();
        double bestC = cs[0];
        double bestIou = -1;
        List<double[]> sweep = new ArrayList<>();
        double[] warm = null;
        for (double c : cs) {
            LogisticRegression.Model m = lr.fit(fitPatches, 2, c, warm);
            warm = m.theta();
            SegmentationMetrics sm = new SegmentationMetrics(2);
            sm.add(argmax(m.head().scores(heldPatches)), heldPatches.labels());
            double iou = sm.meanIou();
            sweep.add(new double[] {c, 100 * iou});
            if (iou > bestIou) {
                bestIou = iou;
                bestC = c;
            }
        }
        LogisticRegression.Model model = lr.fit(trainPatches, 2, bestC, warm);
        LinearHead head = model.head();

        // ---- test: patch mIoU and pixel mIoU of the upsampled logits
        SegmentationMetrics patchMetrics = new SegmentationMetrics(2);
        SegmentationMetrics pixelMetrics = new SegmentationMetrics(2);
        int[] one = {0};
        for (int i = 0; i < testTokens.n(); i++) {
            int[][] lab = labels(testImages.images().image(i), size, patch, settings.threshold());
            one[0] = i;
            FeatureSet p = patches(testTokens, new int[][] {lab[1]}, np, dim, mu, inv, one, i);
            float[] logits = head.scores(p); // (N, 2)
            patchMetrics.add(argmax(logits), lab[1]);
            float[] bg = new float[np];
            float[] fg = new float[np];
            for (int k = 0; k < np; k++) {
                bg[k] = logits[2 * k];
                fg[k] = logits[2 * k + 1];
            }
            float[] ubg = upsample(bg, grid, size);
            float[] ufg = upsample(fg, grid, size);
            int[] pred = new int[size * size];
            for (int k = 0; k < pred.length; k++) {
                pred[k] = ufg[k] > ubg[k] ? 1 : 0;
            }
            pixelMetrics.add(pred, lab[0]);
        }
        return new DenseResult(
                settings,
                trainTokens.n(),
                testTokens.n(),
                grid,
                size,
                bestC,
                100 * bestIou,
                sweep,
                100 * pixelMetrics.meanIou(),
                toPercent(pixelMetrics.iou()),
                100 * pixelMetrics.accuracy(),
                100 * patchMetrics.meanIou());
    }

    /** Standardised patch rows of the given images, labelled by their patch labels. */
    private static FeatureSet patches(
            FeatureSet tokens, int[][] patchLabels, int np, int dim, float[] mu, float[] inv, int[] images) {
        return patches(tokens, patchLabels, np, dim, mu, inv, images, -1);
    }

    private static FeatureSet patches(
            FeatureSet tokens,
            int[][] patchLabels,
            int np,
            int dim,
            float[] mu,
            float[] inv,
            int[] images,
            int labelRowOverride) {
        float[] out = new float[Math.multiplyExact(images.length * np, dim)];
        int[] labels = new int[images.length * np];
        float[] x = tokens.data();
        for (int j = 0; j < images.length; j++) {
            int img = images[j];
            int[] lab = patchLabels[labelRowOverride >= 0 ? 0 : img];
            for (int k = 0; k < np; k++) {
                int src = img * tokens.dim() + k * dim;
                int dst = (j * np + k) * dim;
                for (int c = 0; c < dim; c++) {
                    out[dst + c] = (x[src + c] - mu[c]) * inv[c];
                }
                labels[j * np + k] = lab[k];
            }
        }
        return new FeatureSet(out, images.length * np, dim, labels);
    }

    /**
     * Bilinear upsampling of a square grid ({@code align_corners=False}, edge clamped), as mmseg's {@code resize}.
     *
     * @param grid {@code g × g} values, row-major
     * @param g the grid side
     * @param size the output side
     * @return {@code size × size} values
     */
    public static float[] upsample(float[] grid, int g, int size) {
        float[] out = new float[size * size];
        double scale = (double) g / size;
        for (int y = 0; y < size; y++) {
            double sy = Math.max(0, (y + 0.5) * scale - 0.5);
            int y0 = Math.min((int) sy, g - 1);
            int y1 = Math.min(y0 + 1, g - 1);
            double fy = sy - y0;
            for (int x = 0; x < size; x++) {
                double sx = Math.max(0, (x + 0.5) * scale - 0.5);
                int x0 = Math.min((int) sx, g - 1);
                int x1 = Math.min(x0 + 1, g - 1);
                double fx = sx - x0;
                out[y * size + x] = (float) ((1 - fy) * ((1 - fx) * grid[y0 * g + x0] + fx * grid[y0 * g + x1])
                        + fy * ((1 - fx) * grid[y1 * g + x0] + fx * grid[y1 * g + x1]));
            }
        }
        return out;
    }

    private static int[] argmax(float[] logits) {
        int[] out = new int[logits.length / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = logits[2 * i + 1] > logits[2 * i] ? 1 : 0;
        }
        return out;
    }

    private static int[] range(int n) {
        int[] out = new int[n];
        Arrays.setAll(out, i -> i);
        return out;
    }

    private static double[] toPercent(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = 100 * v[i];
        }
        return out;
    }
}
