package dev.dinoj.trainer.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Replays the official DINOv2 fixtures (variants a and b) and requires every quantity within tolerance. */
class ReferenceParityTest {

    static Path fixture(String variant) throws URISyntaxException {
        return Path.of(ReferenceParityTest.class
                        .getResource("/fixtures/dinov2-step/" + variant + "/manifest.json")
                        .toURI())
                .getParent();
    }

    @Test
    void detectsADeviation(@TempDir Path tmp) throws Exception {
        Path src = fixture("a");
        try (var files = Files.list(src)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, tmp.resolve(f.getFileName()));
            }
        }
        Path manifest = tmp.resolve("manifest.json");
        String json = Files.readString(manifest);
        String tampered = json.replaceFirst("\"dino_local_crops_loss\": 4\\.67", "\"dino_local_crops_loss\": 4.68");
        assertNotEquals(json, tampered, "fixture text changed; update the test");
        Files.writeString(manifest, tampered);
        List<Check> checks = new ReferenceVerifier(tmp, c -> {}).run();
        List<Check> failed = checks.stream().filter(c -> !c.ok()).collect(Collectors.toList());
        assertEquals(1, failed.size(), "exactly the tampered loss must fail: " + failed);
        assertTrue(failed.get(0).quantity().contains("step0 loss dino_local_crops_loss"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "b"})
    void replaysOfficialSteps(String variant) throws Exception {
        List<Check> checks = new ReferenceVerifier(fixture(variant), c -> {}).run();
        List<String> failed =
                checks.stream().filter(c -> !c.ok()).map(Check::line).collect(Collectors.toList());
        assertTrue(checks.size() > 200, "too few checks: " + checks.size());
        assertTrue(failed.isEmpty(), "failed:\n" + String.join("\n", failed));
        // the comparisons must cover every kind of quantity
        for (String kind : new String[] {
            "loss ", "grad ", "grad_norm ", "student ", "teacher ", "center ", "teacher_forward ", "param_groups"
        }) {
            assertTrue(checks.stream().anyMatch(c -> c.quantity().contains(kind)), "no check of " + kind);
        }
    }
}
