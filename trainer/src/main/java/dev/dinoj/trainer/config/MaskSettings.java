package dev.dinoj.trainer.config;

/**
 * iBOT masking of the global crops ({@code dinoj.ibot.mask-*}).
 *
 * @param sampleProbability share of the images whose global crops are masked
 * @param ratioMin          smallest masked share of a masked crop's patches
 * @param ratioMax          largest masked share
 */
public record MaskSettings(double sampleProbability, double ratioMin, double ratioMax) {

    static MaskSettings from(ConfigReader r) {
        double p = r.doubleAt("dinoj.ibot.mask-sample-probability", 0, 1);
        double[] ratio = r.pairAt("dinoj.ibot.mask-ratio-min-max", 0, 1);
        return new MaskSettings(p, ratio[0], ratio[1]);
    }

    /** {@code [ratioMin, ratioMax]}. */
    public double[] ratioMinMax() {
        return new double[] {ratioMin, ratioMax};
    }
}
