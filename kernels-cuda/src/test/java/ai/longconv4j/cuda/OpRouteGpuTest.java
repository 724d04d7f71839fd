// Shapes: B batch, H features, L length, Lk taps per side. u (B, H, L) bf16, k (H, Lk) (bidirectional (H, 2, Lk)) fp32,
//   D (1, H) fp32 -> y (B, H, L) bf16; w (B, H, L) bf16 weights of the loss sum(y * w).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.conv.ConvOps;
import ai.longconv4j.conv.LongConv;
import ai.longconv4j.conv.LongConvKernel;
import ai.longconv4j.backend.StorageScope;
import ai.longconv4j.nn.Parameter;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Session 17 (helper opfix): {@code ConvOps.conv} on 16-bit GPU tensors goes straight to the device op (FlashButterfly's
 * fused {@link CudaFlashLongConv#applyD}) without building the plan's CPU engine; {@code
 * -Dlongconv4j.conv.device.hostconvolver=true} builds it first (the slow twin, the route before session 17). Both run the
 * same device computation: y and du bit for bit; dk and dD up to the fp32 accumulation order of the fused backward's
 * atomic adds (FlashOpGpuTest measured 1e-5 relative between two runs of one op), so 1e-5. And the route's y and gradients
 * against lib's CPU op in F64 on the same rounded inputs: 1e-2 (FlashOpGpuTest's argument: ~10 bf16 rounding stages,
 * 7.3e-3 rms). Cases: one-pass sizes (4K causal, 1000 bidirectional) and a three-pass size (64K causal).
 */
@Tag("gpu")
class OpRouteGpuTest {

  @ParameterizedTest(name = "{0} B={1} H={2} L={3} Lk={4}")
  @CsvSource({
      "CAUSAL, 2, 24, 4096, 4096",
      "BIDIRECTIONAL, 3, 17, 1000, 400",
      "CAUSAL, 1, 6, 65536, 65536"})   // three passes (N = 128K)
  void theDeviceRouteGivesTheTwinsBitsAndTheF64Result(ConvMode mode, int b, int h, int l, int lk) {
    Device dev = GpuCheck.device();
    int[] kShape = mode.sides() == 2 ? new int[] {h, 2, lk} : new int[] {h, lk};
    Tensor u = FlashOpGpuTest.randn(71, b, h, l).to(dev).to(DType.BF16), k = FlashOpGpuTest.randn(72, kShape).mul(1 / Math.sqrt(lk)).to(dev),
        d = FlashOpGpuTest.randn(73, 1, h).to(dev), w = FlashOpGpuTest.randn(74, b, h, l).to(dev).to(DType.BF16);
    List<Tensor> route = run(mode, u, k, d, w, false), twin = run(mode, u, k, d, w, true);
    String what = mode + " B=" + b + " H=" + h + " L=" + l + " Lk=" + lk;
    assertArrayEquals(twin.get(0).toFloatArray(), route.get(0).toFloatArray(), 0f, what + ": y differs from the twin's");
    assertArrayEquals(twin.get(1).toFloatArray(), route.get(1).toFloatArray(), 0f, what + ": du differs from the twin's");
    for (int i = 2; i < 4; i++) FlashOpGpuTest.close(what + " " + FlashOpGpuTest.NAMES[i] + " vs twin", route.get(i), twin.get(i), 1e-5);
    // against lib's CPU op in F64 on the same rounded inputs
    List<Tensor> cIn = new ArrayList<>();
    for (Tensor x : new Tensor[] {u, k, d}) cIn.add(Tensor.of(x.toFloatArray(), x.shape()).to(DType.F64).requiresGrad(true));
    Tensor yc = ConvOps.conv(cIn.get(0), cIn.get(1), cIn.get(2), mode, ConvEngine.FFT);
    yc.mul(Tensor.of(w.toFloatArray(), w.shape()).to(DType.F64)).sum().backward();
    FlashOpGpuTest.close(what + " y vs F64", route.get(0), yc, 1e-2);
    for (int i = 0; i < 3; i++) FlashOpGpuTest.close(what + " " + FlashOpGpuTest.NAMES[i + 1] + " vs F64", route.get(i + 1), cIn.get(i).grad(), 1e-2);
  }

  /**
   * Item 4 of session 17: the fused op keeps the spectrum it set on the shared plan while k and D are the same unwritten
   * tensors ({@link CudaFlashLongConv#keepSpectrum}). The kept forward gives the bits of a recomputed one
   * ({@code -Dlongconv4j.cuda.fbop.keep=false}, the twin; the same spectrum kernel on the same taps); an in-place write
   * to k ({@code copyFrom}, counted by StorageWrites) drops it: y then is the recomputed y of the new taps, bit for bit;
   * another op's set on the plan between a kept forward and its backward makes the backward build and set the taps
   * again: its gradients equal the same op run alone (dk, dD up to the fused backward's atomic-add order, 1e-5; du bits).
   */
  @org.junit.jupiter.api.Test
  void theKeptSpectrumFollowsInPlaceWritesAndOtherOps() {
    Device dev = GpuCheck.device();
    int b = 2, h = 24, l = 4096;
    Tensor u = FlashOpGpuTest.randn(81, b, h, l).to(dev).to(DType.BF16), w = FlashOpGpuTest.randn(84, b, h, l).to(dev).to(DType.BF16);
    Tensor k = FlashOpGpuTest.randn(82, h, l).mul(1 / Math.sqrt(l)).to(dev), d = FlashOpGpuTest.randn(83, 1, h).to(dev);
    Tensor k2 = FlashOpGpuTest.randn(92, h, l).mul(1 / Math.sqrt(l)).to(dev), k3 = FlashOpGpuTest.randn(93, h, l).mul(1 / Math.sqrt(l)).to(dev);
    float[] twin = forward(u, k, d, false), first = forward(u, k, d, true), kept = forward(u, k, d, true);
    assertArrayEquals(twin, first, 0f, "first call (spectrum set) vs the twin");
    assertArrayEquals(twin, kept, 0f, "second call (spectrum kept) vs the twin");
    try (var ng = Tensor.noGrad()) { k.copyFrom(k2); }   // in place: same storage, new taps
    float[] after = forward(u, k, d, true), twin2 = forward(u, k, d, false);
    assertArrayEquals(twin2, after, 0f, "after k.copyFrom: y must be the new taps' (a stale spectrum would give the old y)");
    assertTrue(!java.util.Arrays.equals(twin, after), "the new taps change y");
    // a kept forward, then another op sets the plan's weights, then the first op's backward
    forward(u, k, d, true);                                                  // the plan holds k's spectrum
    List<Tensor> alone = run(ConvMode.CAUSAL, u, k, d, w, true);
    forward(u, k, d, true);
    Tensor ug = u.detach().requiresGrad(true), kg = k.detach().requiresGrad(true), dg = d.detach().requiresGrad(true);
    Tensor y = ConvOps.conv(ug, kg, dg, ConvMode.CAUSAL, ConvEngine.AUTO);   // kg shares k's storage: the kept spectrum
    forward(u, k3, d, true);                                                 // another op's set on the shared plan
    y.to(DType.F32).mul(w.to(DType.F32)).sum().backward();
    assertArrayEquals(alone.get(0).toFloatArray(), y.toFloatArray(), 0f, "y");
    assertArrayEquals(alone.get(1).toFloatArray(), ug.grad().toFloatArray(), 0f, "du");
    FlashOpGpuTest.close("dk", kg.grad(), alone.get(2), 1e-5);
    FlashOpGpuTest.close("dD", dg.grad(), alone.get(3), 1e-5);
  }

  /** y of the fused op without gradients, the kept spectrum on or off. */
  static float[] forward(Tensor u, Tensor k, Tensor d, boolean keep) {
    String prop = "longconv4j.cuda.fbop.keep";
    if (!keep) System.setProperty(prop, "false");
    try (var ng = Tensor.noGrad()) {
      return ConvOps.conv(u, k, d, ConvMode.CAUSAL, ConvEngine.AUTO).toFloatArray();
    } finally {
      System.clearProperty(prop);
    }
  }

  /** y, du, dk, dD of sum(y * w) through ConvOps.conv (engine AUTO, as LongConv.apply), the twin switch on or off. */
  static List<Tensor> run(ConvMode mode, Tensor u, Tensor k, Tensor d, Tensor w, boolean twin) {
    String prop = "longconv4j.conv.device.hostconvolver";
    if (twin) System.setProperty(prop, "true");
    try {
      Tensor ug = u.detach().requiresGrad(true), kg = k.detach().requiresGrad(true), dg = d.detach().requiresGrad(true);
      Tensor y = ConvOps.conv(ug, kg, dg, mode, ConvEngine.AUTO);
      assertTrue(y.gradFn().contains("FlashButterfly+D"), "the fused FlashButterfly op expected, got " + y.gradFn());
      y.to(DType.F32).mul(w.to(DType.F32)).sum().backward();
      return new ArrayList<>(List.of(y, ug.grad(), kg.grad(), dg.grad()));
    } finally {
      System.clearProperty(prop);
    }
  }

  // ---- session 18 (helper layer): the LongConv layer's kept kernel (LongConvKernel.kernel, -Dlongconv4j.conv.kernel.keep)

  /**
   * The layer computes its kernel k = Squash(Smooth(K)) once per value of K and keeps it: a second call computes nothing
   * ({@link LongConvKernel#computations}) and gives the bits of the twin (k recomputed, {@code keep=false}); a new value
   * object (what an optimizer step does: {@code Parameter.assign}) and an in-place write ({@code copyFrom}, counted by
   * StorageWrites) each make the next call compute k again, whose y is then the twin's of the new K, bit for bit; under an
   * open StorageScope a changed K is computed but not kept (the scope may release it); with kernel dropout in training
   * every call computes (a new mask), in evaluation mode it keeps.
   */
  @org.junit.jupiter.api.Test
  void theLayerKeepsItsKernelUntilItsParameterChanges() {
    Device dev = GpuCheck.device();
    int b = 2, h = 16, l = 4096;
    LongConv layer = layer(ConvMode.CAUSAL, h, l, 1, 1, 0.0, 61).to(dev, DType.BF16);
    Tensor u = FlashOpGpuTest.randn(62, b, h, l).to(dev).to(DType.BF16);
    LongConvKernel kern = layer.kernel();
    Parameter kp = kern.parameter();
    long c = kern.computations();
    float[] y1 = forward(layer, u, true), y2 = forward(layer, u, true);
    assertEquals(c + 1, kern.computations(), "the second call keeps k");
    assertArrayEquals(forward(layer, u, false), y1, 0f, "kept y vs the twin's");
    assertArrayEquals(y1, y2, 0f, "the kept call's y");
    assertEquals(c + 2, kern.computations(), "the twin computes k at its call");
    kp.assign(kp.value().mul(-1.5));                                    // an optimizer step's new value
    float[] y3 = forward(layer, u, true);
    assertEquals(c + 3, kern.computations(), "a new K value: k computed again");
    assertArrayEquals(forward(layer, u, false), y3, 0f, "after assign: the new K's y");
    assertFalse(java.util.Arrays.equals(y1, y3), "the new K changes y");
    try (var ng = Tensor.noGrad()) { kp.value().copyFrom(FlashOpGpuTest.randn(63, 1, h, l).mul(0.05)); }   // in place
    float[] y4 = forward(layer, u, true);
    assertEquals(c + 5, kern.computations(), "an in-place write: k computed again");
    assertArrayEquals(forward(layer, u, false), y4, 0f, "after copyFrom: the new taps' y (a stale k would give the old y)");
    assertFalse(java.util.Arrays.equals(y3, y4), "the new taps change y");
    forward(layer, u, true);
    assertEquals(c + 6, kern.computations(), "kept again");
    kp.assign(kp.value().mul(2));
    try (var scope = StorageScope.open()) {
      forward(layer, u, true);
      forward(layer, u, true);
    }
    assertEquals(c + 8, kern.computations(), "under an open StorageScope a changed K is computed at each call, not kept");
    forward(layer, u, true);
    forward(layer, u, true);
    assertEquals(c + 9, kern.computations(), "kept after the scope");
    LongConv drop = layer(ConvMode.CAUSAL, h, l, 1, 1, 0.2, 64).to(dev, DType.BF16);
    long cd = drop.kernel().computations();
    forward(drop, u, true);
    forward(drop, u, true);
    assertEquals(cd + 2, drop.kernel().computations(), "kernel dropout in training: a new k at every call");
    drop.eval();
    forward(drop, u, true);
    forward(drop, u, true);
    assertEquals(cd + 3, drop.kernel().computations(), "evaluation mode: kept");
  }

  /**
   * The layer's y and gradients with the kept kernel (default; the measured call is a second call, so it runs on the kept
   * k and, with one kernel channel, the kept spectrum) against the twin ({@code -Dlongconv4j.conv.kernel.keep=false}: k and
   * its spectrum recomputed): y, du and the Linear's gradients bit for bit (the same device computations on the same
   * values); K's and D's gradients to 1e-5 relative (the fused backward's fp32 atomic adds in another order, as above;
   * smooth = 3: 1e-2, the kept rule sums the pool's three bf16 terms before the 1/3 scale, the composed ops after it: a few
   * bf16 roundings of 2^-9). And against the same layer in F64 on the CPU (parameters and u the GPU's bf16 values): the op's
   * 1e-2 (FlashOpGpuTest) plus the layer's own bf16 roundings (GELU, the Linear's output, GLU; twice that in the backward,
   * each 2^-9 relative): 5e-2 (a stale k or a lost gradient is off by O(1)). Cases: one pass, bidirectional, circular,
   * three passes (64K), smooth 3, and C = 2 kernel channels (the composed op: k kept, the spectrum not).
   */
  @ParameterizedTest(name = "{0} L={1} smooth={2} C={3}")
  @CsvSource({
      "CAUSAL, 4096, 1, 1",
      "BIDIRECTIONAL, 1000, 1, 1",
      "CIRCULAR, 2048, 1, 1",
      "CAUSAL, 65536, 1, 1",
      "CAUSAL, 4096, 3, 1",
      "CAUSAL, 4096, 1, 2"})
  void theLayersGradientsWithTheKeptKernelAreTheTwins(ConvMode mode, int l, int smooth, int channels) {
    Device dev = GpuCheck.device();
    int b = 2, h = 12;
    LongConv layer = layer(mode, h, l, channels, smooth, 0.0, 65).to(dev, DType.BF16);
    Tensor u = FlashOpGpuTest.randn(66, b, h, l).to(dev).to(DType.BF16), w = FlashOpGpuTest.randn(67, b, h, l).to(dev).to(DType.BF16);
    forward(layer, u, true);                                             // k kept before the measured call
    long c = layer.kernel().computations();
    Map<String, Tensor> kept = grads(layer, u, w, true);
    assertEquals(c, layer.kernel().computations(), "the measured call ran on the kept k");
    Map<String, Tensor> twin = grads(layer, u, w, false);
    String what = mode + " L=" + l + " smooth=" + smooth + " C=" + channels;
    for (var e : kept.entrySet()) {
      String name = e.getKey();
      boolean atomics = name.equals("kernel.k") || name.equals("D");
      double tol = !atomics ? 0 : name.equals("kernel.k") && smooth > 1 ? 1e-2 : 1e-5;
      if (tol == 0) assertArrayEquals(twin.get(name).toFloatArray(), e.getValue().toFloatArray(), 0f, what + ": " + name + " vs the twin's");
      else FlashOpGpuTest.close(what + ": " + name + " vs the twin's", e.getValue(), twin.get(name), tol);
    }
    // the same layer in F64 on the CPU
    LongConv cpu = LongConv.builder().features(h).length(l).channels(channels).smooth(smooth).kernelDropout(0).mode(mode)
        .dtype(DType.F64).build();
    try (var ng = Tensor.noGrad()) {
      for (var e : layer.namedParameters().entrySet()) {
        Tensor v = e.getValue().value();
        cpu.namedParameters().get(e.getKey()).assign(Tensor.of(v.toFloatArray(), v.shape()).to(DType.F64));
      }
    }
    Map<String, Tensor> ref = grads(cpu, Tensor.of(u.toFloatArray(), u.shape()).to(DType.F64), Tensor.of(w.toFloatArray(), w.shape()).to(DType.F64), true);
    for (var e : kept.entrySet()) {
      // smooth > 1: Squash's mask [|Smooth(K)| > lambda] is taken on the bf16-rounded pool (both routes alike), so the taps
      // within 2^-9 of lambda flip against F64; K's gradient is sparse (|Smooth(K)| ~ N(0, 0.0012) against lambda = 0.003:
      // ~1 % of the taps live), so a few dozen flips are ~0.2 of its norm (sitting s1: 0.19). The kept-vs-twin comparison
      // above (the same bf16 mask) covers that gradient; at w = 1 the mask is taken on K itself, exact in both.
      if (smooth > 1 && e.getKey().equals("kernel.k")) continue;
      FlashOpGpuTest.close(what + ": " + e.getKey() + " vs F64", e.getValue(), ref.get(e.getKey()), 5e-2);
    }
  }

  /** A causal / bidirectional / circular layer of H features, L taps, C channels, Smooth width, kernel dropout; F32 on the CPU. */
  static LongConv layer(ConvMode mode, int h, int l, int channels, int smooth, double kernelDropout, long seed) {
    return LongConv.builder().features(h).length(l).channels(channels).smooth(smooth).kernelDropout(kernelDropout).mode(mode)
        .seed(seed).build();
  }

  /** The layer's y (no gradients), the kept kernel on or off. */
  static float[] forward(LongConv layer, Tensor u, boolean keep) {
    if (!keep) System.setProperty(LongConvKernel.KEEP, "false");
    try (var ng = Tensor.noGrad()) {
      return layer.forward(u).toFloatArray();
    } finally {
      System.clearProperty(LongConvKernel.KEEP);
    }
  }

  /** y, du and every parameter's gradient of sum(y * w) (F32 on a device), the kept kernel on or off. */
  static Map<String, Tensor> grads(LongConv layer, Tensor u, Tensor w, boolean keep) {
    if (!keep) System.setProperty(LongConvKernel.KEEP, "false");
    try {
      layer.zeroGrad();
      Tensor ug = u.detach().requiresGrad(true);
      Tensor y = layer.forward(ug);
      DType acc = u.device().isCpu() ? DType.F64 : DType.F32;
      y.to(acc).mul(w.to(acc)).sum().backward();
      Map<String, Tensor> out = new LinkedHashMap<>();
      out.put("y", y.detach());
      out.put("du", ug.grad());
      for (var e : layer.namedParameters().entrySet()) out.put(e.getKey(), e.getValue().grad());
      return out;
    } finally {
      System.clearProperty(LongConvKernel.KEEP);
    }
  }
}
