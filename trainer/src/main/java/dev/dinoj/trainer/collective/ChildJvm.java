package dev.dinoj.trainer.collective;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Starts a rank in a JVM of its own, with this JVM's class path (or the one given) and the flags every dinoj JVM
 * needs ({@code --add-exports java.base/jdk.internal.misc=ALL-UNNAMED} for Agrona, {@code -Dai.djl.offline=true}).
 * Under surefire, set {@code useManifestOnlyJar=false} so that {@code java.class.path} is the real test class path.
 */
public final class ChildJvm {

    private ChildJvm() {}

    /** {@code java} of the running JDK. */
    public static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The class path a child should get: {@code dinoj.child.classpath} if set, else {@code java.class.path}. */
    public static String classPath() {
        return System.getProperty("dinoj.child.classpath", System.getProperty("java.class.path"));
    }

    /**
     * The command line of a child JVM.
     *
     * @param heap      e.g. {@code 1g}
     * @param mainClass fully qualified main class
     * @param args      program arguments
     */
    public static List<String> command(String heap, String mainClass, List<String> args) {
        return command(heap, List.of(), mainClass, args);
    }

    /**
     * The command line of a child JVM with extra JVM options (e.g. {@code -Dai.djl.pytorch.num_threads=1}).
     *
     * @param jvmOptions options placed before the main class
     */
    public static List<String> command(String heap, List<String> jvmOptions, String mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBinary());
        cmd.add("-Xmx" + heap);
        cmd.addAll(jvmOptions);
        cmd.add("-XX:+UseSerialGC");
        cmd.add("--add-exports");
        cmd.add("java.base/jdk.internal.misc=ALL-UNNAMED");
        cmd.add("-Dai.djl.offline=true");
        for (String p : new String[] {"ENGINE_CACHE_DIR", "DJL_CACHE_DIR", "dinoj.repo.root"}) {
            if (System.getProperty(p) != null) {
                cmd.add("-D" + p + "=" + System.getProperty(p));
            }
        }
        cmd.add("-cp");
        cmd.add(classPath());
        cmd.add(mainClass);
        cmd.addAll(args);
        return cmd;
    }

    /** Starts a child JVM with its output (stdout and stderr merged) written to {@code log}. */
    public static Process start(String heap, String mainClass, List<String> args, File log) throws IOException {
        return start(heap, List.of(), mainClass, args, log);
    }

    /** As {@link #start(String, String, List, File)}, with extra JVM options. */
    public static Process start(String heap, List<String> jvmOptions, String mainClass, List<String> args, File log)
            throws IOException {
        return start(heap, jvmOptions, mainClass, args, Map.of(), log);
    }

    /**
     * As {@link #start(String, List, String, List, File)}, with variables added to the child's environment (e.g. a
     * world's secret, {@link World#secretEnvironment()}: what must not be on the command line, which ps shows).
     */
    public static Process start(
            String heap,
            List<String> jvmOptions,
            String mainClass,
            List<String> args,
            Map<String, String> environment,
            File log)
            throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command(heap, jvmOptions, mainClass, args));
        pb.environment().putAll(environment);
        pb.redirectErrorStream(true);
        pb.redirectOutput(log);
        return pb.start();
    }
}
