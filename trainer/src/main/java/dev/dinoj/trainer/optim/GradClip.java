package dev.dinoj.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import dev.dinoj.trainer.model.ParamSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Gradient clipping by global L2 norm per submodule ({@code clip_grad_norm_} on each of the student's
 * backbone / dino_head / ibot_head): scale = min(1, max_norm / (norm + 1e-6)).
 */
public final class GradClip {

    private GradClip() {}

    /** Gradient L2 norm of each submodule, before clipping. */
    public static Map<String, Double> norms(ParamSet params, List<ParamGroup> groups) {
        Map<String, Double> sq = new LinkedHashMap<>();
        try (NDScope scope = new NDScope()) {
            for (ParamGroup g : groups) {
                try (NDScope perParameter = new NDScope()) { // its float64 copies go now, not after all parameters
                    NDArray grad = params.get(g.name()).getGradient();
                    // float64 accumulation: squares of large (finite) float32 gradients must not overflow to +inf
                    double n = grad.toType(DataType.FLOAT64, false).pow(2).sum().getDouble();
                    sq.merge(g.submodule(), n, Double::sum);
                    perParameter.suppressNotUsedWarning();
                }
            }
            scope.suppressNotUsedWarning();
        }
        Map<String, Double> out = new LinkedHashMap<>();
        sq.forEach((k, v) -> out.put(k, Math.sqrt(v)));
        return out;
    }

    /** Scales each submodule's gradients in place; {@code norms} as returned by {@link #norms}. */
    public static void clip(ParamSet params, List<ParamGroup> groups, Map<String, Double> norms, double maxNorm) {
        if (maxNorm <= 0) {
            return;
        }
        try (NDScope scope = new NDScope()) {
            for (ParamGroup g : groups) {
                double coef = Math.min(1.0, maxNorm / (norms.get(g.submodule()) + 1e-6));
                if (coef < 1.0) {
                    params.get(g.name()).getGradient().muli(coef);
                }
            }
            scope.suppressNotUsedWarning();
        }
    }
}
