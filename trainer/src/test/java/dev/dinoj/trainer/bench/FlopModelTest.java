package dev.dinoj.trainer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.model.VitConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The analytic step count: the anchor figure, and what batch-subset stochastic depth leaves of it. */
class FlopModelTest {

    private static FlopModel.Breakdown tiny(String... sets) {
        TrainSettings s = TrainSettings.load("fmnist-tiny", List.of(sets));
        var crops = s.crops().multiCrop(false);
        return FlopModel.step(s.ssl(), 64, crops.globalCropsSize(), crops.localCropsSize(), 0);
    }

    /** Forward FLOPs of one block for one image of {@code size} pixels. */
    private static double block(VitConfig v, int size) {
        long n = (long) (size / v.patchSize()) * (size / v.patchSize());
        double patchEmbed = 2.0 * n * 3 * v.patchSize() * v.patchSize() * v.embedDim();
        return (FlopModel.backboneForward(v, size) - patchEmbed) / v.depth();
    }

    @Test
    void shouldCountEveryImageAtDropPathRatesUpToPointOne() {
        // per-sample drop path (rate ≤ 0.1, the anchor preset's 0.1) computes the whole batch, as the official code
        assertEquals(
                tiny("model.drop-path-rate=0.0").total(),
                tiny("model.drop-path-rate=0.1").total(),
                1e-6);
    }

    @Test
    void shouldCountOnlyTheImagesTheSubsetTrickComputes() {
        FlopModel.Breakdown full = tiny("model.drop-path-rate=0.0");
        FlopModel.Breakdown dropped = tiny("model.drop-path-rate=0.4");
        assertEquals(full.teacher(), dropped.teacher(), 1e-6);
        VitConfig v = TrainSettings.load("fmnist-tiny", List.of()).ssl().backbone();
        // per block, of the 128 global images ⌊128·0.6⌋ = 76 are computed, of the 384 local images ⌊384·0.6⌋ = 230;
        // forward + backward = 3 × forward
        double saved = 3.0 * v.depth() * ((128 - 76) * block(v, 32) + (384 - 230) * block(v, 16));
        assertEquals(saved, full.student() - dropped.student(), 1e-6 * saved);
        // about 0.4 of the student's block work, about 30 % of the step
        assertEquals(0.30, saved / full.total(), 0.03);
    }
}
