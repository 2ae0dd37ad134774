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
 * default). Prints both tables (per kind of copy). {@code -Ddinoj.test.copyPool=2000} for the larger pool of
 * docs/CURATION.md.
 */
class CopyDetectionBenchmarkTest {
    @Test
    void alignedDetectionShouldCatchRealisticCopiesTheThumbnailCosineMisses() {
        int originals = Integer.getInteger("dinoj.test.copyPool", 500);
        IdxDataset fm = IdxDataset.fashionMnist(FashionMnist.assumeInstalled(), true);
        int photos = originals / 5;
        CopyBenchmark.Pool pool = CopyBenchmark.generate(fm, 0, originals - photos, photos, originals / 10 + 20, 1);
        FloatMatrix thumbs = CopyBenchmark.embed(pool, new ThumbnailEmbedder(20));
        CopyBenchmark.Report cosine = CopyBenchmark.run(
                pool, thumbs, x -> CopyDetector.detect(x, new CopyDetector.Settings(16, 0.992f, 0, 16), null));
        FloatMatrix copy = CopyBenchmark.embed(pool, new CopyEmbedder(24));
        CopyBenchmark.Report aligned = CopyBenchmark.run(
                pool,
                copy,
                x -> AlignedCopyDetector.detect(x, 24, new AlignedCopyDetector.Settings(16, 0.95f, 16, 0, 16), null));
        System.out.println("thumbnail:20, cosine >= 0.992, " + pool.originals() + " originals:\n" + cosine.table());
        System.out.println("copy:24, aligned, score >= 0.95:\n" + aligned.table());
        assertTrue(aligned.recall() >= 0.9, "aligned recall " + aligned.recall());
        assertTrue(cosine.recall() < 0.5, "cosine recall " + cosine.recall());
    }
}
