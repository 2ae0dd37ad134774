package dev.dinoj.pipeline.curate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.data.IdxDataset;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.embed.CopyEmbedder;
import dev.dinoj.pipeline.image.SyntheticPhotos;
import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.testkit.FashionMnist;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link AlignedCopyDetector#detect} with a group of copies of one image (a meme reposted with different edits): the
 * group's members are each other's best candidates, so the background of the score normalisation is made of copies;
 * the second pass, which leaves partners of the same component out of the background, keeps the group together.
 */
class AlignedCopyGroupTest {
    @Test
    void manyCopiesOfOneImageShouldAllJoinTheirOriginal() {
        IdxDataset train = IdxDataset.fashionMnist(FashionMnist.assumeInstalled(), true);
        int unrelated = 400;
        List<RgbImage> pool = new ArrayList<>();
        for (int i = 0; i < unrelated; i++) {
            pool.add(train.image(i));
        }
        int source = 7;
        SplittableRandom rnd = new SplittableRandom(5);
        CopyEdits.Kind[] kinds = {
            CopyEdits.Kind.CROP,
            CopyEdits.Kind.CROP,
            CopyEdits.Kind.PHOTOMETRIC,
            CopyEdits.Kind.PHOTOMETRIC,
            CopyEdits.Kind.JPEG,
            CopyEdits.Kind.NOISE,
            CopyEdits.Kind.PAD,
            CopyEdits.Kind.FLIP
        };
        for (CopyEdits.Kind k : kinds) {
            pool.add(CopyEdits.make(pool.get(source), k, rnd).image());
        }
        CopyEmbedder e = new CopyEmbedder(CopyEmbedder.DEFAULT_SIDE);
        FloatMatrix x = new FloatMatrix(pool.size(), e.dim(), e.embed(pool));
        CopyDetector.Result r = AlignedCopyDetector.detect(
                x,
                CopyEmbedder.DEFAULT_SIDE,
                new AlignedCopyDetector.Settings(16, AlignedCopyDetector.NORMALISED_THRESHOLD, 0, 16),
                null);
        int joined = 0;
        for (int c = 0; c < kinds.length; c++) {
            joined += r.representative()[unrelated + c] == r.representative()[source] ? 1 : 0;
        }
        int others = 0;
        for (int i = 0; i < unrelated; i++) {
            others += i != source && r.representative()[i] == r.representative()[source] ? 1 : 0;
        }
        System.out.println("copies joined to their original: " + joined + " of " + kinds.length
                + "; unrelated images in the group: " + others);
        assertEquals(kinds.length, joined, "copies joined to their original");
        assertTrue(others <= 1, "unrelated images in the group: " + others);
    }

    /**
     * A pool of a few unrelated photos (the cluster photo test's): each image's candidates are all the others, so its
     * background is low, and the normalised score alone would make copies of images that merely share a layout.
     */
    @Test
    void aFewUnrelatedPhotosShouldAllBeKept() {
        List<RgbImage> pool = new ArrayList<>();
        pool.add(RgbImage.of(SyntheticPhotos.scene(4000, 3000, 0, 11)));
        pool.add(RgbImage.of(SyntheticPhotos.scene(640, 480, 1, 12)));
        pool.add(RgbImage.of(SyntheticPhotos.scene(500, 375, 2, 13)));
        float[] grey = new float[3 * 64 * 64];
        java.util.Arrays.fill(grey, 0.5f);
        pool.add(new RgbImage(64, 64, grey)); // a uniform image: a copy of no photo
        CopyEmbedder e = new CopyEmbedder(CopyEmbedder.DEFAULT_SIDE);
        FloatMatrix x = new FloatMatrix(pool.size(), e.dim(), e.embed(pool));
        CopyDetector.Result r = AlignedCopyDetector.detect(
                x,
                CopyEmbedder.DEFAULT_SIDE,
                new AlignedCopyDetector.Settings(16, AlignedCopyDetector.NORMALISED_THRESHOLD, 0, 16),
                null);
        assertEquals(
                0, r.duplicates(), "unrelated photos taken for copies: " + java.util.Arrays.toString(r.similarity()));
    }
}
