package dev.dinoj.evaluation;

import dev.dinoj.evaluation.features.EvalDataset;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.model.VitConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Shared test data: Fashion-MNIST (loaded once per JVM; tests skip without it) and tiny architectures. */
public final class EvalTestData {

    public static final Path FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");
    private static EvalDataset train;
    private static EvalDataset test;

    private EvalTestData() {
    }

    public static boolean haveFashionMnist() {
        return Files.isRegularFile(FASHION_MNIST.resolve("train-images-idx3-ubyte.gz"))
                || Files.isRegularFile(FASHION_MNIST.resolve("train-images-idx3-ubyte"));
    }

    public static synchronized EvalDataset train() {
        assumeTrue(haveFashionMnist(), "Fashion-MNIST not installed in " + FASHION_MNIST);
        if (train == null) {
            train = EvalDataset.fashionMnist(FASHION_MNIST, true);
        }
        return train;
    }

    public static synchronized EvalDataset test() {
        assumeTrue(haveFashionMnist(), "Fashion-MNIST not installed in " + FASHION_MNIST);
        if (test == null) {
            test = EvalDataset.fashionMnist(FASHION_MNIST, false);
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
