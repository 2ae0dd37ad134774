package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.search.KMeans;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Balanced hierarchical sampling to a target size (ssl-data-curation {@code hierarchical_sampling}, multiplier 1):
 * the target is split over the top-level clusters as evenly as their sizes allow — every cluster gets
 * {@code min(size, t)} for the largest cut {@code t} that fits, the remainder going one each to randomly chosen
 * clusters above the cut — and each cluster's share is split over its sub-clusters the same way, down to level 1,
 * where a cluster's share is drawn from its points (randomly, or the closest to the centroid).
 *
 * <p>Rare concepts (small clusters) keep all their points; frequent ones (large clusters) are cut down.
 */
public final class BalancedSampler {
    private BalancedSampler() {}

    /** How level-1 clusters give up their share of points. */
    public enum Pick {
        /** Uniformly at random ("r"). */
        RANDOM,
        /** The points closest to the centroid ("c"). */
        CLOSEST
    }

    /**
     * Samples {@code target} distinct points (all of them when there are fewer).
     *
     * @return point ids, ascending
     */
    public static int[] sample(HierarchicalKMeans.Hierarchy h, int target, Pick pick, long seed) {
        if (target < 0) {
            throw new IllegalArgumentException("target size must be >= 0: " + target);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        int top = h.depth();
        int[] sizes = h.flatSizes(top);
        int[] shares = subclusterTargets(sizes, target, rnd);
        List<Integer> out = new ArrayList<>(Math.min(target, h.points()));
        for (int c = 0; c < sizes.length; c++) {
            recurse(h, top, c, shares[c], pick, rnd, out);
        }
        int[] ids = out.stream().mapToInt(Integer::intValue).toArray();
        Arrays.sort(ids);
        return ids;
    }

    private static void recurse(
            HierarchicalKMeans.Hierarchy h,
            int level,
            int cluster,
            int share,
            Pick pick,
            SplittableRandom rnd,
            List<Integer> out) {
        if (share <= 0) {
            return;
        }
        int[] members = h.level(level).clusters()[cluster];
        if (level == 1) {
            if (members.length <= share) {
                for (int p : members) {
                    out.add(p);
                }
            } else if (pick == Pick.CLOSEST) {
                for (int i = 0; i < share; i++) {
                    out.add(members[i]);
                }
            } else {
                for (int i : KMeans.sampleWithoutReplacement(members.length, share, rnd)) {
                    out.add(members[i]);
                }
            }
            return;
        }
        int[] below = h.flatSizes(level - 1);
        int[] subSizes = new int[members.length];
        for (int i = 0; i < members.length; i++) {
            subSizes[i] = below[members[i]];
        }
        int[] subShares = subclusterTargets(subSizes, share, rnd);
        for (int i = 0; i < members.length; i++) {
            recurse(h, level - 1, members[i], subShares[i], pick, rnd, out);
        }
    }

    /**
     * Splits {@code target} over clusters of {@code sizes}: {@code min(size, cut)} each for the best cut, the
     * remainder as +1 for randomly chosen clusters larger than the cut ({@code find_subcluster_target_size}). When the
     * sizes sum to at most {@code target}, every cluster gets its size.
     */
    static int[] subclusterTargets(int[] sizes, int target, SplittableRandom rnd) {
        long sum = 0;
        int max = 0;
        for (int s : sizes) {
            sum += s;
            max = Math.max(max, s);
        }
        if (sum <= target) {
            return sizes.clone();
        }
        int cut = bestCutLeft(sizes, target);
        if (cut == max) {
            return sizes.clone();
        }
        int[] out = new int[sizes.length];
        long got = 0;
        List<Integer> candidates = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++) {
            out[i] = Math.min(cut, sizes[i]);
            got += out[i];
            if (sizes[i] > cut) {
                candidates.add(i);
            }
        }
        int remainder = (int) (target - got);
        int[] pick = KMeans.sampleWithoutReplacement(candidates.size(), remainder, rnd);
        for (int p : pick) {
            out[candidates.get(p)] = cut + 1;
        }
        return out;
    }

    /** The largest {@code x} with {@code Σ min(x, sizes) ≤ target} ({@code _find_best_cut_left}). */
    static int bestCutLeft(int[] sizes, int target) {
        long sum = 0;
        int max = 0;
        for (int s : sizes) {
            sum += s;
            max = Math.max(max, s);
        }
        if (sum <= target) {
            return max;
        }
        int left = 0;
        int right = max;
        while (right - left > 1) {
            int mid = (left + right) >>> 1;
            long s = capped(sizes, mid);
            if (s > target) {
                right = mid;
            } else if (s < target) {
                left = mid;
            } else {
                return mid;
            }
        }
        return capped(sizes, right) <= target ? right : left;
    }

    private static long capped(int[] sizes, int cut) {
        long s = 0;
        for (int v : sizes) {
            s += Math.min(cut, v);
        }
        return s;
    }
}
