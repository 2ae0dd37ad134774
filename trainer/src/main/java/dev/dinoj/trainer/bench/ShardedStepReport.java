package dev.dinoj.trainer.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;

/** The benchmark's result (medians over the measured steps of the per-step maxima over ranks). */
public record ShardedStepReport(
        String config,
        int ranks,
        int globalBatch,
        int threadsPerRank,
        String transport,
        boolean overlap,
        String gradientWire,
        int steps,
        double stepSeconds,
        double computeSeconds,
        double communicationSeconds,
        double forwardBackwardSeconds,
        double optimizerSeconds,
        double dataWaitSeconds,
        double overhead,
        double imagesPerSecond,
        double[] rankCommunication,
        double[] rankOverhead,
        double globalSumSeconds,
        double gradientWaitSeconds,
        double reduceScatterSeconds,
        String machine,
        String date) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(
                Locale.ROOT,
                "sharded train-step: %s, %d ranks (JVMs, %d PyTorch thread%s each), "
                        + "global batch %d, transport %s, overlap %s, gradients %s, %d measured steps%n",
                config,
                ranks,
                threadsPerRank,
                threadsPerRank == 1 ? "" : "s",
                globalBatch,
                transport,
                overlap ? "on" : "off",
                gradientWire,
                steps));
        sb.append(String.format(Locale.ROOT, "  %s, %s%n", machine, date));
        row(sb, "images/s", String.format(Locale.ROOT, "%.2f", imagesPerSecond));
        row(sb, "step time (s)", String.format(Locale.ROOT, "%.3f", stepSeconds));
        row(sb, "  compute (s)", String.format(Locale.ROOT, "%.3f", computeSeconds));
        row(sb, "    forward+backward (s)", String.format(Locale.ROOT, "%.3f", forwardBackwardSeconds));
        row(sb, "    optimizer shard + write-back + EMA (s)", String.format(Locale.ROOT, "%.3f", optimizerSeconds));
        row(sb, "  blocked in communication (s)", String.format(Locale.ROOT, "%.3f", communicationSeconds));
        StringBuilder per = new StringBuilder();
        for (double c : rankCommunication) {
            per.append(per.length() > 0 ? " / " : "").append(String.format(Locale.ROOT, "%.3f", c));
        }
        row(sb, "    per rank (s)", per.toString());
        row(sb, "    global sums in the forward (s)", String.format(Locale.ROOT, "%.3f", globalSumSeconds));
        row(
                sb,
                "    waiting for the gradient reduce-scatter (s)",
                String.format(Locale.ROOT, "%.3f", gradientWaitSeconds));
        row(
                sb,
                "gradient reduce-scatter itself (s)" + (overlap ? ", overlapped" : ""),
                String.format(Locale.ROOT, "%.3f", reduceScatterSeconds));
        row(sb, "waiting for data (s)", String.format(Locale.ROOT, "%.3f", dataWaitSeconds));
        row(sb, "overhead = step / compute - 1", String.format(Locale.ROOT, "%.1f %%", 100 * overhead));
        StringBuilder ro = new StringBuilder();
        for (double x : rankOverhead) {
            ro.append(ro.length() > 0 ? " / " : "").append(String.format(Locale.ROOT, "%.1f %%", 100 * x));
        }
        row(sb, "  per rank: own step / own compute - 1", ro.toString());
        return sb.toString();
    }

    private static void row(StringBuilder sb, String k, String v) {
        sb.append(String.format(Locale.ROOT, "  %-44s %14s%n", k, v));
    }

    public String json() {
        ObjectNode o = JSON.createObjectNode();
        o.put("bench", "train-step-sharded");
        o.put("config", config);
        o.put("ranks", ranks);
        o.put("global_batch", globalBatch);
        o.put("threads_per_rank", threadsPerRank);
        o.put("transport", transport);
        o.put("overlap", overlap);
        o.put("gradient_wire", gradientWire);
        o.put("steps", steps);
        o.put("images_per_s", imagesPerSecond);
        o.put("step_s", stepSeconds);
        o.put("compute_s", computeSeconds);
        o.put("communication_s", communicationSeconds);
        o.put("forward_backward_s", forwardBackwardSeconds);
        o.put("optimizer_s", optimizerSeconds);
        o.put("data_wait_s", dataWaitSeconds);
        o.put("overhead", overhead);
        o.put("global_sum_s", globalSumSeconds);
        o.put("gradient_wait_s", gradientWaitSeconds);
        o.put("reduce_scatter_s", reduceScatterSeconds);
        ArrayNode a = o.putArray("communication_s_per_rank");
        for (double c : rankCommunication) {
            a.add(c);
        }
        ArrayNode ro = o.putArray("overhead_per_rank");
        for (double x : rankOverhead) {
            ro.add(x);
        }
        o.put("machine", machine);
        o.put("date", date);
        return o.toString();
    }
}
