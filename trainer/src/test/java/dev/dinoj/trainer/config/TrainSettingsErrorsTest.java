package dev.dinoj.trainer.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.trainer.model.AttentionKernel;
import dev.dinoj.trainer.model.Compute;
import dev.dinoj.trainer.model.Precision;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Bad configuration input is rejected with a {@link ConfigError} that names the key, file or preset. */
class TrainSettingsErrorsTest {

    private static ConfigError fails(String file, String... sets) {
        return assertThrows(ConfigError.class, () -> TrainSettings.load(file, List.of(sets)));
    }

    private static void assertMentions(ConfigError e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message should name '" + p + "': " + e.getMessage());
        }
    }

    @Test
    void thePicoPresetAndOverridesLoad() {
        TrainSettings s =
                TrainSettings.load("fmnist-pico", List.of("optim.base-lr=0.002", "dinoj.train.batch-size=16"));
        assertEquals(16, s.batchSize());
        assertEquals(64, s.ssl().backbone().embedDim());
        assertEquals(4, s.ssl().backbone().patchSize());
        // lr after sqrt_wrt_1024 at batch 16 peaks at the end of the 1-epoch warmup (10 iterations)
        assertEquals(0.002 * Math.sqrt(16 / 1024.0), s.schedules().at(9).lr(), 1e-15);
    }

    @Test
    void precisionAndAttentionAreRead() {
        assertEquals(
                Compute.DEFAULT,
                TrainSettings.load("fmnist-pico", List.of()).ssl().compute());
        assertEquals(
                new Compute(Precision.BF16, AttentionKernel.MANUAL),
                TrainSettings.load("fmnist-pico", List.of("train.precision=bf16", "model.attention=manual"))
                        .ssl()
                        .compute());
        assertMentions(fails("fmnist-pico", "train.precision=fp16"), "dinoj.train.precision", "fp32, bf16 or auto");
    }

    @Test
    void unknownKeyViaSetIsNamed() {
        assertMentions(fails("fmnist-pico", "optim.base_lr=0.1"), "dinoj.optim.base_lr");
        assertMentions(fails(null, "dinoj.train.batchsize=3"), "dinoj.train.batchsize");
        assertMentions(fails(null, "nosuchsection.key=1"), "dinoj.nosuchsection.key");
    }

    @Test
    void unknownKeyInAFileIsNamedWithTheFile(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("my-run.conf");
        Files.writeString(f, "dinoj {\n  train { batch-size = 8 }\n  optim { warmup_epochs = 2 }\n}\n");
        assertMentions(fails(f.toString()), "dinoj.optim.warmup_epochs", "my-run.conf");
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "train.batch-size=0              | dinoj.train.batch-size",
                "train.batch-size=-4             | dinoj.train.batch-size",
                "model.drop-path-rate=1.5        | dinoj.model.drop-path-rate",
                "optim.base-lr=-0.1              | dinoj.optim.base-lr",
                "teacher.teacher-temp=0          | dinoj.teacher.teacher-temp",
                "train.epoch-length=0            | dinoj.train.epoch-length",
                "crops.local-crops-size=10       | dinoj.crops.local-crops-size",
                "ibot.mask-ratio-min-max=[0.5,0.1] | dinoj.ibot.mask-ratio-min-max",
                "ibot.mask-sample-probability=2  | dinoj.ibot.mask-sample-probability",
                "optim.warmup-epochs=50          | dinoj.optim.warmup-epochs",
                "checkpoint.keep-last=0          | dinoj.checkpoint.keep-last",
                "dino.head-n-prototypes=0        | dinoj.dino.head-n-prototypes",
                "model.num-register-tokens=-1    | dinoj.model.num-register-tokens",
                "train.precision=fp16            | dinoj.train.precision",
                "model.attention=flash           | dinoj.model.attention",
            })
    void outOfRangeValuesNameTheKey(String set, String key) {
        assertMentions(fails("fmnist-pico", set), key);
    }

    /**
     * Issue #17 item 6: every size key has an upper bound, so a poison value (two billion prototypes, a batch that
     * wraps around an int) is one line naming the key when the configuration is loaded, never an allocation.
     */
    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "dino.head-n-prototypes=2e9       | dinoj.dino.head-n-prototypes",
                "dino.head-hidden-dim=2e9         | dinoj.dino.head-hidden-dim",
                "dino.head-bottleneck-dim=2e9     | dinoj.dino.head-bottleneck-dim",
                "dino.head-nlayers=2e9            | dinoj.dino.head-nlayers",
                "train.batch-size=2e9             | dinoj.train.batch-size",
                "train.batch-size=4294967300      | dinoj.train.batch-size",
                "optim.epochs=2e9                 | dinoj.optim.epochs",
                "train.epoch-length=2e9           | dinoj.train.epoch-length",
                "train.max-steps=1e30             | dinoj.train.max-steps",
                "crops.local-crops-number=2e9     | dinoj.crops.local-crops-number",
                "crops.local-crops-size=2000000000 | dinoj.crops.local-crops-size",
                "model.num-register-tokens=2e9    | dinoj.model.num-register-tokens",
                "data.prefetch=2e9                | dinoj.data.prefetch",
                "data.loader-threads=2e9          | dinoj.data.loader-threads",
                "checkpoint.keep-last=2e9         | dinoj.checkpoint.keep-last",
                "high-res.start-step=9e18         | dinoj.high-res.start-step",
            })
    void sizesAboveTheirBoundNameTheKeyAndTheRange(String set, String key) {
        ConfigError e = fails("fmnist-pico", set);
        assertMentions(e, key, "out of range");
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void globalCropSizeNotAMultipleOfThePatchIsNamed() {
        // pico has patch 4: 30 px global crops cannot be patchified
        assertMentions(fails("fmnist-pico", "crops.global-crops-size=30"), "crops.global-crops-size", "30");
    }

    @Test
    void badEnumValuesNameTheKey() {
        assertMentions(fails("fmnist-pico", "train.centering=sinkhorn"), "dinoj.train.centering", "sinkhorn");
        assertMentions(fails("fmnist-pico", "optim.scaling-rule=sqrt"), "dinoj.optim.scaling-rule");
        assertMentions(fails("fmnist-pico", "model.arch=vit_huge"), "dinoj.model.arch", "vit_huge");
        assertMentions(fails("fmnist-pico", "data.dataset=\"imagenet\""), "dinoj.data.dataset");
    }

    @Test
    void wrongTypesNameTheKey() {
        assertMentions(fails("fmnist-pico", "train.batch-size=abc"), "dinoj.train.batch-size");
        assertMentions(fails("fmnist-pico", "model.qkv-bias=maybe"), "dinoj.model.qkv-bias");
        assertMentions(fails("fmnist-pico", "optim.base-lr=fast"), "dinoj.optim.base-lr");
    }

    @Test
    void unknownPresetOrMissingFileIsNamed(@TempDir Path tmp) {
        assertMentions(fails("fmnist-huge"), "fmnist-huge", "fmnist-tiny", "fmnist-pico");
        String missing = tmp.resolve("nope.conf").toString();
        assertMentions(fails(missing), missing);
    }

    @Test
    void malformedSetAndMalformedFile(@TempDir Path tmp) throws Exception {
        assertMentions(fails("fmnist-pico", "train.batch-size"), "train.batch-size", "key=value");
        Path f = tmp.resolve("broken.conf");
        Files.writeString(f, "dinoj { train { batch-size = 8 }\n");
        assertMentions(fails(f.toString()), "broken.conf");
    }

    // ---- gaps found by these tests, now fixed ----

    @Test
    void wrongTypeForTheSeedIsRejectedAtLoad() {
        assertMentions(fails("fmnist-pico", "train.seed=abc"), "dinoj.train.seed");
    }

    @Test
    void negativeStepCountsAreRejected() {
        assertMentions(fails("fmnist-pico", "train.max-steps=-1"), "dinoj.train.max-steps");
        assertMentions(fails("fmnist-pico", "high-res.start-step=-1"), "dinoj.high-res.start-step");
    }

    @Test
    void fractionalIntegerIsRejected() {
        assertMentions(fails("fmnist-pico", "train.batch-size=8.5"), "dinoj.train.batch-size");
    }

    @Test
    void bothLossWeightsZeroIsAConfigError() {
        assertMentions(
                fails("fmnist-pico", "dino.loss-weight=0", "ibot.loss-weight=0"),
                "dinoj.dino.loss-weight",
                "dinoj.ibot.loss-weight");
    }

    @Test
    void cropValuesRejectedByThePipelineNameTheKey() {
        assertMentions(fails("fmnist-pico", "crops.solarize-probability=1.5"), "dinoj.crops.solarize-probability");
        assertMentions(fails("fmnist-pico", "crops.blur-probabilities=[2, 0, 0]"), "dinoj.crops.blur-probabilities");
        assertMentions(fails("fmnist-pico", "crops.global-crops-scale=[0, 1]"), "dinoj.crops.global-crops-scale");
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "collectives.mtu=1000                          | dinoj.collectives.mtu",
                "collectives.mtu=100000                        | dinoj.collectives.mtu",
                "collectives.ring-term-length=3MiB             | dinoj.collectives.ring-term-length",
                "collectives.small-term-length=128KiB          | dinoj.collectives.small-term-length",
                "collectives.timeout=0s                        | dinoj.collectives.timeout",
                "collectives.connect-timeout=soon              | dinoj.collectives.connect-timeout",
                "collectives.idle=sleepy                       | dinoj.collectives.idle",
                "collectives.gradient-wire=fp8                 | dinoj.collectives.gradient-wire",
                "collectives.transport=tcp                     | dinoj.collectives.transport",
                "collectives.base-port=70000                   | dinoj.collectives.base-port",
                "collectives.udp-receiver-window=1KiB          | dinoj.collectives.udp-receiver-window",
                "collectives.overlap=maybe                     | dinoj.collectives.overlap",
                "collectives.threads-per-rank=-1               | dinoj.collectives.threads-per-rank",
                "collectives.stream-id-base=0                  | dinoj.collectives.stream-id-base",
            })
    void badCollectiveSettingsNameTheirKey(String set, String key) {
        assertMentions(fails("fmnist-pico", set), key);
    }

    @Test
    void collectiveSettingsReadTheirKeys() {
        TrainSettings s = TrainSettings.load(
                "fmnist-pico",
                List.of(
                        "collectives.mtu=8192",
                        "collectives.ring-term-length=1MiB",
                        "collectives.timeout=5s",
                        "collectives.gradient-wire=bf16",
                        "collectives.overlap=false",
                        "collectives.transport=udp",
                        "collectives.threads-per-rank=3"));
        var c = s.collectives().aeron();
        assertEquals(8192, c.mtu());
        assertEquals(1 << 20, c.ringTermLength());
        assertEquals(java.time.Duration.ofSeconds(5), c.timeout());
        assertEquals(
                dev.dinoj.trainer.collective.WireFormat.BF16, s.collectives().gradientWire());
        assertEquals(false, s.collectives().overlap());
        assertEquals("udp", s.collectives().transport());
        assertEquals(3, s.collectives().threadsPerRank(2));
        TrainSettings d = TrainSettings.load("fmnist-pico", List.of());
        assertEquals(
                dev.dinoj.trainer.collective.CollectiveSettings.MAX_MTU,
                d.collectives().aeron().mtu());
        assertEquals(true, d.collectives().overlap());
        assertEquals(
                Math.max(1, Runtime.getRuntime().availableProcessors() / 2),
                d.collectives().threadsPerRank(2));
    }
}
