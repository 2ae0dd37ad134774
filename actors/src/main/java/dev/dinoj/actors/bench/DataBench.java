package dev.dinoj.actors.bench;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorRefResolver;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Behaviors;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.actors.ActorsConfig;
import dev.dinoj.actors.data.DataShard;
import dev.dinoj.actors.data.FetchedImages;
import dev.dinoj.pipeline.augment.MultiCropAugmentation;
import dev.dinoj.pipeline.augment.MultiCropConfig;
import dev.dinoj.pipeline.data.ImageFolderDataset;
import dev.dinoj.pipeline.data.PixelGuard;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * {@code dinoj bench data}: how fast a folder of photos becomes training samples. (1) decode only, and decode +
 * multi-crop augmentation (the official recipe at the given crop sizes), on one thread and on every core; (2) delivery
 * from a data-shard entity to a worker in another actor system of this JVM, over Artery TCP on loopback with the Kryo
 * cluster serializer (stored bytes, replies under the frame), alone and then with the worker decoding and augmenting on
 * every core, as a trainer worker does.
 */
public final class DataBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    private DataBench() {}

    /**
     * What to time.
     *
     * @param source        a folder of images (class sub-folders or flat)
     * @param images        images to use (the first of the folder), at most its size
     * @param globalSize    global crop size (224 for patch-14 models)
     * @param localCrops    local crops per image
     * @param localSize     local crop size (98 for patch 14)
     * @param threads       threads of the parallel runs (0 = one per core)
     * @param requestImages images per data-shard request (a step's share of one slice)
     */
    public record Options(
            Path source, int images, int globalSize, int localCrops, int localSize, int threads, int requestImages) {}

    /** The measurements. */
    public record Result(Map<String, Object> numbers) {
        public String table() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(
                    Locale.ROOT,
                    "%d images from %s (mean %.0f KB, %s px); crops %dx%d + %dx%d; %d threads%n",
                    (int) numbers.get("images"),
                    numbers.get("source"),
                    (double) numbers.get("mean_kb"),
                    numbers.get("mean_size"),
                    2,
                    (int) numbers.get("global_size"),
                    (int) numbers.get("local_crops"),
                    (int) numbers.get("local_size"),
                    (int) numbers.get("threads")));
            sb.append(String.format(Locale.ROOT, "%-48s %12s %14s%n", "stage", "images/s", "images/s/core"));
            row(sb, "decode, 1 thread", "decode_1t", 1);
            row(sb, "decode + multi-crop, 1 thread", "decode_augment_1t", 1);
            row(sb, "decode + multi-crop, all threads", "decode_augment_mt", (int) numbers.get("threads"));
            row(sb, "shard -> worker delivery (Artery, Kryo)", "delivery", 0);
            row(sb, "delivery + decode + multi-crop on the worker", "delivery_decode_augment", 0);
            sb.append(String.format(
                    Locale.ROOT,
                    "delivery: %.1f MB/s in %d replies (at most %d bytes each)%n",
                    (double) numbers.get("delivery_mb_s"),
                    (int) numbers.get("replies"),
                    (int) numbers.get("max_reply_bytes")));
            return sb.toString();
        }

        private void row(StringBuilder sb, String name, String key, int threads) {
            double v = (double) numbers.get(key + "_images_s");
            sb.append(String.format(
                    Locale.ROOT,
                    "%-48s %12.1f %14s%n",
                    name,
                    v,
                    threads > 0 ? String.format(Locale.ROOT, "%.1f", v / threads) : "-"));
        }

        /** One JSON line: numbers with 4 significant digits, anything else as a string. */
        public String json() {
            ObjectNode o = JSON.createObjectNode();
            o.put("bench", "data");
            for (Map.Entry<String, Object> e : numbers.entrySet()) {
                if (e.getValue() instanceof Number num) {
                    o.put(e.getKey(), new BigDecimal(String.format(Locale.ROOT, "%.4g", num.doubleValue())));
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

    /** Runs the benchmark; {@code say} gets a line per stage. */
    public static Result run(Options c, Consumer<String> say) throws Exception {
        ImageFolderDataset ds = ImageFolderDataset.open(c.source());
        int n = Math.min(c.images(), ds.size());
        if (n < 1) {
            throw new IllegalArgumentException("--images must be >= 1: " + c.images());
        }
        int threads = c.threads() > 0 ? c.threads() : Runtime.getRuntime().availableProcessors();
        MultiCropAugmentation aug =
                new MultiCropAugmentation(MultiCropConfig.official(c.globalSize(), c.localCrops(), c.localSize()));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("source", c.source().toString());
        out.put("images", n);
        long bytes = 0;
        for (int i = 0; i < n; i++) {
            bytes += Files.size(ds.file(i));
        }
        var img = ds.image(0);
        int[] first = {img.width(), img.height()};
        out.put("mean_kb", bytes / 1024.0 / n);
        out.put("mean_size", first[0] + "x" + first[1]);
        out.put("global_size", c.globalSize());
        out.put("local_crops", c.localCrops());
        out.put("local_size", c.localSize());
        out.put("threads", threads);

        IntConsumer decode = i -> ds.image(i);
        IntConsumer decodeAugment = i -> aug.apply(ds.image(i), new SplittableRandom(i));
        time(n, 1, Math.min(n, 32), decode); // warm-up
        time(n, 1, Math.min(n, 32), decodeAugment);
        say.accept("decoding on one thread");
        out.put("decode_1t_images_s", time(n, 1, n, decode));
        say.accept("decoding + multi-crop on one thread");
        out.put("decode_augment_1t_images_s", time(n, 1, n, decodeAugment));
        say.accept("decoding + multi-crop on " + threads + " threads");
        out.put("decode_augment_mt_images_s", time(n, threads, n, decodeAugment));
        say.accept("delivery from a data shard over Artery");
        delivery(c, n, threads, aug, out);
        return new Result(out);
    }

    /** Images per second of {@code work} over {@code count} images on {@code threads} threads. */
    private static double time(int n, int threads, int count, IntConsumer work) throws Exception {
        ForkJoinPool pool = new ForkJoinPool(threads);
        try {
            long t0 = System.nanoTime();
            pool.submit(() -> IntStream.range(0, count).parallel().forEach(i -> work.accept(i % n)))
                    .get();
            return count / ((System.nanoTime() - t0) / 1e9);
        } finally {
            pool.shutdown();
        }
    }

    private static void delivery(Options c, int n, int threads, MultiCropAugmentation aug, Map<String, Object> out)
            throws Exception {
        Config base = ActorsConfig.load(ConfigFactory.parseString("akka.actor.provider = remote\n"
                + "akka.remote.artery.canonical.port = 0\n"
                + "akka.coordinated-shutdown.run-by-jvm-shutdown-hook = off\n"
                + "akka.actor.warn-about-direct-use-of-remote-provider = off\n"
                + "akka.loglevel = ERROR"));
        int maxReply = base.getBytes("dinoj.actors.data.max-reply-bytes").intValue();
        Path cache = Files.createTempDirectory("dinoj-bench-data");
        DataShard.Settings settings = new DataShard.Settings(
                "folder:" + c.source().toAbsolutePath(), Path.of(""), Math.max(n, 1), cache, maxReply, base);
        ActorSystem<DataShard.Command> data = ActorSystem.create(DataShard.create(settings, 0), "bench-data", base);
        ActorSystem<Void> worker = ActorSystem.create(Behaviors.empty(), "bench-worker", base);
        try {
            String path = ActorRefResolver.get(data).toSerializationFormat(data);
            ActorRef<DataShard.Command> shard = ActorRefResolver.get(worker).resolveActorRef(path);
            int[] replies = {0};
            long[] payload = {0};
            Duration timeout = Duration.ofSeconds(60);
            fetchAll(shard, worker, n, c.requestImages(), timeout, replies, payload); // warm-up: connection, JIT
            replies[0] = 0;
            payload[0] = 0;
            long t0 = System.nanoTime();
            fetchAll(shard, worker, n, c.requestImages(), timeout, replies, payload);
            double seconds = (System.nanoTime() - t0) / 1e9;
            out.put("delivery_images_s", n / seconds);
            out.put("delivery_mb_s", payload[0] / 1e6 / seconds);
            out.put("replies", replies[0]);
            out.put("max_reply_bytes", maxReply);

            long t1 = System.nanoTime();
            FetchedImages fetched = fetchAll(shard, worker, n, c.requestImages(), timeout, new int[1], new long[1]);
            ForkJoinPool pool = new ForkJoinPool(threads);
            try {
                pool.submit(() -> IntStream.range(0, n)
                                .parallel()
                                .forEach(i -> aug.apply(fetched.image(i), new SplittableRandom(i))))
                        .get();
            } finally {
                pool.shutdown();
            }
            out.put("delivery_decode_augment_images_s", n / ((System.nanoTime() - t1) / 1e9));
        } finally {
            worker.terminate();
            data.terminate();
            worker.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            data.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    /** Fetches images {@code 0..n-1} in requests of {@code per}, one request at a time, as a worker's step does. */
    private static FetchedImages fetchAll(
            ActorRef<DataShard.Command> shard,
            ActorSystem<?> worker,
            int n,
            int per,
            Duration timeout,
            int[] replies,
            long[] payload)
            throws Exception {
        FetchedImages fetched = new FetchedImages(n, PixelGuard.standard());
        for (int lo = 0; lo < n; lo += per) {
            int[] idx = IntStream.range(lo, Math.min(n, lo + per)).toArray();
            fetched.fetch(
                            idx,
                            (indices, from) -> AskPattern.<DataShard.Command, DataShard.Samples>ask(
                                            shard,
                                            replyTo -> new DataShard.GetSamples(0, "", indices, from, replyTo),
                                            timeout,
                                            worker.scheduler())
                                    .thenApply(s -> {
                                        replies[0]++;
                                        payload[0] += s.data().length;
                                        return s;
                                    }))
                    .toCompletableFuture()
                    .get(timeout.toSeconds() * 4, TimeUnit.SECONDS);
        }
        return fetched;
    }
}
