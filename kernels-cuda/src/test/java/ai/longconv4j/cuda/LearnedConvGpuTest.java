// Shapes: B = 3 batch, H = 37 features (odd on purpose), (L, Lk) in {(64, 64), (200, 150)} (circular: (64, 64), (256, 256)), blocks {Fa, Fb, Gb, Ga} (n, n, 2). Model: the learned-butterfly LongConvLM, V = 11, width 16,
// 2 layers, L = 32, B = 2.
package ai.longconv4j.cuda;

import static ai.longconv4j.cuda.GpuCheck.close;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.conv.ConvOps;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.LearnedButterfly;
import ai.longconv4j.conv.Precision;
import ai.longconv4j.models.LongConvLM;
import ai.longconv4j.optim.AdamW;
import ai.longconv4j.optim.ParamGroups;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code ConvOps.learnedConv} on the GPU ({@link CudaLearnedConv} over {@link LearnedButterflyConv}) against lib's CPU
 * path, forward and every gradient (u, k, D, the four blocks), with blocks moved off the exact DFT so a kernel that
 * ignored them would fail; then a learned-butterfly LM trained 3 steps on both devices. Since the causal fix the
 * LM ({@code LongConvLM.learnedButterfly()}) uses the causal learned-Monarch engine ({@code ConvEngine.LEARNED_CAUSAL}:
 * tensor-op Monarch maps around the device convolution), so that test covers it; the general LEARNED blocks stay
 * covered at the op level above (models refuse them in causal mode).
 */
@Tag("gpu")
class LearnedConvGpuTest {

  @ParameterizedTest
  @EnumSource(ConvMode.class)
  void learnedConvMatchesTheCpu(ConvMode mode) {
    Device dev = GpuCheck.device();
    int b = 3, h = 37;
    // circular: the learned engine's FFT size is exactly L, a power of two; the others also take L = 200, Lk < L
    for (int[] lLk : mode == ConvMode.CIRCULAR ? new int[][] {{64, 64}, {256, 256}} : new int[][] {{64, 64}, {200, 150}}) {
      int l = lLk[0], lk = lLk[1];
      ConvPlan plan = ConvPlan.of(l, lk, mode, ConvEngine.LEARNED, Precision.F32);
      double[][] init = LearnedButterfly.atInit(plan).blocks();
      var rng = Rng.seeded(l + mode.ordinal());
      List<Tensor> cpu = new ArrayList<>();
      cpu.add(Tensor.randn(rng, DType.F32, b, h, l));
      cpu.add(Tensor.randn(rng, DType.F32, mode.sides() == 2 ? new int[] {h, 2, lk} : new int[] {h, lk}).mul(1 / Math.sqrt(lk)));
      cpu.add(Tensor.randn(rng, DType.F32, 1, h));
      for (int i = 0; i < 4; i++) {
        int n = plan.factors().get(i == 0 || i == 3 ? 0 : 1);
        // 5% off the exact DFT: the GPU must use the blocks it is given
        cpu.add(Tensor.of(init[i], n, n, 2).to(DType.F32).add(Tensor.randn(rng, DType.F32, n, n, 2).mul(0.05)));
      }
      cpu.replaceAll(t -> t.detach().requiresGrad(true));
      List<Tensor> gpu = cpu.stream().map(t -> t.detach().to(dev).requiresGrad(true)).toList();
      Tensor yc = ConvOps.learnedConv(cpu.get(0), cpu.get(1), cpu.get(2), mode, cpu.subList(3, 7).toArray(Tensor[]::new));
      Tensor yg = ConvOps.learnedConv(gpu.get(0), gpu.get(1), gpu.get(2), mode, gpu.subList(3, 7).toArray(Tensor[]::new));
      assertEquals(dev, yg.device());
      String what = "learned " + mode + " L=" + l + " Lk=" + lk;
      // fp32 both sides, four dense complex products of inner size <= 32 (see LearnedButterflyGpuTest): 1e-5
      close(what + " y", yg, yc, 1e-5);
      Tensor w = Tensor.randn(Rng.seeded(9), DType.F32, yc.shape());
      yc.mul(w).sum().backward();
      yg.mul(w.to(dev)).sum().backward();
      String[] names = {"du", "dk", "dD", "dFa", "dFb", "dGb", "dGa"};
      // du, dD 1e-5; dk keeps Lk of N taps: 1e-5 * sqrt(N / Lk); blocks sum B*H*n products in fp32: 1e-4
      double[] tol = {1e-5, 1e-5 * Math.sqrt((double) plan.fftSize() / lk), 1e-5, 1e-4, 1e-4, 1e-4, 1e-4};
      for (int i = 0; i < 7; i++) close(what + " " + names[i], gpu.get(i).grad(), cpu.get(i).grad(), tol[i]);
    }
  }

  @Test
  void learnedLmTrainsLikeTheCpu() {
    Device dev = GpuCheck.device();
    int v = 11, l = 32, b = 2;
    var rng = Rng.seeded(5);
    int[] x = new int[b * l], y = new int[b * l];
    for (int i = 0; i < x.length; i++) { x[i] = rng.nextInt(v); y[i] = rng.nextInt(v); }
    double[][] losses = new double[2][3];
    for (int side = 0; side < 2; side++) {
      var lm = LongConvLM.learnedButterfly().vocab(v).width(16).layers(2).length(l).kernelDropout(0).seed(3).build();
      if (side == 1) lm.to(dev);
      var opt = new AdamW(ParamGroups.of(lm).lr(3e-3).build());
      for (int s = 0; s < 3; s++) {
        Tensor loss = lm.loss(x, y, b, l, -1);
        loss.backward();
        opt.step();
        opt.zeroGrad();
        losses[side][s] = loss.item();
      }
    }
    // F32 on both sides, different summation orders compound over 3 AdamW steps: 1e-4 relative per loss
    for (int s = 0; s < 3; s++)
      assertTrue(Math.abs(losses[1][s] - losses[0][s]) <= 1e-4 * Math.abs(losses[0][s]),
          "step " + s + ": gpu " + losses[1][s] + " vs cpu " + losses[0][s]);
  }

  @Test
  void tooLongForTheKernelSaysSo() {
    Device dev = GpuCheck.device();
    int l = 4096;
    ConvPlan plan = ConvPlan.of(l, l, ConvMode.CAUSAL, ConvEngine.LEARNED, Precision.F32);
    Tensor[] blocks = new Tensor[4];
    for (int i = 0; i < 4; i++) {
      int n = plan.factors().get(i == 0 || i == 3 ? 0 : 1);
      blocks[i] = Tensor.zeros(DType.F32, n, n, 2).to(dev);
    }
    var e = assertThrows(UnsupportedOperationException.class, () -> ConvOps.learnedConv(Tensor.zeros(DType.F32, 1, 2, l).to(dev),
        Tensor.zeros(DType.F32, 2, l).to(dev), null, ConvMode.CAUSAL, blocks));
    assertTrue(e.getMessage().contains("no learned-butterfly path") && e.getMessage().contains("4096"), e.getMessage());
  }
}
