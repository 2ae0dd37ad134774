package dev.dinoj.evaluation.dense;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.evaluation.metrics.Json;
import java.util.List;
import java.util.Locale;

/**
 * The outcome of the dense probe.
 *
 * @param settings the settings
 * @param nTrain training images
 * @param nTest test images
 * @param grid patches per side
 * @param size evaluation side in pixels
 * @param bestC the chosen C
 * @param heldOutMiou held-out patch mIoU of the chosen C, %
 * @param sweep {@code [C, held-out patch mIoU %]} per grid point
 * @param pixelMiou test mIoU over pixels (upsampled logits), %
 * @param pixelIou test IoU of background and foreground, %
 * @param pixelAccuracy test pixel accuracy, %
 * @param patchMiou test mIoU over patches, %
 */
public record DenseResult(
        DenseProbe.Settings settings,
        int nTrain,
        int nTest,
        int grid,
        int size,
        double bestC,
        double heldOutMiou,
        List<double[]> sweep,
        double pixelMiou,
        double[] pixelIou,
        double pixelAccuracy,
        double patchMiou) {

    /**
     * Copies the sweep.
     *
     * @param settings settings
     * @param nTrain train images
     * @param nTest test images
     * @param grid grid side
     * @param size pixel side
     * @param bestC chosen C
     * @param heldOutMiou held-out mIoU
     * @param sweep sweep
     * @param pixelMiou pixel mIoU
     * @param pixelIou per-class IoU
     * @param pixelAccuracy pixel accuracy
     * @param patchMiou patch mIoU
     */
    public DenseResult {
        sweep = List.copyOf(sweep);
        pixelIou = pixelIou.clone();
    }

    /**
     * One line of JSON.
     *
     * @param features the feature source's label
     * @return the JSON object, no line break
     */
    public String toJson(String features) {
        ObjectNode o = Json.object();
        o.put("eval", "dense");
        o.put("features", features);
        o.put("task", "foreground");
        o.put("threshold", Json.sci(settings.threshold()));
        o.put("n_train", nTrain);
        o.put("n_test", nTest);
        o.put("grid", grid);
        o.put("size", size);
        o.put("best_C", Json.sci(bestC));
        o.put("held_out_patch_miou", Json.num(heldOutMiou));
        o.put("mIoU", Json.num(pixelMiou));
        o.put("iou_background", Json.num(pixelIou[0]));
        o.put("iou_foreground", Json.num(pixelIou[1]));
        o.put("pixel_accuracy", Json.num(pixelAccuracy));
        o.put("patch_mIoU", Json.num(patchMiou));
        return Json.line(o);
    }

    /** @return a short text summary */
    public String toTable() {
        return String.format(
                Locale.ROOT,
                "dense probe (foreground, threshold %.3f)  train %d / test %d images, "
                        + "%dx%d patches at %d px%nC %.4g (held-out patch mIoU %.2f %%)%n"
                        + "pixel mIoU %.2f %% (background %.2f, foreground %.2f)  pixel acc %.2f %%  patch mIoU %.2f %%%n",
                settings.threshold(),
                nTrain,
                nTest,
                grid,
                grid,
                size,
                bestC,
                heldOutMiou,
                pixelMiou,
                pixelIou[0],
                pixelIou[1],
                pixelAccuracy,
                patchMiou);
    }
}
