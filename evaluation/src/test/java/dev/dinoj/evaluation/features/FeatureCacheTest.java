package dev.dinoj.evaluation.features;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.evaluation.knn.FeatureSet;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeatureCacheTest {

    private static FeatureSet sample(float base) {
        return FeatureSet.of(new float[][] {{base, 1, 2}, {3, 4, base}}, new int[] {0, 7});
    }

    @Test
    void shouldComputeOnceThenReadTheSameFeaturesBack(@TempDir Path tmp) {
        FeatureCache cache = FeatureCache.in(tmp.resolve("c"));
        AtomicInteger computed = new AtomicInteger();
        FeatureSet a = cache.getOrCompute("model|data|n=2|kind=cls", () -> {
            computed.incrementAndGet();
            return sample(0.5f);
        });
        FeatureSet b = cache.getOrCompute("model|data|n=2|kind=cls", () -> {
            computed.incrementAndGet();
            return sample(9f);
        });
        assertEquals(1, computed.get());
        assertEquals(1, cache.hits());
        assertEquals(1, cache.misses());
        assertArrayEquals(a.data(), b.data());
        assertArrayEquals(a.labels(), b.labels());
        assertEquals(3, b.dim());
        // a fresh cache object on the same directory (a later run) reads it too
        FeatureSet c = FeatureCache.in(tmp.resolve("c")).getOrCompute("model|data|n=2|kind=cls", () -> sample(9f));
        assertArrayEquals(a.data(), c.data());
    }

    @Test
    void shouldKeepDifferentKeysApart(@TempDir Path tmp) {
        FeatureCache cache = FeatureCache.in(tmp);
        cache.getOrCompute("k1", () -> sample(1f));
        FeatureSet two = cache.getOrCompute("k2", () -> sample(2f));
        assertEquals(2f, two.data()[0]);
        assertNotEquals(cache.file("k1"), cache.file("k2"));
        assertEquals(2, cache.misses());
    }

    @Test
    void shouldRecomputeATruncatedOrForeignFile(@TempDir Path tmp) throws Exception {
        FeatureCache cache = FeatureCache.in(tmp);
        cache.getOrCompute("key", () -> sample(1f));
        Path f = cache.file("key");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(raf.length() - 3);
        }
        FeatureSet again = cache.getOrCompute("key", () -> sample(5f));
        assertEquals(5f, again.data()[0], "a truncated entry is recomputed");
        // a file whose stored key differs (e.g. a hash collision) is not used
        Files.copy(cache.file("key"), cache.file("other"));
        FeatureSet other = cache.getOrCompute("other", () -> sample(6f));
        assertEquals(6f, other.data()[0]);
        assertEquals(0, cache.hits());
        try (var s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".tmp-")), "no temporary files left");
        }
    }

    @Test
    void noneShouldAlwaysCompute() {
        FeatureCache none = FeatureCache.none();
        AtomicInteger n = new AtomicInteger();
        none.getOrCompute("k", () -> {
            n.incrementAndGet();
            return sample(1f);
        });
        none.getOrCompute("k", () -> {
            n.incrementAndGet();
            return sample(1f);
        });
        assertEquals(2, n.get());
    }
}
