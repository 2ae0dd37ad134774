package dev.dinoj.evaluation.linear;

import dev.dinoj.evaluation.knn.FeatureSet;

/**
 * One trained linear classifier on a slice of the features: {@code logits = x[slice] · W + b}.
 *
 * @param name the official classifier name, e.g. {@code classifier_4_blocks_avgpool_True_lr_0_00100}
 * @param input the slice it reads
 * @param lr its (batch-scaled) base learning rate
 * @param weight {@code length × classes}, row-major
 * @param bias {@code classes}
 * @param classes the number of classes
 */
public record LinearHead(String name, HeadInput input, double lr, float[] weight, float[] bias, int classes) {

    /**
     * Validates the shapes.
     *
     * @param name the name
     * @param input the slice
     * @param lr the learning rate
     * @param weight the weights
     * @param bias the bias
     * @param classes the classes
     */
    public LinearHead {
        if (weight.length != input.length() * classes || bias.length != classes) {
            throw new IllegalArgumentException("weight/bias shapes do not match " + input + " × " + classes);
        }
    }

    /**
     * The logits of every row.
     *
     * @param fs features whose rows contain the slice
     * @return {@code n × classes} logits, row-major
     */
    public float[] scores(FeatureSet fs) {
        if (fs.dim() < input.offset() + input.length()) {
            throw new IllegalArgumentException("features have " + fs.dim() + " columns; the head reads "
                    + input.offset() + ".." + (input.offset() + input.length()));
        }
        float[] out = new float[fs.n() * classes];
        float[] x = fs.data();
        double[] acc = new double[classes];
        for (int i = 0; i < fs.n(); i++) {
            for (int c = 0; c < classes; c++) {
                acc[c] = bias[c];
            }
            int row = i * fs.dim() + input.offset();
            for (int j = 0; j < input.length(); j++) {
                float v = x[row + j];
                if (v == 0f) {
                    continue;
                }
                int w = j * classes;
                for (int c = 0; c < classes; c++) {
                    acc[c] += v * weight[w + c];
                }
            }
            for (int c = 0; c < classes; c++) {
                out[i * classes + c] = (float) acc[c];
            }
        }
        return out;
    }
}
