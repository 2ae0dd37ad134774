package dev.dinoj.evaluation.dense;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.evaluation.EvalTestData;
import dev.dinoj.evaluation.features.EvalFeatures;
import dev.dinoj.evaluation.features.FeatureCache;
import dev.dinoj.evaluation.features.FeatureKind;
import dev.dinoj.evaluation.features.ModelSource;
import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.train.TrainingRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #7: Gram anchoring keeps the patch-level (dense probe) quality that a degrading run loses.
 *
 * <p>A: {@code fmnist-pico}, batch 64, DINO only ({@code ibot.loss-weight = 0}: nothing trains the patch tokens
 * directly) at base lr 0.01 (schedule of 1500 steps), the first {@value #END} steps. B: resumes A's step-{@value #START} checkpoint with Gram anchoring
 * (snapshot of the EMA teacher before step {@value #START}, no refresh). The per-patch foreground mIoU of the dense
 * probe (1000 train / 1000 test images) must drop clearly in A and by at most half as much in B.
 *
 * <p>Measured 2026-11-27 on the idle 2-core machine with Gram weight 8 (≈ 2 min per seed): B's drop was 29 %, 36 % and
 * 12 % of A's for seeds 0, 1, 2 (A lost 3.37, 1.95, 2.56 points); with weight 2 (seed 0) 60 %. The suite runs seed 0;
 * {@code -Ddinoj.test.gramSeed=N} and {@code -Ddinoj.test.gramWeight=W} repeat it with others.
 */
class GramAnchoringKeepsPatchQualityTest {

    static final long START = 250;
    static final long END = 1000;
    /** A must lose at least this many mIoU points between START and END. */
    static final double MIN_DROP_A = 1.5;
    /** B may lose at most this share of A's drop. */
    static final double MAX_SHARE_B = 0.5;

    @Test
    void gramAnchoringShouldKeepPatchQualityThatDinoOnlyTrainingLoses(@TempDir Path tmp) throws Exception {
        EvalTestData.train(); // skips without Fashion-MNIST
        String seed = System.getProperty("dinoj.test.gramSeed", "0");
        String weight = System.getProperty("dinoj.test.gramWeight", "8");
        List<String> sets = new ArrayList<>(List.of(
                "train.batch-size=64",
                // the attention this test was calibrated with (seeds 0-2 above): a run of 1000 steps is chaotic, and
                // the fused kernel's rounding gives another trajectory (seed 0 with sdpa: B lost 75 % of A's drop)
                "model.attention=manual",
                "train.epoch-length=100",
                "optim.epochs=15",
                "optim.warmup-epochs=1",
                "optim.base-lr=0.01",
                "ibot.loss-weight=0",
                "train.max-steps=" + END,
                "checkpoint.every-steps=" + START,
                "checkpoint.keep-last=10",
                "data.loader-threads=1",
                "train.log-every=250",
                "train.seed=" + seed));
        Path a = tmp.resolve("A");
        new TrainingRun(TrainSettings.load("fmnist-pico", sets), a, false, null).run();

        Path start = a.resolve("checkpoints").resolve(String.format("step-%08d", START));
        Path b = tmp.resolve("B");
        copy(start, b.resolve("checkpoints").resolve(start.getFileName()));
        List<String> gram = new ArrayList<>(sets);
        gram.addAll(List.of(
                "gram.use-loss=true",
                "gram.loss-weight=" + weight,
                "gram.it-load-ema-teacher=" + START,
                "gram.rep-update=true",
                "gram.update-frequency=10000"));
        new TrainingRun(TrainSettings.load("fmnist-pico", gram), b, true, null).run();

        double at = patchMiou(start);
        double endA = patchMiou(a.resolve("checkpoints").resolve(String.format("step-%08d", END)));
        double endB = patchMiou(b.resolve("checkpoints").resolve(String.format("step-%08d", END)));
        double dropA = at - endA;
        double dropB = at - endB;
        String line = String.format(
                Locale.ROOT,
                "seed %s: patch mIoU at step %d %.2f; step %d A %.2f (drop %.2f), "
                        + "B with Gram %.2f (drop %.2f, %.0f %% of A's)",
                seed,
                START,
                at,
                END,
                endA,
                dropA,
                endB,
                dropB,
                100 * dropB / dropA);
        System.out.println(line);
        assertTrue(dropA >= MIN_DROP_A, "DINO-only run did not degrade clearly: " + line);
        assertTrue(dropB <= MAX_SHARE_B * dropA, "Gram anchoring did not keep enough: " + line);
    }

    static double patchMiou(Path checkpoint) {
        try (EvalFeatures fx = new EvalFeatures(ModelSource.checkpoint(checkpoint), FeatureCache.none(), 256, null)) {
            int size = fx.evalSize(EvalTestData.train());
            FeatureSet train = fx.get(EvalTestData.train(), 1000, FeatureKind.PATCH_TOKENS);
            FeatureSet test = fx.get(EvalTestData.test(), 1000, FeatureKind.PATCH_TOKENS);
            return new DenseProbe(DenseProbe.Settings.defaults())
                    .run(train, EvalTestData.train(), test, EvalTestData.test(), size, fx.patchSize())
                    .patchMiou();
        }
    }

    static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> w = Files.walk(from)) {
            for (Path f : (Iterable<Path>) w::iterator) {
                Path d = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(d);
                } else {
                    Files.copy(f, d);
                }
            }
        }
    }
}
