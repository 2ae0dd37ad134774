package dev.dinoj.actors.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.trainer.config.ConfigError;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A cluster run is the sharded step, which has no Gram anchoring and no distillation yet: a run configured or
 * submitted with them is refused when its spec is loaded (node start-up, {@code POST /training/submit}), naming the
 * key, instead of silently training plain DINOv2.
 */
class RunSpecTest {

    private static RunSpec spec(String... sets) {
        Duration s = Duration.ofSeconds(1);
        return new RunSpec("fmnist-pico", List.of(sets), Path.of("run"), 2, 1, 1, s, s, s, s, null);
    }

    @Test
    void shouldLoadAPlainRun() {
        assertEquals(8, spec().load().batchSize());
    }

    @Test
    void shouldRefuseGramAnchoringAndDistillation() {
        ConfigError gram = assertThrows(ConfigError.class, () -> spec("gram.use-loss=true").load());
        assertTrue(gram.getMessage().contains("dinoj.gram.use-loss"), gram.getMessage());
        ConfigError distill = assertThrows(ConfigError.class, () -> spec("distill.teacher=/some/teacher").load());
        assertTrue(distill.getMessage().contains("dinoj.distill.teacher"), distill.getMessage());
    }
}
