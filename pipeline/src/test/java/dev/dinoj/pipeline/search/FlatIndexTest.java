package dev.dinoj.pipeline.search;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class FlatIndexTest {
    /** Brute-force top-k ids of query q. */
    static int[] bruteForce(FloatMatrix base, FloatMatrix queries, int q, int k, boolean excludeSelf) {
        return IntStream.range(0, base.rows())
                .boxed()
                .filter(i -> !excludeSelf || i != q)
                .sorted(Comparator.comparingDouble((Integer i) -> -queries.dot(q, base, i))
                        .thenComparingInt(i -> i))
                .limit(k)
                .mapToInt(Integer::intValue)
                .toArray();
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void shouldFindTheExactNeighboursWhateverTheBlocking(Precision p) {
        FloatMatrix base = FloatMatrix.clustered(700, 24, 10, 0.3, 1);
        FloatMatrix queries = FloatMatrix.clustered(50, 24, 10, 0.3, 2);
        try (FlatIndex big = new FlatIndex(base, FlatIndex.DEFAULT_BLOCK_BYTES, p);
                FlatIndex tiny = new FlatIndex(base, 4 * 704 * 3, p)) {
            Neighbors a = big.search(queries, 5);
            Neighbors b = tiny.search(queries, 5); // 3 (float32) or 6 (bfloat16) queries per block
            for (int q = 0; q < queries.rows(); q++) {
                int[] want = bruteForce(base, queries, q, 5, false);
                int[] got = Arrays.copyOfRange(a.ids(), q * 5, q * 5 + 5);
                assertArrayEquals(want, got, "query " + q);
                assertArrayEquals(got, Arrays.copyOfRange(b.ids(), q * 5, q * 5 + 5));
                assertEquals(queries.dot(q, base, got[0]), a.score(q, 0), 1e-5);
                assertTrue(a.score(q, 0) >= a.score(q, 4));
            }
            assertEquals(1.0, b.recallAgainst(a, 5), 1e-12);
        }
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void shouldExcludeTheQueryItselfInSelfSearch(Precision p) {
        FloatMatrix base = FloatMatrix.clustered(300, 16, 5, 0.2, 3);
        try (FlatIndex idx = new FlatIndex(base, FlatIndex.DEFAULT_BLOCK_BYTES, p)) {
            Neighbors self = idx.search(base, 1, false, null);
            Neighbors others = idx.search(base, 3, true, null);
            for (int q = 0; q < base.rows(); q++) {
                assertEquals(q, self.id(q, 0), "a unit vector is its own nearest neighbour");
                assertArrayEquals(
                        bruteForce(base, base, q, 3, true), Arrays.copyOfRange(others.ids(), q * 3, q * 3 + 3));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void shouldPadWithMinusOneWhenTheBaseIsSmallerThanK(Precision p) {
        FloatMatrix base = FloatMatrix.clustered(3, 8, 2, 0.2, 4);
        try (FlatIndex idx = new FlatIndex(base, FlatIndex.DEFAULT_BLOCK_BYTES, p)) {
            Neighbors n = idx.search(base, 5);
            assertEquals(-1, n.id(0, 3));
            assertEquals(Float.NEGATIVE_INFINITY, n.score(0, 4));
        }
    }
}
