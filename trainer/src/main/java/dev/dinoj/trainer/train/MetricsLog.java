package dev.dinoj.trainer.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.trainer.schedule.Schedules;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code RUN/metrics.jsonl}: one JSON line per step (losses, schedules, gradient norms, throughput), flushed line by
 * line so it can be read while the run writes it; and the human-readable log line of a step.
 */
public final class MetricsLog implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(MetricsLog.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final BufferedWriter out;

    private MetricsLog(BufferedWriter out) {
        this.out = out;
    }

    /**
     * Opens {@code outDir/metrics.jsonl} for appending, with lines of steps after {@code fromStep} dropped (a resumed
     * run recomputes them; a line cut short by a crash is dropped too).
     */
    public static MetricsLog open(Path outDir, long fromStep) throws IOException {
        Path f = outDir.resolve("metrics.jsonl");
        if (Files.exists(f)) {
            List<String> keep = new ArrayList<>();
            for (String line : Files.readAllLines(f)) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    if (JSON.readTree(line).get("step").asLong() <= fromStep) {
                        keep.add(line);
                    }
                } catch (IOException | NullPointerException e) {
                    log.warn("{}: dropping an incomplete line left by an interrupted run", f);
                }
            }
            Files.write(f, keep);
        }
        return new MetricsLog(Files.newBufferedWriter(
                f, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND));
    }

    /** Appends the line of one step (whole lines only: flushed at once). */
    public void write(StepReport r) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("step", r.step());
        r.losses().forEach(o::put);
        o.put("total_loss", r.totalLoss());
        o.put("lr", r.schedule().lr());
        o.put("wd", r.schedule().wd());
        o.put("momentum", r.schedule().momentum());
        o.put("teacher_temp", r.schedule().teacherTemp());
        o.put("last_layer_lr", r.schedule().lastLayerLr());
        r.gradNorms().forEach((k, v) -> o.put("grad_norm_" + k, v));
        o.put("images_per_s", r.imagesPerSecond());
        o.put("data_wait_s", r.dataWaitSeconds());
        o.put("compute_s", r.computeSeconds());
        o.put("global_crop_size", r.globalCropSize());
        out.write(JSON.writeValueAsString(o));
        out.newLine();
        out.flush();
    }

    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    /** One human-readable log line of a step (nanoGPT's {@code iter n: loss …}). */
    public static String format(StepReport r) {
        StringBuilder sb = new StringBuilder(
                String.format(Locale.ROOT, "step %d/%d  loss %.4f (", r.step(), r.totalSteps(), r.totalLoss()));
        r.losses()
                .forEach((k, v) -> sb.append(String.format(
                        Locale.ROOT, "%s %.4f, ", k.replace("_crops_loss", "").replace("_loss", ""), v)));
        sb.setLength(sb.length() - 2);
        Schedules.Values v = r.schedule();
        sb.append(String.format(
                Locale.ROOT,
                ")  lr %.2e  wd %.4f  mom %.5f  t-temp %.4f  %.1f img/s",
                v.lr(),
                v.wd(),
                v.momentum(),
                v.teacherTemp(),
                r.imagesPerSecond()));
        return sb.toString();
    }
}
