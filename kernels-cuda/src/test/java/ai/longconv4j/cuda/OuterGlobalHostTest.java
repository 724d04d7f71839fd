// Shapes: none (the og route's host-side rules: N FFT size, L length, threads per block, batch pairs per block).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Runs without a GPU: which plans {@link OuterGlobal} takes (N = 8K and 16K with the zero half, tensor cores, at most 128
 * threads, sm_90), its kernel names, shared memory, the pairs-per-block, scheme and twiddle properties and the on/off
 * switch.
 */
class OuterGlobalHostTest {
  private static final String RU = OuterGlobal.PROPERTY + ".ru", TW = OuterGlobal.PROPERTY + ".tw",
      SCHEME = OuterGlobal.PROPERTY + ".scheme";

  @Test
  void appliesAt8KAnd16KWithTheZeroHalfOnSm90Only() {
    for (Precision p : new Precision[] {Precision.BF16, Precision.F16}) {
      for (int L : new int[] {4096, 3001, 2049, 4000}) {
        int n = FlashButterflyConv.fftSize(ConvMode.CAUSAL, L);
        assertEquals(8192, n, "L=" + L);
        assertTrue(OuterGlobal.applies(n, L, p, 128, 90), "causal L=" + L);
      }
      for (int L : new int[] {8192, 4097, 5000}) assertTrue(OuterGlobal.applies(16384, L, p, 128, 90), "causal L=" + L);
      assertTrue(OuterGlobal.applies(FlashButterflyConv.fftSize(ConvMode.BIDIRECTIONAL, 6001), 6001, p, 128, 90));
      assertFalse(OuterGlobal.applies(8192, 8192, p, 128, 90), "circular L = N: no zero half");
      assertFalse(OuterGlobal.applies(16384, 16384, p, 128, 90), "circular L = N: no zero half");
      assertFalse(OuterGlobal.applies(16384, 8192, p, 128, 80), "sm_80: the twin");
      assertFalse(OuterGlobal.applies(16384, 8192, p, 256, 90), "more threads than the launch bounds");
      assertFalse(OuterGlobal.applies(16384, 8192, p, 100, 90), "not whole warps");
      assertTrue(OuterGlobal.applies(16384, 8192, p, 64, 90), "fewer warps loop over more units");
      for (int n : new int[] {2048, 4096, 32768}) assertFalse(OuterGlobal.applies(n, n / 2, p, 128, 90), "N=" + n);
    }
    assertFalse(OuterGlobal.applies(16384, 8192, Precision.FP32, 128, 90), "CUDA-core plans keep their kernels");
  }

  @Test
  void kernelNamesAndSharedMemory() {
    assertEquals("fbog_fwd_bf16_bf16_r2", OuterGlobal.kernelName(ElementType.BF16, Precision.BF16, 8192, false));
    assertEquals("fbog_fwd_f32_f16_r4", OuterGlobal.kernelName(ElementType.F32, Precision.F16, 16384, false));
    // two 16-bit planes of N + N/32, the twiddle table (128 + N/128 float2), the per-lane table (16 x 32 float2)
    assertEquals(2 * 8448 * 2 + 8 * (128 + 64) + 4096, OuterGlobal.smemBytes(8192));
    assertEquals(2 * 16896 * 2 + 8 * (128 + 128) + 4096, OuterGlobal.smemBytes(16384));
  }

  @Test
  void pairsPerBlockFromThePlanThenThePropertyThenTheDefault() {
    String key = OuterGlobal.PROPERTY + ".pairs";
    withProperties(() -> {
      System.clearProperty(key);
      assertEquals(OuterGlobal.DEFAULT_PAIRS, OuterGlobal.pairs(0));
      assertEquals(5, OuterGlobal.pairs(5), "the plan's pairsPerBlock wins");
      System.setProperty(key, " 3 ");
      assertEquals(3, OuterGlobal.pairs(0));
      assertEquals(1, OuterGlobal.pairs(1));
      for (String bad : new String[] {"0", "256", "x"}) {
        System.setProperty(key, bad);
        var e = assertThrows(IllegalArgumentException.class, () -> OuterGlobal.pairs(0));
        assertTrue(e.getMessage().contains("OuterGlobal"), e.getMessage());
      }
    }, key);
  }

  @Test
  void theSchemeComesFromThePropertyOrTheDefault() {
    String key = OuterGlobal.PROPERTY + ".scheme";
    withProperties(() -> {
      System.clearProperty(key);
      assertEquals(OuterGlobal.DEFAULT_STAGED, OuterGlobal.staged());
      System.setProperty(key, " Global ");
      assertFalse(OuterGlobal.staged());
      System.setProperty(key, "staged");
      assertTrue(OuterGlobal.staged());
      System.setProperty(key, "other");
      var e = assertThrows(IllegalArgumentException.class, OuterGlobal::staged);
      assertTrue(e.getMessage().contains("scheme"), e.getMessage());
    }, key);
  }

  @Test
  void computedTwiddlesComeFromThePropertyWithTheStagedSchemeOnly() {
    withProperties(() -> {
      System.clearProperty(TW);
      System.clearProperty(SCHEME);
      System.setProperty(RU, "off");   // the _twc names (the _ru / _rua variants: the next test)
      assertEquals(OuterGlobal.DEFAULT_COMPUTED_TWIDDLES, OuterGlobal.computedTwiddles());
      assertEquals(OuterGlobal.DEFAULT_COMPUTED_TWIDDLES ? "fbog_fwd_bf16_bf16_r2_twc" : "fbog_fwd_bf16_bf16_r2",
          OuterGlobal.kernelName(ElementType.BF16, Precision.BF16, 8192));
      System.setProperty(TW, " Compute ");
      assertTrue(OuterGlobal.computedTwiddles());
      assertEquals("fbog_fwd_bf16_bf16_r2_twc", OuterGlobal.kernelName(ElementType.BF16, Precision.BF16, 8192));
      assertEquals("fbog_fwd_f32_f16_r4_twc", OuterGlobal.kernelName(ElementType.F32, Precision.F16, 16384));
      System.setProperty(SCHEME, "global");   // the _twc kernels are staged-only: the global scheme keeps the table
      assertFalse(OuterGlobal.computedTwiddles());
      assertEquals("fbog_fwd_f16_f16_r4", OuterGlobal.kernelName(ElementType.F16, Precision.F16, 16384));
      System.setProperty(SCHEME, "staged");
      System.setProperty(TW, "table");
      assertFalse(OuterGlobal.computedTwiddles());
      assertEquals("fbog_fwd_f16_f16_r4", OuterGlobal.kernelName(ElementType.F16, Precision.F16, 16384));
      assertEquals("fbog_fwd_f16_f16_r4_twc", OuterGlobal.kernelName(ElementType.F16, Precision.F16, 16384, true));
      System.setProperty(TW, "sincos");
      var e = assertThrows(IllegalArgumentException.class, OuterGlobal::computedTwiddles);
      assertTrue(e.getMessage().contains("OuterGlobal") && e.getMessage().contains(".tw"), e.getMessage());
    }, TW, SCHEME, RU);
  }

  @Test
  void theRegisterUnitVariantComesFromThePropertyWhereTheTwcKernelsRun() {
    withProperties(() -> {
      System.clearProperty(RU);
      System.clearProperty(TW);
      System.clearProperty(SCHEME);
      assertEquals(!OuterGlobal.DEFAULT_REGISTER_UNIT.equals("off") && OuterGlobal.computedTwiddles(), OuterGlobal.registerUnit());
      var tabs = java.util.Set.of("tab", "tab4", "half", "half4", "halfr");
      String def = OuterGlobal.DEFAULT_REGISTER_UNIT;
      assertEquals((java.util.Set.of("all", "lean", "pre", "sym").contains(def) || tabs.contains(def))
          && OuterGlobal.computedTwiddles(), OuterGlobal.firstTwiddles());
      assertEquals((java.util.Set.of("lean", "pre", "sym").contains(def) || tabs.contains(def))
          && OuterGlobal.computedTwiddles(), OuterGlobal.leanFragments());
      assertEquals((java.util.Set.of("pre", "sym").contains(def) || tabs.contains(def)) && OuterGlobal.computedTwiddles(),
          OuterGlobal.stagedLoadsAhead());
      assertEquals((def.equals("sym") || tabs.contains(def)) && OuterGlobal.computedTwiddles(),
          OuterGlobal.symmetricTwiddles(8192));
      assertEquals(tabs.contains(def) && OuterGlobal.computedTwiddles(), OuterGlobal.copiedTables(8192));
      assertFalse(OuterGlobal.symmetricTwiddles(16384) || OuterGlobal.copiedTables(16384));
      System.setProperty(RU, " ON ");
      System.setProperty(TW, "compute");
      assertTrue(OuterGlobal.registerUnit());
      assertFalse(OuterGlobal.firstTwiddles());
      assertEquals("fbog_fwd_bf16_bf16_r2_ru", OuterGlobal.kernelName(ElementType.BF16, Precision.BF16, 8192));
      assertEquals("fbog_fwd_f32_f16_r4_ru", OuterGlobal.kernelName(ElementType.F32, Precision.F16, 16384));
      System.setProperty(RU, "All");
      assertTrue(OuterGlobal.registerUnit() && OuterGlobal.firstTwiddles());
      assertFalse(OuterGlobal.leanFragments());
      assertEquals("fbog_fwd_bf16_bf16_r2_rua", OuterGlobal.kernelName(ElementType.BF16, Precision.BF16, 8192));
      assertEquals("fbog_fwd_f16_f16_r4_rua", OuterGlobal.kernelName(ElementType.F16, Precision.F16, 16384));
      System.setProperty(RU, " Lean");   // the _rul kernels: _rua with lean fragments and paired stores
      assertTrue(OuterGlobal.registerUnit() && OuterGlobal.firstTwiddles() && OuterGlobal.leanFragments());
      assertEquals("fbog_fwd_bf16_bf16_r2_rul", OuterGlobal.kernelName(ElementType.BF16, Precision.BF16, 8192));
      assertEquals("fbog_fwd_f32_f16_r4_rul", OuterGlobal.kernelName(ElementType.F32, Precision.F16, 16384));
      assertFalse(OuterGlobal.stagedLoadsAhead());
      System.setProperty(RU, "PRE ");   // the _rup kernels: _rul with the staged input's loads ahead
      assertTrue(OuterGlobal.registerUnit() && OuterGlobal.firstTwiddles() && OuterGlobal.leanFragments()
          && OuterGlobal.stagedLoadsAhead());
      assertEquals("fbog_fwd_bf16_bf16_r2_rup", OuterGlobal.kernelName(ElementType.BF16, Precision.BF16, 8192));
      assertEquals("fbog_fwd_f16_f16_r4_rup", OuterGlobal.kernelName(ElementType.F16, Precision.F16, 16384));
      assertEquals("fbog_fwd_f32_bf16_r2_rup", OuterGlobal.kernelName(ElementType.F32, Precision.BF16, 8192));
      System.setProperty(SCHEME, "global");   // pre needs the staged scheme (the _twc route)
      assertFalse(OuterGlobal.registerUnit() || OuterGlobal.stagedLoadsAhead());
      assertEquals("fbog_fwd_bf16_bf16_r2", OuterGlobal.kernelName(ElementType.BF16, Precision.BF16, 8192));
      System.setProperty(SCHEME, "staged");
      System.setProperty(RU, " Lean");
      System.setProperty(TW, "table");   // lean needs the _twc route too
      assertFalse(OuterGlobal.registerUnit() || OuterGlobal.leanFragments());
      assertEquals("fbog_fwd_bf16_bf16_r2", OuterGlobal.kernelName(ElementType.BF16, Precision.BF16, 8192));
      System.setProperty(TW, "compute");
      System.setProperty(RU, "All");
      System.setProperty(TW, "table");   // the _ru kernels are the _twc ones with another register unit: table -> off
      assertFalse(OuterGlobal.registerUnit() || OuterGlobal.firstTwiddles());
      assertEquals("fbog_fwd_bf16_bf16_r2", OuterGlobal.kernelName(ElementType.BF16, Precision.BF16, 8192));
      System.setProperty(TW, "compute");
      System.setProperty(SCHEME, "global");
      assertFalse(OuterGlobal.registerUnit() || OuterGlobal.firstTwiddles());
      assertEquals("fbog_fwd_f16_f16_r4", OuterGlobal.kernelName(ElementType.F16, Precision.F16, 16384));
      System.setProperty(SCHEME, "staged");
      System.setProperty(RU, "off");
      assertFalse(OuterGlobal.registerUnit());
      assertEquals("fbog_fwd_f16_f16_r4_twc", OuterGlobal.kernelName(ElementType.F16, Precision.F16, 16384));
      System.setProperty(RU, "yes");
      var e = assertThrows(IllegalArgumentException.class, OuterGlobal::registerUnit);
      assertTrue(e.getMessage().contains("OuterGlobal") && e.getMessage().contains(".ru"), e.getMessage());
    }, RU, TW, SCHEME);
  }

  @Test
  void theSymLevelRunsTheRusKernelsAtN8KAndTheRupOnesAt16K() {
    withProperties(() -> {
      System.clearProperty(TW);
      System.clearProperty(SCHEME);
      System.setProperty(RU, " Sym ");
      assertTrue(OuterGlobal.registerUnit() && OuterGlobal.firstTwiddles() && OuterGlobal.leanFragments()
          && OuterGlobal.stagedLoadsAhead() && OuterGlobal.symmetricTwiddles(8192));
      assertFalse(OuterGlobal.symmetricTwiddles(16384));   // the offset 2048 is N/8 there: no free rotation
      assertEquals("fbog_fwd_bf16_bf16_r2_rus", OuterGlobal.kernelName(ElementType.BF16, Precision.BF16, 8192));
      assertEquals("fbog_fwd_f16_f16_r2_rus", OuterGlobal.kernelName(ElementType.F16, Precision.F16, 8192));
      assertEquals("fbog_fwd_f32_bf16_r2_rus", OuterGlobal.kernelName(ElementType.F32, Precision.BF16, 8192));
      assertEquals("fbog_fwd_bf16_bf16_r4_rup", OuterGlobal.kernelName(ElementType.BF16, Precision.BF16, 16384));
      System.setProperty(RU, "pre");   // the default's level: no _rus
      assertFalse(OuterGlobal.symmetricTwiddles(8192));
      assertEquals("fbog_fwd_bf16_bf16_r2_rup", OuterGlobal.kernelName(ElementType.BF16, Precision.BF16, 8192));
      System.setProperty(RU, "sym");
      System.setProperty(TW, "table");   // sym needs the _twc route, as every ru level
      assertFalse(OuterGlobal.registerUnit() || OuterGlobal.symmetricTwiddles(8192));
      assertEquals("fbog_fwd_bf16_bf16_r2", OuterGlobal.kernelName(ElementType.BF16, Precision.BF16, 8192));
      System.setProperty(RU, "symm");
      var e = assertThrows(IllegalArgumentException.class, OuterGlobal::registerUnit);
      assertTrue(e.getMessage().contains(".ru") && e.getMessage().contains("sym"), e.getMessage());
    }, RU, TW, SCHEME);
  }

  @Test
  void theTabLevelsRunTheRutKernelsAtN8KAndTheRupOnesAt16K() {
    withProperties(() -> {
      for (String level : new String[] {" Tab", "TAB4 ", "half", "Half4", "halfR"}) {
        System.setProperty(RU, level);
        String v = level.trim().toLowerCase(java.util.Locale.ROOT);
        assertTrue(OuterGlobal.registerUnit() && OuterGlobal.firstTwiddles() && OuterGlobal.leanFragments()
            && OuterGlobal.stagedLoadsAhead() && OuterGlobal.symmetricTwiddles(8192) && OuterGlobal.copiedTables(8192), v);
        assertEquals(v.endsWith("4") || v.equals("halfr"), OuterGlobal.fourBlocks(8192), v);
        assertEquals(v.equals("halfr"), OuterGlobal.packedRegisterUnit(8192), v);
        assertEquals(v.startsWith("half"), OuterGlobal.halfTwiddles(8192), v);
        assertFalse(OuterGlobal.copiedTables(16384) || OuterGlobal.fourBlocks(16384) || OuterGlobal.halfTwiddles(16384)
            || OuterGlobal.packedRegisterUnit(16384), v);
        String suffix = switch (v) { case "tab" -> "_rut"; case "tab4" -> "_rut4"; case "half" -> "_ruh"; case "half4" -> "_ruh4";
          default -> "_ruhr"; };
        assertEquals("fbog_fwd_bf16_bf16_r2" + suffix, OuterGlobal.kernelName(ElementType.BF16, Precision.BF16, 8192));
        assertEquals("fbog_fwd_f16_f16_r2" + suffix, OuterGlobal.kernelName(ElementType.F16, Precision.F16, 8192));
        assertEquals("fbog_fwd_f32_bf16_r2" + suffix, OuterGlobal.kernelName(ElementType.F32, Precision.BF16, 8192));
        assertEquals("fbog_fwd_f32_f16_r2" + suffix, OuterGlobal.kernelName(ElementType.F32, Precision.F16, 8192));
        assertEquals("fbog_fwd_bf16_bf16_r4_rup", OuterGlobal.kernelName(ElementType.BF16, Precision.BF16, 16384));
        System.setProperty(TW, "table");   // every ru level needs the _twc route
        assertFalse(OuterGlobal.registerUnit() || OuterGlobal.copiedTables(8192) || OuterGlobal.halfTwiddles(8192), v);
        assertEquals("fbog_fwd_bf16_bf16_r2", OuterGlobal.kernelName(ElementType.BF16, Precision.BF16, 8192));
        System.clearProperty(TW);
        System.setProperty(SCHEME, "global");
        assertFalse(OuterGlobal.registerUnit() || OuterGlobal.copiedTables(8192) || OuterGlobal.fourBlocks(8192), v);
        System.clearProperty(SCHEME);
      }
      System.setProperty(RU, "sym");   // the _rus level copies no tables
      assertFalse(OuterGlobal.copiedTables(8192) || OuterGlobal.halfTwiddles(8192) || OuterGlobal.fourBlocks(8192));
      System.setProperty(RU, "tab5");
      var e = assertThrows(IllegalArgumentException.class, OuterGlobal::registerUnit);
      assertTrue(e.getMessage().contains(".ru") && e.getMessage().contains("tab4") && e.getMessage().contains("tab5"),
          e.getMessage());
    }, RU, TW, SCHEME);
  }

  /**
   * og_tables.cuh (the _rut kernels' tables, generated by src/test/cuda/og_tables_gen.py): 704 entries in tw_init's and
   * tw256_init's layout (monarch.cuh, monarch_pair.cuh), each exp(-2 pi i j / n) within half an fp32 ulp (correctly
   * rounded; exact zeros where the value is 0), parsed from the file's hex literals.
   */
  @Test
  void theCopiedTablesHoldTheTwiddlesOfTheBuiltOnes() throws java.io.IOException {
    String src = java.nio.file.Files.readString(java.nio.file.Path.of("src", "main", "cuda", "og_tables.cuh"));
    var m = java.util.regex.Pattern.compile("\\{(-?0x[0-9a-fp.+-]+f), (-?0x[0-9a-fp.+-]+f)}").matcher(src);
    int i = 0;
    double worst = 0;
    while (m.find()) {
      float c = Float.parseFloat(m.group(1)), s = Float.parseFloat(m.group(2));
      double a;
      if (i < 192) a = -2 * Math.PI * (i < 128 ? i : (i - 128) * 128) / 8192;   // tw_init: lo[128], hi[N / 128]
      else {   // tw256_init: entry 32 (4 j + q) + lane = w256^((g + 8 (q >> 1)) (8 j + 2 t + (q & 1)))
        int e = i - 192, lane = e & 31, j = e >> 7, q = (e >> 5) & 3;
        a = -2 * Math.PI * ((((lane >> 2) + 8 * (q >> 1)) * (8 * j + 2 * (lane & 3) + (q & 1))) & 255) / 256;
      }
      for (double[] v : new double[][] {{c, Math.cos(a)}, {s, Math.sin(a)}}) {
        if (Math.abs(v[1]) < 1e-15) assertTrue(v[0] == 0.0, "entry " + i + ": an exact zero, got " + v[0]);
        else worst = Math.max(worst, Math.abs(v[0] - v[1]) / Math.ulp((float) v[1]));
      }
      i++;
    }
    assertEquals(704, i, "entries of og_tables.cuh");
    assertTrue(worst <= 0.5 + 1e-9, "og_tables.cuh: " + worst + " fp32 ulps from exp");
    assertTrue(src.contains("TAB8K_VEC = 352;"), "16-byte vectors of the image");
  }

  @Test
  void theSwitchReadsTheProperty() {
    withProperties(() -> {
      System.clearProperty(OuterGlobal.PROPERTY);
      assertTrue(OuterGlobal.enabledByDefault());
      System.setProperty(OuterGlobal.PROPERTY, " OFF ");
      assertFalse(OuterGlobal.enabledByDefault());
      System.setProperty(OuterGlobal.PROPERTY, "on");
      assertTrue(OuterGlobal.enabledByDefault());
    }, OuterGlobal.PROPERTY);
  }

  /** Runs {@code body} with the system properties {@code keys} cleared first and restored afterwards. */
  private static void withProperties(Runnable body, String... keys) {
    String[] old = new String[keys.length];
    for (int i = 0; i < keys.length; i++) {
      old[i] = System.getProperty(keys[i]);
      System.clearProperty(keys[i]);
    }
    try {
      body.run();
    } finally {
      for (int i = 0; i < keys.length; i++) {
        if (old[i] == null) System.clearProperty(keys[i]); else System.setProperty(keys[i], old[i]);
      }
    }
  }
}
