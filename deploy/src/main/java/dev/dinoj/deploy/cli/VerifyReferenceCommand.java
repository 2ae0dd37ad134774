package dev.dinoj.deploy.cli;

import ai.djl.Device;
import dev.dinoj.trainer.config.DeviceSpec;
import dev.dinoj.trainer.model.AttentionKernel;
import dev.dinoj.trainer.model.Compute;
import dev.dinoj.trainer.model.Precision;
import dev.dinoj.trainer.verify.Check;
import dev.dinoj.trainer.verify.ReferenceVerifier;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dinoj verify-reference --fixture DIR}: replays official DINOv2 steps and compares everything. */
@Command(
        name = "verify-reference",
        mixinStandardHelpOptions = true,
        description = {
            "Replay a fixture of official DINOv2 training steps (recorded with the official code; the format of "
                    + "trainer/src/test/resources/fixtures/dinov2-step) and "
                    + "compare losses, gradients, updated student/teacher parameters, centers and the teacher forward.",
            "Prints one line per quantity with its error and tolerance, then PASS or FAIL; exits 0 only on PASS."
        })
public final class VerifyReferenceCommand implements Callable<Integer> {

    @Option(names = "--fixture", required = true, description = "fixture directory (with manifest.json)")
    Path fixture;

    @Option(names = "--failures-only", description = "print only the quantities out of tolerance")
    boolean failuresOnly;

    @Option(
            names = "--device",
            defaultValue = "cpu",
            description = "cpu | cuda | cuda:N: where the replay runs (default ${DEFAULT-VALUE}; tolerances are the "
                    + "fixture's, set for float32 on any device)")
    String device;

    @Option(
            names = "--precision",
            defaultValue = "fp32",
            description = "fp32 (the fixture's tolerances) or bf16 (bfloat16 mixed precision against the documented "
                    + "looser bounds, docs/TRAINING.md) (default ${DEFAULT-VALUE})")
    String precision;

    @Option(
            names = "--attention",
            defaultValue = "sdpa",
            description = "sdpa (fused) or manual (default ${DEFAULT-VALUE})")
    String attention;

    @Override
    public Integer call() throws Exception {
        Device on = DeviceSpec.parse(device).resolve(0);
        Compute compute;
        try {
            compute = new Compute(Precision.parse(precision), AttentionKernel.parse(attention));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("verify-reference --precision/--attention: " + e.getMessage(), e);
        }
        List<Check> checks = new ReferenceVerifier(
                        fixture,
                        compute,
                        c -> {
                            if (!failuresOnly || !c.ok()) {
                                System.out.println(c.line());
                            }
                        },
                        on)
                .run();
        String mode = compute + ", " + compute.precision().key() + " bounds";
        long failed = checks.stream().filter(c -> !c.ok()).count();
        System.out.println(
                failed == 0
                        ? "PASS (" + checks.size() + " quantities within tolerance; " + mode + ")"
                        : "FAIL (" + failed + " of " + checks.size() + " quantities out of tolerance; " + mode + ")");
        return failed == 0 ? 0 : 1;
    }
}
