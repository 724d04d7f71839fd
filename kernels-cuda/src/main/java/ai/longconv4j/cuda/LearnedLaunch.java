// Launch geometry of the learned butterfly's tensor-core kernels: warps, shared memory and grid per kernel family, and the
// parsers of the -Dlongconv4j.learned.* properties. Shapes: B batch, H channels, N = N1 x N2 FFT size (n1, n2: its factors).
package ai.longconv4j.cuda;

/**
 * Host-side arithmetic that {@link LearnedButterflyConv} launches its kernels with (learned_tc.cu, learned_tc_chain*.cuh,
 * learned_tc_wg.cuh, learned_tc_bwd.cu): each kernel family's warps per block (its launch bound), dynamic shared memory
 * (the kernels' layouts), blocks per channel, and the switch properties' parsers. Pure functions of their arguments;
 * LearnedRoutingHostTest checks them against the kernels' ptxas reports and the H200's shared-memory limit.
 */
final class LearnedLaunch {
  private LearnedLaunch() { }

  /** Parses {@code -Dlongconv4j.learned.autoblocks}'s value: 1 .. 64, {@code dflt} when unset. */
  static int autoBlocksOf(String v, int dflt) {
    if (v == null) return dflt;
    int n;
    try {
      n = Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      n = -1;
    }
    if (n < 1 || n > 64) throw new IllegalArgumentException("longconv4j.learned.autoblocks: expected 1 .. 64, got " + v);
    return n;
  }

  /** Parses {@code -Dlongconv4j.learned.gx}'s value: a block count in [0, 65535] (0: automatic), 0 when unset. */
  static int blocksOf(String v) {
    if (v == null) return 0;
    int g;
    try {
      g = Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("longconv4j.learned.gx: expected a block count in [0, 65535], got " + v);
    }
    if (g < 0 || g > 65535) throw new IllegalArgumentException("longconv4j.learned.gx: expected a block count in [0, 65535], got " + v);
    return g;
  }

  /** Parses {@code -Dlongconv4j.learned.n16}'s value: {@code one} 0, {@code f} 1, {@code f2} 2, or {@code dflt} when unset. */
  static int n16Of(String v, int dflt) {
    if (v == null) return dflt;
    return switch (v) {
      case "one" -> 0;
      case "f" -> 1;
      case "f2" -> 2;
      case "f2c" -> 3;
      default -> throw new IllegalArgumentException("longconv4j.learned.n16: expected one, f, f2 or f2c, got " + v);
    };
  }

  /**
   * Warps per block of the tensor-core kernel (its launch bound): 8 at 32 x 64, 12 at 32 x 32, else 16; with split rows
   * ({@link LearnedButterflyConv#splitRows(boolean)}, N1 = 32 only) 12 at 32 x 64 and 16 at 32 x 32.
   */
  static int tensorCoreWarps(int n1, int n2, boolean split) {
    return tensorCoreWarps(n1, n2, split, false);
  }

  /**
   * As {@link LearnedButterflyConv#tensorCoreWarps(int, int, boolean)}; pair (N1 = 32 only, before split): the launch bound, 16 warps, except
   * the backward's dumping kernel at 32 x 64 (12: its 133 registers).
   */
  static int tensorCoreWarps(int n1, int n2, boolean split, boolean pair, boolean dump) {
    if (pair && n1 == 32) return dump && n2 == 64 ? 12 : 16;
    return tensorCoreWarps(n1, n2, split, false);
  }

  static int tensorCoreWarps(int n1, int n2, boolean split, boolean pair) {
    if (pair && n1 == 32) return 16;
    return tensorCoreWarps(n1, n2, split, pair, false, 0);
  }

  /** With the N1 = 16 kernel {@code n16} ({@link LearnedButterflyConv#n16Kernel(int)}): 1 (f) 16 warps, 2 (f2) and 3 (f2c) 10 warps, two blocks per SM. */
  static int tensorCoreWarps(int n1, int n2, boolean split, boolean pair, boolean dump, int n16) {
    if (pair && n1 == 32) return tensorCoreWarps(n1, n2, split, true, dump);
    if (n1 == 16 && (n16 == 2 || n16 == 3)) return 10;
    if (split && n1 == 32) return n2 == 64 ? 12 : 16;
    return n2 == 64 ? 8 : n1 == 32 ? 12 : 16;
  }

  /** Dynamic shared memory of the tensor-core kernel (learned_tc.cu's LbtLayout): blocks, Kp, twiddles, warp buffers. */
  static int tensorCoreSmem(int n1, int n2, boolean split) {
    return tensorCoreSmem(n1, n2, split, false, 0);
  }

  /**
   * With pair (N1 = 32) and {@code warps} per block: one row buffer per two warps, each warp's x stage of 32 rows of
   * N2/2 + 8 values, N twiddles.
   */
  static int tensorCoreSmem(int n1, int n2, boolean split, boolean pair, int warps) {
    return tensorCoreSmem(n1, n2, split, pair, warps, 0);
  }

  /**
   * Chained pair kernels ({@link LearnedButterflyConv#chainRows(boolean)}, N1 = 32): per pair the row buffer and two x stages of 32 rows of
   * N2 + 8 values, then the start-value table (192 lanes x 6 float2); no full twiddle table (built in the pairs' buffers).
   */
  static int tensorCoreSmem(int n1, int n2, boolean split, boolean pair, int warps, int n16, boolean pairTw, boolean chain) {
    return tensorCoreSmem(n1, n2, split, pair, warps, n16, pairTw, chain, 1);
  }

  /**
   * Chained pair kernels on {@code rowsPerPair} rows at once ({@link LearnedButterflyConv#batchRows(boolean)}, learned_tc_chain2.cuh
   * lbc2_pair_el): per pair that many row buffers and two sets of that many x stages.
   */
  static int tensorCoreSmem(int n1, int n2, boolean split, boolean pair, int warps, int n16, boolean pairTw, boolean chain,
      int rowsPerPair) {
    if (chain && pair && n1 == 32) {
      int blk = 2 * (4 * n1 * (n1 + 8) + 4 * n2 * (n2 + 8)), kpB = 8 * n1 * (n2 + 8), tw = 8 * (128 + Math.max(1, n1 * n2 / 128));
      return blk + kpB + tw + warps / 2 * rowsPerPair * (2 * n1 * (2 * n2 + 8) + 2 * 2 * 32 * (n2 + 8)) + 192 * 6 * 8;
    }
    return tensorCoreSmem(n1, n2, split, pair, warps, n16, pairTw);
  }

  /** Pair kernels with the start-value table ({@link LearnedButterflyConv#pairTwiddleTable(boolean)}): 192 lanes x 6 float2 more. */
  static int tensorCoreSmem(int n1, int n2, boolean split, boolean pair, int warps, int n16, boolean pairTw) {
    return tensorCoreSmem(n1, n2, split, pair, warps, n16) + (pair && n1 == 32 && pairTw ? 192 * 6 * 8 : 0);
  }

  /**
   * With the N1 = 16 kernel {@code n16} (1, 2, 3: {@code warps} row buffers, the full twiddle table, N float2, and the
   * lanes' recurrence start values, 6 x 32 float2).
   */
  static int tensorCoreSmem(int n1, int n2, boolean split, boolean pair, int warps, int n16) {
    int n = n1 * n2;
    int blk = 2 * (4 * n1 * (n1 + 8) + 4 * n2 * (n2 + 8)), kpB = 8 * n1 * (n2 + 8), tw = 8 * (128 + Math.max(1, n / 128));
    if (pair && n1 == 32)
      return blk + kpB + tw + warps / 2 * (2 * n1 * (2 * n2 + 8) + 4 * 32 * (n2 / 2 + 8)) + 8 * n;
    if (n1 == 16 && n16 != 0) return blk + kpB + tw + warps * 2 * n1 * (2 * n2 + 8) + 8 * n + 6 * 32 * 8;
    return blk + kpB + tw + tensorCoreWarps(n1, n2, split) * 2 * n1 * (2 * n2 + 8);
  }

  /** Parses the switch property {@code name}'s value {@code v}: {@code on} / {@code off}, or {@code dflt} when unset. */
  static boolean onOff(String name, String v, boolean dflt) {
    if (v == null) return dflt;
    return switch (v) {
      case "on" -> true;
      case "off" -> false;
      default -> throw new IllegalArgumentException(name + ": expected on or off, got " + v);
    };
  }

  /** {@code -Dlongconv4j.learned.gramstages}: 2, 3 or 4 (null: the default); anything else is an error naming the property. */
  static int gramStages(String v, int def) {
    if (v == null) return def;
    return switch (v.trim()) {
      case "2" -> 2;
      case "3" -> 3;
      case "4" -> 4;
      default -> throw new IllegalArgumentException("longconv4j.learned.gramstages (Gram cp.async stages): expected 2, 3 or 4, got " + v);
    };
  }

  /**
   * Warps per block of the chain-Gram kernels (learned_tc_gram.cu, their launch bounds): pdc's (16 at 32 x 32, 12 at
   * 32 x 64) with one V row tile, 12 with two (pdcg2: at 16 warps ptxas spilled).
   */
  static int chainGramWarps(int n1, int n2, int tiles) {
    return n1 == 16 ? tensorCoreWarps(n1, n2, false, false, true, 3) : tiles == 2 ? 12 : tensorCoreWarps(n1, n2, false, true, true);
  }

  /**
   * Shared memory of the f2cg kernels beyond f2c's (learned_tc.cu lbt_forward's FE path with GV): per warp the Gram
   * accumulator (2 planes of 16 rows of 24 floats) and the V stage (16 rows of N2 + 8 16-bit values).
   */
  static int chainGramSmem16(int n2, int warps) { return warps * (2 * 16 * 24 * 4 + 16 * (n2 + 8) * 2); }

  /**
   * Shared memory of the chain-Gram kernels beyond pdc's (learned_tc_chain.cuh lbg_pair_floats, lbg_pair_el): per pair the
   * accumulator, Re and Im planes of 32 rows of 16 tiles + 8 floats, and with two V row tiles the V stages (two of 32
   * rows of N2 + 8 16-bit values; with one tile the two 16-row x stages and the two 16-row V stages take the bytes of
   * pdc's two 32-row x stages).
   */
  static int chainGramSmem(int n2, int warps, int tiles) {
    return warps / 2 * (2 * 32 * (16 * tiles + 8) * 4 + (tiles == 2 ? 2 * 32 * (n2 + 8) * 2 : 0));
  }

  /** Shared memory of the fused-dKp accumulator (learned_tc_chain.cuh lbk_stride): Re and Im planes of N1 rows of N2 + 8 floats. */
  static int fusedDkpSmem(int n1, int n2) { return 8 * n1 * (n2 + 8); }

  /**
   * Warps per block of the pw kernels (their launch bound): 16 at 32 x 32, 12 at 32 x 64 (shared memory: 212 KB); pw2p
   * ({@code rows2}) 12 (150 registers; at 16 warps ptxas spilled).
   */
  static int wgmmaWarps(int n2, boolean rows2) { return rows2 || n2 == 64 ? 12 : 16; }

  /**
   * Shared memory of the pw kernels beyond pc's: step 3's wgmma B layouts (learned_tc_wg.cuh lbw_wgb_bytes: N2/32 passes x
   * 2 matrices x 64 x N2 16-bit values); step 2's take the padded b2 / b3 planes, which those kernels do not read.
   */
  static int wgmmaSmem(int n2) { return (n2 / 32) * 2 * 64 * n2 * 2; }

  /** Shared memory of pwt's step-3 twiddle table beyond pwd's (learned_tc_wg.cuh lbw_tw3_build): rows 8-31 of 32 x N2 float2 (12 KB at N2 = 64; rows 0-7 go into the 4 KB of the b2 / b3 planes that b2's layouts leave free). */
  static int wgmmaTwiddleSmem(int n2) { return 24 * n2 * 8; }

  /**
   * The tensor-core forward's blocks per channel: {@code fixed} if positive (at most what the rows need), else enough for
   * ~8 blocks per SM over the H channels, at most ceil(B / rows) (rows: rows in flight per block).
   */
  static int gridX(int B, int rows, int sms, int h, int fixed) {
    return gridX(B, rows, sms, h, fixed, 8);
  }

  /** As {@link LearnedButterflyConv#gridX(int, int, int, int, int)} with ~{@code perSm} blocks per SM over the H channels. */
  static int gridX(int B, int rows, int sms, int h, int fixed, int perSm) {
    int need = (B + rows - 1) / rows;
    return Math.max(1, fixed > 0 ? Math.min(fixed, need) : Math.min(need, (perSm * sms + h - 1) / h));
  }
}
