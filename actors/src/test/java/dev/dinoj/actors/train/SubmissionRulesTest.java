package dev.dinoj.actors.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import com.sun.net.httpserver.HttpServer;
import dev.dinoj.actors.curate.CurateSpec;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #17 items 5 and 6: what a submitted run may name, each refusal one line at submit (bad input), never a file's
 * text or a resolved value, and the coordinator stays idle. The node allows configs below {@code configs/} and run
 * directories below {@code runs/}; every submission goes to a fresh coordinator.
 */
@Timeout(120)
class SubmissionRulesTest {

    static final Duration T = Duration.ofSeconds(30);
    static final String SECRET = "TOPSECRET-token-4711";

    @TempDir
    static Path tmp;

    static Path runs;
    static Path configs;
    static ActorTestKit kit;
    static int coordinators;

    @BeforeAll
    static void start() throws Exception {
        runs = tmp.resolve("runs");
        configs = tmp.resolve("configs");
        Files.createDirectories(configs);
        Files.writeString(tmp.resolve("secret.conf"), SECRET + "\n");
        kit = OneNodeCluster.start(
                "SubmissionRulesTest",
                "dinoj.actors.coordinator { run-roots = [\"" + runs + "\"], config-roots = [\"" + configs + "\"] }");
    }

    @AfterAll
    static void stop() {
        kit.shutdownTestKit();
    }

    static Coordinator.Accepted submit(String config, Path dir, String... sets) {
        return submit(config, dir, 2, null, sets);
    }

    /** The answer of a fresh idle coordinator to one submission (it is stopped afterwards). */
    static Coordinator.Accepted submit(String config, Path dir, long steps, CurateSpec curate, String... sets) {
        ActorRef<Coordinator.Command> c = kit.spawn(
                Coordinator.create(RunSpec.fromConfig(kit.system().settings().config())), "c" + ++coordinators);
        TestProbe<Coordinator.Accepted> p = kit.createTestProbe();
        c.tell(new Coordinator.Submit(config, sets, dir.toString(), steps, 0, curate, p.ref()));
        Coordinator.Accepted a = p.receiveMessage(T);
        kit.stop(c);
        return a;
    }

    /** Refused as bad input, on one line, naming {@code mustName}, without {@code never}. */
    static Coordinator.Accepted refused(Coordinator.Accepted a, String mustName, String never) {
        assertFalse(a.ok(), a.message());
        assertTrue(a.badRequest(), a.message());
        assertTrue(a.message().startsWith("run refused: "), a.message());
        assertTrue(a.message().contains(mustName), a.message());
        assertFalse(a.message().contains(never), a.message());
        assertFalse(a.message().contains("\n"), a.message());
        return a;
    }

    @Test
    void shouldReadNoEnvironmentVariable() {
        String path = System.getenv("PATH");
        refused(submit("fmnist-pico", runs.resolve("env"), "data.dataset=${PATH}"), "${PATH}", path);
        refused(
                submit("fmnist-pico", runs.resolve("env"), "distill.teacher=${HOME}"),
                "${HOME}",
                System.getenv("HOME"));
    }

    @Test
    void shouldFetchAndReadNoInclude() throws Exception {
        AtomicInteger fetched = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", x -> {
            fetched.incrementAndGet();
            byte[] b = "batch-size = 4\n".getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, b.length);
            x.getResponseBody().write(b);
            x.close();
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/more.conf";
            refused(
                    submit("fmnist-pico", runs.resolve("inc"), "train={ include url(\"" + url + "\") }"),
                    "include is not allowed",
                    "batch-size");
            Path viaFile = configs.resolve("url.conf");
            Files.writeString(viaFile, "dinoj.train { include url(\"" + url + "\") }\n");
            refused(submit(viaFile.toString(), runs.resolve("inc")), "include is not allowed", "batch-size");
            Path local = configs.resolve("file.conf");
            Files.writeString(local, "dinoj { include file(\"" + tmp.resolve("secret.conf") + "\") }\n");
            refused(submit(local.toString(), runs.resolve("inc")), "include is not allowed", SECRET);
            assertEquals(0, fetched.get(), "the node fetched an included URL");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void shouldReadConfigFilesOnlyBelowTheConfigRoots() throws Exception {
        Path valid = tmp.resolve("valid.conf");
        Files.writeString(valid, "dinoj.train.batch-size = 4\n");
        String roots = SubmissionRules.CONFIG_ROOTS;
        refused(submit(tmp.resolve("secret.conf").toString(), runs.resolve("a")), roots, SECRET);
        refused(submit(valid.toString(), runs.resolve("a")), roots, "batch-size");
        refused(submit(tmp.resolve("none.conf").toString(), runs.resolve("a")), roots, "no such");
        refused(submit(configs.resolve("../secret.conf").toString(), runs.resolve("a")), roots, SECRET);
        Files.createSymbolicLink(configs.resolve("link.conf"), valid);
        refused(submit(configs.resolve("link.conf").toString(), runs.resolve("a")), roots, "batch-size");
        Path broken = configs.resolve("broken.conf");
        Files.writeString(broken, SECRET + " {\n");
        refused(submit(broken.toString(), runs.resolve("a")), "not valid HOCON", SECRET);

        Files.copy(valid, configs.resolve("ok.conf"));
        Coordinator.Accepted ok = submit(configs.resolve("ok.conf").toString(), runs.resolve("a"));
        assertTrue(ok.ok(), ok.message());
    }

    @Test
    void shouldKeepRunDirectoriesBelowTheRunRoots() throws Exception {
        String roots = SubmissionRules.RUN_ROOTS;
        refused(submit("fmnist-pico", tmp.resolve("elsewhere")), roots, "\n");
        refused(submit("fmnist-pico", runs.resolve("../elsewhere")), roots, "\n");
        refused(submit("fmnist-pico", runs), roots, "\n");
        Files.createDirectories(tmp.resolve("outside"));
        Files.createDirectories(runs);
        Files.createSymbolicLink(runs.resolve("link"), tmp.resolve("outside"));
        refused(submit("fmnist-pico", runs.resolve("link").resolve("run")), roots, "\n");
        assertFalse(Files.exists(tmp.resolve("elsewhere")), "nothing is written outside the roots");

        Coordinator.Accepted ok = submit("fmnist-pico", runs.resolve("b"));
        assertTrue(ok.ok(), ok.message());
    }

    @Test
    void shouldRefuseADirectoryItCannotWriteOrWhoseRunHasEnded() throws Exception {
        Files.createDirectories(runs);
        Files.writeString(runs.resolve("a-file"), "");
        refused(submit("fmnist-pico", runs.resolve("a-file").resolve("run")), "cannot write", "\n");

        Path done = runs.resolve("done");
        Files.createDirectories(done);
        Files.writeString(done.resolve(RunStore.STATE_FILE), "{\"phase\": \"finished\", \"generation\": 3}");
        refused(submit("fmnist-pico", done), "holds a run that has ended (finished)", "\n");
        Files.writeString(done.resolve(RunStore.STATE_FILE), "{\"phase\": \"stepping\", \"generation\": 3}");
        assertTrue(submit("fmnist-pico", done).ok(), "an interrupted run is resumed");
    }

    @Test
    void shouldKeepRunDirectoriesOutOfTheStateFolder() {
        SubmissionRules rules = new SubmissionRules(
                Roots.of(SubmissionRules.CONFIG_ROOTS, List.of()),
                Roots.of(SubmissionRules.RUN_ROOTS, List.of(runs.toString())),
                runs.resolve("state"));
        Duration s = Duration.ofSeconds(1);
        for (Path dir : List.of(runs.resolve("state"), runs.resolve("state").resolve("run"))) {
            RunSpec run = new RunSpec("fmnist-pico", List.of(), dir, 2, 0, 1, s, s, s, s, null, 3, 0);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> rules.checkNew(run));
            assertTrue(e.getMessage().contains("state-dir"), e.getMessage());
        }
    }

    @Test
    void shouldRefusePoisonSizes() {
        for (String set : List.of(
                "dino.head-n-prototypes=2e9",
                "train.batch-size=2e9",
                "optim.epochs=2e9",
                "crops.local-crops-number=2e9",
                "dino.head-hidden-dim=2e9")) {
            String key = "dinoj." + set.substring(0, set.indexOf('='));
            refused(submit("fmnist-pico", runs.resolve("big"), set), key + " = 2000000000 is out of range", "\n");
        }
        refused(submit("fmnist-pico", runs.resolve("big"), Long.MAX_VALUE, null), "steps = ", "\n");
        refused(submit("fmnist-pico", runs.resolve("big"), -1, null), "steps = -1", "\n");
    }

    @Test
    void shouldReadAndWriteNoOtherPathOutsideTheRoots() throws Exception {
        Path teacher = tmp.resolve("teacher");
        Files.createDirectories(teacher);
        refused(
                submit(
                        "fmnist-pico",
                        runs.resolve("t"),
                        "distill.teacher=\"" + teacher + "\"",
                        "model.drop-path-rate=0"),
                "dinoj.distill.teacher",
                "\n");
        Path weights = Files.writeString(tmp.resolve("backbone.safetensors"), "weights");
        refused(
                submit("fmnist-pico", runs.resolve("t"), "model.pretrained-weights=\"" + weights + "\""),
                "dinoj.model.pretrained-weights",
                "\n");
        String out = tmp.resolve("curated").toString();
        refused(
                submit(
                        "fmnist-pico",
                        runs.resolve("t"),
                        2,
                        new CurateSpec("s3://bkt/pool", "", out, 0, "pixels:28", "same", 0)),
                "curate.out",
                "\n");
        refused(
                submit(
                        "fmnist-pico",
                        runs.resolve("t"),
                        2,
                        new CurateSpec(tmp.toString(), "", "s3://bkt/out", 0, "pixels:28", "same", 0)),
                "curate.source",
                "\n");
        refused(
                submit(
                        "fmnist-pico",
                        runs.resolve("t"),
                        2,
                        new CurateSpec("s3://bkt/pool", "", "s3://bkt/out", 0, "vit:" + teacher, "same", 0)),
                "curate.embedder",
                "\n");
        assertFalse(Files.exists(Path.of(out)));
        refused(
                submit("fmnist-pico", runs.resolve("t"), 2, excluding("folder:" + tmp.resolve("configs"))),
                "curate.exclude folder:",
                "\n");
    }

    private static CurateSpec excluding(String... sets) {
        return new CurateSpec("s3://bkt/pool", "", "s3://bkt/out", 0, "pixels:28", "copy:24", 0, sets, 0);
    }

    /** A submission may exclude curated sets (S3, or local below the roots) and Fashion-MNIST, no idx: or folder:. */
    @Test
    void shouldLetASubmissionExcludeCuratedSetsAndFashionMnistOnly() throws Exception {
        SubmissionRules rules = new SubmissionRules(
                Roots.of(SubmissionRules.CONFIG_ROOTS, List.of(configs.toString())),
                Roots.of(SubmissionRules.RUN_ROOTS, List.of(runs.toString())),
                null);
        Duration s = Duration.ofSeconds(1);
        Path curated = Files.createDirectories(configs.resolve("eval-set"));
        for (String ok : new String[] {"curated:s3://bkt/eval", "curated:" + curated, "fashion-mnist:test"}) {
            rules.checkNew(
                    new RunSpec("fmnist-pico", List.of(), runs.resolve("x"), 2, 0, 1, s, s, s, s, excluding(ok), 3, 0));
        }
        for (String bad : new String[] {
            "idx:" + configs.resolve("images-idx3-ubyte"), "folder:" + curated, "curated:" + tmp.resolve("secret.conf")
        }) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> rules.checkNew(new RunSpec(
                            "fmnist-pico", List.of(), runs.resolve("x"), 2, 0, 1, s, s, s, s, excluding(bad), 3, 0)));
            assertTrue(e.getMessage().startsWith("curate.exclude " + bad + ": "), e.getMessage());
            assertFalse(e.getMessage().contains(SECRET), e.getMessage());
        }
    }
}
