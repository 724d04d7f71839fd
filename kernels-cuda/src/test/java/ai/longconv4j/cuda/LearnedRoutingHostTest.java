// Shapes: L length, Lk taps, N = N1 * N2 the learned plan's FFT size (lib's ConvPlan, engine LEARNED).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * No GPU: which learned-butterfly kernel a tensor goes to ({@link CudaLearnedConv#usesTensorCores}), the tensor-core
 * kernel's size limits and its shared memory, and its ptxas report (compiled for sm_80 and sm_90a, no spills).
 */
class LearnedRoutingHostTest {
  @Test
  void sixteenBitTensorsWithN256To2048GoToTensorCores() {
    assertFalse(LearnedButterflyConv.FORCE_FP32, "run without -Dlongconv4j.learned.fp32");
    // the defaults measured faster in sitting lbf3-2: two warps per row (N1 = 32), double-buffered Gram kernels
    assertTrue(LearnedDefaults.DEFAULT_PAIR && LearnedDefaults.DEFAULT_ASYNC_GRAMS,
        "run without -Dlongconv4j.learned.pair=off / -Dlongconv4j.learned.asyncgrams=off");
    // causal: N = 2L (power of two): 256 (16x16), 512 (16x32), 1024 (32x32), 2048 (32x64)
    for (int l : new int[] {100, 200, 300, 1000, 1024})
      for (DType t : new DType[] {DType.BF16, DType.F16}) {
        assertTrue(CudaLearnedConv.usesTensorCores(t, l, l, ConvMode.CAUSAL), t + " L=" + l);
        assertFalse(CudaLearnedConv.usesTensorCores(DType.F32, l, l, ConvMode.CAUSAL), "F32 stays on the fp32 twin, L=" + l);
      }
    assertTrue(CudaLearnedConv.usesTensorCores(DType.BF16, 500, 400, ConvMode.BIDIRECTIONAL));   // N = 1024
    assertTrue(CudaLearnedConv.usesTensorCores(DType.F16, 2048, 2048, ConvMode.CIRCULAR));
    // too small (N = 128 = 8 x 16: N1 < 16), too large (N = 4096 > MAX_N), F64: the twin / no path
    assertFalse(CudaLearnedConv.usesTensorCores(DType.BF16, 64, 64, ConvMode.CAUSAL));
    assertFalse(CudaLearnedConv.usesTensorCores(DType.BF16, 2048, 2048, ConvMode.CAUSAL));
    assertFalse(CudaLearnedConv.usesTensorCores(DType.BF16, 128, 128, ConvMode.CIRCULAR));
    assertFalse(CudaLearnedConv.usesTensorCores(DType.F64, 1000, 1000, ConvMode.CAUSAL));
    assertEquals(null, CudaLearnedConv.ioOf(DType.F64));
    assertEquals(ElementType.BF16, CudaLearnedConv.ioOf(DType.BF16));
  }

  @Test
  void factorSetAndSharedMemory() {
    int[][] ok = {{16, 16}, {16, 32}, {32, 32}, {32, 64}}, no = {{8, 16}, {16, 8}, {32, 16}, {16, 64}, {64, 64}, {64, 128}};
    for (int[] f : ok) {
      assertTrue(LearnedButterflyConv.tensorCoresSupport(f[0], f[1], ElementType.BF16), f[0] + "x" + f[1]);
      assertFalse(LearnedButterflyConv.tensorCoresSupport(f[0], f[1], ElementType.F32), "F32 " + f[0] + "x" + f[1]);
      // within the H100 / H200 opt-in limit (227 KB) and at most 512 threads
      for (boolean split : new boolean[] {false, true}) {
        int smem = LearnedLaunch.tensorCoreSmem(f[0], f[1], split);
        assertTrue(smem <= 232448, f[0] + "x" + f[1] + ": " + smem);
        assertTrue(LearnedLaunch.tensorCoreWarps(f[0], f[1], split) * 32 <= 512);
      }
    }
    for (int[] f : no) assertFalse(LearnedButterflyConv.tensorCoresSupport(f[0], f[1], ElementType.BF16), f[0] + "x" + f[1]);
    // 32 x 64: blocks 2 (4*32*40 + 4*64*72) + Kp 8*32*72 + twiddles 8*(128+16) + 8 warps * 2*32*136
    assertEquals(2 * (4 * 32 * 40 + 4 * 64 * 72) + 8 * 32 * 72 + 8 * 144 + 8 * 2 * 32 * 136, LearnedLaunch.tensorCoreSmem(32, 64, false));
    assertEquals(12, LearnedLaunch.tensorCoreWarps(32, 64, true));   // the split kernel's launch bound (384 threads)
    assertEquals(16, LearnedLaunch.tensorCoreWarps(16, 32, true));
    // pair kernels (N1 = 32): launch bounds 512, the dumping one at 32 x 64 384; one row buffer per two warps plus a
    // 32-row x stage of N2/2 + 8 values per warp, then the full twiddle table (N float2); N1 = 16 ignores the pair flag
    assertEquals(16, LearnedLaunch.tensorCoreWarps(32, 64, false, true, false));
    assertEquals(12, LearnedLaunch.tensorCoreWarps(32, 64, false, true, true));
    assertEquals(16, LearnedLaunch.tensorCoreWarps(32, 32, false, true, true));
    assertEquals(16, LearnedLaunch.tensorCoreWarps(16, 32, false, true, false));
    assertEquals(2 * (4 * 32 * 40 + 4 * 64 * 72) + 8 * 32 * 72 + 8 * 144 + 8 * (2 * 32 * 136 + 4 * 32 * 40) + 8 * 2048,
        LearnedLaunch.tensorCoreSmem(32, 64, false, true, 16));
    assertEquals(LearnedLaunch.tensorCoreSmem(16, 32, false), LearnedLaunch.tensorCoreSmem(16, 32, false, true, 16));
    for (int[] f : ok) assertTrue(LearnedLaunch.tensorCoreSmem(f[0], f[1], false, true, 16) <= 232448, f[0] + "x" + f[1]);
    // N1 = 16 variants: f 16 warps (launch bound 512), f2 10 (320 threads, two blocks per SM); warps' row buffers of
    // 2*16*(2 N2 + 8) bytes plus the full twiddle table (N float2) and 6 x 32 start values; N1 = 32 and pair ignore n16
    assertEquals(16, LearnedLaunch.tensorCoreWarps(16, 32, false, false, false, 1));
    assertEquals(10, LearnedLaunch.tensorCoreWarps(16, 32, false, false, true, 2));
    assertEquals(10, LearnedLaunch.tensorCoreWarps(16, 16, false, false, false, 2));
    assertEquals(16, LearnedLaunch.tensorCoreWarps(16, 32, false, false, false, 0));
    assertEquals(8, LearnedLaunch.tensorCoreWarps(32, 64, false, false, false, 2));
    assertEquals(16, LearnedLaunch.tensorCoreWarps(32, 64, false, true, false, 2));
    int base512 = 2 * (4 * 16 * 24 + 4 * 32 * 40) + 8 * 16 * 40 + 8 * (128 + 4);
    assertEquals(base512 + 16 * 2 * 16 * 72, LearnedLaunch.tensorCoreSmem(16, 32, false, false, 16, 0));
    assertEquals(base512 + 16 * 2 * 16 * 72 + 8 * 512 + 6 * 32 * 8, LearnedLaunch.tensorCoreSmem(16, 32, false, false, 16, 1));
    assertEquals(base512 + 10 * 2 * 16 * 72 + 8 * 512 + 6 * 32 * 8, LearnedLaunch.tensorCoreSmem(16, 32, false, false, 10, 2));
    // pair kernels with the start-value table: 192 lanes x 6 float2 more, within the opt-in limit; ignored elsewhere
    assertEquals(LearnedLaunch.tensorCoreSmem(32, 64, false, true, 16) + 192 * 6 * 8,
        LearnedLaunch.tensorCoreSmem(32, 64, false, true, 16, 0, true));
    assertTrue(LearnedLaunch.tensorCoreSmem(32, 64, false, true, 16, 0, true) <= 232448);
    assertEquals(LearnedLaunch.tensorCoreSmem(16, 32, false, false, 16, 1),
        LearnedLaunch.tensorCoreSmem(16, 32, false, false, 16, 1, true));
    // chained pair kernels: per pair the row buffer and two x stages of 32 rows of N2 + 8, then the start-value table (no
    // full twiddle table); within the opt-in limit at 16 warps; ignored without pair or at N1 = 16
    assertEquals(2 * (4 * 32 * 40 + 4 * 64 * 72) + 8 * 32 * 72 + 8 * 144 + 8 * (2 * 32 * 136 + 4 * 32 * 72) + 192 * 6 * 8,
        LearnedLaunch.tensorCoreSmem(32, 64, false, true, 16, 0, true, true));
    for (int[] f : ok) assertTrue(LearnedLaunch.tensorCoreSmem(f[0], f[1], false, true, 16, 0, true, true) <= 232448, f[0] + "x" + f[1]);
    assertEquals(LearnedLaunch.tensorCoreSmem(32, 64, false, true, 16, 0, true),
        LearnedLaunch.tensorCoreSmem(32, 64, false, true, 16, 0, true, false));
    assertEquals(LearnedLaunch.tensorCoreSmem(16, 32, false, true, 16, 1, true),
        LearnedLaunch.tensorCoreSmem(16, 32, false, true, 16, 1, true, true));
    // the chained kernels' temporary full twiddle table (8 N bytes) fits the pairs' buffers of the 12-warp dumping kernel
    assertTrue(6 * (2 * 32 * 136 + 4 * 32 * 72) >= 8 * 2048 && 6 * (2 * 32 * 72 + 4 * 32 * 40) >= 8 * 1024);
    // two f2 blocks fit one SM's 228 KB (227 KB usable per block, 1 KB reserved per block)
    assertTrue(2 * (LearnedLaunch.tensorCoreSmem(16, 32, false, false, 10, 2) + 1024) <= 233472);
  }

  @Test
  void n16PropertyParsesAndDefaultsToTheCurrentKernel() {
    // unset properties give the defaults in code (LearnedDefaults.Variants, flipped there after a sitting)
    assertEquals(LearnedDefaults.Variants.N16_KERNEL, LearnedDefaults.DEFAULT_N16_KERNEL, "run without -Dlongconv4j.learned.n16");
    assertEquals(LearnedDefaults.Variants.PAIR_TW, LearnedDefaults.DEFAULT_PAIR_TW, "run without -Dlongconv4j.learned.pairtw");
    assertEquals(LearnedDefaults.Variants.CHAIN, LearnedDefaults.DEFAULT_CHAIN, "run without -Dlongconv4j.learned.chain");
    assertTrue(LearnedDefaults.Variants.N16_KERNEL >= 0 && LearnedDefaults.Variants.N16_KERNEL <= 3);
    assertEquals(2, LearnedLaunch.n16Of("f2", LearnedDefaults.Variants.N16_KERNEL));
    assertTrue(LearnedLaunch.onOff("longconv4j.learned.pairtw", "on", LearnedDefaults.Variants.PAIR_TW));
    assertEquals(0, LearnedLaunch.n16Of("one", 2));
    assertEquals(1, LearnedLaunch.n16Of("f", 0));
    assertEquals(2, LearnedLaunch.n16Of("f2", 0));
    assertEquals(3, LearnedLaunch.n16Of("f2c", 0));
    // f2c: f2's launch (10 warps, two blocks per SM) and shared memory
    assertEquals(10, LearnedLaunch.tensorCoreWarps(16, 32, false, false, false, 3));
    assertEquals(LearnedLaunch.tensorCoreSmem(16, 32, false, false, 10, 2), LearnedLaunch.tensorCoreSmem(16, 32, false, false, 10, 3));
    assertEquals(1, LearnedLaunch.n16Of(null, 1));
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> LearnedLaunch.n16Of("on", 0));
    assertTrue(e.getMessage().contains("longconv4j.learned.n16") && e.getMessage().contains("on"), e.getMessage());
  }

  @Test
  void batchRowsRoutesOnlyTheChained32x32ForwardAndFitsSharedMemory() {
    assertEquals(LearnedDefaults.Variants.BATCH_ROWS, LearnedDefaults.DEFAULT_BATCH_ROWS, "run without -Dlongconv4j.learned.rows2");
    assertEquals(0, LearnedDefaults.DEFAULT_BLOCKS_PER_CHANNEL, "run without -Dlongconv4j.learned.gx");
    assertEquals(null, LearnedDefaults.PERSISTENT_PROPERTY, "run without -Dlongconv4j.learned.persistent");
    assertEquals(LearnedDefaults.Variants.PERSISTENT_32, LearnedDefaults.defaultPersistent(32));
    assertEquals(LearnedDefaults.Variants.PERSISTENT_64, LearnedDefaults.defaultPersistent(64));
    // pc2: two rows per pair, so two row buffers and two sets of two x stages per pair (learned_tc_chain2.cuh lbc2_pair_el)
    int one = LearnedLaunch.tensorCoreSmem(32, 32, false, true, 16, 0, true, true);
    int two = LearnedLaunch.tensorCoreSmem(32, 32, false, true, 16, 0, true, true, 2);
    assertEquals(one, LearnedLaunch.tensorCoreSmem(32, 32, false, true, 16, 0, true, true, 1));
    assertEquals(8 * (2 * 32 * 72 + 4 * 32 * 40), two - one);
    assertEquals(2 * (4 * 32 * 40 + 4 * 32 * 40) + 8 * 32 * 40 + 8 * (128 + 8) + 8 * 2 * (2 * 32 * 72 + 4 * 32 * 40) + 192 * 6 * 8, two);
    assertTrue(two <= 232448, "pc2 at 16 warps: " + two + " bytes");
    // the chained kernels' temporary full twiddle table (8 N bytes) fits pc2's pair buffers at 12 warps
    assertTrue(6 * 2 * (2 * 32 * 72 + 4 * 32 * 40) >= 8 * 1024);
    // blocks per channel: the automatic choice (~8 blocks per SM, no more than the rows need) and a fixed count, capped
    assertEquals(2, LearnedLaunch.gridX(64, 8, 132, 768, 0));    // pc at L = 512, B = 64, H = 768
    assertEquals(2, LearnedLaunch.gridX(64, 16, 132, 768, 0));   // pc2: 16 rows in flight per block
    assertEquals(4, LearnedLaunch.gridX(64, 16, 132, 768, 9));   // fixed 9, but 64 rows need only 4 blocks of 16
    assertEquals(1, LearnedLaunch.gridX(3, 16, 132, 1, 0));
    assertEquals(3, LearnedLaunch.gridX(64, 8, 132, 768, 3));
    assertEquals(1, LearnedLaunch.gridX(64, 8, 132, 768, 0, 1));   // autoBlocksPerSm(1): one block per channel at H = 768
    assertEquals(2, LearnedLaunch.gridX(64, 8, 132, 111, 0, 1));   // H = 111 < 132 SMs: two
    assertEquals(LearnedLaunch.gridX(64, 8, 132, 768, 0), LearnedLaunch.gridX(64, 8, 132, 768, 0, 8));
    assertEquals(LearnedDefaults.Variants.AUTO_BLOCKS_PER_SM, LearnedDefaults.DEFAULT_AUTO_BLOCKS_PER_SM, "run without -Dlongconv4j.learned.autoblocks");
    assertEquals(1, LearnedLaunch.autoBlocksOf("1", 8));
    assertEquals(8, LearnedLaunch.autoBlocksOf(null, 8));
    for (String bad : new String[] {"0", "65", "one"}) {
      var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> LearnedLaunch.autoBlocksOf(bad, 8));
      assertTrue(e.getMessage().contains("longconv4j.learned.autoblocks") && e.getMessage().contains(bad), e.getMessage());
    }
    assertEquals(0, LearnedLaunch.blocksOf(null));
    assertEquals(4, LearnedLaunch.blocksOf("4"));
    for (String bad : new String[] {"-1", "x", "70000"}) {
      var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> LearnedLaunch.blocksOf(bad));
      assertTrue(e.getMessage().contains("longconv4j.learned.gx") && e.getMessage().contains(bad), e.getMessage());
    }
  }

  @Test
  void switchPropertiesParseOnOffAndRejectOthers() {
    String p = "longconv4j.learned.pair";
    assertTrue(LearnedLaunch.onOff(p, "on", false));
    assertFalse(LearnedLaunch.onOff(p, "off", true));
    assertTrue(LearnedLaunch.onOff(p, null, true));
    assertFalse(LearnedLaunch.onOff(p, null, false));
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> LearnedLaunch.onOff("longconv4j.learned.asyncgrams", "yes", false));
    assertTrue(e.getMessage().contains("longconv4j.learned.asyncgrams"), e.getMessage());
  }

  @Test
  void wgmmaKernelsFitSharedMemoryAndParse() {
    assertEquals(null, LearnedDefaults.WGMMA_PROPERTY, "run without -Dlongconv4j.learned.wgmma");
    assertEquals(LearnedDefaults.Variants.WGMMA_32, LearnedDefaults.defaultWgmma(32));
    assertEquals(LearnedDefaults.Variants.WGMMA_64, LearnedDefaults.defaultWgmma(64));
    // pw: pc's shared memory at its warps plus step 3's wgmma B layouts (N2/32 passes x 2 matrices x 64 x N2 16-bit)
    assertEquals(16, LearnedLaunch.wgmmaWarps(32, false));
    assertEquals(12, LearnedLaunch.wgmmaWarps(64, false));
    assertEquals(12, LearnedLaunch.wgmmaWarps(32, true));
    // pw2p: pc2p's buffers (two rows per pair) at 12 warps plus the B layouts
    int two = LearnedLaunch.tensorCoreSmem(32, 32, false, true, 12, 0, true, true, 2) + LearnedLaunch.wgmmaSmem(32);
    assertTrue(two <= 232448, "pw2p: " + two + " bytes");
    assertEquals(8192, LearnedLaunch.wgmmaSmem(32));
    assertEquals(32768, LearnedLaunch.wgmmaSmem(64));
    // step 2's layouts overlay the padded b2 / b3 planes of the block copy (8 N2 (N2 + 8) bytes): they must fit there
    for (int n2 : new int[] {32, 64}) assertTrue(LearnedLaunch.wgmmaSmem(n2) <= 8 * n2 * (n2 + 8));
    for (int n2 : new int[] {32, 64}) {
      int w = LearnedLaunch.wgmmaWarps(n2, false);
      assertEquals(0, w % 4, "whole warpgroups");
      int smem = LearnedLaunch.tensorCoreSmem(32, n2, false, true, w, 0, true, true) + LearnedLaunch.wgmmaSmem(n2);
      assertTrue(smem <= 232448, "pw at 32 x " + n2 + ", " + w + " warps: " + smem + " bytes");
      // the B layouts start 16-byte aligned (matrix descriptors address 16-byte units)
      assertEquals(0, (smem - LearnedLaunch.wgmmaSmem(n2)) % 16);
    }
    assertTrue(LearnedLaunch.onOff("longconv4j.learned.wgmma", "on", false));
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> LearnedLaunch.onOff("longconv4j.learned.wgmma", "yes", false));
    assertTrue(e.getMessage().contains("longconv4j.learned.wgmma"), e.getMessage());
    // lbf10: pwd (pw with the descriptors precomputed) has pw's launch; its property parses as the others
    assertEquals(LearnedDefaults.Variants.WGMMA_DESCRIPTORS, LearnedDefaults.DEFAULT_WGMMA_DESCRIPTORS, "run without -Dlongconv4j.learned.wgdesc");
    var e2 = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> LearnedLaunch.onOff("longconv4j.learned.wgdesc", "1", false));
    assertTrue(e2.getMessage().contains("longconv4j.learned.wgdesc"), e2.getMessage());
    assertEquals(LearnedDefaults.Variants.WGMMA_OVERLAP, LearnedDefaults.DEFAULT_WGMMA_OVERLAP, "run without -Dlongconv4j.learned.wgoverlap");
    // lbf11: pwt (pwd + step 3's twiddle table): its property parses as the others; 12 KB beyond pwd's shared memory,
    // and pwd's + that stays within the H200's 227 KB per block at 12 warps (rows 0-7 of the table live in b2's planes)
    assertEquals(LearnedDefaults.Variants.WGMMA_TWIDDLE_TABLE, LearnedDefaults.DEFAULT_WGMMA_TWIDDLE_TABLE, "run without -Dlongconv4j.learned.wgtw");
    var e3 = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> LearnedLaunch.onOff("longconv4j.learned.wgtw", "maybe", false));
    assertTrue(e3.getMessage().contains("longconv4j.learned.wgtw"), e3.getMessage());
    assertEquals(24 * 64 * 8, LearnedLaunch.wgmmaTwiddleSmem(64));
    int pwt = LearnedLaunch.tensorCoreSmem(32, 64, false, true, 12, 0, true, true, 1) + LearnedLaunch.wgmmaSmem(64) + LearnedLaunch.wgmmaTwiddleSmem(64);
    assertTrue(pwt <= 227 * 1024, "pwt's shared memory " + pwt + " bytes > 227 KB");
  }

  @Test
  void fusedDkpSharedMemoryFits() {
    // lbf7: pdck / f2ck = pdc / f2c's shared memory + the fp32 dKp accumulator (2 planes of N1 rows of N2 + 8 floats)
    assertEquals(8 * 32 * 72, LearnedLaunch.fusedDkpSmem(32, 64));
    assertEquals(8 * 16 * 40, LearnedLaunch.fusedDkpSmem(16, 32));
    int pdck64 = LearnedLaunch.tensorCoreSmem(32, 64, false, true, 12, 0, true, true) + LearnedLaunch.fusedDkpSmem(32, 64);
    int pdck32 = LearnedLaunch.tensorCoreSmem(32, 32, false, true, 16, 0, true, true) + LearnedLaunch.fusedDkpSmem(32, 32);
    assertTrue(pdck64 <= 227 * 1024 && pdck32 <= 227 * 1024, pdck64 + " / " + pdck32 + " bytes");
    for (int n2 : new int[] {16, 32}) {   // f2ck: two blocks of 10 warps per SM (its launch bound) must still fit
      int f2ck = LearnedLaunch.tensorCoreSmem(16, n2, false, false, 10, 3, false, false) + LearnedLaunch.fusedDkpSmem(16, n2);
      assertTrue(2 * f2ck <= 228 * 1024 - 2 * 1024, "16x" + n2 + ": " + f2ck + " bytes");
    }
  }

  @Test
  void chainGramKernelsFitAndCompiledWithoutSpills() throws IOException {
    // lbf8: pdcg = pdc's shared memory + per pair 2 planes of 32 rows of 16 tiles + 8 floats (+ the V stages with two
    // tiles); one block per SM (227 KB)
    assertEquals(16, LearnedLaunch.chainGramWarps(32, 32, 1));
    assertEquals(12, LearnedLaunch.chainGramWarps(32, 32, 2));
    assertEquals(12, LearnedLaunch.chainGramWarps(32, 64, 1));
    assertEquals(6 * 2 * 32 * 24 * 4, LearnedLaunch.chainGramSmem(64, 12, 1));
    assertEquals(6 * (2 * 32 * 40 * 4 + 2 * 32 * 40 * 2), LearnedLaunch.chainGramSmem(32, 12, 2));
    for (int[] c : new int[][] {{32, 1}, {32, 2}, {64, 1}}) {
      int w = LearnedLaunch.chainGramWarps(32, c[0], c[1]);
      int smem = LearnedLaunch.tensorCoreSmem(32, c[0], false, true, w, 0, true, true) + LearnedLaunch.chainGramSmem(c[0], w, c[1]);
      assertTrue(smem <= 232448, "32x" + c[0] + " pdcg" + c[1] + ": " + smem + " bytes");
    }
    for (int n2 : new int[] {16, 32}) {   // f2cg: two blocks of 10 warps per SM (its launch bound) must still fit
      assertEquals(10, LearnedLaunch.chainGramWarps(16, n2, 1));
      int f2cg = LearnedLaunch.tensorCoreSmem(16, n2, false, false, 10, 3, false, false) + LearnedLaunch.chainGramSmem16(n2, 10);
      assertTrue(2 * f2cg <= 228 * 1024 - 2 * 1024, "16x" + n2 + " f2cg: " + f2cg + " bytes");
    }
    // 32 x 64 with two V row tiles (L > 1024: circular 2048) does not fit at 12 warps: the route falls back
    assertTrue(LearnedLaunch.tensorCoreSmem(32, 64, false, true, 12, 0, true, true) + LearnedLaunch.chainGramSmem(64, 12, 2) > 232448);
    Path report = Path.of("target", "cuda", "learned_tc_gram.ptxas.txt");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(report), "built without nvcc");
    String text = Files.readString(report);
    for (String cfg : new String[] {"32x32pdcg1", "32x32pdcg2", "32x64pdcg1", "16x16f2cg", "16x32f2cg"})
      for (String io : new String[] {"bf16", "f16"})
        for (String arch : new String[] {"sm_80", "sm_90a"}) {
          String fn = "lbt_forward_" + io + "_" + cfg;
          Matcher m = Pattern.compile("Compiling entry function '" + fn + "' for '" + arch + "'.*?(\\d+) bytes spill stores, (\\d+) bytes spill loads",
              Pattern.DOTALL).matcher(text);
          assertTrue(m.find(), fn + "@" + arch + " missing from " + report);
          assertEquals("0,0", m.group(1) + "," + m.group(2), fn + "@" + arch + " spills");
        }
  }

  @Test
  void registerGramAndStagedGramKernelsFitAndCompiledWithoutSpills() throws IOException {
    // lbf9: 32x64pdcg1r runs pdcg1's 12 warps (its launch bound 384) with pdcg1's shared memory; one block per SM
    int smem = LearnedLaunch.tensorCoreSmem(32, 64, false, true, 12, 0, true, true) + LearnedLaunch.chainGramSmem(64, 12, 1);
    assertTrue(smem <= 232448, "32x64 pdcg1r: " + smem + " bytes");
    // lbt_gram_*_a_async3 (four blocks per SM) and _async4 (three): S buffers of 4 N1 (2 N2 + 8) bytes, 1 KB reserved per block
    for (int[] f : new int[][] {{16, 16}, {16, 32}, {32, 32}, {32, 64}}) {
      assertTrue(4 * (4 * 3 * f[0] * (2 * f[1] + 8) + 1024) <= 228 * 1024, f[0] + "x" + f[1] + " _async3");
      assertTrue(3 * (4 * 4 * f[0] * (2 * f[1] + 8) + 1024) <= 228 * 1024, f[0] + "x" + f[1] + " _async4");
      if (f[1] == 32) assertTrue(4 * (16 * f[0] * (2 * f[1] + 8) + 1024) <= 228 * 1024, f[0] + "x" + f[1] + " _asyncp");   // four per SM
    }
    assertEquals(3, LearnedLaunch.gramStages("3", 2));
    assertEquals(2, LearnedLaunch.gramStages(null, 2));
    assertThrows(IllegalArgumentException.class, () -> LearnedLaunch.gramStages("5", 2));
    Path gram = Path.of("target", "cuda", "learned_tc_gram.ptxas.txt"), bwd = Path.of("target", "cuda", "learned_tc_bwd.ptxas.txt");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(gram) && Files.exists(bwd), "built without nvcc");
    String tg = Files.readString(gram), tb = Files.readString(bwd);
    for (String io : new String[] {"bf16", "f16"})
      for (String arch : new String[] {"sm_80", "sm_90a"}) {
        noSpills(tg, "lbt_forward_" + io + "_32x64pdcg1r", arch);
        for (String f : new String[] {"16x16", "16x32", "32x32", "32x64"}) {
          for (String s : new String[] {"3", "4", "s", "3s", "4s"}) noSpills(tb, "lbt_gram_" + io + "_" + f + "_a_async" + s, arch);
          noSpills(tb, "lbt_gram_" + io + "_" + f + "_b_asyncs", arch);   // constGramLoads without chainGrams
          if (f.endsWith("x32")) noSpills(tb, "lbt_gram_" + io + "_" + f + "_a_asyncp", arch);   // gramRowPairs
        }
      }
  }

  private static void noSpills(String report, String fn, String arch) {
    Matcher m = Pattern.compile("Compiling entry function '" + fn + "' for '" + arch + "'.*?(\\d+) bytes spill stores, (\\d+) bytes spill loads",
        Pattern.DOTALL).matcher(report);
    assertTrue(m.find(), fn + "@" + arch + " missing");
    assertEquals("0,0", m.group(1) + "," + m.group(2), fn + "@" + arch + " spills");
  }

  @Test
  void tensorCoreKernelsCompiledWithoutSpills() throws IOException {
    Path report = Path.of("target", "cuda", "learned_tc.ptxas.txt");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(report), "built without nvcc");
    String text = Files.readString(report);
    int found = 0;
    for (String cfg : new String[] {"16x16", "16x32", "32x32", "32x64", "32x32s", "32x64s", "32x32p", "32x64p", "32x32pd", "32x64pd",
        "16x16f", "16x32f", "16x16f2", "16x32f2", "32x32pt", "32x64pt", "32x32pdt", "32x64pdt", "32x32pc", "32x64pc", "32x32pdc", "32x64pdc", "16x16f2c", "16x32f2c",
        "32x64pdcw", "32x32pc2", "32x32pc2p", "32x32pcp", "32x64pcp", "32x32pw", "32x64pw", "32x32pw2p",
        "32x32pwd", "32x64pwd", "32x32pwo", "32x64pwo", "32x64pwt", "32x32pdck", "32x64pdck", "16x16f2ck", "16x32f2ck"})
      for (String io : new String[] {"bf16", "f16"})
        for (String arch : new String[] {"sm_80", "sm_90a"}) {
          String fn = "lbt_forward_" + io + "_" + cfg;
          Matcher m = Pattern.compile("Compiling entry function '" + fn + "' for '" + arch + "'.*?(\\d+) bytes spill stores, (\\d+) bytes spill loads",
              Pattern.DOTALL).matcher(text);
          assertTrue(m.find(), fn + "@" + arch + " missing from " + report);
          assertEquals("0,0", m.group(1) + "," + m.group(2), fn + "@" + arch + " spills");
          found++;
        }
    assertEquals(164, found);
    for (String fn : new String[] {"lbt_mma_rate_bf16", "lbt_mma_rate_f16", "lbt_wgmma_rate_bf16", "lbt_wgmma_rate_f16"})
      for (String arch : new String[] {"sm_80", "sm_90a"}) {
        Matcher m = Pattern.compile("Compiling entry function '" + fn + "' for '" + arch + "'.*?(\\d+) bytes spill stores", Pattern.DOTALL).matcher(text);
        assertTrue(m.find() && m.group(1).equals("0"), fn + "@" + arch + " missing or spills");
      }
    Path bwd = Path.of("target", "cuda", "learned_tc_bwd.ptxas.txt");
    String tb = Files.readString(bwd);
    for (String fn : new String[] {"lbt_gram_bf16_32x64_a", "lbt_gram_bf16_32x64_b", "lbt_gram_f16_16x16_a", "lbt_dkp_bf16", "lbt_gram_reduce",
        "lbt_taps", "lbt_gram_bf16_32x64_a_async", "lbt_gram_bf16_32x64_b_async", "lbt_gram_f16_16x16_b_async",
        "lbt_dkp2_bf16", "lbt_dkp2_f16", "lbt_gram_reduce2", "lbt_dkp3_bf16", "lbt_dkp3_f16"})
      for (String arch : new String[] {"sm_80", "sm_90a"}) {
        Matcher m = Pattern.compile("Compiling entry function '" + fn + "' for '" + arch + "'.*?(\\d+) bytes spill stores, (\\d+) bytes spill loads",
            Pattern.DOTALL).matcher(tb);
        assertTrue(m.find(), fn + "@" + arch + " missing from " + bwd);
        assertEquals("0,0", m.group(1) + "," + m.group(2), fn + "@" + arch + " spills");
      }
  }

  /**
   * Session 18 (helper layer): {@link CudaLearnedConv#route} (checks) makes the choices of the routing it replaced, which
   * asked the device for the LEARNED / J = 2 tensor-core plan and caught its IllegalArgumentException. The oracle here is
   * that old question without a device: the plan factories run their checks first and throw IllegalArgumentException when
   * the shapes are not theirs; with a null device, shapes they take get as far as the first allocation (a
   * NullPointerException). Over modes, lengths from 100 to 256K (J = 2 .. 5 factors), taps, H at and beyond the kernels'
   * limit and F32 / BF16 / F16, every combination lib's ConvOps reaches (its own ConvPlan exists) routes the same way.
   */
  @Test
  void routingByChecksMakesTheChoicesOfRoutingByException() {
    assertTrue(CudaLearnedConv.routeByChecks(), "run without -Dlongconv4j.learned.route");
    int cases = 0, tc = 0, monarch = 0, learned = 0;
    for (ConvMode lmode : ConvMode.values())
      for (int l : new int[] {100, 128, 129, 200, 256, 500, 512, 1000, 1024, 1025, 2048, 3000, 4096, 8192, 16384, 65536, 262144})
        for (int lk : new int[] {l, Math.max(1, l / 3)})
          for (int h : new int[] {1, 768, 65536})
            for (ElementType io : new ElementType[] {ElementType.F32, ElementType.BF16, ElementType.F16}) {
              var cm = CudaFlashLongConv.mode(lmode);
              for (boolean packed : new boolean[] {false, true}) {
                var engine = packed ? ai.longconv4j.conv.ConvEngine.LEARNED_PACKED : ai.longconv4j.conv.ConvEngine.LEARNED;
                try {
                  ai.longconv4j.conv.ConvPlan.of(l, lk, lmode, engine, ai.longconv4j.conv.Precision.F32);
                } catch (IllegalArgumentException e) {
                  continue;   // ConvOps.learned* stops here: the backend never sees these
                }
                CudaLearnedConv.Route want;
                if (!packed) want = factoryTakes(() -> LearnedButterflyConv.plan(null, h, l, lk, cm, io)) ? CudaLearnedConv.Route.LEARNED
                    : CudaLearnedConv.Route.NONE;
                else if (factoryTakes(() -> PackedLearnedConv.plan(null, h, l, lk, cm, io))) want = CudaLearnedConv.Route.PACKED_TENSOR_CORES;
                else if (PackedMonarchLearned.enabled() && PackedMonarchLearned.supports(l, lk, cm, io)) want = CudaLearnedConv.Route.PACKED_MONARCH;
                else if (PackedLearnedRef.supports(l, lk, cm, io)) want = CudaLearnedConv.Route.PACKED_REF;
                else want = CudaLearnedConv.Route.NONE;
                String what = (packed ? "packed " : "learned ") + lmode + " L=" + l + " Lk=" + lk + " H=" + h + " " + io;
                assertEquals(want, CudaLearnedConv.route(packed, h, l, lk, cm, io), what);
                cases++;
                tc += want == CudaLearnedConv.Route.PACKED_TENSOR_CORES ? 1 : 0;
                monarch += want == CudaLearnedConv.Route.PACKED_MONARCH ? 1 : 0;
                learned += want == CudaLearnedConv.Route.LEARNED ? 1 : 0;
              }
            }
    // the grid reaches every route (else the comparison would prove little)
    assertTrue(tc > 0 && monarch > 0 && learned > 0 && cases > 500, cases + " cases: " + tc + " tensor-core, " + monarch + " J-factor, "
        + learned + " LEARNED");
    // the same at the nearest boundary shapes: Lk > L, H = 0, a circular length not a power of two
    assertEquals(CudaLearnedConv.Route.NONE, CudaLearnedConv.route(false, 8, 100, 101, ConvModeCuda.CAUSAL, ElementType.BF16));
    assertEquals(CudaLearnedConv.Route.NONE, CudaLearnedConv.route(false, 0, 100, 100, ConvModeCuda.CAUSAL, ElementType.BF16));
    assertTrue(!CudaLearnedConv.packedTensorCoresTake(8, 1000, 1000, ConvModeCuda.CIRCULAR, ElementType.BF16));
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> {
      System.setProperty("longconv4j.learned.route", "exceptions");
      try { CudaLearnedConv.routeByChecks(); } finally { System.clearProperty("longconv4j.learned.route"); }
    });
    assertTrue(e.getMessage().contains("checks or exception") && e.getMessage().contains("exceptions"), e.getMessage());
  }

  /** Whether a plan factory's checks take the shapes: it throws IllegalArgumentException where they do not. */
  private static boolean factoryTakes(Runnable factory) {
    try {
      factory.run();
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    } catch (NullPointerException e) {
      return true;   // past the checks: the null device's first use
    }
  }

  /** The cuda package's ConvMode (this file imports lib's). */
  private static final class ConvModeCuda {
    static final ai.longconv4j.cuda.ConvMode CAUSAL = ai.longconv4j.cuda.ConvMode.CAUSAL, CIRCULAR = ai.longconv4j.cuda.ConvMode.CIRCULAR;
  }
}
