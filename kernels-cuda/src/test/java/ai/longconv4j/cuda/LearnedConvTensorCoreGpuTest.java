// Shapes: B = 3 batch, H = 37 features (odd), (L, Lk) per mode with N = 512 (16 x 32) or 1024 (32 x 32);
// u, y (B, H, L) BF16 / F16; k (H, Lk) or (H, 2, Lk); d (1, H); blocks {Fa, Fb, Gb, Ga} (n, n, 2) F32.
package ai.longconv4j.cuda;

import static ai.longconv4j.cuda.GpuCheck.close;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.conv.ConvOps;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.LearnedButterfly;
import ai.longconv4j.conv.Precision;
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
 * {@code ConvOps.learnedConv} of 16-bit tensors on the GPU: routed to the tensor-core kernels (forward, du, and the
 * tensor-core backward's dk, dD, blocks), against lib's CPU path in F64 on the same 16-bit-rounded values, blocks moved off the DFT.
 * Tolerances: y and du 1e-2 (16-bit blocks and intermediates, see LearnedTensorCoreGpuTest); dk and dD are rounded to the
 * 16-bit dtype of k and d (2^-8 relative at most) and dk comes from 16-bit intermediates: 1e-2 * sqrt(N / Lk); the
 * block gradients are fp32 sums of products of 16-bit intermediates (tensor-core backward, see LearnedTensorCoreGpuTest): 1e-2.
 */
@Tag("gpu")
class LearnedConvTensorCoreGpuTest {
  @ParameterizedTest
  @CsvSource({"CAUSAL, 200, 150, BF16", "CAUSAL, 300, 300, F16", "BIDIRECTIONAL, 200, 150, BF16", "CIRCULAR, 1024, 1024, BF16"})
  void sixteenBitLearnedConvMatchesTheCpu(ConvMode mode, int l, int lk, DType dt) {
    Device dev = GpuCheck.device();
    CudaBackend be = (CudaBackend) GpuCheck.backend();
    int b = 3, h = 37;
    ConvPlan plan = ConvPlan.of(l, lk, mode, ConvEngine.LEARNED, Precision.F32);
    assertTrue(CudaLearnedConv.usesTensorCores(dt, l, lk, mode));
    double[][] init = LearnedButterfly.atInit(plan).blocks();
    var rng = Rng.seeded(l + 3L * mode.ordinal());
    List<Tensor> gIn = new ArrayList<>();
    gIn.add(Tensor.randn(rng, DType.F32, b, h, l).to(dev).to(dt));
    gIn.add(Tensor.randn(rng, DType.F32, mode.sides() == 2 ? new int[] {h, 2, lk} : new int[] {h, lk}).mul(1 / Math.sqrt(lk)).to(dev).to(dt));
    gIn.add(Tensor.randn(rng, DType.F32, 1, h).to(dev).to(dt));
    for (int i = 0; i < 4; i++) {
      int n = plan.factors().get(i == 0 || i == 3 ? 0 : 1);   // 5% off the exact DFT
      gIn.add(Tensor.of(init[i], n, n, 2).to(DType.F32).add(Tensor.randn(rng, DType.F32, n, n, 2).mul(0.05)).to(dev));
    }
    gIn.replaceAll(t -> t.detach().requiresGrad(true));
    List<Tensor> cIn = gIn.stream().map(t -> Tensor.of(t.toFloatArray(), t.shape()).to(DType.F64).requiresGrad(true)).toList();
    Tensor yg = ConvOps.learnedConv(gIn.get(0), gIn.get(1), gIn.get(2), mode, gIn.subList(3, 7).toArray(Tensor[]::new));
    Tensor yc = ConvOps.learnedConv(cIn.get(0), cIn.get(1), cIn.get(2), mode, cIn.subList(3, 7).toArray(Tensor[]::new));
    assertEquals(dt, yg.dtype());
    assertTrue(be.gpu(dev).learned(h, l, lk, CudaFlashLongConv.mode(mode), CudaLearnedConv.ioOf(dt)).tensorCores());
    String what = "learned " + dt + " " + mode + " L=" + l + " Lk=" + lk;
    close(what + " y", yg.to(DType.F64), yc, 1e-2);
    Tensor w = Tensor.randn(Rng.seeded(9), DType.F32, yc.shape()).to(dev).to(dt);   // 16-bit exact on both sides
    yg.to(DType.F32).mul(w.to(dev).to(DType.F32)).sum().backward();
    yc.mul(Tensor.of(w.toFloatArray(), w.shape()).to(DType.F64)).sum().backward();
    String[] names = {"du", "dk", "dD", "dFa", "dFb", "dGb", "dGa"};
    double dkTol = 1e-2 * Math.sqrt((double) plan.fftSize() / lk);
    double[] tol = {1e-2, dkTol, 1e-2, 1e-2, 1e-2, 1e-2, 1e-2};
    for (int i = 0; i < 7; i++) close(what + " " + names[i], gIn.get(i).grad().to(DType.F64), cIn.get(i).grad(), tol[i]);
  }
}
