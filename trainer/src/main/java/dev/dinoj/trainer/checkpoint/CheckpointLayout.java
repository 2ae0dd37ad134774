package dev.dinoj.trainer.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
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

    /**
     * The newest of {@code checkpoints} (oldest first) that {@code verify} accepts, what {@code --resume} continues
     * from: each newer one that it refuses is reported to {@code warn}, naming it and why. Empty when there are none;
     * when none verifies, throws naming each.
     */
    static Optional<Path> newestVerified(List<Path> checkpoints, Consumer<Path> verify, Consumer<String> warn) {
        List<String> refused = new ArrayList<>();
        for (int i = checkpoints.size() - 1; i >= 0; i--) {
            Path dir = checkpoints.get(i);
            try {
                verify.accept(dir);
                return Optional.of(dir);
            } catch (CheckpointException e) {
                refused.add(e.problem());
                warn.accept("Checkpoint " + dir + " does not verify (" + e.problem() + "); "
                        + (i > 0 ? "trying the one before it" : "it was the oldest"));
            }
        }
        if (refused.isEmpty()) {
            return Optional.empty();
        }
        throw new CheckpointException(checkpoints.get(0).getParent() + ": none of the " + refused.size()
                + " checkpoint(s) verifies, the run cannot resume (" + String.join("; ", refused)
                + "); restore a checkpoint from a copy, or train into a new output directory");
    }

    /**
     * Deletes all but the newest {@code keep} of {@code checkpoints} (oldest first) up to {@code saved}, the one just
     * written. One after it (that {@code --resume} fell back from, as it did not verify) is not counted and left for
     * the operator; the run replaces it when it reaches its step.
     */
    static void keepNewest(List<Path> checkpoints, Path saved, int keep) {
        String last = saved.getFileName().toString();
        List<Path> upTo = checkpoints.stream()
                .filter(p -> p.getFileName().toString().compareTo(last) <= 0)
                .toList();
        for (int i = 0; i < upTo.size() - keep; i++) {
            AtomicDirectory.deleteQuietly(upTo.get(i));
        }
    }
}
