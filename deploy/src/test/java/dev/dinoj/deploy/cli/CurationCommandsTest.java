package dev.dinoj.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dinoj.pipeline.curate.CuratedDataset;
import dev.dinoj.testkit.FashionMnist;
import dev.dinoj.testkit.StdStreams;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The curation commands as the CLI runs them (invoked through picocli directly, independent of their wiring in
 * {@code Main}): upload Fashion-MNIST into a loopback S3 server, curate it into a local dataset, bench small shapes.
 */
@Timeout(300)
class CurationCommandsTest {

    record Out(int code, String out) {}

    /** Runs {@code command} with stdout captured (and echoed, as stderr is, to the test's log). */
    static Out run(Object command, String... args) {
        StdStreams.Captured<Integer> c = StdStreams.capture(() -> new CommandLine(command).execute(args));
        System.out.print(c.out());
        System.err.print(c.err());
        return new Out(c.value(), c.out());
    }

    @Test
    void shouldUploadCurateAndReadBackThroughTheLoopbackServer(@TempDir Path tmp) {
        Path images = FashionMnist.dir().resolve("train-images-idx3-ubyte.gz");
        assumeTrue(Files.isRegularFile(images), "Fashion-MNIST not installed");
        String s3 = tmp.resolve("s3").toString();
        Out up = run(
                new IngestCommand(),
                "s3://fmnist/pool",
                "--from-idx",
                images.toString(),
                "--limit",
                "300",
                "--local-s3",
                s3);
        assertEquals(0, up.code(), up.out());
        assertTrue(up.out().contains("\"objects\":300"), up.out());
        Out again = run(
                new IngestCommand(),
                "s3://fmnist/pool",
                "--from-idx",
                images.toString(),
                "--limit",
                "300",
                "--local-s3",
                s3);
        assertTrue(again.out().contains("\"skipped\":300"), "a second upload skips what is there: " + again.out());
        Out arch = run(
                new IngestCommand(),
                "s3://fmnist/archive",
                "--from-idx",
                FashionMnist.dir().resolve("t10k-images-idx3-ubyte.gz").toString(),
                "--as-archive",
                "--local-s3",
                s3);
        assertEquals(0, arch.code(), arch.out());
        Out q = run(
                new IngestCommand(),
                "s3://fmnist/queries",
                "--from-idx",
                FashionMnist.dir().resolve("t10k-images-idx3-ubyte.gz").toString(),
                "--limit",
                "6",
                "--local-s3",
                s3);
        assertEquals(0, q.code(), q.out());

        Path out = tmp.resolve("curated");
        Out cur = run(
                new CurateCommand(),
                "--local-s3",
                s3,
                "--source",
                "s3://fmnist/pool/",
                "--queries",
                "s3://fmnist/queries/",
                "--out",
                out.toString(),
                "--target-size",
                "40",
                "--work",
                tmp.resolve("work").toString());
        assertEquals(0, cur.code(), cur.out());
        assertTrue(cur.out().contains("kept (curated)"), cur.out());
        assertTrue(cur.out().contains("\"kept\":40"), cur.out());
        assertEquals(40, CuratedDataset.open(out).size());
        // resumed: nothing is downloaded again
        Out re = run(
                new CurateCommand(),
                "--local-s3",
                s3,
                "--source",
                "s3://fmnist/pool/",
                "--out",
                tmp.resolve("curated2").toString(),
                "--work",
                tmp.resolve("work").toString());
        assertEquals(0, re.code(), re.out());
        assertTrue(re.out().contains("\"resumed\":300"), re.out());
    }

    /**
     * A checkpoint's ViT and the same weights exported in the official layout ({@code dinoj export}, the layout of an
     * official DINOv2 backbone) are the same retrieval embedder: curating with {@code --checkpoint}, with
     * {@code --weights --weights-config} and with {@code --weights} alone (the architecture read from the file) keeps
     * the same images.
     */
    @Test
    void shouldCurateWithExportedOfficialLayoutWeightsAsWithTheirCheckpoint(@TempDir Path tmp) throws Exception {
        FashionMnist.assumeInstalled();
        Path run = tmp.resolve("pico");
        CliTestSupport.Run train = CliTestSupport.main(
                "train",
                "--config",
                "fmnist-pico",
                "--set",
                "train.max-steps=3",
                "--set",
                "data.loader-threads=1",
                "--out",
                run.toString());
        assertEquals(0, train.code(), train::toString);
        Path weights = tmp.resolve("backbone.safetensors");
        CliTestSupport.Run export =
                CliTestSupport.main("export", "--checkpoint", run.toString(), "--out", weights.toString());
        assertEquals(0, export.code(), export::toString);

        String s3 = tmp.resolve("s3").toString();
        Path images = FashionMnist.dir().resolve("train-images-idx3-ubyte.gz");
        assertEquals(
                0,
                run(
                                new IngestCommand(),
                                "s3://fmnist/pool",
                                "--from-idx",
                                images.toString(),
                                "--limit",
                                "200",
                                "--local-s3",
                                s3)
                        .code());
        assertEquals(
                0,
                run(
                                new IngestCommand(),
                                "s3://fmnist/queries",
                                "--from-idx",
                                FashionMnist.dir()
                                        .resolve("t10k-images-idx3-ubyte.gz")
                                        .toString(),
                                "--limit",
                                "4",
                                "--local-s3",
                                s3)
                        .code());
        java.util.List<java.util.List<String>> kept = new java.util.ArrayList<>();
        for (String[] model : new String[][] {
            {"--checkpoint", run.toString()},
            {"--weights", weights.toString(), "--weights-config", "fmnist-pico"},
            {"--weights", weights.toString()}
        }) {
            Path out = tmp.resolve("curated-" + kept.size());
            Out cur = run(
                    new CurateCommand(),
                    "--local-s3",
                    s3,
                    "--source",
                    "s3://fmnist/pool/",
                    "--queries",
                    "s3://fmnist/queries/",
                    "--out",
                    out.toString(),
                    "--work",
                    tmp.resolve("work-" + kept.size()).toString(),
                    model[0],
                    model[1],
                    model.length > 2 ? model[2] : "--batch",
                    model.length > 2 ? model[3] : "64");
            assertEquals(0, cur.code(), cur.out());
            CuratedDataset ds = CuratedDataset.open(out);
            java.util.List<String> keys = new java.util.ArrayList<>();
            for (int i = 0; i < ds.size(); i++) {
                keys.add(ds.entry(i).key());
            }
            assertTrue(keys.size() > 0, cur.out());
            kept.add(keys);
        }
        assertEquals(kept.get(0), kept.get(1), "the same weights must retrieve the same images");
        assertEquals(kept.get(0), kept.get(2), "the architecture read from the file is the checkpoint's");
        CliTestSupport.Run missing = CliTestSupport.main(
                "curate",
                "--local-s3",
                s3,
                "--source",
                "s3://fmnist/pool/",
                "--out",
                tmp.resolve("x").toString(),
                "--weights",
                tmp.resolve("none.safetensors").toString());
        assertEquals(2, missing.code(), missing::toString);
        assertTrue(missing.err().contains("none.safetensors: no such file"), missing::toString);
    }

    @Test
    void shouldBenchTheShardedHierarchicalKMeansInThisJvm(@TempDir Path dir) {
        Out b = run(
                new BenchCurationScaleCommand(),
                "--n",
                "6000",
                "--dim",
                "32",
                "--centers",
                "20",
                "--partitions",
                "3",
                "--levels",
                "40,12,6,3",
                "--iterations",
                "3",
                "--resamples",
                "2",
                "--nodes",
                "0",
                "--dir",
                dir.toString());
        assertEquals(0, b.code(), b.out());
        assertTrue(b.out().contains("\"bench\":\"curation-scale\",\"n\":6000"), b.out());
        assertTrue(b.out().contains("peak heap MiB"), b.out());
        assertTrue(Files.isRegularFile(dir.resolve("curation/parts/part-00002/kmeans-level1.bin")));
    }

    @Test
    void shouldBenchTheShardedCopyDetectionInThisJvm(@TempDir Path dir) {
        FashionMnist.assumeInstalled();
        Out b = run(
                new BenchCopyScaleCommand(),
                "--originals",
                "400",
                "--copies",
                "40",
                "--partitions",
                "3",
                "--approximate-above",
                "100",
                "--nprobe",
                "4",
                "--nodes",
                "0",
                "--references",
                "30",
                "--dir",
                dir.toString());
        assertEquals(0, b.code(), b.out());
        assertTrue(b.out().contains("\"bench\":\"copy-scale\",\"originals\":400,\"copies\":40"), b.out());
        assertTrue(b.out().contains("\"references\":30,\"exclude_seconds\":"), b.out());
        assertTrue(Files.isRegularFile(dir.resolve("curation/parts/part-00002/exclude-matches.bin")));
        assertTrue(b.out().contains("\"search\":\"inverted lists\""), b.out());
        assertTrue(Files.isRegularFile(dir.resolve("curation/parts/part-00002/copy-lists.bin")));
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("\"caught\":(\\d+)").matcher(b.out());
        assertTrue(m.find(), b.out());
        assertTrue(Integer.parseInt(m.group(1)) >= 32, "planted copies caught: " + m.group(1));

        CliTestSupport.Run bad = CliTestSupport.main(
                "bench",
                "copy-scale",
                "--fashion-mnist-dir",
                dir.resolve("none").toString());
        assertEquals(2, bad.code(), bad.toString());
        assertTrue(bad.err().contains(dir.resolve("none").toString()), bad.toString());
    }

    @Test
    void shouldBenchSmallShapes() {
        Out b = run(
                new BenchCurationCommand(),
                "--n",
                "3000",
                "--dim",
                "384",
                "--k",
                "16",
                "--iterations",
                "3",
                "--planted",
                "30",
                "--ann-n",
                "20000",
                "--ann-queries",
                "200",
                "--nprobe",
                "8",
                "--markdown");
        assertEquals(0, b.code(), b.out());
        assertTrue(b.out().contains("\"bench\":\"curation\""), b.out());
        assertTrue(b.out().contains("recall@10"), b.out());
        assertTrue(b.out().contains("found 30 of 30 planted pairs"), b.out());
    }
}
