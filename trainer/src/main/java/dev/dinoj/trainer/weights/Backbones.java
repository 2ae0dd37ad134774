package dev.dinoj.trainer.weights;

import ai.djl.ndarray.NDManager;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.trainer.checkpoint.Checkpoints;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.io.Safetensors;
import dev.dinoj.trainer.model.FfnType;
import dev.dinoj.trainer.model.ModelInit;
import dev.dinoj.trainer.model.ParamSet;
import dev.dinoj.trainer.model.VisionTransformer;
import dev.dinoj.trainer.model.VitConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A backbone ready for feature extraction, from a dinoj checkpoint (its EMA teacher, as dinov2 evaluates), from a
 * safetensors file in any published layout ({@link BackboneFile}: dinov2 hub / dinoj, transformers, timm; the
 * architecture read from the file or given), or freshly initialised; and the export to the dinov2 hub layout so
 * PyTorch code can {@code load_state_dict} it.
 */
public final class Backbones {

    private Backbones() {}

    /** A backbone with its own parameters; closing it frees them. */
    public record Loaded(VitConfig config, ParamSet params, VisionTransformer model) implements AutoCloseable {
        @Override
        public void close() {
            params.close();
        }
    }

    /** The teacher backbone of a checkpoint (a {@code step-N} directory or a run directory's newest). */
    public static Loaded teacherFromCheckpoint(Path checkpoint, NDManager manager) {
        Checkpoints.State st = Checkpoints.peek(checkpoint);
        VitConfig cfg = TrainSettings.fromConfig(ConfigFactory.parseString(st.config())
                        .withFallback(ConfigFactory.parseResources(Backbones.class.getClassLoader(), "reference.conf")))
                .ssl()
                .backbone();
        return fromTensors(
                cfg,
                Checkpoints.teacher(checkpoint),
                "backbone.",
                manager,
                Checkpoints.resolve(checkpoint) + "/teacher.safetensors");
    }

    /**
     * A backbone from safetensors in any layout, its architecture read from the file ({@link BackboneFile}).
     *
     * @throws IllegalArgumentException one line naming the file and the tensor that does not fit
     */
    public static Loaded open(Path file, NDManager manager) throws IOException {
        return fromSafetensors(file, null, manager);
    }

    /**
     * A backbone from safetensors in any layout, of architecture {@code cfg} (null: read from the file): its heads
     * and interpolation are used, and the file must hold exactly its tensors.
     *
     * @throws IllegalArgumentException one line naming the file and the tensor that does not fit
     */
    public static Loaded fromSafetensors(Path file, VitConfig cfg, NDManager manager) throws IOException {
        BackboneFile f = BackboneFile.inspect(file, cfg == null ? 0 : cfg.numHeads());
        VitConfig vit = cfg == null ? f.config() : cfg;
        return fromTensors(vit, f.read(vit), "", manager, file.toString());
    }

    /** A randomly initialised backbone (the baseline of the k-NN table). */
    public static Loaded random(VitConfig cfg, long seed, NDManager manager) {
        ParamSet p = new ParamSet(manager);
        new ModelInit(seed).backbone(p, "", cfg);
        return new Loaded(cfg, p, new VisionTransformer(cfg, p, ""));
    }

    private static Loaded fromTensors(
            VitConfig cfg, Map<String, NpyArray> tensors, String prefix, NDManager manager, String source) {
        try (ParamSet shape = new ParamSet(manager)) {
            new ModelInit(0).backbone(shape, "", cfg); // the expected names and shapes
            ParamSet p = new ParamSet(manager);
            for (String name : shape.names()) {
                NpyArray t = tensors.get(prefix + name);
                long[] want = shape.get(name).getShape().getShape();
                if (t == null) {
                    p.close();
                    throw new IllegalArgumentException(source + ": missing tensor " + prefix + name);
                }
                if (!Arrays.equals(want, t.shape())) {
                    p.close();
                    throw new IllegalArgumentException(source + ": tensor " + prefix + name + " has shape "
                            + Arrays.toString(t.shape()) + ", the configured model expects " + Arrays.toString(want));
                }
                p.put(name, t.asFloats(), want);
            }
            return new Loaded(cfg, p, new VisionTransformer(cfg, p, ""));
        }
    }

    /**
     * Writes backbone parameters in the official hub layout ({@code prefix} stripped), with the architecture in the
     * safetensors metadata.
     */
    public static void exportHubLayout(ParamSet params, String prefix, VitConfig cfg, Path file) throws IOException {
        Map<String, NpyArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NpyArray> e : params.toHost().entrySet()) {
            if (e.getKey().startsWith(prefix)) {
                String name = e.getKey().substring(prefix.length());
                NpyArray a = e.getValue();
                out.put(name, NpyArray.ofFloats(name, a.shape(), a.floats()));
            }
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("producer", "dinoj");
        meta.put("embed_dim", Integer.toString(cfg.embedDim()));
        meta.put("depth", Integer.toString(cfg.depth()));
        meta.put("num_heads", Integer.toString(cfg.numHeads()));
        meta.put("patch_size", Integer.toString(cfg.patchSize()));
        meta.put("img_size", Integer.toString(cfg.imgSize()));
        meta.put("ffn_layer", cfg.ffn() == FfnType.MLP ? "mlp" : "swiglufused");
        meta.put("num_register_tokens", Integer.toString(cfg.numRegisterTokens()));
        meta.put("init_values", Double.toString(cfg.layerScaleInit()));
        meta.put("interpolate_offset", Double.toString(cfg.interpolateOffset()));
        meta.put("interpolate_antialias", Boolean.toString(cfg.interpolateAntialias()));
        Safetensors.write(file, out, meta);
    }
}
