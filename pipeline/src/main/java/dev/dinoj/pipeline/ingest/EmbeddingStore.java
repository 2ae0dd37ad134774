package dev.dinoj.pipeline.ingest;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Embeddings by content hash: identical bytes are embedded once, and a resumed run reuses what the killed one
 * computed. In memory a map; on disk an append-only file.
 *
 * <p>File layout (little-endian): {@code "DJEMB001"}, int dim, int id length, the embedder id in UTF-8; then records
 * of 32 bytes of SHA-256 followed by {@code dim} float32. A torn last record is cut off on open; a file written by
 * another embedder (other id or dim) is moved aside to {@code <file>.stale}.
 */
public final class EmbeddingStore implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddingStore.class);
    private static final byte[] MAGIC = "DJEMB001".getBytes(StandardCharsets.US_ASCII);

    private final int dim;
    private final String embedderId;
    private final Path file;
    private final Map<String, float[]> vectors = new ConcurrentHashMap<>();
    private OutputStream out;

    private EmbeddingStore(int dim, String embedderId, Path file) {
        this.dim = dim;
        this.embedderId = embedderId;
        this.file = file;
    }

    /** A store that keeps nothing on disk. */
    public static EmbeddingStore inMemory(int dim, String embedderId) {
        return new EmbeddingStore(dim, embedderId, null);
    }

    /** Opens (loading what is there) the store file for {@code embedderId} vectors of length {@code dim}. */
    public static EmbeddingStore open(Path file, int dim, String embedderId) {
        EmbeddingStore s = new EmbeddingStore(dim, embedderId, file);
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            long valid = Files.exists(file) ? s.load() : -1;
            if (valid < 0) {
                s.out = new BufferedOutputStream(
                        Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING),
                        1 << 16);
                byte[] id = embedderId.getBytes(StandardCharsets.UTF_8);
                ByteBuffer h = ByteBuffer.allocate(MAGIC.length + 8 + id.length).order(ByteOrder.LITTLE_ENDIAN);
                h.put(MAGIC).putInt(dim).putInt(id.length).put(id);
                s.out.write(h.array());
                s.out.flush();
            } else {
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    ch.truncate(valid);
                }
                s.out = new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.APPEND), 1 << 16);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot open the embedding store", e);
        }
        return s;
    }

    /** Loads the file; returns the length of its valid part, or -1 if it belongs to another embedder. */
    private long load() throws IOException {
        try (InputStream raw = Files.newInputStream(file);
                DataInputStream in = new DataInputStream(new BufferedInputStream(raw, 1 << 16))) {
            byte[] magic = new byte[MAGIC.length];
            byte[] header = new byte[8];
            try {
                in.readFully(magic);
                in.readFully(header);
            } catch (EOFException e) {
                return -1;
            }
            ByteBuffer hb = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
            int fileDim = hb.getInt();
            int idLen = hb.getInt();
            if (!Arrays.equals(magic, MAGIC) || idLen < 0 || idLen > 4096) {
                moveAside("not an embedding store");
                return -1;
            }
            byte[] id = new byte[idLen];
            try {
                in.readFully(id);
            } catch (EOFException e) {
                return -1;
            }
            String fileId = new String(id, StandardCharsets.UTF_8);
            if (fileDim != dim || !fileId.equals(embedderId)) {
                moveAside("written by embedder " + fileId + " (dim " + fileDim + "), this run uses " + embedderId
                        + " (dim " + dim + ")");
                return -1;
            }
            long valid = MAGIC.length + 8L + idLen;
            byte[] rec = new byte[32 + 4 * dim];
            ByteBuffer rb = ByteBuffer.wrap(rec).order(ByteOrder.LITTLE_ENDIAN);
            while (true) {
                try {
                    in.readFully(rec);
                } catch (EOFException e) {
                    break;
                }
                String sha = HexFormat.of().formatHex(rec, 0, 32);
                float[] v = new float[dim];
                rb.position(32);
                rb.asFloatBuffer().get(v);
                vectors.put(sha, v);
                valid += rec.length;
            }
            log.info("{}: reusing [{}] embeddings of {}", file, vectors.size(), embedderId);
            return valid;
        }
    }

    private void moveAside(String why) throws IOException {
        Path stale = file.resolveSibling(file.getFileName() + ".stale");
        log.warn("{}: {}; moved to {} and starting afresh", file, why, stale);
        Files.move(file, stale, StandardCopyOption.REPLACE_EXISTING);
    }

    public int dim() {
        return dim;
    }

    public String embedderId() {
        return embedderId;
    }

    /** The embedding of content {@code sha}, or null. */
    public float[] get(String sha) {
        return vectors.get(sha);
    }

    public boolean contains(String sha) {
        return vectors.containsKey(sha);
    }

    /** Calls {@code f} with every (content hash, embedding); the arrays are the store's own, not copies. */
    public void forEach(BiConsumer<String, float[]> f) {
        vectors.forEach(f);
    }

    public int size() {
        return vectors.size();
    }

    /** Adds embeddings (row {@code i} of {@code rows} for {@code shas[i]}) and appends them to the file, flushed. */
    public synchronized void putAll(String[] shas, float[] rows) {
        if (rows.length != shas.length * dim) {
            throw new IllegalArgumentException(shas.length + " hashes but " + rows.length + " values for dim " + dim);
        }
        ByteBuffer rec = ByteBuffer.allocate(32 + 4 * dim).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < shas.length; i++) {
            float[] v = Arrays.copyOfRange(rows, i * dim, (i + 1) * dim);
            if (vectors.putIfAbsent(shas[i], v) != null || out == null) {
                continue;
            }
            rec.clear();
            rec.put(HexFormat.of().parseHex(shas[i]));
            rec.asFloatBuffer().put(v);
            try {
                out.write(rec.array());
            } catch (IOException e) {
                throw new UncheckedIOException(file + ": cannot append embeddings", e);
            }
        }
        if (out != null) {
            try {
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(file + ": cannot append embeddings", e);
            }
        }
    }

    @Override
    public synchronized void close() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException e) {
                throw new UncheckedIOException(file + ": cannot close the embedding store", e);
            } finally {
                out = null;
            }
        }
    }
}
