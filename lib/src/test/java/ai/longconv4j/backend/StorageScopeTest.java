// Shapes: small vectors (5) and matrices (3, 4) on the simulated device.
package ai.longconv4j.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Storage;
import ai.longconv4j.tensor.Tensor;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Autograd gives the device memory of a backward pass's temporaries back at the end of the pass ({@link StorageScope}):
 * the leaves' gradients stay, a temporary a rule allocated is released (the simulated storage then throws on use),
 * nothing is released with a retained graph; scopes nest.
 */
class StorageScopeTest {
  static final Device DEV = SimulatedDeviceBackend.DEVICE;

  /** y = 2 x, whose rule allocates a temporary on the device and leaks it into {@code stash}. */
  static Tensor doubled(Tensor x, Tensor[] stash) {
    return Tensor.op("doubled", x.detach().mul(2), new Tensor[] {x}, g -> {
      stash[0] = g.mul(1.0);          // a temporary the pass made
      return new Tensor[] {stash[0].mul(2)};
    });
  }

  @Test
  void backwardReleasesTheRulesTemporariesAndKeepsLeafGradients() {
    Tensor x = Tensor.randn(Rng.seeded(1), DType.F64, 3, 4).to(DEV).detach().requiresGrad(true);
    Tensor[] stash = new Tensor[1];
    doubled(x, stash).mul(x).sum().backward();
    double[] want = x.mul(4).toDoubleArray();          // d/dx sum(2x * x) = 4x
    assertArrayEquals(want, x.grad().toDoubleArray(), 1e-12, "the leaf's gradient survives the pass");
    var e = assertThrows(IllegalStateException.class, stash[0]::toDoubleArray, "a temporary of the pass was released");
    assertTrue(e.getMessage().contains("after release"), e.getMessage());
  }

  @Test
  void aRetainedGraphReleasesNothing() {
    Tensor x = Tensor.randn(Rng.seeded(2), DType.F64, 5).to(DEV).detach().requiresGrad(true);
    Tensor[] stash = new Tensor[1];
    Tensor y = doubled(x, stash).sum();
    y.backward(Tensor.ones(DType.F64).to(DEV), true);
    assertEquals(5, stash[0].toDoubleArray().length, "kept: the graph may run again");
    y.backward(Tensor.ones(DType.F64).to(DEV), false);
    assertArrayEquals(Tensor.full(4, DType.F64, 5).toDoubleArray(), x.grad().toDoubleArray(), 1e-12, "accumulated twice");
  }

  @Test
  void scopesNestAndKeepByIdentity() {
    Storage a, b, c;
    try (var outer = StorageScope.open()) {
      a = Tensor.zeros(DEV, DType.F64, 2).storage();
      try (var inner = StorageScope.open()) {
        b = Tensor.zeros(DEV, DType.F64, 2).storage();
        assertEquals(1, inner.size());
      }                                                     // not released: handed to the outer scope
      c = Tensor.zeros(DEV, DType.F64, 2).storage();
      assertEquals(3, outer.size());
      assertEquals(2, outer.releaseAllExcept(Set.of(b)));
    }
    assertFalse(StorageScope.active());
    assertEquals(2, b.toCpu().length(), "kept");
    assertThrows(IllegalStateException.class, a::toCpu);
    assertThrows(IllegalStateException.class, c::toCpu);
    Tensor.zeros(DEV, DType.F64, 2);                        // no scope open: nothing collected, nothing fails
  }
}
