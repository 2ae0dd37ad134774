package dev.dinoj.evaluation.linear;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.evaluation.metrics.Accuracy;
import dev.dinoj.evaluation.metrics.Json;
import java.util.List;
import java.util.Locale;

/**
 * The outcome of a linear probe.
 *
 * @param settings the settings used
 * @param classes the number of classes
 * @param nTrain samples the heads trained on
 * @param nVal held-out samples the head was chosen on
 * @param nTest test samples
 * @param heads every head's held-out top-1, in training order
 * @param best the chosen head (its weights, to apply elsewhere, e.g. to corrupted test sets)
 * @param bestValTop1 its held-out top-1, %
 * @param test the chosen head's test metrics
 * @param byInput per input slice: its best head on val and that head's test metrics
 */
public record LinearProbeResult(
        LinearProbe.Settings settings,
        int classes,
        int nTrain,
        int nVal,
        int nTest,
        List<HeadScore> heads,
        LinearHead best,
        double bestValTop1,
        Accuracy test,
        List<InputScore> byInput) {

    /**
     * One head's held-out score.
     *
     * @param name official name
     * @param input its slice
     * @param lr scaled learning rate
     * @param valTop1 held-out top-1, %
     */
    public record HeadScore(String name, HeadInput input, double lr, double valTop1) {}

    /**
     * The best head of one input slice.
     *
     * @param input the slice
     * @param name the head
     * @param lr its scaled learning rate
     * @param valTop1 held-out top-1, %
     * @param test test metrics of that head
     */
    public record InputScore(HeadInput input, String name, double lr, double valTop1, Accuracy test) {}

    /**
     * Copies the lists.
     *
     * @param settings settings
     * @param classes classes
     * @param nTrain train samples
     * @param nVal held-out samples
     * @param nTest test samples
     * @param heads head scores
     * @param best chosen head
     * @param bestValTop1 its val top-1
     * @param test its test metrics
     * @param byInput per-input scores
     */
    public LinearProbeResult {
        heads = List.copyOf(heads);
        byInput = List.copyOf(byInput);
    }

    /**
     * One line of JSON: {@code {"eval":"linear","features":…,"best":{…},"test":{"top1":…},"inputs":[…]}}.
     *
     * @param features the feature kind's label
     * @return the JSON object, no line break
     */
    public String toJson(String features) {
        ObjectNode o = Json.object();
        o.put("eval", "linear");
        o.put("features", features);
        o.put("num_classes", classes);
        o.put("n_train", nTrain);
        o.put("n_val", nVal);
        o.put("n_test", nTest);
        o.put("epochs", settings.epochs());
        o.put("batch_size", settings.batchSize());
        o.put("heads", heads.size());
        ObjectNode b = o.putObject("best");
        b.put("name", best.name());
        b.put("blocks", best.input().blocks());
        b.put("avgpool", best.input().avgpool());
        b.put("lr", Json.sci(best.lr()));
        b.put("val_top1", Json.num(bestValTop1));
        o.set("test", test.toJson());
        ArrayNode inputs = o.putArray("inputs");
        for (InputScore s : byInput) {
            ObjectNode i = inputs.addObject();
            i.put("input", s.input().stem());
            i.put("lr", Json.sci(s.lr()));
            i.put("val_top1", Json.num(s.valTop1()));
            i.put("test_top1", Json.num(s.test().top1()));
        }
        return Json.line(o);
    }

    /** @return a small text table: one row per input slice, then the chosen head */
    public String toTable() {
        StringBuilder sb = new StringBuilder(512);
        sb.append(String.format(
                Locale.ROOT,
                "linear probe  classes=%d  train=%d  held-out=%d  test=%d  heads=%d  " + "epochs=%d  batch=%d%n",
                classes,
                nTrain,
                nVal,
                nTest,
                heads.size(),
                settings.epochs(),
                settings.batchSize()));
        sb.append(String.format(Locale.ROOT, "%-26s %11s %10s %10s%n", "input", "best lr", "val top-1", "test top-1"));
        for (InputScore s : byInput) {
            sb.append(String.format(
                    Locale.ROOT,
                    "%-26s %11.5g %10.2f %10.2f%n",
                    s.input().stem(),
                    s.lr(),
                    s.valTop1(),
                    s.test().top1()));
        }
        sb.append(String.format(Locale.ROOT, "chosen on held-out: %s -> test top-1 %.2f %%", best.name(), test.top1()));
        if (test.hasTop5()) {
            sb.append(String.format(Locale.ROOT, ", top-5 %.2f %%", test.top5()));
        }
        sb.append(String.format(Locale.ROOT, ", mean per class %.2f %%%n", test.meanPerClass()));
        return sb.toString().replace(System.lineSeparator(), "\n");
    }
}
