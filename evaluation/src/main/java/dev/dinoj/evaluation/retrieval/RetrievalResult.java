package dev.dinoj.evaluation.retrieval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.evaluation.metrics.Json;
import java.util.Locale;

/**
 * The outcome of a copy-detection evaluation.
 *
 * @param settings the protocol settings
 * @param nQueries queries scored
 * @param nDatabase database size (copies + distractors)
 * @param map mean average precision, %
 * @param recallAt1 share of queries whose top-ranked image is one of their copies, %
 */
public record RetrievalResult(
        CopyDetection.Settings settings, int nQueries, int nDatabase, double map, double recallAt1) {

    /**
     * One line of JSON.
     *
     * @param features the feature kind's label
     * @return the JSON object, no line break
     */
    public String toJson(String features) {
        ObjectNode o = Json.object();
        o.put("eval", "retrieval");
        o.put("features", features);
        o.put("queries", nQueries);
        o.put("copies_per_query", settings.copiesPerQuery());
        o.put("distractors", settings.distractors());
        o.put("crop_scale", Json.sci(settings.cropScaleMin()));
        o.put("database", nDatabase);
        o.put("mAP", Json.num(map));
        o.put("recall_at_1", Json.num(recallAt1));
        return Json.line(o);
    }

    /** @return one line for a terminal */
    public String toTable() {
        return String.format(
                Locale.ROOT,
                "copy detection  %d queries x %d copies among %d distractors (database %d)%n"
                        + "mAP %.2f %%   recall@1 %.2f %%%n",
                nQueries,
                settings.copiesPerQuery(),
                settings.distractors(),
                nDatabase,
                map,
                recallAt1);
    }
}
