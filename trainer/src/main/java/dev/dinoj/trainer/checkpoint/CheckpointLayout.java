package dev.dinoj.trainer.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Where checkpoints of either format live: {@code RUN/checkpoints/step-NNNNNNNN}, complete ones only (a checkpoint is
 * written under a temporary name and renamed into place); a sharded checkpoint is told by its
 * {@link #SHARDED_MANIFEST}.
 */
public final class CheckpointLayout {

    /** The folder of a run directory that holds its checkpoints. */
    public static final String DIR = "checkpoints";
    /** The manifest of a checkpoint written by a sharded (multi-rank) run. */
    public static final String SHARDED_MANIFEST = "manifest.json";
    /** The Gram teacher snapshot (DINOv3 Gram anchoring), present only when it is used. */
    public static final String GRAM_TEACHER = "gram_teacher.safetensors";

    private static final String PREFIX = "step-";

    private CheckpointLayout() {}

    /** The directory name of the checkpoint after {@code step} steps. */
    static String name(long step) {
        return String.format("%s%08d", PREFIX, step);
    }

    /** Whether a checkpoint directory was written by a sharded run ({@code --ranks N}): shards + manifest. */
    public static boolean isSharded(Path dir) {
        return Files.isRegularFile(dir.resolve(SHARDED_MANIFEST));
    }

    /** The {@code RUN/checkpoints/step-N} entries that {@code accept} takes, oldest first. */
    public static List<Path> stepDirectories(Path runDir, Predicate<Path> accept) {
        Path root = runDir.resolve(DIR);
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(root)) {
            List<Path> out = new ArrayList<>();
            s.filter(p -> p.getFileName().toString().startsWith(PREFIX) && accept.test(p))
                    .forEach(out::add);
            out.sort(Comparator.comparing(p -> p.getFileName().toString()));
            return out;
        } catch (IOException e) {
            throw new CheckpointException(root + ": cannot list checkpoints: " + e.getMessage(), e);
        }
    }

    /** Deletes all but the newest {@code keep} of {@code checkpoints} (oldest first). */
    static void keepNewest(List<Path> checkpoints, int keep) {
        for (int i = 0; i < checkpoints.size() - keep; i++) {
            AtomicDirectory.deleteQuietly(checkpoints.get(i));
        }
    }
}
