// Shapes: awkward on purpose: H = 111, L = 37 / 100 (not powers of two), transposed / sliced / flipped views,
// broadcast operands (111, 1, 37) x (1, 5, 37), matmul (7, 33, 65) x (65, 17) and batch-broadcast (2, 1, 5, 6) x (3, 6, 4).
package ai.longconv4j.cuda;

import static ai.longconv4j.cuda.GpuCheck.close;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every tensor op on the GPU against the CPU path, forward and gradient, on fresh random inputs.
 * Tolerances (relative L2 error over the whole output):
 * F64: 1e-12 (both sides compute in double; only summation order and libm-vs-CUDA ulps differ).
 * F32: 1e-5 where the math allows (elementwise: a few ulps of the CUDA float functions vs Java's double-then-round;
 * reductions accumulate in double on the GPU; matmul: cuBLAS fp32 sums K terms in another order, error ~ sqrt(K) eps).
 */
@Tag("gpu")
class TensorBackendGpuTest {
  static final double F64_TOL = 1e-12, F32_TOL = 1e-5;

  static double tol(DType t) { return t == DType.F64 ? F64_TOL : F32_TOL; }

  /** Runs f on CPU inputs and on GPU copies, compares outputs and the gradients of a random projection. */
  static void compare(String what, DType t, List<Tensor> inputs, java.util.function.Function<List<Tensor>, Tensor> f, double tol) {
    Device dev = GpuCheck.device();
    var cpuIn = inputs.stream().map(x -> x.detach().requiresGrad(true)).toList();
    var gpuIn = inputs.stream().map(x -> x.detach().to(dev).requiresGrad(true)).toList();
    Tensor yc = f.apply(cpuIn), yg = f.apply(gpuIn);
    assertEquals(dev, yg.device(), what + ": result device");
    close(what + " forward", yg, yc, tol);
    Tensor w = Tensor.randn(Rng.seeded(99), t, yc.shape());
    yc.mul(w).sum().backward();
    yg.mul(w.to(dev)).sum().backward();
    for (int i = 0; i < inputs.size(); i++)
      if (cpuIn.get(i).grad() != null) close(what + " grad " + i, gpuIn.get(i).grad(), cpuIn.get(i).grad(), tol);
  }

  static Tensor randn(long seed, DType t, int... shape) { return Tensor.randn(Rng.seeded(seed), t, shape); }

  static Tensor positive(long seed, DType t, int... shape) { return Tensor.rand(Rng.seeded(seed), t, shape).add(0.1); }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "F64"})
  void unaryFunctionsAndTheirGradients(DType t) {
    record U(String name, UnaryOperator<Tensor> f, boolean positive) {}
    var fns = List.of(new U("neg", Tensor::neg, false), new U("exp", Tensor::exp, false), new U("log", Tensor::log, true),
        new U("tanh", Tensor::tanh, false), new U("sigmoid", Tensor::sigmoid, false), new U("relu", Tensor::relu, false),
        new U("gelu", Tensor::gelu, false), new U("geluTanh", Tensor::geluTanh, false), new U("sqrt", Tensor::sqrt, true),
        new U("abs", Tensor::abs, false), new U("sign", Tensor::sign, false), new U("pow3", x -> x.pow(3), false),
        new U("pow0.5", x -> x.pow(0.5), true), new U("maximum", x -> x.maximum(0.3), false),
        new U("add", x -> x.add(1.25), false), new U("mul", x -> x.mul(-0.37), false));
    for (U u : fns) {
      Tensor x = (u.positive() ? positive(1, t, 111, 37) : randn(1, t, 111, 37));
      compare(u.name(), t, List.of(x), in -> u.f().apply(in.get(0)), tol(t));
      // a non-contiguous view as input (transposed, then sliced)
      compare(u.name() + " view", t, List.of(x), in -> u.f().apply(in.get(0).transpose(0, 1).slice(1, 3, 100)), tol(t));
    }
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "F64"})
  void broadcastingArithmeticAndWhere(DType t) {
    Tensor a = randn(2, t, 111, 1, 37), b = randn(3, t, 1, 5, 37), pos = positive(4, t, 1, 5, 37);
    compare("add", t, List.of(a, b), in -> in.get(0).add(in.get(1)), tol(t));
    compare("sub", t, List.of(a, b), in -> in.get(0).sub(in.get(1)), tol(t));
    compare("mul", t, List.of(a, b), in -> in.get(0).mul(in.get(1)), tol(t));
    compare("div", t, List.of(a, pos), in -> in.get(0).div(in.get(1)), tol(t));
    compare("mul transposed", t, List.of(randn(5, t, 37, 111), randn(6, t, 111, 37)),
        in -> in.get(0).transpose(0, 1).mul(in.get(1)), tol(t));
    Tensor mask = randn(7, t, 111, 5, 1).sign().relu();
    compare("where", t, List.of(a, b), in -> Tensor.where(mask.to(in.get(0).device()), in.get(0), in.get(1)), tol(t));
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "F64"})
  void reductionsSoftmaxAndCrossEntropy(DType t) {
    Tensor x = randn(8, t, 3, 111, 37);
    for (int axis = 0; axis < 3; axis++) {
      int ax = axis;
      compare("sum axis " + ax, t, List.of(x), in -> in.get(0).sum(ax, ax == 1), tol(t));
      compare("max axis " + ax, t, List.of(x), in -> in.get(0).max(ax, false), tol(t));
      compare("mean axis " + ax, t, List.of(x), in -> in.get(0).mean(ax, true), tol(t));
    }
    compare("sum all", t, List.of(x), in -> in.get(0).sum(), tol(t));
    compare("sum all 2^20", t, List.of(randn(9, t, 1 << 20)), in -> in.get(0).sum(), tol(t));
    compare("sum long rows", t, List.of(randn(10, t, 6, 5000)), in -> in.get(0).sum(1, false), tol(t));
    compare("max long rows", t, List.of(randn(11, t, 6, 5000)), in -> in.get(0).max(1, true), tol(t));
    compare("softmax", t, List.of(x), in -> in.get(0).softmax(1), tol(t));
    compare("logSoftmax", t, List.of(x), in -> in.get(0).logSoftmax(-1), tol(t));
    int[] targets = new int[50];
    RandomGenerator r = Rng.seeded(12);
    for (int i = 0; i < targets.length; i++) targets[i] = i % 7 == 0 ? -100 : r.nextInt(111);
    compare("crossEntropy", t, List.of(randn(13, t, 50, 111)), in -> in.get(0).crossEntropy(targets, -100), tol(t));
    Device dev = GpuCheck.device();
    Tensor big = randn(14, t, 6, 5000);
    assertEquals(java.util.Arrays.toString(big.argmax(1, false).toDoubleArray()),
        java.util.Arrays.toString(big.to(dev).argmax(1, false).toDoubleArray()), "argmax long rows");
    assertEquals(java.util.Arrays.toString(x.argmax(0, true).toDoubleArray()),
        java.util.Arrays.toString(x.to(dev).argmax(0, true).toDoubleArray()), "argmax axis 0");
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "F64"})
  void matmulBatchedBroadcastAndTransposed(DType t) {
    // F32: cuBLAS sums K <= 65 products in its own order; ~sqrt(K) eps relative, far under 1e-5
    compare("matmul 2-d weight", t, List.of(randn(15, t, 7, 33, 65), randn(16, t, 65, 17)),
        in -> in.get(0).matmul(in.get(1)), tol(t));
    compare("matmul transposed", t, List.of(randn(17, t, 65, 33), randn(18, t, 17, 65)),
        in -> in.get(0).transpose(0, 1).matmul(in.get(1).transpose(0, 1)), tol(t));
    compare("matmul batch broadcast", t, List.of(randn(19, t, 2, 1, 5, 6), randn(20, t, 3, 6, 4)),
        in -> in.get(0).matmul(in.get(1)), tol(t));
    compare("matmul vector", t, List.of(randn(21, t, 9, 13), randn(22, t, 13)), in -> in.get(0).matmul(in.get(1)), tol(t));
    compare("matmul sliced batch", t, List.of(randn(23, t, 4, 10, 8), randn(24, t, 4, 8, 3)),
        in -> in.get(0).slice(0, 1, 4).slice(1, 2, 9).matmul(in.get(1).slice(0, 0, 3)), tol(t));
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "F64"})
  void copiesConcatPadFlipEmbeddingDropout(DType t) {
    Tensor a = randn(25, t, 3, 111, 37), b = randn(26, t, 3, 5, 37);
    compare("concat", t, List.of(a, b), in -> Tensor.concat(1, in.get(0), in.get(1)), tol(t));
    compare("pad", t, List.of(a), in -> in.get(0).pad(2, 3, 4), tol(t));
    compare("flip", t, List.of(a), in -> in.get(0).flip(1), tol(t));
    compare("permute contiguous", t, List.of(a), in -> in.get(0).permute(2, 0, 1).contiguous(), tol(t));
    compare("to other dtype and back", t, List.of(a), in -> in.get(0).to(t == DType.F32 ? DType.F64 : DType.F32).to(t), tol(t));
    int[] ids = {3, 0, 110, 3, 57, 3, 1};
    compare("embedding", t, List.of(randn(27, t, 111, 37)), in -> Tensor.embedding(in.get(0), ids, 7), tol(t));
    // the GPU draws the mask from one nextLong() of the generator (DropoutMasks); the CPU side applies the Java twin's mask
    Tensor twin = Tensor.fromStorage(ai.longconv4j.backend.DropoutMasks.mask(t, a.numel(), Rng.seeded(5).nextLong(), 0.3, 1 / 0.7),
        a.shape());
    compare("dropout", t, List.of(a), in -> in.get(0).device().isCpu() ? in.get(0).mul(twin) : in.get(0).dropout(0.3,
        Rng.seeded(5), true), tol(t));
    Device dev = GpuCheck.device();
    Tensor dst = Tensor.zeros(DType.F32, 4, 6).to(dev);
    try (var g = Tensor.noGrad()) {
      dst.slice(1, 1, 4).copyFrom(Tensor.of(new float[] {1, 2, 3}, 3));
    }
    assertEquals("[0.0, 1.0, 2.0, 3.0, 0.0, 0.0]", java.util.Arrays.toString(java.util.Arrays.copyOf(dst.toDoubleArray(), 6)));
    assertEquals(3.0, dst.get(3, 3), 0);
  }

  /**
   * Session 20: dense same-type copies go through cuMemcpyDtoDAsync (counted), bit for bit what the ew_copy kernel (the
   * twin, -Dlongconv4j.cuda.copy.memcpy=false) writes, also between slices at offsets (the rest of the destination kept);
   * strided, broadcast and converting copies still take the kernel, exact against the CPU (a copy does no arithmetic: tolerance 0).
   */
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "F64", "BF16", "F16"})
  void denseCopiesTakeTheCopyEngineBitForBit(DType t) {
    Device dev = GpuCheck.device();
    Tensor x = randn(30, DType.F32, 3, 111, 37).to(dev).to(t);
    java.util.function.Function<int[], Tensor> zeros = sh -> Tensor.zeros(DType.F32, sh).to(dev).to(t);
    double[] want = x.toDoubleArray();
    String old = System.getProperty("longconv4j.cuda.copy.memcpy");
    try (var g = Tensor.noGrad()) {
      long before = CopyEngine.COPIES.get();
      Tensor a = zeros.apply(new int[] {3, 111, 37}).copyFrom(x);                      // dense: the copy engine
      Tensor part = zeros.apply(new int[] {3, 111, 37});
      part.slice(0, 1, 3).copyFrom(x.slice(0, 0, 2));                                   // dense slices at offsets
      assertEquals(before + 2, CopyEngine.COPIES.get(), "dense copies counted " + t);
      System.setProperty("longconv4j.cuda.copy.memcpy", "false");
      Tensor b = zeros.apply(new int[] {3, 111, 37}).copyFrom(x);                      // the twin: ew_copy
      assertEquals(before + 2, CopyEngine.COPIES.get(), "the twin takes the kernel " + t);
      System.clearProperty("longconv4j.cuda.copy.memcpy");
      assertTrue(java.util.Arrays.equals(want, a.toDoubleArray()), "memcpy copy " + t);
      assertTrue(java.util.Arrays.equals(want, b.toDoubleArray()), "ew_copy copy " + t);
      double[] p = part.toDoubleArray();
      int plane = 111 * 37;
      for (int i = 0; i < p.length; i++)
        assertEquals(i < plane ? 0.0 : want[i - plane], p[i], 0.0, "sliced copy at " + i + " " + t);
      long mid = CopyEngine.COPIES.get();
      Tensor tr = zeros.apply(new int[] {37, 3, 111}).copyFrom(x.permute(2, 0, 1));     // strided source: the kernel
      Tensor bc = zeros.apply(new int[] {3, 111, 37}).copyFrom(x.slice(0, 0, 1));       // broadcast source: the kernel
      DType other = t == DType.F64 ? DType.F32 : DType.F64;
      Tensor cv = Tensor.zeros(other, 3, 111, 37).to(dev).copyFrom(x);                  // converting: the kernel
      assertEquals(mid, CopyEngine.COPIES.get(), "strided, broadcast and converting copies take the kernel " + t);
      Tensor xc = Tensor.of(want, 3, 111, 37);   // the values as float64 on the CPU
      close("strided copy " + t, tr.to(DType.F64), xc.permute(2, 0, 1).contiguous(), 0);
      close("broadcast copy " + t, bc.to(DType.F64), Tensor.zeros(DType.F64, 3, 111, 37).copyFrom(xc.slice(0, 0, 1)), 0);
      double[] conv = want.clone();   // F64 -> F32 rounds once; every other source converts to F64 exactly
      if (other == DType.F32) for (int i = 0; i < conv.length; i++) conv[i] = (float) conv[i];
      assertTrue(java.util.Arrays.equals(conv, cv.toDoubleArray()), "converting copy " + t + " -> " + other);
    } finally {
      if (old == null) System.clearProperty("longconv4j.cuda.copy.memcpy"); else System.setProperty("longconv4j.cuda.copy.memcpy", old);
    }
  }

  /** 16-bit storage: values round like the host's conversion; ops compute in fp32 and round once on store. */
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"BF16", "F16"})
  void sixteenBitStorage(DType t) {
    Device dev = GpuCheck.device();
    Tensor x = randn(28, DType.F32, 111, 37), y = randn(29, DType.F32, 37, 19);
    Tensor xh = x.to(dev).to(t);
    float[] back = xh.toFloatArray();
    float[] xf = x.toFloatArray();
    ElementType et = t == DType.BF16 ? ElementType.BF16 : ElementType.F16;
    for (int i = 0; i < xf.length; i++) {
      short bits = t == DType.BF16 ? HalfFloats.toBf16(xf[i]) : HalfFloats.toF16(xf[i]);
      assertEquals(HalfFloats.decode(new short[] {bits}, et)[0], back[i], 0, "round trip " + i);
    }
    // against the CPU on the rounded inputs: one 16-bit rounding of the result, 2^-8 (bf16) / 2^-11 (f16) relative,
    // and for matmul the fp32-accumulated tensor-core product of K = 37 terms: 1e-2 covers bf16 with margin
    double tol = 1e-2;
    Tensor xr = Tensor.of(back, 111, 37), yr = Tensor.of(xh.to(dev).toFloatArray(), 111, 37);
    close(t + " gelu", xh.gelu().to(DType.F32), xr.gelu(), tol);
    close(t + " mul", xh.mul(xh).to(DType.F32), xr.mul(yr), tol);
    close(t + " sum", xh.sum(1, false).to(DType.F32), xr.sum(1, false), tol);
    Tensor yh = y.to(dev).to(t);
    Tensor yb = Tensor.of(yh.toFloatArray(), 37, 19);
    close(t + " matmul", xh.matmul(yh).to(DType.F32), xr.matmul(yb), tol);
  }

  /** The fused AdamW kernel against the CPU's composed AdamW: 3 steps with weight decay, F32 and F64. */
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "F64"})
  void fusedAdamWMatchesTheComposedCpuStep(DType t) {
    Device dev = GpuCheck.device();
    var pc = ai.longconv4j.nn.Parameter.of("w", randn(40, t, 111, 37));
    var pg = ai.longconv4j.nn.Parameter.of("w", randn(40, t, 111, 37).to(dev));
    var oc = new ai.longconv4j.optim.AdamW(new ai.longconv4j.optim.ParamGroup("all", List.of(pc), 1e-2, 0.1));
    var og = new ai.longconv4j.optim.AdamW(new ai.longconv4j.optim.ParamGroup("all", List.of(pg), 1e-2, 0.1));
    for (int s = 0; s < 3; s++) {
      Tensor w = randn(41 + s, t, 111, 37);
      oc.zeroGrad();
      og.zeroGrad();
      pc.value().mul(w).sum().backward();
      pg.value().mul(w.to(dev)).sum().backward();
      oc.step();
      og.step();
    }
    // F32: the fused kernel rounds once per output where the composed ops round after each op: a few ulps per step
    close("adamw", pg.value(), pc.value(), t == DType.F64 ? 1e-12 : 1e-6);
  }

  @Test
  void mixedDevicesNameTheOpAndBothDevices() {
    Device dev = GpuCheck.device();
    Tensor a = randn(30, DType.F32, 4, 5), b = randn(31, DType.F32, 4, 5).to(dev);
    var e = assertThrows(IllegalArgumentException.class, () -> a.add(b));
    assertTrue(e.getMessage().contains("add") && e.getMessage().contains("cpu") && e.getMessage().contains("cuda:0"), e.getMessage());
    var m = assertThrows(IllegalArgumentException.class, () -> b.matmul(a.transpose(0, 1)));
    assertTrue(m.getMessage().contains("matmul"), m.getMessage());
  }

  @Test
  void gradientFlowsBackToTheCpu() {
    Device dev = GpuCheck.device();
    Tensor x = randn(32, DType.F64, 8, 64).requiresGrad(true);
    x.to(dev).tanh().sum().backward();
    assertEquals(Device.CPU, x.grad().device());
    Tensor expect = x.detach().tanh();
    double[] g = x.grad().toDoubleArray(), t = expect.toDoubleArray();
    for (int i = 0; i < g.length; i++) assertEquals(1 - t[i] * t[i], g[i], 1e-14);
  }

  @Test
  void outOfMemoryNamesTheBytesAndTheContextStaysUsable() {
    Device dev = GpuCheck.device();
    CudaBackend be = (CudaBackend) GpuCheck.backend();
    long huge = 1L << 50;
    var e = assertThrows(CudaOutOfMemoryException.class, () -> CudaBackend.alloc(be.gpu(dev).dev, huge));
    assertEquals(huge, e.requestedBytes());
    assertTrue(e.getMessage().contains(Long.toString(huge)), e.getMessage());
    assertEquals(6.0, Tensor.of(new float[] {1, 2, 3}, 3).to(dev).sum().item(), 0);
  }
}
