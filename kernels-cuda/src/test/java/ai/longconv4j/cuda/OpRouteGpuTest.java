// Shapes: B batch, H features, L length, Lk taps per side. u (B, H, L) bf16, k (H, Lk) (bidirectional (H, 2, Lk)) fp32,
//   D (1, H) fp32 -> y (B, H, L) bf16; w (B, H, L) bf16 weights of the loss sum(y * w).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.conv.ConvOps;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
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
}
