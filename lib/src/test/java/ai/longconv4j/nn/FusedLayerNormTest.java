// Shapes: x (2, 3, 7), (3, 5, 37), (4, 1) (D = 1), (64, 33); weight, bias (D).
package ai.longconv4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.backend.SimulatedDeviceBackend;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import ai.longconv4j.testing.GradCheck;
import org.junit.jupiter.api.Test;

/**
 * The fused LayerNorm (a device op: {@code Backend.layerNorm} / {@code layerNormBackward}, here the simulated
 * device's Java twin of norm.cu) against the composed LayerNorm on the CPU (its slow twin): outputs and all three
 * gradients, in F64 to 1e-12 (the same math in double; the fused side sums each row in one pass, the composed one
 * through its tensor ops). A central-difference gradient check through the fused op, with a negative control.
 */
class FusedLayerNormTest {
  static final Device DEV = SimulatedDeviceBackend.DEVICE;
  static final double EPS = 1e-5;

  static void compare(int[] shape, boolean affine, long seed) {
    int d = shape[shape.length - 1];
    Tensor x = Tensor.randn(Rng.seeded(seed), DType.F64, shape).mul(3).add(0.5);
    Tensor w = Tensor.randn(Rng.seeded(seed + 1), DType.F64, d), b = Tensor.randn(Rng.seeded(seed + 2), DType.F64, d);
    Tensor g = Tensor.randn(Rng.seeded(seed + 3), DType.F64, shape);
    Tensor[] cpu = {x.detach().requiresGrad(true), w.detach().requiresGrad(true), b.detach().requiresGrad(true)};
    Tensor[] dev = {x.to(DEV).detach().requiresGrad(true), w.to(DEV).detach().requiresGrad(true),
        b.to(DEV).detach().requiresGrad(true)};
    Tensor yc = LayerNorm.layerNorm(cpu[0], affine ? cpu[1] : null, affine ? cpu[2] : null, EPS);
    Tensor yd = LayerNorm.layerNorm(dev[0], affine ? dev[1] : null, affine ? dev[2] : null, EPS);
    assertEquals("layerNorm", yd.gradFn(), "the device takes the fused op");
    assertEquals(DEV, yd.device());
    String what = java.util.Arrays.toString(shape) + (affine ? " affine" : " plain");
    assertArrayEquals(yc.toDoubleArray(), yd.toDoubleArray(), 1e-12, what + " forward");
    yc.backward(g);
    yd.backward(g.to(DEV));
    for (int i = 0; i < (affine ? 3 : 1); i++) {
      assertEquals(DEV, dev[i].grad().device());
      assertArrayEquals(cpu[i].grad().toDoubleArray(), dev[i].grad().toDoubleArray(), 1e-12, what + " grad " + i);
    }
    if (!affine) {
      assertNull(dev[1].grad(), "no weight: no weight gradient");
    }
  }

  @Test
  void fusedEqualsComposedForwardAndGradients() {
    compare(new int[] {2, 3, 7}, true, 1);
    compare(new int[] {3, 5, 37}, true, 2);
    compare(new int[] {3, 5, 37}, false, 3);
    compare(new int[] {4, 1}, true, 4);
    compare(new int[] {64, 33}, true, 5);
  }

  @Test
  void withoutAGraphTheSavedStatisticsAreReleasedAndTheOutputStands() {
    Tensor x = Tensor.randn(Rng.seeded(7), DType.F64, 5, 9), w = Tensor.randn(Rng.seeded(17), DType.F64, 9);
    Tensor y;
    try (var ng = Tensor.noGrad()) {
      y = LayerNorm.layerNorm(x.to(DEV), w.to(DEV).requiresGrad(true), null, EPS);
    }
    assertNull(y.gradFn());
    assertArrayEquals(LayerNorm.layerNorm(x, w, null, EPS).toDoubleArray(), y.toDoubleArray(), 1e-12);
  }

  @Test
  void composedBackwardEqualsTheFusedRule() {
    Tensor x = Tensor.randn(Rng.seeded(8), DType.F64, 6, 19), w = Tensor.randn(Rng.seeded(9), DType.F64, 19);
    Tensor g = Tensor.randn(Rng.seeded(10), DType.F64, 6, 19);
    Tensor xd = x.to(DEV).detach().requiresGrad(true), wd = w.to(DEV).detach().requiresGrad(true);
    LayerNorm.layerNorm(xd, wd, null, EPS).backward(g.to(DEV));
    Tensor[] slow = FusedLayerNorm.composedBackward(x, w, false, EPS, g);
    assertArrayEquals(slow[0].toDoubleArray(), xd.grad().toDoubleArray(), 1e-12, "dx");
    assertArrayEquals(slow[1].toDoubleArray(), wd.grad().toDoubleArray(), 1e-12, "dw");
    assertNull(slow[2]);
  }

  @Test
  void gradCheckThroughTheFusedOpWithNegativeControl() {
    Tensor x = Tensor.randn(Rng.seeded(11), DType.F64, 2, 3, 7), w = Tensor.randn(Rng.seeded(12), DType.F64, 7);
    Tensor b = Tensor.randn(Rng.seeded(13), DType.F64, 7);
    GradCheck.assertGradients("fused layerNorm", in -> LayerNorm.layerNorm(in[0].to(DEV), in[1].to(DEV), in[2].to(DEV), EPS)
        .to(Device.CPU), x, w, b);
    // negative control: the fused forward with a rule that forgets the xhat term of dx must fail the same check
    var r = GradCheck.check(in -> {
      Tensor y = LayerNorm.layerNorm(in[0].to(DEV).detach(), null, null, EPS);
      return Tensor.op("wrong layerNorm", y.detach(), new Tensor[] {in[0]}, g -> {
        Tensor gc = g.to(Device.CPU);
        return new Tensor[] {gc.sub(gc.mean(2, true)).mul(FusedLayerNorm.composedBackward(in[0].detach(), null, false, EPS,
            Tensor.ones(DType.F64, 2, 3, 7))[0].mul(0).add(1))};
      }).to(Device.CPU);
    }, GradCheck.EPS, GradCheck.ATOL, GradCheck.RTOL, x);
    assertFalse(r.passed(), "a wrong LayerNorm gradient must fail the check: " + r);
  }

  @Test
  void composedBackwardIsDifferentiableOnTheDevice() {
    Tensor x = Tensor.randn(Rng.seeded(14), DType.F64, 3, 9).to(DEV).detach().requiresGrad(true);
    Tensor xc = Tensor.randn(Rng.seeded(14), DType.F64, 3, 9).detach().requiresGrad(true);
    Tensor w = Tensor.randn(Rng.seeded(15), DType.F64, 3, 9);
    // d/dx of sum((d/dx sum(y * w))^2): needs the gradient of the gradient
    Tensor[] g1 = {null}, g2 = {null};
    for (Tensor[] pair : new Tensor[][] {{x, w.to(DEV)}, {xc, w}}) {
      Tensor y = LayerNorm.layerNorm(pair[0], null, null, EPS);
      Tensor gy = pair[1].detach().requiresGrad(true);
      Tensor[] gx = FusedLayerNorm.composedBackward(pair[0], null, false, EPS, gy);
      gx[0].mul(gx[0]).sum().backward();
      (pair[0] == x ? g1 : g2)[0] = pair[0].grad();
      assertTrue(y.requiresGrad());
    }
    assertArrayEquals(g2[0].toDoubleArray(), g1[0].toDoubleArray(), 1e-12, "second derivative on the device equals the CPU's");
  }
}
