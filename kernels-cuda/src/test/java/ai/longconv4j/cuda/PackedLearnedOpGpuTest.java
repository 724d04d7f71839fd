// Shapes: B = 3 batch, H = 37 features (odd on purpose), causal (L, Lk) in {(256, 256), (1000, 700)}, blocks of the packed
// M = N/2 = N1 x N2 transform {Fa, Fb, Gb, Ga} (n, n, 2).
package ai.longconv4j.cuda;

import static ai.longconv4j.cuda.GpuCheck.close;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.conv.ConvOps;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.PackedLearnedButterfly;
import ai.longconv4j.conv.Precision;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import ai.longconv4j.models.ConvSettings;
import ai.longconv4j.models.H3Conv;
import ai.longconv4j.nn.Parameter;
import ai.longconv4j.optim.AdamW;
import ai.longconv4j.optim.ParamGroup;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code ConvOps.learnedPackedConv} on the GPU ({@link CudaLearnedConv#applyPacked} over {@link PackedLearnedConv}: the
 * tensor-core forward and backward) against lib's float64 op, forward and every gradient (u, k, D, the four blocks), blocks
 * 5 % off the exact DFT so a kernel that ignored them would fail; the fp32 path ({@link PackedLearnedRef}) where no
 * tensor-core kernel applies, and the clear refusal beyond both.
 * Helper pkop (session 13): the op's routes (device inputs with the forward's dumps kept, without, and session 12's host
 * route) agree bit for bit in their gradients, 16-bit parameters converted on the device; plan sharing (two ops of one
 * shape in a stack and side by side, H3Conv's shift and diagonal convolutions) against float64; an AdamW step between
 * two training steps seen by the next forward.
 */
@Tag("gpu")
class PackedLearnedOpGpuTest {

  @Test
  void packedOpMatchesTheCpu() {
    Device dev = GpuCheck.device();
    int b = 3, h = 37;
    for (DType io : new DType[] {DType.BF16, DType.F16}) {
      for (int[] lLk : new int[][] {{256, 256}, {1000, 700}}) {
        int l = lLk[0], lk = lLk[1];
        ConvPlan plan = ConvPlan.of(l, lk, ConvMode.CAUSAL, ConvEngine.LEARNED_PACKED, Precision.F64);
        double[][] init = PackedLearnedButterfly.atInit(plan).blocks();
        var rng = Rng.seeded(l + io.ordinal());
        // the CPU side gets exactly the GPU's inputs: u rounded to the 16-bit type first, the rest F32 values in F64
        List<Tensor> cpu = new ArrayList<>();
        cpu.add(round16(Tensor.randn(rng, DType.F32, b, h, l), io, dev).to(DType.F64));
        cpu.add(Tensor.randn(rng, DType.F32, h, lk).mul(1 / Math.sqrt(lk)).to(DType.F64));
        cpu.add(Tensor.randn(rng, DType.F32, 1, h).to(DType.F64));
        for (int i = 0; i < 4; i++) {
          int n = plan.factors().get(i == 0 || i == 3 ? 0 : 1);
          cpu.add(Tensor.of(init[i], n, n, 2).to(DType.F32).add(Tensor.randn(rng, DType.F32, n, n, 2).mul(0.05)).to(DType.F64));
        }
        cpu.replaceAll(t -> t.detach().requiresGrad(true));
        List<Tensor> gpu = new ArrayList<>();
        for (int i = 0; i < cpu.size(); i++) gpu.add(cpu.get(i).detach().to(DType.F32).to(dev).to(i == 0 ? io : DType.F32).detach().requiresGrad(true));
        Tensor yc = ConvOps.learnedPackedConv(cpu.get(0), cpu.get(1), cpu.get(2), ConvMode.CAUSAL, cpu.subList(3, 7).toArray(Tensor[]::new));
        Tensor yg = ConvOps.learnedPackedConv(gpu.get(0), gpu.get(1), gpu.get(2), ConvMode.CAUSAL, gpu.subList(3, 7).toArray(Tensor[]::new));
        assertEquals(dev, yg.device());
        assertEquals(io, yg.dtype());
        String what = "packed " + io + " L=" + l + " Lk=" + lk;
        // 16-bit tensor-core path against float64 (PackedLearnedGpuTest's bound: products of 16-bit operands rounded up to
        // three times, fp32 sums; y itself rounded to 16 bits): 1e-2 relative
        close(what + " y", yg.to(DType.F32), yc, 1e-2);
        // the loss sum(y * w) with w's values 16-bit representable, so both sides take the same dy
        Tensor w = round16(Tensor.randn(Rng.seeded(9), DType.F32, yc.shape()), io, dev);
        yc.mul(w.to(DType.F64)).sum().backward();
        yg.to(DType.F32).mul(w.to(dev)).sum().backward();
        String[] names = {"du", "dk", "dD", "dFa", "dFb", "dGb", "dGa"};
        // PackedLearnedBackwardGpuTest's bounds: du and the block gradients 1e-2 (16-bit intermediates, fp32 sums); dk keeps
        // Lk of the N taps' energy: 1e-2 sqrt(N / Lk); dD sums exact products of 16-bit u and dy in fp32 (B L terms): 1e-5
        double tk = 1e-2 * Math.sqrt((double) plan.fftSize() / lk);
        double[] tol = {1e-2, tk, 1e-5, 1e-2, 1e-2, 1e-2, 1e-2};
        for (int i = 0; i < 7; i++) close(what + " " + names[i], gpu.get(i).grad().to(DType.F32), cpu.get(i).grad(), tol[i]);
      }
    }
  }

  /**
   * Session 13, helper pkmode: the op in BIDIRECTIONAL (k (H, 2, Lk): CudaLearnedConv splits it into k0, k1 and the
   * backward's (2, H, Lk) dk back) and CIRCULAR mode against lib's float64 op, forward and every gradient; blocks 5 %
   * off the DFT; packedOpMatchesTheCpu's bounds and reasons.
   */
  @Test
  void packedOpModesMatchTheCpu() {
    Device dev = GpuCheck.device();
    int b = 3, h = 37;
    // {mode, L, Lk}: bidirectional 16 x 32 and 16 x 16 with Lk < L, circular 16 x 16 (L = 512), 16 x 32 (L = 1024) and
    // 32 x 32 (L = 2048: the 32-row stage kernels)
    Object[][] cases = {{ConvMode.BIDIRECTIONAL, 512, 512}, {ConvMode.BIDIRECTIONAL, 250, 200}, {ConvMode.CIRCULAR, 512, 300},
        {ConvMode.CIRCULAR, 1024, 1024}, {ConvMode.CIRCULAR, 2048, 2048}};
    // P / Q by the FFT (the default; two-sided taps read from the device) and by the direct DFT (two-sided taps through the
    // host route, setWeights(k0, k1, D) and lpk_pq_bi)
    for (String pq : new String[] {"fft", "dft"}) with("longconv4j.pk.pq", pq, () -> {
      for (DType io : new DType[] {DType.BF16, DType.F16}) {
        for (Object[] cs : cases) {
          ConvMode mode = (ConvMode) cs[0];
          int l = (Integer) cs[1], lk = (Integer) cs[2], sides = mode == ConvMode.BIDIRECTIONAL ? 2 : 1;
          ConvPlan plan = ConvPlan.of(l, lk, mode, ConvEngine.LEARNED_PACKED, Precision.F64);
          double[][] init = PackedLearnedButterfly.atInit(plan).blocks();
          var rng = Rng.seeded(l + 7L * lk + io.ordinal());
          List<Tensor> cpu = new ArrayList<>();
          cpu.add(round16(Tensor.randn(rng, DType.F32, b, h, l), io, dev).to(DType.F64));
          cpu.add((sides == 2 ? Tensor.randn(rng, DType.F32, h, 2, lk) : Tensor.randn(rng, DType.F32, h, lk)).mul(1 / Math.sqrt(lk)).to(DType.F64));
          cpu.add(Tensor.randn(rng, DType.F32, 1, h).to(DType.F64));
          for (int i = 0; i < 4; i++) {
            int n = plan.factors().get(i == 0 || i == 3 ? 0 : 1);
            cpu.add(Tensor.of(init[i], n, n, 2).to(DType.F32).add(Tensor.randn(rng, DType.F32, n, n, 2).mul(0.05)).to(DType.F64));
          }
          cpu.replaceAll(t -> t.detach().requiresGrad(true));
          List<Tensor> gpu = new ArrayList<>();
          for (int i = 0; i < cpu.size(); i++) gpu.add(cpu.get(i).detach().to(DType.F32).to(dev).to(i == 0 ? io : DType.F32).detach().requiresGrad(true));
          Tensor yc = ConvOps.learnedPackedConv(cpu.get(0), cpu.get(1), cpu.get(2), mode, cpu.subList(3, 7).toArray(Tensor[]::new));
          Tensor yg = ConvOps.learnedPackedConv(gpu.get(0), gpu.get(1), gpu.get(2), mode, gpu.subList(3, 7).toArray(Tensor[]::new));
          assertEquals(dev, yg.device());
          assertEquals(io, yg.dtype());
          String what = "packed " + mode + " " + io + " L=" + l + " Lk=" + lk + " P / Q by " + pq;
          close(what + " y", yg.to(DType.F32), yc, 1e-2);
          Tensor w = round16(Tensor.randn(Rng.seeded(9), DType.F32, yc.shape()), io, dev);
          yc.mul(w.to(DType.F64)).sum().backward();
          yg.to(DType.F32).mul(w.to(dev)).sum().backward();
          String[] names = {"du", "dk", "dD", "dFa", "dFb", "dGb", "dGa"};
          double tk = 1e-2 * Math.sqrt((double) plan.fftSize() / lk);
          double[] tol = {1e-2, tk, 1e-5, 1e-2, 1e-2, 1e-2, 1e-2};
          for (int i = 0; i < 7; i++) close(what + " " + names[i], gpu.get(i).grad().to(DType.F32), cpu.get(i).grad(), tol[i]);
        }
      }
      return null;
    });
  }

  /** t's values rounded to the 16-bit type (on the GPU: the CPU does not compute BF16 / F16), as F32 on the CPU. */
  private static Tensor round16(Tensor t, DType io, Device dev) { return t.to(dev).to(io).to(DType.F32).to(Device.CPU); }

  /**
   * Where the tensor-core kernels do not apply, the op takes the packed engine's fp32 path ({@link PackedLearnedRef}):
   * F32 tensors, sizes below M = 256 / above M = 1024, and (before the tensor-core kernels take them) the bidirectional and
   * circular modes; forward and every gradient against lib's float64 op, blocks 5 % off the DFT.
   */
  @Test
  void fallbackMatchesTheCpu() {
    Device dev = GpuCheck.device();
    int b = 3, h = 5;
    // {mode, L, Lk, dtype}: F32 causal (M = 256), bf16 causal L = 64 (M = 64: no tensor-core kernel), F32 bidirectional
    // with Lk < L and L not a power of two, F32 circular (N = L = 256, M = 128), fp16 causal L = 2000 (M = 2048 = 8 16 16:
    // J = 3, six blocks, PackedLearnedChain; session 14), F32 bidirectional L = 1500, Lk = 600 (N = 4096: J = 3), F32 circular
    // L = 4096 (M = 2048: J = 3)
    Object[][] cases = {{ConvMode.CAUSAL, 256, 256, DType.F32}, {ConvMode.CAUSAL, 64, 64, DType.BF16},
        {ConvMode.BIDIRECTIONAL, 200, 100, DType.F32}, {ConvMode.CIRCULAR, 256, 256, DType.F32}, {ConvMode.CAUSAL, 2000, 1500, DType.F16},
        {ConvMode.BIDIRECTIONAL, 1500, 600, DType.F32}, {ConvMode.CIRCULAR, 4096, 4096, DType.F32}};
    for (Object[] c : cases) {
      ConvMode mode = (ConvMode) c[0];
      int l = (Integer) c[1], lk = (Integer) c[2];
      DType io = (DType) c[3];
      ConvPlan plan = ConvPlan.of(l, lk, mode, ConvEngine.LEARNED_PACKED, Precision.F64);
      assertTrue(PackedLearnedRef.supports(l, lk, CudaFlashLongConv.mode(mode), CudaLearnedConv.ioOf(io)), plan.toString());
      double[][] init = PackedLearnedButterfly.atInit(plan).blocks();
      var rng = Rng.seeded(l + 7L * io.ordinal() + mode.ordinal());
      List<Tensor> cpu = new ArrayList<>();
      Tensor u = Tensor.randn(rng, DType.F32, b, h, l);
      cpu.add((io == DType.F32 ? u : round16(u, io, dev)).to(DType.F64));
      int[] kShape = mode == ConvMode.BIDIRECTIONAL ? new int[] {h, 2, lk} : new int[] {h, lk};
      cpu.add(Tensor.randn(rng, DType.F32, kShape).mul(1 / Math.sqrt(lk)).to(DType.F64));
      cpu.add(Tensor.randn(rng, DType.F32, 1, h).to(DType.F64));
      int[] sizes = PackedLearnedButterfly.blockSizes(plan);   // 2J blocks (J = 2: {N1, N2, N2, N1})
      for (int i = 0; i < sizes.length; i++) {
        int n = sizes[i];
        cpu.add(Tensor.of(init[i], n, n, 2).to(DType.F32).add(Tensor.randn(rng, DType.F32, n, n, 2).mul(0.05)).to(DType.F64));
      }
      cpu.replaceAll(t -> t.detach().requiresGrad(true));
      List<Tensor> gpu = new ArrayList<>();
      for (int i = 0; i < cpu.size(); i++) gpu.add(cpu.get(i).detach().to(DType.F32).to(dev).to(i == 0 ? io : DType.F32).detach().requiresGrad(true));
      int nIn = cpu.size();
      Tensor yc = ConvOps.learnedPackedConv(cpu.get(0), cpu.get(1), cpu.get(2), mode, cpu.subList(3, nIn).toArray(Tensor[]::new));
      Tensor yg = ConvOps.learnedPackedConv(gpu.get(0), gpu.get(1), gpu.get(2), mode, gpu.subList(3, nIn).toArray(Tensor[]::new));
      assertEquals(dev, yg.device());
      assertEquals(io, yg.dtype());
      String what = "fp32 path " + mode + " " + io + " L=" + l + " Lk=" + lk;
      // F32 I/O: fp32 arithmetic throughout; PackedLearnedRefGpuTest's bound for y (fp32 rounding over the transform's sums of
      // N1 + N2 + Lk terms) is 1e-5; the gradients pass through both transforms and sum B H M products (the blocks' Grams):
      // 1e-4. 16-bit I/O: u, y, dy and du rounded to 16 bits (8 / 11 significant bits): 1e-2 as the tensor-core op's.
      boolean f32 = io == DType.F32;
      close(what + " y", yg.to(DType.F32), yc, f32 ? 1e-5 : 1e-2);
      Tensor w = Tensor.randn(Rng.seeded(9), DType.F32, yc.shape());
      if (!f32) w = round16(w, io, dev);
      yc.mul(w.to(DType.F64)).sum().backward();
      yg.to(DType.F32).mul(w.to(dev)).sum().backward();
      List<String> names = new ArrayList<>(List.of("du", "dk", "dD"));
      for (String nm : PackedLearnedButterfly.blockNames(plan)) names.add("d" + nm);
      // dk keeps Lk of the N taps' energy (the rest is discarded), so its relative error grows by sqrt(N / Lk)
      double tk = (f32 ? 1e-4 : 1e-2) * Math.sqrt((double) plan.fftSize() / lk);
      for (int i = 0; i < nIn; i++) {
        double tol = i == 1 ? tk : i == 2 ? (f32 ? 1e-4 : 1e-5) : f32 ? 1e-4 : 1e-2;
        close(what + " " + names.get(i), gpu.get(i).grad().to(DType.F32), cpu.get(i).grad(), tol);
      }
    }
  }

  /**
   * Session 14: every LEARNED_PACKED plan lib sizes has a GPU path (beyond M = 4096, which used to be refused, the J-factor
   * PackedLearnedChain): the op at causal L = 8192 (M = 8192 = 2 16 16 16, eight blocks) runs and matches the CPU op; the
   * routing check covers the largest sizes of every mode.
   */
  @Test
  void everyLibPlanHasAPath() {
    Device dev = GpuCheck.device();
    for (var io : new ElementType[] {ElementType.F32, ElementType.BF16}) {
      assertTrue(PackedLearnedRef.supports(262144, 262144, ai.longconv4j.cuda.ConvMode.CAUSAL, io));
      assertTrue(PackedLearnedRef.supports(262144, 1000, ai.longconv4j.cuda.ConvMode.BIDIRECTIONAL, io));
      assertTrue(PackedLearnedRef.supports(1 << 19, 1 << 19, ai.longconv4j.cuda.ConvMode.CIRCULAR, io));
      assertTrue(PackedLearnedRef.supports(5000, 3000, ai.longconv4j.cuda.ConvMode.CAUSAL, io));
    }
    int l = 8192, h = 2;
    ConvPlan plan = ConvPlan.of(l, l, ConvMode.CAUSAL, ConvEngine.LEARNED_PACKED, Precision.F64);
    int[] sizes = PackedLearnedButterfly.blockSizes(plan);
    assertEquals(8, sizes.length, plan.toString());
    double[][] init = PackedLearnedButterfly.atInit(plan).blocks();
    var rng = Rng.seeded(3);
    Tensor[] bc = new Tensor[sizes.length], bg = new Tensor[sizes.length];
    for (int i = 0; i < sizes.length; i++) {
      bc[i] = Tensor.of(init[i], sizes[i], sizes[i], 2).to(DType.F32).add(Tensor.randn(rng, DType.F32, sizes[i], sizes[i], 2).mul(0.05)).to(DType.F64);
      bg[i] = bc[i].to(DType.F32).to(dev);
    }
    Tensor u = Tensor.randn(rng, DType.F32, 1, h, l), k = Tensor.randn(rng, DType.F32, h, l).mul(1 / Math.sqrt(l));
    Tensor yc = ConvOps.learnedPackedConv(u.to(DType.F64), k.to(DType.F64), null, ConvMode.CAUSAL, bc);
    Tensor yg = ConvOps.learnedPackedConv(u.to(dev), k.to(dev), null, ConvMode.CAUSAL, bg);
    close("op at M = 8192 (J = 4) y", yg, yc, 1e-5);   // fp32 throughout, as fallbackMatchesTheCpu's y
  }

  /** Seven GPU inputs {u (io), k, D, Fa, Fb, Gb, Ga} (F32, blocks 5 % off the DFT) of a causal (L, Lk) op, requiring grad. */
  private static List<Tensor> inputs(Device dev, DType io, int b, int h, int l, int lk, long seed) {
    ConvPlan plan = ConvPlan.of(l, lk, ConvMode.CAUSAL, ConvEngine.LEARNED_PACKED, Precision.F64);
    double[][] init = PackedLearnedButterfly.atInit(plan).blocks();
    var rng = Rng.seeded(seed);
    List<Tensor> t = new ArrayList<>();
    t.add(Tensor.randn(rng, DType.F32, b, h, l).to(dev).to(io));
    t.add(Tensor.randn(rng, DType.F32, h, lk).mul(1 / Math.sqrt(lk)).to(dev));
    t.add(Tensor.randn(rng, DType.F32, 1, h).to(dev));
    for (int i = 0; i < 4; i++) {
      int n = plan.factors().get(i == 0 || i == 3 ? 0 : 1);
      t.add(Tensor.of(init[i], n, n, 2).to(DType.F32).add(Tensor.randn(rng, DType.F32, n, n, 2).mul(0.05)).to(dev));
    }
    t.replaceAll(x -> x.detach().requiresGrad(true));
    return t;
  }

  private static Tensor op(List<Tensor> t, Tensor u) {
    return ConvOps.learnedPackedConv(u, t.get(1), t.get(2), ConvMode.CAUSAL, t.subList(3, 7).toArray(Tensor[]::new));
  }

  /** Runs body with the system property key set to value (null: cleared), restoring it after. */
  private static <T> T with(String key, String value, Supplier<T> body) {
    String old = System.getProperty(key);
    if (value == null) System.clearProperty(key); else System.setProperty(key, value);
    try {
      return body.get();
    } finally {
      if (old == null) System.clearProperty(key); else System.setProperty(key, old);
    }
  }

  /** {y, du, dk, dD, dFa, dFb, dGb, dGa} of sum(y * w) on the GPU inputs t (their gradients cleared first), as F32 on the CPU. */
  private static float[][] step(List<Tensor> t, Tensor w) {
    for (Tensor x : t) x.zeroGrad();
    Tensor y = op(t, t.get(0));
    y.to(DType.F32).mul(w).sum().backward();
    float[][] out = new float[8][];
    out[0] = y.to(DType.F32).toFloatArray();
    for (int i = 0; i < 7; i++) out[i + 1] = t.get(i).grad().to(DType.F32).toFloatArray();
    return out;
  }

  @Test
  void routesAgreeBitForBit() {
    Device dev = GpuCheck.device();
    String[] names = {"y", "du", "dk", "dD", "dFa", "dFb", "dGb", "dGa"};
    for (int[] lLk : new int[][] {{256, 256}, {1000, 700}, {512, 512}}) {
      int b = 3, h = 37, l = lLk[0], lk = lLk[1];
      List<Tensor> t = inputs(dev, DType.BF16, b, h, l, lk, 17 + l);
      Tensor w = Tensor.randn(Rng.seeded(5), DType.F32, b, h, l).to(dev).to(DType.BF16).to(DType.F32);
      float[][] saved = step(t, w);
      float[][] plain = with("longconv4j.pk.op.save", "false", () -> step(t, w));
      float[][] host = with("longconv4j.pk.op.device", "false", () -> step(t, w));
      // pkpq: the device route's P / Q come from lpko_pq_fft by default, the host route's from lpk_pq (the direct DFT):
      // the device route with -Dlongconv4j.pk.pq=dft is the host route's kernels on the same values
      float[][] plainDft = with("longconv4j.pk.pq", "dft", () -> with("longconv4j.pk.op.save", "false", () -> step(t, w)));
      float[][] again = step(t, w);   // the default route after the host route (which invalidated the plan's state)
      // the backward's closing synchronisation (pkbwd's way): the block gradients come from the host (blockGrads)
      float[][] syncd = with("longconv4j.pk.bwd.sync", "true", () -> step(t, w));
      String what = "L=" + l + " Lk=" + lk;
      // the same kernels on the same values: the plain forward (lpk_forward) and the backward are the host route's
      for (int i = 0; i < 8; i++) assertArrayEquals(host[i], plainDft[i], what + " " + names[i] + ": device inputs (P / Q by dft) without saving vs host route");
      // P / Q by fft vs by dft: fp32 rounding apart (PackedLearnedPqGpuTest: <= 1e-4 relative), then the same 16-bit chain:
      // y and du within the 16-bit bound 1e-2 of each other
      for (int i = 0; i < 2; i++)
        close(what + " " + names[i] + ": P / Q by fft vs dft", Tensor.of(plain[i], plain[i].length), Tensor.of(plainDft[i], plainDft[i].length).to(DType.F64), 1e-2);
      // the kept dumps are the forward chain's own (the backward's chain on the same u): every gradient bit for bit
      // pkbwd4: except dGa at N1 = 16 (L = 256, 512), which the default (ingram=ga/fa) sums in the forward chain when the
      // backward runs it (plain, syncd) and by lpkb_gram_b on kept dumps (saved): the same fp32 products summed in another
      // order: each entry sums B H N2 <= 3552 fp32 products here, reassociation ~sqrt(3552) 2^-24 ~ 4e-6 of the sum of their
      // magnitudes (the norm-relative error of a random walk; more where entries cancel), so 1e-4; with dGa by lpkb_gram_b on both
      // routes (ingram=fa) bit for bit as before; at L = 1000 (32 x 32: no in-chain Gram) every gradient bit for bit
      float[][] plainFa = with("longconv4j.pk.bwd.ingram", "fa", () -> with("longconv4j.pk.op.save", "false", () -> step(t, w)));
      assertArrayEquals(plainFa[7], saved[7], what + " dGa (ingram=fa): forward's dumps kept vs recomputed");
      for (int i = 1; i < 8; i++) {
        if (i == 7 && l <= 512) close(what + " dGa: forward's dumps kept vs recomputed", Tensor.of(saved[7], saved[7].length), Tensor.of(plain[7], plain[7].length).to(DType.F64), 1e-4);
        else assertArrayEquals(plain[i], saved[i], what + " " + names[i] + ": forward's dumps kept vs recomputed");
      }
      for (int i = 0; i < 8; i++) assertArrayEquals(saved[i], again[i], what + " " + names[i] + ": default route, second run");
      for (int i = 1; i < 8; i++) {
        if (i == 7 && l <= 512) close(what + " dGa: block gradients through the host", Tensor.of(syncd[7], syncd[7].length), Tensor.of(saved[7], saved[7].length).to(DType.F64), 1e-4);
        else assertArrayEquals(saved[i], syncd[i], what + " " + names[i] + ": block gradients through the host");
      }
      // y of the saving forward is the backward's forward chain (learned_pk_bwd.cu), not lpk_forward: its 16-bit bound 1e-2
      int diff = 0;
      for (int j = 0; j < saved[0].length; j++) if (Float.floatToRawIntBits(saved[0][j]) != Float.floatToRawIntBits(plain[0][j])) diff++;
      System.out.println(what + ": y of forwardForBackward differs from lpk_forward's in " + diff + " of " + saved[0].length + " values");
      close(what + " y saving vs plain", Tensor.of(saved[0], saved[0].length), Tensor.of(plain[0], plain[0].length).to(DType.F64), 1e-2);
      // 16-bit parameters (the F32 values rounded to BF16): converted to F32 on the device, the same y as F32 parameters of
      // those values (exact conversion), bit for bit
      List<Tensor> r = new ArrayList<>(t);
      for (int i = 1; i < 7; i++) r.set(i, t.get(i).detach().to(DType.BF16).to(DType.F32).detach().requiresGrad(true));
      List<Tensor> r16 = new ArrayList<>(r);
      for (int i = 1; i < 7; i++) r16.set(i, r.get(i).detach().to(DType.BF16).detach().requiresGrad(true));
      float[][] a = step(r, w), c = step(r16, w);
      assertArrayEquals(a[0], c[0], what + " y: BF16 parameters vs their F32 values");
      assertArrayEquals(a[1], c[1], what + " du: BF16 parameters vs their F32 values");
    }
  }

  /** The CPU float64 copy of GPU inputs (requiring grad). */
  private static List<Tensor> cpu(List<Tensor> g) {
    List<Tensor> c = new ArrayList<>();
    for (Tensor x : g) c.add(x.detach().to(DType.F32).to(Device.CPU).to(DType.F64).detach().requiresGrad(true));
    return c;
  }

  @Test
  void twoOpsOfOneShapeShareThePlan() {
    Device dev = GpuCheck.device();
    int b = 2, h = 29, l = 512;
    String[] names = {"du", "dk", "dD", "dFa", "dFb", "dGb", "dGa"};
    for (boolean stack : new boolean[] {true, false}) {
      List<Tensor> p1 = inputs(dev, DType.BF16, b, h, l, l, 3), p2 = inputs(dev, DType.BF16, b, h, l, l, 4);
      List<Tensor> c1 = cpu(p1), c2 = cpu(p2);
      Tensor w1 = Tensor.randn(Rng.seeded(6), DType.F32, b, h, l).to(dev).to(DType.BF16).to(DType.F32);
      Tensor w2 = Tensor.randn(Rng.seeded(7), DType.F32, b, h, l).to(dev).to(DType.BF16).to(DType.F32);
      // stack: y2 = op2(op1(u1)), loss sum(y2 w2) (layer 2's backward first, then layer 1's, whose forward ran before
      // layer 2's); side by side: y1 = op1(u1), y2 = op2(u2), loss sum(y1 w1) + sum(y2 w2)
      Tensor y1 = op(p1, p1.get(0)), y2 = op(p2, stack ? y1 : p2.get(0));
      Tensor loss = y2.to(DType.F32).mul(w2).sum();
      if (!stack) loss = loss.add(y1.to(DType.F32).mul(w1).sum());
      loss.backward();
      Tensor z1 = op(c1, c1.get(0)), z2 = op(c2, stack ? z1 : c2.get(0));
      Tensor lc = z2.mul(w2.to(Device.CPU).to(DType.F64)).sum();
      if (!stack) lc = lc.add(z1.mul(w1.to(Device.CPU).to(DType.F64)).sum());
      lc.backward();
      // two 16-bit layers, each within 1e-2 of float64 (packedOpMatchesTheCpu's bounds; dk 1e-2 sqrt(N / Lk) = 1.4e-2):
      // errors add through the stack (layer 2's parameter gradients see layer 1's y, layer 1's see layer 2's du): 3e-2.
      // A backward run with the other op's taps, blocks or dumps is off by O(1)
      String what = stack ? "stack" : "side by side";
      for (int i = 0; i < 7; i++) {
        if (i == 0 && stack) {   // u2 is y1: no leaf
          close(what + " layer 1 du", p1.get(0).grad().to(DType.F32), c1.get(0).grad(), 3e-2);
          continue;
        }
        close(what + " layer 1 " + names[i], p1.get(i).grad().to(DType.F32), c1.get(i).grad(), 3e-2);
        if (!(stack && i == 0)) close(what + " layer 2 " + names[i], p2.get(i).grad().to(DType.F32), c2.get(i).grad(), 3e-2);
      }
    }
  }

  @Test
  void h3ConvSharesThePlanBetweenItsConvolutions() {
    Device dev = GpuCheck.device();
    int d = 24, l = 256, b = 2;
    Supplier<H3Conv> build = () -> H3Conv.builder().width(d).length(l).seed(11)
        .conv(ConvSettings.defaults().withEngine(ConvEngine.LEARNED_PACKED).withMode(ConvMode.CAUSAL)).build();
    // F16 (rounds 8x finer than BF16, so the convolutions' own bounds dominate; sitting s2 ran BF16 in training mode)
    H3Conv cpuM = build.get(), gpuM = build.get().to(dev, DType.F16);
    // eval mode: the kernels' dropout (p = 0.2, training only) draws its masks per module and device; sitting s3 ran both in
    // training mode and every gradient was O(1) apart (0.35 .. 0.75; shiftD 7.5e-2). Gradients are computed in eval mode too
    cpuM.eval();
    gpuM.eval();
    // the CPU module gets the GPU module's (16-bit) parameter values, in F32
    Map<String, Tensor> sd = new java.util.HashMap<>();
    gpuM.stateDict().forEach((k, v) -> sd.put(k, v.detach().to(DType.F32).to(Device.CPU)));
    cpuM.loadStateDict(sd);
    Tensor x = Tensor.randn(Rng.seeded(2), DType.F32, b, l, d).to(dev).to(DType.F16);
    Tensor w = Tensor.randn(Rng.seeded(3), DType.F32, b, l, d).to(dev).to(DType.F16).to(DType.F32);
    gpuM.forward(x).to(DType.F32).mul(w).sum().backward();
    cpuM.forward(x.to(DType.F32).to(Device.CPU)).mul(w.to(Device.CPU)).sum().backward();
    // the whole mixer in F16 (3 linear maps and 2 products at F16's 4.9e-4, both convolutions) against F32 with the
    // float64 twin: the two convolutions in a row as twoOpsOfOneShapeShareThePlan, 3e-2; a convolution's backward with the
    // other convolution's taps (a one-step shift against a flat sum) or its dumps is off by O(1)
    var gp = gpuM.namedParameters();
    int checked = 0;
    List<String> errs = new ArrayList<>();
    for (var e : cpuM.namedParameters().entrySet()) {
      if (!e.getKey().contains("shift") && !e.getKey().contains("diag")) continue;
      errs.add(String.format("%s %.2e", e.getKey(), GpuCheck.relErr(gp.get(e.getKey()).grad().toDoubleArray(), e.getValue().grad().toDoubleArray())));
      checked++;
    }
    System.out.println("H3Conv F16 vs F32 gradients: " + errs);
    for (var e : cpuM.namedParameters().entrySet())
      if (e.getKey().contains("shift") || e.getKey().contains("diag"))
        close("H3Conv " + e.getKey(), gp.get(e.getKey()).grad().to(DType.F32), e.getValue().grad(), 3e-2);
    assertTrue(checked >= 10, "H3Conv: expected the shift / diag kernels, skips and blocks, checked " + checked + ": " + gp.keySet());
  }

  @Test
  void anAdamWStepIsSeenByTheNextForward() {
    Device dev = GpuCheck.device();
    int b = 2, h = 16, l = 256;
    List<Tensor> t = inputs(dev, DType.BF16, b, h, l, l, 8);
    List<Parameter> ps = new ArrayList<>();
    String[] names = {"k", "D", "Fa", "Fb", "Gb", "Ga"};
    for (int i = 1; i < 7; i++) ps.add(new Parameter(names[i - 1], t.get(i), Parameter.BUTTERFLY_GROUP, false));
    // lr 0.2: every parameter moves by ~0.2 in one Adam step (5 % moves of the blocks' unit entries, more of k's): y moves
    // by O(10 %), far beyond the 1e-2 bound below, so a forward on the former values would fail it
    AdamW opt = new AdamW(new ParamGroup("all", ps, 0.2, 0));
    Tensor w = Tensor.randn(Rng.seeded(9), DType.F32, b, h, l).to(dev).to(DType.BF16).to(DType.F32);
    Supplier<Tensor> y = () -> ConvOps.learnedPackedConv(t.get(0), ps.get(0).value(), ps.get(1).value(), ConvMode.CAUSAL,
        ps.subList(2, 6).stream().map(Parameter::value).toArray(Tensor[]::new));
    Tensor y1 = y.get();
    y1.to(DType.F32).mul(w).sum().backward();
    opt.step();
    opt.zeroGrad();
    Tensor y2 = y.get();
    y2.to(DType.F32).mul(w).sum().backward();   // the second training step's backward on the new values
    List<Tensor> c = new ArrayList<>();
    c.add(t.get(0).detach().to(DType.F32).to(Device.CPU).to(DType.F64));
    for (Parameter p : ps) c.add(p.value().detach().to(Device.CPU).to(DType.F64).detach().requiresGrad(true));
    Tensor yc = op(c, c.get(0));
    close("y after the step", y2.to(DType.F32), yc, 1e-2);
    double moved = GpuCheck.relErr(y1.to(DType.F32).toDoubleArray(), y2.to(DType.F32).toDoubleArray());
    assertTrue(moved > 5e-2, "the step moved y by " + moved + " only: the test would not see a stale plan");
    yc.mul(w.to(Device.CPU).to(DType.F64)).sum().backward();
    for (int i = 0; i < 6; i++)
      close("grad after the step " + names[i], ps.get(i).value().grad().to(DType.F32), c.get(i + 1).grad(), i == 0 ? 1.5e-2 : i == 1 ? 1e-5 : 1e-2);
  }
}
