package dev.dinoj.evaluation.features;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDManager;
import dev.dinoj.evaluation.EvalTestData;
import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.trainer.model.VitConfig;
import dev.dinoj.trainer.weights.Backbones;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FrozenFeaturesTest {

    private static float[] cols(FeatureSet fs, int from, int to) {
        float[] out = new float[fs.n() * (to - from)];
        for (int i = 0; i < fs.n(); i++) {
            System.arraycopy(fs.data(), i * fs.dim() + from, out, i * (to - from), to - from);
        }
        return out;
    }

    @Test
    void shouldAgreeWithFeatureExtractorAndSliceLastBlocks() {
        VitConfig vit = EvalTestData.pico();
        ImageDataset ds = EvalTestData.synthetic(10, 28, 3);
        int d = vit.embedDim();
        try (NDManager m = NDManager.newBaseManager();
                Backbones.Loaded b = Backbones.random(vit, 3, m)) {
            FrozenFeatures ff = new FrozenFeatures(b.model(), 4);
            FeatureSet cls = ff.extract(ds, 10, vit.imgSize(), FeatureKind.CLS, m, null);
            FeatureSet avg = ff.extract(ds, 10, vit.imgSize(), FeatureKind.CLS_AVGPOOL, m, null);
            FeatureSet last = ff.extract(ds, 10, vit.imgSize(), FeatureKind.LAST_BLOCKS, m, null);
            FeatureSet ref = new FeatureExtractor(b.model(), vit.imgSize(), FeatureExtractor.Kind.CLS, 3)
                    .extract(ds, 10, m, null);
            FeatureSet refAvg = new FeatureExtractor(b.model(), vit.imgSize(), FeatureExtractor.Kind.CLS_AVGPOOL, 5)
                    .extract(ds, 10, m, null);
            assertArrayEquals(ref.data(), cls.data(), 1e-6f);
            assertArrayEquals(refAvg.data(), avg.data(), 1e-6f);
            assertArrayEquals(ref.labels(), last.labels());
            int n = Math.min(4, vit.depth());
            assertEquals(n, ff.lastBlocks());
            assertEquals((n + 1) * d, last.dim());
            // the last block's CLS is the CLS feature, the appended mean is CLS_AVGPOOL's second half
            assertArrayEquals(cls.data(), cols(last, (n - 1) * d, n * d), 1e-6f);
            assertArrayEquals(cols(avg, d, 2 * d), cols(last, n * d, (n + 1) * d), 1e-6f);
            // an earlier block's CLS is something else
            float[] first = cols(last, 0, d);
            float diff = 0;
            for (int i = 0; i < first.length; i++) {
                diff = Math.max(diff, Math.abs(first[i] - cls.data()[i]));
            }
            assertEquals(true, diff > 1e-3, "block " + (vit.depth() - n) + " CLS differs from the last block's");
        }
    }

    @Test
    void patchTokensOfPixelsShouldBeThePatchesInRowMajorOrder() {
        // a 4x4 image, patch 2: pixel (x, y) has value (y * 4 + x) / 16 in every channel
        float[] chw = new float[3 * 16];
        for (int c = 0; c < 3; c++) {
            for (int p = 0; p < 16; p++) {
                chw[c * 16 + p] = p / 16f;
            }
        }
        RgbImage img = new RgbImage(4, 4, chw);
        ImageDataset ds = new ImageDataset() {
            public int size() {
                return 1;
            }

            public RgbImage image(int i) {
                return img;
            }

            public int label(int i) {
                return 0;
            }

            public int numClasses() {
                return 1;
            }

            public String describe() {
                return "one";
            }
        };
        try (NDManager m = NDManager.newBaseManager()) {
            FeatureSet fs = new FrozenFeatures(null, 2).extract(ds, 1, 4, FeatureKind.PATCH_TOKENS, m, null);
            // default pixel patch is 4: one patch holding the whole image, channel-major
            assertEquals(3 * 16, fs.dim());
            float mean = EvalImages.MEAN[0];
            float std = EvalImages.STD[0];
            assertEquals((5 / 16f - mean) / std, fs.data()[5], 1e-6f, "channel 0, pixel (1, 1)");
            assertThrows(
                    IllegalArgumentException.class,
                    () -> new FrozenFeatures(null, 2).extract(ds, 1, 4, FeatureKind.CLS, m, null));
        }
    }

    @Test
    void exportedSafetensorsShouldGiveTheSameFeaturesUnderTheirOwnChecksum(@TempDir Path tmp) throws Exception {
        VitConfig vit = EvalTestData.pico();
        EvalDataset ds = new EvalDataset("synthetic-6", EvalTestData.synthetic(6, 28, 2));
        Path file = tmp.resolve("backbone.safetensors");
        try (NDManager m = NDManager.newBaseManager();
                Backbones.Loaded b = Backbones.random(vit, 9, m)) {
            Backbones.exportHubLayout(b.params(), "", vit, file);
        }
        ModelSource random = ModelSource.random(vit, 9);
        ModelSource weights = ModelSource.safetensors(file, vit);
        assertEquals(true, weights.id().startsWith("safetensors-sha256:" + ModelSource.sha256(file)));
        FeatureSet a;
        FeatureSet b;
        try (EvalFeatures fx = new EvalFeatures(random, FeatureCache.none(), 4, null)) {
            a = fx.get(ds, 0, FeatureKind.CLS);
        }
        try (EvalFeatures fx = new EvalFeatures(weights, FeatureCache.none(), 4, null)) {
            b = fx.get(ds, 0, FeatureKind.CLS);
        }
        assertArrayEquals(a.data(), b.data(), 1e-6f);
    }

    @Test
    void evalFeaturesShouldServeASecondRequestFromTheCacheWithoutLoadingTheModel(@TempDir Path tmp) {
        VitConfig vit = EvalTestData.pico();
        EvalDataset ds = new EvalDataset("synthetic-12", EvalTestData.synthetic(12, 28, 3));
        FeatureCache cache = FeatureCache.in(tmp);
        FeatureSet a;
        try (EvalFeatures fx = new EvalFeatures(ModelSource.random(vit, 1), cache, 5, null)) {
            a = fx.get(ds, 0, FeatureKind.CLS);
        }
        ModelSource unloadable = ModelSource.random(vit, 1);
        try (EvalFeatures fx = new EvalFeatures(unloadable, cache, 5, null)) {
            FeatureSet b = fx.get(ds, 0, FeatureKind.CLS);
            assertArrayEquals(a.data(), b.data());
            assertEquals(1, cache.hits());
            fx.get(ds, 6, FeatureKind.CLS); // another count: another key
            fx.get(ds, 0, FeatureKind.CLS_AVGPOOL); // another kind: another key
            fx.get(ds, 0, FeatureKind.CLS, 24); // another size: another key
        }
        assertEquals(4, cache.misses());
        // another seed is another model
        try (EvalFeatures fx = new EvalFeatures(ModelSource.random(vit, 2), cache, 5, null)) {
            fx.get(ds, 0, FeatureKind.CLS);
        }
        assertEquals(5, cache.misses());
    }
}
