package dev.dinoj.evaluation.features;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.trainer.model.PosEmbedInterpolation;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The tensor end of dinov2's evaluation transform ({@code make_classification_eval_transform}): each image, as the
 * dataset gives it, resized (bicubic, PyTorch's weights) to the evaluation side when it is not already that size, and
 * normalised with the ImageNet mean and std. Photos reach it already resized and centre-cropped by an
 * {@code EvalTransform} view ({@link EvalDataset#transformed}); 28-px Fashion-MNIST
 * images have no room for the crop and are resized whole. Shared by every protocol and {@link FeatureExtractor}, plus
 * the resized but un-normalised image the dense probe takes its labels from.
 */
public final class EvalImages {

    static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    static final float[] STD = {0.229f, 0.224f, 0.225f};

    private EvalImages() {}

    /**
     * Threads that read a batch's images: every core, but at most one per GiB of heap (decoding a photo at the pixel
     * guard's 25 Mpx takes about 400 MB).
     */
    static final int DECODERS = (int) Math.max(
            1,
            Math.min(
                    Runtime.getRuntime().availableProcessors(),
                    Runtime.getRuntime().maxMemory() >> 30));

    private static final ExecutorService POOL = Executors.newFixedThreadPool(DECODERS, r -> {
        Thread t = new Thread(r, "dinoj-eval-decode");
        t.setDaemon(true);
        return t;
    });

    /**
     * Images {@code [start, start + b)} resized to {@code size} and normalised, as (b, 3, S, S); fills their labels
     * into {@code labels[start ..]} when {@code labels} is not null. The images are read (decoded, transformed) on
     * {@link #DECODERS} threads, each straight into its place in the batch, so only the images being decoded are held
     * at full resolution; a failure is rethrown for the lowest index that failed.
     */
    public static NDArray batch(ImageDataset ds, int start, int b, int size, NDManager m, int[] labels) {
        RgbImage first = ds.image(start);
        int h = first.height();
        int w = first.width();
        int plane = h * w;
        float[] raw = new float[b * 3 * plane];
        List<Callable<Void>> reads = new ArrayList<>(b);
        for (int j = 0; j < b; j++) {
            int i = j;
            reads.add(() -> {
                RgbImage img = i == 0 ? first : ds.image(start + i);
                if (img.height() != h || img.width() != w) {
                    throw new IllegalArgumentException(ds.describe() + ": image " + (start + i) + " is " + img.width()
                            + "x" + img.height() + " but the batch is " + w + "x" + h
                            + "; evaluate datasets of one image size (or through an evaluation transform)");
                }
                if (labels != null) {
                    labels[start + i] = ds.label(start + i);
                }
                float[] chw = img.chw();
                for (int c = 0; c < 3; c++) {
                    for (int p = 0; p < plane; p++) {
                        raw[(i * 3 + c) * plane + p] = (chw[c * plane + p] - MEAN[c]) / STD[c];
                    }
                }
                return null;
            });
        }
        List<Future<Void>> done;
        try {
            done = POOL.invokeAll(reads);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading " + ds.describe(), e);
        }
        for (Future<Void> f : done) {
            try {
                f.get(); // done: never blocks
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                if (e.getCause() instanceof Error err) {
                    throw err;
                }
                throw new IllegalStateException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while reading " + ds.describe(), e);
            }
        }
        NDArray x = m.create(raw, new Shape(b, 3, h, w)); // (b, 3, h, w)
        if (h == size && w == size) {
            return x;
        }
        NDArray wh = m.create(flat(PosEmbedInterpolation.weights(h, size, 0, false)), new Shape(size, h)); // (S, h)
        NDArray ww = m.create(flat(PosEmbedInterpolation.weights(w, size, 0, false)), new Shape(size, w)); // (S, w)
        return wh.matMul(x).matMul(ww.transpose()); // (b, 3, S, S)
    }

    /**
     * One channel of an image resized to {@code size} with the same bicubic weights as {@link #batch}, not
     * normalised (values may overshoot [0, 1] slightly, as bicubic does): {@code out[y * size + x]}.
     */
    public static float[] resizedPlane(RgbImage img, int channel, int size) {
        int h = img.height();
        int w = img.width();
        float[] chw = img.chw();
        int off = channel * h * w;
        if (h == size && w == size) {
            float[] out = new float[size * size];
            System.arraycopy(chw, off, out, 0, out.length);
            return out;
        }
        double[][] wh = PosEmbedInterpolation.weights(h, size, 0, false); // (S, h)
        double[][] ww = PosEmbedInterpolation.weights(w, size, 0, false); // (S, w)
        double[] tmp = new double[size * w]; // (S, w) = wh · img
        for (int y = 0; y < size; y++) {
            for (int r = 0; r < h; r++) {
                double k = wh[y][r];
                if (k == 0) {
                    continue;
                }
                for (int x = 0; x < w; x++) {
                    tmp[y * w + x] += k * chw[off + r * w + x];
                }
            }
        }
        float[] out = new float[size * size]; // (S, S) = tmp · wwᵀ
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                double s = 0;
                for (int c = 0; c < w; c++) {
                    s += tmp[y * w + c] * ww[x][c];
                }
                out[y * size + x] = (float) s;
            }
        }
        return out;
    }

    static float[] flat(double[][] a) {
        float[] out = new float[a.length * a[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                out[i * a[i].length + j] = (float) a[i][j];
            }
        }
        return out;
    }
}
