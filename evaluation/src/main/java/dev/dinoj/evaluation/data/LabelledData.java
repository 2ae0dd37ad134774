package dev.dinoj.evaluation.data;

import com.typesafe.config.Config;
import dev.dinoj.evaluation.features.EvalDataset;
import dev.dinoj.evaluation.transform.DatasetViews;
import dev.dinoj.pipeline.curate.CuratedDataset;
import dev.dinoj.pipeline.curate.CuratedIndexEntry;
import dev.dinoj.pipeline.data.DatasetException;
import dev.dinoj.pipeline.data.EncodedImages;
import dev.dinoj.pipeline.data.IdxDataset;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.ImageFolderDataset;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.trainer.config.DatasetSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Opens a {@link DatasetSpec} as a labelled {@link EvalDataset}: the images (decoded one at a time when read, under the
 * dataset's pixel guard), a label per image and the class names.
 *
 * <ul>
 *   <li>{@code fashion-mnist:train|test}: the ten named classes; id {@code fashion-mnist:train|test} as before.
 *   <li>{@code folder:DIR}: torchvision's {@code ImageFolder}, one sub-folder per class, class names from the folder
 *       names (sorted); a folder without class sub-folders, an empty class folder or a missing folder is an error.
 *   <li>{@code curated:DIR|s3://…}: a set written by {@code dinoj curate}; the folder holding each source object names
 *       its class ({@link CuratedLabels}).
 *   <li>{@code idx:IMAGES}: the labels file beside it ({@code …-images-idx3-ubyte} → {@code …-labels-idx1-ubyte},
 *       gzipped or not); classes unnamed.
 * </ul>
 * Folder and curated sets, stored class by class (curated ones in key order), are read from every class in turn
 * ({@link #inTurn}), so that
 * {@code --train-limit N} spans the classes; an image over the pixel guard is replaced by the next of the set and its
 * label by that image's. Ids other than Fashion-MNIST's carry a fingerprint of the content (file names, sizes and times; a curated set's
 * checksums), so the feature cache never serves features of a set that has changed since.
 */
public final class LabelledData {

    private LabelledData() {}

    /**
     * Opens a labelled dataset.
     *
     * @param spec the spec
     * @param storage the storage a {@code curated:s3://} set is fetched with
     * @param app the configuration ({@code dinoj.data.max-image-pixels})
     * @return the dataset, untransformed
     * @throws DatasetException when the data is missing, unreadable or has no labels
     */
    public static EvalDataset open(DatasetSpec spec, StorageSettings storage, Config app) {
        switch (spec.kind()) {
            case "fashion-mnist":
                return EvalDataset.fashionMnist(
                        spec.fashionMnistDir(), spec.location().equals("train"));
            case "idx":
                return idx(Path.of(spec.location()));
            case "folder":
                return folder(spec, storage, app);
            case "curated":
                return curated(spec, storage, app);
            default:
                throw new IllegalArgumentException(spec + ": not an evaluation dataset");
        }
    }

    private static EvalDataset folder(DatasetSpec spec, StorageSettings storage, Config app) {
        Path dir = Path.of(spec.location()).toAbsolutePath().normalize();
        ImageFolderDataset ds = (ImageFolderDataset) spec.open(storage, app);
        if (ds.classes().isEmpty()) {
            throw new DatasetException(dir + ": no class sub-folders; evaluation needs labelled images, one sub-folder "
                    + "of images per class (its name is the class name)");
        }
        MessageDigest md = sha256();
        for (int i = 0; i < ds.size(); i++) {
            Path f = ds.file(i);
            try {
                update(
                        md,
                        dir.relativize(f.toAbsolutePath().normalize()) + "\t" + Files.size(f) + "\t"
                                + Files.getLastModifiedTime(f).toMillis());
            } catch (IOException e) {
                throw new DatasetException(f + ": cannot be read (" + e.getMessage() + "); check its permissions", e);
            }
        }
        int[] labels = new int[ds.size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = ds.label(i);
        }
        return new EvalDataset(
                "folder:" + dir + "@" + hex(md), inTurn(ds, labels, ds.classes().size()), ds.classes(), 0);
    }

    private static EvalDataset curated(DatasetSpec spec, StorageSettings storage, Config app) {
        CuratedDataset ds = (CuratedDataset) spec.open(storage, app);
        CuratedLabels labels = CuratedLabels.of(ds, spec.location());
        MessageDigest md = sha256();
        for (int i = 0; i < ds.size(); i++) {
            CuratedIndexEntry e = ds.entry(i);
            update(md, e.key() + "\t" + e.sha256() + "\t" + e.format() + "\t" + e.length());
        }
        return new EvalDataset(
                "curated:" + spec.location() + "@" + hex(md),
                inTurn(ds, labels.labels(), labels.classes().size()),
                labels.classes(),
                0);
    }

    private static EvalDataset idx(Path images) {
        if (!Files.isRegularFile(images)) {
            throw new DatasetException(images + ": no such file; pass an IDX images file (…-images-idx3-ubyte[.gz])");
        }
        Path labels = labelsBeside(images);
        if (labels == null) {
            throw new DatasetException(images + ": no labels file beside it (evaluation needs labels: name the images "
                    + "file …-images-idx3-ubyte[.gz] and put the …-labels-idx1-ubyte[.gz] file next to it)");
        }
        IdxDataset ds = IdxDataset.open(images, labels);
        MessageDigest md = sha256();
        for (Path f : new Path[] {images, labels}) {
            try {
                update(
                        md,
                        f.toAbsolutePath().normalize() + "\t" + Files.size(f) + "\t"
                                + Files.getLastModifiedTime(f).toMillis());
            } catch (IOException e) {
                throw new UncheckedIOException(f + ": " + e.getMessage(), e);
            }
        }
        return new EvalDataset("idx:" + images.toAbsolutePath().normalize() + "@" + hex(md), ds);
    }

    /**
     * The images of a set stored class by class, taken from every class in turn (each class's own order kept; a class
     * that runs out is left out of later turns): the first N images of the view, as {@code --train-limit N} takes
     * them, span the classes. Each label follows the image actually read: when the image at a position is over the pixel
     * guard and the next one of the set takes its place ({@link EncodedImages#used}), the label is that image's.
     *
     * @param ds the images
     * @param labels the label of the image stored at each index of {@code ds}
     * @param classes the number of classes
     */
    static ImageDataset inTurn(EncodedImages ds, int[] labels, int classes) {
        int[] order = interleaved(labels, classes);
        return DatasetViews.labelled(ds, order, i -> labels[ds.used(order[i])], classes, "classes in turn");
    }

    /** The indices of {@code labels} taken from every class in turn, each class's own order kept. */
    static int[] interleaved(int[] labels, int classes) {
        List<List<Integer>> byClass = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            byClass.add(new ArrayList<>());
        }
        for (int i = 0; i < labels.length; i++) {
            byClass.get(labels[i]).add(i);
        }
        int[] order = new int[labels.length];
        int n = 0;
        for (int round = 0; n < order.length; round++) {
            for (List<Integer> members : byClass) {
                if (round < members.size()) {
                    order[n++] = members.get(round);
                }
            }
        }
        return order;
    }

    /** The labels file of an IDX images file ({@code images-idx3} → {@code labels-idx1}, with or without .gz). */
    static Path labelsBeside(Path images) {
        String name = images.getFileName().toString();
        if (!name.contains("images-idx3")) {
            return null;
        }
        String base = name.replace("images-idx3", "labels-idx1");
        String other = base.endsWith(".gz") ? base.substring(0, base.length() - 3) : base + ".gz";
        for (String candidate : new String[] {base, other}) {
            Path p = images.resolveSibling(candidate);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void update(MessageDigest md, String line) {
        md.update((line + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static String hex(MessageDigest md) {
        return HexFormat.of().formatHex(md.digest()).substring(0, 12);
    }
}
