package dev.dinoj.evaluation.data;

import dev.dinoj.pipeline.curate.CuratedDataset;
import dev.dinoj.pipeline.data.DatasetException;
import dev.dinoj.pipeline.ingest.ManifestEntry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The labels of a curated set: as torchvision's {@code ImageFolder} over the source, the folder that held each source
 * object names its class ({@code photos/cat/001.jpg} → {@code cat}; an archive member's, its archive's); the sorted
 * names are the classes. A set with an object outside any folder has no labels.
 *
 * @param labels  the label of each image of the set, by index (of the image stored there, before any pixel guard)
 * @param classes the class names by label
 */
record CuratedLabels(int[] labels, List<String> classes) {

    /**
     * Labels a curated set from its keys.
     *
     * @param ds the curated set
     * @param where the spec's location, for messages
     * @return the labels
     * @throws DatasetException when a key is not in a folder
     */
    static CuratedLabels of(CuratedDataset ds, String where) {
        String[] names = new String[ds.size()];
        for (int i = 0; i < names.length; i++) {
            String key = ds.entry(i).key();
            names[i] = classOf(key);
            if (names[i] == null) {
                throw new DatasetException(where + ": curated set without labels: image " + i + " (" + key
                        + ") is in no folder; curate from a source with one folder per class (…/<class>/<image>) "
                        + "to evaluate on it");
            }
        }
        List<String> classes = new ArrayList<>(new TreeSet<>(List.of(names)));
        Map<String, Integer> label = new HashMap<>();
        for (int c = 0; c < classes.size(); c++) {
            label.put(classes.get(c), c);
        }
        int[] labels = new int[names.length];
        for (int i = 0; i < names.length; i++) {
            labels[i] = label.get(names[i]);
        }
        return new CuratedLabels(labels, classes);
    }

    /** The name of the folder holding a source key (an archive member's: its archive's), or null at the top. */
    static String classOf(String key) {
        String k = ManifestEntry.memberIndexOf(key) >= 0 ? ManifestEntry.archiveOf(key) : key;
        int slash = k.lastIndexOf('/');
        if (slash <= 0) {
            return null;
        }
        return k.substring(k.lastIndexOf('/', slash - 1) + 1, slash);
    }
}
