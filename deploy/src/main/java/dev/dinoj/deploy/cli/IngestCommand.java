package dev.dinoj.deploy.cli;

import akka.actor.ActorSystem;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.evaluation.metrics.Json;
import dev.dinoj.pipeline.data.IdxDataset;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.ImageFolderDataset;
import dev.dinoj.pipeline.ingest.DatasetUpload;
import dev.dinoj.pipeline.storage.ObjectInfo;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dinoj ingest DEST --from-idx FILE}: puts a dataset into object storage as one PNG object per image, so that
 * curation demos and tests start from real S3 content.
 */
@Command(
        name = "ingest",
        mixinStandardHelpOptions = true,
        description = {
            "Upload a dataset into a bucket prefix (or a local directory) as one PNG object per image, keyed "
                    + "DEST/<label>/<index>.png (DEST/unlabelled/... without labels); keys already there are skipped, so an "
                    + "interrupted upload is finished by running it again.",
            "With --as-archive the IDX file itself is uploaded as one object; curation expands it into images.",
            "Example: ./dinoj ingest s3://fmnist/train --from-idx /usr/share/datasets/fashion-mnist/"
                    + "train-images-idx3-ubyte.gz --local-s3 /tmp/dinoj-s3"
        })
public final class IngestCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "DEST", description = "s3://bucket/prefix, file:///path or a directory")
    String dest;

    @Option(names = "--from-idx", paramLabel = "IMAGES", description = "an IDX image file (*-images-idx3-ubyte[.gz])")
    Path fromIdx;

    @Option(
            names = "--labels",
            paramLabel = "LABELS",
            description = "its IDX label file (default: the *-labels-idx1-ubyte[.gz] beside it, if any)")
    Path labels;

    @Option(names = "--from-folder", paramLabel = "DIR", description = "a folder of images (class sub-folders or flat)")
    Path fromFolder;

    @Option(names = "--as-archive", description = "upload the --from-idx file itself as one object")
    boolean asArchive;

    @Option(names = "--limit", defaultValue = "0", description = "upload only the first N images (0 = all)")
    int limit;

    @Option(names = "--parallelism", defaultValue = "16", description = "uploads in flight (default ${DEFAULT-VALUE})")
    int parallelism;

    @Mixin
    StorageOptions storage;

    @Override
    public Integer call() throws Exception {
        if ((fromIdx == null) == (fromFolder == null)) {
            throw new UserError("give exactly one of --from-idx FILE or --from-folder DIR");
        }
        if (asArchive && fromIdx == null) {
            throw new UserError("--as-archive needs --from-idx");
        }
        Config config = ConfigFactory.load();
        StorageUri uri = StorageUri.parse(dest);
        StorageOptions st = storage;
        try (st) {
            StorageSettings ss = st.settings(config);
            ActorSystem system = ObjectStores.createSystem("dinoj-ingest", config, ss);
            try (ObjectStores.Location loc = ObjectStores.open(uri, ss, system)) {
                System.err.println("dinoj: destination " + loc.store().describe());
                if (asArchive) {
                    loc.store().ensureContainer().toCompletableFuture().join();
                    String key = loc.key(fromIdx.getFileName().toString());
                    ObjectInfo info = loc.store()
                            .putFile(key, fromIdx, "application/octet-stream")
                            .toCompletableFuture()
                            .join();
                    System.out.println("uploaded " + loc.store().uriOf(key) + " (" + info.size() + " bytes)");
                    ObjectNode line = Json.object()
                            .put("ingest", uri.toString())
                            .put("objects", 1)
                            .put("bytes", info.size());
                    System.out.println(Json.line(line));
                    return 0;
                }
                ImageDataset ds = fromIdx != null
                        ? IdxDataset.open(fromIdx, labelsFor(fromIdx))
                        : ImageFolderDataset.open(fromFolder);
                int n = limit > 0 ? Math.min(limit, ds.size()) : ds.size();
                System.err.println("dinoj: uploading " + n + " images of " + ds.describe());
                Progress p = new Progress("upload");
                DatasetUpload.Result r =
                        DatasetUpload.upload(system, loc, ds, limit, parallelism, done -> p.update(done, n, ""));
                p.done();
                System.out.println(r.describe());
                ObjectNode line = Json.object()
                        .put("ingest", uri.toString())
                        .put("objects", r.uploaded())
                        .put("skipped", r.skipped())
                        .put("bytes", r.bytes())
                        .put("seconds", Json.fixed(r.seconds(), 2));
                System.out.println(Json.line(line));
                return 0;
            } finally {
                ObjectStores.terminate(system);
            }
        }
    }

    private Path labelsFor(Path images) {
        if (labels != null) {
            return labels;
        }
        String name = images.getFileName().toString();
        if (!name.contains("images-idx3-ubyte")) {
            return null;
        }
        Path sibling = images.resolveSibling(name.replace("images-idx3-ubyte", "labels-idx1-ubyte"));
        return Files.isRegularFile(sibling) ? sibling : null;
    }
}
