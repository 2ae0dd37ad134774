package dev.dinoj.pipeline.curate;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.data.IdxDataset;
import dev.dinoj.pipeline.embed.CopyEmbedder;
import dev.dinoj.pipeline.embed.ThumbnailEmbedder;
import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.testkit.FashionMnist;
import org.junit.jupiter.api.Test;

/**
 * Copies made as copy-detection benchmarks make them ({@link CopyEdits}) of Fashion-MNIST images and generated photos:
 * the aligned detector ({@code copy:24}: verification, score normalisation, {@link
 * AlignedCopyDetector#NORMALISED_THRESHOLD}) against the cosine of 20×20 thumbnails at 0.992 (the former
 * {@code thumbnail:20} default), on 2,000 originals (1,600 Fashion-MNIST, 400 photos) and 220 copies. Prints both
 * tables (per kind of copy); {@code -Ddinoj.test.copyPool=N}, {@code -Ddinoj.test.copyPhotos=N},
 * {@code -Ddinoj.test.copies=N}, {@code -Ddinoj.test.copySeed=S} and {@code -Ddinoj.test.copyThreshold=T} for other
 * pools and thresholds. Asserted, as issue #16 asks: at least 90 % of pairs caught with at most 1 % of originals wrongly
 * dropped (92.0–96.8 % and 0.35–0.50 % on seeds 1–6, docs/CURATION.md).
 */
class CopyDetectionBenchmarkTest {
    /** The normalised-score threshold (calibrated on seeds 1 and 4, docs/CURATION.md). */
    static final float THRESHOLD = Float.parseFloat(
            System.getProperty("dinoj.test.copyThreshold", Float.toString(AlignedCopyDetector.NORMALISED_THRESHOLD)));

    @Test
    void alignedDetectionShouldCatchRealisticCopiesTheThumbnailCosineMisses() {
        int originals = Integer.getInteger("dinoj.test.copyPool", 2000);
        long seed = Long.getLong("dinoj.test.copySeed", 1);
        IdxDataset fm = IdxDataset.fashionMnist(FashionMnist.assumeInstalled(), true);
        int photos = Integer.getInteger("dinoj.test.copyPhotos", originals / 5);
        int copies = Integer.getInteger("dinoj.test.copies", originals / 10 + 20);
        CopyBenchmark.Pool pool = CopyBenchmark.generate(fm, 0, originals - photos, photos, copies, seed);
        FloatMatrix thumbs = CopyBenchmark.embed(pool, new ThumbnailEmbedder(20));
        CopyBenchmark.Report cosine = CopyBenchmark.run(
                pool, thumbs, x -> CopyDetector.detect(x, new CopyDetector.Settings(16, 0.992f, 0, 16), null));
        FloatMatrix copy = CopyBenchmark.embed(pool, new CopyEmbedder(24));
        CopyBenchmark.Report aligned = CopyBenchmark.run(
                pool,
                copy,
                x -> AlignedCopyDetector.detect(x, 24, new AlignedCopyDetector.Settings(16, THRESHOLD, 0, 16), null));
        System.out.println("thumbnail:20, cosine >= 0.992, " + pool.originals() + " originals:\n" + cosine.table());
        System.out.println("copy:24, aligned, score >= " + THRESHOLD + ":\n" + aligned.table());
        assertTrue(aligned.recall() >= 0.9, "aligned recall " + aligned.recall());
        assertTrue(aligned.wrongDropRate() <= 0.01, "originals wrongly dropped " + aligned.wrongDropRate());
        assertTrue(cosine.recall() < 0.5, "cosine recall " + cosine.recall());
    }
}
