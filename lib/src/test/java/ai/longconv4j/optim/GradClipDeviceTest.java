// Shapes: gradients of assorted shapes (scalars to (37, 65)), as a model's parameters have.
package ai.longconv4j.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.backend.Backend;
import ai.longconv4j.backend.Backends;
import ai.longconv4j.backend.SimulatedDeviceBackend;
import ai.longconv4j.nn.Parameter;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The device path of {@link GradClip} (one {@link Backend#sumSquares} per gradient into F64 slots, one read) against
 * the CPU path, on the simulated device; and {@link Backend#sumSquares}' default (the composed slow twin).
 * Tolerance 1e-12 relative in F64 (the same squares, summed in another order).
 */
class GradClipDeviceTest {
  static final Device DEV = SimulatedDeviceBackend.DEVICE;
  static final int[][] SHAPES = {{1}, {37, 65}, {65}, {3, 1, 5}, {1000}};

  static List<Parameter> params(Device d, double scale) {
    List<Parameter> ps = new ArrayList<>();
    for (int i = 0; i < SHAPES.length; i++) {
      Tensor g = Tensor.randn(Rng.seeded(10 + i), DType.F64, SHAPES[i]).mul(scale);
      var p = Parameter.of("p" + i, Tensor.zeros(DType.F64, SHAPES[i]).to(d));
      p.value().setGrad(g.to(d));
      ps.add(p);
    }
    ps.add(Parameter.of("noGrad", Tensor.zeros(DType.F64, 4).to(d)));      // skipped: no gradient
    return ps;
  }

  @Test
  void deviceNormAndClippedGradsEqualTheCpus() {
    for (double scale : new double[] {0.001, 1.0}) {                        // below and above maxNorm
      var cpu = params(Device.CPU, scale);
      var dev = params(DEV, scale);
      double nc = GradClip.clipGradNorm(cpu, 1.0), nd = GradClip.clipGradNorm(dev, 1.0);
      assertEquals(nc, nd, 1e-12 * nc, "global norm at scale " + scale);
      for (int i = 0; i < SHAPES.length; i++) {
        assertEquals(DEV, dev.get(i).grad().device(), "clipped grad stays on the device");
        assertArrayEquals(cpu.get(i).grad().toDoubleArray(), dev.get(i).grad().toDoubleArray(), 1e-12, "grad " + i);
      }
    }
  }

  @Test
  void theFusedPathIsTakenOnlyWhenAllGradientsShareOneDevice() {
    assertTrue(Double.isNaN(GradClip.deviceSumOfSquares(params(Device.CPU, 1))), "CPU gradients: composed path");
    var mixed = params(DEV, 1);
    mixed.addAll(params(Device.CPU, 1));
    assertTrue(Double.isNaN(GradClip.deviceSumOfSquares(mixed)), "mixed devices: composed path");
    var ps = params(DEV, 1);
    double want = 0;
    for (Parameter p : ps) if (p.grad() != null) for (double v : p.grad().toDoubleArray()) want += v * v;
    assertEquals(want, GradClip.deviceSumOfSquares(ps), 1e-12 * want);
  }

  @Test
  void sumSquaresDefaultWritesItsSlotOnly() {
    Backend be = Backends.forDevice(DEV);
    Tensor x = Tensor.randn(Rng.seeded(3), DType.F64, 50).to(DEV);
    Tensor slots = Tensor.full(-7, DType.F64, 3).to(DEV);
    be.sumSquares(x.storage(), 10, 25, slots.storage(), 1);
    double want = 0;
    double[] xs = x.toDoubleArray();
    for (int i = 10; i < 35; i++) want += xs[i] * xs[i];
    double[] got = slots.toDoubleArray();
    assertEquals(-7, got[0]);
    assertEquals(want, got[1], 1e-12 * want);
    assertEquals(-7, got[2]);
    var e = assertThrows(IllegalArgumentException.class, () -> be.sumSquares(x.storage(), 0, 5, x.to(DType.F32).storage(), 0));
    assertTrue(e.getMessage().contains("sumSquares"), e.getMessage());
  }
}
