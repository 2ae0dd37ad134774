package dev.dinoj.trainer.train.sharded;

import dev.dinoj.pipeline.augment.MultiCropAugmentation;
import dev.dinoj.pipeline.augment.MultiCropSample;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.loader.EpochSampler;
import dev.dinoj.pipeline.masking.CollatedBatch;
import dev.dinoj.pipeline.masking.Collator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * The data of one rank: step {@code s} of the global batch {@code B} is stream positions {@code [s·B, (s+1)·B)} of the
 * epoch sampler, and rank {@code r} of {@code N} takes positions {@code s·B + r·B/N …}, augments only those images and
 * collates them itself (as a dinov2 rank does), with iBOT masks drawn from {@code (seed, s, r)}. So every rank reads
 * a disjoint part of the same stream, and {@link #concat} of the N rank batches is the global batch a single worker
 * would train on for the same result.
 *
 * <p>Every rank batch must have at least one masked patch when iBOT is on (rank batches of ≥ 1 image with
 * {@code mask-sample-probability ≥ 0.5} do), because {@link dev.dinoj.trainer.train.SslMetaArch} skips iBOT for a
 * batch without masked patches and all ranks must run the same collectives.
 */
public final class RankBatches {

    private static final long SAMPLE_STREAM = 0x3C6EF372FE94F82BL;
    private static final long COLLATE_STREAM = 0x7F4A7C159E3779B9L;

    private final ImageDataset dataset;
    private final MultiCropAugmentation augmentation;
    private final Collator collator;
    private final int globalBatch;
    private final int worldSize;
    private final long seed;

    public RankBatches(
            ImageDataset dataset,
            MultiCropAugmentation augmentation,
            Collator collator,
            int globalBatch,
            int worldSize,
            long seed) {
        if (globalBatch % worldSize != 0) {
            throw new IllegalArgumentException(
                    "the global batch " + globalBatch + " must be a multiple of the world size " + worldSize);
        }
        this.dataset = dataset;
        this.augmentation = augmentation;
        this.collator = collator;
        this.globalBatch = globalBatch;
        this.worldSize = worldSize;
        this.seed = seed;
    }

    /** Images per rank. */
    public int localBatch() {
        return globalBatch / worldSize;
    }

    /** The stream position after step {@code step} (saved in checkpoints). */
    public long positionAfter(long step) {
        return (step + 1) * globalBatch;
    }

    /** Rank {@code rank}'s batch of step {@code step}. */
    public CollatedBatch batch(long step, int rank) {
        int b = localBatch();
        EpochSampler sampler = new EpochSampler(dataset.size(), seed);
        long first = step * globalBatch + (long) rank * b;
        sampler.seek(first);
        long[] positions = new long[b];
        int[] indices = new int[b];
        for (int i = 0; i < b; i++) {
            positions[i] = sampler.position();
            indices[i] = sampler.next();
        }
        // decode + augment on every core: each sample's randomness comes from its stream position alone, so the
        // batch is the same whatever thread makes which sample
        List<MultiCropSample> samples = IntStream.range(0, b)
                .parallel()
                .mapToObj(i -> augmentation.apply(dataset.image(indices[i]), random(SAMPLE_STREAM, positions[i])))
                .toList();
        return collator.collate(samples, random(COLLATE_STREAM, step * 0x10000L + rank));
    }

    private SplittableRandom random(long stream, long index) {
        return new SplittableRandom(mix(seed ^ mix(stream + mix(index))));
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * The rank batches as one batch, in rank order inside every crop (crop-major, as collation lays them out): the
     * batch one worker trains on to reproduce N ranks. Mask indices and weights are recomputed for the joint layout.
     */
    public static CollatedBatch concat(List<CollatedBatch> parts) {
        CollatedBatch first = parts.get(0);
        int g = first.globalSize();
        int l = first.localSize();
        int nLocal = first.nLocal();
        int n = first.nTokens();
        int total = 0;
        int upperbound = 0;
        for (CollatedBatch p : parts) {
            if (p.globalSize() != g || p.localSize() != l || p.nLocal() != nLocal || p.nTokens() != n) {
                throw new IllegalArgumentException("rank batches differ in crop sizes or counts");
            }
            total += p.batchSize();
            upperbound += p.upperbound();
        }
        int globalLen = 3 * g * g;
        int localLen = 3 * l * l;
        float[] globalCrops = new float[2 * total * globalLen];
        float[] localCrops = new float[nLocal * total * localLen];
        boolean[] masks = new boolean[2 * total * n];
        for (int c = 0; c < 2; c++) {
            int row = c * total;
            for (CollatedBatch p : parts) {
                int b = p.batchSize();
                System.arraycopy(p.globalCrops(), c * b * globalLen, globalCrops, row * globalLen, b * globalLen);
                System.arraycopy(p.masks(), c * b * n, masks, row * n, b * n);
                row += b;
            }
        }
        for (int c = 0; c < nLocal; c++) {
            int row = c * total;
            for (CollatedBatch p : parts) {
                int b = p.batchSize();
                System.arraycopy(p.localCrops(), c * b * localLen, localCrops, row * localLen, b * localLen);
                row += b;
            }
        }
        int masked = 0;
        for (boolean m : masks) {
            masked += m ? 1 : 0;
        }
        long[] maskIndices = new long[masked];
        float[] masksWeight = new float[masked];
        int k = 0;
        for (int r = 0; r < 2 * total; r++) {
            int start = k;
            for (int i = r * n; i < (r + 1) * n; i++) {
                if (masks[i]) {
                    maskIndices[k++] = i;
                }
            }
            float w = 1f / Math.max(k - start, 1);
            for (int i = start; i < k; i++) {
                masksWeight[i] = w;
            }
        }
        return new CollatedBatch(
                total, g, l, nLocal, globalCrops, localCrops, masks, maskIndices, masksWeight, upperbound, masked);
    }
}
