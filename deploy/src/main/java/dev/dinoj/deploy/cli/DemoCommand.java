package dev.dinoj.deploy.cli;

import akka.actor.ActorSystem;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.evaluation.features.EvalDataset;
import dev.dinoj.evaluation.features.EvalFeatures;
import dev.dinoj.evaluation.features.FeatureCache;
import dev.dinoj.evaluation.features.FeatureKind;
import dev.dinoj.evaluation.features.ModelSource;
import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.evaluation.knn.KnnEvaluator;
import dev.dinoj.evaluation.knn.KnnResult;
import dev.dinoj.evaluation.metrics.Json;
import dev.dinoj.evaluation.report.Report;
import dev.dinoj.evaluation.results.EvalLog;
import dev.dinoj.evaluation.transform.DatasetViews;
import dev.dinoj.loopback.LoopbackS3Server;
import dev.dinoj.pipeline.curate.CurateJob;
import dev.dinoj.pipeline.curate.CuratedDataset;
import dev.dinoj.pipeline.curate.CurationSettings;
import dev.dinoj.pipeline.data.IdxDataset;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.embed.CopyEmbedder;
import dev.dinoj.pipeline.embed.PixelEmbedder;
import dev.dinoj.pipeline.ingest.DatasetUpload;
import dev.dinoj.pipeline.ingest.IngestStats;
import dev.dinoj.pipeline.ingest.PlantedPool;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import dev.dinoj.trainer.checkpoint.AtomicDirectory;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.train.StepReport;
import dev.dinoj.trainer.train.TrainLoop;
import dev.dinoj.trainer.train.TrainingRun;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dinoj demo}: the whole mission on the embedded default — a loopback S3 server, Fashion-MNIST uploaded as image
 * objects (plus the dirt of a real pool), curation (dedup, retrieval around query images, balanced sampling), a few
 * minutes of DINOv2 pretraining of the tiny preset on the curated set, k-NN evaluation, and the HTML report.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "The whole pipeline on Fashion-MNIST in one command: start an S3-compatible server on loopback, "
                    + "upload a pool of training images as PNG objects with planted near/exact duplicates, noise and corrupt "
                    + "objects, curate it (dedup, retrieval around query images, balanced hierarchical sampling), pretrain "
                    + "the fmnist-fast preset (DINO + iBOT + KoLeo, Sinkhorn-Knopp; its schedule fitted to --minutes) on the "
                    + "curated set for --minutes, "
                    + "k-NN-evaluate the teacher against a random backbone and raw pixels, and write the HTML report.",
            "Uses the Debian package dataset-fashion-mnist when installed, otherwise the 5,000 + 1,000 image "
                    + "subset shipped in the jar."
        })
public final class DemoCommand implements Callable<Integer> {

    static final String BUCKET = "dinoj-demo";

    @Option(names = "--minutes", defaultValue = "6", description = "training time budget (default ${DEFAULT-VALUE})")
    double minutes;

    @Option(
            names = "--out",
            defaultValue = "runs/demo",
            description = "run directory (default ${DEFAULT-VALUE}); "
                    + "its s3/ folder holds the bucket, curated/ the curated set, report/ the report")
    Path out;

    @Option(
            names = "--config",
            defaultValue = "fmnist-fast",
            description = "training preset or file (default ${DEFAULT-VALUE}: the most k-NN accuracy per CPU-minute; "
                    + "fmnist-tiny is the official configuration)")
    String config;

    @Option(
            names = "--pool",
            defaultValue = "20000",
            description = "training images uploaded as the uncurated pool " + "(default ${DEFAULT-VALUE})")
    int pool;

    @Option(
            names = "--queries-per-class",
            defaultValue = "20",
            description = "query images per class for retrieval, "
                    + "taken from training images outside the pool (default ${DEFAULT-VALUE})")
    int queriesPerClass;

    @Option(
            names = "--per-query",
            defaultValue = "50",
            description = "retrieval: N nearest pool images per query image, "
                    + "and as many of the query's cluster (default ${DEFAULT-VALUE})")
    int perQuery;

    @Option(
            names = "--target-size",
            defaultValue = "8000",
            description = "size of the curated set: the retrieved union "
                    + "is balanced down to it with hierarchical k-means sampling (default ${DEFAULT-VALUE})")
    int targetSize;

    @Option(
            names = "--eval-train",
            defaultValue = "5000",
            description = "training images used as k-NN neighbours, in the "
                    + "evaluation and the report's k-NN curve (default ${DEFAULT-VALUE})")
    int evalTrain;

    @Option(
            names = "--eval-test",
            defaultValue = "1000",
            description = "test images evaluated (default ${DEFAULT-VALUE})")
    int evalTest;

    @Option(names = "--set", description = "override a training key (repeatable)")
    List<String> sets = new ArrayList<>();

    @Option(
            names = "--fashion-mnist-dir",
            defaultValue = "/usr/share/datasets/fashion-mnist",
            description = "folder of the Fashion-MNIST IDX files (Debian package dataset-fashion-mnist); when missing, "
                    + "the subset shipped in the jar is used")
    Path fmnistDir;

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        Files.createDirectories(out);
        // a demo starts from scratch: the previous demo's bucket, curated set, checkpoints and report go
        for (String old : new String[] {
            "s3",
            "curate-work",
            "curated",
            "checkpoints",
            "eval",
            "report",
            "metrics.jsonl",
            "config.conf",
            "demo-summary.json"
        }) {
            deleteTree(out.resolve(old));
        }
        Path data = fashionMnist();
        IdxDataset train = IdxDataset.fashionMnist(data, true);
        int reserve = Math.max(queriesPerClass * 10 * 3, 500); // training images kept out of the pool for the queries
        if (pool < 100 || pool > train.size() - reserve) {
            throw new UserError("--pool " + pool + ": use 100.." + (train.size() - reserve) + " (" + train.size()
                    + " training images, " + reserve + " kept out of the pool for the queries and the IDX archive)");
        }
        if (targetSize < 10) {
            throw new UserError("--target-size " + targetSize + ": use at least 10");
        }
        TrainSettings settings = trainSettings();
        Config app = ConfigFactory.load();
        Path curatedDir = out.resolve("curated");
        CurateJob.Outcome curated;

        try (LoopbackS3Server server = LoopbackS3Server.start(out.resolve("s3"), 0)) {
            StorageSettings ss = StorageSettings.fromConfig(app)
                    .withLocalEndpoint(server.endpoint(), LoopbackS3Server.ACCESS_KEY, LoopbackS3Server.SECRET_KEY);
            stage(1, "S3-compatible server (S3Proxy) on " + server.endpoint() + " over " + out.resolve("s3"));
            ActorSystem system = ObjectStores.createSystem("dinoj-demo", app, ss);
            try {
                stage(2, "uploading " + pool + " Fashion-MNIST training images to s3://" + BUCKET + "/pool");
                upload(system, ss, train);
                stage(
                        3,
                        "curating s3://" + BUCKET + "/pool around " + 10 * queriesPerClass + " query images to "
                                + targetSize + " images");
                curated = curate(system, ss, app);
            } finally {
                ObjectStores.terminate(system);
            }
            deleteTree(curatedDir);
            CuratedDataset.fetch(StorageUri.parse("s3://" + BUCKET + "/curated"), ss, app, curatedDir);
        }

        stage(
                4,
                String.format(
                        Locale.ROOT,
                        "pretraining %s on the %d curated images for %.1f min into %s",
                        config,
                        curated.written().images(),
                        minutes,
                        out));
        TrainLoop.Result r;
        Progress p = new Progress("train");
        try (CuratedDataset ds = CuratedDataset.open(curatedDir)) {
            r = new TrainingRun(
                            settings,
                            out,
                            false,
                            rep -> p.update(
                                    rep.step(),
                                    rep.totalSteps(),
                                    String.format(
                                            Locale.ROOT,
                                            "loss %.4f  %.1f img/s",
                                            rep.totalLoss(),
                                            rep.imagesPerSecond())))
                    .withDataset(ds)
                    .run();
        }
        p.done();
        double lossStart = meanLoss(r.steps().subList(0, Math.min(10, r.steps().size())));
        double lossEnd = meanLoss(
                r.steps().subList(Math.max(0, r.steps().size() - 10), r.steps().size()));

        EvalDataset evTrain = EvalDataset.fashionMnist(data, true);
        EvalDataset evTest = EvalDataset.fashionMnist(data, false);
        int nTrain = Math.min(evalTrain, evTrain.images().size());
        int nTest = Math.min(evalTest, evTest.images().size());
        stage(
                5,
                "k-NN of the teacher on Fashion-MNIST (" + nTrain + " training neighbours, " + nTest + " test images)");
        KnnResult trained = knn(evTrain, evTest, nTrain, nTest);

        stage(6, "report (k-NN over training, random init and raw pixels, PCA, neighbours, curated clusters)");
        // two checkpoints on the k-NN curve (the first and the last, whose features step 5 cached) + random init
        Report.Result rep = new Report(
                        new Report.Options(
                                out,
                                out.resolve("report"),
                                evTrain,
                                evTest,
                                nTrain,
                                nTest,
                                2,
                                256,
                                8,
                                0,
                                6,
                                5,
                                curatedDir,
                                Report.FASHION_MNIST_CLASSES),
                        msg -> System.err.println("dinoj: report: " + msg))
                .write();
        double random = rep.knn().getOrDefault(0L, Double.NaN);

        double minutesTotal = (System.nanoTime() - t0) / 60e9;
        IngestStats.Snapshot is = curated.ingest().stats();
        ObjectNode summary = Json.object();
        summary.put("demo", config);
        summary.put("total_minutes", Json.fixed(minutesTotal, 2));
        summary.put("pool_objects", is.listed());
        summary.put("curated", curated.written().images());
        summary.put(
                "near_duplicates",
                curated.curation().summary().pool()
                        - curated.curation().summary().deduplicated());
        summary.put("train_minutes", Json.fixed(r.seconds() / 60, 2));
        summary.put("steps", r.endStep());
        summary.put("images_seen", r.endStep() * settings.batchSize());
        summary.put("loss_first10", Json.num(lossStart));
        summary.put("loss_last10", Json.num(lossEnd));
        ObjectNode knn = summary.putObject("knn_top1_k20");
        knn.put("trained", Json.fixed(trained.forK(20).top1(), 2));
        knn.put("random_init", Json.fixed(random, 2));
        knn.put("raw_pixels", Json.fixed(rep.pixelKnn(), 2));
        summary.put("eval_train", trained.nTrain());
        summary.put("eval_test", trained.nTest());
        summary.put("report", rep.html().toAbsolutePath().toString());
        Files.writeString(out.resolve("demo-summary.json"), Json.line(summary) + "\n");

        System.out.println();
        System.out.print(curated.curation().summary().table());
        System.out.println();
        System.out.println(trained.toTable());
        System.out.printf(
                Locale.ROOT,
                "run directory      %s (config.conf, metrics.jsonl, checkpoints/, curated/, s3/)%n",
                out.toAbsolutePath());
        System.out.printf(
                Locale.ROOT,
                "curated            %d of %d objects kept (%s)%n",
                curated.written().images(),
                is.listed(),
                curatedDir.toAbsolutePath());
        System.out.printf(
                Locale.ROOT,
                "trained            %d steps, %d images in %.1f min; loss %.3f -> %.3f%n",
                r.endStep(),
                r.endStep() * settings.batchSize(),
                r.seconds() / 60,
                lossStart,
                lossEnd);
        System.out.printf(
                Locale.ROOT,
                "k-NN top-1 (k=20)  trained teacher %.2f %%  |  random init %.2f %%  |  raw pixels %.2f %%%n",
                trained.forK(20).top1(),
                random,
                rep.pixelKnn());
        System.out.printf(Locale.ROOT, "report             %s%n", rep.html().toAbsolutePath());
        System.out.printf(Locale.ROOT, "total              %.1f min%n", minutesTotal);
        System.out.println(summary);
        return 0;
    }

    /** Stage banner. */
    private static void stage(int n, String what) {
        System.out.printf(Locale.ROOT, "== %d/6 %s%n", n, what);
    }

    private TrainSettings trainSettings() {
        List<String> all = new ArrayList<>(List.of(
                "train.max-minutes=" + minutes,
                "data.dataset=\"curated:" + out.resolve("curated").toAbsolutePath() + "\""));
        all.addAll(sets);
        return TrainSettings.load(config, all);
    }

    /** The pool (images [0, pool)), its planted dirt, and the query images (training images after the pool). */
    private void upload(ActorSystem system, StorageSettings ss, IdxDataset train) {
        try (ObjectStores.Location poolLoc =
                        ObjectStores.open(StorageUri.parse("s3://" + BUCKET + "/pool"), ss, system);
                ObjectStores.Location queryLoc =
                        ObjectStores.open(StorageUri.parse("s3://" + BUCKET + "/queries"), ss, system)) {
            Progress p = new Progress("upload");
            DatasetUpload.Result up =
                    DatasetUpload.upload(system, poolLoc, train, pool, 16, done -> p.update(done, pool, ""));
            p.done();
            System.out.println("   " + up.describe());
            ImageDataset archiveSource = DatasetViews.subset(
                    train, IntStream.range(train.size() - 200, train.size()).toArray(), "last 200");
            PlantedPool.Plan plan = PlantedPool.plan(
                    poolLoc,
                    train,
                    pool,
                    archiveSource,
                    new PlantedPool.Spec(Math.max(1, pool / 100), Math.max(1, pool / 200), 20, 3, 3, 3, 200),
                    7);
            PlantedPool.upload(system, poolLoc, plan, 16);
            System.out.println("   planted " + plan.describe());
            // queries: the first queriesPerClass images of each class after the pool (never in the pool)
            int uploaded = DatasetUpload.uploadPerClass(
                            system,
                            queryLoc,
                            train,
                            IntStream.range(pool, train.size() - 200),
                            null,
                            queriesPerClass,
                            16)
                    .size();
            System.out.println("   " + uploaded + " query images in s3://" + BUCKET + "/queries");
        }
    }

    private CurateJob.Outcome curate(ActorSystem system, StorageSettings ss, Config app) {
        CurationSettings cs = CurationSettings.fromConfig(app);
        cs = cs.withRetrieval(perQuery, perQuery, cs.retrievalClusters());
        Progress p = new Progress("ingest");
        // a fresh work dir: the demo re-curates whatever is in the bucket now
        Path work = out.resolve("curate-work");
        deleteTree(work);
        return CurateJob.run(
                system,
                new CurateJob.Spec(
                        StorageUri.parse("s3://" + BUCKET + "/pool"),
                        StorageUri.parse("s3://" + BUCKET + "/queries"),
                        StorageUri.parse("s3://" + BUCKET + "/curated"),
                        work,
                        targetSize),
                new CopyEmbedder(CopyEmbedder.DEFAULT_SIDE),
                new PixelEmbedder(28),
                cs,
                ss,
                line -> {
                    p.done();
                    System.out.println("   " + line);
                },
                s -> p.update(
                        s.recorded() + s.resumed(),
                        Math.max(s.listed(), 1),
                        String.format(Locale.ROOT, "%.0f obj/s", s.rate())));
    }

    private KnnResult knn(EvalDataset evTrain, EvalDataset evTest, int nTrain, int nTest) {
        ModelSource src = ModelSource.checkpoint(out);
        try (EvalFeatures fx =
                new EvalFeatures(src, FeatureCache.in(out.resolve("eval").resolve("cache")), 256, null)) {
            FeatureSet tr = fx.get(evTrain, nTrain, FeatureKind.CLS);
            FeatureSet te = fx.get(evTest, nTest, FeatureKind.CLS);
            KnnResult res = KnnEvaluator.builder()
                    .optKs(10, 20, 100, 200)
                    .optTemperature(0.07)
                    .build()
                    .evaluate(tr, te);
            EvalLog.append(out, src, res.toJson(FeatureKind.CLS.label()));
            return res;
        }
    }

    /** The Debian package's files, or the shipped subset unpacked into OUT/fashion-mnist-subset. */
    private Path fashionMnist() throws IOException {
        if (Files.isRegularFile(fmnistDir.resolve("train-images-idx3-ubyte.gz"))
                || Files.isRegularFile(fmnistDir.resolve("train-images-idx3-ubyte"))) {
            return fmnistDir;
        }
        Path dir = out.resolve("fashion-mnist-subset");
        Files.createDirectories(dir);
        for (String f : new String[] {
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz"
        }) {
            try (InputStream in = DemoCommand.class.getResourceAsStream("/dinoj/fashion-mnist-subset/" + f)) {
                if (in == null) {
                    throw new UserError("the Fashion-MNIST subset is missing from the jar (" + f + "); install "
                            + "dataset-fashion-mnist or pass --fashion-mnist-dir");
                }
                Files.copy(in, dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        System.out.println("dinoj: " + fmnistDir + " has no Fashion-MNIST (apt-get install dataset-fashion-mnist for "
                + "all 70,000 images); using the 5,000 + 1,000 image subset shipped with dinoj");
        if (pool > 5000 - Math.max(queriesPerClass * 30, 500)) {
            pool = 5000 - Math.max(queriesPerClass * 30, 500);
            targetSize = Math.min(targetSize, pool / 2);
            System.out.println("dinoj: pool " + pool + ", target size " + targetSize + " for the subset");
        }
        return dir;
    }

    private static double meanLoss(List<StepReport> steps) {
        return steps.stream().mapToDouble(StepReport::totalLoss).average().orElse(Double.NaN);
    }

    private static void deleteTree(Path dir) {
        try {
            AtomicDirectory.deleteTree(dir);
        } catch (IOException e) {
            throw new UserError(dir + ": cannot be cleared (" + e.getMessage() + ")");
        }
    }
}
