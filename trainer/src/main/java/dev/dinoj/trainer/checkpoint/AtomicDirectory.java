package dev.dinoj.trainer.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The commit protocol shared by all checkpoint kinds: files are written (and flushed) into a temporary directory,
 * {@code SHA256SUMS} is written over all of them, and the directory is renamed into place atomically; readers verify
 * every checksum before trusting a directory.
 */
public final class AtomicDirectory {

    public static final String SUMS = "SHA256SUMS";

    private AtomicDirectory() {}

    /** Writes {@code bytes} to {@code f} and forces them to disk. */
    public static void writeSynced(Path f, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(
                f, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
    }

    /** Writes {@code SHA256SUMS} over every file of {@code tmp}, then renames {@code tmp} to {@code fin} atomically. */
    public static void commit(Path tmp, Path fin) throws IOException {
        StringBuilder sums = new StringBuilder();
        try (Stream<Path> files = Files.list(tmp)) {
            for (Path f : (Iterable<Path>) files.sorted()::iterator) {
                sums.append(sha256(f)).append("  ").append(f.getFileName()).append('\n');
            }
        }
        writeSynced(tmp.resolve(SUMS), sums.toString().getBytes(StandardCharsets.UTF_8));
        deleteTree(fin);
        Files.move(tmp, fin, StandardCopyOption.ATOMIC_MOVE);
        try (FileChannel ch = FileChannel.open(fin.getParent(), StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // not every file system can fsync a directory; the rename itself is atomic
        }
    }

    /** Checks every file against {@code SHA256SUMS}; throws naming the first file that does not match. */
    public static void verify(Path dir) {
        verify(dir, null);
    }

    /**
     * Checks the files named in {@code only} ({@code null} = every file) against {@code SHA256SUMS}, so a reader of
     * part of a directory (a checkpoint's teacher) reads nothing else; throws naming the first file that does not
     * match or that the checksums do not list.
     */
    public static void verify(Path dir, Set<String> only) {
        Path sums = dir.resolve(SUMS);
        try {
            if (!Files.isRegularFile(sums)) {
                throw new CheckpointException(dir + ": incomplete checkpoint (no " + SUMS + "); delete this directory "
                        + "to fall back to the previous checkpoint");
            }
            Set<String> seen = new HashSet<>();
            for (String line : Files.readAllLines(sums)) {
                if (line.isBlank()) {
                    continue;
                }
                String want = line.substring(0, 64);
                String name = line.substring(66).trim();
                if (only != null && !only.contains(name)) {
                    continue;
                }
                seen.add(name);
                Path f = dir.resolve(name);
                if (!Files.isRegularFile(f)) {
                    throw new CheckpointException(f + ": missing from the checkpoint; delete " + dir
                            + " to fall back to the previous checkpoint");
                }
                String got = sha256(f);
                if (!got.equals(want)) {
                    throw new CheckpointException(f + ": checksum mismatch (truncated or corrupted: SHA-256 " + got
                            + ", recorded " + want + "); delete " + dir + " to fall back to the previous checkpoint");
                }
            }
            if (only != null && !seen.containsAll(only)) {
                Set<String> missing = new TreeSet<>(only);
                missing.removeAll(seen);
                throw new CheckpointException(dir + ": " + SUMS + " does not list " + missing + "; delete " + dir
                        + " to fall back to the previous checkpoint");
            }
        } catch (IOException e) {
            throw new CheckpointException(dir + ": cannot verify: " + e.getMessage(), e);
        }
    }

    /** The SHA-256 that {@code SHA256SUMS} of {@code dir} records for file {@code name}, or null if none is recorded. */
    public static String recordedSha256(Path dir, String name) {
        Path sums = dir.resolve(SUMS);
        if (!Files.isRegularFile(sums)) {
            return null;
        }
        try {
            for (String line : Files.readAllLines(sums)) {
                if (line.length() > 66 && line.substring(66).trim().equals(name)) {
                    return line.substring(0, 64);
                }
            }
            return null;
        } catch (IOException e) {
            throw new CheckpointException(sums + ": cannot be read: " + e.getMessage(), e);
        }
    }

    public static String sha256(Path f) throws IOException {
        try (InputStream in = Files.newInputStream(f)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int r;
            while ((r = in.read(buf)) > 0) {
                md.update(buf, 0, r);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Deletes a directory tree (nothing if it does not exist). */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(f);
            }
        }
    }

    /** Best-effort delete: a leftover temporary or old checkpoint is never read as complete. */
    public static void deleteQuietly(Path p) {
        try {
            deleteTree(p);
        } catch (IOException ignored) {
            // best effort
        }
    }
}
