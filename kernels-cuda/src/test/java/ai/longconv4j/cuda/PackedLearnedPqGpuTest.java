// Shapes: H channels, L length, Lk taps (causal); N the real FFT size, M = N / 2 = N1 x N2 (256 = 16 x 16, 512 = 16 x 32,
// 1024 = 32 x 32); k: (H, Lk) fp32 (two-sided: (H, 2, Lk)); P / Q: (H, M) float4 in the kernels' tile-row order
// (position i N2 + c holds frequency rho(i) + N1 c): {P, Q} and the adjoint's {conj P_f, Q_s(f)}, s(f) = (M - f) mod M.
// The op: u, y (B, H, L) bf16 / fp16; D (1, H); blocks {Fa, Fb, Gb, Ga} (n, n, 2) fp32.
package ai.longconv4j.cuda;

import static ai.longconv4j.cuda.GpuCheck.close;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvOps;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.ConvShape;
import ai.longconv4j.conv.PackedLearnedButterfly;
import ai.longconv4j.conv.Precision;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Helper pkpq (session 13): P / Q by an FFT per channel (learned_pk_op.cu {@code lpko_pq_fft}, the default of
 * {@link PackedLearnedConv#setWeightsOnDevice}) against its slow twin, the direct DFT {@code lpk_pq}, and against lib's
 * float64 {@link PackedLearnedButterfly#pairCoefficients} of {@link PackedLearnedButterfly#placeTaps}, raw device layout
 * (both outputs: {P, Q} and the adjoint's {conj P, Q_s}) for every channel; the device buffers are NaN-poisoned before
 * each route, so an entry a route leaves unwritten fails. The two-sided placement (side 1's taps at [N-1-t], lib's
 * SpectralConv.placeTaps) through the kernel's parameters on the same N. The op ({@code ConvOps.learnedPackedConv} on
 * the GPU) with {@code -Dlongconv4j.pk.pq=dft} and {@code fft} against lib's float64 op.
 * Tolerances (relative L2 per channel over the 4M values, against float64): K = DFT_N(k_pad) is the only sum; the FFT's
 * fp32 rounding grows as eps log2 M (eps = 2^-24 ~ 6e-8, log2 M <= 10: rms ~1e-6 at the worst, typically a few 1e-7; the
 * twiddles by sincospif within ~1 ulp; the split and the P / Q products a few eps more): 5e-6. The direct DFT
 * sums up to 1024 products sequentially in fp32 (rounding ~eps sqrt(taps) rms, eps taps at the worst ~6e-5 relative to
 * ||K||): 1e-4, as PackedLearnedGpuTest bounds it; FFT against DFT: 1e-4 (the sum of the two). A wrong coefficient,
 * conjugate, index or position is O(1). The op's y: the 16-bit bound 1e-2 of PackedLearnedOpGpuTest.
 */
@Tag("gpu")
class PackedLearnedPqGpuTest {
  static final double FFT_TOL = 5e-6, DFT_TOL = 1e-4;

  /** The backend's own device (the op test runs through it too): one CudaDevice for the whole class. */
  private static CudaDevice dev() {
    Device d = GpuCheck.device();
    return ((CudaBackend) ai.longconv4j.backend.Backends.forDevice(d)).cudaDevice(d);
  }

  @ParameterizedTest(name = "H={0} L={1} Lk={2}")
  @CsvSource({"3, 1000, 1000", "111, 1000, 600", "768, 1024, 1024", "111, 512, 512", "3, 400, 300", "768, 511, 511",
      "768, 256, 256", "111, 255, 100", "3, 129, 129"})
  void fftMatchesDftAndLib(int H, int L, int Lk) {
    CudaDevice dev = dev();
    var rng = new SplittableRandom(31L * L + 7L * H + Lk);
    float[] k = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk));
    ConvPlan plan = PackedLearnedConv.libPlan(L, Lk, ConvMode.CAUSAL);
    var shape = new ConvShape(1, 1, H, L, Lk, ai.longconv4j.conv.ConvMode.CAUSAL);
    int m = plan.fftSize() / 2;
    String what = "H=" + H + " L=" + L + " Lk=" + Lk + " (M=" + m + ")";
    double[] kd = LearnedTensorCoreGpuTest.toD(k);
    double[][] want = new double[2][4 * H * m];
    for (int h = 0; h < H; h++) {
      double[] ref = PackedLearnedButterfly.pairCoefficients(plan, PackedLearnedButterfly.placeTaps(plan, shape, kd, h));
      toRaw(ref, plan, want[0], want[1], h);
    }
    try (var dk = dev.upload(k); var pk = PackedLearnedConv.plan(dev, H, L, Lk, ConvMode.CAUSAL, ElementType.BF16)) {
      float[][] dft = route(pk, false, dk, what), fft = route(pk, true, dk, what);
      for (int a = 0; a < 2; a++) {
        String part = a == 0 ? "{P, Q}" : "adjoint {conj P, Q_s}";
        double[] e = {worst(dft[a], want[a], H, m), worst(fft[a], want[a], H, m), worst(fft[a], toD(dft[a]), H, m)};
        System.out.printf("pq %s %s: worst channel rel. L2 dft-lib %.2e fft-lib %.2e fft-dft %.2e%n", what, part, e[0], e[1], e[2]);
        assertTrue(e[0] <= DFT_TOL, "lpk_pq " + part + " vs lib " + what + ": " + e[0]);
        assertTrue(e[1] <= FFT_TOL, "lpko_pq_fft " + part + " vs lib " + what + ": " + e[1]);
        assertTrue(e[2] <= DFT_TOL, "lpko_pq_fft vs lpk_pq " + part + " " + what + ": " + e[2]);
      }
    }
  }

  /**
   * The kernel's two-sided placement (the bidirectional plans' N >= L + Lk: side 0's taps at [t], side 1's at [N-1-t])
   * on a causal plan's N and blocks order, against lib's pairCoefficients of the same N placed taps.
   */
  @ParameterizedTest(name = "H={0} L={1} Lk={2} taps={3}/{4}")
  @CsvSource({"5, 1000, 1000, 1000, 999", "111, 512, 400, 300, 400", "3, 200, 200, 130, 77"})
  void twoSidedPlacement(int H, int L, int Lk, int taps0, int taps1) {
    CudaDevice dev = dev();
    var rng = new SplittableRandom(17L * L + H);
    float[] k = Reference.randn(rng, 2 * H * Lk, 1.0 / Math.sqrt(Lk));
    ConvPlan plan = PackedLearnedConv.libPlan(L, Lk, ConvMode.CAUSAL);
    int n = plan.fftSize(), m = n / 2;
    assertTrue(taps0 + taps1 <= n, "no overlap in this test's cases");
    double[][] want = new double[2][4 * H * m];
    for (int h = 0; h < H; h++) {
      double[] kPad = new double[n];
      for (int t = 0; t < taps0; t++) kPad[t] = k[2 * h * Lk + t];
      for (int t = 0; t < taps1; t++) kPad[n - 1 - t] = k[2 * h * Lk + Lk + t];
      toRaw(PackedLearnedButterfly.pairCoefficients(plan, kPad), plan, want[0], want[1], h);
    }
    String what = "two-sided H=" + H + " N=" + n + " taps " + taps0 + " / " + taps1;
    try (var dk = dev.upload(k); var pk = PackedLearnedConv.plan(dev, H, L, Lk, ConvMode.CAUSAL, ElementType.BF16)) {
      pk.poisonPairCoefficients();
      pk.launchPqFft(dev.stream(), dk.ptr(), 2, taps0, taps1);
      for (int a = 0; a < 2; a++) {
        float[] got = pk.rawPairCoefficients(a == 1);
        assertAllFinite(got, what);
        double e = worst(got, want[a], H, m);
        System.out.printf("pq %s part %d: worst channel rel. L2 fft-lib %.2e%n", what, a, e);
        assertTrue(e <= FFT_TOL, "lpko_pq_fft " + what + " part " + a + " vs lib: " + e);
      }
    }
  }

  /** The op (device inputs route, the default) with P / Q by dft and by fft, each against lib's float64 op. */
  @Test
  void opForwardWithBothRoutes() {
    Device gd = GpuCheck.device();
    int b = 3, h = 37;
    for (DType io : new DType[] {DType.BF16, DType.F16}) {
      for (int[] lLk : new int[][] {{256, 256}, {1000, 700}, {512, 512}}) {
        int l = lLk[0], lk = lLk[1];
        ConvPlan plan = ConvPlan.of(l, lk, ai.longconv4j.conv.ConvMode.CAUSAL, ConvEngine.LEARNED_PACKED, Precision.F64);
        double[][] init = PackedLearnedButterfly.atInit(plan).blocks();
        var rng = Rng.seeded(3L * l + io.ordinal());
        List<Tensor> cpu = new ArrayList<>();
        cpu.add(Tensor.randn(rng, DType.F32, b, h, l).to(gd).to(io).to(DType.F32).to(Device.CPU).to(DType.F64));   // u as the GPU sees it
        cpu.add(Tensor.randn(rng, DType.F32, h, lk).mul(1 / Math.sqrt(lk)).to(DType.F64));
        cpu.add(Tensor.randn(rng, DType.F32, 1, h).to(DType.F64));
        for (int i = 0; i < 4; i++) {
          int n = plan.factors().get(i == 0 || i == 3 ? 0 : 1);
          cpu.add(Tensor.of(init[i], n, n, 2).to(DType.F32).add(Tensor.randn(rng, DType.F32, n, n, 2).mul(0.05)).to(DType.F64));
        }
        List<Tensor> gpu = new ArrayList<>();
        for (int i = 0; i < cpu.size(); i++) gpu.add(cpu.get(i).to(DType.F32).to(gd).to(i == 0 ? io : DType.F32));
        Tensor yc = ConvOps.learnedPackedConv(cpu.get(0), cpu.get(1), cpu.get(2), ai.longconv4j.conv.ConvMode.CAUSAL,
            cpu.subList(3, 7).toArray(Tensor[]::new));
        for (String route : new String[] {"dft", "fft"}) {
          String old = System.getProperty("longconv4j.pk.pq");
          System.setProperty("longconv4j.pk.pq", route);
          try (var ng = Tensor.noGrad()) {
            Tensor yg = ConvOps.learnedPackedConv(gpu.get(0), gpu.get(1), gpu.get(2), ai.longconv4j.conv.ConvMode.CAUSAL,
                gpu.subList(3, 7).toArray(Tensor[]::new));
            // 16-bit tensor-core path against float64 (PackedLearnedOpGpuTest's bound): 1e-2 relative
            close("op y, P / Q by " + route + " " + io + " L=" + l + " Lk=" + lk, yg.to(DType.F32), yc, 1e-2);
          } finally {
            if (old == null) System.clearProperty("longconv4j.pk.pq"); else System.setProperty("longconv4j.pk.pq", old);
          }
        }
      }
    }
  }

  /** One route into the plan's NaN-poisoned buffers: {raw {P, Q}, raw adjoint}, every value finite. */
  private static float[][] route(PackedLearnedConv pk, boolean fft, DeviceBuffer k, String what) {
    pk.poisonPairCoefficients();
    pk.pqByFft(fft).setWeightsOnDevice(k.ptr(), 1, null);
    float[][] r = {pk.rawPairCoefficients(false), pk.rawPairCoefficients(true)};
    for (float[] x : r) assertAllFinite(x, (fft ? "fft " : "dft ") + what);
    return r;
  }

  private static void assertAllFinite(float[] x, String what) {
    for (int j = 0; j < x.length; j++) assertTrue(Float.isFinite(x[j]), "P / Q value " + j + " unwritten or not finite: " + what);
  }

  /**
   * lib's coefficients of channel h (P at 2p, Q at 2M + 2p, p = k1 N2 + k2 for f = k1 + N1 k2) into the raw device layouts:
   * position i N2 + c holds f = rho(i) + N1 c: pq {P_f, Q_f}, adj {conj P_f, Q_s(f)}.
   */
  static void toRaw(double[] lib, ConvPlan plan, double[] pq, double[] adj, int h) {
    int n1 = plan.factors().get(0), n2 = plan.factors().get(1), m = n1 * n2;
    for (int i = 0; i < n1; i++)
      for (int c = 0; c < n2; c++) {
        int f = PackedLearnedConv.rho(i, n1) + n1 * c, p = (f % n1) * n2 + f / n1, s = (m - f) % m, ps = (s % n1) * n2 + s / n1;
        int o = 4 * (h * m + i * n2 + c);
        pq[o] = lib[2 * p]; pq[o + 1] = lib[2 * p + 1]; pq[o + 2] = lib[2 * m + 2 * p]; pq[o + 3] = lib[2 * m + 2 * p + 1];
        adj[o] = lib[2 * p]; adj[o + 1] = -lib[2 * p + 1]; adj[o + 2] = lib[2 * m + 2 * ps]; adj[o + 3] = lib[2 * m + 2 * ps + 1];
      }
  }

  /** The worst channel's relative L2 error of got against want (both (H, 4M)). */
  static double worst(float[] got, double[] want, int H, int m) {
    double w = 0;
    for (int h = 0; h < H; h++) {
      double num = 0, den = 0;
      for (int j = 4 * m * h; j < 4 * m * (h + 1); j++) { double d = got[j] - want[j]; num += d * d; den += want[j] * want[j]; }
      w = Math.max(w, Math.sqrt(num / Math.max(den, Double.MIN_NORMAL)));
    }
    return w;
  }

  private static double[] toD(float[] x) {
    double[] d = new double[x.length];
    for (int i = 0; i < x.length; i++) d[i] = x[i];
    return d;
  }
}
