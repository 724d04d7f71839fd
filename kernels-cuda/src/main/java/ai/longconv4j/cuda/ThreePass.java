// Shapes: B batch, H channels, L sequence length, N FFT size = N1 * M (M the in-shared-memory size, 2 <= N1 <= 64).
//   u, y: (B, H, L) of the plan's element type; k: (H, Lk) fp32 (or the placed kernel kt (H, N)); D: (H) fp32.
//   kf: (H, N) complex fp32, kf[h][k1*M + p] = K[k1 + N1*perm_M(p)] (perm_M: the inner Monarch order).
//   scratch S: (pairs, Hc, N) complex, float2 or (with 16-bit shared memory) bf16x2 / half2, for a chunk of pairs and
//   of Hc channels; acc (Hc, N) complex fp32 (the backward's spectral accumulator); dk (H, Lk) (bidirectional (2, H, Lk)).
package ai.longconv4j.cuda;

/**
 * The three-pass FlashButterfly convolution for FFTs larger than shared memory (flashbutterfly3.cu): an outer
 * N1-point butterfly per column that reads u once, N1 independent in-shared-memory Monarch convolutions of M
 * points per row (the fused kernel's middle, with the kernel spectrum's slice), and the inverse outer butterfly
 * that adds {@code D * u} and writes y once. The intermediate lives in a global scratch that the plan keeps;
 * batch pairs (and, when one pair is too large, channels) are processed in chunks so that it stays within a budget
 * ({@link #SCRATCH_BUDGET}; the backward's {@link #BWD_SCRATCH_BUDGET} per scratch, plus its (H, N) fp32 accumulator;
 * the plan keeps all three between calls). The forward's middle moves its rows with 16-byte accesses and, at N1 <= 16,
 * its forward outer pass stages column tiles in shared memory ({@link #forwardSteps}, round 8d;
 * {@value #FWD_STEPS_PROPERTY}{@code =old}: round 8c's kernels, the twin; {@code =tile}: the inverse pass tiled too). The tensor-core backward ({@link #backward},
 * flashbutterfly3_bwd.cu) runs the same outer passes on u and dy (one launch with dD at N1 <= 8), one middle kernel
 * for both inner FFTs, the dk products and du's inverse, the outer inverse for du, then dk's inverse on tensor cores;
 * {@link #weights} is its fp32 twin for dk.
 * Package-private: {@link FlashButterflyConv} chooses it.
 */
final class ThreePass {
  /**
   * Least bytes the forward's scratch may take (and most of the spectrum's fp32 scratch); a chunk holds at least one
   * (pair, channel) row. The forward allows max(this, (I/O bytes - spectrum bytes) / 2): the peak (u, y, the spectrum,
   * the scratch) stays <= 1.5 x (u + y) + spectrum / 2. H200, B*L = 1M, H = 768, bf16 (final-s4: 8 GiB; fb3-1: 512 MiB
   * everywhere, forward +0.6-0.8 ms from the smaller launches; fb3-2: this rule): L = 32K 6.85 -> 4.83 GB (+0.23 ms),
   * 64K 7.25 -> 5.23 (+0.15 ms), 256K 9.66 -> 6.98 (+0.58 ms), vs PyTorch's fp32 rfft conv 22.55 / 28.99 / 28.99 GB.
   */
  static final long SCRATCH_BUDGET = 512L << 20;
  /** Most bytes of each of the backward's two scratches (u's and dy's rows): 2 chunks of 8 pairs at L = 32K, B = 32. */
  static final long BWD_SCRATCH_BUDGET = 2L << 30;
  /** Threads per block of the outer (column) passes. */
  static final int OUTER_THREADS = 256;
  /**
   * Largest outer size N1. N1 = 64 runs the fb3_outer64_* kernels (a two-level 8 x 8 DFT in registers, 128 data
   * registers per column: separate entry points so that the N1 <= 32 kernels keep their register counts).
   */
  static final int MAX_N1 = 64;
  private static final String MODULE = "flashbutterfly3", MODULE_BWD = "flashbutterfly3_bwd";
  /**
   * System property choosing the backward's steps: unset (default) the round-8c ones ({@link #backwardSteps}: one outer
   * launch for u and dy that also sums dD, the dk finish on tensor cores); {@code old}: the round-7 ones (the slow twin).
   */
  static final String STEPS_PROPERTY = "longconv4j.cuda.fb3.bwdsteps";
  /**
   * System property choosing the forward's steps: unset (default) {@link #forwardSteps}{@code (true, true, false)}: the
   * middle kernel moves its rows with 16-byte accesses, the forward outer pass goes through a shared-memory tile at
   * N1 <= 16, the inverse outer pass reads columns in place; {@code tile}: round 8d's, the inverse outer pass tiled too
   * (slower on the H200: bench-runs/fb3f-1, 64K B = 16: 3.684 vs 3.217 ms; f32-1, with its u loads all in flight: 3.561
   * vs 3.222, forward 14.858 vs 14.476); {@code old}: round 8c's kernels (the slow twin).
   */
  static final String FWD_STEPS_PROPERTY = "longconv4j.cuda.fb3.fwdsteps";

  private final CudaDevice device;
  private final int h, n, m, log2n, log2m, n1;
  private DeviceBuffer scratch, scratchA, acc;   // kept by the plan: forward / dy's rows, u's rows, dk's spectrum
  private long budget = SCRATCH_BUDGET, bwdBudget = BWD_SCRATCH_BUDGET;
  private boolean forced;   // budgets(...) set: the forward takes exactly its budget
  private boolean fusedOuter, tensorCoreDk, vectorMiddle;   // backward steps (backwardSteps)
  private boolean fwdVectorMiddle, fwdTileOuter, fwdTileInverse;   // forward steps (forwardSteps)
  private long scratchShift;         // tests: the forward's scratch starts this many bytes into its buffer

  ThreePass(CudaDevice device, int h, int n, int m) {
    if (Integer.bitCount(m) != 1 || Integer.bitCount(n) != 1 || m < FlashButterflyConv.MIN_N || n % m != 0 || n / m < 2
        || n / m > MAX_N1)
      throw new IllegalArgumentException("FlashButterflyConv three-pass: need N = N1 * M, powers of two, with N1 in [2, "
          + MAX_N1 + "]"
          + " and M >= " + FlashButterflyConv.MIN_N + ", got N=" + n + ", M=" + m);
    this.device = device; this.h = h; this.n = n; this.m = m;
    this.log2n = Integer.numberOfTrailingZeros(n);
    this.log2m = Integer.numberOfTrailingZeros(m);
    this.n1 = n / m;
    boolean old = "old".equals(System.getProperty(STEPS_PROPERTY));
    fusedOuter = !old; tensorCoreDk = !old; vectorMiddle = !old;
    String fs = System.getProperty(FWD_STEPS_PROPERTY);
    fwdVectorMiddle = fwdTileOuter = !"old".equals(fs);
    fwdTileInverse = "tile".equals(fs);
  }

  /**
   * The forward's steps (round 8d). {@code vectorMiddle}: the middle kernel (fb3_mid_*) moves each row between the
   * scratch and shared memory with 16-byte loads and stores (flags bit 3; a row that is not 16-byte aligned falls back
   * to element-wise accesses in the kernel); off: one element per access (round 8c, the twin). {@code tileOuter}: at
   * N1 <= 16 the forward outer pass runs fb3_outer_fwd_t_* (a block of {@link #tileWidth} columns staged in shared
   * memory, 16-byte global accesses where aligned, one column per thread, at most 64 registers); off, and at N1 >= 32:
   * fb3_outer_fwd_* (two columns per thread read in place). {@code tileInverse}: the same for the inverse outer pass
   * (fb3_outer_inv_t_* vs fb3_outer_inv_*). Default (true, true, false): the tiled inverse was slower than the column
   * kernel on the H200 (see {@link #FWD_STEPS_PROPERTY}). Also applies to {@link FlashButterflyConv#backwardInput},
   * which runs this forward.
   */
  ThreePass forwardSteps(boolean vectorMiddle, boolean tileOuter, boolean tileInverse) {
    fwdVectorMiddle = vectorMiddle; fwdTileOuter = tileOuter; fwdTileInverse = tileInverse;
    return this;
  }

  /** Whether the forward outer pass runs the tile kernel ({@link #forwardSteps} and N1 <= 16). */
  boolean tileOuterApplies() { return fwdTileOuter && n1 <= 16; }
  /** Whether the inverse outer pass runs the tile kernel ({@link #forwardSteps} and N1 <= 16). */
  boolean tileInverseApplies() { return fwdTileInverse && n1 <= 16; }

  /** Columns (threads) per block of the tile outer passes: 256, or M when smaller (it divides M). */
  private int tileWidth() { return Math.min(OUTER_THREADS, m); }

  /** Whether the forward's middle moves its rows with 16-byte accesses ({@link #forwardSteps}). */
  boolean vectorForwardMiddle() { return fwdVectorMiddle; }

  /**
   * Tests: with {@code on}, a forward with 16-bit scratch places its scratch 8 bytes into the buffer (rows stay 8-byte
   * aligned, as the outer passes' paired accesses need, but not 16-byte aligned), so that the middle's 16-byte path
   * must fall back to element-wise accesses. No effect on fp32 scratch (its pairs need 16-byte alignment).
   */
  ThreePass misalignScratchForTest(boolean on) {
    scratchShift = on ? 8 : 0;
    return this;
  }

  /**
   * The backward's steps. {@code fusedOuter}: u's and dy's outer passes as one launch (fb3b_outer2, N1 <= 8) that also
   * sums dD (else two fb3_outer_fwd launches and fb_dD, as at N1 >= 16). {@code tensorCoreDk}: the dk finish's inverse
   * inner FFT on fp16 tensor cores with a per-row power-of-two scale (fb3b_rows_dk; else fp32 on CUDA cores,
   * fb3_rows_f32). {@code vectorMiddle}: the middle kernel moves its rows with 16-byte global loads and stores (flags
   * bit 3). All on by default (see {@link #STEPS_PROPERTY}); off: the round-7 twin.
   */
  ThreePass backwardSteps(boolean fusedOuter, boolean tensorCoreDk, boolean vectorMiddle) {
    this.fusedOuter = fusedOuter; this.tensorCoreDk = tensorCoreDk; this.vectorMiddle = vectorMiddle;
    return this;
  }

  /** Whether this plan's backward runs u's and dy's outer passes and dD as one launch ({@link #backwardSteps}). */
  boolean fusedOuterApplies() { return fusedOuter && n1 <= 8; }

  /** Whether the dk finish runs on tensor cores ({@link #backwardSteps}). */
  boolean tensorCoreDk() { return tensorCoreDk; }

  int inner() { return m; }

  /** Overrides the scratch budgets (bytes; tests force chunks of pairs and of channels at small sizes). */
  ThreePass budgets(long forward, long backward) {
    if (forward < 1 || backward < 1) throw new IllegalArgumentException("ThreePass.budgets: need > 0, got " + forward + ", " + backward);
    budget = forward; bwdBudget = backward; forced = true;
    return this;
  }
  int outer() { return n1; }

  /** Blocks per (pair, channel) of the outer passes: columns per thread as OuterCols in flashbutterfly3.cu. */
  private int colBlocks() {
    int cols = OUTER_THREADS * (n1 <= 16 ? 2 : 1);
    return (m + cols - 1) / cols;
  }

  /** fb3_outer_inv_dk: one column per thread. */
  private int colBlocks1() { return (m + OUTER_THREADS - 1) / OUTER_THREADS; }

  private static int rowThreads(int m) { return Math.min(512, Math.max(64, m / 16)); }

  private CudaModule.Kernel k(String name) { return device.module(MODULE).kernel(name); }

  /** An outer-pass kernel ("fb3_outer_..."), its N1 = 64 entry point when N1 is 64. */
  private CudaModule.Kernel outerKernel(String name) {
    return k(n1 == 64 ? name.replace("fb3_outer_", "fb3_outer64_") : name);
  }

  private DeviceBuffer scratch(long bytes) { return scratch = grow(scratch, bytes); }

  private DeviceBuffer grow(DeviceBuffer b, long bytes) {
    if (b != null && b.bytes() >= bytes) return b;
    if (b != null) { device.stream().synchronize(); b.close(); }
    return device.alloc(bytes);
  }

  /**
   * Balanced chunks {pairs per chunk, channels per chunk} for rows of {@code rowBytes} (one (pair, channel) row of N
   * scratch elements) within {@code budget}: all channels and as many pairs as fit, else one pair and as many channels.
   */
  static int[] chunks(int pairs, int h, long rowBytes, long budget) {
    long rows = Math.max(1, budget / rowBytes);
    if (rows >= h) {
      int most = (int) Math.min(pairs, rows / h), k = (pairs + most - 1) / most;
      return new int[] {(pairs + k - 1) / k, h};
    }
    int k = (int) ((h + rows - 1) / rows);
    return new int[] {1, (h + k - 1) / k};
  }

  /**
   * kf from the time-domain kernel {@code kt}: rows of {@code rowLen} fp32 values per channel (zero beyond), so
   * (H, Lk) for causal/circular kernels or the placed (H, N) kernel. fp32 throughout; synchronises.
   */
  void spectrum(DeviceBuffer kt, int rowLen, DeviceBuffer kf) { spectrum(kt.ptr(), rowLen, kf); }

  /** As above, from a device pointer. */
  void spectrum(DevicePointer kt, int rowLen, DeviceBuffer kf) {
    int hc = chunks(1, h, 8L * n, budget)[1];
    try (DeviceBuffer s = device.alloc(8L * hc * n)) {
      for (int h0 = 0; h0 < h; h0 += hc) {
        int c = Math.min(hc, h - h0);
        outerKernel("fb3_outer_fwd_f32_f32").launch(device.stream(), colBlocks(), c, OUTER_THREADS, 0,
            kt.at(4L * h0 * rowLen), s, 1, h, rowLen, 0, log2n, log2m, 1f);
        k("fb3_rows_f32").launch(device.stream(), c * n1, 1, rowThreads(m), FlashButterflyConv.smemBytes(m, false), s,
            kf.ptr().at(8L * h0 * n), log2m, 0, 1f);
      }
      device.stream().synchronize();   // s goes back to the cache only after the kernels used it
    }
  }

  /**
   * y = conv(u, K) + D u for (B, H, L) (flags bit 0: fused middle stage, bit 1: conj(K), the adjoint; bit 3, the
   * 16-byte row accesses, is added here per {@link #forwardSteps}, which also picks the outer kernels), queued on the
   * device's stream. {@code mid}: the middle kernel's name; {@code s16}: 16-bit scratch and shared memory.
   */
  void forward(DeviceBuffer u, DeviceBuffer y, int B, int L, ElementType io, String midKernel, boolean s16, int threads,
      DeviceBuffer kf, DeviceBuffer d, int flags, String computeTag) {
    forward(u, y, B, L, io, midKernel, s16, threads, kf, d, flags, computeTag, null);
  }

  /** As above; {@code ms} non-null: adds each pass's time (CUDA events, synchronising) to ms[0..2]. */
  void forward(DeviceBuffer u, DeviceBuffer y, int B, int L, ElementType io, String midKernel, boolean s16, int threads,
      DeviceBuffer kf, DeviceBuffer d, int flags, String computeTag, double[] ms) {
    int pairs = (B + 1) / 2, esz = s16 ? 4 : 8;
    long room = forced ? budget : Math.max(budget, (2L * B * h * L * io.bytes() - 8L * h * n) / 2);
    int[] c = chunks(pairs, h, (long) esz * n, room);
    long shift = s16 ? scratchShift : 0;
    DevicePointer s = scratch((long) esz * n * c[0] * c[1] + shift).ptr().at(shift);
    String suf = io.tag() + "_" + (s16 ? computeTag : "f32");
    int smem = FlashButterflyConv.smemBytes(m, s16) + (midKernel.endsWith("_w2") ? FlashButterflyConv.pairTableBytes(m) : 0);
    int f = flags | (fwdVectorMiddle ? 8 : 0);
    boolean tile = tileOuterApplies(), tileInv = tileInverseApplies();
    int tw = tileWidth(), tileSmem = 8 * n1 * tw;
    for (int h0 = 0; h0 < h; h0 += c[1]) {
      int hc = Math.min(c[1], h - h0);
      DevicePointer uh = u.ptr().at((long) h0 * L * io.bytes()), yh = y.ptr().at((long) h0 * L * io.bytes());
      DevicePointer kh = kf.ptr().at(8L * h0 * n), dh = d.ptr().at(4L * h0);
      for (int p0 = 0; p0 < pairs; p0 += c[0]) {
        int pc = Math.min(c[0], pairs - p0), b0 = 2 * p0;
        try (var e0 = ms == null ? null : new CudaEvent(device).record(device.stream())) {
          if (tile)
            k("fb3_outer_fwd_t_" + suf).launch(device.stream(), m / tw * pc, hc, tw, tileSmem, uh, s, B, h, L, b0, log2n, log2m,
                1f / n1);
          else
            outerKernel("fb3_outer_fwd_" + suf).launch(device.stream(), colBlocks() * pc, hc, OUTER_THREADS, 0, uh, s, B, h, L,
                b0, log2n, log2m, 1f / n1);
          var e1 = ms == null ? null : new CudaEvent(device).record(device.stream());
          k(midKernel).launch(device.stream(), pc * n1, hc, threads, smem, s, kh, pc, hc, log2n, log2m, f);
          var e2 = ms == null ? null : new CudaEvent(device).record(device.stream());
          if (tileInv)
            k("fb3_outer_inv_t_" + suf).launch(device.stream(), m / tw * pc, hc, tw, tileSmem, s, uh, dh, yh, B, h, L, b0, log2n,
                log2m);
          else
            outerKernel("fb3_outer_inv_" + suf).launch(device.stream(), colBlocks() * pc, hc, OUTER_THREADS, 0, s, uh, dh, yh, B,
                h, L, b0, log2n, log2m);
          if (ms != null) {
            var e3 = new CudaEvent(device).record(device.stream());
            ms[0] += e1.elapsedSince(e0); ms[1] += e2.elapsedSince(e1); ms[2] += e3.elapsedSince(e2);
            e1.close(); e2.close(); e3.close();
          }
        }
      }
    }
  }

  /**
   * The tensor-core backward's middle kernel for this compute tag, storage and stage scheme, e.g. "fb3b_mid_bf16_s16_w2"
   * (w2: two stages per warp, M >= 256 with the fused middle).
   */
  static String backwardKernelName(String computeTag, boolean s16, boolean w2) {
    return "fb3b_mid_" + computeTag + (s16 ? "_s16" : "") + (w2 ? "_w2" : "");
  }

  /**
   * Whether {@link #backward} runs here: tensor cores (the caller checks), and the two spectra's shared memory
   * ({@link FlashButterflyConv#bwdSmemBytes}: fp32 storage fits up to M = 8K) within the device's opt-in limit.
   */
  boolean backwardFits(boolean s16) {
    return FlashButterflyConv.bwdSmemBytes(m, s16) + FlashButterflyConv.pairTableBytes(m) <= device.maxSharedMemoryOptin()
        && (s16 || m <= 8192);
  }

  /** Most threads per block of the backward's middle kernel: 768 with 16-bit storage on sm_90 (not _w2), else 512. */
  int backwardMaxThreads(boolean s16, boolean w2) { return s16 && !w2 && device.computeCapability() >= 90 ? 768 : 512; }

  /**
   * du = K^T dy + D dy (skipped when {@code du} is null), dk (taps {@code lk}, bidirectional: both sides) and dD on
   * tensor cores, queued: per chunk of channels the accumulator is zeroed, per chunk of pairs u's and dy's outer
   * passes fill SA and SB, fb3b_mid adds conj(Zu) Zd to acc and leaves du's inner inverse in SB, fb3_outer_inv writes
   * du; then acc is inverted (scale N: both spectra carry 1/N) and placed at the taps (fb3_outer_inv_dk); dD from
   * fb_dD. Round 8c's steps ({@link #backwardSteps}, default): at N1 <= 8 u's and dy's outer passes and dD are one
   * launch (fb3b_outer2), the inversion runs on fp16 tensor cores (fb3b_rows_dk; else fp32, fb3_rows_f32), the middle
   * moves its rows with 16-byte accesses.
   * {@code flags} bit 0: the fused middle. {@code ms} non-null: adds each step's time (CUDA events, synchronising) to
   * ms[0..5] = {u outer, dy outer, middle, du outer inverse, dk finish, dD}; with fb3b_outer2 its time is in ms[0]
   * and ms[1], ms[5] stay ~0.
   */
  void backward(DeviceBuffer u, DeviceBuffer dy, DeviceBuffer du, int B, int L, ElementType io, String computeTag,
      boolean s16, boolean w2, int threads, DeviceBuffer kf, DeviceBuffer d, int lk, boolean bidir, int flags,
      DeviceBuffer dk, DeviceBuffer dD, double[] ms) {
    var ev = new java.util.ArrayList<CudaEvent>();
    Runnable mark = () -> { if (ms != null) ev.add(new CudaEvent(device).record(device.stream())); };
    int pairs = (B + 1) / 2, esz = s16 ? 4 : 8;
    int[] c = chunks(pairs, h, (long) esz * n, bwdBudget);
    long sBytes = (long) esz * n * c[0] * c[1];
    DeviceBuffer sb = scratch(sBytes);
    scratchA = grow(scratchA, sBytes);
    acc = grow(acc, 8L * n * c[1]);
    String suf = io.tag() + "_" + (s16 ? computeTag : "f32");
    int smem = FlashButterflyConv.bwdSmemBytes(m, s16) + (w2 ? FlashButterflyConv.pairTableBytes(m) : 0);
    int t = rowThreads(m), f = flags | (du == null ? 4 : 0) | (vectorMiddle ? 8 : 0);
    boolean fuse = fusedOuterApplies();
    var st = device.stream();
    device.makeCurrent();
    if (fuse) Check.cu(jcuda.driver.JCudaDriver.cuMemsetD32Async(dD.ptr(), 0, h, st.cu()), "cuMemsetD32Async",
        "three-pass dD (H=" + h + ")", "device " + device.index());
    for (int h0 = 0; h0 < h; h0 += c[1]) {
      int hc = Math.min(c[1], h - h0);
      long rowOff = (long) h0 * L * io.bytes();
      DevicePointer uh = u.ptr().at(rowOff), dyh = dy.ptr().at(rowOff), kh = kf.ptr().at(8L * h0 * n);
      Check.cu(jcuda.driver.JCudaDriver.cuMemsetD32Async(acc.ptr(), 0, 2L * hc * n, st.cu()), "cuMemsetD32Async",
          "three-pass acc (" + hc + ", N=" + n + ")", "device " + device.index());
      for (int p0 = 0; p0 < pairs; p0 += c[0]) {
        int pc = Math.min(c[0], pairs - p0), b0 = 2 * p0;
        mark.run();
        if (fuse) {   // u and dy (and dD) in one launch: its time in ms[0], none in ms[1]
          device.module(MODULE_BWD).kernel("fb3b_outer2_" + suf + "_" + n1).launch(st, colBlocks() * pc, hc, OUTER_THREADS, 0,
              uh, dyh, scratchA, sb, dD.ptr().at(4L * h0), B, h, L, b0, log2n, log2m, 1f / n1);
          mark.run();
        } else {
          outerKernel("fb3_outer_fwd_" + suf).launch(st, colBlocks() * pc, hc, OUTER_THREADS, 0, uh, scratchA, B, h, L, b0,
              log2n, log2m, 1f / n1);
          mark.run();
          outerKernel("fb3_outer_fwd_" + suf).launch(st, colBlocks() * pc, hc, OUTER_THREADS, 0, dyh, sb, B, h, L, b0, log2n,
              log2m, 1f / n1);
        }
        mark.run();
        device.module(MODULE_BWD).kernel(backwardKernelName(computeTag, s16, w2)).launch(st, pc * n1, hc, threads, smem, scratchA,
            sb, kh, acc, pc, hc, log2n, log2m, f);
        mark.run();
        if (du != null)
          outerKernel("fb3_outer_inv_" + suf).launch(st, colBlocks() * pc, hc, OUTER_THREADS, 0, sb, dyh, d.ptr().at(4L * h0),
              du.ptr().at(rowOff), B, h, L, b0, log2n, log2m);
        mark.run();
        for (int i = 0; ms != null && i < 4; i++) ms[i] += ev.get(ev.size() - 4 + i).elapsedSince(ev.get(ev.size() - 5 + i));
      }
      mark.run();
      if (tensorCoreDk)
        device.module(MODULE_BWD).kernel("fb3b_rows_dk").launch(st, hc * n1, 1, t, FlashButterflyConv.smemBytes(m, true), acc,
            acc, log2m, (float) n);
      else
        k("fb3_rows_f32").launch(st, hc * n1, 1, t, FlashButterflyConv.smemBytes(m, false), acc, acc, log2m, 1, (float) n);
      outerKernel("fb3_outer_inv_dk").launch(st, colBlocks1(), hc, OUTER_THREADS, 0, acc, dk.ptr().at(4L * h0 * lk), h, lk,
          log2n, log2m, bidir ? 1 : 0);
      mark.run();
      if (ms != null) ms[4] += ev.getLast().elapsedSince(ev.get(ev.size() - 2));
    }
    mark.run();
    if (!fuse) dD(device, u, dy, B, h, L, io, dD);   // fused: summed by fb3b_outer2 (ms[5] stays 0)
    mark.run();
    if (ms != null) ms[5] += ev.getLast().elapsedSince(ev.get(ev.size() - 2));
    ev.forEach(CudaEvent::close);
  }

  /**
   * dk (taps {@code lk}, bidirectional: both sides) and dD from u and dy, fp32 FFTs; queued, then synchronised
   * (the workspace of 24 * H * N bytes goes back to the cache).
   */
  void weights(DeviceBuffer u, DeviceBuffer dy, int B, int L, ElementType io, int lk, boolean bidir, DeviceBuffer dk,
      DeviceBuffer dD) {
    long plane = 8L * h * n;
    try (DeviceBuffer sa = device.alloc(plane); DeviceBuffer sb = device.alloc(plane); DeviceBuffer acc = device.alloc(plane)) {
      String outer = "fb3_outer_fwd_" + io.tag() + "_f32";
      int smem = FlashButterflyConv.smemBytes(m, false), t = rowThreads(m);
      for (int p = 0; p < (B + 1) / 2; p++) {
        outerKernel(outer).launch(device.stream(), colBlocks(), h, OUTER_THREADS, 0, u, sa, B, h, L, 2 * p, log2n, log2m, 1f);
        outerKernel(outer).launch(device.stream(), colBlocks(), h, OUTER_THREADS, 0, dy, sb, B, h, L, 2 * p, log2n, log2m, 1f);
        k("fb3_dk_mid").launch(device.stream(), h * n1, 1, t, smem, sa, sb, acc, log2m, p == 0 ? 1 : 0);
      }
      k("fb3_rows_f32").launch(device.stream(), h * n1, 1, t, smem, acc, sa, log2m, 1, 1f / n);
      outerKernel("fb3_outer_inv_dk").launch(device.stream(), colBlocks1(), h, OUTER_THREADS, 0, sa, dk, h, lk, log2n, log2m,
          bidir ? 1 : 0);
      dD(device, u, dy, B, h, L, io, dD);
      device.stream().synchronize();
    }
  }

  /** dD[h] = sum_b sum_n dy u (fp32), queued. */
  static void dD(CudaDevice device, DeviceBuffer u, DeviceBuffer dy, int B, int H, int L, ElementType io, DeviceBuffer dD) {
    device.module(MODULE).kernel("fb_dD_" + io.tag()).launch(device.stream(), H, 1, 512, 0, u, dy, dD, B, H, L);
  }

  void close() {
    if (scratch != null || scratchA != null || acc != null) device.stream().synchronize();
    if (scratch != null) { scratch.close(); scratch = null; }
    if (scratchA != null) { scratchA.close(); scratchA = null; }
    if (acc != null) { acc.close(); acc = null; }
  }

  @Override public String toString() { return "three-pass N1=" + n1 + " x M=" + m; }
}
