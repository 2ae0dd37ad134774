package dev.dinoj.deploy.cli;

import dev.dinoj.actors.bench.DataBench;
import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.pipeline.image.SyntheticPhotos;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dinoj bench data}: decode + multi-crop and data-shard delivery of a folder of photos, timed. */
@Command(
        name = "data",
        mixinStandardHelpOptions = true,
        description = {
            "Time how fast a folder of photos becomes training samples: decoding, decoding + the official multi-crop "
                    + "augmentation (2 global + N local crops) on one thread and on every core, and delivery from a "
                    + "data-shard entity to a worker over Artery (stored bytes, replies under the frame), alone and "
                    + "with the worker decoding and augmenting. Prints a table and one JSON line.",
            "Without --source it writes --images deterministic 500x375 JPEG scenes into a temporary folder."
        })
public final class BenchDataCommand implements Callable<Integer> {

    @Option(names = "--source", description = "a folder of images (class sub-folders or flat)")
    Path source;

    @Option(names = "--images", defaultValue = "512", description = "images used (default ${DEFAULT-VALUE})")
    int images;

    @Option(names = "--global-size", defaultValue = "224", description = "global crop size (default ${DEFAULT-VALUE})")
    int globalSize;

    @Option(names = "--local-crops", defaultValue = "8", description = "local crops (default ${DEFAULT-VALUE})")
    int localCrops;

    @Option(names = "--local-size", defaultValue = "98", description = "local crop size (default ${DEFAULT-VALUE})")
    int localSize;

    @Option(names = "--threads", defaultValue = "0", description = "threads of the parallel runs, 0 = one per core")
    int threads;

    @Option(
            names = "--request-images",
            defaultValue = "32",
            description = "images per data-shard request (default ${DEFAULT-VALUE})")
    int requestImages;

    @Override
    public Integer call() throws Exception {
        Path dir = source;
        if (dir == null) {
            dir = Files.createTempDirectory("dinoj-bench-photos");
            System.err.println("dinoj: writing " + images + " 500x375 JPEG scenes to " + dir);
            SyntheticPhotos.writeJpegFolder(dir, images, 500, 375, 10, 0);
        } else if (!Files.isDirectory(dir)) {
            throw new UserError("--source " + dir + ": not a directory");
        }
        DataBench.Result r = DataBench.run(
                new DataBench.Options(dir, images, globalSize, localCrops, localSize, threads, requestImages),
                line -> System.err.println("dinoj: " + line));
        System.out.print(r.table());
        System.out.println(r.json());
        return 0;
    }
}
