package dev.dinoj.pipeline.masking;

import dev.dinoj.pipeline.augment.MultiCropSample;
import java.util.List;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * dinov2's {@code collate_data_and_cast} ({@code data/collate.py}): stacks the crops of a list of samples
 * crop-major and draws the iBOT masks of the 2B global crops.
 *
 * <p>Of the {@code B = 2 * batch} global crops, {@code int(B * maskProbability)} get a mask: sample {@code i}
 * of them targets {@code int(N * U(probs[i], probs[i+1]))} patches, where {@code probs =
 * linspace(maskRatioMin, maskRatioMax, nMasked + 1)}; the rest get empty masks; the list of masks is then
 * shuffled, so which crops are masked is random. torch computes {@code probs}, the uniform draw and the
 * products with N in float32 (0-d tensors), and so does this class, so the integer counts agree.
 *
 * <p>Immutable and thread-safe; all randomness comes from the generator passed in (normally a
 * {@link java.util.SplittableRandom}; only {@code nextDouble()} and {@code nextInt(bound)} are called).
 */
public final class Collator {
    private final double maskRatioMin;
    private final double maskRatioMax;
    private final double maskProbability;
    private final MaskingGenerator maskGenerator;

    /**
     * @param maskRatioMin    {@code ibot.mask_ratio_min_max[0]} (0.1)
     * @param maskRatioMax    {@code ibot.mask_ratio_min_max[1]} (0.5)
     * @param maskProbability {@code ibot.mask_sample_probability} (0.5)
     * @param maskGenerator   the generator; its {@code numPatches()} is {@code n_tokens} (N)
     */
    public Collator(double maskRatioMin, double maskRatioMax, double maskProbability, MaskingGenerator maskGenerator) {
        if (!(0 <= maskRatioMin && maskRatioMin <= maskRatioMax && maskRatioMax <= 1)) {
            throw new IllegalArgumentException(
                    "need 0 <= maskRatioMin <= maskRatioMax <= 1: " + maskRatioMin + ", " + maskRatioMax);
        }
        if (!(0 <= maskProbability && maskProbability <= 1)) {
            throw new IllegalArgumentException("maskProbability must be in [0, 1]: " + maskProbability);
        }
        this.maskRatioMin = maskRatioMin;
        this.maskRatioMax = maskRatioMax;
        this.maskProbability = maskProbability;
        this.maskGenerator = Objects.requireNonNull(maskGenerator, "maskGenerator");
    }

    /** dinov2's defaults ({@code ibot.mask_ratio_min_max = [0.1, 0.5]}, {@code mask_sample_probability = 0.5}). */
    public static Collator official(MaskingGenerator maskGenerator) {
        return new Collator(0.1, 0.5, 0.5, maskGenerator);
    }

    /** The masking generator. */
    public MaskingGenerator maskGenerator() {
        return maskGenerator;
    }

    /**
     * Collates {@code samples} (all with the same crop sizes and counts).
     *
     * @param rng the stream for the mask ratios, the masks and the shuffle (Python's global {@code random})
     */
    public CollatedBatch collate(List<MultiCropSample> samples, RandomGenerator rng) {
        int batch = samples.size();
        if (batch == 0) {
            throw new IllegalArgumentException("cannot collate an empty batch");
        }
        MultiCropSample first = samples.get(0);
        int g = first.globalSize();
        int l = first.localSize();
        int nLocal = first.localCropsNumber();
        for (MultiCropSample s : samples) {
            if (s.globalSize() != g || s.localSize() != l || s.localCropsNumber() != nLocal) {
                throw new IllegalArgumentException("all samples of a batch need the same crop sizes and counts");
            }
        }
        int globalLen = 3 * g * g;
        int localLen = 3 * l * l;
        float[] globalCrops = new float[2 * batch * globalLen]; // [2B, 3, G, G]
        float[] localCrops = new float[nLocal * batch * localLen]; // [L*B, 3, l, l]
        for (int b = 0; b < batch; b++) {
            MultiCropSample s = samples.get(b);
            for (int c = 0; c < 2; c++) {
                System.arraycopy(s.globalCrops()[c], 0, globalCrops, (c * batch + b) * globalLen, globalLen);
            }
            for (int c = 0; c < nLocal; c++) {
                System.arraycopy(s.localCrops()[c], 0, localCrops, (c * batch + b) * localLen, localLen);
            }
        }

        int rows = 2 * batch; // B in collate.py
        int n = maskGenerator.numPatches(); // N = n_tokens
        int nMasked = (int) (rows * maskProbability);
        float[] probs = linspace((float) maskRatioMin, (float) maskRatioMax, nMasked + 1);
        boolean[][] maskList = new boolean[rows][];
        int upperbound = 0;
        for (int i = 0; i < nMasked; i++) {
            float probMin = probs[i];
            float probMax = probs[i + 1];
            // int(N * random.uniform(prob_min, prob_max)) on float32 0-d tensors
            float ratio = probMin + (probMax - probMin) * (float) rng.nextDouble();
            maskList[i] = maskGenerator.generate((int) ((float) n * ratio), rng);
            upperbound += (int) ((float) n * probMax);
        }
        for (int i = nMasked; i < rows; i++) {
            maskList[i] = maskGenerator.generate(0, rng);
        }
        for (int i = rows - 1; i > 0; i--) { // random.shuffle
            int j = rng.nextInt(i + 1);
            boolean[] t = maskList[i];
            maskList[i] = maskList[j];
            maskList[j] = t;
        }

        boolean[] masks = new boolean[rows * n]; // [2B, N]
        int total = 0;
        for (int r = 0; r < rows; r++) {
            System.arraycopy(maskList[r], 0, masks, r * n, n);
            for (boolean m : maskList[r]) {
                total += m ? 1 : 0;
            }
        }
        long[] maskIndices = new long[total]; // [n_masked_patches]
        float[] masksWeight = new float[total]; // [n_masked_patches]
        int k = 0;
        for (int r = 0; r < rows; r++) {
            int start = k;
            for (int i = r * n; i < (r + 1) * n; i++) {
                if (masks[i]) {
                    maskIndices[k++] = i;
                }
            }
            float weight = 1f / Math.max(k - start, 1); // 1 / clamp(sum, min=1)
            for (int i = start; i < k; i++) {
                masksWeight[i] = weight;
            }
        }
        return new CollatedBatch(
                batch, g, l, nLocal, globalCrops, localCrops, masks, maskIndices, masksWeight, upperbound, total);
    }

    /**
     * {@code torch.linspace(start, end, steps)} for float32 on CPU: {@code step = (end - start) / (steps - 1)};
     * the first half is {@code start + step * i}, the second half {@code end - step * (steps - 1 - i)}.
     */
    static float[] linspace(float start, float end, int steps) {
        float[] out = new float[steps];
        if (steps == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (steps - 1);
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++) {
            out[i] = i < halfway ? start + step * i : end - step * (steps - i - 1);
        }
        return out;
    }
}
