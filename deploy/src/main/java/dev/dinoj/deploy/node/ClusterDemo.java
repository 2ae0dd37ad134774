package dev.dinoj.deploy.node;

import akka.actor.ActorSystem;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.ingest.DatasetUpload;
import dev.dinoj.pipeline.ingest.ImageEncoding;
import dev.dinoj.pipeline.ingest.PlantedPool;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import dev.dinoj.evaluation.transform.DatasetViews;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * The pieces of a curate-then-train cluster run on loopback, shared by {@code ./dinoj cluster up --demo} and
 * {@code ClusterCurateTrainTest}: the Fashion-MNIST pool with planted dirt and the query images uploaded to an S3
 * bucket, the node config that reaches that S3 server, and the {@code POST /training/submit} body.
 */
public final class ClusterDemo {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ClusterDemo() {
    }

    /**
     * An uploaded pool.
     *
     * @param source  {@code s3://bucket/pool}
     * @param queries {@code s3://bucket/queries}
     * @param objects every object key under the pool prefix (images, planted objects, the archive)
     * @param planted one line on the planted objects
     */
    public record Pool(String source, String queries, Set<String> objects, String planted) {
    }

    /**
     * Uploads images {@code [0, poolSize)} of {@code train} as PNG objects to {@code s3://bucket/pool}, planted dirt
     * (near and exact copies, noise, zero-byte and truncated PNGs, text files, a gzipped IDX archive of 20 images from
     * the end of {@code train}), and {@code queriesPerClass} query images per class from after the pool to
     * {@code s3://bucket/queries}.
     */
    public static Pool upload(ActorSystem system, StorageSettings ss, String bucket, ImageDataset train, int poolSize,
                              int queriesPerClass) {
        String source = "s3://" + bucket + "/pool";
        String queries = "s3://" + bucket + "/queries";
        try (ObjectStores.Location pool = ObjectStores.open(StorageUri.parse(source), ss, system);
             ObjectStores.Location q = ObjectStores.open(StorageUri.parse(queries), ss, system)) {
            DatasetUpload.upload(system, pool, train, poolSize, 16, null);
            ImageDataset archive = DatasetViews.subset(train, IntStream.range(train.size() - 20, train.size()).toArray(),
                    "last 20");
            PlantedPool.Plan plan = PlantedPool.plan(pool, train, poolSize, archive,
                    new PlantedPool.Spec(Math.max(1, poolSize / 50), Math.max(1, poolSize / 100), 4, 2, 2, 2, 20), 7);
            PlantedPool.upload(system, pool, plan, 16);
            Set<String> objects = new HashSet<>(plan.objects().keySet());
            for (int i = 0; i < poolSize; i++) {
                objects.add(DatasetUpload.keyOf(pool, i, train.label(i)));
            }
            q.store().ensureContainer().toCompletableFuture().join();
            int[] perClass = new int[10];
            for (int i = poolSize, up = 0; i < train.size() - 20 && up < 10 * queriesPerClass; i++) {
                int l = train.label(i);
                if (l >= 0 && l < 10 && perClass[l] < queriesPerClass) {
                    perClass[l]++;
                    up++;
                    q.store().put(DatasetUpload.keyOf(q, i, l), ImageEncoding.png(train.image(i)), "image/png")
                            .toCompletableFuture().join();
                }
            }
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
    public static String submitBody(String config, List<String> sets, String runDir, long steps, int checkpointEvery,
                                    Pool pool, String out, int targetSize, int partitions) {
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
        c.put("copy_embedder", "thumbnail:20");
        c.put("partitions", partitions);
        return b.toString();
    }

    /** POST with a bearer token; the response (status and body). */
    public static HttpResponse<String> post(String uri, String token, String body) throws IOException, InterruptedException {
        return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build().send(HttpRequest.newBuilder(URI.create(uri))
                        .timeout(Duration.ofSeconds(20)).header("Authorization", "Bearer " + token)
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** GET; the body, or null when the node does not answer 200. */
    public static String get(String uri) {
        try {
            HttpResponse<String> r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build().send(
                    HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(10)).GET().build(),
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
