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
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.RgbImage;
import java.nio.file.Path;

/**
 * A data-shard entity: entity {@code k} owns dataset indices {@code [k·sliceSize, (k+1)·sliceSize)} and serves them,
 * encoded ({@link SampleCodec}), by (epoch, index). Entities live on nodes with the {@code data} role; cluster sharding
 * places them and moves them when a node leaves (they hold no state besides a served-sample counter).
 */
public final class DataShard extends AbstractBehavior<DataShard.Command> {

    public sealed interface Command {}

    /**
     * Samples {@code indices} (all inside this entity's slice) for epoch {@code epoch} of {@code dataset} (a dataset
     * spec; "" = the node's {@code dinoj.actors.data.dataset}).
     */
    public record GetSamples(long epoch, String dataset, int[] indices, ActorRef<Samples> replyTo)
            implements Command, ClusterMessage {}

    /**
     * The images of a {@link GetSamples}, concatenated 8-bit RGB planes, and each one's object key (a curated set's
     * index entry key; "" for datasets without keys); {@code error} is non-empty (and nothing else set) when the
     * request could not be served.
     */
    public record Samples(
            long epoch, int[] indices, int[] widths, int[] heights, byte[] rgb, String[] keys, String error)
            implements ClusterMessage {}

    /** Asks for the {@link Info} of {@code dataset} ("" = the node's). */
    public record GetInfo(String dataset, ActorRef<Info> replyTo) implements Command, ClusterMessage {}

    /** The dataset the entities serve. */
    public record Info(String dataset, int size, int sliceSize) implements ClusterMessage {}

    public static final EntityTypeKey<Command> KEY = EntityTypeKey.create(Command.class, "data-shard");

    /** Settings of {@code dinoj.actors.data}. */
    /** {@code app}: the node's config; {@code dinoj.storage.*} there (and the environment) reach a curated S3 dataset. */
    public record Settings(String dataset, Path fashionMnistDir, int sliceSize, Path cacheDir, Config app) {
        public Settings {
            if (sliceSize < 1) {
                throw new IllegalArgumentException("dinoj.actors.data.slice-size must be >= 1: " + sliceSize);
            }
        }

        public static Settings fromConfig(Config c) {
            Config d = c.getConfig("dinoj.actors.data");
            String cache = d.getString("cache-dir");
            return new Settings(
                    d.getString("dataset"),
                    Path.of(d.getString("fashion-mnist-dir")),
                    d.getInt("slice-size"),
                    cache.isEmpty()
                            ? Path.of(
                                    ".dinoj-work", "datasets", "node-" + c.getInt("akka.remote.artery.canonical.port"))
                            : Path.of(cache),
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
                    .tell(new Samples(
                            m.epoch(),
                            m.indices(),
                            new int[0],
                            new int[0],
                            new byte[0],
                            new String[0],
                            "data shard " + (lo / settings.sliceSize()) + " cannot open " + datasetName(m.dataset())
                                    + ": " + e.getMessage()));
            return this;
        }
        int hi = Math.min(lo + settings.sliceSize(), ds.size());
        int n = m.indices().length;
        int[] w = new int[n];
        int[] h = new int[n];
        RgbImage[] images = new RgbImage[n];
        String[] keys = new String[n];
        int bytes = 0;
        for (int i = 0; i < n; i++) {
            int idx = m.indices()[i];
            if (idx < lo || idx >= hi) {
                m.replyTo()
                        .tell(new Samples(
                                m.epoch(),
                                m.indices(),
                                new int[0],
                                new int[0],
                                new byte[0],
                                new String[0],
                                "index " + idx + " is not in data shard " + (lo / settings.sliceSize()) + " [" + lo
                                        + ", " + hi + ")"));
                return this;
            }
            images[i] = ds.image(idx);
            keys[i] = ds instanceof CuratedDataset c ? c.entry(idx).key() : "";
            w[i] = images[i].width();
            h[i] = images[i].height();
            bytes += SampleCodec.length(w[i], h[i]);
        }
        byte[] rgb = new byte[bytes];
        int off = 0;
        for (int i = 0; i < n; i++) {
            SampleCodec.encode(images[i], rgb, off);
            off += SampleCodec.length(w[i], h[i]);
        }
        served += n;
        if (getContext().getLog().isDebugEnabled()) {
            getContext()
                    .getLog()
                    .debug(
                            "Shard [{}] served [{}] samples of epoch [{}] ([{}] in all)",
                            lo / settings.sliceSize(),
                            n,
                            m.epoch(),
                            served);
        }
        m.replyTo().tell(new Samples(m.epoch(), m.indices(), w, h, rgb, keys, ""));
        return this;
    }
}
