package dev.dinoj.trainer.checkpoint;

import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.io.Safetensors;
import dev.dinoj.trainer.loss.SoftmaxCenter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code centers.safetensors} of both checkpoint formats: the DINO and iBOT softmax centers and their pending update
 * ({@code NAME_center}, {@code NAME_pending_sum}, the count in the metadata).
 */
final class CenterFiles {

    static final String FILE = "centers.safetensors";

    private CenterFiles() {}

    static void write(Path file, TrainState model) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        Map<String, NpyArray> out = new LinkedHashMap<>();
        put(out, meta, "dino", model.dinoCenter());
        put(out, meta, "ibot", model.ibotCenter());
        Safetensors.write(file, out, meta);
    }

    static void restore(Path file, TrainState model) throws IOException {
        Safetensors.Contents c = Safetensors.read(file);
        restore(c, "dino", model.dinoCenter());
        restore(c, "ibot", model.ibotCenter());
    }

    private static void put(Map<String, NpyArray> out, Map<String, String> meta, String name, SoftmaxCenter c) {
        float[] center = c.centerHost();
        out.put(name + "_center", NpyArray.ofFloats(name + "_center", new long[] {1, center.length}, center));
        float[] pending = c.pendingHost();
        if (pending != null) {
            out.put(
                    name + "_pending_sum",
                    NpyArray.ofFloats(name + "_pending_sum", new long[] {1, pending.length}, pending));
            meta.put(name + "_pending_count", Double.toString(c.pendingCount()));
        }
    }

    private static void restore(Safetensors.Contents c, String name, SoftmaxCenter center) {
        NpyArray value = c.tensors().get(name + "_center");
        NpyArray pending = c.tensors().get(name + "_pending_sum");
        double count = pending == null ? 0 : Double.parseDouble(c.metadata().get(name + "_pending_count"));
        center.restore(value.asFloats(), pending == null ? null : pending.asFloats(), count);
    }
}
