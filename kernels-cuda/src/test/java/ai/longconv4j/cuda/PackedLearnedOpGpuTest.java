// Shapes: B = 3 batch, H = 37 features (odd on purpose), causal (L, Lk) in {(256, 256), (1000, 700)}, blocks of the packed
// M = N/2 = N1 x N2 transform {Fa, Fb, Gb, Ga} (n, n, 2).
package ai.longconv4j.cuda;

import static ai.longconv4j.cuda.GpuCheck.close;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code ConvOps.learnedPackedConv} on the GPU ({@link CudaLearnedConv#applyPacked} over {@link PackedLearnedConv}: the
 * tensor-core forward and backward) against lib's float64 op, forward and every gradient (u, k, D, the four blocks), blocks
 * 5 % off the exact DFT so a kernel that ignored them would fail; and the clear refusal where no kernel applies (F32).
 */
@Tag("gpu")
class PackedLearnedOpGpuTest {

  @Test
  void packedOpMatchesTheCpu() {
    Device dev = GpuCheck.device();
    int b = 3, h = 37;
    for (DType io : new DType[] {DType.BF16, DType.F16}) {
      for (int[] lLk : new int[][] {{256, 256}, {1000, 700}}) {
        int l = lLk[0], lk = lLk[1];
        ConvPlan plan = ConvPlan.of(l, lk, ConvMode.CAUSAL, ConvEngine.LEARNED_PACKED, Precision.F64);
        double[][] init = PackedLearnedButterfly.atInit(plan).blocks();
        var rng = Rng.seeded(l + io.ordinal());
        // the CPU side gets exactly the GPU's inputs: u rounded to the 16-bit type first, the rest F32 values in F64
        List<Tensor> cpu = new ArrayList<>();
        cpu.add(round16(Tensor.randn(rng, DType.F32, b, h, l), io, dev).to(DType.F64));
        cpu.add(Tensor.randn(rng, DType.F32, h, lk).mul(1 / Math.sqrt(lk)).to(DType.F64));
        cpu.add(Tensor.randn(rng, DType.F32, 1, h).to(DType.F64));
        for (int i = 0; i < 4; i++) {
          int n = plan.factors().get(i == 0 || i == 3 ? 0 : 1);
          cpu.add(Tensor.of(init[i], n, n, 2).to(DType.F32).add(Tensor.randn(rng, DType.F32, n, n, 2).mul(0.05)).to(DType.F64));
        }
        cpu.replaceAll(t -> t.detach().requiresGrad(true));
        List<Tensor> gpu = new ArrayList<>();
        for (int i = 0; i < cpu.size(); i++) gpu.add(cpu.get(i).detach().to(DType.F32).to(dev).to(i == 0 ? io : DType.F32).detach().requiresGrad(true));
        Tensor yc = ConvOps.learnedPackedConv(cpu.get(0), cpu.get(1), cpu.get(2), ConvMode.CAUSAL, cpu.subList(3, 7).toArray(Tensor[]::new));
        Tensor yg = ConvOps.learnedPackedConv(gpu.get(0), gpu.get(1), gpu.get(2), ConvMode.CAUSAL, gpu.subList(3, 7).toArray(Tensor[]::new));
        assertEquals(dev, yg.device());
        assertEquals(io, yg.dtype());
        String what = "packed " + io + " L=" + l + " Lk=" + lk;
        // 16-bit tensor-core path against float64 (PackedLearnedGpuTest's bound: products of 16-bit operands rounded up to
        // three times, fp32 sums; y itself rounded to 16 bits): 1e-2 relative
        close(what + " y", yg.to(DType.F32), yc, 1e-2);
        // the loss sum(y * w) with w's values 16-bit representable, so both sides take the same dy
        Tensor w = round16(Tensor.randn(Rng.seeded(9), DType.F32, yc.shape()), io, dev);
        yc.mul(w.to(DType.F64)).sum().backward();
        yg.to(DType.F32).mul(w.to(dev)).sum().backward();
        String[] names = {"du", "dk", "dD", "dFa", "dFb", "dGb", "dGa"};
        // PackedLearnedBackwardGpuTest's bounds: du and the block gradients 1e-2 (16-bit intermediates, fp32 sums); dk keeps
        // Lk of the N taps' energy: 1e-2 sqrt(N / Lk); dD sums exact products of 16-bit u and dy in fp32 (B L terms): 1e-5
        double tk = 1e-2 * Math.sqrt((double) plan.fftSize() / lk);
        double[] tol = {1e-2, tk, 1e-5, 1e-2, 1e-2, 1e-2, 1e-2};
        for (int i = 0; i < 7; i++) close(what + " " + names[i], gpu.get(i).grad().to(DType.F32), cpu.get(i).grad(), tol[i]);
      }
    }
  }

  /**
   * Session 13, helper pkmode: the op in BIDIRECTIONAL (k (H, 2, Lk): CudaLearnedConv splits it into k0, k1 and the
   * backward's (2, H, Lk) dk back) and CIRCULAR mode against lib's float64 op, forward and every gradient; blocks 5 %
   * off the DFT; packedOpMatchesTheCpu's bounds and reasons.
   */
  @Test
  void packedOpModesMatchTheCpu() {
    Device dev = GpuCheck.device();
    int b = 3, h = 37;
    // {mode, L, Lk}: bidirectional 16 x 32 and 16 x 16 with Lk < L, circular 16 x 16 (L = 512), 16 x 32 (L = 1024) and
    // 32 x 32 (L = 2048: the 32-row stage kernels)
    Object[][] cases = {{ConvMode.BIDIRECTIONAL, 512, 512}, {ConvMode.BIDIRECTIONAL, 250, 200}, {ConvMode.CIRCULAR, 512, 300},
        {ConvMode.CIRCULAR, 1024, 1024}, {ConvMode.CIRCULAR, 2048, 2048}};
    for (DType io : new DType[] {DType.BF16, DType.F16}) {
      for (Object[] cs : cases) {
        ConvMode mode = (ConvMode) cs[0];
        int l = (Integer) cs[1], lk = (Integer) cs[2], sides = mode == ConvMode.BIDIRECTIONAL ? 2 : 1;
        ConvPlan plan = ConvPlan.of(l, lk, mode, ConvEngine.LEARNED_PACKED, Precision.F64);
        double[][] init = PackedLearnedButterfly.atInit(plan).blocks();
        var rng = Rng.seeded(l + 7L * lk + io.ordinal());
        List<Tensor> cpu = new ArrayList<>();
        cpu.add(round16(Tensor.randn(rng, DType.F32, b, h, l), io, dev).to(DType.F64));
        cpu.add((sides == 2 ? Tensor.randn(rng, DType.F32, h, 2, lk) : Tensor.randn(rng, DType.F32, h, lk)).mul(1 / Math.sqrt(lk)).to(DType.F64));
        cpu.add(Tensor.randn(rng, DType.F32, 1, h).to(DType.F64));
        for (int i = 0; i < 4; i++) {
          int n = plan.factors().get(i == 0 || i == 3 ? 0 : 1);
          cpu.add(Tensor.of(init[i], n, n, 2).to(DType.F32).add(Tensor.randn(rng, DType.F32, n, n, 2).mul(0.05)).to(DType.F64));
        }
        cpu.replaceAll(t -> t.detach().requiresGrad(true));
        List<Tensor> gpu = new ArrayList<>();
        for (int i = 0; i < cpu.size(); i++) gpu.add(cpu.get(i).detach().to(DType.F32).to(dev).to(i == 0 ? io : DType.F32).detach().requiresGrad(true));
        Tensor yc = ConvOps.learnedPackedConv(cpu.get(0), cpu.get(1), cpu.get(2), mode, cpu.subList(3, 7).toArray(Tensor[]::new));
        Tensor yg = ConvOps.learnedPackedConv(gpu.get(0), gpu.get(1), gpu.get(2), mode, gpu.subList(3, 7).toArray(Tensor[]::new));
        assertEquals(dev, yg.device());
        assertEquals(io, yg.dtype());
        String what = "packed " + mode + " " + io + " L=" + l + " Lk=" + lk;
        close(what + " y", yg.to(DType.F32), yc, 1e-2);
        Tensor w = round16(Tensor.randn(Rng.seeded(9), DType.F32, yc.shape()), io, dev);
        yc.mul(w.to(DType.F64)).sum().backward();
        yg.to(DType.F32).mul(w.to(dev)).sum().backward();
        String[] names = {"du", "dk", "dD", "dFa", "dFb", "dGb", "dGa"};
        double tk = 1e-2 * Math.sqrt((double) plan.fftSize() / lk);
        double[] tol = {1e-2, tk, 1e-5, 1e-2, 1e-2, 1e-2, 1e-2};
        for (int i = 0; i < 7; i++) close(what + " " + names[i], gpu.get(i).grad().to(DType.F32), cpu.get(i).grad(), tol[i]);
      }
    }
  }

  /** t's values rounded to the 16-bit type (on the GPU: the CPU does not compute BF16 / F16), as F32 on the CPU. */
  private static Tensor round16(Tensor t, DType io, Device dev) { return t.to(dev).to(io).to(DType.F32).to(Device.CPU); }

  @Test
  void f32HasNoPackedKernelAndSaysSo() {
    Device dev = GpuCheck.device();
    int l = 256;
    ConvPlan plan = ConvPlan.of(l, l, ConvMode.CAUSAL, ConvEngine.LEARNED_PACKED, Precision.F32);
    Tensor[] blocks = new Tensor[4];
    for (int i = 0; i < 4; i++) {
      int n = plan.factors().get(i == 0 || i == 3 ? 0 : 1);
      blocks[i] = Tensor.zeros(DType.F32, n, n, 2).to(dev);
    }
    var e = assertThrows(UnsupportedOperationException.class, () -> ConvOps.learnedPackedConv(Tensor.zeros(DType.F32, 1, 2, l).to(dev),
        Tensor.zeros(DType.F32, 2, l).to(dev), null, ConvMode.CAUSAL, blocks));
    assertTrue(e.getMessage().contains("256"), e.getMessage());
  }
}
