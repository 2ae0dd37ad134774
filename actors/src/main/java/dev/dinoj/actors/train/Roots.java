package dev.dinoj.actors.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Folders a submission may name paths under ({@code dinoj.actors.coordinator.config-roots}, {@code run-roots}). A path
 * is compared by where it really is: relative paths are taken from the node's working directory, {@code ..} is
 * removed, and the symbolic links of the part that exists are followed, so a link inside a root that points out of
 * it does not count as inside.
 *
 * @param key   the config key, for messages
 * @param roots the folders, as real paths
 */
record Roots(String key, List<Path> roots) {

    static Roots of(String key, List<String> paths) {
        return new Roots(key, paths.stream().map(p -> real(Path.of(p))).toList());
    }

    /** Both lists, for paths that may be under either. */
    Roots or(Roots other) {
        return new Roots(
                key + " or " + other.key,
                Stream.concat(roots.stream(), other.roots.stream()).toList());
    }

    /** Whether {@code path} lies strictly below one of the roots (the root itself is not a place for one run). */
    boolean contain(Path path) {
        Path p = real(path);
        return p != null && roots.stream().anyMatch(r -> r != null && p.startsWith(r) && !p.equals(r));
    }

    /** For messages: the key and its folders. */
    @Override
    public String toString() {
        return key + " = " + roots.stream().map(String::valueOf).collect(Collectors.joining(", ", "[", "]"));
    }

    /**
     * Where {@code path} really is: absolute, normalised, with the symbolic links of its longest existing part
     * followed; null when that part is a link that leads nowhere.
     */
    static Path real(Path path) {
        Path abs = path.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return abs;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(abs)).normalize();
        } catch (IOException e) {
            return null;
        }
    }
}
