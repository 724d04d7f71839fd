// Shapes: none (the one-pass 64K route's host-side rules: N = 64K FFT size, M = 32K in-smem size, threads per block).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Runs without a GPU: which plans {@link FlashButterfly32} takes, its kernel names, threads and shared memory. */
class FlashButterfly32HostTest {
  @Test
  void appliesToCausalTensorCorePlansWithN64KOnly() {
    for (Precision p : new Precision[] {Precision.BF16, Precision.F16}) {
      assertTrue(FlashButterfly32.applies(ConvMode.CAUSAL, FlashButterflyConv.fftSize(ConvMode.CAUSAL, 32768), p));
      assertTrue(FlashButterfly32.applies(ConvMode.CAUSAL, FlashButterflyConv.fftSize(ConvMode.CAUSAL, 16385), p));
      assertTrue(FlashButterfly32.applies(ConvMode.CAUSAL, FlashButterflyConv.fftSize(ConvMode.CAUSAL, 20000), p));
      assertFalse(FlashButterfly32.applies(ConvMode.CAUSAL, FlashButterflyConv.fftSize(ConvMode.CAUSAL, 16384), p));
      assertFalse(FlashButterfly32.applies(ConvMode.CAUSAL, FlashButterflyConv.fftSize(ConvMode.CAUSAL, 32769), p));
      assertFalse(FlashButterfly32.applies(ConvMode.BIDIRECTIONAL, FlashButterflyConv.fftSize(ConvMode.BIDIRECTIONAL, 20000), p));
      assertFalse(FlashButterfly32.applies(ConvMode.CIRCULAR, FlashButterflyConv.fftSize(ConvMode.CIRCULAR, 65536), p));
    }
    assertFalse(FlashButterfly32.applies(ConvMode.CAUSAL, 65536, Precision.FP32), "fp32 planes of 32K do not fit");
    assertEquals(65536, FlashButterfly32.N);
    assertEquals(2 * FlashButterflyConv.MAX_N_ONE_PASS, FlashButterfly32.N);
  }

  @Test
  void threadsComeFromThePropertyWithinBounds() {
    assertEquals(FlashButterfly32.DEFAULT_THREADS, FlashButterfly32.threadsFrom(null));
    assertEquals(FlashButterfly32.DEFAULT_THREADS, FlashButterfly32.threadsFrom(" "));
    assertEquals(256, FlashButterfly32.threadsFrom("256"));
    assertEquals(512, FlashButterfly32.threadsFrom(" 512 "));
    for (String bad : new String[] {"768", "0", "100", "abc", "-32"}) {
      var e = assertThrows(IllegalArgumentException.class, () -> FlashButterfly32.threadsFrom(bad));
      assertTrue(e.getMessage().contains("FlashButterfly32"), e.getMessage());
    }
  }

  /** The variant: W3 by default from sm_90 on; "w3a" and "old" (any case, spaces) select the others; sm_80 runs OLD. */
  @Test
  void variantFromThePropertyAndTheDevice() {
    assertEquals(FlashButterfly32.Variant.W3, FlashButterfly32.variantFrom(null, 90));
    assertEquals(FlashButterfly32.Variant.W3, FlashButterfly32.variantFrom(" W3 ", 100));
    assertEquals(FlashButterfly32.Variant.W3A, FlashButterfly32.variantFrom("w3a", 90));
    assertEquals(FlashButterfly32.Variant.OLD, FlashButterfly32.variantFrom(" OLD", 90));
    for (String v : new String[] {null, "w3", "w3a", "old"})
      assertEquals(FlashButterfly32.Variant.OLD, FlashButterfly32.variantFrom(v, 80), "sm_80: the column units spilled there");
    for (String bad : new String[] {"", "w2", "on", "off"}) {
      var e = assertThrows(IllegalArgumentException.class, () -> FlashButterfly32.variantFrom(bad, 90));
      assertTrue(e.getMessage().contains("FlashButterfly32") && e.getMessage().contains(".stages"), e.getMessage());
    }
  }

  @Test
  void kernelNamesAndSharedMemory() {
    assertEquals("fb32_fwd_bf16_bf16", FlashButterfly32.kernelName(ElementType.BF16, Precision.BF16, false));
    assertEquals("fb32_fwd_f32_f16", FlashButterfly32.kernelName(ElementType.F32, Precision.F16, false));
    assertEquals("fb32_fwd_bf16_bf16_w3", FlashButterfly32.kernelName(ElementType.BF16, Precision.BF16, true));
    assertEquals("fb32_fwd_f16_f16_w3", FlashButterfly32.kernelName(ElementType.F16, Precision.F16, true));
    // 2 x (32768 + 1024) 16-bit values, the twiddle table (128 + 256 float2), the per-lane table (16 x 32 float2)
    assertEquals(2 * 33792 * 2 + 8 * 384 + 4096, FlashButterfly32.smemBytes());
    assertTrue(FlashButterfly32.smemBytes() <= 227 * 1024, "fits one H100/H200 block's opt-in shared memory");
  }
}
