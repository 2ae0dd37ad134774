package dev.dinoj.evaluation.features;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.dinoj.evaluation.EvalTestData;
import dev.dinoj.pipeline.data.DatasetException;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.RgbImage;
import org.junit.jupiter.api.Test;

class EvalImagesTest {

    /** {@code ds} whose images at {@code failing} throw a DatasetException naming their index. */
    private static ImageDataset failingAt(ImageDataset ds, int... failing) {
        return new ImageDataset() {
            @Override
            public int size() {
                return ds.size();
            }

            @Override
            public RgbImage image(int index) {
                for (int f : failing) {
                    if (f == index) {
                        throw new DatasetException("image " + index + ": cannot be decoded");
                    }
                }
                return ds.image(index);
            }

            @Override
            public int label(int index) {
                return ds.label(index);
            }

            @Override
            public int numClasses() {
                return ds.numClasses();
            }

            @Override
            public String describe() {
                return "failing";
            }
        };
    }

    @Test
    void batchShouldNormaliseEveryImageInItsPlaceWhateverThreadReadsIt() {
        ImageDataset ds = EvalTestData.synthetic(40, 8, 3);
        int[] labels = new int[40];
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = EvalImages.batch(ds, 5, 30, 8, m, labels);
            assertArrayEquals(new long[] {30, 3, 8, 8}, x.getShape().getShape());
            float[] got = x.toFloatArray();
            for (int i = 0; i < 30; i++) {
                float[] chw = ds.image(5 + i).chw();
                for (int c = 0; c < 3; c++) {
                    for (int p = 0; p < 64; p++) {
                        float want = (chw[c * 64 + p] - EvalImages.MEAN[c]) / EvalImages.STD[c];
                        assertEquals(want, got[(i * 3 + c) * 64 + p], "image " + i + " channel " + c + " pixel " + p);
                    }
                }
                assertEquals(ds.label(5 + i), labels[5 + i]);
            }
        }
    }

    @Test
    void batchShouldRethrowTheFailureOfTheLowestIndexAsItWas() {
        ImageDataset ds = failingAt(EvalTestData.synthetic(20, 8, 2), 13, 7, 11);
        try (NDManager m = NDManager.newBaseManager()) {
            for (int run = 0; run < 5; run++) {
                DatasetException e =
                        assertThrows(DatasetException.class, () -> EvalImages.batch(ds, 0, 20, 8, m, null));
                assertEquals("image 7: cannot be decoded", e.getMessage());
            }
        }
    }
}
