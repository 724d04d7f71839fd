// Defaults of the learned-butterfly plan options (LearnedButterflyConv) and the measurements behind them. No shapes here.
package ai.longconv4j.cuda;

/**
 * The defaults a new {@link LearnedButterflyConv} plan starts from, each with the {@code -Dlongconv4j.learned.*} property
 * that overrides it, and {@link Variants}: each variant's default in code with the sitting that measured it (flip one
 * line once an H200 sitting shows a variant faster in both bench orders and the GPU tests pass). The plan's setters
 * choose per plan; these only say where a plan starts.
 */
public final class LearnedDefaults {
  private LearnedDefaults() {}

  /**
   * A two-way route switch read per call: {@code -D<property>} unset or {@code on} gives true, {@code off} false, anything else
   * an IllegalArgumentException naming the property, both values and what it got (e.g. {@code longconv4j.learned.route}:
   * checks / exception, {@code longconv4j.pk.pq}: fft / dft, {@code longconv4j.p3.bwd}: tc / chain).
   */
  static boolean twoWay(String property, String on, String off) {
    String v = System.getProperty(property, on);
    if (v.equals(on)) return true;
    if (v.equals(off)) return false;
    throw new IllegalArgumentException("-D" + property + " must be " + on + " or " + off + ", got '" + v + "'");
  }

  /** Default of {@link LearnedButterflyConv#splitRows(boolean)}: the N1 = 32 kernels one 16-row tile at a time (more warps per block). */
  public static final boolean DEFAULT_SPLIT = false;
  /**
   * Default of {@link LearnedButterflyConv#pairRows(boolean)}: on (sitting lbf3-2: 1K forward 0.494 ms vs 0.682 one warp per row, 512
   * 0.239 vs 0.311); {@code -Dlongconv4j.learned.pair=on|off} overrides it ({@code off}: the session-5 kernels).
   */
  public static final boolean DEFAULT_PAIR = LearnedLaunch.onOff("longconv4j.learned.pair", System.getProperty("longconv4j.learned.pair"), true);
  /**
   * Default of {@link LearnedButterflyConv#asyncGrams(boolean)}: on (lbf3-2: 1K Gram kernels 0.18 / 0.27 ms vs 0.26 / 0.38);
   * {@code -Dlongconv4j.learned.asyncgrams=on|off} overrides it.
   */
  public static final boolean DEFAULT_ASYNC_GRAMS = LearnedLaunch.onOff("longconv4j.learned.asyncgrams",
      System.getProperty("longconv4j.learned.asyncgrams"), true);

  /**
   * Default of {@link LearnedButterflyConv#pairTwiddleTable(boolean)}: on (bench-runs/final-s8d, B = 64, H = 768, bf16, ms, pair / pairt:
   * forward L = 512 0.236 / 0.224, 1K 0.493 / 0.488; fwd+bwd 1.779 / 1.744, 3.637 / 3.620; the learned GPU tests passed,
   * pairt = pair bit for bit); {@code -Dlongconv4j.learned.pairtw=on|off} overrides it.
   */
  public static final boolean DEFAULT_PAIR_TW = LearnedLaunch.onOff("longconv4j.learned.pairtw", System.getProperty("longconv4j.learned.pairtw"),
      Variants.PAIR_TW);

  /**
   * Default of {@link LearnedButterflyConv#n16Kernel(int)}: 3, f2c (bench-runs/lbf4/s2, L = 256, B = 64, H = 768, bf16, ms, f2 / f2c in two
   * orders: forward 0.129, 0.115 / 0.105, 0.108, fwd+bwd 1.039, 1.025 / 0.961, 0.961; the learned GPU tests passed, f2c
   * within 4.5e-6 of f2; before, f2 over one-warp / f in final-s8d); {@code -Dlongconv4j.learned.n16=one|f|f2|f2c}
   * overrides it (0, 1, 2, 3).
   */
  public static final int DEFAULT_N16_KERNEL = LearnedLaunch.n16Of(System.getProperty("longconv4j.learned.n16"), Variants.N16_KERNEL);

  /**
   * Default of {@link LearnedButterflyConv#chainRows(boolean)}: on (bench-runs/lbf4/s2, B = 64, H = 768, bf16, ms, pt / pc in two orders:
   * forward L = 512 0.231, 0.227 / 0.182, 0.184, 1K 0.493, 0.499 / 0.430, 0.429; fwd+bwd 512 1.754, 1.760 / 1.572, 1.618,
   * 1K 3.627, 3.717 / 3.194, 3.188; the learned GPU tests passed, pc within 1.9e-5 of pt);
   * {@code -Dlongconv4j.learned.chain=on|off} overrides it ({@code off}: the pair kernels with the start-value table,
   * pt / pdt).
   */
  public static final boolean DEFAULT_CHAIN = LearnedLaunch.onOff("longconv4j.learned.chain", System.getProperty("longconv4j.learned.chain"),
      Variants.CHAIN);

  /**
   * Default of {@link LearnedButterflyConv#batchRows(boolean)}: {@link Variants#BATCH_ROWS}; {@code -Dlongconv4j.learned.rows2=on|off}
   * overrides it ({@code off}: the chained pair kernel pc, its slow twin).
   */
  public static final boolean DEFAULT_BATCH_ROWS = LearnedLaunch.onOff("longconv4j.learned.rows2", System.getProperty("longconv4j.learned.rows2"),
      Variants.BATCH_ROWS);

  /**
   * {@code -Dlongconv4j.learned.persistent=on|off} for every plan, or null when unset: then {@link LearnedButterflyConv#defaultPersistent(int)}
   * takes {@link Variants}'s per-shape defaults.
   */
  static final Boolean PERSISTENT_PROPERTY = System.getProperty("longconv4j.learned.persistent") == null ? null
      : LearnedLaunch.onOff("longconv4j.learned.persistent", System.getProperty("longconv4j.learned.persistent"), false);

  /**
   * Default of {@link LearnedButterflyConv#persistentBlocks(boolean)} for plans with N2 = {@code n2}: the property if set, else
   * {@link Variants#PERSISTENT_32} at 32 x 32 (pc2p, lbf5-2: 0.150 / 0.152 ms against pc2 0.156 / 0.157 at one block per
   * channel in lbf5-1) and {@link Variants#PERSISTENT_64} at 32 x 64 (pcp 0.403-0.411 against 0.401 / 0.404: not faster).
   */
  public static boolean defaultPersistent(int n2) {
    return PERSISTENT_PROPERTY != null ? PERSISTENT_PROPERTY : n2 == 32 ? Variants.PERSISTENT_32 : Variants.PERSISTENT_64;
  }

  /**
   * Default of {@link LearnedButterflyConv#autoBlocksPerSm(int)}: {@link Variants#AUTO_BLOCKS_PER_SM}; {@code -Dlongconv4j.learned.autoblocks=N}
   * (1 .. 64) overrides it.
   */
  public static final int DEFAULT_AUTO_BLOCKS_PER_SM = LearnedLaunch.autoBlocksOf(System.getProperty("longconv4j.learned.autoblocks"),
      Variants.AUTO_BLOCKS_PER_SM);

  /**
   * {@code -Dlongconv4j.learned.wgmma=on|off} for every plan, or null when unset: then {@link LearnedButterflyConv#defaultWgmma(int)} takes
   * {@link Variants}'s per-shape defaults ({@code off}: pc / pc2p, the slow twins).
   */
  static final Boolean WGMMA_PROPERTY = System.getProperty("longconv4j.learned.wgmma") == null ? null
      : LearnedLaunch.onOff("longconv4j.learned.wgmma", System.getProperty("longconv4j.learned.wgmma"), false);

  /**
   * Default of {@link LearnedButterflyConv#wgmmaRows(boolean)} for plans with N2 = {@code n2}: the property if set, else
   * {@link Variants#WGMMA_32} at 32 x 32 and {@link Variants#WGMMA_64} at 32 x 64 (taking effect on compute capability
   * 9.0 only).
   */
  public static boolean defaultWgmma(int n2) {
    return WGMMA_PROPERTY != null ? WGMMA_PROPERTY : n2 == 64 ? Variants.WGMMA_64 : Variants.WGMMA_32;
  }

  public static final int DEFAULT_BLOCKS_PER_CHANNEL = LearnedLaunch.blocksOf(System.getProperty("longconv4j.learned.gx"));

  /**
   * Default of {@link LearnedButterflyConv#wgmmaDescriptors(boolean)}: {@link Variants#WGMMA_DESCRIPTORS};
   * {@code -Dlongconv4j.learned.wgdesc=on|off} overrides it ({@code off}: pw, the descriptors rebuilt per step, the slow twin).
   */
  public static final boolean DEFAULT_WGMMA_DESCRIPTORS = LearnedLaunch.onOff("longconv4j.learned.wgdesc",
      System.getProperty("longconv4j.learned.wgdesc"), Variants.WGMMA_DESCRIPTORS);

  /**
   * Default of {@link LearnedButterflyConv#wgmmaOverlap(boolean)}: {@link Variants#WGMMA_OVERLAP}; {@code -Dlongconv4j.learned.wgoverlap=on|off}
   * overrides it ({@code off}: pwd / pw).
   */
  public static final boolean DEFAULT_WGMMA_OVERLAP = LearnedLaunch.onOff("longconv4j.learned.wgoverlap",
      System.getProperty("longconv4j.learned.wgoverlap"), Variants.WGMMA_OVERLAP);

  /**
   * Default of {@link LearnedButterflyConv#wgmmaTwiddleTable(boolean)}: {@link Variants#WGMMA_TWIDDLE_TABLE};
   * {@code -Dlongconv4j.learned.wgtw=on|off} overrides it ({@code off}: pwd, the slow twin).
   */
  public static final boolean DEFAULT_WGMMA_TWIDDLE_TABLE = LearnedLaunch.onOff("longconv4j.learned.wgtw",
      System.getProperty("longconv4j.learned.wgtw"), Variants.WGMMA_TWIDDLE_TABLE);

  /**
   * Default of {@link LearnedButterflyConv#blocksPerChannel(int)}: 0, the launch's own choice; {@code -Dlongconv4j.learned.gx=N} sets it
   * (a bench knob: the tensor-core forward's grid is (gx, H)).
   */
  /** The session-8 (lbf2) and session-9 (lbf4, lbf5) variants' defaults in code, each one line to flip once a sitting measured it faster. */
  /**
   * Default of {@link LearnedButterflyConv#fusedDkp(boolean)}: {@link Variants#FUSED_DKP}; {@code -Dlongconv4j.learned.fusedkp=on|off}
   * overrides it ({@code off}: the adjoint chain dumps C and lbt_dkp sums dKp, the slow twin).
   */
  public static final boolean DEFAULT_FUSED_DKP = LearnedLaunch.onOff("longconv4j.learned.fusedkp", System.getProperty("longconv4j.learned.fusedkp"),
      Variants.FUSED_DKP);

  /**
   * Default of {@link LearnedButterflyConv#fastReductions(boolean)}: {@link Variants#FAST_REDUCTIONS}; {@code -Dlongconv4j.learned.fastreduce=on|off}
   * overrides it ({@code off}: lbt_gram_reduce and lbt_dkp, the slow twins).
   */
  public static final boolean DEFAULT_FAST_REDUCTIONS = LearnedLaunch.onOff("longconv4j.learned.fastreduce",
      System.getProperty("longconv4j.learned.fastreduce"), Variants.FAST_REDUCTIONS);

  /**
   * Default of {@link LearnedButterflyConv#chainGrams(boolean)}: {@link Variants#CHAIN_GRAMS}; {@code -Dlongconv4j.learned.chaingram=on|off}
   * overrides it ({@code off}: the chains dump X3 and lbt_gram_*_b sums dGa / dFa, the slow twin).
   */
  public static final boolean DEFAULT_CHAIN_GRAMS = LearnedLaunch.onOff("longconv4j.learned.chaingram",
      System.getProperty("longconv4j.learned.chaingram"), Variants.CHAIN_GRAMS);

  /**
   * Default of {@link LearnedButterflyConv#vectorDd(boolean)}: {@link Variants#VECTOR_DD}; {@code -Dlongconv4j.learned.dkp3=on|off} overrides
   * it ({@code off}: lbt_dkp2 / lbt_dkp, the slow twins).
   */
  public static final boolean DEFAULT_VECTOR_DD = LearnedLaunch.onOff("longconv4j.learned.dkp3",
      System.getProperty("longconv4j.learned.dkp3"), Variants.VECTOR_DD);

  /**
   * Default of {@link LearnedButterflyConv#registerGrams(boolean)}: {@link Variants#REGISTER_GRAMS}; {@code -Dlongconv4j.learned.reggram=on|off}
   * overrides it ({@code off}: pdcg1, the accumulators in shared memory, the slow twin).
   */
  public static final boolean DEFAULT_REGISTER_GRAMS = LearnedLaunch.onOff("longconv4j.learned.reggram",
      System.getProperty("longconv4j.learned.reggram"), Variants.REGISTER_GRAMS);

  /**
   * Default of {@link LearnedButterflyConv#gramStages(int)}: {@link Variants#GRAM_STAGES}; {@code -Dlongconv4j.learned.gramstages=2|3|4}
   * overrides it ({@code 2}: lbt_gram_*_a_async, the slow twin).
   */
  public static final int DEFAULT_GRAM_STAGES = LearnedLaunch.gramStages(System.getProperty("longconv4j.learned.gramstages"),
      Variants.GRAM_STAGES);

  /**
   * Default of {@link LearnedButterflyConv#constGramLoads(boolean)}: {@link Variants#CONST_GRAM_LOADS}; {@code -Dlongconv4j.learned.gramload=on|off}
   * overrides it ({@code off}: lbt_gram_*_async, the slow twins).
   */
  public static final boolean DEFAULT_CONST_GRAM_LOADS = LearnedLaunch.onOff("longconv4j.learned.gramload",
      System.getProperty("longconv4j.learned.gramload"), Variants.CONST_GRAM_LOADS);

  /**
   * Default of {@link LearnedButterflyConv#gramRowPairs(boolean)}: {@link Variants#GRAM_ROW_PAIRS}; {@code -Dlongconv4j.learned.gramrp=on|off}
   * overrides it ({@code off}: lbt_gram_*_a_async, the slow twin).
   */
  public static final boolean DEFAULT_GRAM_ROW_PAIRS = LearnedLaunch.onOff("longconv4j.learned.gramrp",
      System.getProperty("longconv4j.learned.gramrp"), Variants.GRAM_ROW_PAIRS);

  static final class Variants {
    private Variants() {}
    /**
     * {@link LearnedButterflyConv#gramRowPairs(boolean)}: true. lbf9-3 ncu (one backward, B = 64, H = 768, causal, bf16):
     * the two _a Grams 512 127.2 + 127.6 us -> 107.7 + 106.4, 256 88.5 + 87.7 -> 57.9 + 58.0 (1K has N2 = 64: not this
     * kernel). The bench does not resolve it: learned fwd+bwd with / without, ms, final-s11 256 0.613 / 0.626, 512 1.082 /
     * 1.092; final-s11/rp (both orders) 256 0.649 / 0.641 and 0.615 / 0.629, 512 1.080 / 1.115 and 1.118 / 1.081 (whichever
     * runs first is faster, also at 1K where both run the same kernels). Its second warp group multiplies only past one row
     * per Gram block (more than 528 rows on the H200): LearnedRegisterGramGpuTest's shapes of 1,111-1,147 rows passed with
     * every route in final-s11, and every learned GPU class passed with it the default in final-s11/rp (255 tests).
     * false: lbt_gram_*_a_async; true: lbt_gram_*_a_asyncp.
     */
    static final boolean GRAM_ROW_PAIRS = true;
    /**
     * {@link LearnedButterflyConv#constGramLoads(boolean)}: true (lbf9-3, B = 64, H = 768, causal, bf16, ncu of one backward
     * at 1K: the two _a Grams 279.1 + 279.1 us -> 237.7 + 235.7, DRAM 61 -> 72 %; the learned GPU classes passed with it on,
     * LearnedRegisterGramGpuTest's dFb / dGb (and the _b Grams' dGa / dFa) bitwise those without; the bench rows of lbf9-3
     * did not run (an option-parsing bug, since fixed); BENCH-RESULTS.md round 17-lbf9); false: lbt_gram_*_async.
     */
    static final boolean CONST_GRAM_LOADS = true;
    /**
     * {@link LearnedButterflyConv#registerGrams(boolean)}: true (lbf9-1, B = 64, H = 768, causal, bf16, ncu of one backward
     * at 1K: the two chains 599.4 + 595.4 us (pdcg1) -> 582.1 + 575.4 (pdcg1r); the learned GPU classes passed with it on
     * (the only failures: LearnedChainGramGpuTest's kernel-name check, since updated), LearnedRegisterGramGpuTest's dGa / dFa
     * bitwise the current route's; BENCH-RESULTS.md round 17-lbf9); false: pdcg1 (accumulators in shared memory).
     */
    static final boolean REGISTER_GRAMS = true;
    /**
     * {@link LearnedButterflyConv#gramStages(int)}: 2 (lbf9-1 ncu, the _a Grams 2 -> 3 stages: 1K 277.6 / 275.5 -> 270.6 /
     * 269.5 us, 512 125.7 / 126.5 -> 133.2 / 133.6, 256 87.5 / 87.5 -> 86.7 / 87.2; the bench medians do not resolve 3 or 4
     * stages at any length); 3 / 4: lbt_gram_*_a_async3 / _async4.
     */
    static final int GRAM_STAGES = 2;
    /**
     * {@link LearnedButterflyConv#chainGrams(boolean)}: true (lbf8-2, B = 64, H = 768, causal, bf16, ms, two orders, off / on:
     * bwd 256 0.736, 0.732 / 0.587, 0.585; 512 1.214, 1.216 / 1.012, 1.021; 1K 2.483, 2.483 / 2.162, 2.261; ncu at 1K: the
     * two chains 575 + 568 -> 600 + 603 us, the two lbt_gram_*_b kernels (183 us each) gone; the learned GPU classes passed
     * with it on, LearnedChainGramGpuTest against the current route and float64; BENCH-RESULTS.md round 16-lbf8); false:
     * X3 dumped, lbt_gram_*_b.
     */
    static final boolean CHAIN_GRAMS = true;
    /**
     * {@link LearnedButterflyConv#vectorDd(boolean)}: true (lbf8-1 / lbf8-2 ncu at 1K: lbt_dkp3 212 us against lbt_dkp2's
     * 279-280; bench with chainGrams, without / with: bwd 512 1.012, 1.021 / 0.986, 0.995; 1K 2.162, 2.261 / 2.236, 2.161
     * (noise); 256 0.587, 0.585 / 0.595, 0.592 (noise); BENCH-RESULTS.md round 16-lbf8); false: lbt_dkp2 / lbt_dkp.
     */
    static final boolean VECTOR_DD = true;
    /**
     * {@link LearnedButterflyConv#fastReductions(boolean)}: true (lbf7-2, B = 64, H = 768, bf16, ms, two orders, without /
     * with: bwd 256 0.792, 0.789 / 0.735, 0.743; 512 1.300, 1.301 / 1.228, 1.254; 1K 2.555, 2.679 / 2.566, 2.550; ncu at 1K:
     * the four Gram reductions 35 -> 10-11 us each, dKp 293 -> 281 us; the learned GPU classes passed with it on; lbf7-3
     * with it the default: bwd 0.732-0.734 / 0.789-0.792, 1.213-1.235 / 1.290-1.301, 2.561-2.664 / 2.568-2.637, 197 learned
     * GPU tests passed; BENCH-RESULTS.md round 15-lbf7);
     * false: lbt_gram_reduce / lbt_dkp.
     */
    static final boolean FAST_REDUCTIONS = true;
    /**
     * {@link LearnedButterflyConv#fusedDkp(boolean)}: false (lbf7-1 / lbf7-2: pdck at 1K 1.11 ms against pdc 0.57 + lbt_dkp
     * 0.29-0.42 ms; fwd+bwd slower at every length: the shared-memory atomics and the forward C's loads cost more than
     * lbt_dkp's pass).
     */
    static final boolean FUSED_DKP = false;
    /** {@link LearnedButterflyConv#chainRows(boolean)}: true (lbf4/s2); false, the pt / pdt kernels of final-s8d. */
    static final boolean CHAIN = true;
    /** {@link LearnedButterflyConv#pairTwiddleTable(boolean)}: true (final-s8d); false, the pair kernels of lbf3-2. */
    static final boolean PAIR_TW = true;
    /** {@link LearnedButterflyConv#n16Kernel(int)}: 3, f2c (lbf4/s2); 2 f2 (final-s8d), 0 the one-warp kernel, 1 f. */
    static final int N16_KERNEL = 3;
    /**
     * {@link LearnedButterflyConv#batchRows(boolean)}: true (lbf5-1 / lbf5-2, with persistent blocks: pc2p, the 512
     * forward 0.148-0.152 ms against pc's 0.180-0.182; the learned GPU tests passed, pc2 = pc bit for bit); false: pc.
     */
    static final boolean BATCH_ROWS = true;
    /** {@link LearnedButterflyConv#persistentBlocks(boolean)} at 32 x 32: true (pc2p; see {@link LearnedButterflyConv#defaultPersistent(int)}). */
    static final boolean PERSISTENT_32 = true;
    /** {@link LearnedButterflyConv#persistentBlocks(boolean)} at 32 x 64: false (pcp measured not faster than pc at one block per channel). */
    static final boolean PERSISTENT_64 = false;
    /**
     * {@link LearnedButterflyConv#autoBlocksPerSm(int)}: 1 (lbf5-1 / lbf5-2, H = 768, B = 64, ms, 8 -> 1 in two orders:
     * forward 256 0.099, 0.100 -> 0.092, 0.094; 512 0.181, 0.181 -> 0.165, 0.165; 1K 0.425, 0.430 -> 0.401, 0.404;
     * fwd+bwd 0.943, 0.945 -> 0.929, 0.935; 1.563, 1.567 -> 1.511, 1.522; 3.187, 3.177 -> 3.133, 3.050; lbf5-3 confirmed
     * with the other flips, BENCH-RESULTS.md round 13-lbf5); 8: lbf3's launch. Timed at H = 768 only.
     */
    static final int AUTO_BLOCKS_PER_SM = 1;
    /**
     * {@link LearnedButterflyConv#wgmmaRows(boolean)} at 32 x 32: false (lbf6-2 / lbf6-3, B = 64, H = 768, bf16, ms, two
     * orders: pw2p 0.154, 0.155 / 0.152, 0.149 and pw 0.157-0.161 against pc2p 0.148-0.151: not faster).
     */
    static final boolean WGMMA_32 = false;
    /**
     * {@link LearnedButterflyConv#wgmmaRows(boolean)} at 32 x 64 (L = 1K causal): true (lbf6-3, B = 64, H = 768, bf16, ms,
     * two orders: pw (12 warps) forward 0.367, 0.362 against pc 0.392, 0.394, fwd+bwd 3.031, 3.036 against 3.118, 3.148;
     * the learned GPU classes passed, pw = pc bit for bit; compute capability 9.0 only, elsewhere pc).
     */
    static final boolean WGMMA_64 = true;
    /**
     * {@link LearnedButterflyConv#wgmmaDescriptors(boolean)}: true (lbf10-2, B = 64, H = 768, causal, bf16, forward ms, two
     * orders: 1K pwd 0.356 / 0.355 and 0.356 / 0.357 against pw 0.363 / 0.364; ncu 145.0 M instructions against pw's 150.7 M;
     * LearnedWgmmaDescGpuTest: pwd = pw bit for bit; applies where pw runs, i.e. 32 x 64 on compute capability 9.0 by default).
     */
    static final boolean WGMMA_DESCRIPTORS = true;
    /**
     * {@link LearnedButterflyConv#wgmmaOverlap(boolean)}: false until an H200 sitting shows pwo faster in both bench orders (lbf10).
     */
    static final boolean WGMMA_OVERLAP = false;
    /**
     * {@link LearnedButterflyConv#wgmmaTwiddleTable(boolean)}: false (lbf11-1 / lbf11-2, B = 64, H = 768, causal, bf16, 1K:
     * pwt = pwd bit for bit, 6.2 % fewer instructions, but ncu 359.5 against pwd's 357.7 us and bench forward 0.363 / 0.360
     * and 0.371 / 0.362 ms against 0.356 / 0.362 and 0.366 / 0.363: not faster in both orders).
     */
    static final boolean WGMMA_TWIDDLE_TABLE = false;
  }
}
