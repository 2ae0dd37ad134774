package dev.dinoj.pipeline.curate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.search.FloatMatrix;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class HierarchicalKMeansTest {
    @Test
    void shouldBuildConsistentLevelsWithResampling() {
        FloatMatrix x = FloatMatrix.clustered(3000, 16, 40, 0.2, 1);
        HierarchicalKMeans.Hierarchy h = HierarchicalKMeans.fit(
                x,
                new HierarchicalKMeans.Settings(new int[] {60, 8}, 10, 3, null, HierarchicalKMeans.Strategy.CLOSEST, 1),
                null);
        assertEquals(2, h.depth());
        assertEquals(60, h.level(1).centroids().rows());
        assertEquals(8, h.level(2).centroids().rows());
        assertEquals(3000, h.level(1).assignment().length);
        assertEquals(60, h.level(2).assignment().length);
        assertEquals(3000, Arrays.stream(h.flatSizes(2)).sum());
        assertEquals(3000, Arrays.stream(h.flatSizes(1)).sum());
        for (int p = 0; p < 3000; p += 97) {
            int[] path = h.path(p);
            assertEquals(h.level(1).assignment()[p], path[1]);
            assertEquals(h.level(2).assignment()[path[1]], path[0]);
            final int point = p;
            assertTrue(Arrays.stream(h.level(1).clusters()[path[1]]).anyMatch(m -> m == point));
        }
        HierarchicalKMeans.Settings auto =
                HierarchicalKMeans.Settings.auto(3000, 5, 2, HierarchicalKMeans.Strategy.CLOSEST, 0);
        assertEquals(2, auto.clusters().length, "3000 points: " + Arrays.toString(auto.clusters()));
        assertEquals(110, auto.clusters()[0]);
    }
}
