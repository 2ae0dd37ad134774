package dev.dinoj.deploy.cli;

import dev.dinoj.actors.curate.KMeansDriver;
import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.pipeline.curate.AlignedCopyDetector;
import dev.dinoj.pipeline.curate.AlignedCopyMatch;
import dev.dinoj.pipeline.curate.CopyDetector;
import dev.dinoj.pipeline.curate.CopyEdits;
import dev.dinoj.pipeline.curate.Partitions;
import dev.dinoj.pipeline.curate.ShardedCopyDetection;
import dev.dinoj.pipeline.curate.ShardedExclusion;
import dev.dinoj.pipeline.curate.ShardedKMeans;
import dev.dinoj.pipeline.data.IdxDataset;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.embed.CopyEmbedder;
import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.pipeline.shards.EmbeddingShards;
import dev.dinoj.pipeline.shards.RowSelection;
import dev.dinoj.pipeline.shards.ShardStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code dinoj bench copy-scale}: the aligned copy detection over the partitions' shards ({@link ShardedCopyDetection})
 * on a pool of Fashion-MNIST images and planted copies, on a local cluster of curation nodes or in this JVM.
 */
@Command(
        name = "copy-scale",
        mixinStandardHelpOptions = true,
        description = {
            "Write a pool of --originals Fashion-MNIST images and --copies planted copies (every edit kind of the "
                    + "copy-detection benchmark, in turn) as copy:24 thumbnails in float16 shards of --partitions "
                    + "partitions under DIR/curation/parts, then run the sharded copy detection over it: on --nodes "
                    + "local curation nodes, or in this JVM with --nodes 0; exact search up to --approximate-above "
                    + "images, the inverted lists above. Prints the time of every pass, the planted copies caught and "
                    + "the originals dropped as a table and one JSON line."
        })
public final class BenchCopyScaleCommand implements Callable<Integer> {

    @Option(
            names = "--originals",
            defaultValue = "60000",
            description = "Fashion-MNIST images, training split first (default ${DEFAULT-VALUE})")
    int originals;

    @Option(names = "--copies", defaultValue = "6000", description = "planted copies (default ${DEFAULT-VALUE})")
    int copies;

    @Option(names = "--partitions", defaultValue = "12", description = "partitions (default ${DEFAULT-VALUE})")
    int partitions;

    @Option(
            names = "--approximate-above",
            defaultValue = "200000",
            description =
                    "pools larger than this search the inverted lists; 0 = always exact (default ${DEFAULT-VALUE})")
    int approximateAbove;

    @Option(names = "--nprobe", defaultValue = "16", description = "lists probed per window (default ${DEFAULT-VALUE})")
    int nprobe;

    @Mixin
    LocalCurationNodes cluster = new LocalCurationNodes();

    @Option(
            names = "--fashion-mnist-dir",
            defaultValue = "/usr/share/datasets/fashion-mnist",
            description = "Fashion-MNIST IDX files (default ${DEFAULT-VALUE})")
    Path fashionMnistDir;

    @Option(names = "--dir", description = "run directory (default: a new one under the temp directory)")
    Path dir;

    @Option(names = "--seed", defaultValue = "1", description = "random seed of the copies (default ${DEFAULT-VALUE})")
    long seed;

    @Option(
            names = "--references",
            defaultValue = "0",
            description = "after the detection, match the pool against the last R Fashion-MNIST test images as "
                    + "curate --exclude does on the shards (none of them is in the pool: what it excludes are "
                    + "look-alikes) (default ${DEFAULT-VALUE})")
    int references;

    private static final int SIDE = CopyEmbedder.DEFAULT_SIDE;

    @Override
    public Integer call() throws Exception {
        if (originals < 1 || copies < 0 || copies > originals || partitions < 1 || cluster.nodes < 0 || nprobe < 1) {
            throw new UserError("bench copy-scale: --originals and --partitions must be >= 1, --copies between 0 and "
                    + "--originals, --nodes >= 0, --nprobe >= 1");
        }
        if (!Files.isDirectory(fashionMnistDir)) {
            throw new UserError("bench copy-scale: " + fashionMnistDir
                    + ": no Fashion-MNIST there (install dataset-fashion-mnist or pass --fashion-mnist-dir)");
        }
        IdxDataset train = IdxDataset.fashionMnist(fashionMnistDir, true);
        IdxDataset test = IdxDataset.fashionMnist(fashionMnistDir, false);
        if (references < 0 || references > test.size()) {
            throw new UserError("bench copy-scale: --references " + references + " must be between 0 and the "
                    + test.size() + " test images");
        }
        if (originals > train.size() + test.size() - references) {
            throw new UserError("bench copy-scale: --originals " + originals + " is over Fashion-MNIST's "
                    + (train.size() + test.size()) + " images less the " + references + " references");
        }
        Path run = dir != null ? dir : Files.createTempDirectory("dinoj-copy-scale-");
        Path root = Partitions.root(run);
        ShardStore store = ShardStore.local(root);
        int n = originals + copies;
        long t0 = System.nanoTime();
        System.err.printf(
                Locale.ROOT,
                "dinoj: writing %d images and %d copies as copy:%d thumbnails in %d partitions to %s%n",
                originals,
                copies,
                SIDE,
                partitions,
                root);
        int[] poolOf = write(store, train, test, n);
        double generate = (System.nanoTime() - t0) / 1e9;

        AlignedCopyDetector.Settings s = new AlignedCopyDetector.Settings(
                16, AlignedCopyDetector.NORMALISED_THRESHOLD, approximateAbove, nprobe);
        FloatMatrix refs = null;
        if (references > 0) {
            List<RgbImage> images = new ArrayList<>(references);
            for (int i = test.size() - references; i < test.size(); i++) {
                images.add(test.image(i));
            }
            refs = new FloatMatrix(references, SIDE * SIDE, new CopyEmbedder(SIDE).embed(images));
        }
        TreeMap<String, Double> passes = new TreeMap<>();
        FloatMatrix refThumbs = refs;
        Outcome o = cluster.nodes == 0
                ? measure(ShardedCopyDetection.Backend.local(store, partitions), store, poolOf, refThumbs, s, passes)
                : cluster.run(
                        run,
                        KMeansDriver.passes(
                                root.toString(), partitions, ShardedKMeans.DEFAULT_BLOCK_ROWS, cluster.nodes, 2),
                        system -> measure(KMeansDriver.copyBackend(system), store, poolOf, refThumbs, s, passes));
        CopyDetector.Result r = o.copies();
        double detect = o.detectSeconds();

        int caught = 0;
        for (int c = 0; c < copies; c++) {
            caught += r.representative()[originals + c] == r.representative()[source(c)] ? 1 : 0;
        }
        int dropped = 0;
        for (int i = 0; i < originals; i++) {
            dropped += r.representative()[i] != i ? 1 : 0;
        }
        boolean approximate = approximateAbove > 0 && n > approximateAbove;
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "%-18s %10s%n", "pass", "seconds"));
        StringBuilder json = new StringBuilder(String.format(
                Locale.ROOT,
                "{\"bench\":\"copy-scale\",\"originals\":%d,\"copies\":%d,\"partitions\":%d,\"nodes\":%d,"
                        + "\"search\":\"%s\",\"nprobe\":%d,\"generate_seconds\":%.1f,\"detect_seconds\":%.1f,"
                        + "\"images_per_s\":%.0f,\"caught\":%d,\"originals_dropped\":%d,\"driver_peak_heap_mib\":%d",
                originals,
                copies,
                partitions,
                cluster.nodes,
                approximate ? "inverted lists" : "exact",
                nprobe,
                generate,
                detect,
                n / detect,
                caught,
                dropped,
                LocalCurationNodes.peakHeap() >> 20));
        double inPasses = 0;
        for (var e : passes.entrySet()) {
            table.append(String.format(Locale.ROOT, "%-18s %10.1f%n", e.getKey(), e.getValue()));
            json.append(String.format(
                    Locale.ROOT, ",\"%s_seconds\":%.1f", e.getKey().replace('-', '_'), e.getValue()));
            inPasses += e.getKey().endsWith("-busy") || e.getKey().startsWith("exclude-") ? 0 : e.getValue();
        }
        table.append(String.format(Locale.ROOT, "%-18s %10.1f%n", "decide", detect - inPasses));
        json.append(String.format(Locale.ROOT, ",\"decide_seconds\":%.1f", detect - inPasses));
        int excluded = 0;
        if (o.excluded() != null) {
            for (int ref : o.excluded().refOf()) {
                excluded += ref >= 0 ? 1 : 0;
            }
            json.append(String.format(
                    Locale.ROOT,
                    ",\"references\":%d,\"exclude_seconds\":%.1f,\"excluded\":%d",
                    references,
                    o.excludeSeconds(),
                    excluded));
        }
        json.append('}');
        System.out.printf(
                Locale.ROOT,
                "sharded copy detection: %d images (%d planted copies), %d partitions, %d node(s), %s search%n",
                n,
                copies,
                partitions,
                cluster.nodes,
                approximate ? "inverted-list (nprobe " + nprobe + ")" : "exact");
        System.out.printf(
                Locale.ROOT,
                "generate %.1f s, detection %.1f s (%.0f images/s), %d of %d planted copies caught (%.1f %%), "
                        + "%d of %d originals dropped (%.2f %%), driver peak heap %d MiB%n",
                generate,
                detect,
                n / detect,
                caught,
                copies,
                copies == 0 ? 0.0 : 100.0 * caught / copies,
                dropped,
                originals,
                100.0 * dropped / originals,
                LocalCurationNodes.peakHeap() >> 20);
        if (o.excluded() != null) {
            System.out.printf(
                    Locale.ROOT,
                    "exclusion against %d test images (none in the pool) %.1f s: %d of %d pool images matched "
                            + "(look-alikes at verification score >= %.3f)%n",
                    references,
                    o.excludeSeconds(),
                    excluded,
                    n,
                    AlignedCopyDetector.THRESHOLD);
        }
        System.out.print(table);
        System.out.println(json);
        return 0;
    }

    /** The original that copy {@code c} is made from. */
    private int source(int c) {
        return (int) ((long) c * originals / Math.max(1, copies));
    }

    /**
     * Writes the pool (originals, then copies) round-robin over the partitions with a selection of every row; the pool
     * index of each selected row in partition order.
     */
    private int[] write(ShardStore store, IdxDataset train, IdxDataset test, int n) throws Exception {
        CopyEmbedder embedder = new CopyEmbedder(SIDE);
        CopyEdits.Kind[] kinds = CopyEdits.Kind.values();
        SplittableRandom rnd = new SplittableRandom(seed);
        List<EmbeddingShards.Writer> writers = new ArrayList<>();
        long[] rows = new long[partitions];
        try {
            for (int p = 0; p < partitions; p++) {
                writers.add(new EmbeddingShards.Writer(store, Partitions.embeddings(p), SIDE * SIDE, 16_384));
            }
            int block = 4096;
            for (int from = 0; from < n; from += block) {
                int to = Math.min(n, from + block);
                List<RgbImage> images = new ArrayList<>(to - from);
                for (int i = from; i < to; i++) {
                    images.add(i < originals ? image(train, test, i) : copy(train, test, i - originals, kinds, rnd));
                }
                float[] thumbs = embedder.embed(images);
                int d = SIDE * SIDE;
                for (int i = from; i < to; i++) {
                    int p = i % partitions;
                    writers.get(p).add(java.util.Arrays.copyOfRange(thumbs, (i - from) * d, (i - from + 1) * d), 1);
                    rows[p]++;
                }
            }
        } finally {
            for (EmbeddingShards.Writer w : writers) {
                w.close();
            }
        }
        int[] poolOf = new int[n];
        int j = 0;
        for (int p = 0; p < partitions; p++) {
            RowSelection.all(rows[p]).write(store, Partitions.selection(p, ShardedCopyDetection.SELECTION));
            for (int i = p; i < n; i += partitions) {
                poolOf[j++] = i;
            }
        }
        return poolOf;
    }

    private static RgbImage image(IdxDataset train, IdxDataset test, int i) {
        return i < train.size() ? train.image(i) : test.image(i - train.size());
    }

    private RgbImage copy(IdxDataset train, IdxDataset test, int c, CopyEdits.Kind[] kinds, SplittableRandom rnd) {
        return CopyEdits.make(image(train, test, source(c)), kinds[c % kinds.length], rnd)
                .image();
    }

    /** {@code backend}, each pass's seconds added under {@code prefix} and its kind's name. */
    private static ShardedCopyDetection.Backend timed(
            ShardedCopyDetection.Backend backend, TreeMap<String, Double> at, String prefix) {
        return t -> {
            long t0 = System.nanoTime();
            double[] r = backend.run(t);
            String name = switch (t.kind()) {
                case ShardedCopyDetection.MOMENTS -> "moments";
                case ShardedCopyDetection.LISTS -> "lists";
                case ShardedCopyDetection.EXCLUDE -> "match";
                default -> "pairs";
            };
            at.merge(prefix + name, (System.nanoTime() - t0) / 1e9, Double::sum);
            if (t.kind() == ShardedCopyDetection.PAIRS) {
                // the partitions' busy seconds, summed: search, then verification
                at.put("pairs-search-busy", r[2]);
                at.put("pairs-verify-busy", r[3]);
            }
            return r;
        };
    }

    /** The detection's result and seconds; the exclusion's matches and seconds (null and 0 without references). */
    private record Outcome(
            CopyDetector.Result copies, double detectSeconds, AlignedCopyMatch.Match excluded, double excludeSeconds) {}

    /** The detection through {@code backend}, then the exclusion against {@code refs} (when not null). */
    private Outcome measure(
            ShardedCopyDetection.Backend backend,
            ShardStore store,
            int[] poolOf,
            FloatMatrix refs,
            AlignedCopyDetector.Settings s,
            TreeMap<String, Double> passes)
            throws IOException {
        long t0 = System.nanoTime();
        CopyDetector.Result r = ShardedCopyDetection.detect(
                timed(backend, passes, ""), store, partitions, poolOf, SIDE, s, ShardedKMeans.DEFAULT_BLOCK_ROWS);
        double detect = (System.nanoTime() - t0) / 1e9;
        if (refs == null) {
            return new Outcome(r, detect, null, 0);
        }
        long t1 = System.nanoTime();
        AlignedCopyMatch.Match m = ShardedExclusion.exclude(
                timed(backend, passes, "exclude-"),
                store,
                partitions,
                poolOf,
                refs,
                SIDE,
                new AlignedCopyDetector.Settings(16, AlignedCopyDetector.THRESHOLD, approximateAbove, nprobe),
                ShardedKMeans.DEFAULT_BLOCK_ROWS);
        return new Outcome(r, detect, m, (System.nanoTime() - t1) / 1e9);
    }
}
