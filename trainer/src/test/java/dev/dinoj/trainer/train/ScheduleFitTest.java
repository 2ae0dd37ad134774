package dev.dinoj.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScheduleFitTest {

    /**
     * A run whose steps speed up after its first seconds (JIT and allocator warming up): the calibration's fit
     * projects the slow rate, the refit after 20 % of the budget follows the steady one, so the schedule ends near
     * the deadline instead of minutes before it.
     */
    @Test
    void shouldRefitFromTheSteadyRateAfterTheWarmUp() {
        double budget = 600;
        long deadline = (long) (budget * 1e9);
        ScheduleFit fit = new ScheduleFit(100, budget, deadline);
        long now = 0;
        long step = 0;
        List<long[]> fits = new ArrayList<>();
        long epochLength = Long.MAX_VALUE;
        while (fit.pending() && now < deadline) {
            // 20 steps/s for the first 30 s, 30 steps/s after
            now += now < 30e9 ? 50_000_000L : 33_333_333L;
            step++;
            long fitted = fit.afterStep(step, step, now);
            if (fitted > 0) {
                fit.finish();
                fits.add(new long[] {step, fitted, now});
                epochLength = fitted;
            }
        }
        assertEquals(2, fits.size(), "the calibration's fit and one refit");
        assertFalse(fit.pending());
        assertEquals(0, fit.afterStep(step + 1, step + 1, now + 1), "no third fit");
        // first fit after 3 untimed steps + 18 s (3 % of 600 s)
        assertEquals(3 + 18 * 20, fits.get(0)[0], "calibrated over 3 % of the budget");
        long firstTotal = fits.get(0)[1] * 100;
        assertTrue(
                Math.abs(firstTotal - (363 + 0.97 * (600 - 18.15) * 20)) < 200, "slow-rate projection " + firstTotal);
        // the refit window: 120 s (20 % of the budget) at the steady rate
        assertEquals(120e9, fits.get(1)[2] - fits.get(0)[2], 1e8);
        // ... projected at the window's rate (12 s of it still at 20 steps/s)
        long total = epochLength * 100;
        double windowRate = (fits.get(1)[0] - fits.get(0)[0]) / 120.0;
        double projected = fits.get(1)[0] + 0.97 * (budget - fits.get(1)[2] / 1e9) * windowRate;
        assertTrue(Math.abs(total - projected) <= 100, total + " steps vs " + projected + " at the window's rate");
        assertTrue(total > firstTotal * 1.3, "lengthened: " + firstTotal + " -> " + total);
        // the schedule now ends in the last 6 % of the budget, where the first fit's ended a third early
        double endsAt = fits.get(1)[2] / 1e9 + (total - fits.get(1)[0]) / 30.0;
        double firstEndsAt = 30 + (firstTotal - 600) / 30.0;
        assertTrue(endsAt > 0.94 * budget && endsAt <= budget, "ends at " + endsAt + " s");
        assertTrue(firstEndsAt < 0.7 * budget, "the first fit alone ended at " + firstEndsAt + " s");
    }
}
