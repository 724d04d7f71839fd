// Shapes: logits (N, V): (8192, 65) (the LM's), (37, 1000), (5, 3), (33, 1); targets (N) with ignored rows.
package ai.longconv4j.cuda;

import static ai.longconv4j.cuda.GpuCheck.close;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * xent.cu's fused cross-entropy against the composed CPU path (log-softmax, one-hot, mean), outputs poisoned with NaN
 * first ({@link GpuCheck#device}). Tolerances: F64 1e-12 (double on both sides, another summation order); F32 1e-5
 * (the kernel keeps the row statistics and the mean in double, the composed CPU path rounds each of its ~9 ops to float).
 */
@Tag("gpu")
class CrossEntropyGpuTest {
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "F64"})
  void fusedCrossEntropyMatchesTheComposedCpuPath(DType t) {
    Device dev = GpuCheck.device();
    double tol = t == DType.F64 ? 1e-12 : 1e-5;
    int[][] shapes = {{8192, 65}, {37, 1000}, {5, 3}, {33, 1}};
    for (int[] s : shapes) {
      int n = s[0], v = s[1];
      var r = new SplittableRandom(n + v);
      int[] tg = new int[n];
      for (int i = 0; i < n; i++) tg[i] = r.nextInt(7) == 0 ? -100 : r.nextInt(v);
      Tensor x = Tensor.randn(Rng.seeded(n), t, n, v).mul(2);
      Tensor xc = x.detach().requiresGrad(true), xg = x.to(dev).detach().requiresGrad(true);
      Tensor lc = xc.crossEntropy(tg, -100), lg = xg.crossEntropy(tg, -100);
      assertEquals("crossEntropy", lg.gradFn(), "the fused op ran");
      String what = t + " " + n + "x" + v;
      close(what + " loss", lg, lc, tol);
      lc.mul(0.75).backward();
      lg.mul(0.75).backward();
      close(what + " gradient", xg.grad(), xc.grad(), tol);
    }
  }
}
