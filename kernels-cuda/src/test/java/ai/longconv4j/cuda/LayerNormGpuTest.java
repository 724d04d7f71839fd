// Shapes: x (8, 1024, 512) (the LM's), (3, 37, 111), (4, 1) (D = 1), (5, 33), (2, 4099); weight, bias (D).
package ai.longconv4j.cuda;

import static ai.longconv4j.cuda.GpuCheck.close;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.longconv4j.nn.LayerNorm;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * norm.cu's fused LayerNorm (forward, dx, dw/db through the split column sums) against the composed LayerNorm on the
 * CPU, outputs poisoned with NaN first ({@link GpuCheck#device}). Tolerances: F64 1e-12 (double on both sides, other
 * summation order); F32 1e-5 (the kernel keeps row statistics in double, the composed CPU path rounds every op to
 * float: a few ulps of error through ~10 ops); BF16 2e-2 against the CPU in F32 on the same bf16-rounded inputs (8-bit
 * mantissa of the output).
 */
@Tag("gpu")
class LayerNormGpuTest {
  static final int[][] SHAPES = {{8, 1024, 512}, {3, 37, 111}, {4, 1}, {5, 33}, {2, 4099}};

  static void compare(DType t, int[] shape, boolean affine, double tol) {
    Device dev = GpuCheck.device();
    int d = shape[shape.length - 1];
    long seed = shape.length * 100L + d;
    Tensor x = Tensor.randn(Rng.seeded(seed), t, shape).mul(2).add(0.3);
    Tensor w = Tensor.randn(Rng.seeded(seed + 1), t, d), b = Tensor.randn(Rng.seeded(seed + 2), t, d);
    Tensor g = Tensor.randn(Rng.seeded(seed + 3), t, shape);
    Tensor[] cpu = {x.detach().requiresGrad(true), w.detach().requiresGrad(true), b.detach().requiresGrad(true)};
    Tensor[] gpu = {x.to(dev).detach().requiresGrad(true), w.to(dev).detach().requiresGrad(true),
        b.to(dev).detach().requiresGrad(true)};
    Tensor yc = LayerNorm.layerNorm(cpu[0], affine ? cpu[1] : null, affine ? cpu[2] : null, 1e-5);
    Tensor yg = LayerNorm.layerNorm(gpu[0], affine ? gpu[1] : null, affine ? gpu[2] : null, 1e-5);
    assertEquals("layerNorm", yg.gradFn(), "the fused op ran");
    String what = t + " " + java.util.Arrays.toString(shape) + (affine ? " affine" : "");
    close(what + " forward", yg, yc, tol);
    yc.backward(g);
    yg.backward(g.to(dev));
    for (int i = 0; i < (affine ? 3 : 1); i++) close(what + " grad " + i, gpu[i].grad(), cpu[i].grad(), tol);
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "F64"})
  void fusedLayerNormMatchesTheComposedCpuPath(DType t) {
    for (int[] s : SHAPES) {
      compare(t, s, true, t == DType.F64 ? 1e-12 : 1e-5);
      compare(t, s, false, t == DType.F64 ? 1e-12 : 1e-5);
    }
  }

  @Test
  void bf16AgainstTheCpuOnRoundedInputs() {
    Device dev = GpuCheck.device();
    int[] shape = {3, 37, 111};
    Tensor x = Tensor.randn(Rng.seeded(5), DType.F32, shape).to(dev).to(DType.BF16).to(DType.F32).to(Device.CPU);
    Tensor w = Tensor.randn(Rng.seeded(6), DType.F32, 111).to(dev).to(DType.BF16).to(DType.F32).to(Device.CPU);
    Tensor yc = LayerNorm.layerNorm(x, w, null, 1e-5);
    Tensor yg = LayerNorm.layerNorm(x.to(dev).to(DType.BF16), w.to(dev).to(DType.BF16), null, 1e-5);
    close("bf16 forward", yg.to(DType.F32), yc, 2e-2);
  }
}
