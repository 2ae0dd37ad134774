package dev.dinoj.pipeline.ingest;

import akka.actor.ActorSystem;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.storage.ObjectStores;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;

/**
 * The dirt a real uncurated pool contains, planted next to an uploaded dataset so that curation has something to find:
 * exact byte copies, augmented near copies (brightness/contrast jitter + noise, JPEG re-encoded), random-noise images,
 * zero-byte objects, truncated PNGs, text files and a gzipped IDX archive of further images. Used by {@code dinoj demo}
 * and by the curation acceptance test, which checks every planted object ends in the state {@link Plan} expects.
 *
 * <p>The pool itself is what {@link DatasetUpload} wrote: image {@code i} of the dataset under
 * {@link DatasetUpload#keyOf}, PNG-encoded with {@link ImageEncoding#png(RgbImage)} (deterministic, so exact copies are
 * re-encoded here instead of read back).
 */
public final class PlantedPool {
    private PlantedPool() {}

    /**
     * How much of each kind to plant.
     *
     * @param nearCopies    augmented JPEG copies of pool images (under {@code near/})
     * @param exactCopies   byte-identical copies under other keys (under {@code zz-dup/}, so the original sorts first)
     * @param noise         uniform-noise PNGs (under {@code noise/}); valid images, nothing to deduplicate
     * @param empty         zero-byte {@code .png} objects (corrupt)
     * @param truncated     PNGs cut in half (corrupt)
     * @param text          text files (not an image)
     * @param archiveImages images of {@code archiveSource} in one gzipped IDX archive (expanded by ingestion; 0 = none)
     */
    public record Spec(
            int nearCopies, int exactCopies, int noise, int empty, int truncated, int text, int archiveImages) {
        /** Nothing planted. */
        public static Spec none() {
            return new Spec(0, 0, 0, 0, 0, 0, 0);
        }
    }

    /**
     * What was planted and what curation should make of it.
     *
     * @param objects      key → content, in planting order
     * @param wantState    keys whose final manifest state is known in advance (exact copies, corrupt, not an image,
     *                     noise)
     * @param exactOf      exact copy key → the pool key it copies
     * @param nearPairs    {original, near copy} key pairs
     * @param labelOf      label of every planted image key (near copies, archive members {@code archive#n})
     * @param archiveKey   the IDX archive's key, or null
     * @param archiveCount images in the archive
     */
    public record Plan(
            Map<String, byte[]> objects,
            Map<String, ObjectState> wantState,
            Map<String, String> exactOf,
            Set<Set<String>> nearPairs,
            Map<String, Integer> labelOf,
            String archiveKey,
            int archiveCount) {

        /** One line: how many of each kind. */
        public String describe() {
            long noise =
                    objects.keySet().stream().filter(k -> k.contains("/noise/")).count();
            long corrupt = wantState.values().stream()
                    .filter(s -> s == ObjectState.CORRUPT)
                    .count();
            long text = wantState.values().stream()
                    .filter(s -> s == ObjectState.NOT_AN_IMAGE)
                    .count();
            return String.format(
                    Locale.ROOT,
                    "%d near copies, %d exact copies, %d noise images, %d corrupt objects, " + "%d text files%s",
                    nearPairs.size(),
                    exactOf.size(),
                    noise,
                    corrupt,
                    text,
                    archiveKey == null ? "" : ", 1 IDX archive of " + archiveCount + " images");
        }
    }

    /**
     * Plans the planted objects for a pool of images {@code [0, poolSize)} of {@code ds} under {@code pool}.
     *
     * @param archiveSource where the archive's images come from (e.g. a held-out split), or null for none
     */
    public static Plan plan(
            ObjectStores.Location pool,
            ImageDataset ds,
            int poolSize,
            ImageDataset archiveSource,
            Spec spec,
            long seed) {
        if (poolSize < 1 || poolSize > ds.size()) {
            throw new IllegalArgumentException("poolSize " + poolSize + " outside [1, " + ds.size() + "]");
        }
        Map<String, byte[]> objects = new LinkedHashMap<>();
        Map<String, ObjectState> wantState = new HashMap<>();
        Map<String, String> exactOf = new HashMap<>();
        Set<Set<String>> nearPairs = new HashSet<>();
        Map<String, Integer> labelOf = new HashMap<>();
        SplittableRandom rnd = new SplittableRandom(seed);
        // near copies and exact copies of disjoint pool images
        for (int j = 0; j < spec.nearCopies(); j++) {
            int i = j * (poolSize / Math.max(1, spec.nearCopies()));
            String orig = DatasetUpload.keyOf(pool, i, ds.label(i));
            String copy = pool.key("near/" + String.format(Locale.ROOT, "%05d.jpg", i));
            objects.put(copy, augmentedJpeg(ds.image(i), rnd));
            labelOf.put(copy, ds.label(i));
            nearPairs.add(Set.of(orig, copy));
        }
        for (int j = 0; j < spec.exactCopies(); j++) {
            int i = (j * (poolSize / Math.max(1, spec.exactCopies())) + 7) % poolSize;
            String orig = DatasetUpload.keyOf(pool, i, ds.label(i));
            String copy = pool.key("zz-dup/" + String.format(Locale.ROOT, "%05d.png", i));
            objects.put(copy, ImageEncoding.png(ds.image(i)));
            labelOf.put(copy, ds.label(i));
            exactOf.put(copy, orig);
            wantState.put(copy, ObjectState.EXACT_DUPLICATE);
        }
        RgbImage first = ds.image(0);
        for (int j = 0; j < spec.noise(); j++) {
            String key = pool.key("noise/" + j + ".png");
            objects.put(key, ImageEncoding.png(noise(first.width(), first.height(), seed * 1000 + j)));
            wantState.put(key, ObjectState.INGESTED);
        }
        for (int j = 0; j < spec.empty(); j++) {
            objects.put(pool.key("bad/empty-" + j + ".png"), new byte[0]);
            wantState.put(pool.key("bad/empty-" + j + ".png"), ObjectState.CORRUPT);
        }
        for (int j = 0; j < spec.truncated(); j++) {
            int i = (100 + j) % poolSize;
            byte[] png = ImageEncoding.png(ds.image(i));
            byte[] cut = new byte[png.length / 2];
            System.arraycopy(png, 0, cut, 0, cut.length);
            objects.put(pool.key("bad/truncated-" + j + ".png"), cut);
            wantState.put(pool.key("bad/truncated-" + j + ".png"), ObjectState.CORRUPT);
        }
        for (int j = 0; j < spec.text(); j++) {
            objects.put(
                    pool.key("bad/notes-" + j + ".txt"),
                    ("shopping list " + j + "\nmilk\n").getBytes(StandardCharsets.UTF_8));
            wantState.put(pool.key("bad/notes-" + j + ".txt"), ObjectState.NOT_AN_IMAGE);
        }
        String archive = null;
        int archiveCount = 0;
        if (archiveSource != null && spec.archiveImages() > 0) {
            archiveCount = Math.min(spec.archiveImages(), archiveSource.size());
            archive = pool.key("archive/" + archiveCount + "-images-idx3-ubyte.gz");
            objects.put(archive, gzip(idxOf(archiveSource, archiveCount)));
            for (int i = 0; i < archiveCount; i++) {
                labelOf.put(archive + "#" + i, archiveSource.label(i));
            }
        }
        return new Plan(
                Collections.unmodifiableMap(objects),
                Map.copyOf(wantState),
                Map.copyOf(exactOf),
                Set.copyOf(nearPairs),
                Map.copyOf(labelOf),
                archive,
                archiveCount);
    }

    /** Puts every planted object into {@code pool}'s store ({@code parallelism} puts in flight). */
    public static void upload(ActorSystem system, ObjectStores.Location pool, Plan plan, int parallelism) {
        pool.store().ensureContainer().toCompletableFuture().join();
        Source.from(new ArrayList<>(plan.objects().entrySet()))
                .mapAsyncUnordered(Math.max(1, parallelism), e -> pool.store().put(e.getKey(), e.getValue(), null))
                .runWith(Sink.ignore(), system)
                .toCompletableFuture()
                .join();
    }

    /** Contrast/brightness jitter and Gaussian noise on the first channel, then JPEG at ImageIO's default quality. */
    public static byte[] augmentedJpeg(RgbImage img, SplittableRandom rnd) {
        double a = 0.85 + 0.3 * rnd.nextDouble();
        double b = -0.08 + 0.16 * rnd.nextDouble();
        BufferedImage out = new BufferedImage(img.width(), img.height(), BufferedImage.TYPE_BYTE_GRAY);
        byte[] px = ((DataBufferByte) out.getRaster().getDataBuffer()).getData();
        for (int i = 0; i < img.planeSize(); i++) {
            double v = a * img.chw()[i] + b + 0.02 * rnd.nextGaussian();
            px[i] = (byte) Math.round(255 * Math.max(0, Math.min(1, v)));
        }
        return ImageEncoding.encode(out, "jpeg");
    }

    /** Uniform random RGB pixels. */
    public static BufferedImage noise(int w, int h, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, rnd.nextInt(1 << 24));
            }
        }
        return img;
    }

    /** An IDX image file (magic 0x803) of the first {@code n} images of {@code ds} (first channel, 8-bit). */
    public static byte[] idxOf(ImageDataset ds, int n) {
        RgbImage first = ds.image(0);
        int rows = first.height();
        int cols = first.width();
        ByteBuffer b = ByteBuffer.allocate(16 + n * rows * cols);
        b.putInt(0x00000803).putInt(n).putInt(rows).putInt(cols);
        for (int i = 0; i < n; i++) {
            RgbImage img = ds.image(i);
            for (int p = 0; p < rows * cols; p++) {
                b.put((byte) Math.round(img.chw()[p] * 255));
            }
        }
        return b.array();
    }

    /** Gzip of {@code data}. */
    public static byte[] gzip(byte[] data) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
                gz.write(data);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The keys of a pool of images {@code [0, poolSize)} plus every planted key and archive member. */
    public static Set<String> expectedKeys(ObjectStores.Location pool, ImageDataset ds, int poolSize, Plan plan) {
        Set<String> keys = new HashSet<>(plan.objects().keySet());
        for (int i = 0; i < poolSize; i++) {
            keys.add(DatasetUpload.keyOf(pool, i, ds.label(i)));
        }
        for (int i = 0; i < plan.archiveCount(); i++) {
            keys.add(plan.archiveKey() + "#" + i);
        }
        return keys;
    }

    /** Labels of the first {@code n} pool images by key. */
    public static Map<String, Integer> poolLabels(ObjectStores.Location pool, ImageDataset ds, int n) {
        Map<String, Integer> out = new HashMap<>();
        for (int i = 0; i < n; i++) {
            out.put(DatasetUpload.keyOf(pool, i, ds.label(i)), ds.label(i));
        }
        return out;
    }
}
