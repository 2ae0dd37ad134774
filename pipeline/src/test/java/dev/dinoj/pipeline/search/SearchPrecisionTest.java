package dev.dinoj.pipeline.search;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The bfloat16 kernels (candidates in bfloat16, scores in float32) against the float32 computation. */
class SearchPrecisionTest {

    /** Exact squared L2 distance in double. */
    static double dist(FloatMatrix x, int i, FloatMatrix c, int j) {
        double d = 0;
        for (int t = 0; t < x.cols(); t++) {
            double diff = x.data()[i * x.cols() + t] - c.data()[j * c.cols() + t];
            d += diff * diff;
        }
        return d;
    }

    /** Brute-force top-k ids of query row q (scores computed once, ties by id). */
    static int[] topK(FloatMatrix base, FloatMatrix queries, int q, int k, boolean excludeSelf) {
        double[] score = new double[base.rows()];
        for (int i = 0; i < base.rows(); i++) {
            score[i] = queries.dot(q, base, i);
        }
        int[] out = new int[k];
        boolean[] taken = new boolean[base.rows()];
        for (int r = 0; r < k; r++) {
            int best = -1;
            for (int i = 0; i < base.rows(); i++) {
                if (!taken[i] && !(excludeSelf && i == q) && (best < 0 || score[i] > score[best])) {
                    best = i;
                }
            }
            taken[best] = true;
            out[r] = best;
        }
        return out;
    }

    @Test
    void bfloat16SearchReturnsTheFloat32NeighboursWithFloat32ScoresOverSeveralColumnBlocks() {
        // 70 000 rows: three column blocks (2 × 32 768 + 4 464 rows, the last padded to 4 480 with -inf columns)
        FloatMatrix base = FloatMatrix.clustered(70_000, 32, 64, 0.3, 11);
        int[] pick = KMeans.sampleWithoutReplacement(base.rows(), 200, new java.util.SplittableRandom(3));
        FloatMatrix queries = base.select(pick);
        Neighbors exact;
        Neighbors low;
        Neighbors lowOthers;
        try (FlatIndex f32 = new FlatIndex(base, FlatIndex.DEFAULT_BLOCK_BYTES, Precision.FLOAT32);
                FlatIndex bf16 = new FlatIndex(base, 1L << 20, Precision.BFLOAT16)) { // 8 queries per block
            exact = f32.search(queries, 10);
            low = bf16.search(queries, 10);
            lowOthers = bf16.search(base.slice(0, 50), 4, true, null);
        }
        // the float32 path is the brute force (checked on some queries)
        for (int q = 0; q < 20; q++) {
            assertArrayEquals(
                    topK(base, queries, q, 10, false),
                    Arrays.copyOfRange(exact.ids(), q * 10, q * 10 + 10),
                    "float32 query " + q);
        }
        int same = 0;
        for (int q = 0; q < queries.rows(); q++) {
            assertEquals(pick[q], low.id(q, 0), "a row is its own nearest neighbour");
            for (int r = 0; r < 10; r++) {
                int id = low.id(q, r);
                // float32 scores of the returned ids, in descending order
                assertEquals(queries.dot(q, base, id), low.score(q, r), 2e-5, "query " + q + " rank " + r);
                if (r > 0) {
                    assertTrue(low.score(q, r - 1) >= low.score(q, r));
                }
                same += id == exact.id(q, r) ? 1 : 0;
                // a different id at a rank is a float32 near-tie
                assertEquals(exact.score(q, r), low.score(q, r), 1e-5, "query " + q + " rank " + r);
            }
        }
        assertTrue(same >= 0.99 * queries.rows() * 10, same + " of " + queries.rows() * 10 + " ranks agree");
        assertEquals(1.0, low.recallAgainst(exact, 10), 2e-3);
        for (int q = 0; q < 50; q++) {
            assertArrayEquals(
                    topK(base, base, q, 4, true),
                    Arrays.copyOfRange(lowOthers.ids(), q * 4, q * 4 + 4),
                    "self-excluding query " + q);
        }
    }

    @Test
    void bfloat16AssignmentIsTheFloat32OneExceptAtNearTies() {
        // more clusters than blobs: neighbouring centroids split blobs, so many rows sit near a boundary
        FloatMatrix x = FloatMatrix.clustered(20_000, 64, 150, 0.08, 21);
        FloatMatrix c = KMeans.randomRows(x, 512, new java.util.SplittableRandom(5));
        KMeans.Assignment a32 = KMeans.assign(x, c, 16L << 20, Precision.FLOAT32);
        KMeans.Assignment a16 = KMeans.assign(x, c, 16L << 20, Precision.BFLOAT16);
        int differ = 0;
        for (int i = 0; i < x.rows(); i++) {
            double best = dist(x, i, c, a32.assignment()[i]);
            assertEquals(best, a16.distances()[i], 1e-4, "row " + i);
            if (a16.assignment()[i] != a32.assignment()[i]) {
                differ++;
                assertEquals(best, dist(x, i, c, a16.assignment()[i]), 1e-5, "row " + i + " is not a near-tie");
            }
        }
        assertTrue(differ <= x.rows() / 1000, differ + " rows assigned differently");
    }

    @Test
    void bfloat16KMeansMatchesFloat32KMeansForTheSameSeed() {
        FloatMatrix x = FloatMatrix.clustered(8_000, 32, 60, 0.08, 31);
        KMeans.Settings s = KMeans.Settings.of(96, 6, 7).withInit(KMeans.Init.RANDOM);
        KMeans.Result r32 = KMeans.fit(x, s.withPrecision(Precision.FLOAT32));
        KMeans.Result r16 = KMeans.fit(x, s.withPrecision(Precision.BFLOAT16));
        KMeans.Result again = KMeans.fit(x, s.withPrecision(Precision.BFLOAT16));
        assertArrayEquals(r16.assignment(), again.assignment(), "same seed, same clustering");
        assertEquals(r32.inertia(), r16.inertia(), 1e-3 * r32.inertia());
        int same = 0;
        for (int i = 0; i < x.rows(); i++) {
            same += r32.assignment()[i] == r16.assignment()[i] ? 1 : 0;
        }
        assertTrue(same >= 0.99 * x.rows(), same + " of " + x.rows() + " rows in the same cluster");
    }

    @Test
    void selectionGroupsLeaveEnoughGroupsPerRow() {
        assertEquals(64, FlatIndex.group(16_384, 28));
        assertEquals(32, FlatIndex.group(4_480, 28)); // 4480 / 64 = 70 groups < 4 · 28
        assertEquals(16, FlatIndex.group(1024, 3));
        assertEquals(1, FlatIndex.group(100, 10));
        assertEquals(8, FlatIndex.group(1000, 3)); // 1000 / 16 is not whole
    }

    @Test
    void precisionParsesItsNames() {
        assertEquals(Precision.FLOAT32, Precision.parse("float32"));
        assertEquals(Precision.BFLOAT16, Precision.parse("BF16"));
        assertEquals(Precision.hardware(), Precision.parse("auto"));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> Precision.parse("fp8"));
        assertTrue(e.getMessage().contains("fp8"));
    }
}
