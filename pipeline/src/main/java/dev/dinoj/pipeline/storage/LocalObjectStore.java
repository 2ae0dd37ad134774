package dev.dinoj.pipeline.storage;

import akka.NotUsed;
import akka.stream.javadsl.Source;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * A local directory as an object store: the key is the path relative to the root with '/' separators; the tag is
 * {@code <size>-<mtime in ms, hex>}. Writes go to a temporary file that is then renamed, so a reader never sees half
 * an object. I/O runs on a small thread pool of its own.
 */
public final class LocalObjectStore implements ObjectStore {
    private final Path root;
    private final ExecutorService io;

    /** @param root the directory (created by {@link #ensureContainer()} if missing) */
    public LocalObjectStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
        this.io = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "dinoj-local-store");
            t.setDaemon(true);
            return t;
        });
    }

    public Path root() {
        return root;
    }

    @Override
    public String describe() {
        return "local directory " + root;
    }

    @Override
    public StorageUri uriOf(String key) {
        return StorageUri.of(resolve(key));
    }

    private Path resolve(String key) {
        Path p = root.resolve(key).normalize();
        if (!p.startsWith(root)) {
            throw new StorageException(StorageException.Kind.PERMANENT, key + ": key escapes the store root " + root);
        }
        return p;
    }

    private String keyOf(Path p) {
        return root.relativize(p).toString().replace(p.getFileSystem().getSeparator(), "/");
    }

    static String etagOf(BasicFileAttributes a) {
        return Long.toHexString(a.size()) + "-"
                + Long.toHexString(a.lastModifiedTime().toMillis());
    }

    @Override
    public Source<ObjectInfo, NotUsed> list(String prefix) {
        return Source.lazySource(() -> {
                    if (!Files.isDirectory(root)) {
                        return Source.<ObjectInfo>failed(
                                new StorageException(StorageException.Kind.NOT_FOUND, root + ": no such directory"));
                    }
                    List<ObjectInfo> out = new ArrayList<>();
                    try (Stream<Path> s = Files.walk(root)) {
                        Iterator<Path> it = s.iterator();
                        while (it.hasNext()) {
                            Path p = it.next();
                            String key = keyOf(p);
                            if (!key.startsWith(prefix) || isHiddenOrTemp(key)) {
                                continue;
                            }
                            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                            if (a.isRegularFile()) {
                                out.add(new ObjectInfo(key, a.size(), etagOf(a)));
                            }
                        }
                    } catch (IOException | UncheckedIOException e) {
                        return Source.<ObjectInfo>failed(new StorageException(
                                StorageException.Kind.TRANSIENT, "listing " + root + " failed: " + e, e));
                    }
                    out.sort((x, y) -> x.key().compareTo(y.key()));
                    return Source.from(out);
                })
                .mapMaterializedValue(f -> NotUsed.getInstance());
    }

    private static boolean isHiddenOrTemp(String key) {
        for (String part : key.split("/")) {
            if (part.startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    @Override
    public CompletionStage<Optional<ObjectInfo>> head(String key) {
        return CompletableFuture.supplyAsync(
                () -> {
                    Path p = resolve(key);
                    try {
                        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                        return a.isRegularFile()
                                ? Optional.of(new ObjectInfo(key, a.size(), etagOf(a)))
                                : Optional.empty();
                    } catch (NoSuchFileException e) {
                        return Optional.empty();
                    } catch (IOException e) {
                        throw new StorageException(StorageException.Kind.TRANSIENT, p + ": " + e, e);
                    }
                },
                io);
    }

    @Override
    public CompletionStage<Blob> get(String key, long maxBytes) {
        return CompletableFuture.supplyAsync(
                () -> {
                    Path p = resolve(key);
                    try {
                        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                        if (a.size() > maxBytes) {
                            throw new StorageException(
                                    StorageException.Kind.TOO_LARGE, p + ": " + a.size() + " bytes > " + maxBytes);
                        }
                        byte[] data;
                        try (InputStream in = Files.newInputStream(p)) {
                            data = in.readNBytes(
                                    (int) Math.min(Integer.MAX_VALUE - 8L, Math.max(maxBytes, maxBytes + 1)));
                        }
                        if (data.length > maxBytes) {
                            throw new StorageException(
                                    StorageException.Kind.TOO_LARGE, p + ": more than " + maxBytes + " bytes");
                        }
                        return new Blob(data, etagOf(a));
                    } catch (NoSuchFileException e) {
                        throw new StorageException(StorageException.Kind.NOT_FOUND, p + ": no such file", e);
                    } catch (IOException e) {
                        throw new StorageException(StorageException.Kind.TRANSIENT, p + ": " + e, e);
                    }
                },
                io);
    }

    @Override
    public CompletionStage<ObjectInfo> put(String key, byte[] data, String contentType) {
        return CompletableFuture.supplyAsync(
                () -> {
                    Path p = resolve(key);
                    try {
                        Files.createDirectories(p.getParent());
                        Path tmp = tempBeside(p);
                        Files.write(tmp, data, StandardOpenOption.CREATE_NEW);
                        moveIntoPlace(tmp, p);
                        return new ObjectInfo(
                                key, data.length, etagOf(Files.readAttributes(p, BasicFileAttributes.class)));
                    } catch (IOException e) {
                        throw new StorageException(StorageException.Kind.TRANSIENT, p + ": write failed: " + e, e);
                    }
                },
                io);
    }

    @Override
    public CompletionStage<ObjectInfo> putFile(String key, Path file, String contentType) {
        return CompletableFuture.supplyAsync(
                () -> {
                    Path p = resolve(key);
                    try {
                        Files.createDirectories(p.getParent());
                        Path tmp = tempBeside(p);
                        Files.copy(file, tmp);
                        moveIntoPlace(tmp, p);
                        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                        return new ObjectInfo(key, a.size(), etagOf(a));
                    } catch (IOException e) {
                        throw new StorageException(
                                StorageException.Kind.TRANSIENT, p + ": copy from " + file + " failed: " + e, e);
                    }
                },
                io);
    }

    @Override
    public CompletionStage<ObjectInfo> getToFile(String key, Path file) {
        return CompletableFuture.supplyAsync(
                () -> {
                    Path p = resolve(key);
                    try {
                        Path parent = file.toAbsolutePath().getParent();
                        Files.createDirectories(parent);
                        Path tmp = tempBeside(file.toAbsolutePath());
                        Files.copy(p, tmp);
                        moveIntoPlace(tmp, file);
                        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                        return new ObjectInfo(key, a.size(), etagOf(a));
                    } catch (NoSuchFileException e) {
                        throw new StorageException(StorageException.Kind.NOT_FOUND, p + ": no such file", e);
                    } catch (IOException e) {
                        throw new StorageException(
                                StorageException.Kind.TRANSIENT, p + ": copy to " + file + " failed: " + e, e);
                    }
                },
                io);
    }

    /** A fresh hidden name next to {@code target} (created with the default permissions, unlike createTempFile's). */
    private static Path tempBeside(Path target) {
        return target.resolveSibling("." + target.getFileName() + "." + Long.toHexString(System.nanoTime())
                + Integer.toHexString(ThreadLocalRandom.current().nextInt()) + ".part");
    }

    private static void moveIntoPlace(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @Override
    public CompletionStage<Void> ensureContainer() {
        return CompletableFuture.runAsync(
                () -> {
                    try {
                        Files.createDirectories(root);
                    } catch (IOException e) {
                        throw new StorageException(
                                StorageException.Kind.PERMANENT, root + ": cannot create directory: " + e, e);
                    }
                },
                io);
    }

    @Override
    public void close() {
        io.shutdown();
    }

    @Override
    public String toString() {
        return describe();
    }
}
