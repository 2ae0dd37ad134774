package dev.dinoj.pipeline.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

class TorchScriptModuleTest {

    private static final String METHODS = "  def affine(self, x: Tensor, w: Tensor) -> Tensor:\n"
            + "    return torch.add(torch.matmul(x, w), 1.0)\n"
            + "  def bf16_mm(self, a: Tensor, b: Tensor) -> Tensor:\n"
            + "    return torch.to(torch.matmul(torch.to(a, 15), torch.to(b, 15)), 6)\n"
            + "  def pair(self, a: Tensor) -> Tuple[Tensor, Tensor]:\n"
            + "    return (torch.neg(a), torch.mul(a, 2.0))\n";

    @Test
    void compilesAndCallsMethodsOnDjlArrays() {
        try (TorchScriptModule m = TorchScriptModule.compile("T1", METHODS, Device.cpu());
                NDManager nd = NDManager.newBaseManager(Device.cpu())) {
            NDArray x = nd.create(new float[] {1, 2, 3, 4}, new Shape(2, 2));
            NDArray w = nd.create(new float[] {1, 0, 0, 1}, new Shape(2, 2));
            x.setName("in.put"); // a dotted name would otherwise be read as a dict input
            NDArray y = m.call1("affine", false, x, w);
            assertArrayEquals(new float[] {2, 3, 4, 5}, y.toFloatArray());
            assertEquals("in.put", x.getName());
            NDList two = m.call("pair", false, x);
            assertEquals(2, two.size());
            assertArrayEquals(new float[] {-1, -2, -3, -4}, two.get(0).toFloatArray());
            assertArrayEquals(new float[] {2, 4, 6, 8}, two.get(1).toFloatArray());
        }
    }

    @Test
    void bfloat16ProductIsCloseToFloat32AndDifferentiable() {
        try (TorchScriptModule m = TorchScriptModule.compile("T2", METHODS, Device.cpu());
                NDManager nd = NDManager.newBaseManager(Device.cpu())) {
            NDArray a = nd.randomUniform(-1, 1, new Shape(64, 96));
            NDArray b = nd.randomUniform(-1, 1, new Shape(96, 32));
            NDArray exact = a.matMul(b);
            NDArray approx = m.call1("bf16_mm", false, a, b);
            float err = exact.sub(approx).abs().max().getFloat();
            assertTrue(err > 0 && err < 0.15f, "bfloat16 product error " + err);
            a.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(m.call1("bf16_mm", true, a, b).sum());
            }
            // d(sum(a·b))/da = row sums of b, broadcast over a's rows
            NDArray expected = b.sum(new int[] {1}).reshape(1, 96).broadcast(new Shape(64, 96));
            float gerr = a.getGradient().sub(expected).abs().max().getFloat();
            assertTrue(gerr < 0.1f, "gradient error " + gerr);
        }
    }

    @Test
    void refusedSourceNamesTheModule() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> TorchScriptModule.compile(
                        "Bad", "  def f(self, x: Tensor) -> Tensor:\n    return nope(x)\n", Device.cpu()));
        assertTrue(e.getMessage().contains("Bad"), e.getMessage());
    }
}
