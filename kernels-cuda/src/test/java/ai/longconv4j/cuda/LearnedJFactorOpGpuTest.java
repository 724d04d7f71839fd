// Shapes: B = 2 batch, H = 3 features; (L, Lk) per case with M = N/2 = 2048 (8 16 16) or 4096 (16 16 16): J = 3, six blocks
// {Fa, Fb, Fc, Gc, Gb, Ga} (R_s, R_s, 2); M = 65536 (8 2 16 16 16): J = 5, ten blocks; u (B, H, L) bf16 / fp16; k (H, Lk) or
// (H, 2, Lk); D (1, H).
package ai.longconv4j.cuda;

import static ai.longconv4j.cuda.GpuCheck.close;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import ai.longconv4j.nn.Parameter;
import ai.longconv4j.optim.AdamW;
import ai.longconv4j.optim.ParamGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code ConvOps.learnedPackedConv} on 16-bit GPU tensors at the J-factor sizes goes through {@link PackedMonarchLearned}:
 * y from the tensor-core kernels ({@link PackedMonarchConv} one pass, {@link PackedThreePass} beyond), P / Q from the fp32 chain
 * ({@link PackedLearnedChain}), the backward on tensor cores at the one-pass sizes (helper pkjbwd: PackedMonarchBackward.run,
 * dk by the chain's cuFFT route) and at three passes on tensor cores too (helpers p3 / p3tc: du, dk, dD and the block gradients
 * by PackedThreePassBackward, the default since session 18; its slow twin {@code -Dlongconv4j.p3.bwd=chain}, the fp32 chain,
 * against the same bounds). Against lib's float64 op, forward and every gradient, in all three modes, blocks
 * 5 % off the DFT (a kernel that ignored them would fail); the route is checked to be taken, and its slow twin
 * ({@code -Dlongconv4j.pk.monarch=false}: the chain's forward) gives the same y within the 16-bit bound.
 * Helper pkdev (session 15): the op's device route (taps, D, blocks read from device memory, P / Q by the chain's cuFFT
 * route on the device; the default, so the float64 comparison above is of it) against its slow twin, the host route
 * ({@code -Dlongconv4j.pk.op.device=false}): y and every gradient bit for bit (the tensor-core backward's block Grams
 * within fp32 reassociation, see below); two ops of one shape on the shared plan (the backward's re-upload) and an AdamW
 * step between two calls (seen by the next forward) against float64; the kept P / Q and blocks (no upload while the
 * sources are unchanged: {@link CudaLearnedConv.Src}) against uploading at every call, bit for bit, and in-place writes
 * to k, D and a block seen by the next call. Helper taps (session 18): dk's kept C2R plan against a plan per backward, bit
 * for bit ({@link #keptTapsPlanMatchesAPlanPerCall}), and the shared work area itself ({@link #sharedWorkAreaPlansMatchPlansOfTheirOwn}).
 */
@Tag("gpu")
class LearnedJFactorOpGpuTest {

  private static Tensor round16(Tensor t, DType io, Device dev) { return t.to(dev).to(io).to(DType.F32).to(Device.CPU); }

  @Test
  void tensorCoreRouteMatchesTheCpu() {
    Device dev = GpuCheck.device();
    CudaBackend be = (CudaBackend) GpuCheck.backend();
    int b = 2, h = 3;
    // {mode, L, Lk, dtype}: causal M = 4096 bf16, bidirectional L = 3000, Lk = 2000 (N = 8192: M = 4096) bf16, circular
    // L = 8192 (M = 4096) fp16, causal L = 2000, Lk = 1500 (M = 2048 = 8 16 16) fp16; the three-pass forward
    // (PackedThreePass): causal L = 40000, Lk = 30000 (N = 131072: M = 65536 = 8 2 16 16 16, J = 5) bf16
    Object[][] cases = {{ConvMode.CAUSAL, 4096, 4096, DType.BF16}, {ConvMode.BIDIRECTIONAL, 3000, 2000, DType.BF16},
        {ConvMode.CIRCULAR, 8192, 8192, DType.F16}, {ConvMode.CAUSAL, 2000, 1500, DType.F16}, {ConvMode.CAUSAL, 40000, 30000, DType.BF16}};
    for (Object[] c : cases) {
      ConvMode mode = (ConvMode) c[0];
      int l = (Integer) c[1], lk = (Integer) c[2];
      DType io = (DType) c[3];
      ConvPlan plan = ConvPlan.of(l, lk, mode, ConvEngine.LEARNED_PACKED, Precision.F64);
      assertEquals(l == 40000 ? 5 : 3, plan.factors().size(), plan.toString());
      assertTrue(PackedMonarchLearned.supports(l, lk, CudaFlashLongConv.mode(mode), CudaLearnedConv.ioOf(io)), plan.toString());
      double[][] init = PackedLearnedButterfly.atInit(plan).blocks();
      var rng = Rng.seeded(l + 11L * mode.ordinal());
      List<Tensor> cpu = new ArrayList<>();
      cpu.add(round16(Tensor.randn(rng, DType.F32, b, h, l), io, dev).to(DType.F64));
      int[] kShape = mode == ConvMode.BIDIRECTIONAL ? new int[] {h, 2, lk} : new int[] {h, lk};
      cpu.add(Tensor.randn(rng, DType.F32, kShape).mul(1 / Math.sqrt(lk)).to(DType.F64));
      cpu.add(Tensor.randn(rng, DType.F32, 1, h).to(DType.F64));
      int[] sizes = PackedLearnedButterfly.blockSizes(plan);
      for (int i = 0; i < sizes.length; i++) {
        int n = sizes[i];
        cpu.add(Tensor.of(init[i], n, n, 2).to(DType.F32).add(Tensor.randn(rng, DType.F32, n, n, 2).mul(0.05)).to(DType.F64));
      }
      cpu.replaceAll(t -> t.detach().requiresGrad(true));
      List<Tensor> gpu = new ArrayList<>();
      for (int i = 0; i < cpu.size(); i++) gpu.add(cpu.get(i).detach().to(DType.F32).to(dev).to(i == 0 ? io : DType.F32).detach().requiresGrad(true));
      int nIn = cpu.size();
      Tensor[] bc = cpu.subList(3, nIn).toArray(Tensor[]::new), bg = gpu.subList(3, nIn).toArray(Tensor[]::new);
      int before = be.gpu(dev).packedMonarchPlans();
      Tensor yc = ConvOps.learnedPackedConv(cpu.get(0), cpu.get(1), cpu.get(2), mode, bc);
      Tensor yg = ConvOps.learnedPackedConv(gpu.get(0), gpu.get(1), gpu.get(2), mode, bg);
      assertTrue(be.gpu(dev).packedMonarchPlans() > before || before > 0, "no PackedMonarchLearned plan for " + plan);
      assertEquals(io, yg.dtype());
      String what = "tensor-core route " + mode + " " + io + " L=" + l + " Lk=" + lk;
      // y: 16-bit u and y (8 / 11 significant bits) and 16-bit MMA operands over J = 3 stages each way: PackedMonarchGpuTest's
      // 1e-2 (its worst over random blocks 3.7e-3). Gradients: the fp32 chain on 16-bit dy / du: 1e-2 as the fallback's
      // 16-bit cases; dk keeps Lk of the N taps' energy, so its relative error grows by sqrt(N / Lk).
      close(what + " y", yg.to(DType.F32), yc, 1e-2);
      Tensor twin;
      String old = System.getProperty("longconv4j.pk.monarch");
      System.setProperty("longconv4j.pk.monarch", "false");
      try (var ng = Tensor.noGrad()) {
        twin = ConvOps.learnedPackedConv(gpu.get(0).detach(), gpu.get(1).detach(), gpu.get(2).detach(), mode, bg);
      } finally {
        if (old == null) System.clearProperty("longconv4j.pk.monarch"); else System.setProperty("longconv4j.pk.monarch", old);
      }
      close(what + " y vs the chain's forward (slow twin)", yg.to(DType.F32), twin.to(DType.F32).to(Device.CPU).to(DType.F64), 1e-2);
      Tensor w = round16(Tensor.randn(Rng.seeded(9), DType.F32, yc.shape()), io, dev);
      yc.mul(w.to(DType.F64)).sum().backward();
      yg.to(DType.F32).mul(w.to(dev)).sum().backward();
      List<String> names = new ArrayList<>(List.of("du", "dk", "dD"));
      for (String nm : PackedLearnedButterfly.blockNames(plan)) names.add("d" + nm);
      double tk = 1e-2 * Math.sqrt((double) plan.fftSize() / lk);
      for (int i = 0; i < nIn; i++) {
        double tol = i == 1 ? tk : i == 2 ? 1e-5 : 1e-2;
        close(what + " " + names.get(i), gpu.get(i).grad().to(DType.F32), cpu.get(i).grad(), tol);
      }
      if (plan.factors().size() == 5) {   // three passes: the slow twin (the fp32 chain) against the same bounds
        for (Tensor t : gpu) t.zeroGrad();
        with("longconv4j.p3.bwd", "chain", () -> {
          ConvOps.learnedPackedConv(gpu.get(0), gpu.get(1), gpu.get(2), mode, bg).to(DType.F32).mul(w.to(dev)).sum().backward();
          return null;
        });
        for (int i = 0; i < nIn; i++) {
          double tol = i == 1 ? tk : i == 2 ? 1e-5 : 1e-2;
          close(what + " p3.bwd=chain " + names.get(i), gpu.get(i).grad().to(DType.F32), cpu.get(i).grad(), tol);
        }
      }
    }
  }

  /** Runs body with the system property key set to value, restoring it after. */
  private static <T> T with(String key, String value, Supplier<T> body) {
    String old = System.getProperty(key);
    System.setProperty(key, value);
    try {
      return body.get();
    } finally {
      if (old == null) System.clearProperty(key); else System.setProperty(key, old);
    }
  }

  /** GPU inputs {u (io), k, D (or null), the 2J blocks 5 % off the DFT} (F32 parameters), all requiring gradients. */
  private static List<Tensor> inputs(Device dev, ConvPlan plan, ConvMode mode, DType io, int b, int h, int l, int lk, boolean skip, long seed) {
    var rng = Rng.seeded(seed);
    List<Tensor> t = new ArrayList<>();
    t.add(Tensor.randn(rng, DType.F32, b, h, l).to(dev).to(io));
    t.add(Tensor.randn(rng, DType.F32, mode == ConvMode.BIDIRECTIONAL ? new int[] {h, 2, lk} : new int[] {h, lk}).mul(1 / Math.sqrt(lk)).to(dev));
    t.add(skip ? Tensor.randn(rng, DType.F32, 1, h).to(dev) : null);
    double[][] init = PackedLearnedButterfly.atInit(plan).blocks();
    int[] sizes = PackedLearnedButterfly.blockSizes(plan);
    for (int i = 0; i < sizes.length; i++)
      t.add(Tensor.of(init[i], sizes[i], sizes[i], 2).to(DType.F32).add(Tensor.randn(rng, DType.F32, sizes[i], sizes[i], 2).mul(0.05)).to(dev));
    t.replaceAll(x -> x == null ? null : x.detach().requiresGrad(true));
    return t;
  }

  private static Tensor op(List<Tensor> t, Tensor u, ConvMode mode) {
    return ConvOps.learnedPackedConv(u, t.get(1), t.get(2), mode, t.subList(3, t.size()).toArray(Tensor[]::new));
  }

  /** {y, du, dk, dD (empty without D), the 2J block gradients} of sum(y * w), gradients cleared first, as F32 on the CPU. */
  private static float[][] step(List<Tensor> t, Tensor w, ConvMode mode) {
    for (Tensor x : t) if (x != null) x.zeroGrad();
    Tensor y = op(t, t.get(0), mode);
    y.to(DType.F32).mul(w).sum().backward();
    float[][] out = new float[t.size() + 1][];
    out[0] = y.to(DType.F32).toFloatArray();
    for (int i = 0; i < t.size(); i++) out[i + 1] = t.get(i) == null ? new float[0] : t.get(i).grad().to(DType.F32).toFloatArray();
    return out;
  }

  @Test
  void deviceRouteMatchesTheHostRoute() {
    Device dev = GpuCheck.device();
    int b = 2, h = 5;
    // {mode, L, Lk, dtype, D}: one pass causal M = 4096 bf16; bidirectional (the taps' device permute into (2, H, Lk)) M = 4096
    // bf16; circular M = 2048 fp16 without D (its memset); three passes causal M = 65536 (J = 5) bf16
    Object[][] cases = {{ConvMode.CAUSAL, 4096, 4096, DType.BF16, true}, {ConvMode.BIDIRECTIONAL, 3000, 2000, DType.BF16, true},
        {ConvMode.CIRCULAR, 4096, 4096, DType.F16, false}, {ConvMode.CAUSAL, 40000, 30000, DType.BF16, true}};
    for (Object[] c : cases) {
      ConvMode mode = (ConvMode) c[0];
      int l = (Integer) c[1], lk = (Integer) c[2];
      DType io = (DType) c[3];
      ConvPlan plan = ConvPlan.of(l, lk, mode, ConvEngine.LEARNED_PACKED, Precision.F64);
      List<Tensor> t = inputs(dev, plan, mode, io, b, h, l, lk, (Boolean) c[4], 31L + l);
      Tensor w = Tensor.randn(Rng.seeded(7), DType.F32, b, h, l).to(dev).to(io).to(DType.F32);
      float[][] device = step(t, w, mode);
      float[][] host = with("longconv4j.pk.op.device", "false", () -> step(t, w, mode));
      float[][] again = step(t, w, mode);   // the device route after the host route's uploads
      boolean onePass = PackedMonarchConv.supports(l, lk, CudaFlashLongConv.mode(mode), CudaLearnedConv.ioOf(io));
      String what = mode + " " + io + " L=" + l + " Lk=" + lk;
      List<String> names = new ArrayList<>(List.of("y", "du", "dk", "dD"));
      for (String nm : PackedLearnedButterfly.blockNames(plan)) names.add("d" + nm);
      for (int i = 0; i < 4; i++) {   // the same kernels on the same fp32 values (P / Q: lpj_kpad, R2C, lpj_pq_gather either way)
        assertArrayEquals(host[i], device[i], what + " " + names.get(i) + ": device route vs host route");
        assertArrayEquals(device[i], again[i], what + " " + names.get(i) + ": device route after the host route");
      }
      for (int i = 4; i < device.length; i++) {
        if (onePass) {
          // learned_pmb.cu sums each channel's stage Gram from its warps' fp32 partials by shared-memory atomicAdd (in no fixed
          // order), so two runs of the same route may differ in the last bits: each entry adds <= 16 warp partials, a
          // reassociation of ~sqrt(16) 2^-24 of the sum of their magnitudes per channel: 1e-4 norm-relative (cancellation margin)
          close(what + " " + names.get(i) + ": device route vs host route", Tensor.of(device[i], device[i].length),
              Tensor.of(host[i], host[i].length).to(DType.F64), 1e-4);
          close(what + " " + names.get(i) + ": device route again", Tensor.of(again[i], again[i].length),
              Tensor.of(device[i], device[i].length).to(DType.F64), 1e-4);
        } else {   // three passes: fixed-order sums (PackedThreePassBackward's lp3g_reduce; the twin's lpj_gram / lpj_reduce)
          assertArrayEquals(host[i], device[i], what + " " + names.get(i) + ": device route vs host route");
          assertArrayEquals(device[i], again[i], what + " " + names.get(i) + ": device route after the host route");
        }
      }
    }
  }

  /**
   * Helper taps (session 18): dk's C2R plan kept per chain on the work area it shares with the R2C plan (the default) against
   * its slow twin, a plan made and destroyed per backward ({@code -Dlongconv4j.pkj.taps.keep=false}): y, du, dk, dD bit for
   * bit (the same plan parameters: the same cuFFT algorithm; the block Grams are not touched by the switch, and the one-pass
   * ones are summed by atomics, so they are left out), at one pass (causal, and bidirectional: dk's two sides) and at three
   * passes; the count of C2R plans made shows each route taken (the kept route makes none on a second call, the twin one
   * per call).
   */
  @Test
  void keptTapsPlanMatchesAPlanPerCall() {
    Device dev = GpuCheck.device();
    int b = 2, h = 5;
    // {mode, L, Lk, dtype}: one pass causal M = 4096 bf16, bidirectional M = 4096 bf16; three passes causal M = 65536 (J = 5) bf16
    Object[][] cases = {{ConvMode.CAUSAL, 4096, 4096, DType.BF16}, {ConvMode.BIDIRECTIONAL, 3000, 2000, DType.BF16},
        {ConvMode.CAUSAL, 40000, 30000, DType.BF16}};
    for (Object[] c : cases) {
      ConvMode mode = (ConvMode) c[0];
      int l = (Integer) c[1], lk = (Integer) c[2];
      DType io = (DType) c[3];
      ConvPlan plan = ConvPlan.of(l, lk, mode, ConvEngine.LEARNED_PACKED, Precision.F64);
      List<Tensor> t = inputs(dev, plan, mode, io, b, h, l, lk, true, 41L + l);
      Tensor w = Tensor.randn(Rng.seeded(5), DType.F32, b, h, l).to(dev).to(io).to(DType.F32);
      String what = "taps " + mode + " " + io + " L=" + l + " Lk=" + lk;
      float[][] kept = with("longconv4j.pkj.taps.keep", "true", () -> step(t, w, mode));   // makes the chain's C2R plan if new
      long plans = PackedLearnedChain.c2rPlansMade();
      float[][] again = with("longconv4j.pkj.taps.keep", "true", () -> step(t, w, mode));
      assertEquals(plans, PackedLearnedChain.c2rPlansMade(), what + ": the kept route made a C2R plan on its second call");
      float[][] perCall = with("longconv4j.pkj.taps.keep", "false", () -> step(t, w, mode));
      assertEquals(plans + 1, PackedLearnedChain.c2rPlansMade(), what + ": the slow twin made no C2R plan of its own");
      System.out.println(what + ": C2R plans " + plans + ", last kept " + PackedLearnedChain.lastFftArea());
      String[] names = {"y", "du", "dk", "dD"};
      for (int i = 0; i < 4; i++) {
        assertArrayEquals(perCall[i], kept[i], what + " " + names[i] + ": kept C2R plan vs a plan per call");
        assertArrayEquals(kept[i], again[i], what + " " + names[i] + ": kept C2R plan, second call");
      }
      assertEquals((mode == ConvMode.BIDIRECTIONAL ? 2 : 1) * h * lk, kept[2].length, what + ": dk's size");
      double sq = 0;
      for (float v : kept[2]) sq += (double) v * v;
      // dk of random u, dy, k: O(1) entries; a route that left dk at its zeroed gradient (or wrote NaN) fails here
      assertTrue(sq > 0 && Double.isFinite(sq), what + ": dk's sum of squares " + sq);
    }
  }

  /**
   * Helper taps: {@link CuFft.SharedPlans} (plans made without a work area, one area for all of them). At the op bench's
   * 64K size (N = 131072 points, batch H = 768): the area is the larger plan's {@code cufftGetSize}, in both orders (C2R
   * joining second, and first: the area moved when R2C needs more). Executed at batch 64 (same N): R2C and C2R on the shared
   * area against {@link CuFft#plan1d}'s own-area plans bit for bit (the same parameters: the same algorithm), outputs
   * NaN-poisoned first, and the round trip C2R(R2C(x)) / N against x within 1e-5 relative (fp32 FFT error ~u log2 N =
   * 17 x 6e-8 = 1e-6 rms each way; 1e-5 leaves a margin and is far below O(1) for a wrong or unwritten output).
   */
  @Test
  void sharedWorkAreaPlansMatchPlansOfTheirOwn() {
    Device dev = GpuCheck.device();
    CudaDevice cd = ((CudaBackend) GpuCheck.backend()).cudaDevice(dev);
    int n = 131072, wide = 768, batch = 64;
    for (boolean c2rFirst : new boolean[] {false, true}) {
      try (var plans = new CuFft.SharedPlans(cd)) {
        CuFft.Plan a = plans.plan1d(n, c2rFirst ? CuFft.Type.C2R : CuFft.Type.R2C, wide);
        CuFft.Plan b = plans.plan1d(n, c2rFirst ? CuFft.Type.R2C : CuFft.Type.C2R, wide);
        long need = Math.max(a.workSize(), b.workSize());
        System.out.println("taps: N=" + n + " batch " + wide + (c2rFirst ? " C2R, R2C" : " R2C, C2R") + ": work sizes " + a.workSize()
            + ", " + b.workSize() + "; shared area " + plans.workAreaBytes() + " bytes (separate " + plans.separateBytes() + ")");
        assertEquals(need, plans.workAreaBytes(), "the shared area is the larger need");
        assertEquals(a.workSize() + b.workSize(), plans.separateBytes());
      }
    }
    long real = (long) n * batch, cplx = 2L * (n / 2 + 1) * batch;
    try (var plans = new CuFft.SharedPlans(cd); var own = CuFft.plan1d(cd, n, CuFft.Type.R2C, batch);
         var ownInv = CuFft.plan1d(cd, n, CuFft.Type.C2R, batch); DeviceBuffer x = cd.alloc(4 * real);
         DeviceBuffer s1 = cd.alloc(4 * cplx); DeviceBuffer s2 = cd.alloc(4 * cplx); DeviceBuffer y1 = cd.alloc(4 * real);
         DeviceBuffer y2 = cd.alloc(4 * real)) {
      CuFft.Plan fwd = plans.plan1d(n, CuFft.Type.R2C, batch), inv = plans.plan1d(n, CuFft.Type.C2R, batch);
      System.out.println("taps: N=" + n + " batch " + batch + ": shared area " + plans.workAreaBytes() + " bytes");
      DeviceFill.uniform(cd, x, real, ElementType.F32, 77, 1f);
      for (DeviceBuffer o : new DeviceBuffer[] {s1, s2, y1, y2}) o.fill32(0x7fc00000);   // NaN
      own.execR2C(x.ptr(), s1.ptr());
      fwd.execR2C(x.ptr(), s2.ptr());
      float[] sOwn = s1.copyTo(new float[(int) cplx], 0), sShared = s2.copyTo(new float[(int) cplx], 0);
      assertArrayEquals(sOwn, sShared, "R2C on the shared area vs its own");
      ownInv.execC2R(s1.ptr(), y1.ptr());   // C2R may overwrite its input: each plan reads its own copy
      inv.execC2R(s2.ptr(), y2.ptr());
      float[] yOwn = y1.copyTo(new float[(int) real], 0), yShared = y2.copyTo(new float[(int) real], 0);
      assertArrayEquals(yOwn, yShared, "C2R on the shared area vs its own");
      float[] x0 = x.copyTo(new float[(int) real], 0);
      double[] got = new double[x0.length], want = new double[x0.length];
      for (int i = 0; i < x0.length; i++) { got[i] = yShared[i] / (double) n; want[i] = x0[i]; }
      double err = GpuCheck.relErr(got, want);
      assertTrue(err < 1e-5, "C2R(R2C(x)) / N vs x: " + err);
    }
  }

  /** The CPU float64 copy of GPU inputs (null stays null), requiring gradients. */
  private static List<Tensor> cpu(List<Tensor> g) {
    List<Tensor> c = new ArrayList<>();
    for (Tensor x : g) c.add(x == null ? null : x.detach().to(DType.F32).to(Device.CPU).to(DType.F64).detach().requiresGrad(true));
    return c;
  }

  @Test
  void twoOpsOfOneShapeShareThePlan() {
    Device dev = GpuCheck.device();
    int b = 2, h = 6, l = 2048;   // causal M = 2048 = 8 16 16
    ConvMode mode = ConvMode.CAUSAL;
    ConvPlan plan = ConvPlan.of(l, l, mode, ConvEngine.LEARNED_PACKED, Precision.F64);
    List<Tensor> p1 = inputs(dev, plan, mode, DType.BF16, b, h, l, l, true, 3), p2 = inputs(dev, plan, mode, DType.BF16, b, h, l, l, true, 4);
    List<Tensor> c1 = cpu(p1), c2 = cpu(p2);
    Tensor w1 = Tensor.randn(Rng.seeded(6), DType.F32, b, h, l).to(dev).to(DType.BF16).to(DType.F32);
    Tensor w2 = Tensor.randn(Rng.seeded(7), DType.F32, b, h, l).to(dev).to(DType.BF16).to(DType.F32);
    // side by side: both forwards, then both backwards (op 2's first): op 1's backward finds the plan holding op 2's values
    // and re-uploads its own (PackedMonarchLearned.generation moved)
    Tensor y1 = op(p1, p1.get(0), mode), y2 = op(p2, p2.get(0), mode);
    y2.to(DType.F32).mul(w2).sum().add(y1.to(DType.F32).mul(w1).sum()).backward();
    Tensor z1 = op(c1, c1.get(0), mode), z2 = op(c2, c2.get(0), mode);
    z2.mul(w2.to(Device.CPU).to(DType.F64)).sum().add(z1.mul(w1.to(Device.CPU).to(DType.F64)).sum()).backward();
    close("op 1 y", y1.to(DType.F32), z1, 1e-2);
    close("op 2 y", y2.to(DType.F32), z2, 1e-2);
    // tensorCoreRouteMatchesTheCpu's bounds (dk 1e-2 sqrt(N / Lk)); a backward with the other op's taps or blocks is off by O(1)
    double tk = 1e-2 * Math.sqrt((double) plan.fftSize() / l);
    for (int i = 0; i < p1.size(); i++) {
      double tol = i == 1 ? tk : i == 2 ? 1e-5 : 1e-2;
      close("op 1 grad " + i, p1.get(i).grad().to(DType.F32), c1.get(i).grad(), tol);
      close("op 2 grad " + i, p2.get(i).grad().to(DType.F32), c2.get(i).grad(), tol);
    }
  }

  @Test
  void anAdamWStepIsSeenByTheNextForward() {
    Device dev = GpuCheck.device();
    int b = 2, h = 4, l = 4096;   // causal M = 4096 = 16 16 16
    ConvMode mode = ConvMode.CAUSAL;
    ConvPlan plan = ConvPlan.of(l, l, mode, ConvEngine.LEARNED_PACKED, Precision.F64);
    List<Tensor> t = inputs(dev, plan, mode, DType.BF16, b, h, l, l, true, 8);
    List<Parameter> ps = new ArrayList<>();
    for (int i = 1; i < t.size(); i++) ps.add(new Parameter("p" + i, t.get(i), Parameter.BUTTERFLY_GROUP, false));
    // lr 0.2: every parameter moves by ~0.2 in one Adam step (k's entries are ~1 / 64, the blocks' ~1): y moves by far more
    // than the 1e-2 bound below, so a forward on the former P / Q or blocks would fail it
    AdamW opt = new AdamW(new ParamGroup("all", ps, 0.2, 0));
    Tensor w = Tensor.randn(Rng.seeded(9), DType.F32, b, h, l).to(dev).to(DType.BF16).to(DType.F32);
    Supplier<Tensor> y = () -> ConvOps.learnedPackedConv(t.get(0), ps.get(0).value(), ps.get(1).value(), mode,
        ps.subList(2, ps.size()).stream().map(Parameter::value).toArray(Tensor[]::new));
    Tensor y1 = y.get();
    y1.to(DType.F32).mul(w).sum().backward();
    opt.step();
    opt.zeroGrad();
    Tensor y2 = y.get();
    List<Tensor> c = new ArrayList<>();
    c.add(t.get(0).detach().to(DType.F32).to(Device.CPU).to(DType.F64));
    for (Parameter p : ps) c.add(p.value().detach().to(Device.CPU).to(DType.F64));
    Tensor yc = op(c, c.get(0), mode);
    close("y after the step", y2.to(DType.F32), yc, 1e-2);
    double moved = GpuCheck.relErr(y1.to(DType.F32).toDoubleArray(), y2.to(DType.F32).toDoubleArray());
    assertTrue(moved > 5e-2, "the step moved y by " + moved + " only: the test would not see a stale plan");
  }

  @Test
  void keptInputsFollowInPlaceWrites() {
    Device dev = GpuCheck.device();
    CudaBackend be = (CudaBackend) GpuCheck.backend();
    int b = 2, h = 4, l = 4096;   // causal M = 4096 = 16 16 16
    ConvMode mode = ConvMode.CAUSAL;
    ConvPlan plan = ConvPlan.of(l, l, mode, ConvEngine.LEARNED_PACKED, Precision.F64);
    List<Tensor> t = inputs(dev, plan, mode, DType.BF16, b, h, l, l, true, 21), other = inputs(dev, plan, mode, DType.BF16, b, h, l, l, true, 22);
    PackedMonarchLearned pm = be.gpu(dev).packedMonarch(h, l, l, CudaFlashLongConv.mode(mode), ElementType.BF16);
    Supplier<float[]> y = () -> {
      try (var ng = Tensor.noGrad()) { return op(t, t.get(0), mode).to(DType.F32).toFloatArray(); }
    };
    Supplier<float[]> fresh = () -> with("longconv4j.pk.op.reuse", "false", y);   // the slow twin: every call uploads
    float[] y0 = y.get();
    long ups = pm.deviceUploads();
    float[] y1 = y.get();
    assertEquals(ups, pm.deviceUploads(), "a second call on unchanged inputs uploaded again (the kept P / Q and blocks unused)");
    assertArrayEquals(fresh.get(), y1, "kept inputs vs uploaded again");
    assertArrayEquals(y0, y1, "kept inputs vs the first call");
    // another op of this shape on the plan in between: its values replace ours, the next call uploads ours again
    try (var ng = Tensor.noGrad()) { op(other, other.get(0), mode); }
    ups = pm.deviceUploads();
    assertArrayEquals(y0, y.get(), "after another op on the plan");
    assertEquals(ups + 1, pm.deviceUploads(), "the call after another op's did not upload");
    // in-place writes (Tensor.copyFrom: the one in-place write) to k, D, and one block: each seen by the next call
    String[] what = {"k", "D", "block F_2"};
    int[] which = {1, 2, 4};
    float[] before = y0;
    for (int i = 0; i < 3; i++) {
      Tensor p = t.get(which[i]);
      try (var ng = Tensor.noGrad()) { p.copyFrom(i == 2 ? p.mul(0.9) : p.mul(-0.5).add(0.1)); }
      ups = pm.deviceUploads();
      float[] yi = y.get();
      assertEquals(ups + 1, pm.deviceUploads(), what[i] + " written in place: the next call did not upload");
      assertArrayEquals(fresh.get(), yi, what[i] + " written in place: kept route vs uploaded again");
      // the write moves y by O(10 %) (k, D halved and negated, F_2 scaled by 0.9): far beyond the 16-bit bound 1e-2 below
      double moved = GpuCheck.relErr(toDouble(before), toDouble(yi));
      assertTrue(moved > 5e-2, what[i] + " written in place moved y by " + moved + " only: the test would not see a stale plan");
      List<Tensor> c = cpu(t);
      Tensor yc;
      try (var ng = Tensor.noGrad()) { yc = op(c, c.get(0), mode); }
      close(what[i] + " written in place: y", Tensor.of(toDouble(yi), b, h, l), yc, 1e-2);
      before = yi;
    }
  }

  private static double[] toDouble(float[] f) {
    double[] o = new double[f.length];
    for (int i = 0; i < f.length; i++) o[i] = f[i];
    return o;
  }
}
