package dev.dinoj.evaluation.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;

/** The report's text for one line of {@code RUN/eval/results.jsonl}: its headline figure and its details. */
final class ResultLines {

    private ResultLines() {}

    /** The protocol's main figure (top-1, mAP, mIoU, corrupted accuracy). */
    static String headline(JsonNode r) {
        switch (r.path("eval").asText("")) {
            case "knn": {
                JsonNode k = r.path("k");
                JsonNode k20 = k.has("20")
                        ? k.get("20")
                        : (k.fields().hasNext() ? k.fields().next().getValue() : null);
                return k20 == null
                        ? ""
                        : String.format(
                                Locale.ROOT, "top-1 %.2f %%", k20.path("top1").asDouble());
            }
            case "linear":
            case "logreg":
                return String.format(
                        Locale.ROOT,
                        "top-1 %.2f %%",
                        r.path("test").path("top1").asDouble());
            case "retrieval":
                return String.format(Locale.ROOT, "mAP %.2f %%", r.path("mAP").asDouble());
            case "dense":
                return String.format(Locale.ROOT, "mIoU %.2f %%", r.path("mIoU").asDouble());
            case "robustness":
                return String.format(
                        Locale.ROOT,
                        "corrupted k-NN %.2f %% / linear %.2f %%",
                        r.path("mean_corrupted").path("knn_top1").asDouble(),
                        r.path("mean_corrupted").path("linear_top1").asDouble());
            default:
                return "";
        }
    }

    /** The protocol's details, then the data it ran on when the line names it ({@code data.test}). */
    static String details(JsonNode r) {
        String d = protocolDetails(r);
        String test = r.path("data").path("test").asText("");
        return test.isEmpty() ? d : (d.isEmpty() ? "" : d + "; ") + "test data " + test;
    }

    private static String protocolDetails(JsonNode r) {
        switch (r.path("eval").asText("")) {
            case "linear":
                return "best " + r.path("best").path("name").asText("")
                        + String.format(
                                Locale.ROOT,
                                " (held-out %.2f %%), %d train",
                                r.path("best").path("val_top1").asDouble(),
                                r.path("n_train").asInt());
            case "logreg":
                return "C = " + r.path("best_C").asText("") + ", "
                        + r.path("n_final").asInt() + " train";
            case "retrieval":
                return String.format(
                        Locale.ROOT,
                        "%d queries × %d copies (crops ≥ %s of the area), %d distractors, " + "R@1 %.2f %%",
                        r.path("queries").asInt(),
                        r.path("copies_per_query").asInt(),
                        r.path("crop_scale").asText("?"),
                        r.path("distractors").asInt(),
                        r.path("recall_at_1").asDouble());
            case "dense":
                return String.format(
                        Locale.ROOT,
                        "fg IoU %.2f, bg IoU %.2f, patch mIoU %.2f",
                        r.path("iou_foreground").asDouble(),
                        r.path("iou_background").asDouble(),
                        r.path("patch_mIoU").asDouble());
            case "robustness":
                return String.format(
                        Locale.ROOT,
                        "clean k-NN %.2f %% / linear %.2f %%",
                        r.path("clean").path("knn_top1").asDouble(),
                        r.path("clean").path("linear_top1").asDouble());
            case "knn":
                return r.path("n_train").asInt() + " train / "
                        + r.path("n_test").asInt() + " test";
            default:
                return "";
        }
    }
}
