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
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

    /**
     * Checks a whole directory against {@code SHA256SUMS}: every file of the directory is listed (an empty, truncated
     * or replaced checksum file fails), every listed file is present and matches. Throws naming the first problem.
     */
    public static void verify(Path dir) {
        verifyComplete(dir, Set.of());
    }

    /**
     * {@link #verify(Path)}, and the files of {@code required} (the files a reader needs) must be listed: a checkpoint
     * directory whose checksums were written over an incomplete set of files fails here, not later in a reader.
     */
    public static void verifyComplete(Path dir, Set<String> required) {
        Map<String, String> listed = readSums(dir);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files.sorted()::iterator) {
                String name = f.getFileName().toString();
                if (!name.equals(SUMS) && !listed.containsKey(name)) {
                    throw unverified(dir, f + ": not listed in " + SUMS + " (an incomplete or replaced checksum file)");
                }
            }
        } catch (IOException e) {
            throw new CheckpointException(dir + ": cannot verify: " + e.getMessage(), e);
        }
        requireListed(dir, listed, required);
        for (Map.Entry<String, String> e : listed.entrySet()) {
            check(dir, e.getKey(), e.getValue());
        }
    }

    /**
     * Checks the files named in {@code only} against {@code SHA256SUMS}, so a reader of part of a directory (a
     * checkpoint's teacher) reads nothing else; throws naming the first file that does not match or that the
     * checksums do not list.
     */
    public static void verify(Path dir, Set<String> only) {
        Map<String, String> listed = readSums(dir);
        requireListed(dir, listed, only);
        for (String name : new TreeSet<>(only)) {
            check(dir, name, listed.get(name));
        }
    }

    /**
     * The checksums of {@code dir}, file name → SHA-256, parsed strictly: each line is 64 lowercase hex digits, two
     * spaces and a plain file name of the directory (no path).
     */
    private static Map<String, String> readSums(Path dir) {
        Path sums = dir.resolve(SUMS);
        if (!Files.isRegularFile(sums)) {
            throw unverified(dir, dir + ": incomplete checkpoint (no " + SUMS + ")");
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(sums, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CheckpointException(sums + ": cannot be read: " + e.getMessage(), e);
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            Matcher m = SUMS_LINE.matcher(line);
            if (!m.matches() || !isPlainName(m.group(2)) || out.put(m.group(2), m.group(1)) != null) {
                throw unverified(
                        dir,
                        sums + ": line " + (i + 1) + " is not \"<sha256>  <file name>\" of a file of this directory "
                                + "(or names a file twice)");
            }
        }
        return out;
    }

    private static final Pattern SUMS_LINE = Pattern.compile("([0-9a-f]{64})  (\\S.*?)\\s*");

    /** A file name of the directory itself: no separator, not {@code .} or {@code ..}. */
    static boolean isPlainName(String name) {
        return !name.isEmpty()
                && !name.equals(".")
                && !name.equals("..")
                && name.indexOf('/') < 0
                && name.indexOf('\\') < 0
                && name.indexOf('\0') < 0;
    }

    private static void requireListed(Path dir, Map<String, String> listed, Set<String> names) {
        if (!listed.keySet().containsAll(names)) {
            Set<String> missing = new TreeSet<>(names);
            missing.removeAll(listed.keySet());
            throw unverified(dir, dir + ": " + SUMS + " does not list " + missing);
        }
    }

    private static void check(Path dir, String name, String want) {
        Path f = dir.resolve(name);
        if (!Files.isRegularFile(f)) {
            throw unverified(dir, f + ": missing from the checkpoint");
        }
        String got;
        try {
            got = sha256(f);
        } catch (IOException e) {
            throw new CheckpointException(f + ": cannot be read: " + e.getMessage(), e);
        }
        if (!got.equals(want)) {
            throw unverified(
                    dir,
                    f + ": checksum mismatch (truncated or corrupted: SHA-256 " + got + ", recorded " + want + ")");
        }
    }

    /** A directory that does not verify: {@code problem}, and what a reader of the run's newest checkpoint can do. */
    private static CheckpointException unverified(Path dir, String problem) {
        return CheckpointException.unverified(problem, "delete " + dir + " to fall back to the previous checkpoint");
    }

    /** The SHA-256 that {@code SHA256SUMS} of {@code dir} records for file {@code name}, or null if none is recorded. */
    public static String recordedSha256(Path dir, String name) {
        if (!Files.isRegularFile(dir.resolve(SUMS))) {
            return null;
        }
        return readSums(dir).get(name);
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
