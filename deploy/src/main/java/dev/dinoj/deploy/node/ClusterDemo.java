package dev.dinoj.deploy.node;

import akka.actor.ActorSystem;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.actors.data.StorageSystem;
import dev.dinoj.evaluation.transform.DatasetViews;
import dev.dinoj.loopback.LoopbackS3Server;
import dev.dinoj.pipeline.curate.Partitions;
import dev.dinoj.pipeline.data.IdxDataset;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.ingest.DatasetUpload;
import dev.dinoj.pipeline.ingest.PlantedPool;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.stream.IntStream;

/**
 * The pieces of a curate-then-train cluster run on loopback, shared by {@code ./dinoj cluster up --demo} and
 * {@code ClusterCurateTrainTest}: the Fashion-MNIST pool with planted dirt and the query images uploaded to an S3
 * bucket, the node config that reaches that S3 server, and the {@code POST /training/submit} body.
 */
public final class ClusterDemo {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ClusterDemo() {}

    /**
     * An uploaded pool.
     *
     * @param source  {@code s3://bucket/pool}
     * @param queries {@code s3://bucket/queries}
     * @param objects every object key under the pool prefix (images, planted objects, the archive)
     * @param planted one line on the planted objects
     */
    public record Pool(String source, String queries, Set<String> objects, String planted) {}

    /**
     * Uploads images {@code [0, poolSize)} of {@code train} as PNG objects to {@code s3://bucket/pool}, planted dirt
     * (near and exact copies, noise, zero-byte and truncated PNGs, text files, a gzipped IDX archive of 20 images from
     * the end of {@code train}), and {@code queriesPerClass} query images per class from after the pool to
     * {@code s3://bucket/queries}.
     */
    public static Pool upload(
            ActorSystem system,
            StorageSettings ss,
            String bucket,
            ImageDataset train,
            int poolSize,
            int queriesPerClass) {
        String source = "s3://" + bucket + "/pool";
        String queries = "s3://" + bucket + "/queries";
        try (ObjectStores.Location pool = ObjectStores.open(StorageUri.parse(source), ss, system);
                ObjectStores.Location q = ObjectStores.open(StorageUri.parse(queries), ss, system)) {
            DatasetUpload.upload(system, pool, train, poolSize, 16, null);
            ImageDataset archive = DatasetViews.subset(
                    train, IntStream.range(train.size() - 20, train.size()).toArray(), "last 20");
            PlantedPool.Plan plan = PlantedPool.plan(
                    pool,
                    train,
                    poolSize,
                    archive,
                    new PlantedPool.Spec(Math.max(1, poolSize / 50), Math.max(1, poolSize / 100), 4, 2, 2, 2, 20),
                    7);
            PlantedPool.upload(system, pool, plan, 16);
            Set<String> objects = new HashSet<>(plan.objects().keySet());
            for (int i = 0; i < poolSize; i++) {
                objects.add(DatasetUpload.keyOf(pool, i, train.label(i)));
            }
            DatasetUpload.uploadPerClass(
                    system, q, train, IntStream.range(poolSize, train.size() - 20), null, queriesPerClass, 16);
            return new Pool(source, queries, objects, plan.describe());
        }
    }

    /** HOCON for the nodes: {@code dinoj.storage.s3} of {@code ss} (endpoint, path style, credentials). */
    public static String storageConfig(StorageSettings ss) {
        return "dinoj.storage.s3 { endpoint = " + quote(ss.endpoint()) + ", access-style = " + quote(ss.accessStyle())
                + ", region = " + quote(ss.region()) + ", access-key-id = " + quote(ss.accessKeyId())
                + ", secret-access-key = " + quote(ss.secretAccessKey()) + " }\n";
    }

    private static String quote(String s) {
        return JSON.valueToTree(s).toString();
    }

    /** The body of {@code POST /training/submit} for a run that curates {@code pool} into {@code out} first. */
    public static String submitBody(
            String config,
            List<String> sets,
            String runDir,
            long steps,
            int checkpointEvery,
            Pool pool,
            String out,
            int targetSize,
            int partitions) {
        ObjectNode b = JSON.createObjectNode();
        b.put("config", config);
        var s = b.putArray("set");
        sets.forEach(s::add);
        b.put("dir", runDir);
        b.put("steps", steps);
        b.put("checkpoint_every", checkpointEvery);
        ObjectNode c = b.putObject("curate");
        c.put("source", pool.source());
        c.put("queries", pool.queries());
        c.put("out", out);
        c.put("target_size", targetSize);
        c.put("embedder", "pixels:28");
        c.put("copy_embedder", "copy:24");
        c.put("partitions", partitions);
        return b.toString();
    }

    /** POST with a bearer token; the response (status and body). */
    public static HttpResponse<String> post(String uri, String token, String body)
            throws IOException, InterruptedException {
        return HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(5))
                .build()
                .send(
                        HttpRequest.newBuilder(URI.create(uri))
                                .timeout(Duration.ofSeconds(20))
                                .header("Authorization", "Bearer " + token)
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
    }

    /** What {@code ./dinoj cluster up --demo} runs. */
    public record DemoOptions(
            int nodes,
            List<String> roles,
            Path userConfig,
            Path dir,
            int port,
            int managementPort,
            String heap,
            Path fashionMnistDir,
            int pool,
            int targetSize,
            long steps) {}

    /**
     * {@code ./dinoj cluster up --demo}: a loopback S3 server over {@code DIR/s3}, a Fashion-MNIST pool with planted
     * dirt and query images uploaded to it, N node JVMs with the curation role too, a submitted run that curates the
     * pool over the curation workers and trains {@code fmnist-pico} on the curated set; prints the curl commands,
     * follows the run to its end and stops everything. Returns 0 when the run finished.
     */
    public static int demo(DemoOptions o) throws Exception {
        Path fmnist = fashionMnist(o.fashionMnistDir(), o.dir());
        IdxDataset train = IdxDataset.fashionMnist(fmnist, true);
        int poolSize = Math.min(o.pool(), train.size() - 200);
        int target = o.targetSize() > 0 ? o.targetSize() : Math.max(1, poolSize / 2);
        List<String> roles = new ArrayList<>(o.roles());
        for (String r : List.of("coordinator", "worker", "data", "curation")) {
            if (!roles.contains(r)) {
                roles.add(r);
            }
        }
        String token = UUID.randomUUID().toString().replace("-", "");
        Files.createDirectories(o.dir());
        try (LoopbackS3Server s3 = LoopbackS3Server.start(o.dir().resolve("s3"), 0)) {
            StorageSettings ss = StorageSettings.fromConfig(ConfigFactory.load())
                    .withLocalEndpoint(s3.endpoint(), LoopbackS3Server.ACCESS_KEY, LoopbackS3Server.SECRET_KEY);
            System.out.println("== S3 server (S3Proxy) on " + s3.endpoint() + " over "
                    + o.dir().resolve("s3"));
            ActorSystem system =
                    ObjectStores.createSystem("dinoj-cluster-demo", StorageSystem.config(ConfigFactory.load()), ss);
            try {
                long t0 = System.nanoTime();
                Pool pool = upload(system, ss, "dinoj-demo", train, poolSize, 2);
                System.out.printf(
                        Locale.ROOT,
                        "== uploaded %d objects to %s (%d Fashion-MNIST images; planted %s) and 20 "
                                + "queries to %s in %.1f s%n",
                        pool.objects().size(),
                        pool.source(),
                        poolSize,
                        pool.planted(),
                        pool.queries(),
                        (System.nanoTime() - t0) / 1e9);
                Path conf = o.dir().resolve("demo.conf");
                StringBuilder c = new StringBuilder("# written by ./dinoj cluster up --demo\n");
                if (o.userConfig() != null) {
                    c.append("include file(")
                            .append(quote(o.userConfig().toAbsolutePath().toString()))
                            .append(")\n");
                }
                c.append("dinoj.actors.coordinator.min-workers = ")
                        .append(o.nodes())
                        .append('\n')
                        .append("dinoj.actors.curation.min-workers = ")
                        .append(o.nodes())
                        .append('\n')
                        .append("dinoj.actors.data.slice-size = 512\n")
                        .append("dinoj.node.management-token = ")
                        .append(quote(token))
                        .append('\n')
                        .append(storageConfig(ss));
                Files.writeString(conf, c);
                NodeLauncher.config(conf, roles, o.port(), o.managementPort());
                try (LocalCluster cluster = LocalCluster.start(
                        o.nodes(), o.dir(), roles, conf, o.port(), o.managementPort(), o.heap(), List.of())) {
                    Thread down = new Thread(cluster::close, "dinoj-cluster-down");
                    Runtime.getRuntime().addShutdownHook(down); // Ctrl-C stops the node JVMs too
                    cluster.awaitReady(Duration.ofMinutes(3));
                    String m = cluster.nodes().get(0).managementUri();
                    System.out.println("== cluster up: " + o.nodes() + " nodes (roles " + String.join(",", roles)
                            + "), logs in " + o.dir());
                    Path run = o.dir().toAbsolutePath().resolve("run");
                    String body = submitBody(
                            "fmnist-pico",
                            List.of("train.batch-size=" + 4 * o.nodes(), "data.loader-threads=1"),
                            run.toString(),
                            o.steps(),
                            (int) Math.max(1, o.steps() / 2),
                            pool,
                            "s3://dinoj-demo/curated",
                            target,
                            4 * o.nodes());
                    HttpResponse<String> r = post(m + "/training/submit", token, body);
                    System.out.println(
                            "== submitted (" + r.statusCode() + "): " + r.body().trim());
                    if (r.statusCode() != 200) {
                        return 2;
                    }
                    System.out.println("   curl -s " + m + "/cluster/members");
                    System.out.println("   curl -s " + m + "/training/status");
                    System.out.println("   curl -s " + m + "/metrics | grep ^dinoj_");
                    System.out.println("   curl -s -X POST -H 'Authorization: Bearer " + token + "' " + m
                            + "/training/stop     # or: ./dinoj runs stop --management " + m + " --token …");
                    JsonNode st = follow(cluster, m);
                    String phase = st == null ? "unknown" : st.get("phase").asText();
                    System.out.println("== run " + phase + ": "
                            + (st == null ? "" : st.get("message").asText()));
                    if (st != null && phase.equals("finished")) {
                        JsonNode cur = st.get("curation");
                        System.out.printf(
                                Locale.ROOT,
                                "   curated %s: %d objects in %d partitions on %d node(s), see "
                                        + "%s%n   trained %d steps, last loss %s, checkpoint %s%n",
                                cur.get("dataset").asText(),
                                cur.get("objects_total").asLong(),
                                cur.get("partitions").asInt(),
                                Arrays.stream(JSON.treeToValue(cur.get("partition_nodes"), String[].class))
                                        .distinct()
                                        .count(),
                                Partitions.root(run).resolve("summary.txt"),
                                st.get("step").asLong(),
                                last(st.get("recent_losses")),
                                st.get("checkpoint").asText());
                    }
                    return phase.equals("finished") ? 0 : 2;
                }
            } finally {
                ObjectStores.terminate(system);
            }
        }
    }

    private static String last(JsonNode a) {
        return a == null || a.size() == 0
                ? "-"
                : String.format(Locale.ROOT, "%.4f", a.get(a.size() - 1).asDouble());
    }

    /** Prints a line whenever the phase, the curation progress or the step changes; returns the final status. */
    private static JsonNode follow(LocalCluster cluster, String m) throws Exception {
        String shown = "";
        while (true) {
            String b = get(m + "/training/status");
            JsonNode st = b == null ? null : JSON.readTree(b);
            if (st != null) {
                String phase = st.get("phase").asText();
                JsonNode cur = st.get("curation");
                String line = phase.equals("curating")
                        ? String.format(
                                Locale.ROOT,
                                "curating (%s): %d/%d objects, %d/%d partitions, %d workers",
                                cur.get("phase").asText(),
                                cur.get("objects_done").asLong(),
                                cur.get("objects_total").asLong(),
                                cur.get("partitions_done").asInt(),
                                cur.get("partitions").asInt(),
                                cur.get("workers").asInt())
                        : String.format(
                                Locale.ROOT,
                                "%s: step %d/%d, world %d, loss %s",
                                phase,
                                st.get("step").asLong(),
                                st.get("total_steps").asLong(),
                                st.get("workers").size(),
                                last(st.get("recent_losses")));
                if (!line.equals(shown)) {
                    System.out.println("   " + line);
                    shown = line;
                }
                if (phase.equals("finished") || phase.equals("failed") || phase.equals("stopped")) {
                    return st;
                }
            }
            if (cluster.nodes().stream().noneMatch(p -> p.process().isAlive())) {
                return st;
            }
            Thread.sleep(2000);
        }
    }

    /** {@code preferred} when it has the Fashion-MNIST files, else the subset shipped in the jar, unpacked in dir. */
    static Path fashionMnist(Path preferred, Path dir) throws IOException {
        if (preferred != null
                && (Files.isRegularFile(preferred.resolve("train-images-idx3-ubyte.gz"))
                        || Files.isRegularFile(preferred.resolve("train-images-idx3-ubyte")))) {
            return preferred;
        }
        Path sub = dir.resolve("fashion-mnist-subset");
        Files.createDirectories(sub);
        for (String f : new String[] {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"}) {
            try (InputStream in = ClusterDemo.class.getResourceAsStream("/dinoj/fashion-mnist-subset/" + f)) {
                if (in == null) {
                    throw new IllegalStateException("the Fashion-MNIST subset is missing from the jar (" + f + "); "
                            + "install dataset-fashion-mnist or pass --fashion-mnist-dir");
                }
                Files.copy(in, sub.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        System.out.println(
                "dinoj: " + preferred + " has no Fashion-MNIST; using the 5,000 image subset shipped with dinoj");
        return sub;
    }

    /** GET; the body, or null when the node does not answer 200. */
    public static String get(String uri) {
        try {
            HttpResponse<String> r = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(5))
                    .build()
                    .send(
                            HttpRequest.newBuilder(URI.create(uri))
                                    .timeout(Duration.ofSeconds(10))
                                    .GET()
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
