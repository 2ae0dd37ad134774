package dev.dinoj.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.model.ParamSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW exactly as {@code torch.optim.AdamW} (decoupled weight decay, bias-corrected moments,
 * ε added after the bias-corrected square root), with a per-parameter lr and weight decay from the
 * {@link ParamGroup} multipliers and the current schedule values.
 */
public final class AdamW implements AutoCloseable {

    private final NDManager manager;
    private final ParamSet params;
    private final List<ParamGroup> groups;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final Map<String, NDArray> expAvg = new LinkedHashMap<>();
    private final Map<String, NDArray> expAvgSq = new LinkedHashMap<>();
    private long step;

    public AdamW(ParamSet params, List<ParamGroup> groups, double beta1, double beta2, double eps) {
        this.manager = params.manager().newSubManager();
        this.params = params;
        this.groups = groups;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        for (ParamGroup g : groups) {
            NDArray p = params.get(g.name());
            NDArray m = manager.zeros(p.getShape());
            NDArray v = manager.zeros(p.getShape());
            NDScope.unregister(m, v);
            expAvg.put(g.name(), m);
            expAvgSq.put(g.name(), v);
        }
    }

    public List<ParamGroup> groups() {
        return groups;
    }

    /** Optimiser steps taken so far. */
    public long stepCount() {
        return step;
    }

    /**
     * One update of every parameter from its accumulated gradient.
     *
     * @param lr          the lr schedule value (× lr multiplier)
     * @param lastLayerLr the last-layer lr schedule value for {@code is_last_layer} parameters
     * @param wd          the weight-decay schedule value (× wd multiplier)
     */
    public void step(double lr, double lastLayerLr, double wd) {
        step++;
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        try (NDScope scope = new NDScope()) {
            for (ParamGroup g : groups) {
                try (NDScope perParameter = new NDScope()) { // its temporaries go now, not after all parameters
                    NDArray p = params.get(g.name());
                    NDArray grad = p.getGradient();
                    double groupLr = (g.isLastLayer() ? lastLayerLr : lr) * g.lrMultiplier();
                    double groupWd = wd * g.wdMultiplier();
                    p.muli(1 - groupLr * groupWd);
                    NDArray m = expAvg.get(g.name()).muli(beta1).addi(grad.mul(1 - beta1));
                    NDArray v = expAvgSq.get(g.name())
                            .muli(beta2)
                            .addi(grad.mul(grad).muli(1 - beta2));
                    NDArray denom = v.sqrt().divi(bc2Sqrt).addi(eps);
                    p.subi(m.div(denom).muli(groupLr / bc1));
                    perParameter.suppressNotUsedWarning();
                }
            }
            scope.suppressNotUsedWarning();
        }
    }

    /** Host copies of the moments, keyed {@code exp_avg/<name>} and {@code exp_avg_sq/<name>}. */
    public Map<String, NpyArray> stateHost() {
        Map<String, NpyArray> out = new LinkedHashMap<>();
        for (String name : expAvg.keySet()) {
            NDArray m = expAvg.get(name);
            out.put(
                    "exp_avg/" + name,
                    NpyArray.ofFloats("exp_avg/" + name, m.getShape().getShape(), m.toFloatArray()));
            NDArray v = expAvgSq.get(name);
            out.put(
                    "exp_avg_sq/" + name,
                    NpyArray.ofFloats("exp_avg_sq/" + name, v.getShape().getShape(), v.toFloatArray()));
        }
        return out;
    }

    /** Restores moments and the step count written by {@link #stateHost()}. */
    public void restore(Map<String, NpyArray> state, long stepCount, String source) {
        for (String name : expAvg.keySet()) {
            NpyArray m = state.get("exp_avg/" + name);
            NpyArray v = state.get("exp_avg_sq/" + name);
            if (m == null || v == null) {
                throw new IllegalArgumentException(source + ": optimizer state lacks the moments of " + name);
            }
            expAvg.get(name).set(m.asFloats());
            expAvgSq.get(name).set(v.asFloats());
        }
        this.step = stepCount;
    }

    @Override
    public void close() {
        manager.close();
    }
}
