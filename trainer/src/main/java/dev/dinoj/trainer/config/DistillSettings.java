package dev.dinoj.trainer.config;

import java.nio.file.Path;

/**
 * Distillation ({@code dinoj.distill.*}): the frozen teacher and how it is loaded.
 *
 * @param teacher              checkpoint/run directory or safetensors file of the teacher; null for DINOv2 pretraining
 * @param numHeads             attention heads of a safetensors teacher (0 = from its width, 64 per head)
 * @param randomHeadsIfMissing a teacher without DINO/iBOT heads gets random ones ({@code missing-teacher-heads = random})
 *                             instead of an error
 * @param headSeed             seed of those random heads
 */
public record DistillSettings(Path teacher, int numHeads, boolean randomHeadsIfMissing, long headSeed) {

    static DistillSettings from(ConfigReader r) {
        String teacher = r.string("dinoj.distill.teacher");
        int heads = r.intAt("dinoj.distill.teacher-num-heads", 0, Bounds.HEADS);
        long seed = r.longAt("dinoj.distill.teacher-head-seed", Long.MIN_VALUE, Long.MAX_VALUE);
        String missing = r.string("dinoj.distill.missing-teacher-heads");
        if (!missing.equals("error") && !missing.equals("random")) {
            throw new ConfigError("dinoj.distill.missing-teacher-heads = " + missing + ": use error or random");
        }
        return new DistillSettings(teacher.isEmpty() ? null : Path.of(teacher), heads, missing.equals("random"), seed);
    }

    /** Whether this run distils (a teacher is set). */
    public boolean enabled() {
        return teacher != null;
    }
}
