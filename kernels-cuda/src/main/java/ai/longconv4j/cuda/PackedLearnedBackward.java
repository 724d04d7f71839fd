// Shapes: B batch, H channels, L length, Lk taps; N the real FFT size, M = N / 2 = N1 x N2 (16 x 16, 16 x 32, 32 x 32;
// causal / bidirectional 128 < L <= 1024, circular L = N = 512, 1024). u, dy, du: (B, H, L) bf16 / fp16; dk: (sides, H, Lk)
// fp32 (bidirectional: dk0 then dk1); dD: (H) fp32.
//   Workspaces per row (R = B H rows): two dumps and the packed inputs, each (R, 4, N1, 2 N2) 16-bit (8 M values a row).
//   Block gradients: {dFa (N1, N1), dFb (N2, N2), dGb (N2, N2), dGa (N1, N1)} complex, lib's layout.
package ai.longconv4j.cuda;

import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.JCudaDriver;

/**
 * The PACKED learned butterfly's backward on the GPU ({@link PackedLearnedConv#backward}; lib's float64 twin:
 * {@code PackedLearnedButterfly.backwardAll}). Both chains are learned_pk.cu's forward structure with dumps
 * (learned_pk_bwd.cu {@code lpkb_chain_*}): the forward chain on u (blocks {Fa, Fb, Gb, Ga}, coefficients (P, Q)) stores
 * X1, C, C', X3 per row; the adjoint chain on dy (blocks {Ga^H, Gb^H, Fb^H, Fa^H}, coefficients (conj P_k, Q_s(k)), D)
 * writes du and stores M dX2, M dC', M dC and dB; both store their packed input. learned_tc_bwd.cu's Gram kernels give
 * the four block gradients (dGa, dFa in form B, dGb, dFb in form A), {@code lpkb_dk} dP, dQ and the spectrum's gradient
 * dK, {@code lbt_taps} dk (an inverse DFT of N points) and {@code lbt_dkp3} dD.
 * Since helper pkbwd2 (defaults; {@code -Dlongconv4j.pk.bwd.sync=true} gives pkbwd's way: workspaces from the caching
 * allocator per call, a synchronisation at the end) the workspaces are kept between calls (grown when B grows; 2 x 16 B H M
 * bytes of dumps held by the plan until {@link #close}) and the backward does not synchronise: the block gradients stay
 * on the device until {@link #blockGrads} copies them (a blocking copy, ordered after the queued kernels). The adjoint
 * chain's blocks and coefficients are the plan's own ({@code cachedadj}); {@code streams=2} puts dGa's Gram and dD on a
 * second stream, joined before the call returns. Since helper pkbwd3 (at N1 = 16, i.e. 16 x 16 and 16 x 32): the Gram
 * kernels' persistent grids are the blocks resident per SM (lpkb_gram_b 3, lbt_gram 5; was 4 x SMs for both, a second
 * partial wave for lpkb_gram_b) and dGb's Gram runs on the second stream after the adjoint chain ({@code gramsm / gbsm /
 * sidegrams}; {@code gramsm=4 gbsm=4 sidegrams=none} is pkbwd2's route).
 * Session 13, helper pkmode: BIDIRECTIONAL and CIRCULAR run the same kernels (the forward's P / Q carry the mode);
 * dk's inverse DFT ({@code lbt_taps}) takes side 0 at [t] and, bidirectional, side 1 at [N - 1 - t] into dk's second
 * (H, Lk) half (taps1 &gt; 0). Circular at 32 x 32 (L = N = 2048, sr = 32): the chains {@code lpkb_chain_*_32x32_fs32 /
 * as32} (x stage of all 32 rows of A, 12 warps), on the ins route (direct off: lpkb_gram_b takes 16 packed rows; the
 * Grams dGa / dFa by lbt_gram on the chains' ins dumps, every row written), staged dumps, fusedPq off.
 * Session 13, helper pkbwd4 ({@code ingram}, default {@code ga/fa} at N1 = 16; {@code none} is the former route): dGa
 * summed in the forward chain ({@code lpkb_chain_*_fsg}: pack(dy) staged per row, its Gram with X3 in the chain) and dFa
 * in the adjoint chain ({@code _asg}: pack(u) with dB), slot 3 (X3, dB) not dumped, the chains' per-block partials
 * reduced by {@code lbt_gram_reduce2} right after each chain: two Gram passes, 2 x 16 B H M bytes of dump stores and their
 * reads fewer. A forwardForBackward's saved dumps keep dGa on lpkb_gram_b.
 */
final class PackedLearnedBackward implements AutoCloseable {
  private static final String MODULE = "learned_pk_bwd", MODULE_FWD = "learned_pk", MODULE_GRAM = "learned_tc_bwd";
  /** phases: the Gram kernels' spans (their reductions: "red" + Ga / Fa / Gb / Fb). */
  private static final String[] GRAM_NAMES = {"gramGa", "gramFa", "gramGb", "gramFb"};

  private final CudaDevice device;
  private final int h, l, lk, n1, n2, m, n, taps, taps1, sr;
  private final ElementType io;
  private double[][] grads;
  // sync = false: the workspaces kept between calls, and the raw block gradients not yet copied to the host
  private DeviceBuffer kFd, kAd, kIns, kPart, kG, kAdjBlocks, kPrepAdj, kPqAdj, kRaw, kDpq, kPart2;
  // streams = 2: the side stream, its fork (after the forward chain, on the device's stream) and join events
  private CudaStream side;
  private final CUevent evFork = new CUevent(), evJoin = new CUevent();
  private boolean rawPending;
  // forwardSaving: the u buffer, B and route (direct) whose forward dumps are in kFd (and kIns); null: none saved
  private DeviceBuffer savedU;
  private int savedB;
  private boolean savedDirect;
  // helper pkbwd3's grids (per call, from gramsm / gbsm): resident blocks per SM of lbt_gram (form A / B) and lpkb_gram_b
  private int gramPerSm = 4, gbPerSm = 4;

  /**
   * taps: side 0's taps (lib's effectiveTaps); taps1: bidirectional side 1's (k1 at [N - 1 - t]), 0 for one-sided modes;
   * sr: rows of the chains' x stage (16; 32 for circular at 32 x 32).
   */
  PackedLearnedBackward(CudaDevice device, int h, int l, int lk, int n1, int n2, int taps, int taps1, int sr, ElementType io) {
    // the chains stage sr rows of the packed row (learned_pk.cu's x stage); lpkb_gram_b takes 16 non-zero rows (sr = 32:
    // not used, the ins route instead)
    if ((sr != 16 && (sr != 32 || n1 != 32)) || (l + 1) / 2 > sr * n2)
      throw new IllegalArgumentException("PackedLearnedConv.backward: L=" + l + " (Lk=" + lk + ") packs into ceil(L/2)=" + (l + 1) / 2
          + " points, more than the " + sr + " rows x N2=" + n2 + " = " + sr * n2 + " the kernels stage at M = " + n1 + " x " + n2
          + " (covered: ceil(L/2) <= 16 N2; 32 N2 at 32 x 32 circular)");
    this.device = device; this.h = h; this.l = l; this.lk = lk; this.n1 = n1; this.n2 = n2; this.taps = taps; this.taps1 = taps1; this.sr = sr; this.io = io;
    this.m = n1 * n2; this.n = 2 * m;
  }

  /** Warps per block of the chains: 12 at 16 x 32 and for the 32-row chains (sr = 32), else 16. */
  private int chainWarps() { return sr == 32 || (n1 == 16 && n2 == 32) ? 12 : 16; }

  /** Complex entries of the four blocks. */
  private int blockElements() { return 2 * (n1 * n1 + n2 * n2); }

  /**
   * Grid of the lbt_gram kernels: gramPerSm blocks of 256 per SM (4 before pkbwd3: learned_tc_bwd.cu's async Grams), at
   * most the rows.
   */
  private int gramGrid(int rows) { return Math.min(rows, gramPerSm * device.smCount()); }

  /**
   * The partial sums' planes: enough for any Gram grid gramsm / gbsm allow (8 blocks per SM, 8.7 MB at 32 x 32 on 132
   * SMs), so that a grid change between calls does not reallocate the kept workspaces (and drop a forwardForBackward's
   * dumps: pkbwd3's sitting s1, whose part size followed the call's grids, lost them).
   */
  private long partBytes(int rows) {
    return 8L * Math.min(rows, 8 * device.smCount()) * Math.max(n1, n2) * Math.max(n1, n2);
  }

  /**
   * pkbwd3's default grids (blocks per SM) at N1 = 16 (16 x 16, 16 x 32), 4 elsewhere (pkbwd2's): lbt_gram 5, lpkb_gram_b 3
   * (the blocks resident per SM by their registers: PackedLearnedBackwardHostTest checks it against the ptxas reports).
   */
  static int defaultGramPerSm(int n1, int n2) { return n1 == 16 ? 5 : 4; }

  static int defaultGbPerSm(int n1, int n2) { return n1 == 16 ? 3 : 4; }

  /**
   * du, dk, dD and the block gradients (then read with {@link #blockGrads}) of {@code sum(y * dy)}; the forward's device
   * state: pq (H, M) float4 (lpk_pq), D (H) fp32, blocks (fp32 complex {Fa, Fb, Gb, Ga}), prep (lpk_prep of blocks).
   * Workspaces kept between calls (sync false, the default) or from the device's caching allocator per call with a
   * synchronisation at the end (sync true; 3 x 16 B H M bytes of dumps).
   */
  void run(DeviceBuffer u, DeviceBuffer dy, int B, DeviceBuffer du, DeviceBuffer dk, DeviceBuffer dD, DeviceBuffer pq, DeviceBuffer d,
      DeviceBuffer blocks, DeviceBuffer prep, DeviceBuffer convPrepAdj, DeviceBuffer convPqAdj) {
    // speed choices (read per call, for the bench): dGa / dFa by lpkb_gram_b from u and dy themselves (no ins workspace)
    // or by lbt_gram on the chains' ins dumps; phases: CUDA-event times per phase printed (bench-runs/pkbwd)
    // staged: the chains' dumps staged in shared memory and stored in 16-byte chunks (else 4-byte stores from the
    // fragments; sitting s3: 0.27 / 0.30 ms per chain against 0.87 / 0.93 at 1K); fusedPq (staged only): dP, dQ summed in
    // the adjoint chain (else lpkb_dk reads both chains' slot 1); s3's phases: the adjoint chain +0.22 ms, lpkb_dk -0.10 at
    // 1K (+0.16 / -0.08 at 512), +0.055 / -0.07 at 16 x 16: the default at 16 x 16 only
    // sr = 32 (circular 32 x 32): the ins route, staged dumps, no fused dP / dQ (the only 32-row chains)
    boolean direct = sr == 16 && Boolean.parseBoolean(System.getProperty("longconv4j.pk.bwd.direct", "true")),
        staged = sr == 32 || Boolean.parseBoolean(System.getProperty("longconv4j.pk.bwd.staged", "true")),
        fusedPq = sr == 16 && staged && fusedPq(System.getProperty("longconv4j.pk.bwd.fusedpq", "false")),
        phases = Boolean.getBoolean("longconv4j.pk.bwd.phases");
    // helper pkbwd2's choices (first route: cachedadj false, sync true, dkg 1): cachedadj: the adjoint chain's blocks and
    // coefficients are the plan's own (PackedLearnedConv's prepAdj / pqAdj, lpk_prep adjoint / lpk_pq adj: the same
    // values as lpkb_adj_blocks + lpk_prep / lpkb_pq_adj, conjugates and transposes only), three launches fewer; sync false:
    // kept workspaces, no synchronisation at the end (block gradients copied by blockGrads); dkg: lpkb_dk's batch groups
    // G (0: 1024 / M, at least 1)
    // Defaults since pkbwd2's sitting s1 (bench-runs/pkbwd2/s1: fwd+bwd at 1K / 512 / 256 1.446, 1.452 / 0.798, 0.803 /
    // 0.497, 0.500 ms in the two orders against the former defaults' 1.567, 1.550 / 0.880, 0.900 / 0.569, 0.583):
    // cachedadj, sync false, dkg 0 and fusedpq false (also at 16 x 16: 0.521, 0.525 with it); the former defaults are
    // cachedadj=false, sync=true, dkg=1, fusedpq=16x16 (on at 16 x 16 only). streams 2 (default 1): dGa's Gram and dD on
    // a second stream (after the forward chain), joined before the call returns
    boolean cachedAdj = Boolean.parseBoolean(System.getProperty("longconv4j.pk.bwd.cachedadj", "true")),
        sync = Boolean.parseBoolean(System.getProperty("longconv4j.pk.bwd.sync", "false"));
    int dkg = Integer.parseInt(System.getProperty("longconv4j.pk.bwd.dkg", "0"));
    // streams 2 the default since s2 (fwd+bwd 1.414, 1.419 / 0.782, 0.785 / 0.482, 0.467 ms against one stream's 1.455,
    // 1.471 / 0.800, 0.793 / 0.498, 0.499 at 1K / 512 / 256); sidedk (streams 2 only; true, false or 16x16): dk (lpkb_dk,
    // lbt_taps) also on the side stream, after the adjoint chain, while the device's stream runs dFa, dGb, dFb. Default
    // 16x16 (on at 16 x 16 only) after s3: fwd+bwd 0.459, 0.464 against 0.480, 0.481 ms at 256; at 512 0.754, 0.742
    // against 0.782, 0.741 and at 1K 1.427, 1.434 against 1.424, 1.423 (not faster in both orders there)
    int streams = Integer.parseInt(System.getProperty("longconv4j.pk.bwd.streams", "2"));
    String sd = System.getProperty("longconv4j.pk.bwd.sidedk", "16x16");
    if (!sd.matches("true|false|16x16")) throw new IllegalArgumentException("longconv4j.pk.bwd.sidedk: true, false or 16x16, got " + sd);
    boolean sideDk = sd.equals("16x16") ? n2 == 16 : sd.equals("true");
    if (streams != 1 && streams != 2) throw new IllegalArgumentException("longconv4j.pk.bwd.streams: 1 or 2, got " + streams);
    if (dkg == 0) dkg = Math.max(1, 1024 / (n1 * n2));
    if (dkg < 1 || 256 % dkg != 0)
      throw new IllegalArgumentException("longconv4j.pk.bwd.dkg: 0 (auto) or a divisor of 256, got " + dkg);
    if (streams == 2 && side == null) {   // the side stream and its two events, kept until close
      side = new CudaStream(device);
      device.makeCurrent();
      Check.cu(JCudaDriver.cuEventCreate(evFork, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate", "device " + device.index());
      Check.cu(JCudaDriver.cuEventCreate(evJoin, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate", "device " + device.index());
    }
    // grama: dGb / dFb's lbt_gram form-A kernel: p the row-pair kernel (_asyncp, N2 = 32 only; the default there), s two
    // buffers (_asyncs, the default at N2 = 16), 3 / 4 cp.async stages (_async3s / _async4s)
    String grama = System.getProperty("longconv4j.pk.bwd.grama", n2 == 32 ? "p" : "s");
    if (!grama.matches("[ps34]") || (grama.equals("p") && n2 != 32))
      throw new IllegalArgumentException("longconv4j.pk.bwd.grama: p (N2 = 32 only), s, 3 or 4, got " + grama + " at " + n1 + " x " + n2);
    // helper pkbwd3 (slow twins: gramsm=4 gbsm=4 sidegrams=none, pkbwd2's defaults): gramsm / gbsm: the grids of the
    // persistent Gram kernels in blocks per SM (lbt_gram / lpkb_gram_b; both were 4 x SMs); lpkb_gram_b (77 / 74 registers
    // at 16 x 16 / 16 x 32, sm_90a ptxas) has 3 blocks of 256 resident per SM (80 x 256 = 20,480 of 65,536 registers), so a
    // grid of 4 x SMs ran a second, partial wave of 132 blocks; lbt_gram (39-52 registers) has 4 to 6. sidegrams (a list of
    // fa / gb / fb joined by '/', or none): those block gradients on the side stream after the adjoint chain (streams 2
    // only; with sidedk after lpkb_dk / lbt_taps), the rest on the device's stream
    // Defaults since pkbwd3's s1 (fwd+bwd in both orders: 256 0.434 / 0.434 ms against 0.467 / 0.459, 512 0.713 / 0.715
    // against 0.773 / 0.773; s3: 0.438 / 0.441 against 0.459 / 0.457, 0.733 / 0.746 against 0.771 / 0.770): at N1 = 16
    // gramsm 5, gbsm 3, sidegrams gb; at 32 x 32 pkbwd2's (4, 4, none): 5 / 3 / gb there was not faster in both orders
    // (s3 fwd+bwd 1.356 / 1.372 against the defaults' 1.350 / 1.357 ms)
    gramPerSm = Integer.parseInt(System.getProperty("longconv4j.pk.bwd.gramsm", "" + defaultGramPerSm(n1, n2)));
    gbPerSm = Integer.parseInt(System.getProperty("longconv4j.pk.bwd.gbsm", "" + defaultGbPerSm(n1, n2)));
    if (gramPerSm < 1 || gramPerSm > 8 || gbPerSm < 1 || gbPerSm > 8)
      throw new IllegalArgumentException("longconv4j.pk.bwd.gramsm / gbsm: 1 to 8 blocks per SM, got " + gramPerSm + " / " + gbPerSm);
    String sgv = System.getProperty("longconv4j.pk.bwd.sidegrams", n1 == 16 ? "gb" : "none");
    if (!sgv.matches("none|(fa|gb|fb)(/(fa|gb|fb))*"))
      throw new IllegalArgumentException("longconv4j.pk.bwd.sidegrams: none or fa / gb / fb joined by '/', got " + sgv);
    boolean[] sideGram = new boolean[4];
    for (String x : sgv.split("/")) if (!x.equals("none")) sideGram[java.util.List.of("ga", "fa", "gb", "fb").indexOf(x)] = true;
    // helper pkbwd4 (slow twin: ingram=none, the Grams by lpkb_gram_b after the chains): ingram (none, or ga / fa joined by
    // '/'): dGa summed in the forward chain (lpkb_chain_*_fsg: pack(dy) staged per row, the Gram with X3 in the chain;
    // not with a forwardForBackward's saved dumps, whose dGa takes lpkb_gram_b), dFa in the adjoint chain (_asg: pack(u)
    // with dB); slot 3 of those chains not dumped; the chain's per-block partials reduced by lbt_gram_reduce2. N1 = 16 on
    // the direct, staged route without fusedpq only (elsewhere ignored: the Grams as before). Default ga/fa since pkbwd4's
    // sitting s1 (bench-runs/pkbwd4/s1, both orders; fwd+bwd 512 0.678 / 0.666 ms against none's 0.736 / 0.732, 256 0.412 /
    // 0.410 against 0.438 / 0.431; bwd 0.585 / 0.580 against 0.645 / 0.630 and 0.365 / 0.360 against 0.389 / 0.378; ingram=fa
    // alone in between: 0.684 / 0.686, 0.415 / 0.411)
    String igv = System.getProperty("longconv4j.pk.bwd.ingram", "ga/fa");
    if (!igv.matches("none|(ga|fa)(/(ga|fa))*"))
      throw new IllegalArgumentException("longconv4j.pk.bwd.ingram: none or ga / fa joined by '/', got " + igv);
    boolean igOk = n1 == 16 && sr == 16 && direct && staged && !fusedPq;
    boolean[] inGram = {igOk && igv.contains("ga"), igOk && igv.contains("fa")};
    int rows = B * h, e = blockElements(), gg = gramGrid(rows);
    long dump = (long) rows * 8 * m * 2;
    CudaStream s = device.stream();
    long partBytes = partBytes(rows);
    // the forward chain's dumps of a forwardSaving on this u, B and route (consumed here either way)
    if (!sync) ensureKept(B, direct);   // kept workspaces (a saved forward's allocation has this B: kept as they are; a
    // reallocation drops the saved dumps, so saved is read after it)
    boolean saved = !sync && savedU == u && savedB == B && savedDirect == direct;
    savedU = null;
    if (sync && rawPending) {   // a sync = false call's gradients not read yet: they are dropped with its workspaces
      s.synchronize();
      closeKept();
    }
    try (DeviceBuffer fd = sync ? device.alloc(dump) : null; DeviceBuffer ad = sync ? device.alloc(dump) : null;
         DeviceBuffer ins = direct || !sync ? null : device.alloc(dump); DeviceBuffer part = sync ? device.alloc(partBytes) : null;
         DeviceBuffer g = sync ? device.alloc(8L * h * n) : null;
         DeviceBuffer adjBlocks = sync && !cachedAdj ? device.alloc(8L * e) : null; DeviceBuffer prepAdj = sync && !cachedAdj ? device.alloc(4L * e) : null;
         DeviceBuffer pqAdj = sync && !cachedAdj ? device.alloc(16L * h * m) : null; DeviceBuffer raw = sync ? device.alloc(8L * e) : null;
         DeviceBuffer dpq = sync && fusedPq ? device.alloc(16L * h * m) : null;
         DeviceBuffer part2 = sync && streams == 2 ? device.alloc(partBytes) : null) {
      run(u, dy, B, du, dk, dD, pq, d, blocks, prep, convPrepAdj, convPqAdj, direct, staged, fusedPq, phases, cachedAdj, sync, dkg, grama,
          streams == 2 && du != dy && du != u ? side : null, sideDk, sideGram, new boolean[] {inGram[0] && !saved, inGram[1]}, saved, sync ? part2 : kPart2,   // du in place of u / dy: one stream
          sync ? fd : kFd, sync ? ad : kAd, sync ? ins : kIns, sync ? part : kPart, sync ? g : kG,
          cachedAdj ? null : sync ? adjBlocks : kAdjBlocks, cachedAdj ? convPrepAdj : sync ? prepAdj : kPrepAdj,
          cachedAdj ? convPqAdj : sync ? pqAdj : kPqAdj, sync ? raw : kRaw, sync ? dpq : kDpq);
    }
  }

  /** The kept workspaces for B rows of H and the route's ins dump: (re)allocated when missing or too small. */
  private void ensureKept(int B, boolean direct) {
    int rows = B * h, e = blockElements();
    long dump = (long) rows * 8 * m * 2, partBytes = partBytes(rows);
    if (kFd == null || kFd.bytes() < dump || kPart.bytes() < partBytes || (!direct && (kIns == null || kIns.bytes() < dump))) {
      device.stream().synchronize();   // after the queued work that may use them
      closeKept();
      kFd = device.alloc(dump); kAd = device.alloc(dump); kIns = direct ? null : device.alloc(dump);
      kPart = device.alloc(partBytes); kG = device.alloc(8L * h * n); kAdjBlocks = device.alloc(8L * e);
      kPrepAdj = device.alloc(4L * e); kPqAdj = device.alloc(16L * h * m); kRaw = device.alloc(8L * e); kDpq = device.alloc(16L * h * m);
      kPart2 = device.alloc(partBytes);
    }
  }

  /**
   * y = the forward of u by the forward chain (its OUT instance, {@code lpkb_chain_*_a[s]}: the same kernel as the adjoint
   * chain's, here on the forward's blocks, coefficients and D), its dumps kept for the next {@link #run} on u and B.
   */
  void forwardSaving(DeviceBuffer u, DeviceBuffer y, int B, DeviceBuffer pq, DeviceBuffer d, DeviceBuffer prep) {
    boolean direct = sr == 16 && Boolean.parseBoolean(System.getProperty("longconv4j.pk.bwd.direct", "true")),
        staged = sr == 32 || Boolean.parseBoolean(System.getProperty("longconv4j.pk.bwd.staged", "true"));
    savedU = null;
    ensureKept(B, direct);
    int warps = chainWarps(), gx = Math.min(device.smCount(), h), smem = PackedLearnedConv.smem(n1, n2, warps, 1, 0, sr);
    DevicePointer none = new DevicePointer();
    device.module(MODULE).kernel("lpkb_chain_" + io.tag() + "_" + n1 + "x" + n2 + "_a" + (staged ? "s" : "") + (sr == 32 ? "32" : "")).launch(device.stream(), gx, 1,
        32 * warps, smem, u, pq, d, prep, y, B, h, l, kFd, direct ? none : kIns, 0, none, none);
    savedU = u; savedB = B; savedDirect = direct;
  }

  /** Forgets a forwardSaving's dumps (the plan's blocks or weights changed). */
  void dropSaved() { savedU = null; }

  private void run(DeviceBuffer u, DeviceBuffer dy, int B, DeviceBuffer du, DeviceBuffer dk, DeviceBuffer dD, DeviceBuffer pq, DeviceBuffer d,
      DeviceBuffer blocks, DeviceBuffer prep, DeviceBuffer convPrepAdj, DeviceBuffer convPqAdj, boolean direct, boolean staged, boolean fusedPq,
      boolean phases, boolean cachedAdj, boolean sync, int dkg, String grama, CudaStream s2, boolean sideDk, boolean[] sideGram, boolean[] inGram, boolean saved, DeviceBuffer part2, DeviceBuffer fd, DeviceBuffer ad, DeviceBuffer ins,
      DeviceBuffer part, DeviceBuffer g, DeviceBuffer adjBlocks, DeviceBuffer prepAdj, DeviceBuffer pqAdj, DeviceBuffer raw, DeviceBuffer dpq) {
    int rows = B * h, e = blockElements(), gg = gramGrid(rows);
    boolean anySideGram = s2 != null && (sideGram[1] || sideGram[2] || sideGram[3]);
    CudaStream s = device.stream();
    // tests (pkbwd3): the raw block gradients poisoned first (NaN; cuMemsetD32 on the legacy stream, after the queued
    // work), so a Gram that a route leaves out cannot pass on a former call's values
    if (Boolean.getBoolean("longconv4j.pk.bwd.poison")) raw.fill32(0x7fc00000);
    CudaEvent[] ev = phases ? new CudaEvent[24] : null;
    int[] ne = {0};
    String[] names = new String[24];   // phases: the name of the span that ends at event i
    java.util.function.Consumer<String> mark = nm -> { if (ev != null) { names[ne[0]] = nm; ev[ne[0]++] = new CudaEvent(device).record(s); } };
    {
      CudaModule mb = device.module(MODULE), mf = device.module(MODULE_FWD), mg = device.module(MODULE_GRAM);
      DevicePointer none = new DevicePointer();
      Object insArg = direct ? none : ins;
      mark.accept(null);
      // the adjoint chain's blocks and coefficients (cachedAdj: the plan's own, nothing to launch)
      if (!cachedAdj) {
        mb.kernel("lpkb_adj_blocks").launch(s, (e + 255) / 256, 1, 256, 0, blocks, adjBlocks, n1, n2);
        mf.kernel("lpk_prep_" + io.tag()).launch(s, (e + 255) / 256, 1, 256, 0, adjBlocks, prepAdj, n1, n2, 0);   // already adjoint
        mb.kernel("lpkb_pq_adj").launch(s, h, 1, 256, 0, pq, pqAdj, n1, n2);
      }
      mark.accept("adj");
      // the two dumping chains (one row per unit; 16 warps, 12 at 16 x 32; persistent blocks)
      int warps = chainWarps(), gx = Math.min(device.smCount(), h), smem = PackedLearnedConv.smem(n1, n2, warps, 1, 0, sr);
      String chain = "lpkb_chain_" + io.tag() + "_" + n1 + "x" + n2, st = (staged ? "s" : "") + (sr == 32 ? "32" : "");
      // inGram (pkbwd4): + per warp a raw stage and its [Re | Im] rows of the other operand (4 x 16 (2 N2 + 8) bytes)
      int smemG = smem + warps * 4 * 16 * (2 * n2 + 8);
      if (!saved && inGram[0]) {   // dGa in the forward chain (dy the other operand), its partials reduced at once
        mb.kernel(chain + "_fsg").launch(s, gx, 1, 32 * warps, smemG, u, pq, d, prep, none, B, h, l, fd, dy, part);
        mg.kernel("lbt_gram_reduce2").launch(s, (n1 * n1 + 31) / 32, 1, 256, 0, part, gx, n1 * n1, 1f, raw, n1 * n1 + 2 * n2 * n2);
      } else if (!saved) mb.kernel(chain + "_f" + st).launch(s, gx, 1, 32 * warps, smem, u, pq, d, prep, none, B, h, l, fd, insArg, 0, none, none);
      // the side stream: dGa (pack(dy) and the forward chain's X3; without direct pack(dy) is the adjoint chain's ins dump,
      // so the fork comes after that chain) and dD (u, dy), then the join event
      Runnable fork = () -> {
        device.makeCurrent();
        Check.cu(JCudaDriver.cuEventRecord(evFork, s.cu()), "cuEventRecord", "device " + device.index());
        Check.cu(JCudaDriver.cuStreamWaitEvent(s2.cu(), evFork, 0), "cuStreamWaitEvent", "device " + device.index());
        if (!inGram[0]) gram(0, s2, part2, mb, mg, u, dy, fd, ad, ins, raw, direct, grama, rows, gg, none, x -> { });
        mg.kernel("lbt_dkp3_" + io.tag()).launch(s2, h, 1, 256, 0, none, none, u, dy, none, dD, B, h, l, 0, n2, 1f);
        if (!sideDk && !anySideGram) {
          device.makeCurrent();
          Check.cu(JCudaDriver.cuEventRecord(evJoin, s2.cu()), "cuEventRecord", "device " + device.index());
        }
      };
      if (s2 != null && direct) fork.run();
      mark.accept("chainF");
      // fusedPq: + the dP / dQ planes (16 M bytes) and per unit two prefetch buffers of the forward slot 1 (8 M bytes)
      int smemA = smem + (fusedPq ? 16 * m + warps / (n1 / 16) * 8 * m : 0);
      if (inGram[1]) {   // dFa in the adjoint chain (u the other operand), its partials reduced at once
        mb.kernel(chain + "_asg").launch(s, gx, 1, 32 * warps, smemG, dy, pqAdj, d, prepAdj, du, B, h, l, ad, u, part);
        mg.kernel("lbt_gram_reduce2").launch(s, (n1 * n1 + 31) / 32, 1, 256, 0, part, gx, n1 * n1, 1f, raw, 0);
      } else
        mb.kernel(chain + "_a" + st + (fusedPq ? "k" : "")).launch(s, gx, 1, 32 * warps, smemA, dy, pqAdj, d, prepAdj, du, B, h, l, ad, insArg, 1,
            fd, fusedPq ? dpq : none);
      if (s2 != null && !direct) fork.run();
      // dP, dQ -> dK (natural order, zeros above M) -> dk by lbt_taps' inverse FFT at N1 = N, N2 = 1 (position = frequency)
      float invM = 1f / m;
      int gk = fusedPq ? 1 : dkg;   // lpkb_dk's batch groups (its planes: 16 G M bytes)
      java.util.function.Consumer<CudaStream> dkTaps = q -> {
        mb.kernel("lpkb_dk_" + io.tag()).launch(q, h, 1, 256, 16 * gk * m + 4 * n1, fd, ad, g, B, h, n1, n2, invM, fusedPq ? dpq : none, gk);
        if (q == s) mark.accept("dk");   // phases are events on the device's stream
        mg.kernel("lbt_taps").launch(q, h, 1, 256, 12 * n, g, dk, h, lk, taps, taps1, taps1 > 0 ? 1 : 0, n, 1);   // pkmode: dk1 at [N-1-t]
        if (taps1 > 0 && taps1 < lk) {   // bidirectional Lk = L: k1's taps >= L - 1 reach no input, gradient 0 (lib's too)
          device.makeCurrent();
          Check.cu(JCudaDriver.cuMemsetD2D32Async(dk.ptr().at(4L * ((long) h * lk + taps1)), 4L * lk, 0, lk - taps1, h, q.cu()),
              "cuMemsetD2D32Async", "dk1's unreachable taps (H=" + h + ", Lk=" + lk + ", taps1=" + taps1 + ")", "device " + device.index());
        }
        if (q == s) mark.accept("taps");
      };
      if (s2 != null && (sideDk || anySideGram)) {   // the side stream, after its dGa and dD: wait for the adjoint chain, then dk
        device.makeCurrent();   // and / or sidegrams' block gradients (into part2, after dGa's reduction on the same stream)
        Check.cu(JCudaDriver.cuEventRecord(evFork, s.cu()), "cuEventRecord", "device " + device.index());
        Check.cu(JCudaDriver.cuStreamWaitEvent(s2.cu(), evFork, 0), "cuStreamWaitEvent", "device " + device.index());
        if (sideDk) dkTaps.accept(s2);
        for (int i = 1; i < 4; i++) if (sideGram[i] && !(i == 1 && inGram[1])) gram(i, s2, part2, mb, mg, u, dy, fd, ad, ins, raw, direct, grama, rows, gg, none, x -> { });
        device.makeCurrent();
        Check.cu(JCudaDriver.cuEventRecord(evJoin, s2.cu()), "cuEventRecord", "device " + device.index());
      }
      mark.accept("chainA");
      // block gradients (streams = 2: dGa on the side stream)
      for (int i = s2 != null ? 1 : 0; i < 4; i++) {
        if (s2 != null && sideGram[i]) continue;   // on the side stream
        if (i < 2 && inGram[i]) continue;   // summed in its chain
        gram(i, s, part, mb, mg, u, dy, fd, ad, ins, raw, direct, grama, rows, gg, none, mark);
        mark.accept("red" + GRAM_NAMES[i].substring(4));   // the Gram kernel, then its lbt_gram_reduce2
      }
      if (s2 == null || !sideDk) dkTaps.accept(s);
      // dD: lbt_dkp3 with N1 = 0 (grid (H, 1): its dD row only); streams = 2: on the side stream, joined here
      if (s2 == null) mg.kernel("lbt_dkp3_" + io.tag()).launch(s, h, 1, 256, 0, none, none, u, dy, none, dD, B, h, l, 0, n2, 1f);
      else {
        device.makeCurrent();
        Check.cu(JCudaDriver.cuStreamWaitEvent(s.cu(), evJoin, 0), "cuStreamWaitEvent", "device " + device.index());
      }
      mark.accept("dD");
      if (sync) {
        s.synchronize();
        grads = unpermute(raw.copyTo(new float[2 * e], 0));
        rawPending = false;
      } else {
        grads = null;
        rawPending = true;
      }
      if (ev != null) {
        var sb = new StringBuilder("packed bwd phases (ms) B=" + B + " H=" + h + " L=" + l + " direct=" + direct + " staged=" + staged
            + " fusedPq=" + fusedPq + " grama=" + grama + " cachedAdj=" + cachedAdj + " sync=" + sync + " dkg=" + dkg + " streams=" + (s2 != null ? 2 : 1) + " sideDk=" + sideDk + " saved=" + saved
            + " gramsm=" + gramPerSm + " gbsm=" + gbPerSm + " sideGrams=" + java.util.Arrays.toString(sideGram) + " inGram=" + java.util.Arrays.toString(inGram) + ":");
        for (int i = 1; i < ne[0]; i++) sb.append(String.format(" %s %.4f", names[i], ev[i].elapsedSince(ev[i - 1])));
        sb.append(String.format(" total %.4f", ev[ne[0] - 1].elapsedSince(ev[0])));
        System.out.println(sb);
        for (int i = 0; i < ne[0]; i++) ev[i].close();
      }
    }
  }


  /**
   * Block gradient i on stream s into raw (partials in part, then lbt_gram_reduce2): 0 dGa, 1 dFa (form B: lpkb_gram_b
   * from dy / u, or lbt_gram on the ins dumps), 2 dGb, 3 dFb (form A per grama).
   */
  private void gram(int i, CudaStream s, DeviceBuffer part, CudaModule mb, CudaModule mg, DeviceBuffer u, DeviceBuffer dy, DeviceBuffer fd,
      DeviceBuffer ad, DeviceBuffer ins, DeviceBuffer raw, boolean direct, String grama, int rows, int gg, DevicePointer none,
      java.util.function.Consumer<String> mark) {
    // {kernel form, L dump, L slot, R dump, R slot, raw offset, output size, scale}
    int fa = 0, fb = n1 * n1, gb = n1 * n1 + n2 * n2, ga = n1 * n1 + 2 * n2 * n2;
    float invM = 1f / m;
    Object[][] grams = {
        {"b", ins, 1, fd, 3, ga, n1, 1f},     // dGa = sum dE X3^H        (columns in rho order)
        {"b", ad, 3, ins, 0, fa, n1, 1f},     // dFa = sum dB A^H         (rows in rho order)
        {"a", fd, 2, ad, 0, gb, n2, invM},    // dGb = sum C'^H dX2       (the adjoint X1 is M dX2)
        {"a", fd, 0, ad, 2, fb, n2, invM}};   // dFb = sum X1^H dC        (the adjoint C' is M dC)
    String cfg = "lbt_gram_" + io.tag() + "_" + n1 + "x" + n2 + "_";
    Object[] q = grams[i];
    int mm = (Integer) q[6], gq = gg;
    if (direct && i < 2) {   // lpkb_gram_b: the packed row read from dy (dGa, _x) or u (dFa, _d); RPS = 8 / (N1 / 16) rows a step
      int rps = 8 / (n1 / 16), xsm = 2 * rps * (n1 + 16) * (2 * n2 + 8) * 2;
      gq = Math.min((rows + rps - 1) / rps, gbPerSm * device.smCount());
      mb.kernel("lpkb_gram_b_" + io.tag() + "_" + n1 + "x" + n2 + (i == 0 ? "_x" : "_d")).launch(s, gq, 1, 256, xsm,
          i == 0 ? dy : u, i == 0 ? fd : ad, 3, part, rows, l);
    } else {
      // form A per grama: the row-pair kernel (two stages of two rows, 16 N1 (2 N2 + 8) bytes), or S stages of both
      // operands (4 S N1 (2 N2 + 8) bytes; 4 stages: 3 blocks per SM, as LearnedButterflyConv); form B two buffers
      String v = q[0].equals("a") ? grama : "s";
      String kn = cfg + q[0] + (v.equals("p") ? "_asyncp" : v.equals("s") ? "_asyncs" : "_async" + v + "s");
      int stages = v.equals("3") ? 3 : v.equals("4") ? 4 : 2, sm = (v.equals("p") ? 16 : 4 * stages) * n1 * (2 * n2 + 8);
      if (v.equals("4")) gq = Math.min(rows, 3 * device.smCount());
      // L = 0: every operand is a dump slot (the async path needs L % 8 == 0 only for real x operands)
      mg.kernel(kn).launch(s, gq, 1, 256, sm, q[1], q[2], none, q[3], q[4], none, part, rows, 0);
    }
    mark.accept(GRAM_NAMES[i]);
    mg.kernel("lbt_gram_reduce2").launch(s, (mm * mm + 31) / 32, 1, 256, 0, part, gq, mm * mm, (Float) q[7], raw, (Integer) q[5]);
  }

  /** fusedpq's value: true, false, or 16x16 (on at N1 = N2 = 16 only: pkbwd's default). */
  private boolean fusedPq(String v) {
    if (v.equals("16x16")) return n2 == 16;
    if (!v.equals("true") && !v.equals("false")) throw new IllegalArgumentException("longconv4j.pk.bwd.fusedpq: true, false or 16x16, got " + v);
    return v.equals("true");
  }

  /**
   * Helper pkop (session 13): the raw block gradients of the last {@link #run} on the device (sync = false, not yet read by
   * {@link #blockGrads}; learned_pk_op.cu {@code lpko_unpermute} puts them in lib's layout), valid until the next run; else null.
   */
  DeviceBuffer rawBlockGrads() { return rawPending ? kRaw : null; }

  /** The block gradients of the last {@link #run} in lib's layout {dFa, dFb, dGb, dGa} (float64 copies). */
  double[][] blockGrads() {
    if (rawPending) {   // sync = false: the copy is a blocking one (cuMemcpyDtoH), after the queued backward
      grads = unpermute(kRaw.copyTo(new float[2 * blockElements()], 0));
      rawPending = false;
    }
    if (grads == null) throw new IllegalStateException("PackedLearnedConv.blockGrads: call backward first");
    double[][] out = new double[4][];
    for (int i = 0; i < 4; i++) out[i] = grads[i].clone();
    return out;
  }

  /** Frees the kept workspaces (sync = false) after the queued work that uses them; their gradients not read are dropped. */
  private void closeKept() {
    for (DeviceBuffer b : new DeviceBuffer[] {kFd, kAd, kIns, kPart, kG, kAdjBlocks, kPrepAdj, kPqAdj, kRaw, kDpq, kPart2})
      if (b != null) b.close();
    kFd = kAd = kIns = kPart = kG = kAdjBlocks = kPrepAdj = kPqAdj = kRaw = kDpq = kPart2 = null;
    savedU = null;
    if (rawPending) { rawPending = false; grads = null; }
  }

  @Override public void close() {
    if (kFd != null || side != null) device.stream().synchronize();   // the side stream's work is joined into it
    closeKept();
    if (side != null) {
      side.close();
      device.makeCurrent();
      Check.cu(JCudaDriver.cuEventDestroy(evFork), "cuEventDestroy", "device " + device.index());
      Check.cu(JCudaDriver.cuEventDestroy(evJoin), "cuEventDestroy", "device " + device.index());
      side = null;
    }
  }

  /**
   * The Grams' sums in lib's layout: dGa's columns and dFa's rows come out in the chains' tile-row order rho (tile row i
   * holds k1 = rho(i)) and are put back. The packed inputs' rows past the causal row's non-zero half (16 kt of N1 rows
   * staged) are not written in the ins workspace (a cached block: any bits), so dGa's rows and dFa's columns there come
   * from garbage: they are exactly zero (dE, A zero there) and set so.
   */
  private double[][] unpermute(float[] r) {
    int[] sizes = {n1, n2, n2, n1};
    int kt = ((((l + 1) / 2) + n2 - 1) / n2 + 15) / 16, live = 16 * kt;
    double[][] out = new double[4][];
    for (int i = 0, off = 0; i < 4; i++) {
      int s = sizes[i];
      out[i] = new double[2 * s * s];
      for (int a = 0; a < s; a++)
        for (int b = 0; b < s; b++) {
          int row = i == 0 ? PackedLearnedConv.rho(a, n1) : a, col = i == 3 ? PackedLearnedConv.rho(b, n1) : b;
          boolean dead = (i == 3 && a >= live) || (i == 0 && b >= live);
          out[i][2 * (row * s + col)] = dead ? 0 : r[off + 2 * (a * s + b)];
          out[i][2 * (row * s + col) + 1] = dead ? 0 : r[off + 2 * (a * s + b) + 1];
        }
      off += 2 * s * s;
    }
    return out;
  }
}
