package dev.dinoj.deploy.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code ./dinoj}. */
@Command(name = "dinoj", mixinStandardHelpOptions = true, version = "dinoj 0.1.0",
        description = "DINOv2 on the JVM: curate, pretrain, evaluate, export.",
        subcommands = {DemoCommand.class, TrainCommand.class, DistillCommand.class, ExportCommand.class, IngestCommand.class, CurateCommand.class,
                S3ServerCommand.class, ReportCommand.class, EvalCommand.class, BenchCommand.class, VerifyReferenceCommand.class,
                NodeCommand.class, ClusterCommand.class, StatusCommand.class, RunsCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code (tests call this). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof UserError || ex instanceof IllegalArgumentException || ex instanceof java.io.IOException
                    || ex instanceof dev.dinoj.trainer.checkpoint.CheckpointException
                    || ex instanceof dev.dinoj.trainer.train.DivergenceException
                    || ex instanceof dev.dinoj.trainer.collective.CollectiveException
                    || ex instanceof dev.dinoj.pipeline.storage.StorageException
                    || ex instanceof com.typesafe.config.ConfigException
                    || ex instanceof java.io.UncheckedIOException
                    || ex instanceof dev.dinoj.pipeline.data.DatasetException) {
                cmd.getErr().println("error: " + ex.getMessage());
                return 2;
            }
            throw ex;
        });
        return cl.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
