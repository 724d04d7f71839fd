// Shapes: x (B, L, in) or (R, in), w (out, in), b (out), y (B, L, out); R = B·L rows. Awkward: R = 10, in = 77,
//   out = 111 (no multiple of 8 anywhere); aligned: (4, 64, 64) -> 128; (2, 3, 16) -> 8.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.nn.GELU;
import ai.longconv4j.nn.Linear;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The cuBLASLt epilogue path of Linear ({@link CudaFusedLinear}: BIAS, GELU_AUX_BIAS forward; gelu' kernel, plain dx
 * GEMM and dw GEMM with BGRADB backward) against the unfused GPU ops (the same tensors through matmul, add, geluTanh)
 * and against the CPU in F64, forward and dx, dw, db, with poisoned outputs (GpuCheck), a 3-D input and awkward
 * shapes; and its variants (autotuned algorithm, timed epilogue-vs-GEMM+add choice, the GEMM + add forced, the
 * heuristic's first algorithm) against the same references (F64 GELU is declined by design: the fp64 GELU epilogue measured 2.2e-10 relative error on the H200,
 * 2026-11-30, against 1e-12 for the F64 bias epilogue).
 * Relative errors are norm-wise (GpuCheck.relErr). Tolerances: F64 1e-12 (fp64 GEMM, sums of <= 128 products
 * of O(1) values: ~1e-15); F32 1e-5 (full fp32 compute, no TF32 — CUBLAS_COMPUTE_32F — so ~1e-7 per sum of <= 128
 * terms, 1e-5 leaves margin for the GELU'); BF16 1e-2 (the result of each GEMM is rounded to bf16, unit roundoff
 * 2^-8 = 3.9e-3, and the fused and unfused paths round at different points — once after bias+GELU vs after the GEMM,
 * after the add and after the GELU — so up to ~2-3 roundings of 2e-3 rms each; 1e-2 is ~2x that, while a wrong
 * layout or a missing bias gives errors of order 1).
 */
@Tag("gpu")
class FusedLinearGpuTest {
  static final int[][] SHAPES = {{2, 5, 77, 111}, {4, 64, 64, 128}, {2, 3, 16, 8}};   // B, L, in, out

  static double tol(DType t) {
    return switch (t) { case F64 -> 1e-12; case F32 -> 1e-5; default -> 1e-2; };
  }

  /** y and (dx, dw, db) of one path; x, w, b leaves on dev in dtype t made from the same F64 values. */
  static Tensor[] run(Device dev, DType t, Tensor[] o, boolean gelu, boolean fused, Tensor g) {
    Tensor x = o[0].to(dev).to(t).detach().requiresGrad(true), w = o[1].to(dev).to(t).detach().requiresGrad(true),
        b = o[2].to(dev).to(t).detach().requiresGrad(true);
    Tensor y;
    if (fused) {
      y = gelu ? Linear.linearGelu(x, w, b, GELU.Approximation.TANH) : Linear.linear(x, w, b);
    } else {   // the unfused twin on the same device: GEMM, bias add, GELU as separate kernels
      int in = x.size(-1);
      Tensor z = x.reshape(x.numel() / in, in).matmul(w.transpose(0, 1)).add(b);
      if (gelu) z = z.geluTanh();
      int[] s = x.shape();
      s[s.length - 1] = w.size(0);
      y = z.reshape(s);
    }
    y.backward(g.to(dev).to(t));
    return new Tensor[] {y.detach(), x.grad(), w.grad(), b.grad()};
  }

  static Tensor[] operands(int[] s, long seed) {
    return new Tensor[] {Tensor.randn(Rng.seeded(seed), DType.F64, s[0], s[1], s[2]),
        Tensor.randn(Rng.seeded(seed + 1), DType.F64, s[3], s[2]).mul(1 / Math.sqrt(s[2])),
        Tensor.randn(Rng.seeded(seed + 2), DType.F64, s[3]).mul(0.5)};
  }

  /** Runs {@code body} with the given system properties set (null: cleared), restoring them after. */
  static void withProps(String[] kv, Runnable body) {
    String[] old = new String[kv.length / 2];
    for (int i = 0; i < kv.length; i += 2) {
      old[i / 2] = System.getProperty(kv[i]);
      if (kv[i + 1] == null) System.clearProperty(kv[i]); else System.setProperty(kv[i], kv[i + 1]);
    }
    try {
      body.run();
    } finally {
      for (int i = 0; i < kv.length; i += 2)
        if (old[i / 2] == null) System.clearProperty(kv[i]); else System.setProperty(kv[i], old[i / 2]);
    }
  }

  static final String BIAS_MODE = "longconv4j.fusedLinear.biasEpilogue", AUTOTUNE = "longconv4j.cublasLt.autotune";

  @Test
  void fusedEqualsUnfusedAndCpuInEveryDtypeForwardAndGradients() {
    // the BIAS epilogue forced on, so the path labels asserted below do not depend on a timing (the timed choice and
    // the forced fallback are covered by autotunedFallbackAndFirstHeuristicPathsAllMatch)
    withProps(new String[] {BIAS_MODE, "on"}, this::everyDtype);
  }

  private void everyDtype() {
    Device dev = GpuCheck.device();
    String[] names = {"y", "dx", "dw", "db"};
    StringBuilder paths = new StringBuilder();
    java.util.List<String> failures = new java.util.ArrayList<>();
    for (DType t : new DType[] {DType.F64, DType.F32, DType.BF16}) {
      for (boolean gelu : new boolean[] {false, true}) {
        for (int[] s : SHAPES) {
          Tensor[] o = operands(s, 31L * s[2] + s[3]);
          Tensor g = Tensor.randn(Rng.seeded(77), DType.F64, s[0], s[1], s[3]);
          // CPU reference from the operands as rounded to t (so only the GPU's arithmetic is measured)
          Tensor[] r = new Tensor[3];
          for (int i = 0; i < 3; i++) r[i] = o[i].to(dev).to(t).to(DType.F64).to(Device.CPU);
          Tensor gr = g.to(dev).to(t).to(DType.F64).to(Device.CPU);
          Tensor[] cpu = run(Device.CPU, DType.F64, r, gelu, false, gr);
          long fusedBefore = CudaFusedLinear.FUSED.get(), declinedBefore = CudaFusedLinear.DECLINED.get();
          Tensor[] f = run(dev, t, o, gelu, true, g);
          boolean tookFused = CudaFusedLinear.FUSED.get() > fusedBefore;
          assertTrue(tookFused || CudaFusedLinear.DECLINED.get() > declinedBefore, "the fused path was asked");
          String line = String.format("%s %s %s -> %s%n", t, gelu ? "bias+gelu" : "bias", java.util.Arrays.toString(s),
              tookFused ? "cuBLASLt" : "declined (unfused ops)");
          paths.append(line);
          System.out.print("FusedLinearGpuTest path: " + line);
          Tensor[] u = run(dev, t, o, gelu, false, g);
          for (int i = 0; i < 4; i++) {
            String what = t + (gelu ? " bias+gelu " : " bias ") + java.util.Arrays.toString(s) + " " + names[i];
            assertEquals(dev, f[i].device(), what + " device");
            double[] fd = f[i].to(Device.CPU).to(DType.F64).toDoubleArray();
            double eCpu = GpuCheck.relErr(fd, cpu[i].toDoubleArray());
            double eGpu = GpuCheck.relErr(fd, u[i].to(Device.CPU).to(DType.F64).toDoubleArray());
            System.out.printf("FusedLinearGpuTest %s: rel err vs CPU %.2e, vs unfused GPU %.2e (bound %.0e)%n", what, eCpu, eGpu,
                tol(t));
            // every case runs and is printed; the failures are collected and reported together at the end
            if (!(eCpu <= tol(t) && eGpu <= tol(t))) failures.add(what + ": rel err vs CPU " + eCpu + ", vs unfused " + eGpu);
          }
        }
      }
    }
    System.out.print("FusedLinearGpuTest paths:\n" + paths + CudaBackend.fusedLinearStats() + "\n");
    assertTrue(failures.isEmpty(), failures.size() + " cases over their bound: " + String.join("; ", failures));
    // the LM-like aligned shapes must take cuBLASLt in the 16-bit and fp32 types (where the fusion is for)
    assertTrue(paths.toString().contains("BF16 bias+gelu [4, 64, 64, 128] -> cuBLASLt"), paths.toString());
    assertTrue(paths.toString().contains("F32 bias [4, 64, 64, 128] -> cuBLASLt"), paths.toString());
    // F64: bias fused (exact to 1e-12 on the H200), GELU never (its fp64 epilogue measured 2.2e-10 off)
    assertTrue(paths.toString().contains("F64 bias+gelu [4, 64, 64, 128] -> declined"), paths.toString());
  }

  /**
   * The variants of the fused op on one shape and dtype: autotuned algorithm with the timed epilogue-vs-GEMM+add choice
   * (the default), the GEMM + bias add forced (the fallback the timing may pick), the epilogue forced, and the
   * heuristic's first algorithm untimed (the slow twin): each against the CPU in F64 and against the unfused GPU ops,
   * y, dx, dw, db, bias and bias+GELU. Same tolerances as above.
   */
  @Test
  void autotunedFallbackAndFirstHeuristicPathsAllMatch() {
    Device dev = GpuCheck.device();
    java.util.List<String> failures = new java.util.ArrayList<>();
    String[][] variants = {
        {"auto+tuned", BIAS_MODE, "auto", AUTOTUNE, null},
        {"gemm+add", BIAS_MODE, "off", AUTOTUNE, null},
        {"epilogue+tuned", BIAS_MODE, "on", AUTOTUNE, null},
        {"first heuristic", BIAS_MODE, "on", AUTOTUNE, "false"}};
    for (DType t : new DType[] {DType.BF16, DType.F32}) {
      for (int[] s : new int[][] {{4, 64, 64, 128}, {2, 5, 77, 111}, {2, 256, 192, 96}}) {
        for (boolean gelu : new boolean[] {false, true}) {
          Tensor[] o = operands(s, 7L * s[2] + s[3]);
          Tensor g = Tensor.randn(Rng.seeded(78), DType.F64, s[0], s[1], s[3]);
          Tensor[] r = new Tensor[3];
          for (int i = 0; i < 3; i++) r[i] = o[i].to(dev).to(t).to(DType.F64).to(Device.CPU);
          Tensor[] cpu = run(Device.CPU, DType.F64, r, gelu, false, g.to(dev).to(t).to(DType.F64).to(Device.CPU));
          Tensor[] u = run(dev, t, o, gelu, false, g);
          for (String[] v : variants) {
            Tensor[][] f = new Tensor[1][];
            long viaGemm = CudaFusedLinear.VIA_GEMM.get(), fused = CudaFusedLinear.FUSED.get();
            withProps(java.util.Arrays.copyOfRange(v, 1, 5), () -> f[0] = run(dev, t, o, gelu, true, g));
            String what = t + (gelu ? " bias+gelu " : " bias ") + java.util.Arrays.toString(s) + " " + v[0];
            boolean tookGemm = CudaFusedLinear.VIA_GEMM.get() > viaGemm, tookLt = CudaFusedLinear.FUSED.get() > fused;
            System.out.printf("FusedLinearGpuTest variant %s -> %s%n", what, tookGemm ? "GEMM + bias add" : tookLt ? "cuBLASLt" : "declined");
            // the forced modes must take their path (the aligned shape is one cuBLASLt supports; see the test above)
            if (v[0].equals("gemm+add") && !gelu && !tookGemm) failures.add(what + ": forced GEMM + add did not run it");
            if (v[2].equals("on") && s[2] == 64 && !tookLt) failures.add(what + ": forced epilogue did not run cuBLASLt");
            if (gelu && tookGemm) failures.add(what + ": GELU never goes GEMM + add (the epilogue saves the GELU pass)");
            String[] names = {"y", "dx", "dw", "db"};
            for (int i = 0; i < 4; i++) {
              double[] fd = f[0][i].to(Device.CPU).to(DType.F64).toDoubleArray();
              double eCpu = GpuCheck.relErr(fd, cpu[i].toDoubleArray());
              double eGpu = GpuCheck.relErr(fd, u[i].to(Device.CPU).to(DType.F64).toDoubleArray());
              System.out.printf("FusedLinearGpuTest %s %s: rel err vs CPU %.2e, vs unfused GPU %.2e%n", what, names[i], eCpu, eGpu);
              if (!(eCpu <= tol(t) && eGpu <= tol(t))) failures.add(what + " " + names[i] + ": vs CPU " + eCpu + ", vs unfused " + eGpu);
            }
          }
        }
      }
    }
    System.out.println("FusedLinearGpuTest autotune: " + CudaBackend.fusedLinearStats());
    assertTrue(failures.isEmpty(), failures.size() + " failures: " + String.join("; ", failures));
    // the autotuned plans did time several candidates (the H200's heuristic offers more than one for these GEMMs),
    // and the auto bias mode did time the epilogue against GEMM + add
    assertTrue(CuBlasLt.lastChoice() != null, "no op was autotuned over more than one candidate");
    assertTrue(CudaFusedLinear.lastBiasChoice() != null, "the auto bias mode never timed its two variants");
  }

  @Test
  void withoutAGraphTheForwardKeepsNothingAndMatches() {
    Device dev = GpuCheck.device();
    Tensor[] o = operands(new int[] {4, 64, 64, 128}, 5);
    Tensor x = o[0].to(dev).to(DType.BF16), w = o[1].to(dev).to(DType.BF16), b = o[2].to(dev).to(DType.BF16);
    Tensor withGraph = Linear.linearGelu(x, w.detach().requiresGrad(true), b, GELU.Approximation.TANH);
    Tensor plain;
    try (var ng = Tensor.noGrad()) {
      plain = Linear.linearGelu(x, w, b, GELU.Approximation.TANH);   // GELU_BIAS, no aux
    }
    assertNull(plain.gradFn());
    // same GEMM and epilogue math, with or without the aux output: equal up to the algorithm choice (1 bf16 ulp)
    GpuCheck.close("noGrad vs graph", plain.to(Device.CPU), withGraph.detach().to(Device.CPU), 1e-2);
  }

  /** Forwards that entered the fused op: epilogue, declined, or GEMM + add (the timed bias choice). */
  static long asked() { return CudaFusedLinear.FUSED.get() + CudaFusedLinear.DECLINED.get() + CudaFusedLinear.VIA_GEMM.get(); }

  @Test
  void exactGeluAndBiaslessLinearStayUnfused() {
    Device dev = GpuCheck.device();
    Tensor[] o = operands(new int[] {2, 8, 32, 64}, 9);
    Tensor x = o[0].to(dev).to(DType.F32), w = o[1].to(dev).to(DType.F32), b = o[2].to(dev).to(DType.F32);
    long before = asked();
    Tensor exact = Linear.linearGelu(x, w, b, GELU.Approximation.EXACT);   // fused bias only, erf GELU after
    Tensor noBias = Linear.linear(x, w, null);                             // a plain GEMM: not routed
    assertEquals(before + 1, asked(), "only the biased linear asks");
    GpuCheck.close("exact GELU", exact.to(Device.CPU).to(DType.F64), Linear.linear(o[0], o[1], o[2]).gelu(), 1e-5);
    GpuCheck.close("no bias", noBias.to(Device.CPU).to(DType.F64), Linear.linear(o[0], o[1], null), 1e-5);
  }
}
