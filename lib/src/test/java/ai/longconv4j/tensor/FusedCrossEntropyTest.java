// Shapes: logits (N, V): (7, 5), (64, 65) (the LM's vocabulary), (3, 1000); targets (N), some ignored.
package ai.longconv4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.backend.SimulatedDeviceBackend;
import ai.longconv4j.testing.GradCheck;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The fused cross-entropy of a device backend (here the simulated device's Java twin of xent.cu) against the composed
 * path on the CPU (log-softmax, one-hot product, mean: the slow twin): loss and gradient in F64 to 1e-12 (the same
 * math in double, summed in another order); ignored rows; a gradient check through the device op with a negative
 * control; bad targets rejected before any kernel runs.
 */
class FusedCrossEntropyTest {
  static final Device DEV = SimulatedDeviceBackend.DEVICE;

  static int[] targets(int n, int v, long seed, int ignore) {
    var r = new SplittableRandom(seed);
    int[] t = new int[n];
    for (int i = 0; i < n; i++) t[i] = r.nextInt(5) == 0 ? ignore : r.nextInt(v);
    return t;
  }

  static void compare(int n, int v, int ignore, long seed) {
    Tensor x = Tensor.randn(Rng.seeded(seed), DType.F64, n, v).mul(3);
    int[] t = targets(n, v, seed, ignore);
    Tensor xc = x.detach().requiresGrad(true), xd = x.to(DEV).detach().requiresGrad(true);
    Tensor lc = xc.crossEntropy(t, ignore), ld = xd.crossEntropy(t, ignore);
    assertEquals("crossEntropy", ld.gradFn(), "the device takes the fused op");
    assertEquals(lc.item(), ld.item(), 1e-12 * Math.max(1, Math.abs(lc.item())), n + "x" + v + " loss");
    lc.mul(1.7).backward();
    ld.mul(1.7).backward();
    assertArrayEquals(xc.grad().toDoubleArray(), xd.grad().toDoubleArray(), 1e-12, n + "x" + v + " gradient");
  }

  @Test
  void fusedEqualsComposed() {
    compare(7, 5, -1, 1);
    compare(64, 65, -100, 2);
    compare(3, 1000, -1, 3);
  }

  @Test
  void allRowsIgnoredGiveZeroLossAndGradient() {
    Tensor x = Tensor.randn(Rng.seeded(4), DType.F64, 4, 6).to(DEV).detach().requiresGrad(true);
    Tensor l = x.crossEntropy(new int[] {-1, -1, -1, -1}, -1);
    assertEquals(0.0, l.item());
    l.backward();
    assertArrayEquals(new double[24], x.grad().toDoubleArray());
  }

  @Test
  void gradCheckThroughTheFusedOpWithNegativeControl() {
    Tensor x = Tensor.randn(Rng.seeded(5), DType.F64, 6, 4);
    int[] t = {0, 3, -1, 2, 1, 3};
    GradCheck.assertGradients("fused crossEntropy", in -> in[0].to(DEV).crossEntropy(t, -1).to(Device.CPU), x);
    int[] wrong = {1, 3, -1, 2, 1, 3};       // the rule differentiates another target in row 0: must fail
    var r = GradCheck.check(in -> {
      Tensor y = in[0].to(DEV).detach().crossEntropy(t, -1);
      Tensor xd = in[0].to(DEV).detach().requiresGrad(true);
      Tensor w = xd.crossEntropy(wrong, -1);
      return Tensor.op("wrong crossEntropy", y, new Tensor[] {in[0]}, g -> {
        w.backward(g.to(DEV));
        return new Tensor[] {xd.grad().to(Device.CPU)};
      }).to(Device.CPU);
    }, GradCheck.EPS, GradCheck.ATOL, GradCheck.RTOL, x);
    assertFalse(r.passed(), "a wrong cross-entropy gradient must fail the check: " + r);
  }

  @Test
  void badTargetsAreRejectedOnTheDeviceToo() {
    Tensor x = Tensor.randn(Rng.seeded(6), DType.F64, 3, 4).to(DEV);
    var e = assertThrows(IllegalArgumentException.class, () -> x.crossEntropy(new int[] {0, 4, 1}, -1));
    assertTrue(e.getMessage().contains("crossEntropy: target 4 at row 1"), e.getMessage());
  }
}
