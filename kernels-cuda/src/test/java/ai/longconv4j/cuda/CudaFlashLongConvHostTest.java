// Shapes: L sequence length, N FFT size (a power of two, 32 .. 2^19), kN (C, H, N) the placed kernel.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.cuda.CudaFlashLongConv.BackwardRoute;
import ai.longconv4j.cuda.CudaFlashLongConv.Route;
import ai.longconv4j.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The tensor backend's long-convolution dispatch without a GPU (runs in CI): which FFT size the backend asks the library
 * to place the kernel at, and which path (cuFFT, FlashButterfly, cuFFT in F32) a conv of each dtype and length takes.
 * 16-bit tensors go to FlashButterfly at every N its plans take — one fused kernel up to 32K points, three passes up to
 * 2^19 (L = 256K causal) — and fall back to cuFFT in F32 only where no plan exists.
 */
class CudaFlashLongConvHostTest {

  @Test
  void theFusedOpTakesSixteenBitSingleChannelConvsWhereAPlanExists() {
    for (DType t : new DType[] {DType.BF16, DType.F16}) {
      assertTrue(CudaFlashLongConv.fusedApplies(t, ConvMode.CAUSAL, 1024, 1));
      assertTrue(CudaFlashLongConv.fusedApplies(t, ConvMode.BIDIRECTIONAL, 1000, 1));
      assertTrue(CudaFlashLongConv.fusedApplies(t, ConvMode.CIRCULAR, 256, 1));
      assertTrue(CudaFlashLongConv.fusedApplies(t, ConvMode.CAUSAL, 262144, 1), "three-pass sizes too");
      assertEquals(false, CudaFlashLongConv.fusedApplies(t, ConvMode.CAUSAL, 1024, 2), "C > 1: the composition");
      assertEquals(false, CudaFlashLongConv.fusedApplies(t, ConvMode.CIRCULAR, 1000, 1), "circular L not a power of two: cuFFT");
      assertEquals(false, CudaFlashLongConv.fusedApplies(t, ConvMode.CAUSAL, 262145, 1), "beyond the largest plan");
    }
    for (DType t : new DType[] {DType.F32, DType.F64})
      assertEquals(false, CudaFlashLongConv.fusedApplies(t, ConvMode.CAUSAL, 1024, 1), t + ": cuFFT, composed");
  }

  @Test
  void sixteenBitConvsUseFlashButterflyUpToTheLargestPlan() {
    for (DType t : new DType[] {DType.BF16, DType.F16}) {
      // one pass (N <= 32K), then three passes: L = 32K -> N = 64K, 64K + 1 -> 256K, 256K -> 2^19
      int[][] causal = {{1, 32}, {100, 256}, {8192, 16384}, {9000, 32768}, {16384, 32768}, {32768, 65536},
          {65537, 262144}, {262144, 524288}};
      for (int[] c : causal) {
        assertEquals(c[1], CudaFlashLongConv.fftSize(ConvMode.CAUSAL, c[0], t), "causal L=" + c[0] + " " + t);
        assertEquals(Route.FLASH_BUTTERFLY, CudaFlashLongConv.route(t, ConvMode.CAUSAL, c[0], c[1]), "causal L=" + c[0]);
      }
      assertEquals(65536, CudaFlashLongConv.fftSize(ConvMode.BIDIRECTIONAL, 32768, t));
      assertEquals(524288, CudaFlashLongConv.fftSize(ConvMode.BIDIRECTIONAL, 262144, t));
      assertEquals(65536, CudaFlashLongConv.fftSize(ConvMode.CIRCULAR, 65536, t));
      assertEquals(Route.FLASH_BUTTERFLY, CudaFlashLongConv.route(t, ConvMode.CIRCULAR, 65536, 65536));
      // beyond the largest plan, or no plan for the mode: -1, and the cuFFT F32 fallback
      assertEquals(-1, CudaFlashLongConv.fftSize(ConvMode.CAUSAL, 262145, t), "N would be 2^20");
      assertEquals(-1, CudaFlashLongConv.fftSize(ConvMode.BIDIRECTIONAL, 262145, t));
      assertEquals(-1, CudaFlashLongConv.fftSize(ConvMode.CIRCULAR, 100, t), "circular needs a power of two");
      assertEquals(-1, CudaFlashLongConv.fftSize(ConvMode.CIRCULAR, 16, t), "circular below 32 points");
      assertEquals(Route.CUFFT_F32, CudaFlashLongConv.route(t, ConvMode.CAUSAL, 262145, 524290));
      assertEquals(Route.CUFFT_F32, CudaFlashLongConv.route(t, ConvMode.CIRCULAR, 100, 100));
      // a kernel placed at another N (e.g. by a caller that did not ask the backend) is not FlashButterfly's layout
      assertEquals(Route.CUFFT_F32, CudaFlashLongConv.route(t, ConvMode.CAUSAL, 32768, 65534));
    }
  }

  /** The backward's route: fused one pass to N = 32K, the three-pass tensor-core backward beyond (the switch: the twin). */
  @Test
  void sixteenBitBackwardUsesTheFusedKernelsAtEverySize() {
    for (DType t : new DType[] {DType.BF16, DType.F16}) {
      int[][] causal = {{100, 256}, {16384, 32768}, {16385, 65536}, {32768, 65536}, {40000, 131072}, {262144, 524288}};
      for (int[] c : causal) {
        var want = c[1] <= 32768 ? BackwardRoute.FUSED_ONE_PASS : BackwardRoute.FUSED_THREE_PASS;
        assertEquals(want, CudaFlashLongConv.backwardRoute(t, ConvMode.CAUSAL, c[0], c[1], true), "causal L=" + c[0]);
        var off = c[1] <= 32768 ? BackwardRoute.FUSED_ONE_PASS : BackwardRoute.TWIN;
        assertEquals(off, CudaFlashLongConv.backwardRoute(t, ConvMode.CAUSAL, c[0], c[1], false), "switch off, L=" + c[0]);
      }
      assertEquals(BackwardRoute.FUSED_THREE_PASS, CudaFlashLongConv.backwardRoute(t, ConvMode.BIDIRECTIONAL, 40000, 131072, true));
      assertEquals(BackwardRoute.FUSED_THREE_PASS, CudaFlashLongConv.backwardRoute(t, ConvMode.CIRCULAR, 65536, 65536, true));
      assertEquals(BackwardRoute.CUFFT, CudaFlashLongConv.backwardRoute(t, ConvMode.CAUSAL, 262145, 524290, true));
      assertEquals(BackwardRoute.CUFFT, CudaFlashLongConv.backwardRoute(t, ConvMode.CAUSAL, 32768, 65534, true));
    }
    assertEquals(BackwardRoute.CUFFT, CudaFlashLongConv.backwardRoute(DType.F32, ConvMode.CAUSAL, 40000, 131072, true));
    assertTrue(CudaFlashLongConv.THREE_PASS_BACKWARD, "the three-pass backward is the default");
  }

  /** ThreePass.chunks: all channels and balanced pairs while a pair fits the budget, else one pair and balanced channels. */
  @Test
  void threePassChunksStayWithinTheBudget() {
    long row = 4L * 65536;   // one (pair, channel) row of 16-bit scratch at N = 64K
    assertArrayEquals(new int[] {16, 768}, ThreePass.chunks(16, 768, row, 8L << 30));
    assertArrayEquals(new int[] {8, 768}, ThreePass.chunks(16, 768, row, 2L << 30));   // 10 fit: two chunks of 8
    assertArrayEquals(new int[] {2, 768}, ThreePass.chunks(16, 768, row, 512L << 20));
    assertArrayEquals(new int[] {1, 256}, ThreePass.chunks(2, 768, 4L * 524288, 512L << 20));   // L = 256K: 3 x 256 channels
    assertArrayEquals(new int[] {1, 1}, ThreePass.chunks(3, 5, row, 1));
    for (int pairs : new int[] {1, 3, 16, 17})
      for (long budget : new long[] {row, 3 * row, 100 * row, 5000 * row, 1L << 40}) {
        int[] c = ThreePass.chunks(pairs, 111, row, budget);
        assertTrue(c[0] >= 1 && c[0] <= pairs && c[1] >= 1 && c[1] <= 111, pairs + " " + budget);
        assertTrue((long) c[0] * c[1] * row <= Math.max(budget, row), "over budget: " + pairs + " " + budget);
        assertTrue(c[1] == 111 || c[0] == 1, "channels are chunked only at one pair");
      }
  }

  /**
   * DevicePointer.at composes (ThreePass shifts the backend's already shifted taps pointer of kernel channel c by each
   * channel chunk; bench-runs/fb3-2: with at() doubling the first shift, channel 1 of a C = 2 conv came out wrong).
   */
  @Test
  void devicePointerShiftsAdd() {
    var p = new DevicePointer();
    assertEquals(p.address() + 24, p.at(8).at(16).address());
    assertEquals(p.address() + 8, p.at(8).at(0).address());
    assertEquals(p.at(40).address(), p.at(8).at(16).at(16).address());
  }

  @Test
  void wideTypesAlwaysUseCuFft() {
    for (DType t : new DType[] {DType.F32, DType.F64}) {
      assertEquals(-1, CudaFlashLongConv.fftSize(ConvMode.CAUSAL, 1024, t));
      assertEquals(Route.CUFFT, CudaFlashLongConv.route(t, ConvMode.CAUSAL, 1024, 2048));
      assertEquals(Route.CUFFT, CudaFlashLongConv.route(t, ConvMode.CAUSAL, 1024, 4096));
    }
  }

  /** CI (no GPU): the fused backward kernels are built for sm_80 and sm_90a without spills. */
  @Test
  void fusedBackwardKernelsDoNotSpill() throws IOException {
    Path report = Path.of("target", "cuda", "flashbutterfly_bwd.ptxas.txt");
    assumeTrue(Files.exists(report), "built without nvcc: no report");
    var spills = KernelResourceReportTest.parse(Files.readString(report));
    for (String kname : new String[] {"fb_bwd_bf16_bf16", "fb_bwd_f16_f16", "fb_bwd_bf16_bf16_s16", "fb_bwd_f16_f16_s16",
        "fb_bwd_f32_bf16", "fb_bwd_f32_f16", "fb_bwd_f32_bf16_s16", "fb_bwd_f32_f16_s16", "fb_bwd_bf16_bf16_s16_zg",
        "fb_bwd_f16_f16_s16_zg", "fb_bwd_f32_bf16_s16_zg", "fb_bwd_f32_f16_s16_zg", "fb_bwd_dk_finish",
        "fb_bwd_dk_finish_global"})
      for (String arch : new String[] {"sm_80", "sm_90a"})
        assertEquals("0,0", spills.get(kname + "@" + arch), kname + "@" + arch + " spills (stores,loads bytes), or is missing");
    assertTrue(CudaModule.packaged("flashbutterfly_bwd"), "flashbutterfly_bwd.fatbin missing from the classpath");
  }
}
