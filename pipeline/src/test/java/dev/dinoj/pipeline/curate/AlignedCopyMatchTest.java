package dev.dinoj.pipeline.curate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.data.IdxDataset;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.embed.CopyEmbedder;
import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.testkit.FashionMnist;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link AlignedCopyMatch#matchAgainst}, the building block of evaluation-set dedup: a pool of Fashion-MNIST
 * training images plus edited copies of some test images, matched against the test images. The planted copies are
 * found with their source; the unrelated pool images are (nearly all) left alone.
 */
class AlignedCopyMatchTest {
    @Test
    void plantedCopiesOfReferenceImagesShouldBeMatchedToTheirSource() {
        IdxDataset train = IdxDataset.fashionMnist(FashionMnist.assumeInstalled(), true);
        IdxDataset test = IdxDataset.fashionMnist(FashionMnist.assumeInstalled(), false);
        int unrelated = 600;
        int refCount = 300;
        List<RgbImage> refs = new ArrayList<>();
        for (int i = 0; i < refCount; i++) {
            refs.add(test.image(i));
        }
        List<RgbImage> pool = new ArrayList<>();
        for (int i = 0; i < unrelated; i++) {
            pool.add(train.image(i));
        }
        // two copies of each kind but mixed, of distinct reference images
        SplittableRandom rnd = new SplittableRandom(7);
        List<Integer> source = new ArrayList<>();
        CopyEdits.Kind[] kinds = {
            CopyEdits.Kind.CROP,
            CopyEdits.Kind.FLIP,
            CopyEdits.Kind.PHOTOMETRIC,
            CopyEdits.Kind.NOISE,
            CopyEdits.Kind.PAD,
            CopyEdits.Kind.JPEG
        };
        for (int c = 0; c < 2 * kinds.length; c++) {
            int src = 17 * c + 3;
            source.add(src);
            pool.add(CopyEdits.make(refs.get(src), kinds[c % kinds.length], rnd).image());
        }
        CopyEmbedder e = new CopyEmbedder(CopyEmbedder.DEFAULT_SIDE);
        FloatMatrix p = new FloatMatrix(pool.size(), e.dim(), e.embed(pool));
        FloatMatrix r = new FloatMatrix(refs.size(), e.dim(), e.embed(refs));
        AlignedCopyMatch.Match m = AlignedCopyMatch.matchAgainst(
                p, r, CopyEmbedder.DEFAULT_SIDE, new AlignedCopyDetector.Settings(16, 0.963f, 0, 16));
        int found = 0;
        for (int c = 0; c < source.size(); c++) {
            int refOf = m.refOf()[unrelated + c];
            if (refOf >= 0) {
                assertEquals(source.get(c), refOf, "copy " + c + " matched to the wrong reference");
                found++;
            }
        }
        int wrong = 0;
        for (int i = 0; i < unrelated; i++) {
            if (m.refOf()[i] >= 0) {
                wrong++;
            }
        }
        System.out.println("planted copies matched: " + found + " of " + source.size()
                + "; unrelated pool images matched: " + wrong + " of " + unrelated);
        assertTrue(found >= source.size() - 2, "planted copies matched: " + found);
        assertTrue(wrong <= unrelated / 100, "unrelated pool images matched: " + wrong);
    }
}
