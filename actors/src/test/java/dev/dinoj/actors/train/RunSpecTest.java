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
 * A cluster run is the sharded step, which trains with Gram anchoring and distils too (issue #7); a distillation
 * teacher that the coordinator's node cannot see is refused when the spec is loaded (node start-up,
 * {@code POST /training/submit}), naming the key, rather than failing on every worker.
 */
class RunSpecTest {

    private static RunSpec spec(String... sets) {
        Duration s = Duration.ofSeconds(1);
        return new RunSpec("fmnist-pico", List.of(sets), Path.of("run"), 2, 1, 1, s, s, s, s, null, 3, 0);
    }

    @Test
    void shouldLoadAPlainRun() {
        assertEquals(8, spec().load().batchSize());
    }

    @Test
    void shouldLoadGramAnchoring() {
        assertTrue(spec("gram.use-loss=true").load().gram() != null);
    }

    @Test
    void shouldRefuseATeacherTheCoordinatorCannotSee() {
        ConfigError distill = assertThrows(
                ConfigError.class,
                () -> spec("distill.teacher=/some/teacher", "model.drop-path-rate=0")
                        .load());
        assertTrue(distill.getMessage().startsWith("dinoj.distill.teacher = /some/teacher"), distill.getMessage());
        assertTrue(distill.getMessage().contains("all nodes share"), distill.getMessage());
    }

    @Test
    void shouldRefusePretrainedWeightsTheCoordinatorCannotSee() {
        ConfigError e = assertThrows(
                ConfigError.class,
                () -> spec("model.pretrained-weights=/some/backbone.safetensors")
                        .load());
        assertTrue(
                e.getMessage().startsWith("dinoj.model.pretrained-weights = /some/backbone.safetensors"),
                e.getMessage());
        assertTrue(e.getMessage().contains("all nodes share"), e.getMessage());
    }
}
