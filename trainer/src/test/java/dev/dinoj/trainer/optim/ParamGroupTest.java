package dev.dinoj.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.trainer.config.SslConfig;
import dev.dinoj.trainer.train.SslMetaArch;
import dev.dinoj.trainer.verify.ReferenceVerifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Parameter groups against dinov2/utils/param_groups.py ({@code get_vit_lr_decay_rate} and the wd/last-layer rules). */
class ParamGroupTest {

    private static final int DEPTH = 12;
    private static final double DECAY = 0.9;
    private static final double PATCH_MULT = 0.2;

    /**
     * dinov2's {@code get_vit_lr_decay_rate(name, rate, num_layers, force_is_backbone=num_layers > 0)} with the name
     * of the submodule's own {@code named_parameters} (no {@code backbone.} prefix), transcribed line by line.
     */
    private static double officialDecay(String name, double rate, int numLayers) {
        boolean force = numLayers > 0;
        int layerId = numLayers + 1;
        if (name.startsWith("backbone") || force) {
            if (name.contains(".pos_embed")
                    || name.contains(".patch_embed")
                    || name.contains(".mask_token")
                    || name.contains(".cls_token")
                    || name.contains(".register_tokens")) {
                layerId = 0;
            } else if (force
                    && (name.contains("pos_embed")
                            || name.contains("patch_embed")
                            || name.contains("mask_token")
                            || name.contains("cls_token")
                            || name.contains("register_tokens"))) {
                layerId = 0;
            } else if (name.contains(".blocks.") && !name.contains(".residual.")) {
                layerId = Integer.parseInt(
                                name.substring(name.indexOf(".blocks.")).split("\\.")[2])
                        + 1;
            } else if (name.contains("blocks.") && !name.contains("residual.")) {
                layerId =
                        Integer.parseInt(name.substring(name.indexOf("blocks.")).split("\\.")[1]) + 1;
            }
        }
        return Math.pow(rate, numLayers + 1 - layerId);
    }

    private static final String[] BACKBONE = {
        "cls_token",
        "pos_embed",
        "register_tokens",
        "mask_token",
        "patch_embed.proj.weight",
        "patch_embed.proj.bias",
        "blocks.0.norm1.weight",
        "blocks.0.norm1.bias",
        "blocks.0.attn.qkv.weight",
        "blocks.0.attn.qkv.bias",
        "blocks.0.attn.proj.weight",
        "blocks.0.ls1.gamma",
        "blocks.0.mlp.fc1.weight",
        "blocks.0.mlp.fc1.bias",
        "blocks.3.mlp.w12.weight",
        "blocks.3.mlp.w3.bias",
        "blocks.10.attn.qkv.weight",
        "blocks.11.ls2.gamma",
        "blocks.11.norm2.weight",
        "norm.weight",
        "norm.bias"
    };

    @Test
    void backboneMultipliersFollowTheOfficialRules() {
        for (String local : BACKBONE) {
            ParamGroup g = ParamGroup.of("backbone", local, DEPTH, DECAY, PATCH_MULT);
            double lr = officialDecay(local, DECAY, DEPTH) * (local.contains("patch_embed") ? PATCH_MULT : 1.0);
            double wd = local.endsWith(".bias") || local.contains("norm") || local.contains("gamma") ? 0.0 : 1.0;
            assertEquals("backbone." + local, g.name());
            assertEquals("backbone", g.submodule());
            assertEquals(lr, g.lrMultiplier(), 1e-15, local);
            assertEquals(wd, g.wdMultiplier(), 0.0, local);
            assertFalse(g.isLastLayer(), local);
        }
    }

    @Test
    void knownBackboneValues() {
        double d13 = Math.pow(0.9, 13);
        assertEquals(
                d13,
                ParamGroup.of("backbone", "pos_embed", DEPTH, DECAY, PATCH_MULT).lrMultiplier(),
                1e-15);
        assertEquals(
                d13,
                ParamGroup.of("backbone", "cls_token", DEPTH, DECAY, PATCH_MULT).lrMultiplier(),
                1e-15);
        assertEquals(
                d13,
                ParamGroup.of("backbone", "mask_token", DEPTH, DECAY, PATCH_MULT)
                        .lrMultiplier(),
                1e-15);
        assertEquals(
                d13,
                ParamGroup.of("backbone", "register_tokens", DEPTH, DECAY, PATCH_MULT)
                        .lrMultiplier(),
                1e-15);
        assertEquals(
                d13 * 0.2,
                ParamGroup.of("backbone", "patch_embed.proj.weight", DEPTH, DECAY, PATCH_MULT)
                        .lrMultiplier(),
                1e-15);
        assertEquals(
                Math.pow(0.9, 12),
                ParamGroup.of("backbone", "blocks.0.attn.qkv.weight", DEPTH, DECAY, PATCH_MULT)
                        .lrMultiplier(),
                1e-15);
        assertEquals(
                Math.pow(0.9, 2),
                ParamGroup.of("backbone", "blocks.10.attn.qkv.weight", DEPTH, DECAY, PATCH_MULT)
                        .lrMultiplier(),
                1e-15);
        assertEquals(
                0.9,
                ParamGroup.of("backbone", "blocks.11.mlp.fc2.weight", DEPTH, DECAY, PATCH_MULT)
                        .lrMultiplier(),
                1e-15);
        assertEquals(
                1.0,
                ParamGroup.of("backbone", "norm.weight", DEPTH, DECAY, PATCH_MULT)
                        .lrMultiplier(),
                1e-15);
        // weight decay: pos_embed / tokens / weights decay, biases / norms / LayerScale do not
        assertEquals(
                1.0,
                ParamGroup.of("backbone", "pos_embed", DEPTH, DECAY, PATCH_MULT).wdMultiplier());
        assertEquals(
                1.0,
                ParamGroup.of("backbone", "blocks.2.attn.qkv.weight", DEPTH, DECAY, PATCH_MULT)
                        .wdMultiplier());
        assertEquals(
                0.0,
                ParamGroup.of("backbone", "blocks.2.attn.qkv.bias", DEPTH, DECAY, PATCH_MULT)
                        .wdMultiplier());
        assertEquals(
                0.0,
                ParamGroup.of("backbone", "blocks.2.norm1.weight", DEPTH, DECAY, PATCH_MULT)
                        .wdMultiplier());
        assertEquals(
                0.0,
                ParamGroup.of("backbone", "blocks.2.ls1.gamma", DEPTH, DECAY, PATCH_MULT)
                        .wdMultiplier());
        assertEquals(
                0.0,
                ParamGroup.of("backbone", "patch_embed.proj.bias", DEPTH, DECAY, PATCH_MULT)
                        .wdMultiplier());
    }

    @Test
    void headsHaveNoLayerDecayAndTheLastLayerIsFlagged() {
        for (String local :
                new String[] {"mlp.0.weight", "mlp.0.bias", "mlp.4.weight", "last_layer.weight_g", "last_layer.weight_v"
                }) {
            ParamGroup g = ParamGroup.of("dino_head", local, 0, DECAY, PATCH_MULT);
            assertEquals(1.0, g.lrMultiplier(), 0.0, local);
            assertEquals(officialDecay(local, DECAY, 0), g.lrMultiplier(), 0.0, local);
            assertEquals(local.endsWith(".bias") ? 0.0 : 1.0, g.wdMultiplier(), 0.0, local);
            assertEquals(local.startsWith("last_layer"), g.isLastLayer(), local);
            assertEquals("dino_head", g.submodule());
        }
        assertTrue(ParamGroup.of("ibot_head", "last_layer.weight_v", 0, DECAY, PATCH_MULT)
                .isLastLayer());
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "b"})
    void paramGroupsOfTheFixtureModelsMatchTheOfficialOnes(String variant) throws Exception {
        Path manifest = Path.of(getClass()
                .getResource("/fixtures/dinov2-step/" + variant + "/manifest.json")
                .toURI());
        JsonNode m = new ObjectMapper().readTree(manifest.toFile());
        SslConfig cfg = ReferenceVerifier.configFrom(m);
        JsonNode ref = m.get("param_groups");
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = ref.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        List<ParamGroup> groups = SslMetaArch.paramGroups(cfg, names);
        assertEquals(names.size(), groups.size());
        for (ParamGroup g : groups) {
            JsonNode r = ref.get(g.name());
            assertEquals(r.get("lr_multiplier").asDouble(), g.lrMultiplier(), 1e-12, g.name());
            assertEquals(r.get("wd_multiplier").asDouble(), g.wdMultiplier(), 0.0, g.name());
            assertEquals(r.get("is_last_layer").asBoolean(), g.isLastLayer(), g.name());
        }
    }
}
