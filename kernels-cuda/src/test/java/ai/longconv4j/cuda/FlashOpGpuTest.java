// Shapes: B batch (odd: the last FFT pair has one row), H features (111: not a multiple of anything the kernels tile),
//   L length, Lk kernel taps per side (Lk < L, = L, > L), N FFT size.
//   u (B, H, L) bf16/f16, k (H, Lk) (bidirectional (H, 2, Lk)), D (1, H) or null -> y (B, H, L).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.conv.ConvOps;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Session 13 (helper fbop): the fused 16-bit tensor op ({@link CudaFlashLongConv#applyD}: taps and D straight to the
 * FlashButterfly plan, du / dk / dD from its backward) against (a) the composition it replaces (ConvOps' kN built with
 * tensor ops, the plan with D = 0, D u added in F32: {@code -Dlongconv4j.conv.device.fused=false}, its slow twin) and
 * (b) lib's CPU op in F64 on the same rounded inputs: y, du, dk, dD. Outputs of the tensor kernels are poisoned first
 * (GpuCheck.device), so an element left unwritten fails.
 *
 * Bounds (relative Frobenius). Against F64: 1e-2, the argument of LongFlashConvGpuTest (bf16 tensor-core DFT blocks,
 * ~10 rounding stages of rms 2^-8/sqrt(3) adding in quadrature: 7.3e-3, plus the output's rounding; fp16 has 3 more
 * mantissa bits, so the same bound holds with room). Against the composition: the same plan kernels on the same taps, but
 * D u is added inside the kernel (fused) or as an F32 tensor add to the bf16-rounded conv output (composed), and du's D dy
 * likewise; FlashOpBench measured the two y 4.5-4.6e-3 apart (causal) and 2.2e-3 (bidirectional) at B = 64, H = 768,
 * more than one extra bf16 rounding (~1.1e-3 rms) explains (the cause is not established) — each side is
 * within the F64 argument's ~7.3e-3 of the exact result, so 1e-2 is kept here too rather than a tighter guess.
 */
@Tag("gpu")
class FlashOpGpuTest {

  static Tensor randn(long seed, int... shape) { return Tensor.randn(Rng.seeded(seed), DType.F32, shape); }

  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} D={6}")
  @CsvSource({
      "CAUSAL, BF16, 3, 111, 256, 256, true",
      "CAUSAL, BF16, 5, 111, 1000, 300, true",       // Lk < L, L not a power of two
      "CAUSAL, F16, 3, 111, 512, 700, true",         // Lk > L: taps beyond L get gradient 0
      "CAUSAL, BF16, 3, 111, 1024, 1024, false",     // no D
      "BIDIRECTIONAL, BF16, 3, 111, 1000, 400, true",
      "BIDIRECTIONAL, F16, 1, 111, 512, 512, true",  // taps1 = L - 1 < taps0 = L
      "BIDIRECTIONAL, BF16, 3, 64, 256, 256, false",
      "CIRCULAR, BF16, 3, 111, 1024, 1024, true",
      "CIRCULAR, F16, 3, 111, 256, 100, true",
      "CAUSAL, BF16, 3, 5, 20000, 20000, true"})     // three passes (N = 64K)
  void fusedOpMatchesTheCompositionAndTheCpuInF64(ConvMode mode, DType dt, int b, int h, int l, int lk, boolean withD) {
    Device dev = GpuCheck.device();
    CudaBackend be = (CudaBackend) GpuCheck.backend();
    assertTrue(CudaFlashLongConv.fusedApplies(dt, mode, l, 1), "the fused op should take " + mode + " L=" + l + " " + dt);
    int[] kShape = mode.sides() == 2 ? new int[] {h, 2, lk} : new int[] {h, lk};
    Tensor u = randn(41, b, h, l).to(dev).to(dt), k = randn(42, kShape).mul(1 / Math.sqrt(lk)).to(dev),
        d = withD ? randn(43, 1, h).to(dev) : null, w = randn(44, b, h, l).to(dev).to(dt);
    // the same inputs through the fused op and through the composition (its slow twin)
    Grads fused = run(mode, u, k, d, w, true), twin = run(mode, u, k, d, w, false);
    assertTrue(fused.name.contains("FlashButterfly+D"), "fused op expected, got " + fused.name);
    assertTrue(!twin.name.contains("+D"), "composition expected, got " + twin.name);
    String what = mode + " " + dt + " B=" + b + " H=" + h + " L=" + l + " Lk=" + lk;
    for (int i = 0; i < 4; i++)
      if (fused.t.get(i) != null) close(what + " fused vs composition " + NAMES[i], fused.t.get(i), twin.t.get(i), 1e-2);
    // against lib's CPU op in F64 on the same rounded inputs
    List<Tensor> cIn = new ArrayList<>();
    for (Tensor x : new Tensor[] {u, k, d}) cIn.add(x == null ? null : Tensor.of(x.toFloatArray(), x.shape()).to(DType.F64).requiresGrad(true));
    Tensor yc = ConvOps.conv(cIn.get(0), cIn.get(1), cIn.get(2), mode, ConvEngine.FFT);
    yc.mul(Tensor.of(w.toFloatArray(), w.shape()).to(DType.F64)).sum().backward();
    close(what + " y vs F64", fused.t.get(0), yc, 1e-2);
    for (int i = 0; i < 3; i++)
      if (cIn.get(i) != null) close(what + " " + NAMES[i + 1] + " vs F64", fused.t.get(i + 1), cIn.get(i).grad(), 1e-2);
    if (d == null) assertNull(fused.t.get(3));
  }

  /**
   * Two ops on the same shared plan (same H, L, mode, dtype), both forwards before either backward: the first op's
   * backward must see that the second replaced the plan's spectrum and D (FlashButterflyConv.weightsVersion) and set
   * its own again; the second's backward may reuse the spectrum. Each op's gradients against the same op run alone:
   * the same kernels on the same values, so equal up to the fp32 accumulation order of the fused backward's dk/dD
   * (atomic adds: 1e-5 relative); y and du bit-for-bit apart from that, bound the same.
   */
  @org.junit.jupiter.api.Test
  void interleavedOpsOnOneSharedPlanKeepTheirOwnWeights() {
    Device dev = GpuCheck.device();
    int b = 3, h = 111, l = 512;
    Tensor u = randn(51, b, h, l).to(dev).to(DType.BF16), w = randn(54, b, h, l).to(dev).to(DType.BF16);
    Tensor[] k = {randn(52, h, l).mul(1 / Math.sqrt(l)).to(dev), randn(62, h, l).mul(1 / Math.sqrt(l)).to(dev)};
    Tensor[] d = {randn(53, 1, h).to(dev), randn(63, 1, h).to(dev)};
    Grads[] alone = {run(ConvMode.CAUSAL, u, k[0], d[0], w, true), run(ConvMode.CAUSAL, u, k[1], d[1], w, true)};
    List<List<Tensor>> in = new ArrayList<>();
    Tensor[] y = new Tensor[2];
    for (int i = 0; i < 2; i++) {
      in.add(List.of(u.detach().requiresGrad(true), k[i].detach().requiresGrad(true), d[i].detach().requiresGrad(true)));
      y[i] = ConvOps.conv(in.get(i).get(0), in.get(i).get(1), in.get(i).get(2), ConvMode.CAUSAL, ConvEngine.MONARCH);
    }
    for (int i : new int[] {0, 1}) {   // the first op's backward first: its spectrum was replaced by the second forward
      y[i].to(DType.F32).mul(w.to(DType.F32)).sum().backward();
      close("op " + i + " y", y[i], alone[i].t.get(0), 1e-5);
      for (int j = 0; j < 3; j++) close("op " + i + " " + NAMES[j + 1], in.get(i).get(j).grad(), alone[i].t.get(j + 1), 1e-5);
    }
  }

  static final String[] NAMES = {"y", "du", "dk", "dD"};

  /** y and the gradients of u, k, d (null without d) of sum(y * w), with the fused path on or off; name: y's op. */
  record Grads(List<Tensor> t, String name) {}

  static Grads run(ConvMode mode, Tensor u, Tensor k, Tensor d, Tensor w, boolean fused) {
    String prop = "longconv4j.conv.device.fused";
    if (!fused) System.setProperty(prop, "false");
    try {
      Tensor ug = u.detach().requiresGrad(true), kg = k.detach().requiresGrad(true), dg = d == null ? null : d.detach().requiresGrad(true);
      Tensor y = ConvOps.conv(ug, kg, dg, mode, ConvEngine.MONARCH);
      assertEquals(u.dtype(), y.dtype(), "y keeps u's dtype");
      assertEquals(List.of(u.shape()[0], u.shape()[1], u.shape()[2]), List.of(y.shape()[0], y.shape()[1], y.shape()[2]));
      String name = y.gradFn();
      y.to(DType.F32).mul(w.to(DType.F32)).sum().backward();
      List<Tensor> t = new ArrayList<>(List.of(y, ug.grad(), kg.grad()));
      t.add(dg == null ? null : dg.grad());
      return new Grads(t, name);
    } finally {
      System.clearProperty(prop);
    }
  }

  static void close(String what, Tensor got, Tensor want, double tol) {
    double[] a = got.to(DType.F64).toDoubleArray(), e = want.to(DType.F64).toDoubleArray();
    assertEquals(e.length, a.length, what + ": sizes");
    double err = GpuCheck.relErr(a, e);
    assertTrue(err <= tol, what + ": relative error " + err + " > " + tol);
  }
}
