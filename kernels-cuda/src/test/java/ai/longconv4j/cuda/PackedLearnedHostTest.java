// Shapes: N1 x N2 = M, the packed learned transform (16 x 16, 16 x 32, 32 x 32); warps per block 10 .. 16.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Runs without a GPU: the host-side arithmetic of {@link PackedLearnedConv} (learned_pk.cu's launch): the dynamic shared
 * memory of every kernel fits the H200's 227 KB opt-in limit, the tile-row order rho is a permutation whose lane rows
 * g and g + 8 are partners (k1, N1 - k1) except the lane group holding k1 = 0 and N1 / 2 (each its own partner), and the
 * covered factorizations.
 */
class PackedLearnedHostTest {
  @Test
  void sharedMemoryFits() {
    int limit = 227 * 1024;
    int[][] kernels = {{32, 32, 16, 1}, {32, 32, 12, 2}, {32, 32, 10, 2}, {16, 32, 16, 1}, {16, 32, 12, 2}, {16, 16, 16, 1}, {16, 16, 12, 2}};
    for (int[] k : kernels) {
      int smem = PackedLearnedConv.smem(k[0], k[1], k[2], k[3]);
      assertTrue(smem <= limit, Arrays.toString(k) + ": " + smem + " bytes");
    }
    // 32 x 32 r1w16 by hand: blocks 20480 + P / Q 32 x 33 x 16 + twiddle starts 5120 + 8 pairs x (32 + 2 x 16) x 72 x 2 bytes
    assertEquals(20480 + 16896 + 5120 + 8 * (32 + 32) * 72 * 2, PackedLearnedConv.smem(32, 32, 16, 1));
  }

  /** pkopt's variants (learned_pk.cu OPT 1 .. 3; 10 warps has none): + 16 KB twiddle table with OPT & 2, still under 227 KB. */
  @Test
  void variantSharedMemoryFits() {
    int[][] kernels = {{32, 32, 16, 1}, {32, 32, 12, 2}, {16, 32, 16, 1}, {16, 32, 12, 2}, {16, 16, 16, 1}, {16, 16, 12, 2}};
    for (int[] k : kernels)
      for (int opt = 0; opt <= 3; opt++) {
        int smem = PackedLearnedConv.smem(k[0], k[1], k[2], k[3], opt);
        assertEquals(PackedLearnedConv.smem(k[0], k[1], k[2], k[3]) + ((opt & 2) != 0 ? 16384 : 0), smem, Arrays.toString(k) + " opt " + opt);
        assertTrue(smem <= 227 * 1024, Arrays.toString(k) + " opt " + opt + ": " + smem + " bytes");
      }
  }

  /**
   * pkopt: the 32 x 32 default (r2w12 variant 3) and the other new kernels that may become one (r2w12 o1 / o5 / o7,
   * r1w16 o1 / o3 / o5 / o7, r1w20 o3 / o7) do not spill on the H200's target (ptxas report of the build; skipped
   * without nvcc). Known spills left selectable: 32x32r2w12o2 (4 bytes), 16x32r2w12o1 / o3 (12 bytes).
   */
  @Test
  void variantKernelsDoNotSpill() throws java.io.IOException {
    java.nio.file.Path report = java.nio.file.Path.of("target", "cuda", "learned_pk.ptxas.txt");
    org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.exists(report), "no ptxas report (built without nvcc)");
    var spills = KernelResourceReportTest.parse(java.nio.file.Files.readString(report));
    for (String t : new String[] {"bf16", "f16"})
      for (String k : new String[] {"32x32r2w12o1", "32x32r2w12o3", "32x32r2w12o5", "32x32r2w12o7", "32x32r1w16o1", "32x32r1w16o3",
          "32x32r1w16o5", "32x32r1w16o7", "32x32r1w20o3", "32x32r1w20o7", "16x32r1w20o3", "16x16r1w20o3", "16x16r2w12o3"}) {
        String key = "lpk_forward_" + t + "_" + k + "@sm_90a";
        assertEquals("0,0", spills.get(key), key + " spills (or is missing)");
      }
    assertEquals(PackedLearnedConv.defaultVariant(32), Integer.getInteger("longconv4j.pk.opt", 27));   // pkopt2: 27 at every M
    assertEquals(PackedLearnedConv.defaultVariant(16), Integer.getInteger("longconv4j.pk.opt", 27));
  }

  /**
   * pkopt2: the channel-group variants (OPT & 8: r2w12 o8 / o11 at every M, o15 at 32 x 32) take GROUP - 1 more P / Q
   * buffers (16 N1 (N2 + 1) bytes each) on top of their base variant and still fit in 227 KB; o11 / o15 (on kappa +
   * twiddle table) and the 16 x 16 ones do not spill on sm_90a (skipped without the ptxas report). Known spills left
   * selectable (ptxas, this build): 32x32r2w12o8 4 bytes (its base, variant 0, spills 8), 16x32r2w12o8 24 bytes.
   */
  @Test
  void channelGroupVariants() throws java.io.IOException {
    int[][] shapes = {{32, 32}, {16, 32}, {16, 16}};
    for (int[] k : shapes)
      for (int opt : new int[] {8, 11, 15, 27}) {
        if (opt == 15 && k[0] != 32) continue;
        int smem = PackedLearnedConv.smem(k[0], k[1], 12, 2, opt);
        assertEquals(PackedLearnedConv.smem(k[0], k[1], 12, 2, opt & 7) + (PackedLearnedConv.GROUP - 1) * 16 * k[0] * (k[1] + 1), smem);
        assertTrue(smem <= 227 * 1024, Arrays.toString(k) + " opt " + opt + ": " + smem + " bytes");
      }
    java.nio.file.Path report = java.nio.file.Path.of("target", "cuda", "learned_pk.ptxas.txt");
    org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.exists(report), "no ptxas report (built without nvcc)");
    var spills = KernelResourceReportTest.parse(java.nio.file.Files.readString(report));
    for (String t : new String[] {"bf16", "f16"})
      for (String k : new String[] {"32x32r2w12o11", "32x32r2w12o15", "32x32r2w12o27", "16x32r2w12o11", "16x32r2w12o27", "16x16r2w12o8",
          "16x16r2w12o11", "16x16r2w12o27"}) {
        String key = "lpk_forward_" + t + "_" + k + "@sm_90a";
        assertEquals("0,0", spills.get(key), key + " spills (or is missing)");
      }
  }

  @Test
  void rhoPairsPartnerRows() {
    for (int n1 : new int[] {16, 32}) {
      boolean[] seen = new boolean[n1];
      for (int i = 0; i < n1; i++) {
        int k = PackedLearnedConv.rho(i, n1);
        assertFalse(seen[k], "rho(" + i + ") = " + k + " twice at N1 = " + n1);
        seen[k] = true;
      }
      for (int i = 0; i < n1; i += 16)
        for (int g = 0; g < 8; g++) {
          int a = PackedLearnedConv.rho(i + g, n1), b = PackedLearnedConv.rho(i + g + 8, n1);
          if (i == 0 && g == 0) {   // lane group 0 holds k1 = 0 and N1 / 2
            assertEquals(0, a, "rho(0) at N1 = " + n1);
            assertEquals(n1 / 2, b, "rho(8) at N1 = " + n1);
          } else assertEquals(n1, a + b, "rows " + (i + g) + ", " + (i + g + 8) + " at N1 = " + n1);
        }
    }
  }

  @Test
  void planRefusesRowsTheKernelsDoNotStage() {
    // L = 1100, Lk = 100: N = 2048 >= L + Lk - 1, M = 32 x 32, but ceil(L/2) = 550 > the 16 x 32 staged points; refused before
    // any device is touched (device null), naming the numbers
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> PackedLearnedConv.plan(null, 2, 1100, 100, ConvMode.CAUSAL, ElementType.BF16));
    assertTrue(e.getMessage().contains("ceil(L/2)=550") && e.getMessage().contains("N2=32"),
        e.getMessage());
  }

  /**
   * pkmode: the modes' refusals, before any device is touched (device null), naming the numbers: circular L = 4096
   * (N = L, M = 2048 = 32 x 64: no kernel), circular L not a power of two (N = L exactly),
   * circular L = 256 (M = 128: no kernel), bidirectional L = 1024 with Lk = 1024 needing N = 2048 is covered but
   * L = 1100, Lk = 100 (N = 2048, ceil(L/2) = 550 > 16 x 32) is not.
   */
  @Test
  void planRefusesModesShapesItDoesNotCover() {
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> PackedLearnedConv.plan(null, 2, 4096, 4096, ConvMode.CIRCULAR, ElementType.BF16));
    // session 14: lib plans M = 2048 with J = 3 factors; the two-factor kernels refuse them by name
    assertTrue(e.getMessage().contains("M=2048") && e.getMessage().contains("J = 2"), e.getMessage());
    e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> PackedLearnedConv.plan(null, 2, 1000, 1000, ConvMode.CIRCULAR, ElementType.BF16));
    assertTrue(e.getMessage().contains("CIRCULAR L=1000") && e.getMessage().contains("power of two"), e.getMessage());
    e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> PackedLearnedConv.plan(null, 2, 256, 256, ConvMode.CIRCULAR, ElementType.BF16));
    assertTrue(e.getMessage().contains("M=128"), e.getMessage());
    e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> PackedLearnedConv.plan(null, 2, 1100, 100, ConvMode.BIDIRECTIONAL, ElementType.BF16));
    assertTrue(e.getMessage().contains("ceil(L/2)=550"), e.getMessage());
    e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> PackedLearnedConv.plan(null, 2, 512, 512, ConvMode.BIDIRECTIONAL, ElementType.F32));
    assertTrue(e.getMessage().contains("bf16 / fp16"), e.getMessage());
  }

  /** pkmode: the modes' sizes (lib's LEARNED_PACKED plan): bidirectional N >= L + Lk, circular N = L. */
  @Test
  void modeFactorizations() {
    assertEquals(java.util.List.of(32, 32), PackedLearnedConv.libPlan(1024, 1024, ConvMode.BIDIRECTIONAL).factors());
    assertEquals(java.util.List.of(16, 32), PackedLearnedConv.libPlan(512, 512, ConvMode.BIDIRECTIONAL).factors());
    assertEquals(java.util.List.of(16, 16), PackedLearnedConv.libPlan(256, 256, ConvMode.BIDIRECTIONAL).factors());
    assertEquals(1024, PackedLearnedConv.libPlan(300, 213, ConvMode.BIDIRECTIONAL).fftSize());   // L + Lk = 513 (causal: 512)
    assertEquals(512, PackedLearnedConv.libPlan(300, 213, ConvMode.CAUSAL).fftSize());
    assertEquals(java.util.List.of(16, 16), PackedLearnedConv.libPlan(512, 512, ConvMode.CIRCULAR).factors());
    assertEquals(java.util.List.of(16, 32), PackedLearnedConv.libPlan(1024, 700, ConvMode.CIRCULAR).factors());
    assertEquals(1024, PackedLearnedConv.libPlan(1024, 700, ConvMode.CIRCULAR).fftSize());
    assertEquals(java.util.List.of(32, 32), PackedLearnedConv.libPlan(2048, 2048, ConvMode.CIRCULAR).factors());
    assertEquals(32, PackedLearnedConv.stageRows(ConvMode.CIRCULAR, 32));
    assertEquals(16, PackedLearnedConv.stageRows(ConvMode.CIRCULAR, 16));
    assertEquals(16, PackedLearnedConv.stageRows(ConvMode.BIDIRECTIONAL, 32));
    assertEquals(16, PackedLearnedConv.stageRows(ConvMode.CAUSAL, 32));
  }

  /**
   * pkmode: circular at 32 x 32 (L = 2048): the forward r1w12s32 and the backward's chains fs32 / as32 (12 warps, one row
   * per pair, x stages of 32 rows) fit in 227 KB (by hand: blocks 20480 + P / Q 16896 + twiddle starts 5120 + 6 pairs x
   * (32 + 2 x 32) rows x 72 x 2 bytes) and do not spill on sm_90a (skipped without the ptxas reports).
   */
  @Test
  void circular2kKernels() throws java.io.IOException {
    int smem = PackedLearnedConv.smem(32, 32, 12, 1, 0, 32);
    assertEquals(20480 + 16896 + 5120 + 6 * (32 + 64) * 72 * 2, smem);
    assertTrue(smem <= 227 * 1024, smem + " bytes");
    assertEquals(PackedLearnedConv.smem(32, 32, 12, 1, 0), PackedLearnedConv.smem(32, 32, 12, 1, 0, 16));
    for (String f : new String[] {"learned_pk", "learned_pk_bwd"}) {
      java.nio.file.Path report = java.nio.file.Path.of("target", "cuda", f + ".ptxas.txt");
      org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.exists(report), "no ptxas report (built without nvcc)");
      var spills = KernelResourceReportTest.parse(java.nio.file.Files.readString(report));
      for (String t : new String[] {"bf16", "f16"})
        for (String k : f.equals("learned_pk") ? new String[] {"lpk_forward_" + t + "_32x32r1w12s32", "lpk_pq_bi"}
            : new String[] {"lpkb_chain_" + t + "_32x32_fs32", "lpkb_chain_" + t + "_32x32_as32"}) {
          String key = k + "@sm_90a";
          assertEquals("0,0", spills.get(key), key + " spills (or is missing)");
        }
    }
  }

  @Test
  void coveredFactorizations() {
    assertTrue(PackedLearnedConv.tensorCoresSupport(32, 32, ElementType.BF16));
    assertTrue(PackedLearnedConv.tensorCoresSupport(16, 32, ElementType.F16));
    assertTrue(PackedLearnedConv.tensorCoresSupport(16, 16, ElementType.BF16));
    assertFalse(PackedLearnedConv.tensorCoresSupport(32, 64, ElementType.BF16));
    assertFalse(PackedLearnedConv.tensorCoresSupport(32, 32, ElementType.F32));
    assertEquals(java.util.List.of(32, 32), PackedLearnedConv.libPlan(1024, 1024, ConvMode.CAUSAL).factors());
    assertEquals(java.util.List.of(16, 32), PackedLearnedConv.libPlan(512, 512, ConvMode.CAUSAL).factors());
    assertEquals(java.util.List.of(16, 16), PackedLearnedConv.libPlan(256, 256, ConvMode.CAUSAL).factors());
  }
}
