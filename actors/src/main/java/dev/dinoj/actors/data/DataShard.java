package dev.dinoj.actors.data;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import com.typesafe.config.Config;
import dev.dinoj.actors.ClusterMessage;
import dev.dinoj.pipeline.curate.CuratedDataset;
import dev.dinoj.pipeline.data.EncodedImages;
import dev.dinoj.pipeline.data.ImageDataset;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * A data-shard entity: entity {@code k} owns dataset indices {@code [k·sliceSize, (k+1)·sliceSize)} and serves them,
 * encoded ({@link SampleCodec}), by (epoch, index). Entities live on nodes with the {@code data} role; cluster sharding
 * places them and moves them when a node leaves (they hold no state besides a served-sample counter).
 */
public final class DataShard extends AbstractBehavior<DataShard.Command> {

    public sealed interface Command {}

    /**
     * Samples {@code indices} (all inside this entity's slice) for epoch {@code epoch} of {@code dataset} (a dataset
     * spec; "" = the node's {@code dinoj.actors.data.dataset}), the first one from byte {@code fromByte} of its payload
     * (0, or where the previous reply cut it).
     */
    public record GetSamples(long epoch, String dataset, int[] indices, int fromByte, ActorRef<Samples> replyTo)
            implements Command, ClusterMessage {}

    /**
     * As many samples of a {@link GetSamples} as fit {@code dinoj.actors.data.max-reply-bytes} (under Artery's frame),
     * in request order: {@code indices} are the first {@code k} requested. Each sample's payload
     * ({@link SampleCodec.Wire}) is {@code totals[i]} bytes; {@code data} holds them concatenated, the first from byte
     * {@code firstFrom}, the last possibly cut short: the worker asks again from where it ends ({@link FetchedImages}).
     * {@code keys}: each one's object key (a curated set's index key; "" for datasets without keys). {@code skipped}: the
     * dataset indices, ascending, of the images over the pixel guard ({@code dinoj.data.max-image-pixels}) that were
     * skipped in place of these samples (the image sent for a position is the next one within the guard; empty when
     * none). {@code error} is non-empty (and nothing else set) when the request could not be served.
     */
    public record Samples(
            long epoch,
            int[] indices,
            byte[] kinds,
            int[] widths,
            int[] heights,
            int[] totals,
            int firstFrom,
            byte[] data,
            String[] keys,
            int[] skipped,
            String error)
            implements ClusterMessage {
        static Samples failed(long epoch, int[] indices, String error) {
            return new Samples(
                    epoch,
                    indices,
                    new byte[0],
                    new int[0],
                    new int[0],
                    new int[0],
                    0,
                    new byte[0],
                    new String[0],
                    new int[0],
                    error);
        }
    }

    /** Asks for the {@link Info} of {@code dataset} ("" = the node's). */
    public record GetInfo(String dataset, ActorRef<Info> replyTo) implements Command, ClusterMessage {}

    /** The dataset the entities serve. */
    public record Info(String dataset, int size, int sliceSize) implements ClusterMessage {}

    public static final EntityTypeKey<Command> KEY = EntityTypeKey.create(Command.class, "data-shard");

    /**
     * Settings of {@code dinoj.actors.data}; {@code app}: the node's config ({@code dinoj.storage.*} there and the
     * environment reach a curated S3 dataset; {@code dinoj.data.max-image-pixels} is the pixel guard).
     */
    public record Settings(
            String dataset, Path fashionMnistDir, int sliceSize, Path cacheDir, int maxReplyBytes, Config app) {
        /** Room Artery's frame keeps beside a reply's payload: the message's other fields and Kryo's framing. */
        static final long FRAME_RESERVE = 64 * 1024;

        public Settings {
            if (sliceSize < 1) {
                throw new IllegalArgumentException("dinoj.actors.data.slice-size must be >= 1: " + sliceSize);
            }
            if (maxReplyBytes < 4096) {
                throw new IllegalArgumentException(
                        "dinoj.actors.data.max-reply-bytes must be >= 4 KiB: " + maxReplyBytes);
            }
        }

        public static Settings fromConfig(Config c) {
            Config d = c.getConfig("dinoj.actors.data");
            String cache = d.getString("cache-dir");
            long frame = c.getBytes("akka.remote.artery.advanced.maximum-frame-size");
            long reply = d.getBytes("max-reply-bytes");
            if (reply + FRAME_RESERVE > frame) {
                throw new IllegalArgumentException("dinoj.actors.data.max-reply-bytes = " + reply
                        + " leaves less than 64 KiB of akka.remote.artery.advanced.maximum-frame-size = " + frame
                        + "; lower it or raise the frame size");
            }
            return new Settings(
                    d.getString("dataset"),
                    Path.of(d.getString("fashion-mnist-dir")),
                    d.getInt("slice-size"),
                    cache.isEmpty()
                            ? Path.of(
                                    ".dinoj-work", "datasets", "node-" + c.getInt("akka.remote.artery.canonical.port"))
                            : Path.of(cache),
                    (int) reply,
                    c);
        }

        public ImageDataset open() {
            return open(dataset);
        }

        /** Opens {@code spec} ("" = {@link #dataset()}). */
        public ImageDataset open(String spec) {
            return DatasetCache.open(spec.isEmpty() ? dataset : spec, fashionMnistDir, cacheDir, app);
        }
    }

    /** Entity id of the slice that holds {@code index}. */
    public static String entityId(int index, int sliceSize) {
        return Integer.toString(index / sliceSize);
    }

    /** Starts the sharding region here (on {@code data} nodes) or a proxy to it (elsewhere). */
    public static void init(ActorSystem<?> system, Settings settings) {
        ClusterSharding.get(system)
                .init(Entity.of(KEY, ctx -> create(settings, Integer.parseInt(ctx.getEntityId())))
                        .withRole("data"));
    }

    public static Behavior<Command> create(Settings settings, int slice) {
        return Behaviors.setup(ctx -> new DataShard(ctx, settings, slice));
    }

    private final Settings settings;
    private final int lo;
    private ImageDataset dataset;
    private String datasetSpec;
    private long served;

    private DataShard(ActorContext<Command> ctx, Settings settings, int slice) {
        super(ctx);
        this.settings = settings;
        this.lo = slice * settings.sliceSize();
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(GetSamples.class, this::onGetSamples)
                .onMessage(GetInfo.class, this::onGetInfo)
                .build();
    }

    private ImageDataset dataset(String spec) {
        String s = spec == null || spec.isEmpty() ? settings.dataset() : spec;
        if (dataset == null || !s.equals(datasetSpec)) {
            dataset = settings.open(s);
            datasetSpec = s;
        }
        return dataset;
    }

    private Behavior<Command> onGetInfo(GetInfo m) {
        ImageDataset ds;
        try {
            ds = dataset(m.dataset());
        } catch (RuntimeException e) {
            getContext().getLog().warn("Cannot open dataset [{}]: {}", datasetName(m.dataset()), e.getMessage());
            return this; // the coordinator asks again
        }
        m.replyTo().tell(new Info(datasetName(m.dataset()), ds.size(), settings.sliceSize()));
        return this;
    }

    private String datasetName(String spec) {
        return spec == null || spec.isEmpty() ? settings.dataset() : spec;
    }

    private Behavior<Command> onGetSamples(GetSamples m) {
        ImageDataset ds;
        try {
            ds = dataset(m.dataset());
        } catch (RuntimeException e) {
            m.replyTo()
                    .tell(Samples.failed(
                            m.epoch(),
                            m.indices(),
                            "data shard " + (lo / settings.sliceSize()) + " cannot open " + datasetName(m.dataset())
                                    + ": " + e.getMessage()));
            return this;
        }
        int hi = Math.min(lo + settings.sliceSize(), ds.size());
        for (int idx : m.indices()) {
            if (idx < lo || idx >= hi) {
                m.replyTo()
                        .tell(Samples.failed(
                                m.epoch(),
                                m.indices(),
                                "index " + idx + " is not in data shard " + (lo / settings.sliceSize()) + " [" + lo
                                        + ", " + hi + ")"));
                return this;
            }
        }
        Samples reply;
        try {
            reply = serve(ds, m);
        } catch (RuntimeException e) {
            m.replyTo()
                    .tell(Samples.failed(
                            m.epoch(),
                            m.indices(),
                            "data shard " + (lo / settings.sliceSize()) + ": " + e.getMessage()));
            return this;
        }
        served += reply.indices().length;
        if (getContext().getLog().isDebugEnabled()) {
            getContext()
                    .getLog()
                    .debug(
                            "Shard [{}] served [{}] samples of epoch [{}] in [{}] bytes ([{}] in all)",
                            lo / settings.sliceSize(),
                            reply.indices().length,
                            m.epoch(),
                            reply.data().length,
                            served);
        }
        m.replyTo().tell(reply);
        return this;
    }

    /**
     * The samples of {@code m} that fit the reply budget, in order: whole ones, then a piece of the next when at least
     * {@link #MIN_PIECE} bytes are left (always a piece of the first, so every reply makes progress).
     */
    private Samples serve(ImageDataset ds, GetSamples m) {
        int n = m.indices().length;
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        List<SampleCodec.Wire> wires = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        SortedSet<Integer> skipped = new TreeSet<>();
        long budget = settings.maxReplyBytes();
        for (int i = 0; i < n && budget > 0; i++) {
            int idx = m.indices()[i];
            SampleCodec.Wire w = SampleCodec.of(ds, idx);
            // the key of the image sent: for one over the pixel guard, that of the image taking its place
            String key = ds instanceof CuratedDataset c ? c.entry(c.used(idx)).key() : "";
            budget -= 16 + 3L * key.length(); // the key, UTF-8 at worst, and the arrays' entries
            int from = i == 0 ? m.fromByte() : 0;
            int left = w.bytes().length - from;
            if (left < 0) {
                throw new IllegalArgumentException(
                        "sample " + idx + " has " + w.bytes().length + " bytes, asked from " + from);
            }
            if (i > 0 && left > budget && budget < MIN_PIECE) {
                break; // the next request starts with it
            }
            int take = (int) Math.min(left, Math.max(budget, 1));
            data.write(w.bytes(), from, take);
            budget -= take;
            wires.add(w);
            keys.add(key);
            budget -= skippedFor(ds, idx, skipped);
        }
        int k = wires.size();
        byte[] kinds = new byte[k];
        int[] widths = new int[k];
        int[] heights = new int[k];
        int[] totals = new int[k];
        for (int i = 0; i < k; i++) {
            kinds[i] = wires.get(i).kind();
            widths[i] = wires.get(i).width();
            heights[i] = wires.get(i).height();
            totals[i] = wires.get(i).bytes().length;
        }
        return new Samples(
                m.epoch(),
                Arrays.copyOf(m.indices(), k),
                kinds,
                widths,
                heights,
                totals,
                m.fromByte(),
                data.toByteArray(),
                keys.toArray(new String[0]),
                skipped.stream().mapToInt(Integer::intValue).toArray(),
                "");
    }

    /**
     * Adds to {@code out} the images skipped in place of position {@code idx}: those from {@code idx} up to the one
     * sent ({@link EncodedImages#used}), wrapping around, are all over the pixel guard, as a single JVM's guard counts
     * them. Returns the bytes they take in the reply.
     */
    private static long skippedFor(ImageDataset ds, int idx, SortedSet<Integer> out) {
        if (!(ds instanceof EncodedImages e)) {
            return 0; // decoded datasets (IDX) have no guard
        }
        int used = e.used(idx);
        long bytes = 0;
        for (int j = idx; j != used; j = (j + 1) % ds.size()) {
            out.add(j);
            bytes += 5;
        }
        return bytes;
    }

    /** The smallest piece of a sample worth cutting off at the end of a reply. */
    static final int MIN_PIECE = 64 * 1024;
}
