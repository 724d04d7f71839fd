// Shapes: N FFT size (one-pass plans); no tensors.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Runs without a GPU: which forward kernel family a one-pass tensor-core plan with pairStages() gets (OuterStages):
 * _w3 where monarch_outer.cuh pairs an outer stage at up to 768 threads (N = 512 - 2K, 8K), _w3b at N = 16K, 32K up to
 * 512 threads, else (N = 256, 4K, more threads, or outerStages(false)) the _w2 kernels.
 */
class OuterStagesHostTest {
  @Test
  void suffixFollowsTheFftSizeAndTheThreads() {
    for (int n : new int[] {512, 1024, 2048, 8192}) {
      assertEquals("_w3", OuterStages.suffix(n, 64, true), "N=" + n);
      assertEquals("_w3", OuterStages.suffix(n, 768, true), "N=" + n);
      assertEquals("_w2", OuterStages.suffix(n, 128, false), "N=" + n);
    }
    for (int n : new int[] {16384, 32768}) {
      assertEquals("_w3b", OuterStages.suffix(n, 512, true), "N=" + n);
      assertEquals("_w2", OuterStages.suffix(n, 768, true), "N=" + n + ": more threads than _w3b takes");
      assertEquals("_w2", OuterStages.suffix(n, 256, false), "N=" + n);
    }
    for (int n : new int[] {256, 4096}) assertEquals("_w2", OuterStages.suffix(n, 128, true), "N=" + n + ": nothing to pair");
  }

  @Test
  void onePassThreadsDefaultTo128At16KWithTheW3bKernels() {
    assertEquals(OuterStages.DEFAULT ? 128 : 256, OuterStages.threads(16384, Precision.BF16));
    assertEquals(FlashButterflyConv.defaultThreads(16384, Precision.FP32), OuterStages.threads(16384, Precision.FP32));
    for (int n : new int[] {512, 2048, 8192, 32768})
      assertEquals(FlashButterflyConv.defaultThreads(n, Precision.F16), OuterStages.threads(n, Precision.F16), "N=" + n);
  }

  @Test
  void pairsPerBlockIsCheckedAndDefaulted() {
    assertEquals(3, OuterStages.perBlock(2048, OuterStages.checkPerBlock(3)));
    assertEquals(OuterStages.DEFAULT_PER_BLOCK, OuterStages.perBlock(512, OuterStages.checkPerBlock(0)));
    assertEquals(1, OuterStages.perBlock(8192, 4), "N > 2K: one pair per block whatever is asked");
    var e = assertThrows(IllegalArgumentException.class, () -> OuterStages.checkPerBlock(-1));
    assertTrue(e.getMessage().contains("pairsPerBlock"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> OuterStages.checkPerBlock(256));
  }
}
