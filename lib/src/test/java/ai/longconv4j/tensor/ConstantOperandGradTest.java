// Shapes: x (3, 4) requiring grad, c (3, 4) / (4) constants.
package ai.longconv4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BinaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Binary and where rules compute only the gradients their inputs need: with a constant operand (a mask, a detached
 * max) the other operand's gradient is unchanged and the constant's costs no ops. The ops a rule runs are seen
 * through {@link OpObserver} (rules run their ops under no-grad, which the observer still sees).
 */
class ConstantOperandGradTest {
  /** Runs sum(f(x, c)) backward, returns x's gradient and the names of the ops the rules ran. */
  static List<String> backwardOps(BinaryOperator<Tensor> f, Tensor x, Tensor c, double[][] gradOut) {
    Tensor y = f.apply(x, c).sum();
    List<String> ops = new ArrayList<>();
    var prev = OpObserver.install(new OpObserver() {
      @Override public void onForward(String name, Tensor out, Tensor[] inputs) { ops.add(name); }
      @Override public void onBackward(String name, Tensor gradOut, Tensor[] inputs) { }
    });
    try {
      y.backward();
    } finally {
      OpObserver.install(prev);
    }
    gradOut[0] = x.grad().toDoubleArray();
    return ops;
  }

  @Test
  void aConstantOperandGetsNoGradientOps() {
    Tensor c = Tensor.randn(Rng.seeded(2), DType.F64, 3, 4).abs().add(0.5);
    record Case(String name, BinaryOperator<Tensor> f, BinaryOperator<Tensor> wantGrad, int opsBoth, int opsConst) {}
    var cases = List.of(
        new Case("mul", Tensor::mul, (x, k) -> k, 2, 1),
        new Case("sub", (x, k) -> k.sub(x), (x, k) -> Tensor.full(-1, DType.F64, 3, 4), 1, 1),
        new Case("div", Tensor::div, (x, k) -> k.pow(-1), 5, 1));
    for (Case cs : cases) {
      Tensor x = Tensor.randn(Rng.seeded(1), DType.F64, 3, 4);
      double[][] g = new double[1][];
      Tensor xc = x.detach().requiresGrad(true), kc = c.detach().requiresGrad(true);
      int both = backwardOps(cs.f(), xc, kc, g).size();
      double[] gBoth = g[0];
      Tensor xk = x.detach().requiresGrad(true), kk = c.detach();
      List<String> one = backwardOps(cs.f(), xk, kk, g);
      assertArrayEquals(gBoth, g[0], 1e-15, cs.name() + ": x's gradient does not depend on whether c needs one");
      assertArrayEquals(cs.wantGrad().apply(x, c).toDoubleArray(), g[0], 1e-12, cs.name() + " gradient");
      assertNull(kk.grad());
      assertEquals(cs.opsConst(), one.size() - (both - cs.opsBoth()), cs.name() + ": ops with a constant operand " + one);
    }
  }

  /** Storages the backward of sum(where(mask, x, b)) creates on the simulated device (counted by a scope). */
  static int whereBackwardStorages(boolean bNeedsGrad) {
    Device dev = ai.longconv4j.backend.SimulatedDeviceBackend.DEVICE;
    Tensor x = Tensor.randn(Rng.seeded(3), DType.F64, 3, 4).to(dev).detach().requiresGrad(true);
    Tensor mask = Tensor.randn(Rng.seeded(4), DType.F64, 3, 4).sign().add(1).to(dev);   // 0 or 2
    Tensor b = Tensor.zeros(DType.F64, 3, 4).to(dev).detach().requiresGrad(bNeedsGrad);
    Tensor y = Tensor.where(mask, x, b).sum();
    try (var scope = ai.longconv4j.backend.StorageScope.open()) {
      y.backward(Tensor.ones(DType.F64).to(dev));
      assertArrayEquals(mask.sign().toDoubleArray(), x.grad().toDoubleArray(), 1e-15);
      return scope.size();
    }
  }

  @Test
  void whereWithAConstantBranchSelectsOnce() {
    // b needing a gradient costs its select and its leaf-gradient copy
    assertEquals(whereBackwardStorages(true) - 2, whereBackwardStorages(false), "no select for the constant branch");
  }
}
