package dev.dinoj.deploy.cli;

import dev.dinoj.trainer.collective.bench.ShardedStepBench;

import java.util.List;

/** {@code dinoj bench train-step --ranks N}: the sharded step of N rank JVMs ({@link ShardedStepBench}). */
final class ShardedTrainStep {

    private ShardedTrainStep() {
    }

    static int call(String config, List<String> sets, int ranks, int warmup, int steps) throws Exception {
        if (ranks < 1 || ranks > 64) {
            throw new UserError("--ranks must be in [1, 64]: " + ranks);
        }
        ShardedStepBench.Report r = ShardedStepBench.run(config, sets, ranks, warmup, steps, System.err::println);
        System.out.print(r.table());
        System.out.println(r.json());
        return 0;
    }
}
