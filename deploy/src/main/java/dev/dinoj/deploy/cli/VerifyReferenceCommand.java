package dev.dinoj.deploy.cli;

import ai.djl.Device;
import dev.dinoj.trainer.config.DeviceSpec;
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

    @Override
    public Integer call() throws Exception {
        Device on = DeviceSpec.parse(device).resolve(0);
        List<Check> checks = new ReferenceVerifier(
                        fixture,
                        c -> {
                            if (!failuresOnly || !c.ok()) {
                                System.out.println(c.line());
                            }
                        },
                        on)
                .run();
        long failed = checks.stream().filter(c -> !c.ok()).count();
        System.out.println(
                failed == 0
                        ? "PASS (" + checks.size() + " quantities within tolerance)"
                        : "FAIL (" + failed + " of " + checks.size() + " quantities out of tolerance)");
        return failed == 0 ? 0 : 1;
    }
}
