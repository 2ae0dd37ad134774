package dev.dinoj.pipeline.shards;

import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * Where shards and partial results live: a local directory (files memory-mapped when read, written through a temp
 * file and a rename) or a prefix of an {@link dev.dinoj.pipeline.storage.ObjectStore} (S3: written with a multipart
 * upload of a local temp file, read back whole into the heap, one shard at a time). Paths are relative,
 * {@code /}-separated.
 */
public interface ShardStore {

    /** The object at {@code path}, little-endian, positioned at 0; a missing one is a {@link NoSuchFileException}. */
    ByteBuffer read(String path) throws IOException;

    /** Stores {@code bytes} at {@code path}, replacing what is there. */
    void write(String path, ByteBuffer bytes) throws IOException;

    /** Moves the local file {@code file} to {@code path} (the file is gone afterwards). */
    void writeFile(String path, Path file) throws IOException;

    /** Whether something is stored at {@code path}. */
    boolean exists(String path) throws IOException;

    /** The full name of {@code path}, for messages ({@code /dir/x} or {@code s3://bucket/prefix/x}). */
    String describe(String path);

    /** A local directory for temp files of writers (a local store's own directory). */
    Path scratch() throws IOException;

    /** A directory on this machine. */
    static ShardStore local(Path root) {
        return new Local(root);
    }

    /** A prefix of an object store (the location stays open; the caller closes it). */
    static ShardStore objectStore(ObjectStores.Location location, Path scratch) {
        return new Remote(location, scratch);
    }

    /** A directory. */
    final class Local implements ShardStore {
        private final Path root;

        Local(Path root) {
            this.root = root;
        }

        public Path root() {
            return root;
        }

        @Override
        public ByteBuffer read(String path) throws IOException {
            try (FileChannel ch = FileChannel.open(root.resolve(path), StandardOpenOption.READ)) {
                return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size()).order(ByteOrder.LITTLE_ENDIAN);
            }
        }

        @Override
        public void write(String path, ByteBuffer bytes) throws IOException {
            Path target = root.resolve(path);
            Files.createDirectories(target.getParent());
            // a hidden sibling (not createTempFile, whose files are private to the user): readable as other outputs
            Path tmp = target.resolveSibling("." + target.getFileName() + "." + java.util.UUID.randomUUID() + ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = bytes.duplicate();
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }

        @Override
        public void writeFile(String path, Path file) throws IOException {
            Path target = root.resolve(path);
            Files.createDirectories(target.getParent());
            Files.move(file, target, StandardCopyOption.REPLACE_EXISTING);
        }

        @Override
        public boolean exists(String path) {
            return Files.exists(root.resolve(path));
        }

        @Override
        public String describe(String path) {
            return root.resolve(path).toString();
        }

        @Override
        public Path scratch() throws IOException {
            Files.createDirectories(root);
            return root;
        }
    }

    /** An object-store prefix. */
    final class Remote implements ShardStore {
        private static final long TIMEOUT_S = 600;
        private final ObjectStores.Location location;
        private final Path scratch;

        Remote(ObjectStores.Location location, Path scratch) {
            this.location = location;
            this.scratch = scratch;
        }

        @Override
        public ByteBuffer read(String path) throws IOException {
            try {
                byte[] data = location.store()
                        .get(location.key(path), Integer.MAX_VALUE - 16L)
                        .toCompletableFuture()
                        .get(TIMEOUT_S, TimeUnit.SECONDS)
                        .data();
                return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
            } catch (Exception e) {
                Throwable c = unwrap(e);
                if (c instanceof StorageException se && se.kind() == StorageException.Kind.NOT_FOUND) {
                    throw new NoSuchFileException(describe(path));
                }
                throw new IOException(describe(path) + ": " + c.getMessage(), c);
            }
        }

        @Override
        public void write(String path, ByteBuffer bytes) throws IOException {
            byte[] data = new byte[bytes.remaining()];
            bytes.duplicate().get(data);
            await(location.store().put(location.key(path), data, "application/octet-stream"), path);
        }

        @Override
        public void writeFile(String path, Path file) throws IOException {
            try {
                await(location.store().putFile(location.key(path), file, "application/octet-stream"), path);
            } finally {
                Files.deleteIfExists(file);
            }
        }

        @Override
        public boolean exists(String path) throws IOException {
            return await(location.store().head(location.key(path)), path).isPresent();
        }

        @Override
        public String describe(String path) {
            return location.store().uriOf(location.key(path)).toString();
        }

        @Override
        public Path scratch() throws IOException {
            Files.createDirectories(scratch);
            return scratch;
        }

        private <T> T await(java.util.concurrent.CompletionStage<T> s, String path) throws IOException {
            try {
                return s.toCompletableFuture().get(TIMEOUT_S, TimeUnit.SECONDS);
            } catch (Exception e) {
                Throwable c = unwrap(e);
                throw new IOException(describe(path) + ": " + c.getMessage(), c);
            }
        }

        private static Throwable unwrap(Throwable e) {
            Throwable c = e;
            while ((c instanceof CompletionException || c instanceof java.util.concurrent.ExecutionException)
                    && c.getCause() != null) {
                c = c.getCause();
            }
            return c;
        }
    }

    /** Rethrows an {@link IOException} unchecked. */
    static UncheckedIOException unchecked(IOException e) {
        return new UncheckedIOException(e.getMessage(), e);
    }
}
