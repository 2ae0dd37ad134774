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
