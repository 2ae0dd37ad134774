package dev.dinoj.pipeline.ingest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The work manifest of an ingestion: JSON lines appended as objects are processed, one {@link ManifestEntry} each.
 *
 * <p>Loading keeps the last line of each key (a re-processed object replaces its earlier line) and ignores a torn
 * last line, which is all a crash can leave behind. {@link #isDone(String, String)} is the resume test: the key was
 * recorded with the same ETag.
 */
public final class Manifest implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Manifest.class);
    /** The mapper of every manifest and index file: snake_case names, unknown fields ignored. */
    public static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final Path file;
    private final Map<String, ManifestEntry> entries = new LinkedHashMap<>();
    private OutputStream out;

    private Manifest(Path file) {
        this.file = file;
    }

    /** An in-memory manifest (nothing written; no resume). */
    public static Manifest inMemory() {
        return new Manifest(null);
    }

    /** Opens (and loads, if it exists) the manifest at {@code file} for appending. */
    public static Manifest open(Path file) {
        Manifest m = new Manifest(file);
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            if (Files.exists(file)) {
                m.load();
                dropTornTail(file);
            }
            m.out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot open the manifest", e);
        }
        return m;
    }

    /**
     * Cuts a last line without its newline (what a crash leaves mid-write) off the file, so that the next line appended
     * starts a line of its own instead of being glued to the torn one and lost with it.
     */
    private static void dropTornTail(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = ch.size();
            long keep = size;
            ByteBuffer one = ByteBuffer.allocate(1);
            while (keep > 0) {
                one.clear();
                ch.read(one, keep - 1);
                if (one.get(0) == '\n') {
                    break;
                }
                keep--;
            }
            if (keep < size) {
                log.warn("{}: cut a torn last line of [{}] bytes (an interrupted write)", file, size - keep);
                ch.truncate(keep);
            }
        }
    }

    private void load() throws IOException {
        int lines = 0;
        int torn = 0;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    ManifestEntry e = JSON.readValue(line, ManifestEntry.class);
                    entries.remove(e.key());
                    entries.put(e.key(), e);
                    lines++;
                } catch (JsonProcessingException e) {
                    torn++;
                }
            }
        }
        if (torn > 0) {
            log.warn("{}: ignored [{}] unreadable line(s) (a torn write from an interrupted run)", file, torn);
        }
        log.info("{}: resuming with [{}] recorded objects ([{}] lines)", file, entries.size(), lines);
    }

    /** Reads a manifest (or an output manifest) without opening it for writing. */
    public static List<ManifestEntry> read(Path file) {
        Manifest m = new Manifest(file);
        try {
            m.load();
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read the manifest", e);
        }
        return new ArrayList<>(m.entries.values());
    }

    /** The recorded entry of {@code key}, or null. */
    public synchronized ManifestEntry get(String key) {
        return entries.get(key);
    }

    /** True when {@code key} was recorded with ETag {@code etag} (an {@code unreadable} object is never done). */
    public synchronized boolean isDone(String key, String etag) {
        ManifestEntry e = entries.get(key);
        return e != null && e.etag() != null && e.etag().equals(etag) && e.state() != ObjectState.UNREADABLE;
    }

    /** Records entries: in memory, and as lines flushed to the file. */
    public synchronized void append(Collection<ManifestEntry> batch) {
        if (batch.isEmpty()) {
            return;
        }
        StringBuilder sb = new StringBuilder();
        for (ManifestEntry e : batch) {
            entries.remove(e.key());
            entries.put(e.key(), e);
            if (out != null) {
                try {
                    sb.append(JSON.writeValueAsString(e)).append('\n');
                } catch (JsonProcessingException ex) {
                    throw new IllegalStateException("cannot serialise " + e.key(), ex);
                }
            }
        }
        if (out != null) {
            try {
                out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException ex) {
                throw new UncheckedIOException(file + ": cannot append to the manifest", ex);
            }
        }
    }

    /** Snapshot of every recorded entry, in first-recorded order. */
    public synchronized List<ManifestEntry> entries() {
        return new ArrayList<>(entries.values());
    }

    public synchronized int size() {
        return entries.size();
    }

    public Path file() {
        return file;
    }

    @Override
    public synchronized void close() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException e) {
                throw new UncheckedIOException(file + ": cannot close the manifest", e);
            } finally {
                out = null;
            }
        }
    }

    /** Writes entries as JSON lines to a byte array (for output manifests). */
    public static byte[] toJsonLines(Collection<ManifestEntry> entries) {
        StringBuilder sb = new StringBuilder();
        for (ManifestEntry e : entries) {
            try {
                sb.append(JSON.writeValueAsString(e)).append('\n');
            } catch (JsonProcessingException ex) {
                throw new IllegalStateException("cannot serialise " + e.key(), ex);
            }
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }
}
