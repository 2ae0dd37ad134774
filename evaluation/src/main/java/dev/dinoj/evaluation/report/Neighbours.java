package dev.dinoj.evaluation.report;

import dev.dinoj.evaluation.knn.FeatureSet;

/** Nearest neighbours by cosine similarity, for the report's neighbour grids. */
final class Neighbours {

    private Neighbours() {}

    /** Indices of the {@code k} rows of {@code train} most cosine-similar to row {@code q} of {@code test}. */
    static int[] nearest(FeatureSet train, FeatureSet test, int q, int k) {
        int d = train.dim();
        double[] x = new double[d];
        double qn = 0;
        for (int c = 0; c < d; c++) {
            x[c] = test.data()[q * d + c];
            qn += x[c] * x[c];
        }
        qn = Math.sqrt(Math.max(qn, 1e-24));
        double[] sims = new double[train.n()];
        for (int i = 0; i < train.n(); i++) {
            double s = 0;
            double n = 0;
            for (int c = 0; c < d; c++) {
                float v = train.data()[i * d + c];
                s += x[c] * v;
                n += (double) v * v;
            }
            sims[i] = s / (qn * Math.sqrt(Math.max(n, 1e-24)));
        }
        int[] out = new int[k];
        boolean[] used = new boolean[train.n()];
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int i = 0; i < sims.length; i++) {
                if (!used[i] && (best < 0 || sims[i] > sims[best])) {
                    best = i;
                }
            }
            used[best] = true;
            out[j] = best;
        }
        return out;
    }
}
