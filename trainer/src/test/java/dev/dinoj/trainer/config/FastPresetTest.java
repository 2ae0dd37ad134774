package dev.dinoj.trainer.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.trainer.model.Precision;
import dev.dinoj.trainer.model.VitConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fmnist-fast preset, the model size keys and {@code train.precision = auto}. */
class FastPresetTest {

    @Test
    void shouldFitA15MinuteScheduleOnTheWhole28PixelImage() {
        TrainSettings s = TrainSettings.load("fmnist-fast", List.of());
        assertTrue(s.loop().fitScheduleToTime(), "the schedule follows the wall clock");
        assertEquals(15.0, s.loop().maxMinutes());
        VitConfig vit = s.ssl().backbone();
        assertEquals(7, vit.patchSize());
        assertEquals(28, s.crops().normal().globalCropsSize());
        assertEquals(14, s.crops().normal().localCropsSize());
        assertEquals(2, s.crops().normal().localCropsNumber());
        assertArrayEquals(new double[] {0.85, 1.0}, s.crops().normal().globalCropsScale());
        assertArrayEquals(new double[] {0.35, 0.7}, s.crops().normal().localCropsScale());
        assertEquals(256, s.ssl().dinoHead().prototypes());
        assertEquals(128, vit.embedDim());
        assertEquals(4, vit.depth());
        assertEquals(4, vit.numHeads());
        // auto: bf16 exactly where the CPU has bfloat16 dot products
        Precision expected =
                dev.dinoj.pipeline.search.Precision.hardware() == dev.dinoj.pipeline.search.Precision.BFLOAT16
                        ? Precision.BF16
                        : Precision.FP32;
        assertEquals(expected, s.ssl().compute().precision());
        // a longer budget and fp32 by --set
        TrainSettings t = TrainSettings.load("fmnist-fast", List.of("train.max-minutes=30", "train.precision=fp32"));
        assertEquals(30.0, t.loop().maxMinutes());
        assertEquals(Precision.FP32, t.ssl().compute().precision());
    }

    @Test
    void autoPrecisionShouldBeBf16OnAGpu() {
        assertEquals(Precision.BF16, Precision.parse("auto", true));
        assertEquals(Precision.FP32, Precision.parse("fp32", true));
        assertEquals(Precision.BF16, Precision.parse("BF16", false));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Precision.parse("fp16"));
        assertTrue(e.getMessage().contains("fp32, bf16 or auto"), e.getMessage());
    }

    @Test
    void modelSizeKeysShouldOverrideTheArch() {
        VitConfig pico = TrainSettings.load("fmnist-pico", List.of()).ssl().backbone();
        assertEquals(64, pico.embedDim());
        VitConfig v = TrainSettings.load(
                        "fmnist-pico", List.of("model.embed-dim=96", "model.depth=3", "model.num-heads=3"))
                .ssl()
                .backbone();
        assertEquals(96, v.embedDim());
        assertEquals(3, v.depth());
        assertEquals(3, v.numHeads());
        // one key alone: the others stay the arch's
        VitConfig deeper = TrainSettings.load("fmnist-pico", List.of("model.depth=5"))
                .ssl()
                .backbone();
        assertEquals(64, deeper.embedDim());
        assertEquals(5, deeper.depth());
        assertEquals(4, deeper.numHeads());
        ConfigError e =
                assertThrows(ConfigError.class, () -> TrainSettings.load("fmnist-pico", List.of("model.embed-dim=90")));
        assertTrue(
                e.getMessage().contains("dinoj.model.embed-dim")
                        && e.getMessage().contains("90"),
                e.getMessage());
        ConfigError neg =
                assertThrows(ConfigError.class, () -> TrainSettings.load("fmnist-pico", List.of("model.depth=-1")));
        assertTrue(neg.getMessage().contains("dinoj.model.depth"), neg.getMessage());
    }
}
