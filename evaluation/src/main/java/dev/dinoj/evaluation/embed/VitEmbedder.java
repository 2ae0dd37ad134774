package dev.dinoj.evaluation.embed;

import ai.djl.ndarray.NDManager;
import dev.dinoj.evaluation.features.FeatureExtractor;
import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.embed.Embedder;
import dev.dinoj.trainer.checkpoint.Checkpoints;
import dev.dinoj.trainer.model.VitConfig;
import dev.dinoj.trainer.weights.Backbones;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The curation {@link Embedder} of a dinoj checkpoint: the EMA teacher backbone's CLS token ({@code x_norm_clstoken}),
 * L2-normalised, computed as the evaluations compute features ({@link FeatureExtractor}: bicubic resize to the model's
 * image size, ImageNet mean/std, eval mode). Images of different sizes are batched per size.
 */
public final class VitEmbedder implements Embedder {

    private final NDManager manager;
    private final Backbones.Loaded model;
    private final FeatureExtractor extractor;
    private final String id;

    private VitEmbedder(NDManager manager, Backbones.Loaded model, int batch, String id) {
        this.manager = manager;
        this.model = model;
        this.extractor =
                new FeatureExtractor(model.model(), model.config().imgSize(), FeatureExtractor.Kind.CLS, batch);
        this.id = id;
    }

    /**
     * Loads the teacher of {@code checkpoint} (a {@code step-N} directory, or a run directory's newest checkpoint).
     *
     * @param batch images per forward pass
     */
    public static VitEmbedder fromCheckpoint(Path checkpoint, int batch) {
        Path dir = Checkpoints.resolve(checkpoint);
        NDManager manager = NDManager.newBaseManager();
        try {
            Backbones.Loaded model = Backbones.teacherFromCheckpoint(dir, manager);
            Path teacher =
                    dir.resolve(Checkpoints.isSharded(dir) ? Checkpoints.SHARDED_MANIFEST : "teacher.safetensors");
            String id = "vit-teacher-cls:" + dir.toAbsolutePath().normalize() + ":" + Files.size(teacher) + ":"
                    + Files.getLastModifiedTime(teacher).toMillis();
            return new VitEmbedder(manager, model, batch, id);
        } catch (IOException e) {
            manager.close();
            throw new UncheckedIOException(dir + ": cannot read the checkpoint", e);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * The embedder of {@code vit:PATH}: the teacher of a checkpoint when {@code path} is a directory, else backbone
     * weights ({@link #fromSafetensors}, the architecture read from the file).
     *
     * @param batch images per forward pass
     */
    public static VitEmbedder of(Path path, int batch) {
        return Files.isDirectory(path) ? fromCheckpoint(path, batch) : fromSafetensors(path, null, batch);
    }

    /**
     * Loads safetensors backbone weights in any published layout (what {@code dinoj export} writes, a DINOv2 backbone
     * of the dinov2 hub, Hugging Face transformers or timm): the retrieval model DINOv2's curation used was such a
     * pretrained ViT.
     *
     * @param vit the architecture, or null to read it from the file
     * @param batch images per forward pass
     */
    public static VitEmbedder fromSafetensors(Path weights, VitConfig vit, int batch) {
        NDManager manager = NDManager.newBaseManager();
        try {
            Backbones.Loaded model = Backbones.fromSafetensors(weights, vit, manager);
            String id = "vit-weights-cls:" + weights.toAbsolutePath().normalize() + ":" + Files.size(weights) + ":"
                    + Files.getLastModifiedTime(weights).toMillis() + ":" + model.config();
            return new VitEmbedder(manager, model, batch, id);
        } catch (IOException e) {
            manager.close();
            String why = String.valueOf(e.getMessage());
            throw new UncheckedIOException(why.startsWith(weights.toString()) ? why : weights + ": " + why, e);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    @Override
    public int dim() {
        return model.config().embedDim();
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public float[] embed(List<RgbImage> images) {
        int d = dim();
        float[] out = new float[images.size() * d];
        Map<Long, List<Integer>> bySize = new LinkedHashMap<>();
        for (int i = 0; i < images.size(); i++) {
            RgbImage img = images.get(i);
            bySize.computeIfAbsent(((long) img.width() << 32) | img.height(), k -> new ArrayList<>())
                    .add(i);
        }
        for (List<Integer> group : bySize.values()) {
            ImageDataset ds = new ListDataset(images, group);
            FeatureSet f = extractor.extract(ds, group.size(), manager, null);
            for (int j = 0; j < group.size(); j++) {
                double norm = 0;
                for (int c = 0; c < d; c++) {
                    double v = f.data()[j * d + c];
                    norm += v * v;
                }
                float inv = (float) (1 / Math.max(Math.sqrt(norm), 1e-12));
                int dst = group.get(j) * d;
                for (int c = 0; c < d; c++) {
                    out[dst + c] = f.data()[j * d + c] * inv;
                }
            }
        }
        return out;
    }

    @Override
    public void close() {
        model.close();
        manager.close();
    }

    @Override
    public String toString() {
        return "VitEmbedder[" + id + "]";
    }

    /** A batch's images of one size as an unlabelled dataset (label 0: FeatureSet needs labels >= 0). */
    private record ListDataset(List<RgbImage> images, List<Integer> rows) implements ImageDataset {
        @Override
        public int size() {
            return rows.size();
        }

        @Override
        public RgbImage image(int index) {
            return images.get(rows.get(index));
        }

        @Override
        public int label(int index) {
            return 0;
        }

        @Override
        public int numClasses() {
            return 1;
        }

        @Override
        public String describe() {
            return "embedding batch of " + rows.size() + " images";
        }
    }
}
