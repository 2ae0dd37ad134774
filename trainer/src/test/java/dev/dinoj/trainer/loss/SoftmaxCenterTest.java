package dev.dinoj.trainer.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** The lazily applied EMA center of dinov2's DINO/iBOT losses ({@code softmax_center_teacher}). */
class SoftmaxCenterTest {

    private static final float[] T1 = {1f, 2f, 3f, -1f, 0f, 5f}; // (2, 3): mean [0, 1, 4]
    private static final float[] T2 = {0.5f, -0.5f, 2f, 1.5f, 0.5f, 0f, 1f, 3f, -2f}; // (3, 3): mean [1, 1, 0]

    private static double[] softmaxRow(double[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v);
        }
        double s = 0;
        double[] e = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            e[i] = Math.exp(z[i] - max);
            s += e[i];
        }
        for (int i = 0; i < z.length; i++) {
            e[i] /= s;
        }
        return e;
    }

    @Test
    void updateIsAppliedOnlyAtTheNextSoftmax() {
        try (NDManager m = NDManager.newBaseManager();
                SoftmaxCenter c = new SoftmaxCenter(m, 3, 0.9)) {
            assertArrayEquals(new float[] {0, 0, 0}, c.centerHost());
            c.update(m.create(T1, new Shape(2, 3)), GlobalSum.LOCAL);
            c.commit();
            assertArrayEquals(new float[] {0, 0, 0}, c.centerHost(), "center unchanged until the next step");
            assertArrayEquals(new float[] {0f, 2f, 8f}, c.pendingHost(), "pending holds the row sum");
            assertEquals(2.0, c.pendingCount());

            float tau = 0.5f;
            NDArray out = c.softmaxCentered(m.create(T2, new Shape(3, 3)), tau);
            // center = 0.9·0 + 0.1·mean(T1) = [0, 0.1, 0.4]
            double[] center = {0, 0.1, 0.4};
            assertArrayEquals(new float[] {0f, 0.1f, 0.4f}, c.centerHost(), 1e-7f);
            assertNull(c.pendingHost(), "pending consumed");
            float[] got = out.toFloatArray();
            for (int r = 0; r < 3; r++) {
                double[] z = new double[3];
                for (int k = 0; k < 3; k++) {
                    z[k] = (T2[r * 3 + k] - center[k]) / tau;
                }
                double[] want = softmaxRow(z);
                double sum = 0;
                for (int k = 0; k < 3; k++) {
                    assertEquals(want[k], got[r * 3 + k], 1e-6, "row " + r + " col " + k);
                    sum += got[r * 3 + k];
                }
                assertEquals(1.0, sum, 1e-6, "softmax rows sum to 1");
            }

            // a second update + applyPending: c = 0.9·[0, .1, .4] + 0.1·mean(T2)=[1, 1, 0] → [0.1, 0.19, 0.36]
            c.update(m.create(T2, new Shape(3, 3)), GlobalSum.LOCAL);
            c.commit();
            assertArrayEquals(new float[] {0f, 0.1f, 0.4f}, c.centerHost(), 1e-7f);
            c.applyPending();
            assertArrayEquals(new float[] {0.1f, 0.19f, 0.36f}, c.centerHost(), 1e-6f);
            c.applyPending(); // no-op without pending statistics
            assertArrayEquals(new float[] {0.1f, 0.19f, 0.36f}, c.centerHost(), 1e-6f);
        }
    }

    @Test
    void onlyTheLastUpdateBeforeAStepCounts() {
        // dinov2 overwrites async_batch_center on every update_center call
        try (NDManager m = NDManager.newBaseManager();
                SoftmaxCenter c = new SoftmaxCenter(m, 3, 0.9)) {
            c.update(m.create(T1, new Shape(2, 3)), GlobalSum.LOCAL);
            c.commit();
            c.update(m.create(T2, new Shape(3, 3)), GlobalSum.LOCAL);
            c.commit();
            c.applyPending();
            assertArrayEquals(new float[] {0.1f, 0.1f, 0f}, c.centerHost(), 1e-7f);
        }
    }

    @Test
    void globalSumAggregatesRowsAndCounts() {
        // two ranks holding identical data: the global mean is the local mean
        GlobalSum twoRanks = new GlobalSum() {
            @Override
            public NDArray sum(NDArray local) {
                return local.mul(2);
            }

            @Override
            public double sum(double local) {
                return 2 * local;
            }
        };
        try (NDManager m = NDManager.newBaseManager();
                SoftmaxCenter c = new SoftmaxCenter(m, 3, 0.9)) {
            c.update(m.create(T1, new Shape(2, 3)), twoRanks);
            c.commit();
            c.applyPending();
            assertArrayEquals(new float[] {0f, 0.1f, 0.4f}, c.centerHost(), 1e-7f);
        }
    }

    @Test
    void restoreRoundTripKeepsCenterAndPendingStatistics() {
        try (NDManager m = NDManager.newBaseManager();
                SoftmaxCenter a = new SoftmaxCenter(m, 3, 0.9);
                SoftmaxCenter b = new SoftmaxCenter(m, 3, 0.9)) {
            a.update(m.create(T1, new Shape(2, 3)), GlobalSum.LOCAL);
            a.commit();
            a.applyPending();
            a.update(m.create(T2, new Shape(3, 3)), GlobalSum.LOCAL); // pending at "checkpoint" time
            a.commit();

            float[] center = a.centerHost();
            float[] pending = a.pendingHost();
            assertNotNull(pending);
            b.restore(center, pending, a.pendingCount());
            assertArrayEquals(center, b.centerHost());
            assertArrayEquals(pending, b.pendingHost());
            assertEquals(a.pendingCount(), b.pendingCount());

            NDArray x = m.create(T1, new Shape(2, 3));
            assertArrayEquals(
                    a.softmaxCentered(x, 0.07).toFloatArray(),
                    b.softmaxCentered(x, 0.07).toFloatArray());
            assertArrayEquals(a.centerHost(), b.centerHost());

            // restoring "no pending" clears what was pending
            b.update(m.create(T2, new Shape(3, 3)), GlobalSum.LOCAL);
            b.commit();
            b.restore(center, null, 0);
            assertNull(b.pendingHost());
            b.applyPending();
            assertArrayEquals(center, b.centerHost());
        }
    }
}
