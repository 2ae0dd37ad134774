package dev.dinoj.pipeline.curate;

import akka.actor.ActorSystem;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import dev.dinoj.pipeline.data.DatasetException;
import dev.dinoj.pipeline.data.EncodedImages;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.PixelGuard;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.ingest.Manifest;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A curated dataset written by {@link CuratedWriter}, as an {@link ImageDataset}: {@code index.jsonl} gives each
 * image's shard, offset and length; {@link #image} reads those bytes with a positional read (thread-safe) and decodes
 * them. Unlabelled (label -1).
 *
 * <p>Proposed dataset spec for the trainer: {@code curated:/local/dir} or {@code curated:s3://bucket/prefix} (the
 * latter is first copied into a local cache with {@link #fetch}).
 */
public final class CuratedDataset implements EncodedImages, AutoCloseable {

    /** The index of a curated dataset. */
    public static final String INDEX = "index.jsonl";

    /** How {@link CuratedWriter} names shards; nothing else is read or written as a shard. */
    private static final Pattern SHARD_NAME = Pattern.compile("shards/shard-[0-9]{6}\\.tar");

    private final Path root;
    private final List<CuratedIndexEntry> index;
    private final Map<String, FileChannel> shards;
    private final PixelGuard guard;

    private CuratedDataset(
            Path root, List<CuratedIndexEntry> index, Map<String, FileChannel> shards, PixelGuard guard) {
        this.guard = guard;
        this.root = root;
        this.index = index;
        this.shards = shards;
    }

    /**
     * Opens a local curated dataset directory.
     *
     * @throws DatasetException if the index or a shard is missing or unreadable
     */
    public static CuratedDataset open(Path dir) {
        return open(dir, PixelGuard.standard());
    }

    /**
     * Opens a local curated dataset directory whose images {@link #image} decodes under {@code guard}.
     *
     * @throws DatasetException if the index or a shard is missing or unreadable
     */
    public static CuratedDataset open(Path dir, PixelGuard guard) {
        Path indexFile = dir.resolve("index.jsonl");
        if (!Files.isRegularFile(indexFile)) {
            throw new DatasetException(
                    dir + ": not a curated dataset (no index.jsonl); write one with 'dinoj curate --out " + dir + "'");
        }
        if (!Files.isRegularFile(dir.resolve("summary.json"))) {
            throw new DatasetException(
                    dir + ": incomplete curated dataset (no summary.json, the writer did not finish); "
                            + "run 'dinoj curate' again");
        }
        List<CuratedIndexEntry> index = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(indexFile, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    index.add(Manifest.JSON.readValue(line, CuratedIndexEntry.class));
                }
            }
        } catch (JsonProcessingException e) {
            throw new DatasetException(
                    indexFile + ": corrupt index line (" + e.getOriginalMessage() + "); curate again", e);
        } catch (IOException e) {
            throw new DatasetException(indexFile + ": cannot be read (" + e + ")", e);
        }
        for (int i = 0; i < index.size(); i++) {
            if (!isShardName(index.get(i).shard())) {
                throw new DatasetException(indexFile + ": line " + (i + 1) + " names shard \""
                        + index.get(i).shard() + "\", not one of this dataset's shards/shard-NNNNNN.tar; curate again");
            }
            if (index.get(i).i() != i) {
                throw new DatasetException(indexFile + ": line " + (i + 1) + " has i = "
                        + index.get(i).i() + "; curate again");
            }
        }
        Map<String, FileChannel> shards = new HashMap<>();
        for (String shard :
                new TreeSet<>(index.stream().map(CuratedIndexEntry::shard).toList())) {
            Path p = dir.resolve(shard);
            try {
                shards.put(shard, FileChannel.open(p, StandardOpenOption.READ));
            } catch (IOException e) {
                throw new DatasetException(p + ": shard missing or unreadable (" + e + ")", e);
            }
        }
        return new CuratedDataset(dir, List.copyOf(index), shards, guard);
    }

    /**
     * Copies a curated dataset from {@code uri} (S3 or local) into {@code cacheDir} unless it is already there (the same
     * summary, and a local index whose SHA-256 is the one the summary records), and returns the local directory. A set
     * curated again into the same {@code uri} has another summary and index: the copy is replaced, shards it no longer
     * names are deleted.
     */
    public static Path fetch(StorageUri uri, StorageSettings settings, Config config, Path cacheDir) {
        if (!uri.isS3()) {
            return uri.localPath();
        }
        ActorSystem system = ObjectStores.createSystem("dinoj-curated-fetch", config, settings);
        try (ObjectStores.Location loc = ObjectStores.open(uri, settings, system)) {
            Files.createDirectories(cacheDir);
            byte[] summary = loc.store()
                    .get(loc.key("summary.json"), 64L << 20)
                    .toCompletableFuture()
                    .join()
                    .data();
            Path local = cacheDir.resolve("summary.json");
            Map<String, String> recorded = recordedChecksums(summary, uri);
            if (Files.exists(local)
                    && Arrays.equals(Files.readAllBytes(local), summary)
                    && Files.exists(cacheDir.resolve(INDEX))
                    && (!recorded.containsKey(INDEX) || recorded.get(INDEX).equals(sha256(cacheDir.resolve(INDEX))))) {
                return cacheDir;
            }
            Files.deleteIfExists(local);
            Path index = cacheDir.resolve(INDEX);
            loc.store().getToFile(loc.key(INDEX), index).toCompletableFuture().join();
            checkRecorded(uri, INDEX, index, recorded);
            TreeSet<String> shardNames = new TreeSet<>();
            List<String> lines = Files.readAllLines(index, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).isBlank()) {
                    continue;
                }
                String shard = Manifest.JSON
                        .readValue(lines.get(i), CuratedIndexEntry.class)
                        .shard();
                if (!isShardName(shard)) {
                    throw new DatasetException(uri + "/" + INDEX + ": line " + (i + 1) + " names shard \"" + shard
                            + "\", not one of this dataset's shards/shard-NNNNNN.tar; nothing outside " + cacheDir
                            + " is written");
                }
                shardNames.add(shard);
            }
            for (String shard : shardNames) {
                Path file = cacheDir.resolve(shard);
                loc.store()
                        .getToFile(loc.key(shard), file)
                        .toCompletableFuture()
                        .join();
                checkRecorded(uri, shard, file, recorded);
            }
            deleteOtherShards(cacheDir, shardNames);
            Files.write(local, summary);
            return cacheDir;
        } catch (JsonProcessingException e) {
            throw new DatasetException(
                    uri + ": corrupt summary or index (" + e.getOriginalMessage() + "); curate again", e);
        } catch (IOException e) {
            throw new UncheckedIOException("fetching " + uri + " into " + cacheDir + " failed", e);
        } finally {
            ObjectStores.terminate(system);
        }
    }

    /** Deletes the shard files of an earlier copy that {@code keep} does not name. */
    private static void deleteOtherShards(Path cacheDir, Set<String> keep) throws IOException {
        Path shards = cacheDir.resolve("shards");
        if (!Files.isDirectory(shards)) {
            return;
        }
        try (Stream<Path> files = Files.list(shards)) {
            for (Path f : files.toList()) {
                if (!keep.contains("shards/" + f.getFileName())) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    /** The name of shard {@code n} of a dataset ({@code shards/shard-000000.tar}, …). */
    static String shardName(int n) {
        return String.format(Locale.ROOT, "shards/shard-%06d.tar", n);
    }

    /** Whether {@code name} is a shard name the writer produces (so it lies inside the dataset's directory). */
    static boolean isShardName(String name) {
        return name != null && SHARD_NAME.matcher(name).matches();
    }

    /** The checksums {@code summary.json} records (written since the checksums were added; empty for older sets). */
    private static Map<String, String> recordedChecksums(byte[] summary, StorageUri uri) throws IOException {
        Map<String, String> out = new HashMap<>();
        JsonNode sums = Manifest.JSON.readTree(summary).path("sha256");
        sums.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText("")));
        return out;
    }

    /** A fetched file whose checksum is recorded must match it; a mismatching file is deleted. */
    private static void checkRecorded(StorageUri uri, String name, Path file, Map<String, String> recorded)
            throws IOException {
        String want = recorded.get(name);
        if (want == null) {
            return;
        }
        String got = sha256(file);
        if (!got.equals(want)) {
            Files.deleteIfExists(file);
            throw new DatasetException(uri + "/" + name + ": SHA-256 " + got + " differs from " + want
                    + " recorded in summary.json (changed or corrupted since it was curated); curate again");
        }
    }

    /** Hex SHA-256 of a file. */
    static String sha256(Path file) throws IOException {
        MessageDigest md = digest();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            int r;
            while ((r = in.read(buf)) > 0) {
                md.update(buf, 0, r);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Hex SHA-256 of bytes. */
    static String sha256(byte[] data) {
        return HexFormat.of().formatHex(digest().digest(data));
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Closes the shard files. */
    @Override
    public void close() {
        for (FileChannel ch : shards.values()) {
            try {
                ch.close();
            } catch (IOException e) {
                // read-only channel: nothing to lose
            }
        }
    }

    /** The index entry of image {@code i}. */
    public CuratedIndexEntry entry(int i) {
        return index.get(i);
    }

    /** The encoded bytes of image {@code i}. */
    public byte[] bytes(int i) {
        CuratedIndexEntry e = index.get(i);
        FileChannel ch = shards.get(e.shard());
        ByteBuffer buf = ByteBuffer.allocate(e.length());
        try {
            long pos = e.offset();
            while (buf.hasRemaining()) {
                int r = ch.read(buf, pos + buf.position());
                if (r < 0) {
                    throw new DatasetException(root.resolve(e.shard()) + ": truncated shard (image " + i
                            + " needs bytes " + e.offset() + ".." + (e.offset() + e.length()) + "); curate again");
                }
            }
        } catch (IOException ex) {
            throw new DatasetException(root.resolve(e.shard()) + ": cannot be read (" + ex + ")", ex);
        }
        return buf.array();
    }

    @Override
    public int size() {
        return index.size();
    }

    @Override
    public RgbImage image(int index) {
        return guard.decode(encoded(index), name(index));
    }

    @Override
    public byte[] encoded(int index) {
        Objects.checkIndex(index, this.index.size());
        return guard.firstWithin(index, this.index.size(), this::bytes, this::name, root.toString());
    }

    private String name(int i) {
        return root + ": image " + i + " (" + this.index.get(i).key() + ")";
    }

    @Override
    public PixelGuard guard() {
        return guard;
    }

    @Override
    public int label(int index) {
        Objects.checkIndex(index, this.index.size());
        return -1;
    }

    @Override
    public int numClasses() {
        return 0;
    }

    @Override
    public String describe() {
        return "curated " + root + ": " + index.size() + " images in " + shards.size() + " shards, unlabelled";
    }

    @Override
    public String toString() {
        return describe();
    }
}
