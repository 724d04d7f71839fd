// Shapes: B batch (3: the last FFT pair has one row), C kernel channels, H features (5, 3), L length (not a power of two
// where the mode allows), Lk kernel taps per side, N FFT size (32K one pass; 64K .. 2^19 three passes).
//   u (B, H, L), k (C, H, Lk) (bidirectional (C, H, 2, Lk)), D (C, H) -> y (B, C, H, L).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.conv.ConvOps;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Long 16-bit tensor convolutions through FlashButterfly (the one-pass 32K kernel and the three-pass plans, L up to 70K)
 * against the CPU in F64 on the same rounded inputs: y, and the gradients of u, k and D.
 *
 * Bound 1e-2 relative (Frobenius): y and du pass through the bf16 tensor-core DFT blocks — each of the ~10 stages of the
 * one- or three-pass FFT and its inverse rounds its operands to bf16 (rms relative error 2^-8/sqrt(3) = 2.3e-3),
 * independent errors adding in quadrature: sqrt(10) * 2.3e-3 = 7.3e-3 — and are rounded to bf16 once more at the output
 * (measured <= 5.3e-3 in kernels-cuda/BENCH-RESULTS.md, ThreePassGpuTest). dk comes from the fused tensor-core backward
 * (one pass, and three passes since ThreePass.backward: 16-bit spectra, ~7.3e-3 by FlashButterflyBackwardGpuTest's and
 * ThreePassBackwardGpuTest's argument), dD from fp32 sums (~1e-6); both are then rounded to k's bf16 (2^-9). The outputs of the
 * tensor kernels are poisoned with NaN first (GpuCheck.device), so an element left unwritten fails.
 */
@Tag("gpu")
class LongFlashConvGpuTest {

  static Tensor randn(long seed, int... shape) { return Tensor.randn(Rng.seeded(seed), DType.F32, shape); }

  @ParameterizedTest(name = "{0} L={1} Lk={2} C={3} H={4} (N={5})")
  @CsvSource({
      "CAUSAL, 9000, 9000, 1, 5, 32768",          // one pass, 16-bit shared memory
      "CAUSAL, 32768, 32768, 2, 3, 65536",        // three passes, N1 = 8, M = 8K; two kernel channels
      "CAUSAL, 70000, 4000, 1, 3, 262144",        // three passes, N1 = 32, short kernel
      "BIDIRECTIONAL, 20000, 20000, 1, 3, 65536",
      "CIRCULAR, 65536, 65536, 1, 3, 65536"})
  void longSixteenBitConvUsesFlashButterflyAndMatchesTheCpuInF64(ConvMode mode, int l, int lk, int c, int h, int n) {
    Device dev = GpuCheck.device();
    CudaBackend be = (CudaBackend) GpuCheck.backend();
    assertEquals(n, be.fftSize(mode, l, DType.BF16), "the backend's FFT size");
    int b = 3;
    int[] kShape = mode.sides() == 2 ? new int[] {c, h, 2, lk} : new int[] {c, h, lk};
    double kScale = 1.0 / Math.sqrt(lk);   // keeps y of order 1 for any Lk
    Tensor u = randn(31, b, h, l).to(dev).to(DType.BF16), k = randn(32, kShape).mul(kScale).to(dev).to(DType.BF16),
        d = randn(33, c, h).to(dev).to(DType.BF16), w = randn(34, b, c, h, l).to(dev).to(DType.BF16);
    var gIn = List.of(u.requiresGrad(true), k.requiresGrad(true), d.requiresGrad(true));
    Tensor yg = ConvOps.conv(gIn.get(0), gIn.get(1), gIn.get(2), mode, ConvEngine.FFT);
    assertEquals(DType.BF16, yg.dtype());
    FlashButterflyConv plan = be.gpu(dev).flashPlan(h, l, CudaFlashLongConv.mode(mode), ElementType.BF16);
    assertTrue(plan != null && plan.fftSize() == n, "no FlashButterfly plan of N=" + n + " for " + mode + " L=" + l);
    assertEquals(n > FlashButterflyConv.MAX_N_ONE_PASS, plan.threePass(), plan.toString());
    GpuCheck.convMatchesTheCpu(mode + " bf16 L=" + l, mode, gIn, yg, w, DType.F64, 1e-2);
  }
}
