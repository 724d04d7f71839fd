// The speed choices of a LearnedButterflyConv plan (session 17, helper opfix: moved out of LearnedButterflyConv). No shapes here.
package ai.longconv4j.cuda;

import static ai.longconv4j.cuda.LearnedDefaults.*;

/**
 * The tuning switches of one {@link LearnedButterflyConv} plan, raw as its setters left them (each starts at its
 * {@link LearnedDefaults} value); the plan's getters of the same names apply the shape's conditions (N1, N2, compute
 * capability, the other switches). Each field's comment is its setter's. None changes the math beyond the fp32 roundings
 * each one names; they choose kernels.
 */
final class LearnedSwitches {
  /**
   * N1 = 32 only: the tensor-core kernel's products one 16-row tile at a time (half the registers, so 12 or 16 warps
   * per block instead of 8 or 12, y written from the accumulators) or both row tiles at once (block fragments reused
   * twice). Same math and rounding; a speed choice.
   */
  boolean splitRows = DEFAULT_SPLIT;

  /**
   * N1 = 32 only: two warps per row (learned_tc.cu's lbp_row: each takes half the columns of the left products and one
   * 16-row tile of the right products; the next row's x is fetched by cp.async behind the current one; epilogue twiddles
   * by recurrence), 126 registers and 16 warps per block ({@link LearnedButterflyConv#pairWarps(int)}) instead of 219 and 8. The same products
   * in the same order (the output equals the one-warp kernel's); a speed choice ({@link LearnedDefaults#DEFAULT_PAIR}) that takes
   * precedence over {@link LearnedButterflyConv#splitRows(boolean)}.
   */
  boolean pairRows = DEFAULT_PAIR;

  /**
   * With tensor cores on: the block gradients, dKp (so dk) and dD from the tensor-core backward ({@code true}, the
   * default: both chains dump their 16-bit intermediates, learned_tc_bwd.cu sums the products; 16 B * H * N * 2 bytes of
   * workspace) or from the fp32 kernel ({@code false}; du stays on tensor cores).
   */
  boolean tensorCoreGrads = true;

  /**
   * The tensor-core backward's Gram kernels with the next row's operands copied by cp.async during the current row's
   * products (two buffers; real x operands need L % 8 == 0, else they load synchronously) or one row at a time
   * ({@code false}). Same products in the same order.
   */
  boolean asyncGrams = DEFAULT_ASYNC_GRAMS;

  /**
   * Pair kernels (N1 = 32) only: the lanes' start values of the epilogue-twiddle recurrences from a per-block table laid
   * out by lane (conflict-free loads; the {@code t} kernels) instead of looked up at lane-dependent indices of the full
   * twiddle table, and the next row's x staged by cp.async in a bank-conflict-free lane order. The same values in the same
   * places, so the same output as the pair kernels; a speed choice ({@link LearnedDefaults#DEFAULT_PAIR_TW}).
   */
  boolean pairTwiddleTable = DEFAULT_PAIR_TW;

  /**
   * Pair kernels (N1 = 32) only: the {@code c} kernels (learned_tc_chain.cuh) — both warps split steps 1 to 3 by row
   * tile, so X1 and P stay in registers as the next product's fragments (only X3 goes through shared memory), the x row
   * double-buffered per pair. The same products and twiddles as the start-value-table kernels
   * ({@link LearnedButterflyConv#pairTwiddleTable(boolean)}, which they imply); not bit for bit (ptxas fuses some fp32 operations
   * differently, which flips single 16-bit roundings: within 1.9e-5 of them in lbf4/s2); a speed choice
   * ({@link LearnedDefaults#DEFAULT_CHAIN}).
   */
  boolean chainRows = DEFAULT_CHAIN;

  /**
   * Chained pair kernels at 32 x 32 (L = 512 causal) without dumps (the forward, and du where the gradients are not
   * taken on tensor cores): the {@code pc2} kernel (learned_tc_chain2.cuh), each pair on two rows of a channel at once,
   * so each block fragment, Kp value and twiddle step serves both rows. The same products, roundings and twiddles per
   * row as pc (its slow twin); a speed choice ({@link LearnedDefaults#DEFAULT_BATCH_ROWS}). Implies {@link LearnedButterflyConv#chainRows(boolean)}'s
   * conditions; other shapes ignore it.
   */
  boolean batchRows = DEFAULT_BATCH_ROWS;

  /**
   * Chained pair kernels (N1 = 32) without dumps: persistent blocks, one per SM (at most H), that build the blocks,
   * twiddle tables and start values once and then take channel after channel (Kp reloaded per channel), instead of a
   * grid of (blocks per channel, H) blocks that each build them: {@code pcp} (32 x 32, 32 x 64; learned_tc_chain2.cuh's
   * row loop with one row per pair, pc's products per row) or, with {@link LearnedButterflyConv#batchRows()}, {@code pc2p}. A speed choice
   * ({@code -Dlongconv4j.learned.persistent=on|off}, default {@link LearnedDefaults#defaultPersistent(int)}).
   */
  boolean persistent;

  /**
   * Chained pair kernels (N1 = 32) without dumps on a GPU of compute capability 9.0 (Hopper, the sm_90a image): the
   * {@code pw} kernels (learned_tc_wg.cuh), pc with the complex products of steps 2 and 3 on wgmma (a warpgroup of 4
   * warps on two rows, the blocks read from shared memory once per 64 rows; 12 warps per block at 32 x 64, 16 at 32 x 32);
   * at 32 x 32 with {@link LearnedButterflyConv#batchRows(boolean)} on, {@code pw2p}: four rows per warpgroup, two per pair as pc2p, persistent
   * blocks of 12 warps ({@link LearnedButterflyConv#wgmmaRows2()}).
   * The same products, roundings, twiddles and Kp per row as pc (fp32 sums possibly associated differently). Takes
   * precedence over {@link LearnedButterflyConv#persistentBlocks(boolean)}; elsewhere ignored. A speed choice ({@link LearnedDefaults#defaultWgmma(int)}).
   */
  boolean wgmmaRows;

  /**
   * The tensor-core backward's dKp inside the adjoint dumping chain (learned_tc_chain.cuh lbc_steps KF, kernels pdck /
   * f2ck: each block sums C_adj conj(C_fwd) over its rows in an fp32 shared-memory accumulator, reading the forward
   * chain's dumped C; the adjoint's C is not dumped and lbt_dkp only sums dD) or, {@code false}, the dumped Cs summed by
   * lbt_dkp. Takes effect on the chained dumping kernels (pdc at N1 = 32, f2c at N1 = 16), not on pdcw / pdt / f2.
   */
  boolean fusedDkp = DEFAULT_FUSED_DKP;

  /**
   * The tensor-core backward's reductions: lbt_gram_reduce2 (the Gram kernels' parts summed by 8 warps per 32 elements)
   * and lbt_dkp2 (grid (H, N / 1024), batch loops unrolled by 8) instead of lbt_gram_reduce / lbt_dkp ({@code false}).
   */
  boolean fastReductions = DEFAULT_FAST_REDUCTIONS;

  /**
   * The tensor-core backward's dGa and dFa inside the dumping chains (lbf8; learned_tc_gram.cu, kernels pdcg1 / pdcg2 at
   * N1 = 32, f2cg at N1 = 16):
   * each chain sums the N1 x N1 Gram of its X3 with the other input (the forward chain with dy: dGa; the adjoint chain
   * with u: dFa) over its rows in shared memory and writes one partial per block (lbt_gram_reduce(2) sums them); X3 is
   * not dumped and the two lbt_gram_*_b kernels do not run. Takes effect where {@link LearnedButterflyConv#chainGrams()} says so.
   */
  boolean chainGrams = DEFAULT_CHAIN_GRAMS;

  /**
   * The tensor-core backward's dD by lbt_dkp3 (lbf8: on its own grid row, 16-byte loads of dy and u; dKp as lbt_dkp2)
   * instead of lbt_dkp2 / lbt_dkp ({@code false}).
   */
  boolean vectorDd = DEFAULT_VECTOR_DD;

  /**
   * The chain-Gram kernel at 32 x 64 with its dGa / dFa accumulators in registers (lbf9; kernel 32x64pdcg1r, 12 warps as
   * pdcg1): each warp of a pair owns its 16 rows of the pair's accumulator, so the 16 fp32 per lane stay in registers
   * over all rows instead of a shared-memory read-modify-write per row; the same MMAs in the same order, so the partials
   * are bitwise pdcg1's. Takes effect where {@link LearnedButterflyConv#registerGrams()} says so.
   */
  boolean registerGrams = DEFAULT_REGISTER_GRAMS;

  /**
   * The Gram kernels' cp.async row loads with compile-time chunk counts (lbf9; learned_tc_bwd.cu load_operand_async_fi,
   * kernels lbt_gram_*_asyncs, _async3s, _async4s): the same copies without a signed division by a run-time value per
   * 16-byte chunk (lbf9-2 ncu: the 1K _a Gram issued 3,113 instructions per row per block for 256 MMAs). Only with
   * {@link LearnedButterflyConv#asyncGrams(boolean)}; the partials are bitwise those without.
   */
  boolean constGramLoads = DEFAULT_CONST_GRAM_LOADS;

  /**
   * The dFb / dGb Grams at N2 = 32 (16 x 32, 32 x 32: 32 x 32 outputs, four 16 x 16 units for 8 warps) on two rows per
   * step, warps 0-3 on one and 4-7 on the other, summed at the end (lbf9; learned_tc_bwd.cu lbt_gram_rp, kernels
   * lbt_gram_*_a_asyncp; their row loads as {@link LearnedButterflyConv#constGramLoads(boolean)}'s). Takes effect where
   * {@link LearnedButterflyConv#gramRowPairs()} says so; {@link LearnedButterflyConv#gramStages(int)} does not apply to them.
   */
  boolean gramRowPairs = DEFAULT_GRAM_ROW_PAIRS;

  /**
   * pw with its wgmma matrix descriptors built once per block ({@code pwd}, lbf10; learned_tc_wg.cuh lbw_product_d): a
   * step's descriptor is the block's base descriptor plus the step's offset in its low word, where pw rebuilds every
   * descriptor from the shared address (shift, mask, or: lbf6-3's ncu counted 350 uniform-datapath instructions per row at
   * 1K). The same wgmmas with the same operands, so bitwise pw's results. A speed choice; applies where
   * {@link LearnedButterflyConv#wgmmaDescriptors()} says so.
   */
  boolean wgmmaDescriptors = DEFAULT_WGMMA_DESCRIPTORS;

  /**
   * pwd with steps 2 and 3 in 16-column passes on two accumulator sets, each pass's wgmmas in flight while the previous
   * pass's epilogue runs ({@code pwo}, lbf10; learned_tc_wg.cuh lbw_steps_ov): pw waits for every pass before its epilogue.
   * The same products per element in the same k order, Kp, twiddles and roundings as pw. A speed choice; takes
   * precedence over {@link LearnedButterflyConv#wgmmaDescriptors(boolean)} where {@link LearnedButterflyConv#wgmmaOverlap()} says so.
   */
  boolean wgmmaOverlap = DEFAULT_WGMMA_OVERLAP;

  /**
   * pwd with step 3's twiddles read from a per-block table ({@code pwt}, lbf11; learned_tc_wg.cuh lbw_tw3_build): the
   * table holds exactly the values of step 3's twiddle recurrence (built once per block by the same fp32 operations), so
   * each row's step 3 loads them (one 16-byte shared load per two elements) instead of recomputing the recurrence (4 fp32
   * instructions per element). Bitwise pwd's results. 16 KB more shared memory; 32 x 64 only (L = 1K causal). A speed
   * choice; applies where {@link LearnedButterflyConv#wgmmaTwiddleTable()} says so, and yields to {@link LearnedButterflyConv#wgmmaOverlap(boolean)}.
   */
  boolean wgmmaTwiddleTable = DEFAULT_WGMMA_TWIDDLE_TABLE;

  /**
   * cp.async stages of the dFb / dGb Gram kernels (lbt_gram_*_a; lbf9): 2 (lbt_gram_*_a_async: one row in flight per
   * block, four blocks per SM), 3 (_async3: two rows in flight, four blocks per SM) or 4 (_async4: three rows, three
   * blocks per SM). Only with {@link LearnedButterflyConv#asyncGrams(boolean)} (L % 8 == 0 for real operands; the _a forms have none).
   */
  int gramStages = DEFAULT_GRAM_STAGES;

  /** Pair kernels' warps per block for forward and du (12 or 16; the default 16; the backward's dumps run 12 at 32 x 64). */
  int pairWarps = 16;

  /**
   * N1 = 16 (N = 256, 512: L <= 256 causal): 0 the one-warp kernel (session 5, the default), 1 its {@code f} twin
   * (learned_tc.cu's FE: the pair kernels' epilogues, twiddles by recurrence and Kp in 16-byte loads; 16 warps per
   * block), 2 the {@code f2} twin (the same code at 10 warps per block, two blocks per SM: 20 warps instead of 16),
   * 3 {@code f2c} (f2's launch, steps 1 to 3 chained in registers as {@link LearnedButterflyConv#chainRows(boolean)}: learned_tc_chain.cuh
   * lbc_row16; f2's products, roundings and twiddles). The same products in the same order; only the epilogue twiddles'
   * fp32 roundings differ. Forward, du and the backward's dumping chains.
   */
  int n16Kernel = DEFAULT_N16_KERNEL;

  /**
   * Chained pair kernels at 32 x 64 (L = 1K causal): warps per block of the backward's dumping chains, 12 (pdc, 144
   * registers; the measured default) or 16 (pdcw, the same code under a 512-thread launch bound: 127 registers).
   */
  int pairDumpWarps = 12;

  /**
   * Tensor-core forward / du: blocks per channel (the grid's x; its y is H); 0 (the default) lets the launch choose
   * (enough blocks for ~8 per SM, no more than the rows need). A bench knob; the result does not depend on it.
   */
  int blocksPerChannel = DEFAULT_BLOCKS_PER_CHANNEL;

  /**
   * Tensor-core chains (forward, du, the backward's dumping chains) without a fixed {@link LearnedButterflyConv#blocksPerChannel(int)}: blocks
   * per channel = min(what the rows need, ceil(n SMs / H)); n = 1 (the default in code, {@link Variants#AUTO_BLOCKS_PER_SM}:
   * at H = 768 one block per channel, so each block's setup — blocks, Kp, twiddle tables — serves all its rows) or 8
   * (lbf3's launch, the slow twin).
   */
  int autoBlocksPerSm = DEFAULT_AUTO_BLOCKS_PER_SM;

  LearnedSwitches(int n2) {
    persistent = defaultPersistent(n2);
    wgmmaRows = defaultWgmma(n2);
  }
}
