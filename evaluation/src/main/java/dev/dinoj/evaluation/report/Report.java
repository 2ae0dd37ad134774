package dev.dinoj.evaluation.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dinoj.evaluation.features.EvalDataset;
import dev.dinoj.evaluation.features.EvalFeatures;
import dev.dinoj.evaluation.features.FeatureCache;
import dev.dinoj.evaluation.features.FeatureKind;
import dev.dinoj.evaluation.features.ModelSource;
import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.evaluation.knn.KnnEvaluator;
import dev.dinoj.evaluation.knn.KnnResult;
import dev.dinoj.evaluation.results.EvalLog;
import dev.dinoj.trainer.checkpoint.Checkpoints;
import dev.dinoj.trainer.model.VitConfig;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code dinoj report RUN_DIR}: an HTML page with PNG figures (XChart plots, image grids) about one training run.
 *
 * <ol>
 *   <li>loss curves, one chart per loss term of {@code metrics.jsonl} (per step and smoothed);
 *   <li>schedules (learning rate, weight decay, teacher momentum and temperature, last-layer lr), gradient norms and
 *       throughput;
 *   <li>k-NN over training: top-1 (k = 20, or the number of reference images when fewer; T = 0.07) of the teacher's
 *       CLS features at a few checkpoints and of a random initialisation (step 0), against the raw-pixel baseline
 *       (at most {@link #PIXEL_SIDE} px); features cached under {@code RUN/eval/cache}; the newest checkpoint's top-1
 *       per class, by class name;
 *   <li>the evaluation table: every result the eval commands recorded in {@code RUN/eval/results.jsonl}, plus the
 *       k-NN above;
 *   <li>the PCA of patch features as RGB (the DINOv2 figure) for a few test images;
 *   <li>the nearest training neighbours of a few test queries;
 *   <li>curated clusters: only when a curation manifest exists (a placeholder until the curation issue fixes
 *       its format).
 * </ol>
 */
public final class Report {

    /** Fashion-MNIST class names, by label. */
    public static final String[] FASHION_MNIST_CLASSES = EvalDataset.FASHION_MNIST_CLASSES.toArray(new String[0]);

    /** The k of the report's k-NN, or the number of reference images when there are fewer. */
    public static final int KNN_K = 20;

    /** The largest side of the raw-pixel baseline's images (photos at 224 px would be 150528 values each). */
    static final int PIXEL_SIDE = 64;

    /**
     * Report options.
     *
     * @param runDir the run directory (metrics.jsonl, checkpoints/, config.conf)
     * @param outDir where index.html and the PNGs go
     * @param train the k-NN reference set (e.g. Fashion-MNIST train)
     * @param test the query set (e.g. Fashion-MNIST test)
     * @param knnTrain reference images for the k-NN curve and the neighbours
     * @param knnTest query images for the k-NN curve
     * @param knnCheckpoints at most this many checkpoints on the k-NN curve (evenly spaced, newest included)
     * @param batch images per forward pass
     * @param pcaImages test images in the PCA figure
     * @param pcaSize input side of the PCA figure (0 = twice the training size)
     * @param queries queries in the nearest-neighbour figure
     * @param neighbours neighbours shown per query
     * @param curationManifest a curated dataset directory (or a file in it), or null to look for {@code RUN/curated/}
     * @param classNames class names by label (null for numbers)
     */
    public record Options(
            Path runDir,
            Path outDir,
            EvalDataset train,
            EvalDataset test,
            int knnTrain,
            int knnTest,
            int knnCheckpoints,
            int batch,
            int pcaImages,
            int pcaSize,
            int queries,
            int neighbours,
            Path curationManifest,
            String[] classNames) {}

    /**
     * What was written.
     *
     * @param html the page
     * @param figures figure id → PNG file, in page order
     * @param knn checkpoint step → k-NN top-1 (k = {@code knnK}) on the curve (step 0 is the random initialisation)
     * @param pixelKnn the raw-pixel baseline's top-1
     * @param curationSection whether the curated-cluster section was written
     * @param knnK the k of the k-NN ({@value #KNN_K}, or the number of reference images when fewer)
     */
    public record Result(
            Path html,
            Map<String, Path> figures,
            Map<Long, Double> knn,
            double pixelKnn,
            boolean curationSection,
            int knnK) {}

    /** Told what the report is doing. */
    @FunctionalInterface
    public interface Listener {
        /**
         * @param message one line
         */
        void status(String message);
    }

    private final Options o;
    private final Listener listener;
    private final HtmlPage page = new HtmlPage();

    /**
     * @param options the options
     * @param listener progress lines (may be null)
     */
    public Report(Options options, Listener listener) {
        this.o = options;
        this.listener = listener == null ? m -> {} : listener;
    }

    /**
     * Writes the report.
     *
     * @return what was written
     */
    public Result write() {
        System.setProperty("java.awt.headless", "true");
        try {
            Files.createDirectories(o.outDir());
        } catch (IOException e) {
            throw new UncheckedIOException(o.outDir() + ": " + e.getMessage(), e);
        }
        List<Path> checkpoints = Checkpoints.list(o.runDir());
        RunMetrics metrics = RunMetrics.read(o.runDir().resolve("metrics.jsonl"));
        String title =
                "dinoj report: " + o.runDir().toAbsolutePath().normalize().getFileName();

        page.section("overview", "Run");
        overview(metrics, checkpoints);

        listener.status("plots of " + metrics.size() + " steps");
        page.section("losses", "Loss curves");
        TrainingCurves.losses(page, metrics, o.outDir());
        page.section("schedules", "Schedules and optimisation");
        TrainingCurves.schedules(page, metrics, o.outDir());

        Map<Long, Double> knn = new LinkedHashMap<>();
        double pixel = Double.NaN;
        FeatureSet latestTrain = null;
        FeatureSet latestTest = null;
        ModelSource latest = null;
        page.section("knn", "k-NN over training");
        if (checkpoints.isEmpty()) {
            page.para("No checkpoints in " + o.runDir().resolve("checkpoints") + ": nothing to evaluate.");
        } else {
            FeatureCache cache = FeatureCache.in(o.runDir().resolve("eval").resolve("cache"));
            List<Path> chosen = spaced(checkpoints, o.knnCheckpoints());
            ModelSource first = ModelSource.checkpoint(chosen.get(0));
            VitConfig vit = first.config();
            int k = knnK();
            KnnEvaluator knnK = KnnEvaluator.builder().optKs(k).build();
            List<ModelSource> sources = new ArrayList<>();
            sources.add(ModelSource.random(vit, 0));
            for (Path c : chosen) {
                sources.add(ModelSource.checkpoint(c));
            }
            for (ModelSource src : sources) {
                listener.status("k-NN of " + src.describe());
                try (EvalFeatures fx = new EvalFeatures(src, cache, o.batch(), null)) {
                    FeatureSet tr = fx.get(o.train(), o.knnTrain(), FeatureKind.CLS);
                    FeatureSet te = fx.get(o.test(), o.knnTest(), FeatureKind.CLS);
                    KnnResult r = knnK.evaluate(tr, te);
                    knn.put(src.step(), r.forK(k).top1());
                    if (src.type() == ModelSource.Type.CHECKPOINT) {
                        latest = src;
                        latestTrain = tr;
                        latestTest = te;
                    }
                }
            }
            listener.status("k-NN of raw pixels");
            try (EvalFeatures fx = new EvalFeatures(ModelSource.pixels(), FeatureCache.none(), o.batch(), null)) {
                int side = Math.min(PIXEL_SIDE, fx.evalSize(o.train()));
                pixel = knnK.evaluate(
                                fx.get(o.train(), o.knnTrain(), FeatureKind.PIXELS, side),
                                fx.get(o.test(), o.knnTest(), FeatureKind.PIXELS, side))
                        .forK(k)
                        .top1();
            }
            knnCurve(knn, pixel, k);
            if (latest != null) {
                page.append(ClassTable.html(
                        o.train(),
                        latestTest.labels(),
                        knnK.predict(latestTrain, latestTest).forK(k),
                        k));
            }
        }

        page.section("evaluations", "Evaluation table");
        table(knn, pixel, latest);

        page.section("pca", "PCA of patch features");
        if (latest != null) {
            pca(latest);
        } else {
            page.para("No checkpoint to take patch features from.");
        }

        page.section("neighbours", "Nearest neighbours");
        if (latestTrain != null) {
            neighbours(latestTrain, latestTest, latest);
        } else {
            page.para("No checkpoint to take features from.");
        }

        boolean curation = curation();

        Path html = o.outDir().resolve("index.html");
        try {
            Files.writeString(html, page.html(title), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(html + ": " + e.getMessage(), e);
        }
        return new Result(html, Map.copyOf(page.figures()), knn, pixel, curation, knnK());
    }

    // ------------------------------------------------------------------------------------------------ sections

    private void overview(RunMetrics m, List<Path> checkpoints) {
        StringBuilder sb = new StringBuilder("<table class=\"kv\">");
        HtmlPage.kv(sb, "run directory", o.runDir().toAbsolutePath().normalize().toString());
        HtmlPage.kv(
                sb,
                "steps logged",
                m.size() == 0
                        ? "0"
                        : String.format(
                                Locale.ROOT, "%d (%.0f … %.0f)", m.size(), m.steps()[0], m.steps()[m.size() - 1]));
        HtmlPage.kv(
                sb,
                "checkpoints",
                checkpoints.isEmpty()
                        ? "none"
                        : checkpoints.size() + " (newest "
                                + checkpoints.get(checkpoints.size() - 1).getFileName() + ")");
        if (!checkpoints.isEmpty()) {
            VitConfig v = ModelSource.checkpoint(checkpoints.get(checkpoints.size() - 1))
                    .config();
            HtmlPage.kv(
                    sb,
                    "backbone",
                    String.format(
                            Locale.ROOT,
                            "ViT %d×%d, %d heads, patch %d, %d px, %d registers",
                            v.embedDim(),
                            v.depth(),
                            v.numHeads(),
                            v.patchSize(),
                            v.imgSize(),
                            v.numRegisterTokens()));
        }
        if (m.has("images_per_s")) {
            HtmlPage.kv(
                    sb,
                    "throughput (median)",
                    String.format(Locale.ROOT, "%.1f images/s", median(m.column("images_per_s"))));
        }
        HtmlPage.kv(
                sb,
                "k-NN sets",
                o.train().id() + " (" + o.knnTrain() + ") vs " + o.test().id() + " (" + o.knnTest() + ")");
        HtmlPage.kv(sb, "classes", ClassTable.names(o.train()));
        HtmlPage.kv(sb, "generated", Instant.now().toString());
        page.append(sb.append("</table>\n"));
    }

    /** k of the k-NN: {@link #KNN_K}, or the number of reference images when there are fewer. */
    private int knnK() {
        int n = o.knnTrain() > 0
                ? Math.min(o.knnTrain(), o.train().size())
                : o.train().size();
        return Math.max(1, Math.min(KNN_K, n));
    }

    private void knnCurve(Map<Long, Double> knn, double pixel, int k) {
        double[] x = knn.keySet().stream().mapToDouble(Long::doubleValue).toArray();
        double[] y = knn.values().stream().mapToDouble(Double::doubleValue).toArray();
        double[] px = {x[0], x[x.length - 1]};
        double[] py = {pixel, pixel};
        page.figure(
                "knn-curve",
                Charts.line(
                        o.outDir().resolve("knn-curve.png"),
                        "k-NN top-1 (k = " + k + ", T = 0.07)",
                        "step",
                        "top-1 %",
                        List.of(
                                new Charts.Line("teacher CLS (step 0 = random init)", x, y, true, false),
                                new Charts.Line("raw pixels", px, py, false, true)),
                        false),
                "k-NN top-1 of the teacher's CLS features at each evaluated checkpoint");
        StringBuilder sb = new StringBuilder("<table><tr><th>step</th><th>k-NN top-1 %</th></tr>");
        knn.forEach((s, v) -> sb.append(String.format(
                Locale.ROOT, "<tr><td>%d%s</td><td>%.2f</td></tr>", s, s == 0 ? " (random init)" : "", v)));
        sb.append(String.format(Locale.ROOT, "<tr><td>raw pixels</td><td>%.2f</td></tr></table>%n", pixel));
        page.append(sb);
    }

    private void table(Map<Long, Double> knn, double pixel, ModelSource latest) {
        List<EvalLog.Entry> entries = EvalLog.read(o.runDir());
        StringBuilder sb =
                new StringBuilder("<table class=\"evals\"><tr><th>protocol</th><th>model</th><th>features</th>"
                        + "<th>headline</th><th>details</th></tr>\n");
        if (latest != null && knn.containsKey(latest.step())) {
            HtmlPage.row(
                    sb,
                    "k-NN (this report)",
                    "step " + latest.step(),
                    "cls",
                    String.format(Locale.ROOT, "top-1 %.2f %%", knn.get(latest.step())),
                    "k = " + knnK() + ", T = 0.07, " + o.knnTrain() + " / " + o.knnTest() + " images");
            HtmlPage.row(
                    sb,
                    "k-NN (this report)",
                    "raw pixels",
                    "pixels",
                    String.format(Locale.ROOT, "top-1 %.2f %%", pixel),
                    "");
        }
        for (EvalLog.Entry e : entries) {
            JsonNode r = e.result();
            String model = e.source().startsWith("teacher of") ? "step " + e.step() : e.source();
            HtmlPage.row(
                    sb,
                    e.protocol(),
                    model,
                    r.path("features").asText(""),
                    ResultLines.headline(r),
                    ResultLines.details(r));
        }
        sb.append("</table>\n");
        page.append(sb);
        if (entries.isEmpty()) {
            page.para("No results recorded yet: <code>dinoj eval linear|logreg|retrieval|dense|robustness --checkpoint "
                    + "RUN</code> append theirs to <code>RUN/eval/results.jsonl</code>.");
        }
    }

    private void pca(ModelSource src) {
        VitConfig v = src.config();
        int size = o.pcaSize() > 0 ? o.pcaSize() : 2 * v.imgSize();
        size -= size % v.patchSize();
        int grid = size / v.patchSize();
        int n = Math.min(o.pcaImages(), o.test().size());
        listener.status("PCA of patch features at " + size + " px");
        FeatureSet tokens;
        try (EvalFeatures fx =
                new EvalFeatures(src, FeatureCache.in(o.runDir().resolve("eval").resolve("cache")), o.batch(), null)) {
            tokens = fx.get(o.test(), n, FeatureKind.PATCH_TOKENS, size);
        }
        PatchPca.Maps maps = PatchPca.compute(tokens, grid);
        int side = 96;
        List<ImageGrids.Cell> inputs = new ArrayList<>();
        List<ImageGrids.Cell> pcs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            inputs.add(new ImageGrids.Cell(
                    ImageGrids.of(o.test().images().image(i), side),
                    className(o.test().images().label(i)),
                    null));
            pcs.add(new ImageGrids.Cell(
                    ImageGrids.ofPatches(maps.rgb()[i], grid, side), "PCA " + grid + "×" + grid, null));
        }
        page.figure(
                "pca",
                ImageGrids.write(o.outDir().resolve("pca.png"), List.of(inputs, pcs)),
                String.format(
                        Locale.ROOT,
                        "Top: test images. Bottom: the first three principal components of the "
                                + "foreground patch tokens as RGB (step %d, %d px input, %d×%d patches); background patches "
                                + "(first component below 0) are black. First component: %.1f %% of the variance.",
                        src.step(),
                        size,
                        grid,
                        grid,
                        100 * maps.explained()));
    }

    private void neighbours(FeatureSet train, FeatureSet test, ModelSource src) {
        int q = Math.min(o.queries(), test.n());
        int k = Math.min(o.neighbours(), train.n());
        int side = 64;
        List<List<ImageGrids.Cell>> rows = new ArrayList<>();
        int right = 0;
        for (int i = 0; i < q; i++) {
            int query = i * (test.n() / q); // spread over the test subset
            int[] nn = Neighbours.nearest(train, test, query, k);
            List<ImageGrids.Cell> row = new ArrayList<>();
            int ql = test.labels()[query];
            row.add(new ImageGrids.Cell(
                    ImageGrids.of(o.test().images().image(query), side), "query: " + className(ql), Color.BLUE));
            for (int j : nn) {
                int l = train.labels()[j];
                if (l == ql) {
                    right++;
                }
                row.add(new ImageGrids.Cell(
                        ImageGrids.of(o.train().images().image(j), side),
                        className(l),
                        l == ql ? new Color(0, 150, 0) : Color.RED));
            }
            rows.add(row);
        }
        page.figure(
                "neighbours",
                ImageGrids.write(o.outDir().resolve("neighbours.png"), rows),
                String.format(
                        Locale.ROOT,
                        "Each row: a test query (blue) and its %d nearest training images by cosine "
                                + "similarity of the teacher's CLS features (step %d), green when of the query's class, red "
                                + "otherwise (%d of %d).",
                        k,
                        src.step(),
                        right,
                        q * k));
    }

    private boolean curation() {
        Path dir = CurationSection.locate(o.curationManifest());
        if (dir == null) {
            dir = CurationSection.locate(o.runDir().resolve("curated"));
        }
        if (dir == null) {
            dir = CurationSection.locate(o.runDir().resolve("curation"));
        }
        if (dir == null) {
            return false;
        }
        listener.status("curated dataset " + dir);
        page.section("curation", "Curated data");
        CurationSection.Written w =
                CurationSection.write(dir, o.outDir().resolve("curated-clusters.png"), o.classNames(), 10, 10);
        page.append(w.html());
        if (w.figure() != null) {
            page.figure(
                    "curated-clusters",
                    w.figure(),
                    "Samples of the largest top-level clusters of the curated set "
                            + "(first cell: cluster id · size; captions: the class in the object key)");
        }
        return true;
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static List<Path> spaced(List<Path> all, int max) {
        if (all.size() <= max || max <= 0) {
            return all;
        }
        List<Path> out = new ArrayList<>();
        for (int i = 0; i < max; i++) {
            int idx = (int) Math.round((double) i * (all.size() - 1) / (max - 1));
            Path p = all.get(idx);
            if (!out.contains(p)) {
                out.add(p);
            }
        }
        return out;
    }

    private String className(int label) {
        String[] names = o.classNames();
        return names != null && label >= 0 && label < names.length
                ? names[label]
                : o.train().className(label);
    }

    private static double median(double[] v) {
        double[] f = Arrays.stream(v).filter(Double::isFinite).sorted().toArray();
        return f.length == 0 ? Double.NaN : f[f.length / 2];
    }
}
