package dev.dinoj.pipeline.curate;

import akka.actor.ActorSystem;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.typesafe.config.Config;
import dev.dinoj.pipeline.data.DatasetException;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.ingest.Manifest;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * A curated dataset written by {@link CuratedWriter}, as an {@link ImageDataset}: {@code index.jsonl} gives each
 * image's shard, offset and length; {@link #image} reads those bytes with a positional read (thread-safe) and decodes
 * them. Unlabelled (label -1).
 *
 * <p>Proposed dataset spec for the trainer: {@code curated:/local/dir} or {@code curated:s3://bucket/prefix} (the
 * latter is first copied into a local cache with {@link #fetch}).
 */
public final class CuratedDataset implements ImageDataset, AutoCloseable {
    private final Path root;
    private final List<CuratedIndexEntry> index;
    private final Map<String, FileChannel> shards;

    private CuratedDataset(Path root, List<CuratedIndexEntry> index, Map<String, FileChannel> shards) {
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
        return new CuratedDataset(dir, List.copyOf(index), shards);
    }

    /**
     * Copies a curated dataset from {@code uri} (S3 or local) into {@code cacheDir} unless it is already there (same
     * summary), and returns the local directory.
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
            if (Files.exists(local)
                    && Arrays.equals(Files.readAllBytes(local), summary)
                    && Files.exists(cacheDir.resolve("index.jsonl"))) {
                return cacheDir;
            }
            Files.deleteIfExists(local);
            loc.store()
                    .getToFile(loc.key("index.jsonl"), cacheDir.resolve("index.jsonl"))
                    .toCompletableFuture()
                    .join();
            TreeSet<String> shardNames = new TreeSet<>();
            for (String line : Files.readAllLines(cacheDir.resolve("index.jsonl"), StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    shardNames.add(Manifest.JSON
                            .readValue(line, CuratedIndexEntry.class)
                            .shard());
                }
            }
            for (String shard : shardNames) {
                loc.store()
                        .getToFile(loc.key(shard), cacheDir.resolve(shard))
                        .toCompletableFuture()
                        .join();
            }
            Files.write(local, summary);
            return cacheDir;
        } catch (IOException e) {
            throw new UncheckedIOException("fetching " + uri + " into " + cacheDir + " failed", e);
        } finally {
            ObjectStores.terminate(system);
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
        Objects.checkIndex(index, this.index.size());
        java.awt.image.BufferedImage img;
        try {
            img = javax.imageio.ImageIO.read(new ByteArrayInputStream(bytes(index)));
        } catch (IOException | RuntimeException e) {
            throw new DatasetException(
                    root + ": image " + index + " (" + this.index.get(index).key() + ") cannot be decoded ("
                            + e.getMessage() + "); curate again",
                    e);
        }
        if (img == null) {
            throw new DatasetException(root + ": image " + index + " ("
                    + this.index.get(index).key() + ") cannot be decoded; curate again");
        }
        return RgbImage.of(img);
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
