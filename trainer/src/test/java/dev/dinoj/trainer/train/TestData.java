package dev.dinoj.trainer.train;

import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.RgbImage;
import java.util.SplittableRandom;

/** A small deterministic image set (blobs on a gray background, 10 classes) for training tests without files. */
public final class TestData implements ImageDataset {

    private final int n;
    private final int size;

    public TestData(int n, int size) {
        this.n = n;
        this.size = size;
    }

    @Override
    public int size() {
        return n;
    }

    @Override
    public RgbImage image(int index) {
        SplittableRandom r = new SplittableRandom(index);
        int cls = label(index);
        float[] chw = new float[3 * size * size];
        double cx = size * (0.3 + 0.4 * (cls % 5) / 4.0);
        double cy = size * (cls < 5 ? 0.35 : 0.65);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    double d = Math.hypot(x - cx, y - cy) / size;
                    double v = 0.2 + 0.7 * Math.exp(-d * d * 30) * (c == cls % 3 ? 1 : 0.5) + 0.05 * r.nextDouble();
                    chw[(c * size + y) * size + x] = (float) Math.min(1, Math.max(0, v));
                }
            }
        }
        return new RgbImage(size, size, chw);
    }

    @Override
    public int label(int index) {
        return index % 10;
    }

    @Override
    public int numClasses() {
        return 10;
    }

    @Override
    public String describe() {
        return "test blobs (" + n + " images " + size + "x" + size + ")";
    }
}
