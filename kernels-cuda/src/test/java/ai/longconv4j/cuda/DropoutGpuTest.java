// Shapes: flat masks of n elements (n = 1, 37, 4107, 3M: more than one grid-stride pass); a (8, 512, 1024) tensor.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.backend.DropoutMasks;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * dropout.cu against its Java twin {@link DropoutMasks}: the device masks equal the host's bit for bit in every
 * dtype (the hash is integer arithmetic and the comparison u >= p is exact in double on both sides; the stored
 * value is scale rounded once to the dtype, as on the host), and Tensor.dropout on the GPU is reproducible per seed
 * with the expected keep rate.
 */
@Tag("gpu")
class DropoutGpuTest {
  @Test
  void deviceMasksEqualTheJavaTwinInEveryDtype() {
    Device dev = GpuCheck.device();
    CudaBackend be = (CudaBackend) GpuCheck.backend();
    for (DType t : DType.values()) {
      for (int n : new int[] {1, 37, 4107, 3_000_000}) {
        for (double p : new double[] {0.2, 0.7}) {
          long seed = 0x5EEDL * n + t.ordinal();
          var out = be.allocateUninitialized(dev, t, n);
          be.dropoutMask(out, n, seed, p, 1 / (1 - p));
          var host = out.toCpu();
          double[] got = host.f64() != null ? host.f64() : toDouble(host.f32());
          double[] want = new double[n];
          var m = DropoutMasks.mask(t == DType.F64 ? DType.F64 : DType.F32, n, seed, p, 1 / (1 - p));
          for (int i = 0; i < n; i++) want[i] = round(t, m.get(i));
          int bad = 0, first = -1;
          for (int i = 0; i < n; i++) if (got[i] != want[i]) { bad++; if (first < 0) first = i; }
          assertEquals(0, bad, t + " n " + n + " p " + p + ": " + bad + " mismatches, first at " + first
              + (first >= 0 ? " (gpu " + got[first] + ", twin " + want[first] + ")" : ""));
        }
      }
    }
  }

  @Test
  void tensorDropoutOnTheGpuIsReproducibleAndKeepsOneMinusP() {
    Device dev = GpuCheck.device();
    Tensor x = Tensor.zeros(DType.F32, 8, 512, 1024).add(1).to(dev);
    double[] a = x.dropout(0.2, Rng.seeded(11), true).toDoubleArray();
    assertArrayEquals(a, x.dropout(0.2, Rng.seeded(11), true).toDoubleArray(), 0);
    long kept = 0;
    for (double v : a) {
      assertTrue(v == 0 || v == (float) (1 / 0.8), "value " + v);
      if (v != 0) kept++;
    }
    // n = 4M, p = 0.2: sd = sqrt(n p (1 - p)) = 819; 6 sd
    assertEquals(0.8 * a.length, kept, 6 * 819, "kept");
  }

  static double[] toDouble(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) d[i] = f[i];
    return d;
  }

  /** The host value rounded to t the way the device stores it (16-bit: round-to-nearest-even of the float). */
  static double round(DType t, double v) {
    return switch (t) {
      case F64 -> v;
      case F32 -> (float) v;
      case BF16 -> HalfFloats.fromBf16(HalfFloats.toBf16((float) v));
      case F16 -> HalfFloats.fromF16(HalfFloats.toF16((float) v));
    };
  }
}
