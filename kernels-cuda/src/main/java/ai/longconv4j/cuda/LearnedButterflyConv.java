// Shapes: B batch, H channels, L length, Lk kernel taps, N complex FFT size = N1 * N2 (N <= 2048).
//   u, y, dy, du: (B, H, L) device arrays of the plan's ElementType; k (H, Lk) fp32 (bidirectional: k0, k1);
//   D: (H) fp32; dk: (H, Lk) fp32 (bidirectional (2, H, Lk)); dD: (H) fp32.
//   blocks {Fa (N1, N1), Fb (N2, N2), Gb (N2, N2), Ga (N1, N1)}, complex interleaved (n, n, 2) as lib's LearnedButterfly.
package ai.longconv4j.cuda;

import static ai.longconv4j.cuda.LearnedDefaults.*;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.LearnedButterfly;

/**
 * The learned-butterfly long convolution on the GPU: lib's {@link LearnedButterfly} — a 2-factor
 * Monarch FFT convolution whose four dense DFT blocks are parameters (initialised to the exact DFT; twiddles fixed)
 * — with forward and backward (du, dk, dD and the four block gradients); the factorization is lib's ({@code ConvPlan}
 * with {@link ConvEngine#LEARNED}), so results match the CPU path. Supports N <= {@value #MAX_N} (L <= 1K causal).
 * Two kernels: for 16-bit I/O and N1, N2 multiples of 16 (N = 256 .. 2048) the forward and du run on tensor cores
 * (learned_tc.cu: 16-bit blocks prepared once per {@link #setBlocks}, fp32 accumulation; one warp per row, or at
 * N1 = 32 two warps per row, {@link #pairRows(boolean)}, the default; by default the row's first three products chained
 * in registers, {@link #chainRows(boolean)} and {@link #n16Kernel(int)} 3; at 32 x 32 two rows per pair from persistent
 * blocks, {@link #batchRows(boolean)} and {@link #persistentBlocks(boolean)}; at 32 x 64 on compute capability 9.0 the
 * complex products of steps 2 and 3 on Hopper's wgmma, {@link #wgmmaRows(boolean)}); otherwise,
 * or with {@link #tensorCores(boolean) tensorCores(false)} / {@code -Dlongconv4j.learned.fp32=true}, the fp32
 * CUDA-core twin (learned.cu, one block per row). On tensor cores the backward also takes the block gradients, dk and
 * dD from tensor-core kernels (learned_tc_bwd.cu, {@link #tensorCoreGradients(boolean)}), else from the fp32 kernel.
 * <pre>{@code
 * jshell> var lb = LearnedButterflyConv.plan(dev, 768, 1024, 1024, ConvMode.CAUSAL, ElementType.BF16)
 * lb ==> LearnedButterflyConv[H=768, L=1024, Lk=1024, CAUSAL, N=2048 = 32 x 64, io=BF16]
 * jshell> lb.setWeights(k, D); lb.forward(u, y, 64);
 * }</pre>
 */
public final class LearnedButterflyConv implements AutoCloseable, LearnedPlan {
  /** Largest FFT: seven N-point complex fp32 buffers of the backward fit in shared memory. */
  public static final int MAX_N = 2048;
  private static final String MODULE = "learned", MODULE_TC = "learned_tc", MODULE_TC_BWD = "learned_tc_bwd",
      MODULE_TC_GRAM = "learned_tc_gram";
  /** {@code -Dlongconv4j.learned.fp32=true}: every plan starts on the fp32 twin. */
  static final boolean FORCE_FP32 = Boolean.getBoolean("longconv4j.learned.fp32");

  private final CudaDevice device;
  private final int h, l, lk, n, n1, n2, taps0, taps1;
  private final ConvMode mode;
  private final ElementType io;
  private final DeviceBuffer kp, d, blocks, dBlocks;
  private final DeviceBuffer prepFwd, prepAdj;   // 16-bit blocks for the tensor-core kernel (null: not applicable)
  private boolean weightsSet, tensorCores, splitRows = DEFAULT_SPLIT, pairRows = DEFAULT_PAIR, tensorCoreGrads = true,
      asyncGrams = DEFAULT_ASYNC_GRAMS, pairTwiddleTable = DEFAULT_PAIR_TW, chainRows = DEFAULT_CHAIN, batchRows = DEFAULT_BATCH_ROWS,
      persistent, wgmmaRows, fusedDkp = DEFAULT_FUSED_DKP, fastReductions = DEFAULT_FAST_REDUCTIONS,
      chainGrams = DEFAULT_CHAIN_GRAMS, vectorDd = DEFAULT_VECTOR_DD, registerGrams = DEFAULT_REGISTER_GRAMS,
      constGramLoads = DEFAULT_CONST_GRAM_LOADS, gramRowPairs = DEFAULT_GRAM_ROW_PAIRS, wgmmaDescriptors = DEFAULT_WGMMA_DESCRIPTORS,
      wgmmaOverlap = DEFAULT_WGMMA_OVERLAP, wgmmaTwiddleTable = DEFAULT_WGMMA_TWIDDLE_TABLE;
  private int gramStages = DEFAULT_GRAM_STAGES;
  private int pairWarps = 16, n16Kernel = DEFAULT_N16_KERNEL, pairDumpWarps = 12, blocksPerChannel = DEFAULT_BLOCKS_PER_CHANNEL,
      autoBlocksPerSm = DEFAULT_AUTO_BLOCKS_PER_SM;
  private LearnedButterflyConv(CudaDevice device, int h, int l, int lk, ConvMode mode, ElementType io, ConvPlan p) {
    this.device = device; this.h = h; this.l = l; this.lk = lk; this.mode = mode; this.io = io;
    this.n = p.fftSize(); this.n1 = p.factors().get(0); this.n2 = p.factors().get(1);
    this.persistent = defaultPersistent(n2);
    this.wgmmaRows = defaultWgmma(n2);
    var lm = libMode(mode);
    this.taps0 = lm.effectiveTaps(l, lk, 0);
    this.taps1 = lm.sides() == 2 ? lm.effectiveTaps(l, lk, 1) : 0;
    this.kp = device.alloc(8L * h * n);
    this.d = device.alloc(4L * h);
    this.blocks = device.alloc(8L * blockElements());
    this.dBlocks = device.alloc(8L * blockElements());
    boolean tc = tensorCoresSupport(n1, n2, io);
    this.prepFwd = tc ? device.alloc(8L * (n1 * n1 + n2 * n2)) : null;
    this.prepAdj = tc ? device.alloc(8L * (n1 * n1 + n2 * n2)) : null;
    this.tensorCores = tc && !FORCE_FP32;
    setBlocks(LearnedButterfly.atInit(p).blocks());
  }

  /** A plan for (H, L, Lk) in {@code mode} with I/O type {@code io} (fp32 arithmetic); blocks at the exact DFT. */
  public static LearnedButterflyConv plan(CudaDevice device, int H, int L, int Lk, ConvMode mode, ElementType io) {
    if (H < 1 || H > 65535) throw new IllegalArgumentException("LearnedButterflyConv: H must be in [1, 65535], got " + H);
    if (Lk < 1 || Lk > L) throw new IllegalArgumentException("LearnedButterflyConv: need 1 <= Lk <= L, got Lk=" + Lk + ", L=" + L);
    ConvPlan p = ConvPlan.of(L, Lk, libMode(mode), ConvEngine.LEARNED, ai.longconv4j.conv.Precision.F64);
    if (p.fftSize() > MAX_N)
      throw new IllegalArgumentException("LearnedButterflyConv " + mode + ": L=" + L + " Lk=" + Lk + " needs N=" + p.fftSize()
          + "; the GPU kernel handles N <= " + MAX_N);
    return new LearnedButterflyConv(device, H, L, Lk, mode, io, p);
  }

  static ai.longconv4j.conv.ConvMode libMode(ConvMode m) { return ai.longconv4j.conv.ConvMode.valueOf(m.name()); }

  private int blockElements() { return 2 * (n1 * n1 + n2 * n2); }

  /** Whether the tensor-core kernel (learned_tc.cu) takes (N1, N2) with I/O type {@code io}: 16-bit, N = 256 .. 2048. */
  public static boolean tensorCoresSupport(int n1, int n2, ElementType io) {
    return io != ElementType.F32 && ((n1 == 16 && (n2 == 16 || n2 == 32)) || (n1 == 32 && (n2 == 32 || n2 == 64)));
  }

  /** Forces the fp32 twin ({@code false}) or the tensor-core kernel ({@code true}: 16-bit I/O, N = 256 .. 2048 only). */
  public LearnedButterflyConv tensorCores(boolean on) {
    if (on && prepFwd == null)
      throw new IllegalArgumentException("LearnedButterflyConv.tensorCores: needs 16-bit I/O and N1, N2 in {16, 32, 64} "
          + "(N = 256 .. 2048), got " + this);
    tensorCores = on;
    return this;
  }

  /**
   * N1 = 32 only: the tensor-core kernel's products one 16-row tile at a time (half the registers, so 12 or 16 warps
   * per block instead of 8 or 12, y written from the accumulators) or both row tiles at once (block fragments reused
   * twice). Same math and rounding; a speed choice.
   */
  public LearnedButterflyConv splitRows(boolean on) { splitRows = on; return this; }

  public boolean splitRows() { return splitRows && n1 == 32 && !pairRows(); }

  /**
   * N1 = 32 only: two warps per row (learned_tc.cu's lbp_row: each takes half the columns of the left products and one
   * 16-row tile of the right products; the next row's x is fetched by cp.async behind the current one; epilogue twiddles
   * by recurrence), 126 registers and 16 warps per block ({@link #pairWarps(int)}) instead of 219 and 8. The same products
   * in the same order (the output equals the one-warp kernel's); a speed choice ({@link #DEFAULT_PAIR}) that takes
   * precedence over {@link #splitRows(boolean)}.
   */
  public LearnedButterflyConv pairRows(boolean on) { pairRows = on; return this; }

  public boolean pairRows() { return pairRows && n1 == 32; }

  /**
   * N1 = 16 (N = 256, 512: L <= 256 causal): 0 the one-warp kernel (session 5, the default), 1 its {@code f} twin
   * (learned_tc.cu's FE: the pair kernels' epilogues, twiddles by recurrence and Kp in 16-byte loads; 16 warps per
   * block), 2 the {@code f2} twin (the same code at 10 warps per block, two blocks per SM: 20 warps instead of 16),
   * 3 {@code f2c} (f2's launch, steps 1 to 3 chained in registers as {@link #chainRows(boolean)}: learned_tc_chain.cuh
   * lbc_row16; f2's products, roundings and twiddles). The same products in the same order; only the epilogue twiddles'
   * fp32 roundings differ. Forward, du and the backward's dumping chains.
   */
  public LearnedButterflyConv n16Kernel(int v) {
    if (v < 0 || v > 3) throw new IllegalArgumentException("LearnedButterflyConv.n16Kernel: 0, 1, 2 or 3, got " + v);
    n16Kernel = v;
    return this;
  }

  public int n16Kernel() { return n1 == 16 ? n16Kernel : 0; }

  /**
   * Pair kernels (N1 = 32) only: the lanes' start values of the epilogue-twiddle recurrences from a per-block table laid
   * out by lane (conflict-free loads; the {@code t} kernels) instead of looked up at lane-dependent indices of the full
   * twiddle table, and the next row's x staged by cp.async in a bank-conflict-free lane order. The same values in the same
   * places, so the same output as the pair kernels; a speed choice ({@link #DEFAULT_PAIR_TW}).
   */
  public LearnedButterflyConv pairTwiddleTable(boolean on) { pairTwiddleTable = on; return this; }

  public boolean pairTwiddleTable() { return pairTwiddleTable && pairRows(); }

  /**
   * Pair kernels (N1 = 32) only: the {@code c} kernels (learned_tc_chain.cuh) — both warps split steps 1 to 3 by row
   * tile, so X1 and P stay in registers as the next product's fragments (only X3 goes through shared memory), the x row
   * double-buffered per pair. The same products and twiddles as the start-value-table kernels
   * ({@link #pairTwiddleTable(boolean)}, which they imply); not bit for bit (ptxas fuses some fp32 operations
   * differently, which flips single 16-bit roundings: within 1.9e-5 of them in lbf4/s2); a speed choice
   * ({@link #DEFAULT_CHAIN}).
   */
  public LearnedButterflyConv chainRows(boolean on) { chainRows = on; return this; }

  public boolean chainRows() { return chainRows && pairRows(); }

  /**
   * Chained pair kernels at 32 x 32 (L = 512 causal) without dumps (the forward, and du where the gradients are not
   * taken on tensor cores): the {@code pc2} kernel (learned_tc_chain2.cuh), each pair on two rows of a channel at once,
   * so each block fragment, Kp value and twiddle step serves both rows. The same products, roundings and twiddles per
   * row as pc (its slow twin); a speed choice ({@link #DEFAULT_BATCH_ROWS}). Implies {@link #chainRows(boolean)}'s
   * conditions; other shapes ignore it.
   */
  public LearnedButterflyConv batchRows(boolean on) { batchRows = on; return this; }

  /** Whether the forward runs pc2 ({@link #batchRows(boolean)} on a 32 x 32 chained plan). */
  public boolean batchRows() { return batchRows && chainRows() && n2 == 32 && !wgmmaRows(); }

  /**
   * Chained pair kernels (N1 = 32) without dumps: persistent blocks, one per SM (at most H), that build the blocks,
   * twiddle tables and start values once and then take channel after channel (Kp reloaded per channel), instead of a
   * grid of (blocks per channel, H) blocks that each build them: {@code pcp} (32 x 32, 32 x 64; learned_tc_chain2.cuh's
   * row loop with one row per pair, pc's products per row) or, with {@link #batchRows()}, {@code pc2p}. A speed choice
   * ({@code -Dlongconv4j.learned.persistent=on|off}, default {@link #defaultPersistent(int)}).
   */
  public LearnedButterflyConv persistentBlocks(boolean on) { persistent = on; return this; }

  /** Whether the forward runs pcp / pc2p ({@link #persistentBlocks(boolean)} on a chained plan). */
  public boolean persistentBlocks() { return persistent && chainRows() && !wgmmaRows(); }

  /**
   * Chained pair kernels (N1 = 32) without dumps on a GPU of compute capability 9.0 (Hopper, the sm_90a image): the
   * {@code pw} kernels (learned_tc_wg.cuh), pc with the complex products of steps 2 and 3 on wgmma (a warpgroup of 4
   * warps on two rows, the blocks read from shared memory once per 64 rows; 12 warps per block at 32 x 64, 16 at 32 x 32);
   * at 32 x 32 with {@link #batchRows(boolean)} on, {@code pw2p}: four rows per warpgroup, two per pair as pc2p, persistent
   * blocks of 12 warps ({@link #wgmmaRows2()}).
   * The same products, roundings, twiddles and Kp per row as pc (fp32 sums possibly associated differently). Takes
   * precedence over {@link #persistentBlocks(boolean)}; elsewhere ignored. A speed choice ({@link #defaultWgmma(int)}).
   */
  public LearnedButterflyConv wgmmaRows(boolean on) { wgmmaRows = on; return this; }

  /** Whether the forward runs pw / pw2p ({@link #wgmmaRows(boolean)} on a chained plan, on compute capability 9.0). */
  public boolean wgmmaRows() { return wgmmaRows && chainRows() && device.computeCapability() == 90; }

  /**
   * Whether the forward runs pw2p: {@link #wgmmaRows()} with {@link #batchRows(boolean)} on at 32 x 32 (pc2p's two rows
   * per pair from persistent blocks, steps 2 and 3 on wgmma; 12 warps); else pw.
   */
  public boolean wgmmaRows2() { return wgmmaRows() && batchRows && n2 == 32; }

  /**
   * pw with its wgmma matrix descriptors built once per block ({@code pwd}, lbf10; learned_tc_wg.cuh lbw_product_d): a
   * step's descriptor is the block's base descriptor plus the step's offset in its low word, where pw rebuilds every
   * descriptor from the shared address (shift, mask, or: lbf6-3's ncu counted 350 uniform-datapath instructions per row at
   * 1K). The same wgmmas with the same operands, so bitwise pw's results. A speed choice; applies where
   * {@link #wgmmaDescriptors()} says so.
   */
  public LearnedButterflyConv wgmmaDescriptors(boolean on) { wgmmaDescriptors = on; return this; }

  /** Whether the forward runs pwd: {@link #wgmmaDescriptors(boolean)} on where the forward runs pw (not pw2p). */
  public boolean wgmmaDescriptors() { return wgmmaDescriptors && wgmmaRows() && !wgmmaRows2(); }

  /**
   * pwd with steps 2 and 3 in 16-column passes on two accumulator sets, each pass's wgmmas in flight while the previous
   * pass's epilogue runs ({@code pwo}, lbf10; learned_tc_wg.cuh lbw_steps_ov): pw waits for every pass before its epilogue.
   * The same products per element in the same k order, Kp, twiddles and roundings as pw. A speed choice; takes
   * precedence over {@link #wgmmaDescriptors(boolean)} where {@link #wgmmaOverlap()} says so.
   */
  public LearnedButterflyConv wgmmaOverlap(boolean on) { wgmmaOverlap = on; return this; }

  /** Whether the forward runs pwo: {@link #wgmmaOverlap(boolean)} on where the forward runs pw (not pw2p). */
  public boolean wgmmaOverlap() { return wgmmaOverlap && wgmmaRows() && !wgmmaRows2(); }

  /**
   * pwd with step 3's twiddles read from a per-block table ({@code pwt}, lbf11; learned_tc_wg.cuh lbw_tw3_build): the
   * table holds exactly the values of step 3's twiddle recurrence (built once per block by the same fp32 operations), so
   * each row's step 3 loads them (one 16-byte shared load per two elements) instead of recomputing the recurrence (4 fp32
   * instructions per element). Bitwise pwd's results. 16 KB more shared memory; 32 x 64 only (L = 1K causal). A speed
   * choice; applies where {@link #wgmmaTwiddleTable()} says so, and yields to {@link #wgmmaOverlap(boolean)}.
   */
  public LearnedButterflyConv wgmmaTwiddleTable(boolean on) { wgmmaTwiddleTable = on; return this; }

  /** Whether the forward runs pwt: {@link #wgmmaTwiddleTable(boolean)} and {@link #wgmmaDescriptors()} on, N2 = 64, not pwo. */
  public boolean wgmmaTwiddleTable() { return wgmmaTwiddleTable && n2 == 64 && wgmmaDescriptors() && !wgmmaOverlap(); }

  /**
   * Tensor-core forward / du: blocks per channel (the grid's x; its y is H); 0 (the default) lets the launch choose
   * (enough blocks for ~8 per SM, no more than the rows need). A bench knob; the result does not depend on it.
   */
  public LearnedButterflyConv blocksPerChannel(int g) {
    if (g < 0 || g > 65535) throw new IllegalArgumentException("LearnedButterflyConv.blocksPerChannel: 0 .. 65535, got " + g);
    blocksPerChannel = g;
    return this;
  }

  /**
   * Tensor-core chains (forward, du, the backward's dumping chains) without a fixed {@link #blocksPerChannel(int)}: blocks
   * per channel = min(what the rows need, ceil(n SMs / H)); n = 1 (the default in code, {@link Variants#AUTO_BLOCKS_PER_SM}:
   * at H = 768 one block per channel, so each block's setup — blocks, Kp, twiddle tables — serves all its rows) or 8
   * (lbf3's launch, the slow twin).
   */
  public LearnedButterflyConv autoBlocksPerSm(int n) {
    if (n < 1 || n > 64) throw new IllegalArgumentException("LearnedButterflyConv.autoBlocksPerSm: 1 .. 64, got " + n);
    autoBlocksPerSm = n;
    return this;
  }

  /** Pair kernels' warps per block for forward and du (12 or 16; the default 16; the backward's dumps run 12 at 32 x 64). */
  public LearnedButterflyConv pairWarps(int w) {
    if (w != 12 && w != 16) throw new IllegalArgumentException("LearnedButterflyConv.pairWarps: 12 or 16, got " + w);
    pairWarps = w;
    return this;
  }

  /**
   * Chained pair kernels at 32 x 64 (L = 1K causal): warps per block of the backward's dumping chains, 12 (pdc, 144
   * registers; the measured default) or 16 (pdcw, the same code under a 512-thread launch bound: 127 registers).
   */
  public LearnedButterflyConv pairDumpWarps(int w) {
    if (w != 12 && w != 16) throw new IllegalArgumentException("LearnedButterflyConv.pairDumpWarps: 12 or 16, got " + w);
    pairDumpWarps = w;
    return this;
  }

  /**
   * The tensor-core backward's dKp inside the adjoint dumping chain (learned_tc_chain.cuh lbc_steps KF, kernels pdck /
   * f2ck: each block sums C_adj conj(C_fwd) over its rows in an fp32 shared-memory accumulator, reading the forward
   * chain's dumped C; the adjoint's C is not dumped and lbt_dkp only sums dD) or, {@code false}, the dumped Cs summed by
   * lbt_dkp. Takes effect on the chained dumping kernels (pdc at N1 = 32, f2c at N1 = 16), not on pdcw / pdt / f2.
   */
  public LearnedButterflyConv fusedDkp(boolean on) { fusedDkp = on; return this; }

  /**
   * The tensor-core backward's reductions: lbt_gram_reduce2 (the Gram kernels' parts summed by 8 warps per 32 elements)
   * and lbt_dkp2 (grid (H, N / 1024), batch loops unrolled by 8) instead of lbt_gram_reduce / lbt_dkp ({@code false}).
   */
  public LearnedButterflyConv fastReductions(boolean on) { fastReductions = on; return this; }

  public boolean fastReductions() { return fastReductions; }

  /**
   * The tensor-core backward's dGa and dFa inside the dumping chains (lbf8; learned_tc_gram.cu, kernels pdcg1 / pdcg2 at
   * N1 = 32, f2cg at N1 = 16):
   * each chain sums the N1 x N1 Gram of its X3 with the other input (the forward chain with dy: dGa; the adjoint chain
   * with u: dFa) over its rows in shared memory and writes one partial per block (lbt_gram_reduce(2) sums them); X3 is
   * not dumped and the two lbt_gram_*_b kernels do not run. Takes effect where {@link #chainGrams()} says so.
   */
  public LearnedButterflyConv chainGrams(boolean on) { chainGrams = on; return this; }

  /**
   * Whether the backward runs {@link #chainGrams(boolean)}'s kernels: tensor-core gradients, not fusedDkp, on the chained
   * pair kernels (N1 = 32, pdc: not pdcw) with ceil(ceil(L / N2) / 16) V row tiles at most 1 at 32 x 64 (every causal L;
   * two tiles' accumulators do not fit beside pdc's shared memory) and at most 2 at 32 x 32, or on f2c (N1 = 16).
   */
  public boolean chainGrams() {
    return chainGrams && tensorCoreGradients() && !fusedDkp()
        && (pairRows() ? chainRows() && !wideDumps() && chainGramTiles() <= (n2 == 64 ? 1 : 2) : n1 == 16 && n16Kernel() == 3);
  }

  /** V's non-zero row tiles of the chain-Gram kernels: ceil(ceil(L / N2) / 16). */
  int chainGramTiles() { return ((l + n2 - 1) / n2 + 15) / 16; }

  /** The chain-Gram kernel's name (learned_tc_gram.cu). */
  String chainGramKernel() {
    return "lbt_forward_" + io.tag() + "_" + n1 + "x" + n2 + (n1 == 16 ? "f2cg" : "pdcg" + chainGramTiles() + (registerGrams() ? "r" : ""));
  }

  /**
   * The tensor-core backward's dD by lbt_dkp3 (lbf8: on its own grid row, 16-byte loads of dy and u; dKp as lbt_dkp2)
   * instead of lbt_dkp2 / lbt_dkp ({@code false}).
   */
  public LearnedButterflyConv vectorDd(boolean on) { vectorDd = on; return this; }

  public boolean vectorDd() { return vectorDd; }

  /**
   * The chain-Gram kernel at 32 x 64 with its dGa / dFa accumulators in registers (lbf9; kernel 32x64pdcg1r, 12 warps as
   * pdcg1): each warp of a pair owns its 16 rows of the pair's accumulator, so the 16 fp32 per lane stay in registers
   * over all rows instead of a shared-memory read-modify-write per row; the same MMAs in the same order, so the partials
   * are bitwise pdcg1's. Takes effect where {@link #registerGrams()} says so.
   */
  public LearnedButterflyConv registerGrams(boolean on) { registerGrams = on; return this; }

  /**
   * Whether the backward runs {@link #registerGrams(boolean)}'s kernel: {@link #chainGrams()} at 32 x 64 (one V row tile
   * there always: pdcg1). At 32 x 32 the register kernel would need 12 warps instead of pdcg1's 16, and that was slower
   * (lbf9-1 ncu at L = 512: 270-273 us against 264-268), so it is not built.
   */
  public boolean registerGrams() { return registerGrams && chainGrams() && n1 == 32 && n2 == 64 && chainGramTiles() == 1; }

  /**
   * cp.async stages of the dFb / dGb Gram kernels (lbt_gram_*_a; lbf9): 2 (lbt_gram_*_a_async: one row in flight per
   * block, four blocks per SM), 3 (_async3: two rows in flight, four blocks per SM) or 4 (_async4: three rows, three
   * blocks per SM). Only with {@link #asyncGrams(boolean)} (L % 8 == 0 for real operands; the _a forms have none).
   */
  public LearnedButterflyConv gramStages(int stages) {
    if (stages < 2 || stages > 4) throw new IllegalArgumentException("LearnedButterflyConv.gramStages: 2, 3 or 4, got " + stages);
    gramStages = stages;
    return this;
  }

  public int gramStages() { return asyncGrams ? gramStages : 2; }

  /**
   * The Gram kernels' cp.async row loads with compile-time chunk counts (lbf9; learned_tc_bwd.cu load_operand_async_fi,
   * kernels lbt_gram_*_asyncs, _async3s, _async4s): the same copies without a signed division by a run-time value per
   * 16-byte chunk (lbf9-2 ncu: the 1K _a Gram issued 3,113 instructions per row per block for 256 MMAs). Only with
   * {@link #asyncGrams(boolean)}; the partials are bitwise those without.
   */
  public LearnedButterflyConv constGramLoads(boolean on) { constGramLoads = on; return this; }

  public boolean constGramLoads() { return constGramLoads && asyncGrams; }

  /**
   * The dFb / dGb Grams at N2 = 32 (16 x 32, 32 x 32: 32 x 32 outputs, four 16 x 16 units for 8 warps) on two rows per
   * step, warps 0-3 on one and 4-7 on the other, summed at the end (lbf9; learned_tc_bwd.cu lbt_gram_rp, kernels
   * lbt_gram_*_a_asyncp; their row loads as {@link #constGramLoads(boolean)}'s). Takes effect where
   * {@link #gramRowPairs()} says so; {@link #gramStages(int)} does not apply to them.
   */
  public LearnedButterflyConv gramRowPairs(boolean on) { gramRowPairs = on; return this; }

  /** Whether the backward runs {@link #gramRowPairs(boolean)}'s kernels: {@link #asyncGrams(boolean)}, N2 = 32. */
  public boolean gramRowPairs() { return gramRowPairs && asyncGrams && n2 == 32; }

  /** Whether the backward runs {@link #fusedDkp(boolean)}'s kernels (pdck / f2ck). */
  public boolean fusedDkp() {
    return fusedDkp && tensorCoreGradients() && (pairRows() ? chainRows() && !wideDumps() : n1 == 16 && n16Kernel() == 3);
  }

  /** Whether the dumping chains run pdcw (chained pair kernels at 32 x 64 with {@code pairDumpWarps(16)}). */
  boolean wideDumps() { return chainRows() && n2 == 64 && pairDumpWarps == 16; }

  /** The tensor-core forward kernel's name (dump: the backward's variant that stores the intermediates). */
  String tensorCoreKernel(boolean dump) {
    String variant = pairRows() ? (dump ? "pd" : "p") + (chainRows ? (dump && wideDumps() ? "cw" : !dump && wgmmaRows() ? (wgmmaRows2() ? "w2p" : wgmmaOverlap() ? "wo" : wgmmaTwiddleTable() ? "wt" : wgmmaDescriptors() ? "wd" : "w") : !dump && batchRows() ? (persistentBlocks() ? "c2p" : "c2")
        : !dump && persistentBlocks() ? "cp" : "c")
        : pairTwiddleTable ? "t" : "") : splitRows() ? "s"
        : n16Kernel() == 1 ? "f" : n16Kernel() == 2 ? "f2" : n16Kernel() == 3 ? "f2c" : "";
    return "lbt_forward_" + io.tag() + "_" + n1 + "x" + n2 + variant;
  }

  /**
   * With tensor cores on: the block gradients, dKp (so dk) and dD from the tensor-core backward ({@code true}, the
   * default: both chains dump their 16-bit intermediates, learned_tc_bwd.cu sums the products; 16 B * H * N * 2 bytes of
   * workspace) or from the fp32 kernel ({@code false}; du stays on tensor cores).
   */
  public LearnedButterflyConv tensorCoreGradients(boolean on) { tensorCoreGrads = on; return this; }

  public boolean tensorCoreGradients() { return tensorCores && tensorCoreGrads; }

  /**
   * The tensor-core backward's Gram kernels with the next row's operands copied by cp.async during the current row's
   * products (two buffers; real x operands need L % 8 == 0, else they load synchronously) or one row at a time
   * ({@code false}). Same products in the same order.
   */
  public LearnedButterflyConv asyncGrams(boolean on) { asyncGrams = on; return this; }

  /** Whether forward and du run on the tensor-core kernel. */
  public boolean tensorCores() { return tensorCores; }

  /** The factors {N1, N2}. */
  public int[] factors() { return new int[] {n1, n2}; }
  public int fftSize() { return n; }

  /** Uploads the four blocks {Fa, Fb, Gb, Ga} (lib's layout, e.g. {@code LearnedButterfly.blocks()}). */
  public LearnedButterflyConv setBlocks(double[][] b) {
    int[] sizes = {n1, n2, n2, n1};
    if (b.length != 4) throw new IllegalArgumentException("LearnedButterflyConv.setBlocks: need 4 blocks, got " + b.length);
    float[] flat = new float[2 * blockElements()];
    for (int i = 0, off = 0; i < 4; i++) {
      if (b[i].length != 2 * sizes[i] * sizes[i])
        throw new IllegalArgumentException("LearnedButterflyConv.setBlocks: block " + i + " must be (" + sizes[i] + ", "
            + sizes[i] + ", 2), got " + b[i].length + " values");
      for (double v : b[i]) flat[off++] = (float) v;
    }
    blocks.copyFrom(flat);
    if (prepFwd != null) {   // the 16-bit blocks of the tensor-core kernel: forward and adjoint order
      var k = device.module(MODULE_TC).kernel("lbt_prep_" + io.tag());
      int e = blockElements();
      k.launch(device.stream(), (e + 255) / 256, 1, 256, 0, blocks, prepFwd, n1, n2, 0);
      k.launch(device.stream(), (e + 255) / 256, 1, 256, 0, blocks, prepAdj, n1, n2, 1);
    }
    return this;
  }

  /** Kernel (H, Lk) for CAUSAL / CIRCULAR and D (H): the permuted exact spectrum is computed on the device. */
  public LearnedButterflyConv setWeights(float[] k, float[] D) {
    if (mode == ConvMode.BIDIRECTIONAL) throw new IllegalArgumentException("LearnedButterflyConv BIDIRECTIONAL: pass k0, k1");
    return upload(k, null, D);
  }

  /** Kernels k0 (lags 0..Lk-1) and k1 (lags -1..-Lk), each (H, Lk), and D (H), for BIDIRECTIONAL. */
  public LearnedButterflyConv setWeights(float[] k0, float[] k1, float[] D) {
    if (mode != ConvMode.BIDIRECTIONAL) throw new IllegalArgumentException("LearnedButterflyConv " + mode + ": takes one kernel");
    return upload(k0, k1, D);
  }

  private LearnedButterflyConv upload(float[] k0, float[] k1, float[] D) {
    if (k0.length != h * lk || (k1 != null && k1.length != h * lk) || D.length != h)
      throw new IllegalArgumentException("LearnedButterflyConv.setWeights: k must be (H=" + h + ", Lk=" + lk + ") and D (H="
          + h + "), got " + k0.length + (k1 != null ? ", " + k1.length : "") + " and " + D.length + " values");
    d.copyFrom(D);
    try (DeviceBuffer a = device.upload(k0); DeviceBuffer b = k1 == null ? null : device.upload(k1)) {
      device.module(MODULE).kernel("lb_spectrum").launch(device.stream(), h, 1, 256, 8 * n, a,
          b == null ? new DevicePointer() : b, kp, lk, taps0, taps1, n1, n2);
      device.stream().synchronize();
    }
    weightsSet = true;
    return this;
  }

  /** y = conv(u, k) + D u through the learned blocks, queued on the device's stream. */
  public void forward(DeviceBuffer u, DeviceBuffer y, int B) {
    check("forward", u, y, B);
    if (tensorCores) tensorCoreChain(u, y, B, prepFwd, 0, new DevicePointer());
    else device.module(MODULE).kernel("lb_forward_" + io.tag()).launch(device.stream(), B, h, 256, 32 * n, u, kp, d, blocks, y,
        h, l, n1, n2);
  }

  /** learned_tc.cu: x -> out through the prepared blocks pb (forward: u -> y; adjoint with conj(Kp): dy -> du). */
  private void tensorCoreChain(DeviceBuffer x, DeviceBuffer out, int B, DeviceBuffer pb, int conjK, Object dump) {
    tensorCoreChain(x, out, B, pb, conjK, dump, null, null, 0f);
  }

  /** fdump != null: the fused-dKp adjoint chain (pdck / f2ck) reading the forward dump fdump, adding dKp * kscale into gk. */
  private void tensorCoreChain(DeviceBuffer x, DeviceBuffer out, int B, DeviceBuffer pb, int conjK, Object dump,
      DeviceBuffer fdump, DeviceBuffer gk, float kscale) {
    boolean split = splitRows(), pair = pairRows(), dumps = dump instanceof DeviceBuffer;
    boolean wg = !dumps && wgmmaRows(), wg2 = wg && wgmmaRows2();
    int w = wg ? LearnedLaunch.wgmmaWarps(n2, wg2) : pair ? Math.min(pairWarps, dumps && wideDumps() ? 16 : LearnedLaunch.tensorCoreWarps(n1, n2, false, true, dumps))
        : LearnedLaunch.tensorCoreWarps(n1, n2, split, false, dumps, n16Kernel());
    int perPair = !dumps && (batchRows() || wg2) ? 2 : 1;
    int rows = pair ? w / 2 * perPair : w;   // rows in flight per block
    boolean persist = !dumps && (persistentBlocks() || wg2);
    int gx = persist ? Math.min(device.smCount(), h) : LearnedLaunch.gridX(B, rows, device.smCount(), h, blocksPerChannel, autoBlocksPerSm);
    int smem = LearnedLaunch.tensorCoreSmem(n1, n2, split, pair, w, n16Kernel(), pairTwiddleTable(), chainRows(), perPair) + (wg ? LearnedLaunch.wgmmaSmem(n2) : 0)
        + (wg && wgmmaTwiddleTable() ? LearnedLaunch.wgmmaTwiddleSmem(n2) : 0);
    if (fdump != null)
      device.module(MODULE_TC).kernel(tensorCoreKernel(true) + "k").launch(device.stream(), gx, h, 32 * w, smem + LearnedLaunch.fusedDkpSmem(n1, n2),
          x, kp, d, pb, out, B, h, l, conjK, dump, fdump, gk, kscale);
    else device.module(MODULE_TC).kernel(tensorCoreKernel(dumps)).launch(device.stream(), gx, persist ? 1 : h, 32 * w, smem,
        x, kp, d, pb, out, B, h, l,
        conjK, dump);
  }

  /**
   * The tensor-core backward: the forward chain (its y into du, overwritten) and the adjoint chain (du) dump X1, C, P,
   * X3 per row; learned_tc_bwd.cu's Gram products give the block gradients, lbt_dkp dKp and dD, lbt_taps dk.
   */
  private void backwardTensorCores(DeviceBuffer u, DeviceBuffer dy, int B, DeviceBuffer du, DeviceBuffer dk, DeviceBuffer dD,
      int parts) {
    // async: 62 registers, 4 blocks of 256 per SM; one row at a time: 39, 6
    int rows = B * h, g = Math.min(rows, (asyncGrams ? 4 : 6) * device.smCount()), mMax = Math.max(n1, n2);
    long dumpBytes = (long) rows * 8 * n * 2;
    boolean cg = chainGrams();
    int cgx = cg ? chainGramGrid(B) : 0;
    try (DeviceBuffer fd = device.alloc(dumpBytes); DeviceBuffer ad = device.alloc(dumpBytes);
         DeviceBuffer part = device.alloc(8L * g * mMax * mMax); DeviceBuffer gk = device.alloc(8L * h * n);
         DeviceBuffer cpart = cg ? device.alloc(8L * cgx * h * n1 * n1) : null) {
      if (parts == 2) dk.fill32(0);   // the unreachable tap k1[L-1] gets gradient 0
      boolean fused = fusedDkp();
      CudaModule m = device.module(MODULE_TC_BWD);
      int fa = 0, fb = n1 * n1, gb = n1 * n1 + n2 * n2, ga = n1 * n1 + 2 * n2 * n2;
      if (cg) {   // dGa in the forward chain (M^H of X3 with dy), dFa in the adjoint chain (X3 with u); partials summed at once
        chainGramLaunch(u, du, B, prepFwd, 0, fd, dy, cpart, 1, cgx);
        reduceParts(m, cpart, cgx * h, n1 * n1, 1f, ga);
        chainGramLaunch(dy, du, B, prepAdj, 1, ad, u, cpart, 0, cgx);
        reduceParts(m, cpart, cgx * h, n1 * n1, 1f, fa);
      } else {
        tensorCoreChain(u, du, B, prepFwd, 0, fd);
        if (fused) {   // dKp in the adjoint chain (gk zeroed: several blocks per channel add into it)
          gk.fill32(0);
          tensorCoreChain(dy, du, B, prepAdj, 1, ad, fd, gk, 1f / n);
        } else tensorCoreChain(dy, du, B, prepAdj, 1, ad);
      }
      String cfg = "lbt_gram_" + io.tag() + "_" + n1 + "x" + n2;
      int smem = (asyncGrams ? 8 : 4) * n1 * (2 * n2 + 8);
      // gramStages (the _a forms): S buffers of 4 N1 (2 N2 + 8) bytes; 4 stages: three blocks per SM (shared memory)
      int stages = gramStages(), smemA = stages > 2 ? 4 * stages * n1 * (2 * n2 + 8) : smem,
          gA = stages == 4 ? Math.min(rows, 3 * device.smCount()) : g;
      DevicePointer none = new DevicePointer();
      float invN = 1f / n;
      // {kernel form, L source, L slot, L real, R source, R slot, R real, block offset, M, scale}
      Object[][] grams = {
          {"_b", none, 0, dy, fd, 3, none, ga, n1, 1f},     // dGa = sum dy @ D2^H
          {"_b", ad, 3, none, none, 0, u, fa, n1, 1f},      // dFa = sum gB @ A^H
          {"_a", fd, 2, none, ad, 0, none, gb, n2, invN},   // dGb = sum P^H @ gD1 (the adjoint X1 is N gD1)
          {"_a", fd, 0, none, ad, 2, none, fb, n2, invN}};  // dFb = sum B2^H @ gC (the adjoint P is N gC)
      for (int i = cg ? 2 : 0; i < grams.length; i++) {   // chainGrams: dGa and dFa done
        Object[] q = grams[i];
        int mm = (Integer) q[8];
        boolean rp = gramRowPairs() && q[0].equals("_a"), deep = !rp && stages > 2 && q[0].equals("_a");
        int gq = deep ? gA : g;
        // rp: two stages of two rows of both operands, 16 N1 (2 N2 + 8) bytes
        String kn = rp ? cfg + "_a_asyncp"
            : cfg + q[0] + (asyncGrams ? "_async" + (deep ? Integer.toString(stages) : "") + (constGramLoads() ? "s" : "") : "");
        m.kernel(kn).launch(device.stream(), gq, 1, 256,
            rp ? 16 * n1 * (2 * n2 + 8) : deep ? smemA : smem, q[1], q[2], q[3], q[4], q[5], q[6], part, rows, l);
        reduceParts(m, part, gq, mm * mm, (Float) q[9], (Integer) q[7]);
      }
      // fused: N1 = 0 passed, lbt_dkp's dKp loop is empty and it only sums dD
      if (vectorDd)   // grid (H, NS + 1): NS y-slices of 1024 dKp positions (none when fused), dD on the last row
        m.kernel("lbt_dkp3_" + io.tag()).launch(device.stream(), h, (fused ? 0 : Math.max(1, n / 1024)) + 1, 256, 0, fd, ad, u, dy, gk, dD,
            B, h, l, fused ? 0 : n1, n2, invN);
      else if (fastReductions)   // grid (H, N / 1024): y-slices of 1024 positions, dD in slice 0
        m.kernel("lbt_dkp2_" + io.tag()).launch(device.stream(), h, fused ? 1 : Math.max(1, n / 1024), 256, 0, fd, ad, u, dy, gk, dD, B, h, l,
            fused ? 0 : n1, n2, invN);
      else m.kernel("lbt_dkp_" + io.tag()).launch(device.stream(), h, 1, 256, 0, fd, ad, u, dy, gk, dD, B, h, l, fused ? 0 : n1, n2, invN);
      // dk: an inverse FFT per channel (lbt_taps; the fp32 route keeps learned.cu's direct DFT lb_taps, its twin)
      m.kernel("lbt_taps").launch(device.stream(), h, 1, 256, 12 * n, gk, dk, h, lk, taps0, taps1, parts - 1, n1, n2);
      device.stream().synchronize();
    }
  }

  /** out[off + e] = scale * sum of the parts' element e (lbt_gram_reduce2 with fastReductions, else lbt_gram_reduce). */
  private void reduceParts(CudaModule m, DeviceBuffer part, int parts, int e, float scale, int off) {
    if (fastReductions) m.kernel("lbt_gram_reduce2").launch(device.stream(), (e + 31) / 32, 1, 256, 0, part, parts, e, scale, dBlocks, off);
    else m.kernel("lbt_gram_reduce").launch(device.stream(), (e + 255) / 256, 1, 256, 0, part, parts, e, scale, dBlocks, off);
  }

  /** Warps per block of the chain-Gram kernel: pdc's (capped by {@link #pairWarps(int)}), 12 for pdcg2; f2cg f2c's 10. */
  int chainGramWarps() {
    return n1 == 16 ? LearnedLaunch.chainGramWarps(n1, n2, 1) : Math.min(pairWarps, LearnedLaunch.chainGramWarps(n1, n2, chainGramTiles()));
  }

  /** Blocks per channel of the chain-Gram kernel (as the dumping chain's: a pair or a warp per row). */
  int chainGramGrid(int B) {
    int w = chainGramWarps();
    return LearnedLaunch.gridX(B, n1 == 16 ? w : w / 2, device.smCount(), h, blocksPerChannel, autoBlocksPerSm);
  }

  /** The dumping chain x -> out (dump) with the Gram of X3 and v into part (gx * H partials of N1 x N1; herm: M^H). */
  private void chainGramLaunch(DeviceBuffer x, DeviceBuffer out, int B, DeviceBuffer pb, int conjK, DeviceBuffer dump,
      DeviceBuffer v, DeviceBuffer part, int herm, int gx) {
    int w = chainGramWarps(), gv = chainGramTiles();
    int smem = n1 == 16 ? LearnedLaunch.tensorCoreSmem(n1, n2, false, false, w, 3, false, false) + LearnedLaunch.chainGramSmem16(n2, w)
        : LearnedLaunch.tensorCoreSmem(n1, n2, false, true, w, n16Kernel(), pairTwiddleTable(), true) + LearnedLaunch.chainGramSmem(n2, w, gv);
    device.module(MODULE_TC_GRAM).kernel(chainGramKernel()).launch(device.stream(), gx, h, 32 * w, smem, x, kp, d, pb, out, B, h, l,
        conjK, dump, v, part, herm);
  }

  /**
   * Gradients of {@code sum(y * dy)}: du (B, H, L) of the I/O type, dk (fp32, (H, Lk) or (2, H, Lk)), dD (H) fp32, and
   * the block gradients, read with {@link #blockGrads()}. Synchronises (returns its workspace of 8 * H * (N + 2*(N1^2
   * + N2^2)) bytes).
   */
  public void backward(DeviceBuffer u, DeviceBuffer dy, int B, DeviceBuffer du, DeviceBuffer dk, DeviceBuffer dD) {
    check("backward", u, dy, B);
    check("backward", u, du, B);
    int parts = mode == ConvMode.BIDIRECTIONAL ? 2 : 1;
    if (dk.bytes() < 4L * parts * h * lk || dD.bytes() < 4L * h)
      throw new IllegalArgumentException("LearnedButterflyConv.backward: dk must hold (" + (parts == 2 ? "2, " : "") + "H=" + h
          + ", Lk=" + lk + ") fp32 and dD (H=" + h + ") fp32, got " + dk.bytes() + " and " + dD.bytes() + " bytes");
    if (tensorCoreGradients()) {
      backwardTensorCores(u, dy, B, du, dk, dD, parts);
      return;
    }
    int e = blockElements();
    try (DeviceBuffer part = device.alloc(8L * h * e); DeviceBuffer gk = device.alloc(8L * h * n)) {
      part.fill32(0);
      if (parts == 2) dk.fill32(0);   // the unreachable tap k1[L-1] gets gradient 0
      CudaModule m = device.module(MODULE);
      // 512 threads where the 56 N bytes of shared memory allow one block per SM (N = 2048), else 256 (several blocks)
      m.kernel("lb_backward_" + io.tag()).launch(device.stream(), h, 1, n >= 2048 ? 512 : 256, 56 * n, u, dy, kp, d, blocks,
          tensorCores ? new DevicePointer() : du, part, gk, dD, B, h, l, n1, n2);
      if (tensorCores) tensorCoreChain(dy, du, B, prepAdj, 1, new DevicePointer());   // du on tensor cores (the adjoint chain)
      m.kernel("lb_reduce").launch(device.stream(), (e + 255) / 256, 1, 256, 0, part, dBlocks, h, e);
      m.kernel("lb_taps").launch(device.stream(), h, 1, 256, 8 * n, gk, dk, h, lk, taps0, taps1, parts - 1, n1, n2);
      device.stream().synchronize();
    }
  }

  /** The block gradients of the last {@link #backward}, {dFa, dFb, dGb, dGa} in lib's layout (float64 copies). */
  public double[][] blockGrads() {
    float[] g = dBlocks.copyTo(new float[2 * blockElements()], 0);
    int[] sizes = {n1, n2, n2, n1};
    double[][] out = new double[4][];
    for (int i = 0, off = 0; i < 4; i++) {
      out[i] = new double[2 * sizes[i] * sizes[i]];
      for (int j = 0; j < out[i].length; j++) out[i][j] = g[off++];
    }
    return out;
  }

  private void check(String op, DeviceBuffer a, DeviceBuffer b, int B) {
    if (!weightsSet) throw new IllegalStateException("LearnedButterflyConv." + op + ": call setWeights first");
    long need = (long) B * h * l * io.bytes();
    if (B < 1 || a.bytes() < need || b.bytes() < need)
      throw new IllegalArgumentException("LearnedButterflyConv." + op + ": arrays must hold (B=" + B + ", H=" + h + ", L=" + l
          + ") " + io + " = " + need + " bytes, got " + a.bytes() + " and " + b.bytes());
  }

  @Override public void close() {
    kp.close(); d.close(); blocks.close(); dBlocks.close();
    if (prepFwd != null) { prepFwd.close(); prepAdj.close(); }
  }

  @Override public String toString() {
    return "LearnedButterflyConv[H=" + h + ", L=" + l + ", Lk=" + lk + ", " + mode + ", N=" + n + " = " + n1 + " x " + n2
        + ", io=" + io + (tensorCores ? ", tensor cores" + (pairRows() ? " pair" + (chainRows ? " chain" + (wgmmaRows() ? (wgmmaRows2() ? " wgmma rows2" : wgmmaOverlap() ? " wgmma overlap" : wgmmaTwiddleTable() ? " wgmma tw-table" : wgmmaDescriptors() ? " wgmma desc" : " wgmma") : "") + (batchRows() ? " rows2" : "") + (persistentBlocks() ? " persistent" : "") : pairTwiddleTable ? " tw-table" : "")
        : splitRows() ? " split" : n16Kernel() != 0 ? " n16=" + n16Kernel() : "") : "") + "]";
  }
}
