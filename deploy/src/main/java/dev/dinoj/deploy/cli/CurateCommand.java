package dev.dinoj.deploy.cli;

import akka.actor.ActorSystem;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.evaluation.embed.VitEmbedder;
import dev.dinoj.evaluation.metrics.Json;
import dev.dinoj.pipeline.curate.AlignedCopyDetector;
import dev.dinoj.pipeline.curate.CurateJob;
import dev.dinoj.pipeline.curate.CurationSettings;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.embed.CopyEmbedder;
import dev.dinoj.pipeline.embed.Embedder;
import dev.dinoj.pipeline.embed.PixelEmbedder;
import dev.dinoj.pipeline.embed.ThumbnailEmbedder;
import dev.dinoj.pipeline.ingest.IngestStats;
import dev.dinoj.pipeline.storage.CacheKeys;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import dev.dinoj.trainer.config.ConfigError;
import dev.dinoj.trainer.config.DatasetSpec;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.model.VitConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code dinoj curate}: ingest an uncurated pool from S3 or a directory, deduplicate it, retrieve around query sets
 * and/or balance it to a target size, and write a curated dataset (tar shards + index + manifest).
 */
@Command(
        name = "curate",
        mixinStandardHelpOptions = true,
        description = {
            "Curate an image pool: stream it from S3 (or a directory; IDX archives are expanded), embed it, "
                    + "drop exact duplicates (SHA-256) and near duplicates (k-NN graph of the embeddings, cosine threshold), "
                    + "then retrieve around the --queries images (N nearest + M of each query's cluster, DINOv2's "
                    + "LVD-142M recipe) and/or balance to --target-size with hierarchical k-means + balanced sampling "
                    + "(ssl-data-curation).",
            "Writes OUT/shards/*.tar, OUT/index.jsonl, OUT/manifest.jsonl (every object's state) and "
                    + "OUT/summary.json. A re-run with the same --work resumes: objects already recorded with the "
                    + "same key and ETag are skipped.",
            "Example: ./dinoj curate --local-s3 /tmp/dinoj-s3 --source s3://fmnist/train --queries s3://fmnist/queries "
                    + "--out file:///tmp/curated --target-size 5000"
        })
public final class CurateCommand implements Callable<Integer> {

    @Option(names = "--source", required = true, description = "the pool: s3://bucket/prefix, file:///dir or a path")
    String source;

    @Option(names = "--queries", description = "query images (s3://... or a directory) for retrieval")
    String queries;

    @Option(names = "--out", required = true, description = "where the curated dataset goes (s3://... or a directory)")
    String out;

    @Option(names = "--target-size", description = "size of the curated set (balanced hierarchical sampling)")
    Integer targetSize;

    @Option(
            names = "--exclude",
            paramLabel = "SPEC",
            description = "drop the pool images that are copies of this set's images (repeatable; as LVD-142M was "
                    + "deduplicated against its benchmarks): fashion-mnist:test, idx:FILE, folder:DIR or "
                    + "curated:DIR|s3://…; counted as state excluded. Compared by aligned copy detection on copy:24 "
                    + "thumbnails: those of the default --copy-embedder copy:24, or else ones ingestion also "
                    + "computes (then another default --work)")
    List<String> exclude = new ArrayList<>();

    @Option(
            names = "--exclude-threshold",
            description = "aligned-verification score at or above which a pool image is a copy of an --exclude image "
                    + "(default 0.963, the copy detector's calibration; against a 10,000-image set it also drops ~3 %% "
                    + "of unrelated Fashion-MNIST images, ~0.5 %% at 0.975: docs/CURATION.md)")
    Float excludeThreshold;

    @Option(
            names = "--fashion-mnist-dir",
            defaultValue = "/usr/share/datasets/fashion-mnist",
            description = "folder of the Fashion-MNIST IDX files, for --exclude fashion-mnist:… (default "
                    + "${DEFAULT-VALUE})")
    Path fmnistDir;

    @Option(
            names = "--work",
            description = "local directory of the resumable state (default: .dinoj-work/curate-<hash "
                    + "of --source and the embedder>)")
    Path work;

    @Option(
            names = "--embedder",
            defaultValue = "pixels:28",
            description = "retrieval/clustering embedder: pixels:SIDE (raw-pixel baseline), thumbnail:SIDE (centred "
                    + "gray thumbnail), vit:CHECKPOINT (teacher CLS of a dinoj checkpoint or run directory) or "
                    + "vit:FILE.safetensors (CLS of backbone weights in the dinov2 hub, transformers or timm layout, "
                    + "the architecture read from the file) (default ${DEFAULT-VALUE})")
    String embedderSpec;

    @Option(names = "--checkpoint", description = "shortcut for --embedder vit:DIR")
    Path checkpoint;

    @Option(
            names = "--weights",
            description = "shortcut for --embedder vit:FILE: backbone weights (dinoj export, or a DINOv2 backbone in "
                    + "the dinov2 hub, transformers or timm layout)")
    Path weights;

    @Option(
            names = "--weights-config",
            description = "preset or HOCON file giving the architecture of --weights instead of the file's (its "
                    + "heads and interpolation; the shapes must match)")
    String weightsConfig;

    @Option(
            names = "--copy-embedder",
            defaultValue = "copy:24",
            description = "near-duplicate embedder: copy:SIDE (grey thumbnails compared by aligned copy detection: "
                    + "crops, flips, padding, photometric edits, noise, JPEG), the --embedder syntax (compared by cosine "
                    + "at dinoj.curate.near-duplicate.threshold), or 'same' to reuse --embedder (default "
                    + "${DEFAULT-VALUE})")
    String copySpec;

    @Option(
            names = "--batch",
            defaultValue = "128",
            description = "images per ViT forward pass (default ${DEFAULT-VALUE})")
    int batch;

    @Option(
            names = "--threshold",
            description = "near-duplicate cosine threshold (default dinoj.curate.near-duplicate.threshold)")
    Float threshold;

    @Option(names = "--per-query", description = "N nearest pool images per query image")
    Integer perQuery;

    @Option(names = "--per-cluster", description = "M images of each query's pool cluster")
    Integer perCluster;

    @Option(
            names = "--set",
            description = "override a dinoj.curate.* or dinoj.storage.* key (repeatable), "
                    + "e.g. --set curate.ingest.download-parallelism=16")
    List<String> sets = new ArrayList<>();

    @Mixin
    StorageOptions storage;

    @Option(
            names = "--metrics-port",
            description = "serve Prometheus metrics on 127.0.0.1:PORT/metrics while curating (objects listed, recorded "
                    + "per state, bytes, rate, GC, heap, resident memory)")
    Integer metricsPort;

    @Override
    public Integer call() throws Exception {
        Config config = withSets(ConfigFactory.load(), sets);
        CurationSettings cs;
        try {
            cs = CurationSettings.fromConfig(config);
        } catch (ConfigException e) {
            throw new UserError(e.getMessage());
        }
        if (threshold != null) {
            cs = cs.withNearDuplicateThreshold(threshold);
        }
        if (perQuery != null || perCluster != null) {
            cs = cs.withRetrieval(
                    perQuery != null ? perQuery : cs.retrievalPerQuery(),
                    perCluster != null ? perCluster : cs.retrievalPerCluster(),
                    cs.retrievalClusters());
        }
        if (excludeThreshold != null && !(excludeThreshold > 0 && excludeThreshold <= 1)) {
            throw new UserError("--exclude-threshold " + excludeThreshold + ": must be in (0, 1]");
        }
        if (targetSize != null && targetSize < 1) {
            throw new UserError("--target-size must be >= 1");
        }
        StorageUri src = StorageUri.parse(source);
        StorageUri dst = StorageUri.parse(out);
        StorageUri qry = queries == null ? null : StorageUri.parse(queries);
        StorageOptions st = storage;
        try (st;
                Embedder embedder = weights != null
                        ? weightsEmbedder()
                        : embedder(checkpoint != null ? "vit:" + checkpoint : embedderSpec, batch);
                Embedder copy = copySpec.equals("same") ? null : embedder(copySpec, batch)) {
            Path workDir = work != null ? work : defaultWork(src, !exclude.isEmpty(), copy, embedder);
            StorageSettings ss = st.settings(config);
            List<CurateJob.ExcludeSet> excludeSets = excludeSets(ss, config);
            System.err.println("dinoj: storage " + ss.describe());
            System.err.println("dinoj: embedder " + embedder.id() + " (dim " + embedder.dim() + "), copy detection "
                    + (copy == null ? "the same" : copy.id()) + ", work " + workDir);
            ActorSystem system = ObjectStores.createSystem("dinoj-curate", config, ss);
            try (LocalMetrics metrics = LocalMetrics.start(metricsPort)) {
                if (metrics != null) {
                    metrics.forCuration();
                    System.err.println("dinoj: metrics on http://127.0.0.1:" + metrics.port() + "/metrics");
                }
                Progress p = new Progress("ingest");
                long[] lastLog = {System.nanoTime()};
                CurateJob.Outcome o = CurateJob.run(
                        system,
                        new CurateJob.Spec(
                                src,
                                qry,
                                dst,
                                workDir,
                                targetSize,
                                excludeSets,
                                excludeThreshold != null ? excludeThreshold : AlignedCopyDetector.THRESHOLD),
                        copy,
                        embedder,
                        cs,
                        ss,
                        line -> {
                            p.done();
                            System.err.println("dinoj: " + line);
                        },
                        s -> {
                            if (metrics != null) {
                                metrics.ingest(s);
                            }
                            p.update(s.recorded() + s.resumed(), Math.max(s.listed(), 1), describe(s));
                            long now = System.nanoTime();
                            if (System.console() == null && now - lastLog[0] > 10_000_000_000L) {
                                lastLog[0] = now;
                                System.err.println("dinoj: ingest " + describe(s));
                            }
                        });
                p.done();
                System.out.println();
                System.out.print(o.curation().summary().table());
                System.out.printf(
                        Locale.ROOT,
                        "written: %d images in %d shards (%.1f MB) to %s in %.1f s%n",
                        o.written().images(),
                        o.written().shards(),
                        o.written().bytes() / 1e6,
                        dst,
                        o.seconds());
                IngestStats.Snapshot s = o.ingest().stats();
                ObjectNode line = Json.object();
                line.put("curate", src.toString());
                line.put("out", dst.toString());
                line.put("listed", s.listed());
                line.put("resumed", s.resumed());
                line.put("pool", o.curation().summary().pool());
                line.put("deduplicated", o.curation().summary().deduplicated());
                line.put("kept", o.curation().summary().kept());
                line.put("queries", o.queryImages());
                line.put("seconds", Json.fixed(o.seconds(), 2));
                System.out.println(Json.line(line));
                return 0;
            } finally {
                ObjectStores.terminate(system);
            }
        }
    }

    /**
     * {@code .dinoj-work/curate-<hash>} of the source and the embedders; the exclusion's thumbnails count only when
     * they are stored in columns of their own ({@link CurateJob#layout}: not with the {@code copy:24} copy embedder).
     */
    static Path defaultWork(StorageUri src, boolean exclude, Embedder copy, Embedder embedder) {
        boolean own = CurateJob.layout(copy, embedder, exclude).excludeDims() > 0;
        String ids = (own ? "exclude-copy-" + CurateJob.EXCLUDE_SIDE + "|" : "")
                + (copy == null ? "" : copy.id() + "|")
                + embedder.id();
        return Path.of(".dinoj-work", "curate-" + CacheKeys.sha256Hex(src + "|" + ids, 12));
    }

    /** The {@code --exclude} sets, opened (an unusable spec: one line naming it). */
    private List<CurateJob.ExcludeSet> excludeSets(StorageSettings ss, Config config) {
        List<CurateJob.ExcludeSet> sets = new ArrayList<>();
        for (String spec : exclude) {
            DatasetSpec parsed;
            try {
                parsed = DatasetSpec.parse(spec, fmnistDir);
            } catch (ConfigError e) {
                throw new UserError("--exclude " + spec + ": not an image set; use fashion-mnist:train|test, "
                        + "idx:FILE, folder:DIR or curated:DIR|s3://bucket/prefix");
            }
            ImageDataset images;
            try {
                images = parsed.open(ss, config);
            } catch (RuntimeException e) {
                throw new UserError("--exclude " + spec + ": " + e.getMessage());
            }
            if (images.size() == 0) {
                throw new UserError("--exclude " + spec + ": holds no images");
            }
            sets.add(new CurateJob.ExcludeSet(spec, images));
        }
        return sets;
    }

    /** The ViT of {@code --weights}, its architecture from the file or {@code --weights-config}. */
    private Embedder weightsEmbedder() {
        if (checkpoint != null) {
            throw new UserError("give --weights or --checkpoint, not both");
        }
        if (!Files.isRegularFile(weights)) {
            throw new UserError(weights + ": no such file (--weights)");
        }
        VitConfig vit = null;
        if (weightsConfig != null) {
            try {
                vit = TrainSettings.load(weightsConfig, List.of()).ssl().backbone();
            } catch (RuntimeException e) {
                throw new UserError("--weights-config " + weightsConfig + ": " + e.getMessage());
            }
        }
        return VitEmbedder.fromSafetensors(weights, vit, batch);
    }

    /** {@code pixels:SIDE}, {@code thumbnail:SIDE}, {@code copy:SIDE} or {@code vit:CHECKPOINT|WEIGHTS}. */
    static Embedder embedder(String spec, int batch) {
        int colon = spec.indexOf(':');
        String kind = colon < 0 ? spec : spec.substring(0, colon);
        String arg = colon < 0 ? "" : spec.substring(colon + 1);
        try {
            switch (kind) {
                case "pixels":
                    return new PixelEmbedder(arg.isEmpty() ? 28 : Integer.parseInt(arg));
                case "thumbnail":
                    return new ThumbnailEmbedder(arg.isEmpty() ? 20 : Integer.parseInt(arg));
                case "copy":
                    return new CopyEmbedder(arg.isEmpty() ? CopyEmbedder.DEFAULT_SIDE : Integer.parseInt(arg));
                case "vit":
                    if (arg.isEmpty()) {
                        throw new UserError("vit:PATH needs a checkpoint or run directory, or a weights file");
                    }
                    if (!Files.exists(Path.of(arg))) {
                        throw new UserError(
                                arg + ": no such checkpoint directory or weights file (--embedder " + spec + ")");
                    }
                    return VitEmbedder.of(Path.of(arg), batch);
                default:
                    break;
            }
        } catch (NumberFormatException e) {
            // fall through to the message below
        }
        throw new UserError(
                "embedder " + spec + ": use pixels:SIDE, thumbnail:SIDE, copy:SIDE, vit:CHECKPOINT or vit:WEIGHTS");
    }

    private static String describe(IngestStats.Snapshot s) {
        return String.format(
                Locale.ROOT,
                "listed %d, resumed %d, recorded %d, %.1f MB, %.0f obj/s",
                s.listed(),
                s.resumed(),
                s.recorded(),
                s.bytes() / 1e6,
                s.rate());
    }

    /** {@code --set key=value} overrides under {@code dinoj.} (the prefix may be omitted). */
    static Config withSets(Config base, List<String> sets) {
        Config c = base;
        for (String set : sets) {
            int eq = set.indexOf('=');
            if (eq <= 0) {
                throw new UserError("--set " + set + ": expected key=value, e.g. --set curate.near-duplicate.k=32");
            }
            String key = set.substring(0, eq).trim();
            String full = key.startsWith("dinoj.") ? key : "dinoj." + key;
            if (!full.startsWith("dinoj.curate.") && !full.startsWith("dinoj.storage.")) {
                throw new UserError("--set " + set + ": only dinoj.curate.* and dinoj.storage.* keys apply here");
            }
            if (!base.hasPath(full)) {
                throw new UserError("--set " + set + ": unknown key " + full
                        + " (every key is listed in pipeline/src/main/resources/reference.conf)");
            }
            try {
                c = ConfigFactory.parseString(
                                full + " = " + set.substring(eq + 1).trim())
                        .withFallback(c);
            } catch (ConfigException e) {
                throw new UserError("--set " + set + ": " + e.getMessage());
            }
        }
        return c.resolve();
    }
}
