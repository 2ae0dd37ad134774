package dev.dinoj.evaluation.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dinoj.pipeline.curate.CuratedDataset;
import dev.dinoj.pipeline.curate.CuratedIndexEntry;
import dev.dinoj.pipeline.ingest.Manifest;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The report's "Curated data" section, from a curated dataset directory written by {@code dinoj curate}
 * ({@code summary.json}, {@code index.jsonl}, shards): how every pool object ended (manifest states), the cluster
 * hierarchy, a grid of samples per top-level cluster with the cluster's class make-up, and retrieval around the query
 * sets — including how often a retrieved image has its query's class when the keys carry labels
 * ({@code prefix/<label>/<n>.png}, as {@code dinoj ingest} writes them).
 */
final class CurationSection {
    /** {@code .../<label>/<n>.<ext>} */
    static final Pattern LABELLED = Pattern.compile("(?:^|/)(\\d+)/[^/#]+$");
    /** {@code query:<key>:<rank>} inside a {@code why}. */
    static final Pattern QUERY = Pattern.compile("query:(.+?):\\d+");

    /** The HTML and the figure written. */
    record Written(String html, Path figure) {}

    private CurationSection() {}

    /** A curated dataset directory at {@code path} or beside it ({@code path} may be its manifest), or null. */
    static Path locate(Path path) {
        if (path == null) {
            return null;
        }
        Path dir = Files.isDirectory(path) ? path : path.getParent();
        return dir != null
                        && Files.isRegularFile(dir.resolve("index.jsonl"))
                        && Files.isRegularFile(dir.resolve("summary.json"))
                ? dir
                : null;
    }

    /** The label in a key such as {@code pool/3/00017.png}, or -1. */
    static int labelOf(String key) {
        Matcher m = LABELLED.matcher(key);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    static Written write(Path dir, Path figure, String[] classNames, int clustersShown, int perCluster) {
        JsonNode summary;
        try {
            summary = Manifest.JSON.readTree(dir.resolve("summary.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(dir.resolve("summary.json") + ": unreadable (" + e.getMessage() + ")", e);
        }
        StringBuilder html = new StringBuilder();
        html.append("<p>Curated dataset <code>")
                .append(HtmlPage.esc(dir.toString()))
                .append("</code>: ")
                .append(summary.path("images").asInt())
                .append(" images in ")
                .append(summary.path("shards").asInt())
                .append(" shards, from <code>")
                .append(HtmlPage.esc(summary.path("source").asText("?")))
                .append("</code>. ")
                .append(HtmlPage.esc(summary.path("selection").asText("")))
                .append(".</p>\n");

        // every pool object's final state
        html.append("<table class=\"curation\"><tr><th>state</th><th>objects</th></tr>");
        long total = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = summary.path("states").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            total += e.getValue().asLong();
            html.append("<tr><td>")
                    .append(HtmlPage.esc(e.getKey().replace('_', ' ')))
                    .append("</td><td>")
                    .append(e.getValue().asLong())
                    .append("</td></tr>");
        }
        html.append("<tr><th>total</th><th>").append(total).append("</th></tr>");
        html.append(String.format(
                Locale.ROOT,
                "<tr><td>after exact dedup</td><td>%d</td></tr>"
                        + "<tr><td>after near dedup</td><td>%d (%d copy groups)</td></tr>"
                        + "<tr><td>clusters per level</td><td>%s</td></tr><tr><th>kept</th><th>%d</th></tr></table>\n",
                summary.path("pool").asLong(),
                summary.path("deduplicated").asLong(),
                summary.path("copy_groups").asLong(),
                summary.path("cluster_levels").toString(),
                summary.path("images").asLong()));

        try (CuratedDataset ds = CuratedDataset.open(dir)) {
            // top-level clusters (coarsest id first in the index), biggest first
            Map<Integer, List<Integer>> byCluster = new TreeMap<>();
            for (int i = 0; i < ds.size(); i++) {
                int[] c = ds.entry(i).cluster();
                byCluster
                        .computeIfAbsent(c == null || c.length == 0 ? -1 : c[0], k -> new ArrayList<>())
                        .add(i);
            }
            List<Map.Entry<Integer, List<Integer>>> clusters = new ArrayList<>(byCluster.entrySet());
            clusters.sort(Comparator.comparingInt((Map.Entry<Integer, List<Integer>> e) ->
                            -e.getValue().size())
                    .thenComparing(Map.Entry::getKey));
            List<List<ImageGrids.Cell>> rows = new ArrayList<>();
            html.append("<table class=\"clusters\"><tr><th>cluster</th><th>images</th><th>largest class</th>"
                    + "<th>share</th></tr>");
            int side = 56;
            for (Map.Entry<Integer, List<Integer>> e : clusters.subList(0, Math.min(clustersShown, clusters.size()))) {
                List<Integer> members = e.getValue();
                int[] counts = new int[Math.max(classNames == null ? 0 : classNames.length, 1) + 64];
                int labelled = 0;
                for (int i : members) {
                    int l = labelOf(ds.entry(i).key());
                    if (l >= 0 && l < counts.length) {
                        counts[l]++;
                        labelled++;
                    }
                }
                int top = 0;
                for (int l = 1; l < counts.length; l++) {
                    top = counts[l] > counts[top] ? l : top;
                }
                String topName = labelled == 0 ? "unlabelled" : name(classNames, top);
                html.append(String.format(
                        Locale.ROOT,
                        "<tr><td>%d</td><td>%d</td><td>%s</td><td>%s</td></tr>",
                        e.getKey(),
                        members.size(),
                        HtmlPage.esc(topName),
                        labelled == 0 ? "" : String.format(Locale.ROOT, "%.0f %%", 100.0 * counts[top] / labelled)));
                List<ImageGrids.Cell> row = new ArrayList<>();
                int shown = Math.min(perCluster, members.size());
                for (int j = 0; j < shown; j++) {
                    int i = members.get((int) ((long) j * members.size() / shown));
                    int l = labelOf(ds.entry(i).key());
                    String caption =
                            j == 0 ? "c" + e.getKey() + " · " + members.size() : (l >= 0 ? name(classNames, l) : "");
                    row.add(new ImageGrids.Cell(
                            ImageGrids.of(ds.image(i), side), caption, j == 0 ? new Color(0x1f77b4) : null));
                }
                rows.add(row);
            }
            html.append("</table>\n");
            if (!rows.isEmpty()) {
                ImageGrids.write(figure, rows);
            }

            // retrieval around the query sets
            JsonNode perQuery = summary.path("retrieved_per_query");
            if (perQuery.size() > 0) {
                int nq = perQuery.size();
                long sum = 0;
                long min = Long.MAX_VALUE;
                long max = 0;
                for (JsonNode v : perQuery) {
                    sum += v.asLong();
                    min = Math.min(min, v.asLong());
                    max = Math.max(max, v.asLong());
                }
                int byQuery = 0;
                int sameClass = 0;
                for (int i = 0; i < ds.size(); i++) {
                    CuratedIndexEntry en = ds.entry(i);
                    String why = en.why() == null ? "" : en.why();
                    Matcher m = QUERY.matcher(why);
                    if (m.find()) {
                        int ql = labelOf(m.group(1));
                        int pl = labelOf(en.key());
                        if (ql >= 0 && pl >= 0) {
                            byQuery++;
                            sameClass += ql == pl ? 1 : 0;
                        }
                    }
                }
                html.append(String.format(
                        Locale.ROOT,
                        "<p>Retrieval: %d query images retrieved %d pool images "
                                + "(%.1f per query, min %d, max %d; the union is deduplicated).",
                        nq,
                        sum,
                        (double) sum / nq,
                        min,
                        max));
                if (byQuery > 0) {
                    html.append(String.format(
                            Locale.ROOT,
                            " Of the kept images traced to a labelled query, "
                                    + "<b>%.1f %%</b> have the query's class (%d of %d).",
                            100.0 * sameClass / byQuery,
                            sameClass,
                            byQuery));
                }
                html.append("</p>\n");
            }
        }
        return new Written(html.toString(), Files.isRegularFile(figure) ? figure : null);
    }

    private static String name(String[] classNames, int label) {
        return classNames != null && label >= 0 && label < classNames.length ? classNames[label] : "class " + label;
    }
}
