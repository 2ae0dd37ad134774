package dev.dinoj.evaluation.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.evaluation.EvalTestData;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.train.TrainingRun;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The curation embedder of a checkpoint: shape, unit rows, and independence from how a batch is grouped. */
class VitEmbedderTest {

    @Test
    void shouldEmbedMixedSizesIntoUnitRowsIndependentOfTheBatch(@TempDir Path tmp) throws Exception {
        ImageDataset data = EvalTestData.synthetic(64, 16, 4);
        Path run = tmp.resolve("run");
        TrainSettings s = TrainSettings.load(
                "fmnist-pico", List.of("train.max-steps=2", "checkpoint.every-steps=2", "data.loader-threads=1"));
        new TrainingRun(s, run, false, null).withDataset(data).run();

        RgbImage a = data.image(0);
        RgbImage b = data.image(5);
        RgbImage big = EvalTestData.synthetic(4, 28, 4).image(1);
        try (VitEmbedder e = VitEmbedder.fromCheckpoint(run, 8)) {
            int d = e.dim();
            assertEquals(s.ssl().backbone().embedDim(), d);
            assertTrue(e.id().startsWith("vit-teacher-cls:"), e.id());
            float[] mixed = e.embed(List.of(a, big, b));
            assertEquals(3 * d, mixed.length);
            for (int i = 0; i < 3; i++) {
                double n = 0;
                for (int c = 0; c < d; c++) {
                    n += mixed[i * d + c] * mixed[i * d + c];
                }
                assertEquals(1.0, n, 1e-4, "row " + i + " is unit-norm");
            }
            float[] alone = e.embed(List.of(b));
            for (int c = 0; c < d; c++) {
                assertEquals(alone[c], mixed[2 * d + c], 1e-4, "image b embeds the same alone or in a mixed batch");
            }
        }
    }
}
