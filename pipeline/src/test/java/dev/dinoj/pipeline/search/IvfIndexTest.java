package dev.dinoj.pipeline.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class IvfIndexTest {
    @Test
    void shouldApproachExactRecallAsMoreListsAreProbed() {
        FloatMatrix base = FloatMatrix.clustered(20_000, 32, 200, 0.08, 1);
        FloatMatrix queries = base.slice(0, 300);
        Neighbors exact;
        try (FlatIndex flat = new FlatIndex(base)) {
            exact = flat.search(queries, 10);
        }
        try (IvfIndex ivf = IvfIndex.build(base, 7)) {
            assertEquals(IvfIndex.defaultLists(20_000), ivf.lists());
            double low = ivf.search(queries, 10, 2).recallAgainst(exact, 10);
            double mid = ivf.search(queries, 10, 8).recallAgainst(exact, 10);
            double all = ivf.search(queries, 10, ivf.lists()).recallAgainst(exact, 10);
            assertTrue(low <= mid + 1e-9, low + " > " + mid);
            assertTrue(mid >= 0.9, "recall@10 with 8 of " + ivf.lists() + " lists: " + mid);
            assertEquals(1.0, all, 1e-9, "probing every list is exact search");
        }
    }

    @Test
    void longListsTakeTheirTopKNativelyAndShortOnesInJavaWithTheSameResult() {
        FloatMatrix base = FloatMatrix.clustered(6_000, 24, 30, 0.1, 4);
        FloatMatrix queries = base.slice(0, 200);
        Neighbors exact;
        try (FlatIndex flat = new FlatIndex(base)) {
            exact = flat.search(queries, 10, true, null);
        }
        // 4 lists of about 1 500 rows (over NATIVE_TOP_K_FROM) and 60 lists of about 100 (under it)
        for (int lists : new int[] {4, 60}) {
            try (IvfIndex ivf = IvfIndex.build(base, lists, 6_000, 5, 5)) {
                assertEquals(lists, ivf.lists());
                Neighbors all = ivf.search(queries, 10, lists, true, null);
                assertEquals(1.0, all.recallAgainst(exact, 10), 1e-9, lists + " lists probed: exact search");
                for (int q = 0; q < queries.rows(); q++) {
                    for (int r = 0; r < 10; r++) {
                        assertEquals(exact.score(q, r), all.score(q, r), 1e-5f, lists + " lists, query " + q);
                    }
                }
            }
        }
    }

    @Test
    void shouldExcludeSelfLikeTheFlatIndex() {
        FloatMatrix base = FloatMatrix.clustered(2_000, 16, 20, 0.1, 2);
        try (IvfIndex ivf = IvfIndex.build(base, 3);
                FlatIndex flat = new FlatIndex(base)) {
            Neighbors a = ivf.search(base, 5, ivf.lists(), true, null);
            Neighbors e = flat.search(base, 5, true, null);
            assertEquals(1.0, a.recallAgainst(e, 5), 1e-9);
            for (int q = 0; q < base.rows(); q++) {
                for (int r = 0; r < 5; r++) {
                    assertTrue(a.id(q, r) != q);
                }
            }
        }
    }
}
