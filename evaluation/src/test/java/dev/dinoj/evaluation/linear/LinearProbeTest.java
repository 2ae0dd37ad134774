package dev.dinoj.evaluation.linear;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.evaluation.EvalTestData;
import dev.dinoj.evaluation.features.EvalFeatures;
import dev.dinoj.evaluation.features.FeatureCache;
import dev.dinoj.evaluation.features.FeatureKind;
import dev.dinoj.evaluation.features.ModelSource;
import dev.dinoj.evaluation.knn.FeatureSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LinearProbeTest {

    /**
     * Known answer: the heads after a few steps equal an independent double-precision implementation of the
     * official update (torch SGD momentum 0.9 without dampening, lr · batch/256, CosineAnnealingLR to 0, CE mean
     * over the batch), from the same initial weights and batch order.
     */
    @Test
    void shouldMatchAHandWrittenSgdWithMomentumAndCosineSchedule() {
        int n = 12;
        int dim = 5;
        int classes = 3;
        SplittableRandom r = new SplittableRandom(4);
        float[][] rows = new float[n][dim];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % classes;
            for (int j = 0; j < dim; j++) {
                rows[i][j] = (float) (r.nextGaussian() + (j == labels[i] ? 1.5 : 0));
            }
        }
        FeatureSet fs = FeatureSet.of(rows, labels);
        List<HeadInput> inputs = List.of(HeadInput.whole(dim), new HeadInput(1, true, 1, 3));
        double[] lrs = {10, 50};
        int batch = 4;
        int epochs = 3;
        LinearProbe.Settings s = new LinearProbe.Settings(lrs, epochs, batch, 0.25, 7, 0);
        float[][] init = LinearProbe.initialWeights(inputs, lrs.length, classes, 7);
        List<LinearHead> heads = new LinearProbe(s, null).train(fs, inputs, classes, init);
        assertEquals(4, heads.size());

        int perEpoch = n / batch;
        int maxIter = epochs * perEpoch;
        for (int g = 0; g < inputs.size(); g++) {
            HeadInput in = inputs.get(g);
            for (int l = 0; l < lrs.length; l++) {
                double lr = lrs[l] * batch / 256.0;
                double[][] w = new double[in.length()][classes];
                for (int i = 0; i < in.length(); i++) {
                    for (int c = 0; c < classes; c++) {
                        w[i][c] = init[g][i * lrs.length * classes + l * classes + c];
                    }
                }
                double[] b = new double[classes];
                double[][] vw = new double[in.length()][classes];
                double[] vb = new double[classes];
                int[] perm = null;
                for (int it = 0; it < maxIter; it++) {
                    if (it % perEpoch == 0) {
                        perm = LinearProbe.batchOrder(n, 7, it / perEpoch);
                    }
                    double[][] gw = new double[in.length()][classes];
                    double[] gb = new double[classes];
                    for (int k = 0; k < batch; k++) {
                        int row = perm[(it % perEpoch) * batch + k];
                        double[] z = new double[classes];
                        double max = -1e300;
                        for (int c = 0; c < classes; c++) {
                            z[c] = b[c];
                            for (int i = 0; i < in.length(); i++) {
                                z[c] += rows[row][in.offset() + i] * w[i][c];
                            }
                            max = Math.max(max, z[c]);
                        }
                        double sum = 0;
                        for (int c = 0; c < classes; c++) {
                            sum += Math.exp(z[c] - max);
                        }
                        for (int c = 0; c < classes; c++) {
                            double dz = (Math.exp(z[c] - max) / sum - (labels[row] == c ? 1 : 0)) / batch;
                            gb[c] += dz;
                            for (int i = 0; i < in.length(); i++) {
                                gw[i][c] += rows[row][in.offset() + i] * dz;
                            }
                        }
                    }
                    double step = lr * 0.5 * (1 + Math.cos(Math.PI * it / maxIter));
                    for (int c = 0; c < classes; c++) {
                        vb[c] = 0.9 * vb[c] + gb[c];
                        b[c] -= step * vb[c];
                        for (int i = 0; i < in.length(); i++) {
                            vw[i][c] = 0.9 * vw[i][c] + gw[i][c];
                            w[i][c] -= step * vw[i][c];
                        }
                    }
                }
                LinearHead h = heads.get(g * lrs.length + l);
                assertEquals(lr, h.lr(), 1e-12);
                for (int i = 0; i < in.length(); i++) {
                    for (int c = 0; c < classes; c++) {
                        assertEquals(w[i][c], h.weight()[i * classes + c], 2e-5, h.name() + " w[" + i + "][" + c + "]");
                    }
                }
                for (int c = 0; c < classes; c++) {
                    assertEquals(b[c], h.bias()[c], 2e-5, h.name() + " b[" + c + "]");
                }
            }
        }
        assertEquals("classifier_features_lr_0_15625", heads.get(0).name());
        assertEquals("classifier_1_blocks_avgpool_True_lr_0_78125", heads.get(3).name());
    }

    @Test
    void lastBlockInputsShouldBeTheOfficialFour() {
        List<HeadInput> in = HeadInput.lastBlocks(4, 10);
        assertEquals(
                List.of(
                        new HeadInput(1, false, 30, 10),
                        new HeadInput(1, true, 30, 20),
                        new HeadInput(4, false, 0, 40),
                        new HeadInput(4, true, 0, 50)),
                in);
        assertEquals(2, HeadInput.lastBlocks(1, 10).size());
        assertEquals("4_blocks_avgpool_True", in.get(3).stem());
    }

    @Test
    void rawPixelProbeOnFashionMnistShouldLearn() throws Exception {
        FeatureSet train;
        FeatureSet test;
        try (EvalFeatures fx = new EvalFeatures(ModelSource.pixels(), FeatureCache.none(), 256, null)) {
            train = fx.get(EvalTestData.train(), 2000, FeatureKind.PIXELS);
            test = fx.get(EvalTestData.test(), 500, FeatureKind.PIXELS);
        }
        LinearProbe.Settings s = new LinearProbe.Settings(new double[] {1e-3, 1e-2, 1e-1}, 5, 128, 0.1, 0, 0);
        LinearProbeResult r = new LinearProbe(s, null).run(train, test, List.of(HeadInput.whole(train.dim())));
        System.out.print(r.toTable());
        assertEquals(1800, r.nTrain());
        assertEquals(200, r.nVal());
        assertEquals(3, r.heads().size());
        assertTrue(
                r.test().top1() > 70,
                "raw-pixel linear probe on 2000 images: " + r.test().top1());
        JsonNode j = new ObjectMapper().readTree(r.toJson("pixels"));
        assertEquals("linear", j.get("eval").asText());
        assertEquals(r.test().top1(), j.get("test").get("top1").asDouble(), 1e-4);
    }

    @Test
    void lastBlockProbeOfARandomBackboneShouldBeatChance() {
        FeatureSet train;
        FeatureSet test;
        int blocks;
        int dim;
        try (EvalFeatures fx =
                new EvalFeatures(ModelSource.random(EvalTestData.pico(), 0), FeatureCache.none(), 256, null)) {
            train = fx.get(EvalTestData.train(), 1000, FeatureKind.LAST_BLOCKS);
            test = fx.get(EvalTestData.test(), 300, FeatureKind.LAST_BLOCKS);
            blocks = fx.lastBlocks();
            dim = fx.embedDim();
        }
        List<HeadInput> inputs = HeadInput.lastBlocks(blocks, dim);
        LinearProbeResult r =
                new LinearProbe(LinearProbe.Settings.defaults().withEpochs(3), null).run(train, test, inputs);
        System.out.print(r.toTable());
        assertEquals(
                inputs.size() * LinearProbe.OFFICIAL_LEARNING_RATES.length,
                r.heads().size());
        assertEquals(inputs.size(), r.byInput().size());
        assertTrue(r.best().name().startsWith("classifier_"), r.best().name());
        assertTrue(
                r.test().top1() > 30,
                "random pico features, 900 train images: " + r.test().top1());
    }
}
