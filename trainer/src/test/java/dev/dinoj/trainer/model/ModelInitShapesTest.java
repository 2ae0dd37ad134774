package dev.dinoj.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link ModelInit#backboneShapes} lists exactly what {@link ModelInit#backbone} creates, in the same order. */
class ModelInitShapesTest {

    @Test
    void shapesAreThoseOfTheInitialisedBackbone() {
        List<VitConfig> configs = List.of(
                VitConfig.preset("vit_pico", 16, 4),
                new VitConfig(42, 14, 48, 3, 3, 4.0, FfnType.SWIGLU, 4, 1e-5, false, true, false, 0, true, 0, true),
                new VitConfig(16, 4, 32, 1, 2, 2.5, FfnType.MLP, 2, 0, true, false, true, 0, true, 0.1, false));
        for (VitConfig c : configs) {
            Map<String, long[]> shapes = ModelInit.backboneShapes(c);
            try (NDManager m = NDManager.newBaseManager();
                    ParamSet p = new ParamSet(m)) {
                new ModelInit(0).backbone(p, "x.", c);
                List<String> names = new ArrayList<>();
                p.names().forEach(n -> names.add(n.substring(2)));
                assertEquals(names, new ArrayList<>(shapes.keySet()), c.toString());
                for (String n : names) {
                    assertArrayEquals(p.get("x." + n).getShape().getShape(), shapes.get(n), n);
                }
            }
        }
    }
}
