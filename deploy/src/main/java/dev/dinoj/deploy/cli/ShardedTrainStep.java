package dev.dinoj.deploy.cli;

import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.trainer.bench.ShardedStepBench;
import dev.dinoj.trainer.bench.ShardedStepReport;
import java.util.List;
import java.util.Locale;

/** {@code dinoj bench train-step --ranks N}: the sharded step of N rank JVMs ({@link ShardedStepBench}). */
final class ShardedTrainStep {

    private ShardedTrainStep() {}

    static int call(String config, List<String> sets, int ranks, int warmup, int steps, boolean compareOverlap)
            throws Exception {
        if (ranks < 1 || ranks > 64) {
            throw new UserError("--ranks must be in [1, 64]: " + ranks);
        }
        if (compareOverlap) {
            List<ShardedStepReport> both =
                    ShardedStepBench.compareOverlap(config, sets, ranks, warmup, steps, System.err::println);
            System.out.print(both.get(0).table());
            System.out.print(both.get(1).table());
            System.out.printf(
                    Locale.ROOT,
                    "step time with overlap / without: %.3f%n",
                    both.get(1).stepSeconds() / both.get(0).stepSeconds());
            System.out.println(ShardedStepBench.compareJson(both));
            return 0;
        }
        ShardedStepReport r = ShardedStepBench.run(config, sets, ranks, warmup, steps, System.err::println);
        System.out.print(r.table());
        System.out.println(r.json());
        return 0;
    }
}
