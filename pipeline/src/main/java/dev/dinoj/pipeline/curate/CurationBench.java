package dev.dinoj.pipeline.curate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.pipeline.search.FlatIndex;
import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.pipeline.search.IvfIndex;
import dev.dinoj.pipeline.search.KMeans;
import dev.dinoj.pipeline.search.Neighbors;
import dev.dinoj.pipeline.search.Precision;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * {@code dinoj bench curation}: the curation kernels on synthetic clustered unit vectors at the shapes of issue #16's
 * Faiss comparison (k-means 100k × 384, k = 1024, 20 iterations; exact k-NN 100k × 100k, k = 10), each followed by
 * Faiss on the same matrix when a Python with {@code python3-faiss} is found ({@link FaissSide}), with the time
 * ratios; near-duplicate search with planted copies at cos ≥ 0.9; the approximate index at 1M vectors with its
 * recall@10 against exact search; and the float32 GEMM peak of the same run for scale. With
 * {@link Precision#BFLOAT16} the exact k-NN's recall@k against the float32 search is measured on a query sample.
 */
public final class CurationBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    private CurationBench() {}

    /**
     * @param n          vectors for k-means, k-NN and dedup
     * @param dim        dimension
     * @param k          k-means clusters
     * @param iterations k-means iterations
     * @param knnK       neighbours of the exact k-NN
     * @param planted    near-duplicate pairs planted for the dedup job (0 = skip it)
     * @param annN       vectors of the approximate-index job (0 = skip it)
     * @param annQueries queries of the approximate-index job (recall measured on all of them)
     * @param nprobe     lists probed
     * @param seed       data seed
     * @param precision  arithmetic of the k-means and exact k-NN GEMMs
     * @param recallQueries queries on which the bfloat16 k-NN is checked against the float32 one (0 = skip)
     * @param faiss      {@code auto}, {@code off} or the Python (with python3-faiss) that runs the Faiss side
     */
    public record Config(
            int n,
            int dim,
            int k,
            int iterations,
            int knnK,
            int planted,
            int annN,
            int annQueries,
            int nprobe,
            long seed,
            Precision precision,
            int recallQueries,
            String faiss) {
        /** The anchor shapes, {@link Precision#auto()}, Faiss when found. */
        public static Config anchors() {
            return new Config(
                    100_000, 384, 1024, 20, 10, 2_000, 1_000_000, 10_000, 16, 0, Precision.auto(), 2_000, "auto");
        }
    }

    /**
     * One timed job.
     *
     * @param job     name
     * @param shape   sizes
     * @param seconds wall time
     * @param detail  throughput, quality
     */
    public record Row(String job, String shape, double seconds, String detail) {}

    /**
     * All jobs.
     *
     * @param rows        timed jobs
     * @param gemmGflops  best float32 GEMM rate of a 2048³ matmul in this run
     * @param numbers     the figures for the JSON line
     */
    public record Result(List<Row> rows, double gemmGflops, Map<String, Object> numbers) {
        /** Aligned plain-text table. */
        public String table() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "%-34s %-28s %10s  %s%n", "job", "shape", "seconds", "detail"));
            for (Row r : rows) {
                sb.append(String.format(
                        Locale.ROOT, "%-34s %-28s %10s  %s%n", r.job, r.shape, secs(r.seconds), r.detail));
            }
            sb.append(String.format(
                    Locale.ROOT, "float32 GEMM peak in this run (2048^3, DJL/PyTorch): %.1f GFLOP/s%n", gemmGflops));
            sb.append(versus());
            return sb.toString();
        }

        /** A Markdown table for docs. */
        public String markdown() {
            StringBuilder sb = new StringBuilder("| job | shape | seconds | detail |\n|---|---|---|---|\n");
            for (Row r : rows) {
                sb.append(String.format(
                        Locale.ROOT, "| %s | %s | %s | %s |%n", r.job.strip(), r.shape, secs(r.seconds), r.detail));
            }
            sb.append(String.format(
                    Locale.ROOT, "%nfloat32 GEMM peak in the same run (2048³): %.1f GFLOP/s%n", gemmGflops));
            sb.append(versus());
            return sb.toString();
        }

        /** The dinoj / Faiss time ratios of the run (empty without the Faiss side). */
        String versus() {
            StringBuilder sb = new StringBuilder();
            for (String[] job : new String[][] {{"kmeans", "k-means"}, {"knn", "exact k-NN"}}) {
                if (numbers.get(job[0] + "_ratio") instanceof Number r) {
                    sb.append(String.format(
                            Locale.ROOT,
                            "%s%s: dinoj %.2f s, Faiss %.2f s, ratio %.2f",
                            sb.length() == 0 ? "dinoj / Faiss in this run: " : "; ",
                            job[1],
                            ((Number) numbers.get(job[0] + "_seconds")).doubleValue(),
                            ((Number) numbers.get("faiss_" + job[0] + "_seconds")).doubleValue(),
                            r.doubleValue()));
                }
            }
            return sb.length() == 0 ? "" : sb.append(String.format("%n")).toString();
        }

        private static String secs(double s) {
            return Double.isFinite(s) ? String.format(Locale.ROOT, "%.2f", s) : "";
        }

        /** One JSON line: numbers with 4 significant digits (null when not finite), anything else as a string. */
        public String json() {
            ObjectNode o = JSON.createObjectNode();
            o.put("bench", "curation");
            for (Map.Entry<String, Object> e : numbers.entrySet()) {
                if (e.getValue() instanceof Number num) {
                    double v = num.doubleValue();
                    o.put(
                            e.getKey(),
                            Double.isFinite(v) ? new BigDecimal(String.format(Locale.ROOT, "%.4g", v)) : null);
                } else {
                    o.put(e.getKey(), String.valueOf(e.getValue()));
                }
            }
            try {
                return JSON.writeValueAsString(o);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** Runs every job of {@code c}; {@code say} gets a line per stage. */
    public static Result run(Config c, Consumer<String> say) {
        List<Row> rows = new ArrayList<>();
        Map<String, Object> numbers = new LinkedHashMap<>();
        double gemm = gemmPeak();
        numbers.put("gemm_gflops", gemm);
        say.accept(
                String.format(Locale.ROOT, "GEMM peak %.1f GFLOP/s; generating %d x %d vectors", gemm, c.n(), c.dim()));
        FloatMatrix x = FloatMatrix.clustered(c.n(), c.dim(), Math.max(16, c.k()), 0.05, c.seed());
        numbers.put("precision", c.precision().name().toLowerCase(Locale.ROOT));
        StringBuilder why = new StringBuilder();
        try (FaissSide faiss = FaissSide.find(c.faiss(), why)) {
            if (faiss == null) {
                say.accept("Faiss side skipped: " + why);
                numbers.put("faiss", "skipped: " + why);
            } else {
                say.accept("Faiss side: " + faiss.python() + " (the same matrix, written to a temporary file)");
                faiss.setData(x);
            }
            kernels(c, x, faiss, rows, numbers, say);
        }
        jobsAfterKernels(c, x, rows, numbers, say);
        return new Result(rows, gemm, numbers);
    }

    /** k-means and exact k-NN, each followed by the Faiss job when {@code faiss} is not null. */
    private static void kernels(
            Config c,
            FloatMatrix x,
            FaissSide faiss,
            List<Row> rows,
            Map<String, Object> numbers,
            Consumer<String> say) {
        // k-means, random init as Faiss' default, then the k-means++ initialisation alone
        say.accept("k-means " + c.n() + " x " + c.dim() + ", k " + c.k() + ", " + c.iterations() + " iterations, "
                + c.precision());
        KMeans.Result km = KMeans.fit(
                x,
                KMeans.Settings.of(c.k(), c.iterations(), c.seed())
                        .withInit(KMeans.Init.RANDOM)
                        .withPrecision(c.precision()));
        double kmTotal = km.initSeconds() + km.iterateSeconds();
        double flops = 2.0 * c.n() * c.k() * c.dim() * (c.iterations() + 1);
        rows.add(new Row(
                "k-means (random init, as Faiss)",
                c.n() + "x" + c.dim() + " k=" + c.k() + " it=" + c.iterations(),
                kmTotal,
                String.format(
                        Locale.ROOT,
                        "%.0f GFLOP/s in the assignment GEMMs, inertia %.4g",
                        flops / km.iterateSeconds() / 1e9,
                        km.inertia())));
        numbers.put("kmeans_seconds", kmTotal);
        say.accept(String.format(Locale.ROOT, "k-means: %.2f s, inertia %.5g", kmTotal, km.inertia()));
        numbers.put("kmeans_inertia", km.inertia());
        JsonNode f = faiss == null ? null : runFaiss(faiss, "kmeans", c.k(), c.iterations(), numbers, say);
        if (f != null) {
            double fs = f.get("seconds").asDouble();
            say.accept(String.format(
                    Locale.ROOT,
                    "Faiss k-means: %.2f s, objective %.5g",
                    fs,
                    f.get("objective").asDouble()));
            rows.add(new Row(
                    "Faiss " + f.get("faiss").asText() + " k-means",
                    c.n() + "x" + c.dim() + " k=" + c.k() + " it=" + c.iterations(),
                    fs,
                    String.format(
                            Locale.ROOT,
                            "%d threads, objective %.4g; dinoj/Faiss %.2f",
                            f.get("threads").asInt(),
                            f.get("objective").asDouble(),
                            kmTotal / fs)));
            numbers.put("faiss_kmeans_seconds", fs);
            numbers.put("faiss_kmeans_objective", f.get("objective").asDouble());
            numbers.put("kmeans_ratio", kmTotal / fs);
        }
        KMeans.Result kpp = KMeans.fit(x, KMeans.Settings.of(c.k(), 0, c.seed()).withPrecision(c.precision()));
        rows.add(new Row(
                "k-means++ initialisation",
                c.n() + "x" + c.dim() + " k=" + c.k() + " (16/centroid sample)",
                kpp.initSeconds(),
                "greedy, 2+ln k trials per centroid"));
        numbers.put("kmeanspp_init_seconds", kpp.initSeconds());

        // exact k-NN, all against all
        say.accept("exact k-NN " + c.n() + " x " + c.n() + ", k " + c.knnK() + ", " + c.precision());
        long t0 = System.nanoTime();
        Neighbors exact;
        try (FlatIndex flat = new FlatIndex(x, FlatIndex.DEFAULT_BLOCK_BYTES, c.precision())) {
            exact = flat.search(x, c.knnK());
        }
        double knn = (System.nanoTime() - t0) / 1e9;
        say.accept(String.format(Locale.ROOT, "exact k-NN: %.2f s", knn));
        rows.add(new Row(
                "exact k-NN (flat, inner product)",
                c.n() + "x" + c.n() + " d=" + c.dim() + " k=" + c.knnK(),
                knn,
                String.format(
                        Locale.ROOT,
                        "%.0f queries/s, %.0f GFLOP/s",
                        c.n() / knn,
                        2.0 * c.n() * c.n() * c.dim() / knn / 1e9)));
        numbers.put("knn_seconds", knn);
        numbers.put("knn_queries_per_s", c.n() / knn);
        int selfFirst = 0;
        for (int q = 0; q < exact.queries(); q++) {
            selfFirst += exact.id(q, 0) == q ? 1 : 0;
        }
        numbers.put("knn_self_first_fraction", (double) selfFirst / exact.queries());
        if (c.precision() == Precision.BFLOAT16 && c.recallQueries() > 0) {
            int checked = Math.min(c.recallQueries(), c.n());
            say.accept("float32 search of " + checked + " sampled queries for the bfloat16 recall");
            int[] sample = KMeans.sampleWithoutReplacement(c.n(), checked, new SplittableRandom(c.seed() + 3));
            Neighbors truth;
            try (FlatIndex flat = new FlatIndex(x, FlatIndex.DEFAULT_BLOCK_BYTES, Precision.FLOAT32)) {
                truth = flat.search(x.select(sample), c.knnK());
            }
            int kk = c.knnK();
            int[] ids = new int[checked * kk];
            float[] scores = new float[checked * kk];
            for (int i = 0; i < checked; i++) {
                System.arraycopy(exact.ids(), sample[i] * kk, ids, i * kk, kk);
                System.arraycopy(exact.scores(), sample[i] * kk, scores, i * kk, kk);
            }
            double recall = new Neighbors(checked, kk, ids, scores).recallAgainst(truth, kk);
            rows.add(new Row(
                    "  recall vs float32 search",
                    checked + " sampled queries",
                    Double.NaN,
                    String.format(Locale.ROOT, "recall@%d %.4f", kk, recall)));
            numbers.put("knn_recall_vs_float32", recall);
        }
        f = faiss == null ? null : runFaiss(faiss, "knn", c.knnK(), 0, numbers, say);
        if (f != null) {
            double fs = f.get("seconds").asDouble();
            say.accept(String.format(Locale.ROOT, "Faiss exact k-NN: %.2f s", fs));
            rows.add(new Row(
                    "Faiss " + f.get("faiss").asText() + " exact k-NN (IndexFlatIP)",
                    c.n() + "x" + c.n() + " d=" + c.dim() + " k=" + c.knnK(),
                    fs,
                    String.format(
                            Locale.ROOT,
                            "%.0f queries/s, %.0f GFLOP/s; dinoj/Faiss %.2f",
                            c.n() / fs,
                            2.0 * c.n() * c.n() * c.dim() / fs / 1e9,
                            knn / fs)));
            numbers.put("faiss_knn_seconds", fs);
            numbers.put("knn_ratio", knn / fs);
        }
    }

    /** One Faiss job on the same shape; null (and a note in the JSON) when it failed: the bench goes on. */
    private static JsonNode runFaiss(
            FaissSide faiss, String job, int k, int iterations, Map<String, Object> numbers, Consumer<String> say) {
        say.accept("Faiss " + job + ", the same shape");
        try {
            return faiss.run(job, k, iterations, 1234);
        } catch (IllegalStateException | java.io.UncheckedIOException e) {
            say.accept("Faiss " + job + " failed, no ratio: " + e.getMessage());
            numbers.put("faiss_" + job, "failed: " + e.getMessage());
            return null;
        }
    }

    /** Near-duplicate search and the approximate index. */
    private static void jobsAfterKernels(
            Config c, FloatMatrix x, List<Row> rows, Map<String, Object> numbers, Consumer<String> say) {
        long t0;

        // near duplicates: planted copies, cosine >= 0.9
        if (c.planted() > 0) {
            say.accept("near-duplicate detection with " + c.planted() + " planted copies");
            FloatMatrix withCopies = plantCopies(x, c.planted(), c.seed());
            t0 = System.nanoTime();
            CopyDetector.Result r = CopyDetector.detect(withCopies, new CopyDetector.Settings(4, 0.9f, 0, 1), null);
            double dedup = (System.nanoTime() - t0) / 1e9;
            int found = 0;
            for (int i = 0; i < c.planted(); i++) {
                int copy = c.n() + i;
                found += r.representative()[copy] == r.representative()[i * (c.n() / c.planted())] ? 1 : 0;
            }
            rows.add(new Row(
                    "near-duplicates (k-NN graph, cos>=0.9)",
                    withCopies.rows() + "x" + c.dim(),
                    dedup,
                    String.format(
                            Locale.ROOT,
                            "found %d of %d planted pairs, %d duplicates in all",
                            found,
                            c.planted(),
                            r.duplicates())));
            numbers.put("dedup_seconds", dedup);
            numbers.put("dedup_found", found);
            numbers.put("dedup_flagged", r.duplicates());
        }

        // approximate index at scale
        if (c.annN() > 0) {
            say.accept("approximate index: " + c.annN() + " x " + c.dim());
            FloatMatrix big = FloatMatrix.clustered(c.annN(), c.dim(), 4096, 0.03, c.seed() + 1);
            FloatMatrix queries = big.select(
                    KMeans.sampleWithoutReplacement(big.rows(), c.annQueries(), new SplittableRandom(c.seed() + 2)));
            try (IvfIndex ivf = IvfIndex.build(big, c.seed())) {
                rows.add(new Row(
                        "IVF build (k-means lists + assign)",
                        big.rows() + "x" + c.dim() + " lists=" + ivf.lists(),
                        ivf.buildSeconds(),
                        ""));
                numbers.put("ivf_build_seconds", ivf.buildSeconds());
                t0 = System.nanoTime();
                Neighbors approx = ivf.search(queries, c.knnK(), c.nprobe());
                double annSec = (System.nanoTime() - t0) / 1e9;
                int checked = Math.min(1000, c.annQueries());
                say.accept("exact search of " + checked + " of the queries for the recall");
                FloatMatrix sample = queries.slice(0, checked);
                t0 = System.nanoTime();
                Neighbors truth;
                try (FlatIndex flat = new FlatIndex(big)) {
                    truth = flat.search(sample, c.knnK());
                }
                double flatSec = (System.nanoTime() - t0) / 1e9;
                Neighbors approxSample = new Neighbors(
                        checked,
                        c.knnK(),
                        Arrays.copyOf(approx.ids(), checked * c.knnK()),
                        Arrays.copyOf(approx.scores(), checked * c.knnK()));
                double recall = approxSample.recallAgainst(truth, c.knnK());
                rows.add(new Row(
                        "IVF search (nprobe " + c.nprobe() + ")",
                        c.annQueries() + " queries, k=" + c.knnK(),
                        annSec,
                        String.format(
                                Locale.ROOT,
                                "%.0f queries/s, recall@%d %.3f vs exact (%d queries checked)",
                                c.annQueries() / annSec,
                                c.knnK(),
                                recall,
                                checked)));
                rows.add(new Row(
                        "exact search (flat), for the recall",
                        checked + " queries, k=" + c.knnK(),
                        flatSec,
                        String.format(Locale.ROOT, "%.0f queries/s", checked / flatSec)));
                numbers.put("ivf_search_seconds", annSec);
                numbers.put("ivf_recall_at_k", recall);
                numbers.put("flat_queries_per_s_at_ann_n", checked / flatSec);
            }
        }
    }

    /** {@code planted} extra rows: copies of evenly spaced rows with small noise (cosine ≈ 0.98 to the original). */
    static FloatMatrix plantCopies(FloatMatrix x, int planted, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed + 99);
        int d = x.cols();
        int step = x.rows() / planted;
        float[] data = new float[(x.rows() + planted) * d];
        System.arraycopy(x.data(), 0, data, 0, x.data().length);
        for (int i = 0; i < planted; i++) {
            int src = i * step;
            for (int j = 0; j < d; j++) {
                data[(x.rows() + i) * d + j] = x.data()[src * d + j] + (float) (0.01 * rnd.nextGaussian());
            }
        }
        return new FloatMatrix(x.rows() + planted, d, data).normalizedRows();
    }

    /** Best of 3 float32 2048³ matmuls, in GFLOP/s. */
    public static double gemmPeak() {
        int s = 2048;
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.randomUniform(-1, 1, new Shape(s, s));
            NDArray b = m.randomUniform(-1, 1, new Shape(s, s));
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 4; i++) {
                long t0 = System.nanoTime();
                try (NDArray c = a.matMul(b)) {
                    c.getShape(); // PyTorch CPU ops are synchronous: the product is done here
                }
                double sec = (System.nanoTime() - t0) / 1e9;
                if (i > 0) {
                    best = Math.min(best, sec);
                }
            }
            return 2.0 * s * s * s / best / 1e9;
        }
    }
}
