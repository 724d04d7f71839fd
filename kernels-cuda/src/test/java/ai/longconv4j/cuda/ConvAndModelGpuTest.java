// Shapes: B batch, C kernel channels, H features (111: odd on purpose), L length (100: not a power of two),
// Lk kernel taps (< L and = L). Model: LongConvLM, vocab V = 11, width 16, 2 layers, L = 32, B = 3.
package ai.longconv4j.cuda;

import static ai.longconv4j.cuda.GpuCheck.close;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.conv.ConvOps;
import ai.longconv4j.models.LongConvLM;
import ai.longconv4j.optim.AdamW;
import ai.longconv4j.optim.ParamGroups;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.List;
import java.util.function.Function;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The long convolution on the GPU (cuFFT core + tensor-op kernel placement and skip term) against the CPU engines in
 * every mode, its F64 gradients against central differences, and a 2-layer LongConvLM trained 5 AdamW steps on the
 * GPU against the same model on the CPU.
 */
@Tag("gpu")
class ConvAndModelGpuTest {

  static Tensor randn(long seed, DType t, int... shape) { return Tensor.randn(Rng.seeded(seed), t, shape); }

  @ParameterizedTest
  @EnumSource(ConvMode.class)
  void convMatchesTheCpuInEveryMode(ConvMode mode) {
    Device dev = GpuCheck.device();
    for (DType t : List.of(DType.F64, DType.F32)) {
      // F64: both sides are double FFTs (1e-11 for N = 200); F32: cuFFT fp32 vs JTransforms float, O(log N) eps
      double tol = t == DType.F64 ? 1e-11 : 1e-5;
      for (int lk : new int[] {37, 100}) {
        int sides = mode.sides();
        int[] kShape = sides == 2 ? new int[] {2, 111, 2, lk} : new int[] {2, 111, lk};
        Tensor u = randn(1, t, 3, 111, 100), k = randn(2, t, kShape).mul(0.1), d = randn(3, t, 2, 111);
        var cpuIn = List.of(u.detach().requiresGrad(true), k.detach().requiresGrad(true), d.detach().requiresGrad(true));
        var gpuIn = List.of(u.to(dev).requiresGrad(true), k.to(dev).requiresGrad(true), d.to(dev).requiresGrad(true));
        Function<List<Tensor>, Tensor> f = in -> ConvOps.conv(in.get(0), in.get(1), in.get(2), mode, ConvEngine.FFT);
        Tensor yc = f.apply(cpuIn), yg = f.apply(gpuIn);
        String what = mode + " " + t + " Lk=" + lk;
        close(what + " y", yg, yc, tol);
        Tensor w = randn(4, t, yc.shape());
        yc.mul(w).sum().backward();
        yg.mul(w.to(dev)).sum().backward();
        close(what + " du", gpuIn.get(0).grad(), cpuIn.get(0).grad(), tol);
        close(what + " dk", gpuIn.get(1).grad(), cpuIn.get(1).grad(), tol);
        close(what + " dD", gpuIn.get(2).grad(), cpuIn.get(2).grad(), tol);
      }
      // no channel axis: k (H, Lk) -> y (B, H, L)
      int[] kShape = mode.sides() == 2 ? new int[] {111, 2, 50} : new int[] {111, 50};
      Tensor u = randn(5, t, 2, 111, 100), k = randn(6, t, kShape);
      close(mode + " " + t + " no channel", ConvOps.conv(u.to(dev), k.to(dev), null, mode, ConvEngine.FFT),
          ConvOps.conv(u, k, null, mode, ConvEngine.FFT), tol);
    }
  }

  /**
   * BF16/F16 u, k, D: the FlashButterfly path (fused 16-bit kernels, one per kernel channel) against the CPU in F32 on
   * the same rounded inputs. Bound 1e-2 relative: the tensor-core DFT blocks and twiddles are 16-bit with fp32
   * accumulation (measured <= 6.1e-3 for bf16 in kernels-cuda/BENCH-RESULTS.md), y and du are rounded to 16 bits once
   * more (2^-9 for bf16); du, dk and dD come from the fused tensor-core backward (FlashButterflyConv.backward: the same
   * 16-bit DFT blocks, dk <= 5.9e-3 vs float64 in FlashButterflyBackwardGpuTest), dk then rounded to k's 16 bits.
   */
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"BF16", "F16"})
  void sixteenBitConvRunsFlashButterflyAndMatchesTheCpu(DType t) {
    Device dev = GpuCheck.device();
    CudaBackend be = (CudaBackend) GpuCheck.backend();
    for (ConvMode mode : ConvMode.values()) {
      int l = 128, lk = mode == ConvMode.CIRCULAR ? 128 : 64;
      int[] kShape = mode.sides() == 2 ? new int[] {2, 111, 2, lk} : new int[] {2, 111, lk};
      Tensor u16 = randn(21, DType.F32, 3, 111, l).to(dev).to(t), k16 = randn(22, DType.F32, kShape).mul(0.1).to(dev).to(t),
          d16 = randn(23, DType.F32, 2, 111).to(dev).to(t), w16 = randn(24, DType.F32, 3, 2, 111, l).to(dev).to(t);
      var gIn = List.of(u16.requiresGrad(true), k16.requiresGrad(true), d16.requiresGrad(true));
      int before = be.gpu(dev).flashPlans();
      Tensor yg = ConvOps.conv(gIn.get(0), gIn.get(1), gIn.get(2), mode, ConvEngine.FFT);
      assertEquals(t, yg.dtype());
      assertTrue(be.gpu(dev).flashPlans() > before || before > 0, "no FlashButterfly plan was made for " + mode);
      GpuCheck.convMatchesTheCpu(mode + " " + t, mode, gIn, yg, w16, DType.F32, 1e-2);
    }
  }

  /** A LongConvLM converted to BF16 on the GPU (FlashButterfly convs, bf16 GEMMs): its first loss is the F32 model's within 2e-2. */
  @Test
  void bf16LanguageModelRunsOnTheGpu() {
    Device dev = GpuCheck.device();
    int v = 11, b = 2, l = 64;
    LongConvLM f32 = LongConvLM.builder().vocab(v).width(32).layers(2).length(l).dtype(DType.F32).seed(5).build();
    LongConvLM bf = LongConvLM.builder().vocab(v).width(32).layers(2).length(l).dtype(DType.F32).seed(5).build();
    f32.to(dev);
    bf.to(dev, DType.BF16);
    assertEquals(DType.BF16, bf.parameters().get(0).value().dtype());
    int[] ids = new int[b * l], tg = new int[b * l];
    RandomGenerator r = Rng.seeded(6);
    for (int i = 0; i < ids.length; i++) { ids[i] = r.nextInt(v); tg[i] = r.nextInt(v); }
    var opt = new AdamW(ParamGroups.of(bf).lr(1e-2).build());
    double first = Double.NaN;
    for (int step = 0; step < 3; step++) {
      opt.zeroGrad();
      Tensor loss = bf.loss(ids, tg, b, l, -100);
      assertEquals(DType.BF16, loss.dtype());
      loss.backward();
      opt.step();
      double lv = loss.item();
      assertTrue(Double.isFinite(lv), "step " + step + " loss " + lv);
      if (step == 0) first = lv;
    }
    double ref = f32.loss(ids, tg, b, l, -100).item();
    // bf16 weights (rounded once from the same F32 init), bf16 activations through 2 blocks: ~1% on the loss
    assertEquals(ref, first, 2e-2 * ref, "bf16 loss " + first + " vs f32 " + ref);
  }

  /** Central differences on the GPU in F64 for a few coordinates of u, k and D; plus a negative control. */
  @Test
  void convGradientsMatchCentralDifferencesInF64() {
    Device dev = GpuCheck.device();
    Tensor u = randn(7, DType.F64, 2, 5, 30).to(dev), k = randn(8, DType.F64, 2, 5, 30).mul(0.3).to(dev),
        d = randn(9, DType.F64, 2, 5).to(dev), w = randn(10, DType.F64, 2, 2, 5, 30).to(dev);
    Tensor[] in = {u, k, d};
    Function<Tensor[], Double> loss = x -> ConvOps.conv(x[0], x[1], x[2], ConvMode.CAUSAL, ConvEngine.FFT).mul(w).sum().item();
    Tensor[] leaves = {u.detach().requiresGrad(true), k.detach().requiresGrad(true), d.detach().requiresGrad(true)};
    ConvOps.conv(leaves[0], leaves[1], leaves[2], ConvMode.CAUSAL, ConvEngine.FFT).mul(w).sum().backward();
    double[] e = centralDifferences(dev, in, leaves, loss, 11);
    double worst = e[0], worstWrong = e[1];
    // central differences in F64 with eps 1e-6: truncation ~eps^2 and rounding ~1e-16 / eps = 1e-10 relative
    assertTrue(worst < 1e-6, "worst relative gradient error " + worst);
    assertTrue(worstWrong > 1e-6, "a 1% wrong gradient passed the check (" + worstWrong + ")");
  }

  /**
   * Central differences on the GPU in F64 through many kernels at once: unary (gelu) and its gradient, matmul and its
   * two transposed products, broadcasting add, max/sum/exp/log of logSoftmax. Same bounds and control as above.
   */
  @Test
  void elementwiseMatmulSoftmaxGradientsMatchCentralDifferencesInF64() {
    Device dev = GpuCheck.device();
    Tensor x = randn(30, DType.F64, 9, 13).to(dev), wt = randn(31, DType.F64, 13, 17).to(dev), b = randn(32, DType.F64, 17).to(dev),
        w = randn(33, DType.F64, 9, 17).to(dev);
    Tensor[] in = {x, wt, b};
    Function<Tensor[], Tensor> f = t -> t[0].gelu().matmul(t[1]).add(t[2]).logSoftmax(-1).mul(w).sum();
    Tensor[] leaves = {x.detach().requiresGrad(true), wt.detach().requiresGrad(true), b.detach().requiresGrad(true)};
    f.apply(leaves).backward();
    double[] e = centralDifferences(dev, in, leaves, t -> f.apply(t).item(), 34);
    double worst = e[0], worstWrong = e[1];
    assertTrue(worst < 1e-6, "worst relative gradient error " + worst);
    assertTrue(worstWrong > 1e-6, "a 1% wrong gradient passed the check (" + worstWrong + ")");
  }

  /**
   * Central differences (eps 1e-6) of loss at 6 coordinates of each input in (drawn from Rng.seeded(seed)) against the
   * gradients of leaves (in's values, after backward): {the worst relative error, the smallest relative error of the
   * gradient taken 1% off (a coordinate with |analytic| < 1e-3 adds 1)}. Relative to max(1, |numeric|).
   */
  private static double[] centralDifferences(Device dev, Tensor[] in, Tensor[] leaves, Function<Tensor[], Double> loss,
      long seed) {
    RandomGenerator r = Rng.seeded(seed);
    double eps = 1e-6, worst = 0, worstWrong = Double.MAX_VALUE;
    for (int which = 0; which < 3; which++) {
      double[] base = in[which].toDoubleArray(), analytic = leaves[which].grad().toDoubleArray();
      for (int trial = 0; trial < 6; trial++) {
        int i = r.nextInt(base.length);
        double[] plus = base.clone(), minus = base.clone();
        plus[i] += eps;
        minus[i] -= eps;
        Tensor[] xp = in.clone(), xm = in.clone();
        xp[which] = Tensor.of(plus, in[which].shape()).to(dev);
        xm[which] = Tensor.of(minus, in[which].shape()).to(dev);
        double numeric = (loss.apply(xp) - loss.apply(xm)) / (2 * eps);
        double scale = Math.max(1, Math.abs(numeric));
        worst = Math.max(worst, Math.abs(numeric - analytic[i]) / scale);
        // negative control: a gradient 1% off must be told apart by the same bound
        worstWrong = Math.min(worstWrong, Math.abs(numeric - 1.01 * analytic[i]) / scale + (Math.abs(analytic[i]) < 1e-3 ? 1 : 0));
      }
    }
    return new double[] {worst, worstWrong};
  }

  /** Two identical models, one moved to the GPU, 5 AdamW steps each on the same batches: the same losses. */
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F64", "F32"})
  void smallLanguageModelTrainsLikeOnTheCpu(DType t) {
    Device dev = GpuCheck.device();
    int v = 11, b = 3, l = 32;
    // kernel dropout 0: the GPU draws dropout masks on the device (DropoutMasks), not from the CPU's stream;
    // DropoutGpuTest checks those masks against the Java twin bit for bit
    LongConvLM cpu = LongConvLM.builder().vocab(v).width(16).layers(2).length(l).dtype(t).kernelDropout(0).seed(3).build();
    LongConvLM gpu = LongConvLM.builder().vocab(v).width(16).layers(2).length(l).dtype(t).kernelDropout(0).seed(3).build();
    gpu.to(dev);
    assertEquals(dev, gpu.parameters().get(0).value().device());
    var optC = new AdamW(ParamGroups.of(cpu).lr(3e-3).build());
    var optG = new AdamW(ParamGroups.of(gpu).lr(3e-3).build());
    RandomGenerator r = Rng.seeded(4);
    double[] lc = new double[5], lg = new double[5];
    for (int step = 0; step < 5; step++) {
      int[] ids = new int[b * l], tg = new int[b * l];
      for (int i = 0; i < ids.length; i++) { ids[i] = r.nextInt(v); tg[i] = (ids[i] * 3 + 1) % v; }
      optC.zeroGrad();
      Tensor lossC = cpu.loss(ids, tg, b, l, -100);
      lossC.backward();
      optC.step();
      optG.zeroGrad();
      Tensor lossG = gpu.loss(ids, tg, b, l, -100);
      assertEquals(dev, lossG.device());
      lossG.backward();
      optG.step();
      lc[step] = lossC.item();
      lg[step] = lossG.item();
    }
    // F64: both sides in double (FFT and summation order only): 1e-9. F32: float rounding differences (cuFFT vs
    // JTransforms, cuBLAS vs netlib order) of ~1e-6 grow through 5 Adam steps (m / sqrt(v) amplifies tiny-gradient
    // noise into +-lr moves of parameters that barely affect the loss): 1e-4 relative on the loss.
    double tol = t == DType.F64 ? 1e-9 : 1e-4;
    for (int s = 0; s < 5; s++)
      assertEquals(lc[s], lg[s], tol * Math.abs(lc[s]), "step " + s + ": cpu " + java.util.Arrays.toString(lc) + " gpu "
          + java.util.Arrays.toString(lg));
    assertTrue(lg[4] < lg[0], "loss did not fall: " + java.util.Arrays.toString(lg));
    assertFalse(Double.isNaN(lg[4]));
    System.out.println("LongConvLM " + t + " losses cpu " + java.util.Arrays.toString(lc) + " gpu " + java.util.Arrays.toString(lg));
  }
}
