// Shapes: none (the causal N = 512 - 2K route's host-side rules: N FFT size, launch shape, table and smem sizes).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Runs without a GPU: which plans {@link FlashButterfly2K} takes, its switch, launch shape and buffer sizes. */
class FlashButterfly2KHostTest {
  @Test
  void appliesToCausal16BitPlansUpTo2KOnSm90Only() {
    for (var io : new ElementType[] {ElementType.BF16, ElementType.F16}) {
      Precision p = io == ElementType.BF16 ? Precision.BF16 : Precision.F16;
      for (int L : new int[] {129, 256, 257, 300, 512, 777, 1000, 1001, 1024})
        assertTrue(FlashButterfly2K.applies(ConvMode.CAUSAL, FlashButterflyConv.fftSize(ConvMode.CAUSAL, L), io, p, 90), "L=" + L);
      for (int L : new int[] {1, 17, 128, 1025, 4096})
        assertFalse(FlashButterfly2K.applies(ConvMode.CAUSAL, FlashButterflyConv.fftSize(ConvMode.CAUSAL, L), io, p, 90), "L=" + L);
      assertFalse(FlashButterfly2K.applies(ConvMode.CAUSAL, 2048, io, p, 80), "sm_80: no stmatrix");
      assertFalse(FlashButterfly2K.applies(ConvMode.BIDIRECTIONAL, 2048, io, p, 90), "the input fills N: no zero half");
      assertFalse(FlashButterfly2K.applies(ConvMode.CIRCULAR, 1024, io, p, 90));
      assertFalse(FlashButterfly2K.applies(ConvMode.CAUSAL, 2048, ElementType.F32, p, 90), "fp32 I/O keeps the _w3 kernels");
    }
    assertFalse(FlashButterfly2K.applies(ConvMode.CAUSAL, 2048, ElementType.BF16, Precision.F16, 90), "io must be the compute type");
    assertFalse(FlashButterfly2K.applies(ConvMode.CAUSAL, 2048, ElementType.F32, Precision.FP32, 90));
  }

  @Test
  void switchIsOnUnlessOff() {
    assertTrue(FlashButterfly2K.enabledFrom(null));
    assertTrue(FlashButterfly2K.enabledFrom("on"));
    assertFalse(FlashButterfly2K.enabledFrom("off"));
    assertFalse(FlashButterfly2K.enabledFrom(" OFF "));
    assertEquals("longconv4j.cuda.fb2k", FlashButterfly2K.PROPERTY);
  }

  @Test
  void launchShapeComesFromThePropertiesWithinBounds() {
    assertEquals(FlashButterfly2K.DEFAULT_WARPS, FlashButterfly2K.intFrom(null, "warps", FlashButterfly2K.DEFAULT_WARPS, 8));
    assertEquals(3, FlashButterfly2K.intFrom(" 3 ", "warps", 4, 8));
    assertEquals(255, FlashButterfly2K.intFrom("255", "pairs per warp", 2, 255));
    for (String bad : new String[] {"0", "9", "x", "-1"}) {
      var e = assertThrows(IllegalArgumentException.class, () -> FlashButterfly2K.intFrom(bad, "warps", 4, 8));
      assertTrue(e.getMessage().contains("FlashButterfly2K") && e.getMessage().contains("warps"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> new FlashButterfly2K(null, 4096, Precision.BF16, 4, 2, FlashButterfly2K.Twiddles.TABLE));
    assertThrows(IllegalArgumentException.class, () -> new FlashButterfly2K(null, 2048, Precision.FP32, 4, 2, FlashButterfly2K.Twiddles.TABLE));
    assertThrows(IllegalArgumentException.class, () -> new FlashButterfly2K(null, 2048, Precision.BF16, 9, 2, FlashButterfly2K.Twiddles.TABLE));
    assertThrows(IllegalArgumentException.class, () -> new FlashButterfly2K(null, 2048, Precision.BF16, 4, 0, FlashButterfly2K.Twiddles.TABLE));
  }

  @Test
  void gridCoversEveryBatchPairOnce() {
    assertEquals(4, FlashButterfly2K.gridX(64, 4, 2));     // 32 pairs, 8 per block
    assertEquals(3, FlashButterfly2K.gridX(33, 4, 2));     // 17 pairs (the last one a single row)
    assertEquals(1, FlashButterfly2K.gridX(1, 8, 3));
    assertEquals(32, FlashButterfly2K.gridX(64, 1, 1));
    for (int B = 1; B < 70; B++)
      for (int w = 1; w <= 8; w++)
        for (int p = 1; p <= 4; p++) {
          int blocks = FlashButterfly2K.gridX(B, w, p), pairs = (B + 1) / 2;
          assertTrue(blocks * w * p >= pairs && (blocks - 1) * w * p < pairs, "B=" + B + " w=" + w + " p=" + p);
        }
  }

  @Test
  void tablesSharedMemoryAndNames() {
    // A1 + A2 (2 x 16 x 32 x 4), TF + TI (2 x R1 x 32 x 8 float2), F16 (32 x 8), the half2 twiddles (R1 x 32 x 16)
    assertEquals(4096 + 1024 * 8 + 256 + 512 * 8, FlashButterfly2K.tableWords(2048));
    assertEquals(4096 + 1024 * 2 + 256 + 512 * 2, FlashButterfly2K.tableWords(512));
    // the spectrum (2048 float2), 4 warps x (2 planes x 8 chunks x 264 + 8) 16-bit values
    assertEquals(8 * 2048 + 4 * (2 * 8 * 264 + 8) * 2, FlashButterfly2K.smemBytes(2048, 4, FlashButterfly2K.Twiddles.HALF));
    assertEquals(8 * 2048 + 4 * (2 * 8 * 264 + 8) * 2, FlashButterfly2K.smemBytes(2048, 4, FlashButterfly2K.Twiddles.TABLE));
    // _hp: the half2 twiddles (R1 x 32 lanes x 16 words = 8 N bytes) in shared memory too
    assertEquals(2 * 8 * 1024 + 8 * (2 * 4 * 264 + 8) * 2, FlashButterfly2K.smemBytes(1024, 8, FlashButterfly2K.Twiddles.HALF_PIPELINED));
    assertEquals(2 * 8 * 512 + 3 * (2 * 2 * 264 + 8) * 2, FlashButterfly2K.smemBytes(512, 3, FlashButterfly2K.Twiddles.HALF_WIDE));
    for (var tw : FlashButterfly2K.Twiddles.values())
      assertTrue(FlashButterfly2K.smemBytes(2048, FlashButterfly2K.MAX_WARPS, tw) <= 227 * 1024, tw.toString());
    // two blocks of the default shape per SM (228 KB, 1 KB reserved per block): 16 warps with every twiddle source
    for (var tw : FlashButterfly2K.Twiddles.values())
      assertTrue(2 * (FlashButterfly2K.smemBytes(2048, FlashButterfly2K.DEFAULT_WARPS, tw) + 1024) <= 228 * 1024, tw.toString());
    assertEquals("fbk_fwd_bf16", FlashButterfly2K.kernelName(Precision.BF16, FlashButterfly2K.Twiddles.TABLE));
    assertEquals("fbk_fwd_f16", FlashButterfly2K.kernelName(Precision.F16, FlashButterfly2K.Twiddles.TABLE));
    assertEquals("fbk_fwd_bf16_ht", FlashButterfly2K.kernelName(Precision.BF16, FlashButterfly2K.Twiddles.HALF));
    assertEquals("fbk_fwd_bf16_hp", FlashButterfly2K.kernelName(Precision.BF16, FlashButterfly2K.Twiddles.HALF_PIPELINED));
    assertEquals("fbk_fwd_f16_hp", FlashButterfly2K.kernelName(Precision.F16, FlashButterfly2K.Twiddles.HALF_PIPELINED));
    assertEquals("fbk_fwd_bf16_hw", FlashButterfly2K.kernelName(Precision.BF16, FlashButterfly2K.Twiddles.HALF_WIDE));
  }

  @Test
  void twiddleSourceComesFromThePropertiesTableByDefault() {
    assertEquals(FlashButterfly2K.DEFAULT_TWIDDLES, FlashButterfly2K.twiddlesFrom(null, null));
    assertEquals(FlashButterfly2K.DEFAULT_TWIDDLES, FlashButterfly2K.twiddlesFrom(" ", "false"));
    assertEquals(FlashButterfly2K.Twiddles.HALF, FlashButterfly2K.twiddlesFrom("half", null));
    assertEquals(FlashButterfly2K.Twiddles.HALF, FlashButterfly2K.twiddlesFrom(null, " true"), "the older spelling");
    assertEquals(FlashButterfly2K.Twiddles.TABLE, FlashButterfly2K.twiddlesFrom("Table", "true"));
    assertEquals(FlashButterfly2K.Twiddles.HALF_PIPELINED, FlashButterfly2K.twiddlesFrom(" HP ", null));
    assertEquals(FlashButterfly2K.Twiddles.HALF_PIPELINED, FlashButterfly2K.twiddlesFrom("hp", "false"), "tw wins over halftw");
    assertEquals(FlashButterfly2K.Twiddles.HALF_WIDE, FlashButterfly2K.twiddlesFrom("Hw", "true"), "tw wins over halftw");
    for (String bad : new String[] {"reg", "regs", "on", "1", "half_pipelined", "h p"}) {   // reg: session 7's _rt, removed
      var e = assertThrows(IllegalArgumentException.class, () -> FlashButterfly2K.twiddlesFrom(bad, null));
      assertTrue(e.getMessage().contains("FlashButterfly2K") && e.getMessage().contains(".tw") && e.getMessage().contains(bad), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> new FlashButterfly2K(null, 2048, Precision.BF16, 4, 2, null));
    // the property read when a plan's kernel object is made (the constructor without a twiddle source)
    String key = FlashButterfly2K.PROPERTY + ".tw", old = System.getProperty(key);
    try {
      System.setProperty(key, "table");
      var f = new FlashButterfly2K(null, 1024, Precision.BF16);
      assertEquals("fbk_fwd_bf16", f.kernelName());
      assertTrue(f.toString().startsWith("fb2k 8 warps x 4 pairs"), f.toString());
      System.clearProperty(key);
      assertEquals(FlashButterfly2K.kernelName(Precision.BF16, FlashButterfly2K.DEFAULT_TWIDDLES),
          new FlashButterfly2K(null, 1024, Precision.BF16).kernelName());
      System.setProperty(key, "table");
      assertEquals("fbk_fwd_bf16", new FlashButterfly2K(null, 1024, Precision.BF16).kernelName());
      System.setProperty(key, "hp");
      var hp = new FlashButterfly2K(null, 2048, Precision.F16);
      assertEquals("fbk_fwd_f16_hp", hp.kernelName());
      assertTrue(hp.toString().contains("pipelined loads"), hp.toString());
      System.setProperty(key, " hw");
      assertEquals("fbk_fwd_bf16_hw", new FlashButterfly2K(null, 512, Precision.BF16).kernelName());
    } finally {
      if (old == null) System.clearProperty(key); else System.setProperty(key, old);
    }
  }
}
