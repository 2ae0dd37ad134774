package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.search.FlatIndex;
import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.pipeline.search.IvfIndex;
import dev.dinoj.pipeline.search.Neighbors;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Copy detection on embeddings (the DINOv2 paper's deduplication): a k-NN graph of the pool, an edge wherever the
 * cosine similarity reaches {@code threshold}, connected components by union-find, and one representative per
 * component — the member with the smallest index, so a pool sorted by key keeps the smallest key whatever the
 * processing order.
 */
public final class CopyDetector {
    private CopyDetector() {}

    /**
     * @param k                neighbours per point in the graph
     * @param threshold        cosine similarity at or above which two images are copies
     * @param approximateAbove pools larger than this use {@link IvfIndex} for the graph (0 = always exact)
     * @param nprobe           lists probed by the approximate index
     */
    public record Settings(int k, float threshold, int approximateAbove, int nprobe) {
        public Settings {
            if (k < 1 || threshold <= -1 || threshold > 1 || nprobe < 1) {
                throw new IllegalArgumentException("bad copy-detection settings: k " + k + ", threshold " + threshold);
            }
        }
    }

    /**
     * Components of the copy graph.
     *
     * @param representative for each point, the smallest index of its component (itself when kept)
     * @param similarity     for each duplicate, its best similarity to a neighbour in the component; 1 for kept points
     * @param edges          edges at or above the threshold
     * @param duplicates     points that are not their component's representative
     * @param components     components with more than one point
     */
    public record Result(int[] representative, float[] similarity, long edges, int duplicates, int components) {
        public boolean isKept(int i) {
            return representative[i] == i;
        }
    }

    /** Finds the copies among the unit rows of {@code x}. */
    public static Result detect(FloatMatrix x, Settings s, IntConsumer progress) {
        int n = x.rows();
        if (n == 0) {
            return new Result(new int[0], new float[0], 0, 0, 0);
        }
        int k = Math.min(s.k(), Math.max(1, n - 1));
        Neighbors nn;
        if (s.approximateAbove() > 0 && n > s.approximateAbove()) {
            try (IvfIndex ivf = IvfIndex.build(x, 17)) {
                nn = ivf.search(x, k, s.nprobe(), true, progress);
            }
        } else {
            try (FlatIndex flat = new FlatIndex(x)) {
                nn = flat.search(x, k, true, progress);
            }
        }
        return components(nn, n, s.threshold());
    }

    /** Union-find over the neighbour lists' edges at or above {@code threshold}. */
    static Result components(Neighbors nn, int n, float threshold) {
        List<int[]> edges = new ArrayList<>();
        List<Float> sims = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < nn.k(); r++) {
                int j = nn.id(i, r);
                float sim = nn.score(i, r);
                if (j < 0 || sim < threshold) {
                    break;
                }
                edges.add(new int[] {i, j});
                sims.add(sim);
            }
        }
        float[] s = new float[sims.size()];
        for (int e = 0; e < s.length; e++) {
            s[e] = sims.get(e);
        }
        return components(
                n,
                edges.stream().mapToInt(e -> e[0]).toArray(),
                edges.stream().mapToInt(e -> e[1]).toArray(),
                s);
    }

    /**
     * Union-find over the edges {@code (a[e], b[e])} of similarity {@code sim[e]}: each component's smallest index is
     * its representative; a duplicate's similarity is its best edge's.
     */
    static Result components(int n, int[] a, int[] b, float[] sim) {
        int[] parent = new int[n];
        for (int i = 0; i < n; i++) {
            parent[i] = i;
        }
        float[] best = new float[n];
        for (int e = 0; e < a.length; e++) {
            best[a[e]] = Math.max(best[a[e]], sim[e]);
            best[b[e]] = Math.max(best[b[e]], sim[e]);
            union(parent, a[e], b[e]);
        }
        long edges = a.length;
        int[] rep = new int[n];
        int[] size = new int[n];
        for (int i = 0; i < n; i++) {
            rep[i] = find(parent, i);
            size[rep[i]]++;
        }
        int dups = 0;
        int comps = 0;
        float[] similarity = new float[n];
        for (int i = 0; i < n; i++) {
            if (rep[i] != i) {
                dups++;
                similarity[i] = best[i];
            } else {
                similarity[i] = 1f;
                if (size[i] > 1) {
                    comps++;
                }
            }
        }
        return new Result(rep, similarity, edges, dups, comps);
    }

    /** Root = smallest index of the set (union by min keeps it so). */
    private static int find(int[] parent, int i) {
        int r = i;
        while (parent[r] != r) {
            r = parent[r];
        }
        while (parent[i] != r) {
            int next = parent[i];
            parent[i] = r;
            i = next;
        }
        return r;
    }

    private static void union(int[] parent, int a, int b) {
        int ra = find(parent, a);
        int rb = find(parent, b);
        if (ra == rb) {
            return;
        }
        if (ra < rb) {
            parent[rb] = ra;
        } else {
            parent[ra] = rb;
        }
    }
}
