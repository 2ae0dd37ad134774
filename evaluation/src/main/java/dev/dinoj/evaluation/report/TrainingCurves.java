package dev.dinoj.evaluation.report;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The report's training curves from {@code metrics.jsonl}: losses (per step and smoothed), schedules, norms, speed. */
final class TrainingCurves {

    /** The loss terms plotted, in this order, when present. */
    static final String[] LOSSES = {
        "total_loss", "dino_local_crops_loss", "dino_global_crops_loss", "ibot_loss", "koleo_loss"
    };
    /** The schedules plotted, when present. */
    static final String[] SCHEDULES = {"lr", "last_layer_lr", "wd", "momentum", "teacher_temp"};

    private TrainingCurves() {}

    static void losses(HtmlPage page, RunMetrics m, Path outDir) {
        double[] steps = m.steps();
        boolean any = false;
        for (String name : LOSSES) {
            if (!m.has(name)) {
                continue;
            }
            any = true;
            double[] y = m.column(name);
            String id = "loss-" + name.replace('_', '-');
            Path f = Charts.line(
                    outDir.resolve(id + ".png"),
                    name.replace('_', ' '),
                    "step",
                    "loss",
                    List.of(
                            Charts.Line.of("per step", steps, y),
                            new Charts.Line("smoothed (EMA 0.1)", steps, Charts.ema(y, 0.1), false, true)),
                    false);
            page.figure(id, f, name + " per step and smoothed");
        }
        if (!any) {
            page.para("metrics.jsonl has no loss columns.");
        }
    }

    static void schedules(HtmlPage page, RunMetrics m, Path outDir) {
        double[] steps = m.steps();
        for (String name : SCHEDULES) {
            if (m.has(name)) {
                String id = "schedule-" + name.replace('_', '-');
                page.figure(
                        id,
                        Charts.line(
                                outDir.resolve(id + ".png"),
                                name.replace('_', ' '),
                                "step",
                                name,
                                List.of(Charts.Line.of(name, steps, m.column(name))),
                                false),
                        name + " by step");
            }
        }
        List<Charts.Line> norms = new ArrayList<>();
        for (String name : m.names()) {
            if (name.startsWith("grad_norm")) {
                norms.add(Charts.Line.of(name, steps, m.column(name)));
            }
        }
        if (!norms.isEmpty()) {
            page.figure(
                    "grad-norms",
                    Charts.line(
                            outDir.resolve("grad-norms.png"),
                            "gradient norms (before clipping)",
                            "step",
                            "norm",
                            norms,
                            true),
                    "gradient norm per submodule");
        }
        if (m.has("images_per_s")) {
            page.figure(
                    "throughput",
                    Charts.line(
                            outDir.resolve("throughput.png"),
                            "throughput",
                            "step",
                            "images/s",
                            List.of(Charts.Line.of("images/s", steps, m.column("images_per_s"))),
                            false),
                    "training images per second");
        }
    }
}
