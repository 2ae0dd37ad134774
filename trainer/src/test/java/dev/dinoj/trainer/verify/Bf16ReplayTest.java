package dev.dinoj.trainer.verify;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.trainer.model.AttentionKernel;
import dev.dinoj.trainer.model.Compute;
import dev.dinoj.trainer.model.Precision;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The official float32 steps replayed in bfloat16 mixed precision: every quantity within the documented bf16 bounds
 * ({@link Tolerances#BF16}), and the gradients really computed in bfloat16 (further from the reference than float32's
 * tolerance).
 */
class Bf16ReplayTest {

    @ParameterizedTest
    @ValueSource(strings = {"a", "b"})
    void bf16StepIsWithinTheDocumentedBounds(String variant) throws Exception {
        Compute bf16 = new Compute(Precision.BF16, AttentionKernel.SDPA);
        List<Check> checks = new ReferenceVerifier(ReferenceParityTest.fixture(variant), bf16, c -> {}).run();
        List<String> failed =
                checks.stream().filter(c -> !c.ok()).map(Check::line).collect(Collectors.toList());
        assertTrue(checks.size() > 200, "too few checks: " + checks.size());
        assertTrue(failed.isEmpty(), "out of the bf16 bounds:\n" + String.join("\n", failed));
        double worstGradRel = checks.stream()
                .filter(c -> c.quantity().contains(" grad ") && c.tolerance() > 0)
                .mapToDouble(c -> c.error() / c.tolerance() * Tolerances.BF16.gradRel())
                .max()
                .orElse(0);
        assertTrue(
                worstGradRel > Tolerances.FP32.gradRel(),
                "bf16 gradients as exact as float32 (" + worstGradRel + "): the step did not compute in bfloat16");
    }
}
