// Shapes: B batch, H channels, L length, N = N1 * N2 the learned plan's FFT size. u, y, du: (B, H, L) bf16;
// k: (H, L) fp32; D: (H) fp32; dk: (H, L) fp32; dD: (H) fp32.
package ai.longconv4j.examples.bench;

import ai.longconv4j.cuda.ConvMode;
import ai.longconv4j.cuda.CudaDevice;
import ai.longconv4j.cuda.DeviceFill;
import ai.longconv4j.cuda.ElementType;
import ai.longconv4j.cuda.FlashButterflyConv;
import ai.longconv4j.cuda.DeviceBuffer;
import ai.longconv4j.cuda.LearnedButterflyConv;
import ai.longconv4j.cuda.PackedLearnedConv;
import ai.longconv4j.cuda.Precision;
import java.io.IOException;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.BiPredicate;

/**
 * The tensor-core learned butterfly's row schemes in one sitting: causal, bf16 I/O, blocks at the DFT, B = 64, H = 768.
 * Per L: FlashButterfly's default bf16 forward (the target "the same runtime"), then the learned kernels with one warp
 * per row (the session-5 kernel), split rows, two warps per row ({@code pairRows}, 16 and 12 warps per block) and pair
 * with the double-buffered Gram kernels ({@code asyncGrams}); each forward validated against the float64 causal conv of
 * sampled rows (outputs poisoned first) before it is timed (CUDA events, 3 warm-ups, median of 40), then (one, pair,
 * pair+async) forward + backward and the backward alone (median of 10).
 * {@code -Dlongconv4j.bench.learned.schemes=a,b,...} picks the schemes (default: one, split, pair, pair12, pair+async,
 * pairt, f, f2): {@code default} is a plan with the library's defaults (pair + async Grams at N1 = 32, one warp per
 * row with async Grams at N1 = 16), {@code pairt} the defaults with the pair kernels' start-value table
 * ({@code pairTwiddleTable}), {@code f} / {@code f2} the defaults with the N1 = 16 kernel variant 1 / 2
 * ({@code n16Kernel}), {@code pairc} the chained pair kernels ({@code chainRows}, session 9), {@code f2c} the chained
 * N1 = 16 kernel (n16Kernel 3), {@code pdw} the defaults with {@code pairDumpWarps(16)}; split, pair, pair12, pairt, pairc
 * and pdw run at N1 = 32 only, f, f2 and f2c at N1 = 16 only. Session 9, lbf5: {@code pairc2} / {@code pairc2w12} the chained
 * pair kernel on two rows at once ({@code batchRows}, 32 x 32 only: L = 512), at 16 / 12 warps, {@code pairc2p} from
 * persistent blocks ({@code persistentBlocks}); a suffix {@code :gN}
 * runs a scheme at N blocks per channel ({@code blocksPerChannel}), {@code :aN} with {@code autoBlocksPerSm(N)},
 * {@code :p} with {@code persistentBlocks} (pcp / pc2p), {@code :fwd} skips its backward rows; {@code old}: the defaults
 * before lbf5 (pc, no persistent blocks, {@code autoBlocksPerSm(8)}). Session 10, lbf6: {@code pw} steps 2 and 3 on wgmma
 * ({@code wgmmaRows}, N1 = 32 on compute capability 9.0), {@code pw2p} pc2p on wgmma (32 x 32), {@code nowg} the defaults with {@code wgmmaRows(false)};
 * {@code LearnedBench mma} also prints the wgmma m64n64k16 rate there. Session 10, lbf7: FlashButterfly's fwd+bwd and bwd (its
 * fused backward) after its forward ({@code -Dlongconv4j.bench.learned.fbbwd=false} skips them); {@code fusedkp} /
 * {@code nofusedkp} the defaults with / without {@code fusedDkp} (any N1), a suffix {@code :r} / {@code :r0} with / without
 * {@code fastReductions}, {@code :cg} / {@code :cg0} with / without {@code chainGrams}, {@code :v} / {@code :v0} with /
 * without {@code vectorDd} (lbf8); {@code profile L chaingram}: one backward without, then with both (lbf8); {@code :rg} /
 * {@code :rg0} with / without {@code registerGrams}, {@code :wd} / {@code :wd0} with / without {@code wgmmaDescriptors} and
 * {@code profile L wgdesc} (pw, then pwd: lbf10), {@code :wo} / {@code :wo0} {@code wgmmaOverlap}, {@code profile L wgov}
 * (pwd, then pwo: lbf10), {@code :wt} / {@code :wt0} {@code wgmmaTwiddleTable}, {@code profile L wgtw} (pwd, then pwt:
 * lbf11), {@code :s2} / {@code :s3} / {@code :s4} {@code gramStages} (lbf9);
 * {@code :gl} / {@code :gl0} with / without {@code constGramLoads}, {@code :rp} / {@code :rp0} {@code gramRowPairs};
 * {@code profile L reggram}: one backward without, then with all four ({@code -Dlongconv4j.bench.learned.stages}, default
 * 3; {@code -Dlongconv4j.bench.learned.gramload=false} leaves constGramLoads and gramRowPairs off; lbf9);
 * Session 12, pkgpu: {@code packed} / {@code packed:r2} the packed learned forward ({@link PackedLearnedConv}: r1w16 /
 * r2w12; L = 256 / 512 / 1K causal; forward only), e.g. {@code -Dlongconv4j.bench.learned.schemes=default:fwd,packed,packed:r2}.
 * {@code profile L packed}: one forward each of the defaults, packed r1w16, packed r2w12 (ncu target).
 * {@code profile L fusedkp}: one backward each; {@code profile L fastred}: one backward each
 * without, then with {@code fastReductions}.
 * Usage: LearnedBench [csv-out] [B] [H] [L,L,...];  LearnedBench profile L: one forward per scheme (one warp, pair) and
 * one backward of pair+async at B = 64, H = 768, untimed (a target for Nsight Compute); {@code profile L chain}: one
 * forward and one backward each of the defaults without and with {@code chainRows}; {@code profile L rows2}: one forward
 * each without and with {@code batchRows}; {@code profile L persistent}: without and with {@code persistentBlocks}; {@code profile L wgmma}: without and with {@code wgmmaRows}. {@code LearnedBench mma [blocks per SM]}: the mma.sync rate (TFLOP/s).
 */
public final class LearnedBench {
  private LearnedBench() {}

  public static void main(String[] args) throws IOException {
    if (args.length == 2 && args[0].equals("profile")) { profile(Integer.parseInt(args[1])); return; }
    if (args.length == 3 && args[0].equals("profile") && args[2].equals("chain")) { profileChain(Integer.parseInt(args[1])); return; }
    if (args.length == 3 && args[0].equals("profile") && args[2].equals("rows2")) { profileRows2(Integer.parseInt(args[1])); return; }
    if (args.length == 3 && args[0].equals("profile") && args[2].equals("persistent")) {
      profiled(Integer.parseInt(args[1]), new boolean[] {false, true}, (lb, p) -> lb.persistentBlocks(p), (lb, p) -> false);
      return;
    }
    if (args.length == 3 && args[0].equals("profile") && args[2].equals("wgdesc")) {   // lbf10: pw (wgmma on), then pwd
      profiled(Integer.parseInt(args[1]), new boolean[] {false, true}, (lb, p) -> lb.wgmmaRows(true).batchRows(false).wgmmaDescriptors(p),
          (lb, p) -> false);
      return;
    }
    if (args.length == 3 && args[0].equals("profile") && args[2].equals("wgtw")) {   // lbf11: pwd, then pwt
      profiled(Integer.parseInt(args[1]), new boolean[] {false, true},
          (lb, p) -> lb.wgmmaRows(true).batchRows(false).wgmmaDescriptors(true).wgmmaOverlap(false).wgmmaTwiddleTable(p), (lb, p) -> false);
      return;
    }
    if (args.length == 3 && args[0].equals("profile") && args[2].equals("wgov")) {   // lbf10: pw, pwd, pwo
      int L = Integer.parseInt(args[1]);
      profiled(L, new boolean[] {false, true}, (lb, p) -> lb.wgmmaRows(true).batchRows(false).wgmmaDescriptors(true).wgmmaOverlap(p),
          (lb, p) -> false);
      return;
    }
    if (args.length == 3 && args[0].equals("profile") && args[2].equals("wgmma")) {   // lbf6: the defaults without, then with pw
      profiled(Integer.parseInt(args[1]), new boolean[] {false, true}, (lb, p) -> lb.wgmmaRows(p), (lb, p) -> false);
      return;
    }
    if (args.length == 3 && args[0].equals("profile") && args[2].equals("fusedkp")) {   // lbf7: one backward without, then with
      profiled(Integer.parseInt(args[1]), new boolean[] {false, true}, (lb, p) -> lb.fusedDkp(p), (lb, p) -> true);
      return;
    }
    if (args.length == 3 && args[0].equals("profile") && args[2].equals("chaingram")) {   // lbf8: one backward without, then with
      profiled(Integer.parseInt(args[1]), new boolean[] {false, true}, (lb, p) -> lb.chainGrams(p).vectorDd(p), (lb, p) -> true);
      return;
    }
    if (args.length == 3 && args[0].equals("profile") && args[2].equals("reggram")) {   // lbf9: one backward without, then with
      int stages = Integer.getInteger("longconv4j.bench.learned.stages", 3);   // registerGrams, gramStages(stages), constGramLoads
      boolean gl = Boolean.parseBoolean(System.getProperty("longconv4j.bench.learned.gramload", "true"));
      profiled(Integer.parseInt(args[1]), new boolean[] {false, true},
          (lb, p) -> lb.registerGrams(p).gramStages(p ? stages : 2).constGramLoads(p && gl).gramRowPairs(p && gl), (lb, p) -> true);
      return;
    }
    if (args.length == 3 && args[0].equals("profile") && args[2].equals("fastred")) {   // lbf7
      profiled(Integer.parseInt(args[1]), new boolean[] {false, true}, (lb, p) -> lb.fastReductions(p), (lb, p) -> true);
      return;
    }
    if (args.length == 3 && args[0].equals("profile") && args[2].equals("packed")) { profilePacked(Integer.parseInt(args[1])); return; }
    if (args.length == 3 && args[0].equals("profile") && args[2].equals("packedopt")) { profilePackedOpt(Integer.parseInt(args[1])); return; }
    if (args.length == 3 && args[0].equals("profile") && args[2].equals("packedopt2")) { profilePackedOpt2(Integer.parseInt(args[1])); return; }
    if (args.length >= 1 && args[0].equals("mma")) { mmaRate(args.length > 1 ? Integer.parseInt(args[1]) : 4); return; }
    FlashButterflyFwdBench.run("LearnedBench", args, new int[] {256, 512, 1024}, LearnedBench::length);
  }

  /** ncu target: the one-warp then the pair kernels' forward (the pair one with its backward), L = 1K shapes. */
  static void profile(int L) {
    profiled(L, new boolean[] {false, true}, (lb, pair) -> lb.pairRows(pair).splitRows(false).asyncGrams(pair), (lb, pair) -> pair);
  }

  /**
   * du of sampled rows (the last row and two random ones) against the float64 causal adjoint du[n] = D dy[n] + sum_j
   * k[j] dy[n + j] (blocks at the DFT), dy = u here; returns the max relative error over the rows (bf16 I/O).
   */
  static double validateAdjoint(DeviceBuffer dy, DeviceBuffer du, float[] k, float[] D, int B, int H, int L) {
    var rng = new java.util.SplittableRandom(L + 1);
    double worst = 0;
    dy.device().synchronize();
    for (int s = 0; s < 3; s++) {
      int b = s == 0 ? B - 1 : rng.nextInt(B), h = s == 0 ? H - 1 : rng.nextInt(H);
      long off = ((long) b * H + h) * L * 2;   // bytes
      short[] a = dy.copyTo(new short[L], off), g = du.copyTo(new short[L], off);
      double num = 0, den = 0;
      for (int i = 0; i < L; i++) {
        double acc = (double) D[h] * bf(a[i]);
        for (int j = 0; i + j < L; j++) acc += (double) k[h * L + j] * bf(a[i + j]);
        double d = bf(g[i]) - acc;
        num += Double.isFinite(bf(g[i])) ? d * d : Double.POSITIVE_INFINITY;
        den += acc * acc;
      }
      worst = Math.max(worst, Math.sqrt(num / den));
    }
    return worst;
  }

  private static float bf(short v) { return Float.intBitsToFloat((v & 0xffff) << 16); }

  /**
   * ncu target (session 12, pkgpu): one forward each of the learned defaults (unpacked), the packed r1w16 and the packed
   * r2w12 at B = 64, H = 768, causal, bf16, untimed.
   */
  static void profilePacked(int L) {
    int B = 64, H = 768;
    long n = (long) B * H * L;
    float[][] w = CudaConvBench.weights(H, L);
    try (CudaDevice dev = CudaDevice.open(0); var u = dev.alloc(2 * n); var y = dev.alloc(2 * n)) {
      DeviceFill.uniform(dev, u, n, ElementType.BF16, 7L * L, 1f);
      try (var lb = LearnedButterflyConv.plan(dev, H, L, L, ConvMode.CAUSAL, ElementType.BF16).setWeights(w[0], w[1])) {
        lb.forward(u, y, B);
        dev.synchronize();
        System.out.println("profiled " + lb);
      }
      for (boolean r2 : new boolean[] {false, true})
        try (var pk = PackedLearnedConv.plan(dev, H, L, L, ConvMode.CAUSAL, ElementType.BF16).batchRows(r2).variant(0).setWeights(w[0], w[1])) {
          pk.forward(u, y, B);
          dev.synchronize();
          System.out.println("profiled " + pk + " " + pk.kernelName());
        }
    }
  }

  /**
   * ncu target (session 12, pkopt): one forward each of the packed r1w16 variants 0, 1, 2, 3 and r2w12 variants 0, 3 at
   * B = 64, H = 768, causal, bf16, untimed.
   */
  static void profilePackedOpt(int L) {
    int B = 64, H = 768;
    long n = (long) B * H * L;
    float[][] w = CudaConvBench.weights(H, L);
    try (CudaDevice dev = CudaDevice.open(0); var u = dev.alloc(2 * n); var y = dev.alloc(2 * n)) {
      DeviceFill.uniform(dev, u, n, ElementType.BF16, 7L * L, 1f);
      int[][] runs = {{0, 0}, {0, 1}, {0, 2}, {0, 3}, {1, 0}, {1, 3}};   // {r2, variant} (sitting s1)
      for (int[] r : runs)
        try (var pk = PackedLearnedConv.plan(dev, H, L, L, ConvMode.CAUSAL, ElementType.BF16).batchRows(r[0] == 1).variant(r[1]).setWeights(w[0], w[1])) {
          pk.forward(u, y, B);
          dev.synchronize();
          System.out.println("profiled " + pk + " " + pk.kernelName());
        }
    }
  }

  /** ncu target (session 12, pkopt2): one forward each of the packed r2w12 variants 3, 11 and 27 at B = 64, H = 768, causal, bf16, untimed. */
  static void profilePackedOpt2(int L) {
    int B = 64, H = 768;
    long n = (long) B * H * L;
    float[][] w = CudaConvBench.weights(H, L);
    try (CudaDevice dev = CudaDevice.open(0); var u = dev.alloc(2 * n); var y = dev.alloc(2 * n)) {
      DeviceFill.uniform(dev, u, n, ElementType.BF16, 7L * L, 1f);
      for (int v : new int[] {3, 11, 27})
        try (var pk = PackedLearnedConv.plan(dev, H, L, L, ConvMode.CAUSAL, ElementType.BF16).batchRows(true).variant(v).setWeights(w[0], w[1])) {
          if (!pk.kernelExists()) continue;
          pk.forward(u, y, B);
          dev.synchronize();
          System.out.println("profiled " + pk + " " + pk.kernelName());
        }
    }
  }

  /** ncu target: the forward and backward without, then with the chained kernels. */
  static void profileChain(int L) {
    profiled(L, new boolean[] {false, true}, (lb, chain) -> lb.chainRows(chain), (lb, chain) -> true);
  }

  /** ncu target: the forward with pc, then with pc2 (batchRows). */
  static void profileRows2(int L) {
    profiled(L, new boolean[] {false, true}, (lb, r2) -> lb.batchRows(r2), (lb, r2) -> false);
  }

  /**
   * The GPU's mma.sync rate (learned_tc.cu lbt_mma_rate_*: per warp 8 independent m16n8k16 chains, no shared memory):
   * {@code blocksPerSm} blocks of 16 warps per SM, 4096 iterations, 200 ms warm-up, median of 20; prints TFLOP/s.
   */
  static void mmaRate(int blocksPerSm) {
    try (CudaDevice dev = CudaDevice.open(0)) {
      int grid = blocksPerSm * dev.smCount(), iters = 4096;
      try (var out = dev.alloc(4L * grid * 512)) {
        for (String t : new String[] {"bf16", "f16"}) {
          var k = dev.module("learned_tc").kernel("lbt_mma_rate_" + t);
          double ms = CudaConvBench.median(dev, () -> k.launch(dev.stream(), grid, 1, 512, 0, out, iters), 20);
          double flop = (double) grid * 16 * iters * 8 * (2.0 * 16 * 8 * 16);
          System.out.printf("mma.sync m16n8k16 %s rate: %d blocks x 16 warps, %d x 8 MMAs per warp: %.3f ms, %.1f TFLOP/s%n", t, grid, iters,
              ms, flop / ms / 1e9);
        }
        if (dev.computeCapability() == 90)   // lbf6: wgmma m64n64k16, A from registers (the pw kernels' form), 128-thread blocks
          for (String t : new String[] {"bf16", "f16"}) {
            var k = dev.module("learned_tc").kernel("lbt_wgmma_rate_" + t);
            int g4 = 4 * grid;   // 4x the blocks: blocksPerSm x 16 warps per SM as above
            double ms = CudaConvBench.median(dev, () -> k.launch(dev.stream(), g4, 1, 128, 0, out, iters), 20);
            double flop = (double) g4 * iters * 8 * (2.0 * 64 * 64 * 16);
            System.out.printf("wgmma m64n64k16 (A registers) %s rate: %d blocks x 4 warps, %d x 8 wgmmas per warpgroup: %.3f ms, %.1f TFLOP/s%n",
                t, g4, iters, ms, flop / ms / 1e9);
          }
      }
    }
  }

  private static void profiled(int L, boolean[] settings, BiFunction<LearnedButterflyConv, Boolean, LearnedButterflyConv> set,
      BiPredicate<LearnedButterflyConv, Boolean> backward) {
    int B = 64, H = 768;
    long n = (long) B * H * L;
    float[][] w = CudaConvBench.weights(H, L);
    try (CudaDevice dev = CudaDevice.open(0); var u = dev.alloc(2 * n); var y = dev.alloc(2 * n); var dk = dev.alloc(4L * H * L);
         var dD = dev.alloc(4L * H)) {
      DeviceFill.uniform(dev, u, n, ElementType.BF16, 7L * L, 1f);
      for (boolean s : settings)
        try (var lb = LearnedButterflyConv.plan(dev, H, L, L, ConvMode.CAUSAL, ElementType.BF16).setWeights(w[0], w[1])) {
          set.apply(lb, s).forward(u, y, B);
          if (backward.test(lb, s)) lb.backward(u, u, B, y, dk, dD);
          dev.synchronize();
          System.out.println("profiled " + lb);
        }
    }
  }

  static void length(CudaDevice dev, int B, int H, int L, List<CudaConvBench.Row> rows) {
    float[][] w = CudaConvBench.weights(H, L);
    float[] k = w[0], D = w[1];
    long n = (long) B * H * L;
    try (var u = dev.alloc(2 * n); var y = dev.alloc(2 * n); var dk = dev.alloc(4L * H * L); var dD = dev.alloc(4L * H)) {
      DeviceFill.uniform(dev, u, n, ElementType.BF16, 7L * L, 1f);
      try (var fb = FlashButterflyConv.plan(dev, H, L, ConvMode.CAUSAL, ElementType.BF16, Precision.BF16)) {
        fb.setWeights(k, L, D);
        y.fill32(0x7fc07fc0);
        fb.forward(u, y, B);
        double err = CudaConvBench.validate(u, y, ElementType.BF16, k, D, B, H, L);
        double ms = CudaConvBench.median(dev, () -> fb.forward(u, y, B), 40);
        rows.add(new CudaConvBench.Row("flashbutterfly io=BF16 " + fb.kernelName(), B, H, L, ms, 4.0 * n / ms / 1e6, err, 0));
        CudaConvBench.report(rows.getLast());
        if (Boolean.parseBoolean(System.getProperty("longconv4j.bench.learned.fbbwd", "true"))) {   // lbf7: FB's fused backward
          double msB = CudaConvBench.median(dev, () -> { fb.forward(u, y, B); fb.backward(u, u, y, B, dk, dD); }, 10);
          rows.add(new CudaConvBench.Row("flashbutterfly io=BF16 fwd+bwd", B, H, L, msB, 12.0 * n / msB / 1e6, Double.NaN, 0));
          CudaConvBench.report(rows.getLast());
          double msW = CudaConvBench.median(dev, () -> fb.backward(u, u, y, B, dk, dD), 10);
          rows.add(new CudaConvBench.Row("flashbutterfly io=BF16 bwd", B, H, L, msW, 8.0 * n / msW / 1e6, Double.NaN, 0));
          CudaConvBench.report(rows.getLast());
        }
      }
      String[] schemes = System.getProperty("longconv4j.bench.learned.schemes", "one,split,pair,pair12,pair+async,pairt,f,f2").split(",");
      for (String spec : schemes) {
        if (spec.startsWith("packed")) { packed(dev, spec, B, H, L, k, D, u, y, rows); continue; }
        try (var lb = LearnedButterflyConv.plan(dev, H, L, L, ConvMode.CAUSAL, ElementType.BF16).setWeights(k, D)) {
          // scheme[:gN]: N blocks per channel (blocksPerChannel) for the forward; [:fwd]: no backward rows
          String scheme = spec.split(":")[0];
          for (String opt : spec.substring(scheme.length()).split(":"))
            if (opt.matches("g\\d+")) lb.blocksPerChannel(Integer.parseInt(opt.substring(1)));   // lbf9: digits only (:gl is not gN)
            else if (opt.matches("a\\d+")) lb.autoBlocksPerSm(Integer.parseInt(opt.substring(1)));
            else if (opt.equals("p")) lb.persistentBlocks(true);
            else if (opt.equals("r")) lb.fastReductions(true);   // lbf7: lbt_gram_reduce2 / lbt_dkp2
            else if (opt.equals("r0")) lb.fastReductions(false);
            else if (opt.equals("cg")) lb.chainGrams(true);   // lbf8: dGa / dFa inside the dumping chains
            else if (opt.equals("cg0")) lb.chainGrams(false);
            else if (opt.equals("v")) lb.vectorDd(true);   // lbf8: lbt_dkp3 (dD with 16-byte loads)
            else if (opt.equals("v0")) lb.vectorDd(false);
            else if (opt.equals("rg")) lb.registerGrams(true);   // lbf9: pdcg1r (dGa / dFa accumulators in registers)
            else if (opt.equals("rg0")) lb.registerGrams(false);
            else if (opt.equals("wd")) lb.wgmmaDescriptors(true);   // lbf10: pwd (pw's wgmma descriptors precomputed)
            else if (opt.equals("wd0")) lb.wgmmaDescriptors(false);
            else if (opt.equals("wo")) lb.wgmmaOverlap(true);   // lbf10: pwo (16-column passes, one in flight during an epilogue)
            else if (opt.equals("wo0")) lb.wgmmaOverlap(false);
            else if (opt.equals("wt")) lb.wgmmaTwiddleTable(true);   // lbf11: pwt (step 3's twiddles from a block table)
            else if (opt.equals("wt0")) lb.wgmmaTwiddleTable(false);
            else if (opt.matches("s[234]")) lb.gramStages(opt.charAt(1) - '0');   // lbf9: cp.async stages of the _a Grams
            else if (opt.equals("gl")) lb.constGramLoads(true);   // lbf9: the Grams' row loads without run-time divisions
            else if (opt.equals("gl0")) lb.constGramLoads(false);
            else if (opt.equals("rp")) lb.gramRowPairs(true);   // lbf9: the N2 = 32 _a Grams on two rows per step
            else if (opt.equals("rp0")) lb.gramRowPairs(false);
          boolean fwdOnly = spec.contains(":fwd");
          boolean n16 = scheme.equals("f") || scheme.equals("f2") || scheme.equals("f2c");
          if (n16) lb.n16Kernel(scheme.equals("f") ? 1 : scheme.equals("f2") ? 2 : 3);
          else if (scheme.equals("pairt") || scheme.equals("pairc")) lb.pairRows(true).pairTwiddleTable(true).chainRows(scheme.equals("pairc"));
          else if (scheme.equals("pdw")) lb.pairDumpWarps(16);   // the defaults, the 32 x 64 dumping chains at 16 warps
          else if (scheme.equals("old"))   // the defaults before lbf5: pc at N1 = 32, lbf3's launch (8 blocks per SM)
            lb.batchRows(false).persistentBlocks(false).autoBlocksPerSm(8).wgmmaRows(false);
          else if (scheme.equals("pw")) lb.wgmmaRows(true).batchRows(false);   // lbf6: steps 2 and 3 on wgmma (N1 = 32, compute capability 9.0)
          else if (scheme.equals("pw2p")) lb.wgmmaRows(true).batchRows(true);   // lbf6: pc2p on wgmma (32 x 32 only)
          else if (scheme.equals("fusedkp") || scheme.equals("nofusedkp")) lb.fusedDkp(scheme.equals("fusedkp"));   // lbf7: dKp in the adjoint chain
          else if (scheme.equals("nowg")) lb.wgmmaRows(false);   // the defaults without wgmma (pc2p at 32 x 32, pc at 32 x 64)
          else if (scheme.startsWith("pairc2"))   // pc2: two rows per pair (32 x 32; else pc); pairc2p persistent, pairc2w12 12 warps
            lb.pairRows(true).pairTwiddleTable(true).chainRows(true).batchRows(true).persistentBlocks(scheme.equals("pairc2p"))
                .pairWarps(scheme.endsWith("w12") ? 12 : 16);
          else if (!scheme.equals("default"))
            lb.splitRows(scheme.equals("split")).pairRows(scheme.startsWith("pair")).pairWarps(scheme.equals("pair12") ? 12 : 16)
                .asyncGrams(scheme.equals("pair+async")).chainRows(false);
          boolean n1is32 = lb.factors()[0] == 32;
          boolean anyN1 = scheme.equals("one") || scheme.equals("default") || scheme.equals("old") || scheme.endsWith("fusedkp");
          if (n16 ? n1is32 : !anyN1 && !n1is32) continue;   // see the class doc
          if (scheme.startsWith("pairc2") && !lb.batchRows()) continue;   // 32 x 32 only
          if (scheme.equals("pw") && !lb.wgmmaRows()) continue;   // N1 = 32 on compute capability 9.0 only
          if (scheme.equals("pw2p") && !lb.wgmmaRows2()) continue;   // 32 x 32 on compute capability 9.0 only
          String name = "learned tc " + lb.factors()[0] + "x" + lb.factors()[1] + " " + spec;
          y.fill32(0x7fc07fc0);
          lb.forward(u, y, B);
          double err = CudaConvBench.validate(u, y, ElementType.BF16, k, D, B, H, L);
          double ms = CudaConvBench.median(dev, () -> lb.forward(u, y, B), 40);
          rows.add(new CudaConvBench.Row(name + " fwd", B, H, L, ms, 4.0 * n / ms / 1e6, err, 0));
          CudaConvBench.report(rows.getLast());
          if (scheme.equals("split") || scheme.equals("pair12") || fwdOnly) continue;
          double msB = CudaConvBench.median(dev, () -> { lb.forward(u, y, B); lb.backward(u, u, B, y, dk, dD); }, 10);
          rows.add(new CudaConvBench.Row(name + " fwd+bwd", B, H, L, msB, 12.0 * n / msB / 1e6, Double.NaN, 0));
          CudaConvBench.report(rows.getLast());
          double msW = CudaConvBench.median(dev, () -> lb.backward(u, u, B, y, dk, dD), 10);
          rows.add(new CudaConvBench.Row(name + " bwd", B, H, L, msW, 8.0 * n / msW / 1e6, Double.NaN, 0));
          CudaConvBench.report(rows.getLast());
        }
      }
    }
  }

  /**
   * Session 12, pkgpu: the packed learned forward ({@link PackedLearnedConv}, blocks at the DFT: equal to the causal conv,
   * so validated like the others); {@code packed} the default kernel (r1w16), {@code packed:r2} two rows per pair (r2w12; {@code packed:r2:w10}: r2w10).
   * Forward only (the class has no backward). Lengths it does not cover (M != 32 x 32) print a skip line.
   */
  /**
   * Session 12, pkopt: {@code :oN} the kernel variant N (PackedLearnedConv.variant; 0 .. 3, 5, 7), else 0 (pkgpu's kernels, as
   * their scheme names meant); {@code packed:def} takes the plan's defaults untouched (kernel and variant); {@code :w20}
   * r1w20 (one row per unit at 20 warps).
   */
  static int packedVariant(String spec) {
    for (String part : spec.split(":"))
      if (part.matches("o[0-7]")) return part.charAt(1) - '0';
      else if (part.matches("o(8|11|15|27)")) return Integer.parseInt(part.substring(1));   // pkopt2: + channel groups (bit 8)
    return 0;
  }

  static void packed(CudaDevice dev, String spec, int B, int H, int L, float[] k, float[] D, DeviceBuffer u, DeviceBuffer y,
      List<CudaConvBench.Row> rows) {
    long n = (long) B * H * L;
    int[] f = PackedLearnedConv.libPlan(L, L, ConvMode.CAUSAL).factors().stream().mapToInt(Integer::intValue).toArray();
    if (!PackedLearnedConv.tensorCoresSupport(f[0], f[1], ElementType.BF16) || (spec.contains(":w10") && f[0] != 32)) {
      System.out.println("packed learned L=" + L + ": M = " + f[0] + " x " + f[1] + " not covered by the GPU forward, skipped");
      return;
    }
    try (var pk = PackedLearnedConv.plan(dev, H, L, L, ConvMode.CAUSAL, ElementType.BF16).setWeights(k, D)) {
      if (!spec.contains(":def")) {
        pk.batchRows(spec.contains(":r2")).pairWarps(spec.contains(":w10") ? 10 : 12).rowWarps(spec.contains(":w20") ? 20 : 16).variant(packedVariant(spec));
        if (!pk.kernelExists()) { System.out.println("packed learned L=" + L + " " + spec + ": no kernel " + pk.kernelName() + ", skipped"); return; }
      }
      y.fill32(0x7fc07fc0);
      pk.forward(u, y, B);
      double err = CudaConvBench.validate(u, y, ElementType.BF16, k, D, B, H, L);
      double ms = CudaConvBench.median(dev, () -> pk.forward(u, y, B), 40);
      rows.add(new CudaConvBench.Row("packed learned " + f[0] + "x" + f[1] + " " + spec + " " + pk.kernelName() + " fwd", B, H, L, ms,
          4.0 * n / ms / 1e6, err, 0));
      CudaConvBench.report(rows.getLast());
      if (spec.contains(":du")) {   // the input gradient (backwardInput), validated against the float64 causal adjoint first
        y.fill32(0x7fc07fc0);
        pk.backwardInput(u, y, B);
        double errG = validateAdjoint(u, y, k, D, B, H, L);
        double msG = CudaConvBench.median(dev, () -> pk.backwardInput(u, y, B), 40);
        rows.add(new CudaConvBench.Row("packed learned " + f[0] + "x" + f[1] + " " + spec + " " + pk.kernelName() + " du", B, H, L, msG,
            4.0 * n / msG / 1e6, errG, 0));
        CudaConvBench.report(rows.getLast());
      }
    }
  }
}
