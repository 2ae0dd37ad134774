package dev.dinoj.trainer.train.sharded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.dinoj.trainer.checkpoint.ShardedCheckpoints;
import dev.dinoj.trainer.collective.CollectiveSettings;
import dev.dinoj.trainer.collective.Communicator;
import dev.dinoj.trainer.collective.TestWorlds.Transport;
import dev.dinoj.trainer.collective.WireFormat;
import dev.dinoj.trainer.collective.World;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.io.Safetensors;
import dev.dinoj.trainer.train.SslMetaArch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance 2 of the collectives issue: a checkpoint written by 3 rank JVMs (IPC) loads on 2 rank JVMs (UDP) and on
 * 1 rank (this JVM, no transport) with identical parameters, moments (laid end to end through the global offsets),
 * optimiser step count and centers; the 2 ranks then train on.
 */
class ShardedCheckpointTest {

    /** A rank's snapshot file: tensors and metadata. */
    record Snap(Map<String, NpyArray> t, Map<String, String> meta) {
        float[] get(String k) {
            return t.get(k).asFloats();
        }
    }

    static Snap read(Path f) throws Exception {
        Safetensors.Contents c = Safetensors.read(f);
        return new Snap(c.tensors(), c.metadata());
    }

    /** exp_avg and exp_avg_sq of all ranks placed at their global offsets. */
    static float[][] moments(List<Snap> ranks, int total) {
        float[][] out = new float[2][total];
        int covered = 0;
        for (Snap s : ranks) {
            int lo = Integer.parseInt(s.meta().get("lo"));
            float[] m = s.get("exp_avg");
            System.arraycopy(m, 0, out[0], lo, m.length);
            System.arraycopy(s.get("exp_avg_sq"), 0, out[1], lo, m.length);
            covered += m.length;
        }
        assertEquals(total, covered, "the shards cover the vector");
        return out;
    }

    static void assertSame(Snap saved, Snap loaded, String what) {
        assertArrayEquals(saved.get("student"), loaded.get("student"), what + " student");
        assertArrayEquals(saved.get("teacher"), loaded.get("teacher"), what + " teacher");
        assertArrayEquals(saved.get("dino_center"), loaded.get("dino_center"), what + " dino center");
        assertEquals(
                saved.meta().get("optimizer_steps"), loaded.meta().get("optimizer_steps"), what + " optimizer steps");
    }

    @Test
    @Timeout(600)
    void checkpointOfThreeRanksLoadsOnTwoAndOnOneWithIdenticalState(@TempDir Path run) throws Exception {
        RankProcesses.run(3, Transport.IPC, 0, "save", run, 2, null);
        Path ckpt = ShardedCheckpoints.latest(run).orElseThrow();
        assertEquals("step-00000002", ckpt.getFileName().toString());
        assertTrue(Files.isRegularFile(ckpt.resolve("shard-00002-of-00003.safetensors")));
        try (var files = Files.list(run.resolve(ShardedCheckpoints.DIR))) {
            assertEquals(1, files.count(), "no temporary directory left behind");
        }
        List<Snap> saved = new ArrayList<>();
        for (int r = 0; r < 3; r++) {
            saved.add(read(run.resolve("snapshot-save-" + r + ".safetensors")));
        }
        int total = saved.get(0).get("student").length;
        float[][] savedMoments = moments(saved, total);

        // 3 → 2 rank JVMs (UDP, generation 1), which then train one more step
        RankProcesses.run(2, Transport.UDP, 1, "load", run, 0, null);
        List<Snap> two = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            Snap s = read(run.resolve("snapshot-load-2-" + r + ".safetensors"));
            assertEquals("2", s.meta().get("step"));
            assertEquals("3", s.meta().get("world_size"));
            assertSame(saved.get(0), s, "3 -> 2, rank " + r);
            two.add(s);
        }
        float[][] m2 = moments(two, total);
        assertArrayEquals(savedMoments[0], m2[0], "exp_avg 3 -> 2");
        assertArrayEquals(savedMoments[1], m2[1], "exp_avg_sq 3 -> 2");

        // 3 → 1 in this JVM (a world of one needs no transport)
        TrainSettings s = ShardedFixture.settings();
        try (Communicator alone =
                        Communicator.join(World.localIpc(1, "/unused", 1, 2), 0, CollectiveSettings.defaults());
                NDManager manager = NDManager.newBaseManager();
                SslMetaArch model = SslMetaArch.create(manager, s.ssl(), s.seed() + 99)) {
            ShardedTrainer t = new ShardedTrainer(model, alone, WireFormat.F32);
            ShardedCheckpoints.State st = ShardedCheckpoints.load(ckpt, t);
            assertEquals(2, st.step());
            Map<String, NpyArray> snap = ShardedRankMain.snapshot(t);
            Snap one = new Snap(
                    snap,
                    Map.of(
                            "lo",
                            "0",
                            "optimizer_steps",
                            Long.toString(t.optimizer().stepCount())));
            assertSame(saved.get(0), one, "3 -> 1");
            float[][] m1 = moments(List.of(one), total);
            assertArrayEquals(savedMoments[0], m1[0], "exp_avg 3 -> 1");
            assertArrayEquals(savedMoments[1], m1[1], "exp_avg_sq 3 -> 1");
        }
    }
}
