package dev.dinoj.pipeline.curate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.search.FloatMatrix;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CopyDetectorTest {
    @Test
    void shouldGroupCopiesIntoComponentsKeepingTheSmallestIndex() {
        FloatMatrix base = FloatMatrix.clustered(1000, 32, 50, 0.3, 1);
        // rows 1000.. are noisy copies: of 10, of 10 again (a chain of three), of 500
        int d = 32;
        int[] src = {10, 10, 500};
        float[] data = new float[(1000 + src.length) * d];
        System.arraycopy(base.data(), 0, data, 0, base.data().length);
        SplittableRandom rnd = new SplittableRandom(3);
        for (int i = 0; i < src.length; i++) {
            for (int j = 0; j < d; j++) {
                data[(1000 + i) * d + j] = base.data()[src[i] * d + j] + (float) (0.01 * rnd.nextGaussian());
            }
        }
        FloatMatrix x = new FloatMatrix(1000 + src.length, d, data).normalizedRows();
        for (int approximateAbove : new int[] {0, 100}) {
            CopyDetector.Result r =
                    CopyDetector.detect(x, new CopyDetector.Settings(8, 0.97f, approximateAbove, 64), null);
            assertEquals(10, r.representative()[1000]);
            assertEquals(10, r.representative()[1001]);
            assertEquals(500, r.representative()[1002]);
            assertEquals(3, r.duplicates(), "only the planted copies: " + r.duplicates());
            assertEquals(2, r.components());
            assertTrue(r.isKept(10) && r.isKept(500) && !r.isKept(1001));
            assertTrue(r.similarity()[1002] >= 0.97f);
        }
    }
}
