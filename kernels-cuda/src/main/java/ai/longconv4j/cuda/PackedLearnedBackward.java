// Shapes: B batch, H channels, L length, Lk taps; N the real FFT size, M = N / 2 = N1 x N2 (16 x 16, 16 x 32, 32 x 32;
// causal 128 < L <= 1024). u, dy, du: (B, H, L) bf16 / fp16; dk: (H, Lk) fp32; dD: (H) fp32.
//   Workspaces per row (R = B H rows): two dumps and the packed inputs, each (R, 4, N1, 2 N2) 16-bit (8 M values a row).
//   Block gradients: {dFa (N1, N1), dFb (N2, N2), dGb (N2, N2), dGa (N1, N1)} complex, lib's layout.
package ai.longconv4j.cuda;

/**
 * The PACKED learned butterfly's backward on the GPU ({@link PackedLearnedConv#backward}; lib's float64 twin:
 * {@code PackedLearnedButterfly.backwardAll}). Both chains are learned_pk.cu's forward structure with dumps
 * (learned_pk_bwd.cu {@code lpkb_chain_*}): the forward chain on u (blocks {Fa, Fb, Gb, Ga}, coefficients (P, Q)) stores
 * X1, C, C', X3 per row; the adjoint chain on dy (blocks {Ga^H, Gb^H, Fb^H, Fa^H}, coefficients (conj P_k, Q_s(k)), D)
 * writes du and stores M dX2, M dC', M dC and dB; both store their packed input. learned_tc_bwd.cu's Gram kernels give
 * the four block gradients (dGa, dFa in form B, dGb, dFb in form A), {@code lpkb_dk} dP, dQ and the spectrum's gradient
 * dK, {@code lbt_taps} dk (an inverse DFT of N points) and {@code lbt_dkp3} dD. Workspaces (3 x 16 B H M bytes) come from the
 * device's caching allocator per call; the block gradients are copied to the host at the end of each backward.
 */
final class PackedLearnedBackward {
  private static final String MODULE = "learned_pk_bwd", MODULE_FWD = "learned_pk", MODULE_GRAM = "learned_tc_bwd";

  private final CudaDevice device;
  private final int h, l, lk, n1, n2, m, n, taps;
  private final ElementType io;
  private double[][] grads;

  PackedLearnedBackward(CudaDevice device, int h, int l, int lk, int n1, int n2, int taps, ElementType io) {
    // the chains stage 16 rows of the packed row (learned_pk.cu's x stage) and lpkb_gram_b takes 16 non-zero rows
    if ((l + 1) / 2 > 16 * n2)
      throw new IllegalArgumentException("PackedLearnedConv.backward: L=" + l + " (Lk=" + lk + ") packs into ceil(L/2)=" + (l + 1) / 2
          + " points, more than the 16 rows x N2=" + n2 + " = " + 16 * n2 + " the kernels stage at M = " + n1 + " x " + n2
          + " (covered: ceil(L/2) <= 16 N2)");
    this.device = device; this.h = h; this.l = l; this.lk = lk; this.n1 = n1; this.n2 = n2; this.taps = taps; this.io = io;
    this.m = n1 * n2; this.n = 2 * m;
  }

  /** Complex entries of the four blocks. */
  private int blockElements() { return 2 * (n1 * n1 + n2 * n2); }

  /** Grid of the Gram kernels: 4 blocks of 256 per SM (learned_tc_bwd.cu's async Grams), at most the rows. */
  private int gramGrid(int rows) { return Math.min(rows, 4 * device.smCount()); }

  /**
   * du, dk, dD and the block gradients (then read with {@link #blockGrads}) of {@code sum(y * dy)}; the forward's device
   * state: pq (H, M) float4 (lpk_pq), D (H) fp32, blocks (fp32 complex {Fa, Fb, Gb, Ga}), prep (lpk_prep of blocks).
   * Workspaces from the device's caching allocator (3 x 16 B H M bytes of dumps); synchronises.
   */
  void run(DeviceBuffer u, DeviceBuffer dy, int B, DeviceBuffer du, DeviceBuffer dk, DeviceBuffer dD, DeviceBuffer pq, DeviceBuffer d,
      DeviceBuffer blocks, DeviceBuffer prep) {
    // speed choices (read per call, for the bench): dGa / dFa by lpkb_gram_b from u and dy themselves (no ins workspace)
    // or by lbt_gram on the chains' ins dumps; phases: CUDA-event times per phase printed (bench-runs/pkbwd)
    // staged: the chains' dumps staged in shared memory and stored in 16-byte chunks (else 4-byte stores from the
    // fragments; sitting s3: 0.27 / 0.30 ms per chain against 0.87 / 0.93 at 1K); fusedPq (staged only): dP, dQ summed in
    // the adjoint chain (else lpkb_dk reads both chains' slot 1); s3's phases: the adjoint chain +0.22 ms, lpkb_dk -0.10 at
    // 1K (+0.16 / -0.08 at 512), +0.055 / -0.07 at 16 x 16: the default at 16 x 16 only
    boolean direct = Boolean.parseBoolean(System.getProperty("longconv4j.pk.bwd.direct", "true")),
        staged = Boolean.parseBoolean(System.getProperty("longconv4j.pk.bwd.staged", "true")),
        fusedPq = staged && Boolean.parseBoolean(System.getProperty("longconv4j.pk.bwd.fusedpq", String.valueOf(n2 == 16))),
        phases = Boolean.getBoolean("longconv4j.pk.bwd.phases");
    // grama: dGb / dFb's lbt_gram form-A kernel: p the row-pair kernel (_asyncp, N2 = 32 only; the default there), s two
    // buffers (_asyncs, the default at N2 = 16), 3 / 4 cp.async stages (_async3s / _async4s)
    String grama = System.getProperty("longconv4j.pk.bwd.grama", n2 == 32 ? "p" : "s");
    if (!grama.matches("[ps34]") || (grama.equals("p") && n2 != 32))
      throw new IllegalArgumentException("longconv4j.pk.bwd.grama: p (N2 = 32 only), s, 3 or 4, got " + grama + " at " + n1 + " x " + n2);
    int rows = B * h, e = blockElements(), gg = gramGrid(rows);
    long dump = (long) rows * 8 * m * 2;
    CudaStream s = device.stream();
    CudaEvent[] ev = phases ? new CudaEvent[12] : null;
    int[] ne = {0};
    Runnable mark = () -> { if (ev != null) ev[ne[0]++] = new CudaEvent(device).record(s); };
    try (DeviceBuffer fd = device.alloc(dump); DeviceBuffer ad = device.alloc(dump); DeviceBuffer ins = direct ? null : device.alloc(dump);
         DeviceBuffer part = device.alloc(8L * gg * Math.max(n1, n2) * Math.max(n1, n2)); DeviceBuffer g = device.alloc(8L * h * n);
         DeviceBuffer adjBlocks = device.alloc(8L * e); DeviceBuffer prepAdj = device.alloc(4L * e);
         DeviceBuffer pqAdj = device.alloc(16L * h * m); DeviceBuffer raw = device.alloc(8L * e);
         DeviceBuffer dpq = fusedPq ? device.alloc(16L * h * m) : null) {
      CudaModule mb = device.module(MODULE), mf = device.module(MODULE_FWD), mg = device.module(MODULE_GRAM);
      DevicePointer none = new DevicePointer();
      Object insArg = direct ? none : ins;
      mark.run();
      // the adjoint chain's blocks and coefficients
      mb.kernel("lpkb_adj_blocks").launch(s, (e + 255) / 256, 1, 256, 0, blocks, adjBlocks, n1, n2);
      mf.kernel("lpk_prep_" + io.tag()).launch(s, (e + 255) / 256, 1, 256, 0, adjBlocks, prepAdj, n1, n2, 0);   // already adjoint
      mb.kernel("lpkb_pq_adj").launch(s, h, 1, 256, 0, pq, pqAdj, n1, n2);
      mark.run();
      // the two dumping chains (one row per unit; 16 warps, 12 at 16 x 32; persistent blocks)
      int warps = n1 == 16 && n2 == 32 ? 12 : 16, gx = Math.min(device.smCount(), h), smem = PackedLearnedConv.smem(n1, n2, warps, 1);
      String chain = "lpkb_chain_" + io.tag() + "_" + n1 + "x" + n2, st = staged ? "s" : "";
      mb.kernel(chain + "_f" + st).launch(s, gx, 1, 32 * warps, smem, u, pq, d, prep, none, B, h, l, fd, insArg, 0, none, none);
      mark.run();
      // fusedPq: + the dP / dQ planes (16 M bytes) and per unit two prefetch buffers of the forward slot 1 (8 M bytes)
      int smemA = smem + (fusedPq ? 16 * m + warps / (n1 / 16) * 8 * m : 0);
      mb.kernel(chain + "_a" + st + (fusedPq ? "k" : "")).launch(s, gx, 1, 32 * warps, smemA, dy, pqAdj, d, prepAdj, du, B, h, l, ad, insArg, 1,
          fd, fusedPq ? dpq : none);
      mark.run();
      // block gradients: {kernel form, L dump, L slot, R dump, R slot, raw offset, output size, scale}
      int fa = 0, fb = n1 * n1, gb = n1 * n1 + n2 * n2, ga = n1 * n1 + 2 * n2 * n2;
      float invM = 1f / m;
      Object[][] grams = {
          {"b", ins, 1, fd, 3, ga, n1, 1f},     // dGa = sum dE X3^H        (columns in rho order)
          {"b", ad, 3, ins, 0, fa, n1, 1f},     // dFa = sum dB A^H         (rows in rho order)
          {"a", fd, 2, ad, 0, gb, n2, invM},    // dGb = sum C'^H dX2       (the adjoint X1 is M dX2)
          {"a", fd, 0, ad, 2, fb, n2, invM}};   // dFb = sum X1^H dC        (the adjoint C' is M dC)
      String cfg = "lbt_gram_" + io.tag() + "_" + n1 + "x" + n2 + "_";
      for (int i = 0; i < grams.length; i++) {
        Object[] q = grams[i];
        int mm = (Integer) q[6], gq = gg;
        if (direct && i < 2) {   // lpkb_gram_b: the packed row read from dy (dGa, _x) or u (dFa, _d); RPS = 8 / (N1 / 16) rows a step
          int rps = 8 / (n1 / 16), xsm = 2 * rps * (n1 + 16) * (2 * n2 + 8) * 2;
          gq = Math.min((rows + rps - 1) / rps, 4 * device.smCount());
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
        mg.kernel("lbt_gram_reduce2").launch(s, (mm * mm + 31) / 32, 1, 256, 0, part, gq, mm * mm, (Float) q[7], raw, (Integer) q[5]);
        mark.run();
      }
      // dP, dQ -> dK (natural order, zeros above M) -> dk by lbt_taps' inverse FFT at N1 = N, N2 = 1 (position = frequency)
      mb.kernel("lpkb_dk_" + io.tag()).launch(s, h, 1, 256, 16 * m + 4 * n1, fd, ad, g, B, h, n1, n2, invM, fusedPq ? dpq : none);
      mark.run();
      mg.kernel("lbt_taps").launch(s, h, 1, 256, 12 * n, g, dk, h, lk, taps, 0, 0, n, 1);
      mark.run();
      // dD: lbt_dkp3 with N1 = 0 (grid (H, 1): its dD row only)
      mg.kernel("lbt_dkp3_" + io.tag()).launch(s, h, 1, 256, 0, none, none, u, dy, none, dD, B, h, l, 0, n2, 1f);
      mark.run();
      s.synchronize();
      grads = unpermute(raw.copyTo(new float[2 * e], 0));
      if (ev != null) {
        String[] names = {"adj", "chainF", "chainA", "gramGa", "gramFa", "gramGb", "gramFb", "dk", "taps", "dD"};
        var sb = new StringBuilder("packed bwd phases (ms) B=" + B + " H=" + h + " L=" + l + " direct=" + direct + " staged=" + staged
            + " fusedPq=" + fusedPq + " grama=" + grama + ":");
        for (int i = 1; i < ne[0]; i++) sb.append(String.format(" %s %.4f", names[i - 1], ev[i].elapsedSince(ev[i - 1])));
        sb.append(String.format(" total %.4f", ev[ne[0] - 1].elapsedSince(ev[0])));
        System.out.println(sb);
        for (int i = 0; i < ne[0]; i++) ev[i].close();
      }
    }
  }

  /** The block gradients of the last {@link #run} in lib's layout {dFa, dFb, dGb, dGa} (float64 copies). */
  double[][] blockGrads() {
    if (grads == null) throw new IllegalStateException("PackedLearnedConv.blockGrads: call backward first");
    double[][] out = new double[4][];
    for (int i = 0; i < 4; i++) out[i] = grads[i].clone();
    return out;
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
