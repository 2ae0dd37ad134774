package dev.dinoj.trainer.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code dinoj.device}: spelling, the local rank's GPU, and one clear error naming the key. */
class DeviceSpecTest {

    @Test
    void parsesCpuCudaAndCudaN() {
        assertEquals(DeviceSpec.CPU, DeviceSpec.parse("cpu"));
        assertEquals(new DeviceSpec(true, -1), DeviceSpec.parse("cuda"));
        assertEquals(new DeviceSpec(true, 3), DeviceSpec.parse("cuda:3"));
        assertEquals(new DeviceSpec(true, 0), DeviceSpec.parse(" CUDA:0 "));
        assertEquals("cuda:3", DeviceSpec.parse("cuda:3").toString());
        assertEquals("cuda", DeviceSpec.parse("cuda").toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "tpu", "cuda:", "cuda:-1", "cuda:x", "cpu:0", "cuda:1:2"})
    void anythingElseIsRefusedNamingTheKey(String bad) {
        ConfigError e = assertThrows(ConfigError.class, () -> DeviceSpec.parse(bad));
        assertTrue(e.getMessage().startsWith("dinoj.device = " + bad), e.getMessage());
        assertTrue(e.getMessage().contains("cpu, cuda"), e.getMessage());
    }

    @Test
    void theDefaultIsCpuAndSetAcceptsCudaNUnquoted() {
        assertEquals(
                DeviceSpec.CPU, TrainSettings.load("fmnist-pico", List.of()).device());
        assertEquals(
                new DeviceSpec(true, 1),
                TrainSettings.load("fmnist-pico", List.of("device=cuda:1")).device());
        assertEquals(
                new DeviceSpec(true, -1),
                TrainSettings.load("fmnist-pico", List.of("dinoj.device=\"cuda\""))
                        .device());
        ConfigError e =
                assertThrows(ConfigError.class, () -> TrainSettings.load("fmnist-pico", List.of("device=gpu0")));
        assertTrue(e.getMessage().contains("dinoj.device"), e.getMessage());
    }

    @Test
    void cpuResolvesToTheCpuWhateverTheRank() {
        assertEquals(Device.cpu(), DeviceSpec.CPU.resolve(0));
        assertEquals(Device.cpu(), DeviceSpec.CPU.resolve(5));
    }

    /** Without CUDA natives (the default build) cuda is one line naming the key and saying what is missing. */
    @Test
    void cudaWithoutCudaNativesOrGpusSaysSo() {
        Engine engine = Engine.getInstance();
        boolean cuda = engine.hasCapability(StandardCapabilities.CUDA);
        int gpus = cuda ? engine.getGpuCount() : 0;
        ConfigError e = assertThrows(
                ConfigError.class, () -> DeviceSpec.parse("cuda:" + gpus).resolve(0));
        assertTrue(e.getMessage().startsWith("dinoj.device = cuda:" + gpus + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(cuda ? "does not exist" : "have no CUDA"), e.getMessage());
        ConfigError local =
                assertThrows(ConfigError.class, () -> DeviceSpec.parse("cuda").resolve(gpus));
        assertTrue(local.getMessage().contains(cuda ? "local rank " + gpus : "-Pcuda"), local.getMessage());
        if (gpus > 0) { // a GPU machine: the local rank picks its GPU
            assertEquals(Device.gpu(gpus - 1), DeviceSpec.parse("cuda").resolve(gpus - 1));
        }
    }
}
