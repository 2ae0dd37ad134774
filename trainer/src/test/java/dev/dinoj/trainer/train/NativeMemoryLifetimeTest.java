package dev.dinoj.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.model.ParamSet;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A garbage collection between the forward and the backward pass must not change the gradients. It did: DJL's
 * {@code NDArray.mul(Number)} and friends wrap the scalar in a Java direct buffer ({@code torch::from_blob}) and close
 * it right after the op, while the autograd graph keeps the tensor for the backward; a GC then freed its memory and
 * the backward read malloc's bookkeeping instead (NaN gradient norms, runs not reproducible under load).
 */
class NativeMemoryLifetimeTest {

    /** Several full collections, with time for the direct buffers' cleaners to run (they free the native memory). */
    static void collect() {
        for (int i = 0; i < 3; i++) {
            System.gc();
            try {
                Thread.sleep(30);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static Map<String, float[]> gradients(ParamSet p) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (String name : p.names()) {
            try (NDArray g = p.get(name).getGradient()) {
                out.put(name, g.toFloatArray());
            }
        }
        return out;
    }

    private static Map<String, float[]> step(TrainSettings s, boolean gcBeforeBackward) throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                SslMetaArch model = SslMetaArch.create(m, s.ssl(), 5)) {
            if (gcBeforeBackward) {
                model.setBeforeBackward(NativeMemoryLifetimeTest::collect);
            }
            StepBatch batch = TestBatches.first(s, m, new TestData(64, 20));
            model.student().zeroGradients();
            var v = s.schedules().at(0);
            SslMetaArch.StepLosses losses =
                    model.forwardBackward(batch, v.teacherTemp(), StepRandom.forStep(s.seed(), 0));
            Map<String, float[]> g = gradients(model.student());
            g.put("<total loss>", new float[] {(float) losses.total()});
            return g;
        }
    }

    @Test
    void gradientsDoNotDependOnAGarbageCollectionBeforeTheBackward() throws Exception {
        // drop path above 0.1 takes the batch-subset path (index tensors, a rescaling scalar) as well as the scaled
        // attention, the loss weights and the temperatures; KoLeo and iBOT on
        TrainSettings s = TrainSettings.load("fmnist-pico", List.of("model.drop-path-rate=0.3"));
        Map<String, float[]> quiet = step(s, false);
        Map<String, float[]> collected = step(s, true);
        assertEquals(quiet.keySet(), collected.keySet());
        for (String name : quiet.keySet()) {
            assertArrayEquals(
                    quiet.get(name), collected.get(name), name + ": gradient changed by a GC before the backward");
        }
    }

    @Test
    void gramLossGradientsDoNotDependOnAGarbageCollectionBeforeTheBackward() throws Exception {
        TrainSettings s = TrainSettings.load(
                "fmnist-pico",
                List.of(
                        "gram.use-loss=true",
                        "gram.ema-teacher=true",
                        "gram.rep-update=false",
                        "gram.remove-neg=true",
                        "gram.loss-weight=2"));
        Map<String, float[]> quiet = gramStep(s, false);
        Map<String, float[]> collected = gramStep(s, true);
        for (String name : quiet.keySet()) {
            assertArrayEquals(
                    quiet.get(name), collected.get(name), name + ": gradient changed by a GC before the backward");
        }
    }

    private static Map<String, float[]> gramStep(TrainSettings s, boolean gc) throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                SslMetaArch model = SslMetaArch.create(m, s.ssl(), 5)) {
            model.setGram(new GramAnchor(m, s.gram(), s.ssl().backbone()));
            if (gc) {
                model.setBeforeBackward(NativeMemoryLifetimeTest::collect);
            }
            StepBatch batch = TestBatches.first(s, m, new TestData(64, 20));
            model.student().zeroGradients();
            model.gram().beforeStep(0, model.ema());
            model.forwardBackward(batch, s.schedules().at(0).teacherTemp(), new SplittableRandom(1));
            return gradients(model.student());
        }
    }

    /**
     * The graph-building code (model, losses, the step) calls none of DJL's {@code NDArray} methods that take a
     * {@code Number} (nor {@code NDManager.create(Number)}): each such call leaves a tensor over freed-on-GC memory in
     * the autograd graph. {@link dev.dinoj.trainer.model.Scalars} is the safe replacement. Checked on the compiled
     * classes' constant pools, where every method a class calls is named with its descriptor.
     */
    @Test
    void graphCodeUsesNoNumberOverloadsOfDjl() throws Exception {
        Path classes = Path.of(dev.dinoj.trainer.model.Scalars.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .toURI());
        byte[] descriptor = "(Ljava/lang/Number;)Lai/djl/ndarray/NDArray;".getBytes(StandardCharsets.UTF_8);
        List<String> offenders = new ArrayList<>();
        int scanned = 0;
        for (String pkg : List.of("model", "loss", "train")) { // optim runs after the backward, grad mode off
            try (var files = Files.walk(classes.resolve("dev/dinoj/trainer/" + pkg))) {
                for (Path f : (Iterable<Path>) files.filter(x -> x.toString().endsWith(".class"))::iterator) {
                    if (f.getFileName().toString().startsWith("Scalars")) {
                        continue;
                    }
                    scanned++;
                    if (indexOf(Files.readAllBytes(f), descriptor) >= 0) {
                        offenders.add(classes.relativize(f).toString());
                    }
                }
            }
        }
        assertTrue(scanned > 20, "scanned only " + scanned + " classes under " + classes);
        assertTrue(
                offenders.isEmpty(),
                "DJL Number overloads (mul(Number), div(Number), …) used in " + offenders
                        + "; use dev.dinoj.trainer.model.Scalars instead");
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
