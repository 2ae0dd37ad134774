package dev.dinoj.trainer.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The vit*14 presets carry dinov2's configs/train/vitl14.yaml over ssl_default_config.yaml, key by key. */
class OfficialPresetsTest {

    static Config load(String preset, String... sets) {
        return TrainSettings.load(preset, List.of(sets)).config();
    }

    @Test
    void vitl14ShouldBeTheOfficialYaml() {
        Config c = load("vitl14");
        assertEquals("vit_large", c.getString("dinoj.model.arch"));
        assertEquals(14, c.getInt("dinoj.model.patch-size"));
        assertEquals(0.4, c.getDouble("dinoj.model.drop-path-rate"));
        assertEquals("swiglufused", c.getString("dinoj.model.ffn-layer"));
        assertEquals(131072, c.getInt("dinoj.dino.head-n-prototypes"));
        assertEquals(384, c.getInt("dinoj.dino.head-bottleneck-dim"));
        assertEquals(true, c.getBoolean("dinoj.ibot.separate-head"));
        assertEquals(131072, c.getInt("dinoj.ibot.head-n-prototypes"));
        assertEquals(256, c.getInt("dinoj.ibot.head-bottleneck-dim"), "ssl_default_config's");
        assertEquals(32, c.getInt("dinoj.train.batch-size"));
        assertEquals("sinkhorn_knopp", c.getString("dinoj.train.centering"));
        assertEquals(1250, c.getInt("dinoj.train.epoch-length"));
        assertEquals(0.994, c.getDouble("dinoj.teacher.momentum-teacher"));
        assertEquals(500, c.getInt("dinoj.optim.epochs"));
        assertEquals(0.2, c.getDouble("dinoj.optim.weight-decay-end"));
        assertEquals(2.0e-4, c.getDouble("dinoj.optim.base-lr"));
        assertEquals(80, c.getInt("dinoj.optim.warmup-epochs"));
        assertEquals(1.0, c.getDouble("dinoj.optim.layerwise-decay"));
        assertEquals(224, c.getInt("dinoj.crops.global-crops-size"));
        assertEquals(8, c.getInt("dinoj.crops.local-crops-number"));
        assertEquals(98, c.getInt("dinoj.crops.local-crops-size"));
        assertEquals(List.of(0.32, 1.0), c.getDoubleList("dinoj.crops.global-crops-scale"));
        assertEquals(List.of(0.05, 0.32), c.getDoubleList("dinoj.crops.local-crops-scale"));
    }

    @Test
    void vits14AndVitb14ShouldBeTheRecipeOnTheReleasedBackbones() {
        for (String[] p : new String[][] {{"vits14", "vit_small"}, {"vitb14", "vit_base"}}) {
            Config c = load(p[0], "train.batch-size=16");
            assertEquals(p[1], c.getString("dinoj.model.arch"), p[0]);
            assertEquals("mlp", c.getString("dinoj.model.ffn-layer"), p[0]);
            assertEquals(14, c.getInt("dinoj.model.patch-size"), p[0]);
            assertEquals(0.1, c.getDouble("dinoj.model.drop-path-rate"), p[0]);
            assertEquals(131072, c.getInt("dinoj.dino.head-n-prototypes"), p[0]);
            assertEquals(98, c.getInt("dinoj.crops.local-crops-size"), p[0]);
            assertEquals(16, c.getInt("dinoj.train.batch-size"), "--set over the preset");
        }
    }
}
