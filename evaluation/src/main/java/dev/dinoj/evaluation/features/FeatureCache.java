package dev.dinoj.evaluation.features;

import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.pipeline.storage.CacheKeys;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Features on disk, one file per key ({@code <sha256(key)[0..24]>.feat}), so a checkpoint's features are extracted
 * once and every protocol, the report and later runs reuse them. The key names the weights (checkpoint checksum),
 * the dataset, the number of images, the evaluation size and the feature kind; it is stored in the file and
 * compared on read, so a stale or foreign file is never used (it is recomputed and replaced).
 *
 * <p>Format (little-endian): magic {@code DJFEAT01}, key length and UTF-8 key, n, dim, n labels (int32), n·dim
 * features (float32). Files are written under a temporary name and renamed, so a crash never leaves a truncated
 * entry that looks valid; a file of the wrong length is treated as absent.
 */
public final class FeatureCache {

    private static final byte[] MAGIC = "DJFEAT01".getBytes(StandardCharsets.US_ASCII);

    private final Path dir;
    private final AtomicInteger hits = new AtomicInteger();
    private final AtomicInteger misses = new AtomicInteger();

    private FeatureCache(Path dir) {
        this.dir = dir;
    }

    /**
     * A cache in {@code dir} (created on first write).
     *
     * @param dir the directory
     * @return the cache
     */
    public static FeatureCache in(Path dir) {
        return new FeatureCache(dir);
    }

    /** @return a cache that stores nothing: every lookup computes */
    public static FeatureCache none() {
        return new FeatureCache(null);
    }

    /**
     * The default place for a model source: {@code RUN/eval/cache} when it is a checkpoint of a run directory,
     * else {@code ~/.cache/dinoj/features}.
     *
     * @param source the model source
     * @return the cache
     */
    public static FeatureCache defaultFor(ModelSource source) {
        if (source.type() == ModelSource.Type.CHECKPOINT) {
            Path ckpt = source.path().toAbsolutePath();
            Path checkpoints = ckpt.getParent();
            if (checkpoints != null
                    && checkpoints.getFileName().toString().equals("checkpoints")
                    && checkpoints.getParent() != null) {
                return in(checkpoints.getParent().resolve("eval").resolve("cache"));
            }
        }
        return in(Path.of(System.getProperty("user.home"), ".cache", "dinoj", "features"));
    }

    /** @return the directory, or null for {@link #none()} */
    public Path dir() {
        return dir;
    }

    /** @return lookups answered from disk */
    public int hits() {
        return hits.get();
    }

    /** @return lookups that computed */
    public int misses() {
        return misses.get();
    }

    /**
     * The features of {@code key}: from disk when present and valid, else computed and stored.
     *
     * @param key the full key (model, dataset, count, size, kind)
     * @param compute computes the features on a miss
     * @return the features
     */
    public FeatureSet getOrCompute(String key, Supplier<FeatureSet> compute) {
        if (dir != null) {
            FeatureSet cached = read(file(key), key);
            if (cached != null) {
                hits.incrementAndGet();
                return cached;
            }
        }
        misses.incrementAndGet();
        FeatureSet fs = compute.get();
        if (dir != null) {
            write(file(key), key, fs);
        }
        return fs;
    }

    /**
     * The file a key is stored in.
     *
     * @param key the key
     * @return its path (which may not exist)
     */
    public Path file(String key) {
        if (dir == null) {
            throw new IllegalStateException("this cache stores nothing");
        }
        return dir.resolve(CacheKeys.sha256Hex(key, 24) + ".feat");
    }

    private static FeatureSet read(Path f, String key) {
        if (!Files.isRegularFile(f)) {
            return null;
        }
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer head = ByteBuffer.allocate(MAGIC.length + 4).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, head);
            head.flip();
            byte[] magic = new byte[MAGIC.length];
            head.get(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                return null;
            }
            int keyLen = head.getInt();
            byte[] want = key.getBytes(StandardCharsets.UTF_8);
            if (keyLen != want.length) {
                return null;
            }
            ByteBuffer kb = ByteBuffer.allocate(keyLen + 8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, kb);
            kb.flip();
            byte[] got = new byte[keyLen];
            kb.get(got);
            if (!Arrays.equals(got, want)) {
                return null;
            }
            int n = kb.getInt();
            int dim = kb.getInt();
            long expected = MAGIC.length + 4L + keyLen + 8L + 4L * n + 4L * n * dim;
            if (n < 0 || dim < 1 || size != expected) {
                return null;
            }
            ByteBuffer body =
                    ByteBuffer.allocate(Math.toIntExact(4L * n + 4L * n * dim)).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, body);
            body.flip();
            int[] labels = new int[n];
            body.asIntBuffer().get(labels);
            body.position(4 * n);
            float[] data = new float[Math.multiplyExact(n, dim)];
            body.asFloatBuffer().get(data);
            return new FeatureSet(data, n, dim, labels);
        } catch (IOException | IllegalArgumentException e) {
            return null;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    private static void write(Path f, String key, FeatureSet fs) {
        Path tmp = f.resolveSibling(".tmp-" + f.getFileName() + "-" + UUID.randomUUID());
        try {
            Files.createDirectories(f.getParent());
            byte[] k = key.getBytes(StandardCharsets.UTF_8);
            ByteBuffer b = ByteBuffer.allocate(
                            Math.toIntExact(MAGIC.length + 4L + k.length + 8L + 4L * fs.n() + 4L * fs.data().length))
                    .order(ByteOrder.LITTLE_ENDIAN);
            b.put(MAGIC).putInt(k.length).put(k).putInt(fs.n()).putInt(fs.dim());
            b.asIntBuffer().put(fs.labels());
            b.position(b.position() + 4 * fs.n());
            b.asFloatBuffer().put(fs.data());
            b.position(b.capacity());
            b.flip();
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            }
            Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // best effort
            }
            throw new UncheckedIOException(
                    f + ": cannot write the feature cache (" + e.getMessage()
                            + "); check free space and permissions, or run without a cache",
                    e);
        }
    }
}
