package dev.dinoj.evaluation;

import dev.dinoj.evaluation.features.EvalDataset;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.testkit.FashionMnist;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.model.VitConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Shared test data: Fashion-MNIST (found by {@link FashionMnist}, loaded once per JVM; tests skip without it) and tiny
 * architectures.
 */
public final class EvalTestData {

    private static EvalDataset train;
    private static EvalDataset test;

    private EvalTestData() {}

    public static synchronized EvalDataset train() {
        Path dir = FashionMnist.assumeInstalled();
        if (train == null) {
            train = EvalDataset.fashionMnist(dir, true);
        }
        return train;
    }

    public static synchronized EvalDataset test() {
        Path dir = FashionMnist.assumeInstalled();
        if (test == null) {
            test = EvalDataset.fashionMnist(dir, false);
        }
        return test;
    }

    /** ViT 64x2, patch 4, 16 px (the fmnist-pico preset). */
    public static VitConfig pico() {
        return TrainSettings.load("fmnist-pico", List.of()).ssl().backbone();
    }

    /** A small synthetic labelled dataset of {@code size}-px images (class = index % classes). */
    public static ImageDataset synthetic(int n, int size, int classes) {
        return new ImageDataset() {
            @Override
            public int size() {
                return n;
            }

            @Override
            public RgbImage image(int index) {
                SplittableRandom r = new SplittableRandom(index * 31L + 7);
                int cls = label(index);
                float[] chw = new float[3 * size * size];
                for (int c = 0; c < 3; c++) {
                    for (int y = 0; y < size; y++) {
                        for (int x = 0; x < size; x++) {
                            double v = 0.5 + 0.4 * Math.sin((x + 2 * y) * (cls + 1) * 0.3 + c) + 0.05 * r.nextDouble();
                            chw[(c * size + y) * size + x] = (float) Math.min(1, Math.max(0, v));
                        }
                    }
                }
                return new RgbImage(size, size, chw);
            }

            @Override
            public int label(int index) {
                return index % classes;
            }

            @Override
            public int numClasses() {
                return classes;
            }

            @Override
            public String describe() {
                return "synthetic " + n + " x " + size + "px";
            }
        };
    }
}
