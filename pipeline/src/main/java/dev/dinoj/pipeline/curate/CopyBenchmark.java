package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.embed.Embedder;
import dev.dinoj.pipeline.image.SyntheticPhotos;
import dev.dinoj.pipeline.search.FloatMatrix;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * A generated copy-detection benchmark: a pool of originals (Fashion-MNIST images and/or
 * {@link SyntheticPhotos#scene generated photos} of random sizes) plus edited copies of some of them
 * ({@link CopyEdits}, the kinds in turn), and the scoring of a detection against it: planted pairs caught (copy in its
 * original's component), originals wrongly dropped (a component that joins several originals' groups loses all but
 * one), and recall and precision per kind of copy. Used by {@code CopyDetectionBenchmarkTest} and for the table in
 * docs/CURATION.md.
 */
public final class CopyBenchmark {
    private CopyBenchmark() {}

    /**
     * A generated pool.
     *
     * @param images    originals first, then copies
     * @param group     for each image, the index of its original (itself for an original)
     * @param kind      for each copy, its kind (null for originals)
     * @param applied   for each copy, the edits applied (empty for originals)
     * @param originals how many of {@code images} are originals
     */
    public record Pool(
            List<RgbImage> images, int[] group, CopyEdits.Kind[] kind, List<List<String>> applied, int originals) {
        public int copies() {
            return images.size() - originals;
        }
    }

    /**
     * Generates a pool.
     *
     * @param fmnist     source of grey originals (may be null when {@code fmnistCount} is 0)
     * @param fmnistFrom first image of {@code fmnist} used
     * @param fmnistCount Fashion-MNIST originals
     * @param photos     generated photo originals (sides 40–120 px, 10 classes)
     * @param copies     copies, of distinct originals drawn at random, the kinds in turn
     * @param seed       seed of every choice
     */
    public static Pool generate(
            ImageDataset fmnist, int fmnistFrom, int fmnistCount, int photos, int copies, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<RgbImage> images = new ArrayList<>();
        for (int i = 0; i < fmnistCount; i++) {
            images.add(fmnist.image(fmnistFrom + i));
        }
        for (int i = 0; i < photos; i++) {
            int w = 40 + rnd.nextInt(81);
            int h = 40 + rnd.nextInt(81);
            images.add(RgbImage.of(SyntheticPhotos.scene(w, h, i % 10, seed * 7_919L + i)));
        }
        int originals = images.size();
        if (copies > originals) {
            throw new IllegalArgumentException(copies + " copies of " + originals + " originals");
        }
        // distinct sources: a partial Fisher-Yates shuffle
        int[] order = new int[originals];
        for (int i = 0; i < originals; i++) {
            order[i] = i;
        }
        for (int i = 0; i < copies; i++) {
            int j = i + rnd.nextInt(originals - i);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int n = originals + copies;
        int[] group = new int[n];
        CopyEdits.Kind[] kind = new CopyEdits.Kind[n];
        List<List<String>> applied = new ArrayList<>();
        for (int i = 0; i < originals; i++) {
            group[i] = i;
            applied.add(List.of());
        }
        CopyEdits.Kind[] kinds = CopyEdits.Kind.values();
        for (int c = 0; c < copies; c++) {
            int src = order[c];
            CopyEdits.Copy copy = CopyEdits.make(images.get(src), kinds[c % kinds.length], rnd);
            images.add(copy.image());
            group[originals + c] = src;
            kind[originals + c] = copy.kind();
            applied.add(copy.applied());
        }
        return new Pool(List.copyOf(images), group, kind, List.copyOf(applied), originals);
    }

    /** Embeds the pool with {@code embedder} (in batches of 512) as a matrix of its rows. */
    public static FloatMatrix embed(Pool pool, Embedder embedder) {
        int d = embedder.dim();
        float[] all = new float[pool.images().size() * d];
        for (int from = 0; from < pool.images().size(); from += 512) {
            int to = Math.min(pool.images().size(), from + 512);
            float[] part = embedder.embed(pool.images().subList(from, to));
            System.arraycopy(part, 0, all, from * d, part.length);
        }
        return new FloatMatrix(pool.images().size(), d, all);
    }

    /**
     * The scores of a detection.
     *
     * @param pairs          planted copy pairs
     * @param caught         copies in their original's component
     * @param originals      originals in the pool
     * @param wronglyDropped originals lost to another group's component (sum over components of groups − 1)
     * @param dropped        images not kept
     * @param perKind        per kind: {planted, caught, flagged (in a component of 2+), flagged with only its group}
     * @param seconds        time of the detection
     */
    public record Report(
            int pairs,
            int caught,
            int originals,
            int wronglyDropped,
            int dropped,
            Map<CopyEdits.Kind, int[]> perKind,
            double seconds) {
        public double recall() {
            return pairs == 0 ? 1 : (double) caught / pairs;
        }

        public double wrongDropRate() {
            return originals == 0 ? 0 : (double) wronglyDropped / originals;
        }

        /** A Markdown table: recall and precision per kind, then the totals. */
        public String table() {
            StringBuilder sb = new StringBuilder();
            sb.append("| copy kind | planted | caught | recall | precision |\n|---|---|---|---|---|\n");
            for (Map.Entry<CopyEdits.Kind, int[]> e : perKind.entrySet()) {
                int[] v = e.getValue();
                sb.append(String.format(
                        Locale.ROOT,
                        "| %s | %d | %d | %.1f %% | %s |%n",
                        e.getKey().id(),
                        v[0],
                        v[1],
                        100.0 * v[1] / Math.max(1, v[0]),
                        v[2] == 0 ? "–" : String.format(Locale.ROOT, "%.1f %%", 100.0 * v[3] / v[2])));
            }
            sb.append(String.format(
                    Locale.ROOT,
                    "| **all** | %d | %d | **%.1f %%** | %d of %d originals wrongly dropped (**%.2f %%**); %d images "
                            + "dropped; %.1f s |%n",
                    pairs,
                    caught,
                    100 * recall(),
                    wronglyDropped,
                    originals,
                    100 * wrongDropRate(),
                    dropped,
                    seconds));
            return sb.toString();
        }
    }

    /** Scores {@code r} (a detection over {@code pool.images()} in order) against the planted groups. */
    public static Report evaluate(Pool pool, CopyDetector.Result r, double seconds) {
        int n = pool.images().size();
        int[] rep = r.representative();
        Map<Integer, Set<Integer>> groupsOf = new HashMap<>();
        Map<Integer, Integer> sizeOf = new HashMap<>();
        for (int i = 0; i < n; i++) {
            groupsOf.computeIfAbsent(rep[i], k -> new HashSet<>()).add(pool.group()[i]);
            sizeOf.merge(rep[i], 1, Integer::sum);
        }
        int wrong = 0;
        for (Set<Integer> g : groupsOf.values()) {
            wrong += g.size() - 1;
        }
        Map<CopyEdits.Kind, int[]> perKind = new EnumMap<>(CopyEdits.Kind.class);
        int caught = 0;
        for (int i = pool.originals(); i < n; i++) {
            int[] v = perKind.computeIfAbsent(pool.kind()[i], k -> new int[4]);
            v[0]++;
            if (rep[i] == rep[pool.group()[i]]) {
                v[1]++;
                caught++;
            }
            if (sizeOf.get(rep[i]) > 1) {
                v[2]++;
                if (groupsOf.get(rep[i]).size() == 1) {
                    v[3]++;
                }
            }
        }
        return new Report(n - pool.originals(), caught, pool.originals(), wrong, r.duplicates(), perKind, seconds);
    }

    /** Runs a detection on the pool's embeddings and scores it. */
    public static Report run(Pool pool, FloatMatrix embeddings, Function<FloatMatrix, CopyDetector.Result> detector) {
        long t0 = System.nanoTime();
        CopyDetector.Result r = detector.apply(embeddings);
        return evaluate(pool, r, (System.nanoTime() - t0) / 1e9);
    }
}
