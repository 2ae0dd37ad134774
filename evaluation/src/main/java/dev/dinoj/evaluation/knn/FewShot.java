package dev.dinoj.evaluation.knn;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Few-shot k-NN: restrict the train set to at most {@code nPerClass} samples of each class, repeat for {@code
 * tries} draws and average the metrics (the official {@code --n-per-class-list} and {@code --n-tries}).
 *
 * <p>Draws are deterministic. {@link Sampling#FIRST} keeps the first {@code nPerClass} samples of each class in
 * dataset order. {@link Sampling#RANDOM} uses one {@link Random} per try, seeded from {@code seed} and the try
 * index, and draws a random subset of each class in ascending class order, as the official {@code filter_train}
 * does with {@code torch.manual_seed(try)} and one {@code randperm} per class (the draws themselves differ from
 * PyTorch's). A class with fewer samples keeps all of them.
 *
 * @param nPerClass samples kept per class, {@code >= 1}
 * @param tries how many draws to average, {@code >= 1}; must be 1 for {@link Sampling#FIRST}
 * @param sampling how samples are picked
 * @param seed base seed of {@link Sampling#RANDOM}
 */
public record FewShot(int nPerClass, int tries, Sampling sampling, long seed) {

    /** How the samples of a class are picked. */
    public enum Sampling {
        /** The first samples of each class, in dataset order. */
        FIRST,
        /** A seeded random subset of each class. */
        RANDOM
    }

    /**
     * Validates the arguments.
     *
     * @param nPerClass samples kept per class
     * @param tries draws to average
     * @param sampling how samples are picked
     * @param seed base seed of random sampling
     */
    public FewShot {
        if (nPerClass < 1) {
            throw new IllegalArgumentException("nPerClass must be >= 1: " + nPerClass);
        }
        if (tries < 1) {
            throw new IllegalArgumentException("tries must be >= 1: " + tries);
        }
        if (sampling == null) {
            throw new IllegalArgumentException("sampling must not be null");
        }
        if (sampling == Sampling.FIRST && tries != 1) {
            throw new IllegalArgumentException("FIRST sampling is deterministic: tries must be 1, got " + tries);
        }
    }

    /**
     * The first {@code nPerClass} samples of each class.
     *
     * @param nPerClass samples kept per class
     * @return the option
     */
    public static FewShot first(int nPerClass) {
        return new FewShot(nPerClass, 1, Sampling.FIRST, 0L);
    }

    /**
     * Random {@code nPerClass} samples of each class, {@code tries} times.
     *
     * @param nPerClass samples kept per class
     * @param tries draws to average
     * @param seed base seed; try {@code t} is reproducible from {@code (seed, t)}
     * @return the option
     */
    public static FewShot random(int nPerClass, int tries, long seed) {
        return new FewShot(nPerClass, tries, Sampling.RANDOM, seed);
    }

    /**
     * The train rows kept by one try, grouped by class in ascending class order.
     *
     * @param labels the train labels
     * @param tryIndex which try, in {@code [0, tries)}
     * @return row indices into the train set
     */
    public int[] select(int[] labels, int tryIndex) {
        if (tryIndex < 0 || tryIndex >= tries) {
            throw new IndexOutOfBoundsException("try " + tryIndex + " not in [0, " + tries + ")");
        }
        TreeMap<Integer, List<Integer>> rowsByClass = new TreeMap<>();
        for (int i = 0; i < labels.length; i++) {
            rowsByClass.computeIfAbsent(labels[i], c -> new ArrayList<>()).add(i);
        }
        Random random = new Random(seed * 0x9E3779B97F4A7C15L + tryIndex);
        List<Integer> kept = new ArrayList<>();
        for (List<Integer> rows : rowsByClass.values()) {
            int take = Math.min(nPerClass, rows.size());
            if (sampling == Sampling.RANDOM) {
                // partial Fisher-Yates: the first `take` positions become a uniform random subset
                for (int i = 0; i < take; i++) {
                    int j = i + random.nextInt(rows.size() - i);
                    Integer tmp = rows.get(i);
                    rows.set(i, rows.get(j));
                    rows.set(j, tmp);
                }
            }
            kept.addAll(rows.subList(0, take));
        }
        return kept.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * The k values evaluated for this few-shot setting, as the official {@code create_module_dict}: the requested
     * ks plus {@code nPerClass}, keeping only those {@code <= nPerClass}, sorted.
     *
     * @param ks the requested k values
     * @return the k values to evaluate, ascending, distinct, never empty
     */
    public int[] ks(int[] ks) {
        TreeSet<Integer> out = new TreeSet<>();
        for (int k : ks) {
            if (k <= nPerClass) {
                out.add(k);
            }
        }
        out.add(nPerClass);
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
