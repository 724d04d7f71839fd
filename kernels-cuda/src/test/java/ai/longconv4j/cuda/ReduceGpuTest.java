// Shapes: sums over one axis of (O, R, I) views chosen to hit every reduction path: R <= 32 (one thread per output),
// split columns (I >= 32: bias gradients (1, 8192, 512)), split rows (I < 32: whole sums, (7, 2049, 3)), unsplit rows
// (8192, 512); plus sums of squares into F64 slots and the global gradient norm.
package ai.longconv4j.cuda;

import static ai.longconv4j.cuda.GpuCheck.close;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.nn.Parameter;
import ai.longconv4j.optim.GradClip;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The split reductions of reduce.cu against the CPU (outputs poisoned with NaN first, see {@link GpuCheck#device}).
 * Tolerances: F64 1e-12 and F32 1e-6 relative (both sides accumulate in double; only the order of the additions
 * and, in F32, the final rounding differ); sums of squares 1e-12 for both (the F64 slot keeps the double sum); the
 * global norm 1e-6 in F32 (the CPU path squares and sums in F32).
 */
@Tag("gpu")
class ReduceGpuTest {
  static final int[][] SHAPES = {{1, 8192, 512}, {8, 1024, 512}, {1, 100_003, 1}, {3, 5000, 7}, {2, 33, 31},
      {1, 40, 33}, {5, 999, 1536}, {8192, 512, 1}, {7, 2049, 3}, {4, 20, 9}, {1, 70_000, 65}};

  static double tol(DType t) { return t == DType.F64 ? 1e-12 : 1e-6; }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "F64"})
  void sumsOverTheMiddleAxisMatchTheCpu(DType t) {
    Device dev = GpuCheck.device();
    for (int[] s : SHAPES) {
      Tensor x = Tensor.randn(Rng.seeded(s[1] + s[2]), t, s);
      String what = t + " sum " + java.util.Arrays.toString(s);
      close(what, x.to(dev).sum(1, true), x.sum(1, true), tol(t));
      // from an offset and through a non-contiguous view (made contiguous by the op first)
      Tensor v = Tensor.randn(Rng.seeded(7), t, s[0], s[1] + 1, s[2]).slice(1, 1, s[1] + 1);
      close(what + " sliced", v.to(dev).sum(1, false), v.sum(1, false), tol(t));
    }
    Tensor big = Tensor.randn(Rng.seeded(11), t, 8, 1024, 512);
    close(t + " sum all", big.to(dev).sum(), big.sum(), tol(t));
    close(t + " bias gradient", big.to(dev).sum(1, true).sum(0, true), big.sum(1, true).sum(0, true), tol(t));
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "F64"})
  void sumsOfSquaresAndTheGlobalNormMatchTheCpu(DType t) {
    Device dev = GpuCheck.device();
    int[] sizes = {1, 31, 33, 1000, 262_145, 786_432};
    var be = (CudaBackend) ai.longconv4j.backend.Backends.forDevice(dev);
    Tensor slots = Tensor.zeros(dev, DType.F64, sizes.length + 1);
    double[] want = new double[sizes.length + 1];
    List<Parameter> params = new ArrayList<>(), cpuParams = new ArrayList<>();
    for (int k = 0; k < sizes.length; k++) {
      Tensor x = Tensor.randn(Rng.seeded(40 + k), t, sizes[k] + 3);
      double[] xs = x.toDoubleArray();
      for (int i = 3; i < xs.length; i++) want[k] += xs[i] * xs[i];
      Tensor xg = x.to(dev);
      be.sumSquares(xg.storage(), 3, sizes[k], slots.storage(), k);
      Tensor g = x.slice(0, 3, sizes[k] + 3).contiguous();
      var pc = Parameter.of("p" + k, Tensor.zeros(t, sizes[k]));
      pc.value().setGrad(g);
      cpuParams.add(pc);
      var pg = Parameter.of("p" + k, Tensor.zeros(t, sizes[k]).to(dev));
      pg.value().setGrad(g.to(dev));
      params.add(pg);
    }
    close(t + " sums of squares", slots, Tensor.of(want, want.length), 1e-12);
    double nc = GradClip.clipGradNorm(cpuParams, 1.0), ng = GradClip.clipGradNorm(params, 1.0);
    assertTrue(Math.abs(nc - ng) <= (t == DType.F64 ? 1e-12 : 1e-6) * nc,   // the CPU path rounds F32 squares
        t + " global norm " + ng + " vs CPU " + nc);
    for (int k = 0; k < sizes.length; k++)
      close(t + " clipped grad " + k, params.get(k).grad(), cpuParams.get(k).grad(), tol(t));
  }
}
