package dev.dinoj.trainer.collective.sharded;

import dev.dinoj.trainer.config.ConfigError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue #7: the sharded step implements neither distillation nor Gram anchoring, so {@code train --ranks N} with
 * either stops at once with the key and what to do, before any rank JVM starts (it used to train plain DINOv2).
 */
class ShardedUnsupportedFeaturesTest {

    @Test
    void gramAnchoringIsRefusedBeforeRanksStart(@TempDir Path tmp) {
        ConfigError e = assertThrows(ConfigError.class, () -> ShardedTrainingRun.launch("fmnist-pico",
                List.of("gram.use-loss=true"), tmp.resolve("run"), false, 2, r -> { }));
        assertTrue(e.getMessage().startsWith("dinoj.gram.use-loss = true"), e.getMessage());
        assertTrue(e.getMessage().contains("without --ranks"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("run")), "nothing is started or written");
    }

    @Test
    void distillationIsRefusedBeforeRanksStart(@TempDir Path tmp) {
        ConfigError e = assertThrows(ConfigError.class, () -> ShardedTrainingRun.launch("fmnist-pico",
                List.of("distill.teacher=" + tmp.resolve("teacher"), "model.drop-path-rate=0"), tmp.resolve("run"), false,
                2, r -> { }));
        assertTrue(e.getMessage().startsWith("dinoj.distill.teacher = "), e.getMessage());
        assertTrue(e.getMessage().contains("dinoj distill"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("run")), "nothing is started or written");
    }

    @Test
    void plainSettingsPass() {
        ShardedTrainer.requireSupported(dev.dinoj.trainer.config.TrainSettings.load("fmnist-pico", List.of()));
    }
}
