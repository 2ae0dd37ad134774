package dev.dinoj.pipeline.augment;

/** Per-thread work buffers of {@link MultiCropAugmentation}; they only grow, so steady state allocates nothing. */
final class Scratch {
    private float[] coeffsX = new float[0];
    private float[] coeffsY = new float[0];
    private int[] boundsX = new int[0];
    private int[] boundsY = new int[0];
    /** Horizontal-pass result of the resampler, then the row-blurred image of the Gaussian blur. */
    private float[] tmp = new float[0];

    private float[] kernel = new float[0];
    /** One row of sums of the Gaussian blur's vertical pass. */
    private float[] row = new float[0];

    private final int[] order = new int[4];

    float[] coeffsX(int n) {
        return coeffsX.length >= n ? coeffsX : (coeffsX = new float[n]);
    }

    float[] coeffsY(int n) {
        return coeffsY.length >= n ? coeffsY : (coeffsY = new float[n]);
    }

    int[] boundsX(int n) {
        return boundsX.length >= n ? boundsX : (boundsX = new int[n]);
    }

    int[] boundsY(int n) {
        return boundsY.length >= n ? boundsY : (boundsY = new int[n]);
    }

    float[] tmp(int n) {
        return tmp.length >= n ? tmp : (tmp = new float[n]);
    }

    /** Colour-jitter order, a permutation of 0..3. */
    int[] order() {
        return order;
    }

    float[] row(int n) {
        return row.length >= n ? row : (row = new float[n]);
    }

    float[] kernel(int n) {
        return kernel.length >= n ? kernel : (kernel = new float[n]);
    }
}
