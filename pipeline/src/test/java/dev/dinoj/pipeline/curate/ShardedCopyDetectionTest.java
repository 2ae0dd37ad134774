package dev.dinoj.pipeline.curate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.data.IdxDataset;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.embed.CopyEmbedder;
import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.pipeline.search.IvfIndex;
import dev.dinoj.pipeline.shards.EmbeddingShards;
import dev.dinoj.pipeline.shards.RowSelection;
import dev.dinoj.pipeline.shards.ShardStore;
import dev.dinoj.testkit.FashionMnist;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The aligned copy detection over a sharded pool ({@link ShardedCopyDetection}) against {@link AlignedCopyDetector}
 * in one heap on the same float16 rows: the pool's rows spread over three partitions in another order than the pool's
 * (the result is renumbered), the copy columns between other columns, rows outside the selection, several shards per
 * partition and blocks smaller than a shard; planted copies of every edit kind, and uniform images.
 */
class ShardedCopyDetectionTest {
    private static final int SIDE = CopyEmbedder.DEFAULT_SIDE;
    private static final int BEFORE = 3;
    private static final int AFTER = 5;

    /** The pool spread over the partitions of {@code store}, and the same float16 rows in pool order. */
    private record Pool(ShardStore store, int partitions, int[] poolOf, FloatMatrix rows, int originals, int copies) {}

    private static Pool pool(Path dir) throws Exception {
        IdxDataset train = IdxDataset.fashionMnist(FashionMnist.assumeInstalled(), true);
        List<RgbImage> images = new ArrayList<>();
        int originals = 300;
        for (int i = 0; i < originals; i++) {
            images.add(train.image(i));
        }
        SplittableRandom rnd = new SplittableRandom(3);
        CopyEdits.Kind[] kinds = CopyEdits.Kind.values();
        int copies = 35;
        for (int c = 0; c < copies; c++) {
            images.add(CopyEdits.make(images.get(c * 7), kinds[c % kinds.length], rnd)
                    .image());
        }
        float[] grey = new float[3 * 28 * 28];
        Arrays.fill(grey, 0.5f);
        images.add(new RgbImage(28, 28, grey));
        Arrays.fill(grey, 0.2f);
        images.add(new RgbImage(28, 28, grey));
        int n = images.size();
        CopyEmbedder e = new CopyEmbedder(SIDE);
        float[] thumbs = e.embed(images);
        int d = e.dim();
        int wide = BEFORE + d + AFTER;

        // the pool's row i goes to partition part[i]; every partition also holds two rows outside the selection
        ShardStore store = ShardStore.local(dir);
        int partitions = 3;
        int[] order = shuffled(n, new SplittableRandom(9));
        List<List<Integer>> members = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            members.add(new ArrayList<>());
        }
        for (int t = 0; t < n; t++) {
            members.get(t % partitions).add(order[t]);
        }
        int[] poolOf = new int[n];
        int j = 0;
        SplittableRandom junk = new SplittableRandom(1);
        for (int p = 0; p < partitions; p++) {
            List<Integer> rows = members.get(p);
            int total = rows.size() + 2;
            float[] data = new float[total * wide];
            int[] selected = new int[rows.size()];
            int s = 0;
            for (int r = 0; r < total; r++) {
                for (int c = 0; c < wide; c++) {
                    data[r * wide + c] = (float) junk.nextDouble();
                }
                if (r == 1 || r == total - 1) {
                    continue; // outside the selection: junk thumbnails
                }
                int i = rows.get(s);
                System.arraycopy(thumbs, i * d, data, r * wide + BEFORE, d);
                selected[s++] = r;
                poolOf[j++] = i;
            }
            try (EmbeddingShards.Writer w = new EmbeddingShards.Writer(store, Partitions.embeddings(p), wide, 40)) {
                w.add(new FloatMatrix(total, wide, data));
            }
            new RowSelection(total, BEFORE, d, selected)
                    .write(store, Partitions.selection(p, ShardedCopyDetection.SELECTION));
        }
        // the in-heap detector on the same float16 values, in pool order
        float[] x16 = new float[n * d];
        int at = 0;
        for (int p = 0; p < partitions; p++) {
            FloatMatrix m = ShardedKMeans.openPartition(store, p, ShardedCopyDetection.SELECTION)
                    .readAll();
            for (int r = 0; r < m.rows(); r++, at++) {
                System.arraycopy(m.data(), r * d, x16, poolOf[at] * d, d);
            }
        }
        return new Pool(store, partitions, poolOf, new FloatMatrix(n, d, x16), originals, copies);
    }

    @Test
    void shouldFindTheCopiesTheInHeapDetectorFinds(@TempDir Path dir) throws Exception {
        Pool pool = pool(dir);
        ShardStore store = pool.store();
        int partitions = pool.partitions();
        int[] poolOf = pool.poolOf();
        int n = poolOf.length;
        int d = pool.rows().cols();
        float[] x16 = pool.rows().data();
        int originals = pool.originals();
        int copies = pool.copies();
        AlignedCopyDetector.Settings s =
                new AlignedCopyDetector.Settings(16, AlignedCopyDetector.NORMALISED_THRESHOLD, 0, 16);
        CopyDetector.Result heap = AlignedCopyDetector.detect(new FloatMatrix(n, d, x16), SIDE, s, null);

        // the verified pairs: the same but for near-ties of the descriptor search
        AlignedCopyDetector.Scored hs = AlignedCopyDetector.scorePairs(new FloatMatrix(n, d, x16), SIDE, s);
        ShardedCopyDetection.Pairs found = ShardedCopyDetection.pairs(
                ShardedCopyDetection.Backend.local(store, partitions), store, partitions, poolOf, SIDE, s, 64);
        AlignedCopyDetector.Scored ss = found.scored();
        int same = 0;
        for (int q = 0; q < hs.keys().length; q++) {
            int k = Arrays.binarySearch(ss.keys(), hs.keys()[q]);
            same += k >= 0 && Math.abs(ss.scores()[k] - hs.scores()[q]) < 1e-4 ? 1 : 0;
        }
        System.out.println("pairs: " + hs.keys().length + " in heap, " + ss.keys().length + " sharded, " + same
                + " the same with the same score");
        assertTrue(same >= hs.keys().length * 0.99, same + " of " + hs.keys().length + " pairs the same");
        CopyDetector.Result sharded = AlignedCopyDetector.decide(n, ss, found.flat(), s.threshold());
        int caught = 0;
        for (int c = 0; c < copies; c++) {
            caught += sharded.representative()[originals + c] == sharded.representative()[c * 7] ? 1 : 0;
        }
        System.out.println("sharded: " + sharded.duplicates() + " duplicates in " + sharded.components() + " groups, "
                + caught + " of " + copies + " planted copies joined; in heap: " + heap.duplicates());
        assertArrayEquals(heap.representative(), sharded.representative(), "the same copy groups and keepers");
        assertEquals(sharded.representative()[n - 2], sharded.representative()[n - 1], "uniform images are copies");
        assertTrue(caught >= copies * 8 / 10, caught + " of " + copies + " planted copies joined");
        for (int i = 0; i < heap.similarity().length; i++) {
            assertEquals(heap.similarity()[i], sharded.similarity()[i], 2e-3, "similarity of " + i);
        }

        // a damaged pairs file is refused with its name
        IllegalStateException bad = assertThrows(
                IllegalStateException.class,
                () -> ShardedCopyDetection.detect(
                        p -> {
                            double[] r = ShardedCopyDetection.Backend.local(store, partitions)
                                    .run(p);
                            if (p.kind() == ShardedCopyDetection.PAIRS) {
                                store.write(Partitions.copyPairs(1), ByteBuffer.wrap("DJCPAIR1xxxxxxxxxx".getBytes()));
                            }
                            return r;
                        },
                        store,
                        partitions,
                        poolOf,
                        SIDE,
                        s,
                        64));
        assertTrue(bad.getMessage().contains("copy-pairs.bin"), bad.getMessage());
    }

    @Test
    void shouldSearchTheInvertedListsOfAllPartitionsAsOneIndex(@TempDir Path dir) throws Exception {
        Pool pool = pool(dir);
        int n = pool.poolOf().length;
        ShardedCopyDetection.Backend local = ShardedCopyDetection.Backend.local(pool.store(), pool.partitions());
        float t = AlignedCopyDetector.NORMALISED_THRESHOLD;
        ShardedCopyDetection.Pairs exact = ShardedCopyDetection.pairs(
                local,
                pool.store(),
                pool.partitions(),
                pool.poolOf(),
                SIDE,
                new AlignedCopyDetector.Settings(16, t, 0, 1),
                64);
        CopyDetector.Result exactGroups = AlignedCopyDetector.decide(n, exact.scored(), exact.flat(), t);
        int lists = IvfIndex.defaultLists(n * CopyDescriptors.VIEWS);

        // probing every list is the exact search, through the sample, the coarse quantizer and the lists files
        ShardedCopyDetection.Pairs all = ShardedCopyDetection.pairs(
                local,
                pool.store(),
                pool.partitions(),
                pool.poolOf(),
                SIDE,
                new AlignedCopyDetector.Settings(16, t, 100, lists),
                64);
        assertTrue(same(exact.scored(), all.scored()) >= exact.scored().keys().length * 0.99);
        assertArrayEquals(
                exactGroups.representative(),
                AlignedCopyDetector.decide(n, all.scored(), all.flat(), t).representative());
        int indexed = 0;
        for (int p = 0; p < pool.partitions(); p++) {
            ByteBuffer b = pool.store().read(Partitions.copyLists(p)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            assertEquals(lists, b.getInt(8), "lists of partition " + p);
            indexed += b.getInt(12);
            assertTrue(pool.store().read(Partitions.copySample(p)).remaining() > 12, "sample of partition " + p);
        }
        assertEquals(n * CopyDescriptors.VIEWS, indexed, "every image's views in the lists once");

        // a few lists per window: most pairs and the planted copies still found
        ShardedCopyDetection.Pairs few = ShardedCopyDetection.pairs(
                local,
                pool.store(),
                pool.partitions(),
                pool.poolOf(),
                SIDE,
                new AlignedCopyDetector.Settings(16, t, 100, 3),
                64);
        CopyDetector.Result fewGroups = AlignedCopyDetector.decide(n, few.scored(), few.flat(), t);
        int caught = 0;
        int caughtExact = 0;
        for (int c = 0; c < pool.copies(); c++) {
            int copy = pool.originals() + c;
            caught += fewGroups.representative()[copy] == fewGroups.representative()[c * 7] ? 1 : 0;
            caughtExact += exactGroups.representative()[copy] == exactGroups.representative()[c * 7] ? 1 : 0;
        }
        int sameFew = same(exact.scored(), few.scored());
        System.out.println(lists + " lists, nprobe 3: " + sameFew + " of "
                + exact.scored().keys().length + " exact pairs found; planted copies joined " + caught
                + " (exact search " + caughtExact + ")");
        assertTrue(sameFew >= exact.scored().keys().length * 0.85, sameFew + " exact pairs found");
        assertTrue(caught >= caughtExact - 2, caught + " planted copies joined, exact " + caughtExact);

        // a damaged lists file is refused with its name
        pool.store().write(Partitions.copyLists(2), ByteBuffer.wrap("DJCLIST1xxxx".getBytes()));
        IllegalStateException bad = assertThrows(
                IllegalStateException.class,
                () -> ShardedCopyDetection.run(
                        pool.store(),
                        pool.partitions(),
                        0,
                        new ShardedCopyDetection.Task(
                                ShardedCopyDetection.PAIRS,
                                SIDE,
                                16,
                                CopyWhitening.fit(CopyDescriptors.views(pool.rows(), SIDE))
                                        .toArray(),
                                64,
                                0,
                                new float[lists * CopyDescriptors.CELLS * CopyDescriptors.CELLS],
                                3)));
        assertTrue(bad.getMessage().contains("copy-lists.bin"), bad.getMessage());
    }

    /** Pairs of {@code ref} found in {@code got} with the same score. */
    private static int same(AlignedCopyDetector.Scored ref, AlignedCopyDetector.Scored got) {
        int same = 0;
        for (int q = 0; q < ref.keys().length; q++) {
            int k = Arrays.binarySearch(got.keys(), ref.keys()[q]);
            same += k >= 0 && Math.abs(got.scores()[k] - ref.scores()[q]) < 1e-4 ? 1 : 0;
        }
        return same;
    }

    private static int[] shuffled(int n, SplittableRandom rnd) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int k = rnd.nextInt(i + 1);
            int t = a[i];
            a[i] = a[k];
            a[k] = t;
        }
        return a;
    }

    @Test
    void shouldExcludeThePoolImagesTheInHeapExclusionExcludes(@TempDir Path dir) throws Exception {
        Pool pool = pool(dir);
        ShardStore store = pool.store();
        int partitions = pool.partitions();
        int n = pool.poolOf().length;
        // the references: 12 of the pool's originals that have a planted copy (so the original and its copy match
        // them) and 20 Fashion-MNIST test images (look-alikes of pool images at most)
        IdxDataset test = IdxDataset.fashionMnist(FashionMnist.assumeInstalled(), false);
        IdxDataset train = IdxDataset.fashionMnist(FashionMnist.assumeInstalled(), true);
        List<RgbImage> refImages = new ArrayList<>();
        for (int c = 0; c < 12; c++) {
            refImages.add(train.image(c * 7));
        }
        for (int i = 0; i < 20; i++) {
            refImages.add(test.image(i));
        }
        CopyEmbedder e = new CopyEmbedder(SIDE);
        FloatMatrix refs = new FloatMatrix(refImages.size(), e.dim(), e.embed(refImages));
        AlignedCopyDetector.Settings s = new AlignedCopyDetector.Settings(16, AlignedCopyDetector.THRESHOLD, 0, 16);

        AlignedCopyMatch.Match heap = AlignedCopyMatch.matchAgainst(pool.rows(), refs, SIDE, s);
        AlignedCopyMatch.Match sharded = ShardedExclusion.exclude(
                ShardedCopyDetection.Backend.local(store, partitions),
                store,
                partitions,
                pool.poolOf(),
                refs,
                SIDE,
                s,
                64);
        int differ = 0;
        int excluded = 0;
        for (int i = 0; i < n; i++) {
            differ += heap.refOf()[i] != sharded.refOf()[i] ? 1 : 0;
            excluded += sharded.refOf()[i] >= 0 ? 1 : 0;
            if (sharded.refOf()[i] >= 0) {
                assertTrue(sharded.score()[i] >= s.threshold(), "row " + i + ": score " + sharded.score()[i]);
            }
        }
        System.out.println(
                "excluded on the shards: " + excluded + " of " + n + ", " + differ + " differ from one heap");
        // the same candidates and verification as in one heap; the whitening of the moments rounds differently, so a
        // borderline look-alike may differ
        assertTrue(differ <= 1, differ + " pool images matched differently");
        for (int c = 0; c < 12; c++) {
            assertEquals(c, sharded.refOf()[c * 7], "original " + (c * 7) + " is reference " + c);
        }
        int copiesFound = 0;
        for (int c = 0; c < 12; c++) {
            copiesFound += sharded.refOf()[pool.originals() + c] == c ? 1 : 0;
        }
        assertTrue(copiesFound >= 10, copiesFound + " of the 12 planted copies of references excluded");

        // a damaged matches file is refused with its name
        IllegalStateException bad = assertThrows(
                IllegalStateException.class,
                () -> ShardedExclusion.exclude(
                        p -> {
                            double[] r = ShardedCopyDetection.Backend.local(store, partitions)
                                    .run(p);
                            if (p.kind() == ShardedCopyDetection.EXCLUDE) {
                                store.write(Partitions.excludeMatches(2), ByteBuffer.wrap("DJXMTCH1xxxx".getBytes()));
                            }
                            return r;
                        },
                        store,
                        partitions,
                        pool.poolOf(),
                        refs,
                        SIDE,
                        s,
                        64));
        assertTrue(bad.getMessage().contains("exclude-matches.bin"), bad.getMessage());
    }
}
