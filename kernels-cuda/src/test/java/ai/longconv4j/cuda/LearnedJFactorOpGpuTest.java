// Shapes: B = 2 batch, H = 3 features; (L, Lk) per case with M = N/2 = 2048 (8 16 16) or 4096 (16 16 16): J = 3, six blocks
// {Fa, Fb, Fc, Gc, Gb, Ga} (R_s, R_s, 2); M = 65536 (8 2 16 16 16): J = 5, ten blocks; u (B, H, L) bf16 / fp16; k (H, Lk) or
// (H, 2, Lk); D (1, H).
package ai.longconv4j.cuda;

import static ai.longconv4j.cuda.GpuCheck.close;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * {@code ConvOps.learnedPackedConv} on 16-bit GPU tensors at the J-factor sizes goes through {@link PackedMonarchLearned}:
 * y from the tensor-core kernels ({@link PackedMonarchConv} one pass, {@link PackedThreePass} beyond), P / Q from the fp32 chain
 * ({@link PackedLearnedChain}), the backward on tensor cores at the one-pass sizes (helper pkjbwd: PackedMonarchConv.backwardTc,
 * dk by the chain's cuFFT route) and on the chain at three passes. Against lib's float64 op, forward and every gradient, in all three modes, blocks
 * 5 % off the DFT (a kernel that ignored them would fail); the route is checked to be taken, and its slow twin
 * ({@code -Dlongconv4j.pk.monarch=false}: the chain's forward) gives the same y within the 16-bit bound.
 */
@Tag("gpu")
class LearnedJFactorOpGpuTest {

  private static Tensor round16(Tensor t, DType io, Device dev) { return t.to(dev).to(io).to(DType.F32).to(Device.CPU); }

  @Test
  void tensorCoreRouteMatchesTheCpu() {
    Device dev = GpuCheck.device();
    CudaBackend be = (CudaBackend) GpuCheck.backend();
    int b = 2, h = 3;
    // {mode, L, Lk, dtype}: causal M = 4096 bf16, bidirectional L = 3000, Lk = 2000 (N = 8192: M = 4096) bf16, circular
    // L = 8192 (M = 4096) fp16, causal L = 2000, Lk = 1500 (M = 2048 = 8 16 16) fp16; the three-pass forward
    // (PackedThreePass): causal L = 40000, Lk = 30000 (N = 131072: M = 65536 = 8 2 16 16 16, J = 5) bf16
    Object[][] cases = {{ConvMode.CAUSAL, 4096, 4096, DType.BF16}, {ConvMode.BIDIRECTIONAL, 3000, 2000, DType.BF16},
        {ConvMode.CIRCULAR, 8192, 8192, DType.F16}, {ConvMode.CAUSAL, 2000, 1500, DType.F16}, {ConvMode.CAUSAL, 40000, 30000, DType.BF16}};
    for (Object[] c : cases) {
      ConvMode mode = (ConvMode) c[0];
      int l = (Integer) c[1], lk = (Integer) c[2];
      DType io = (DType) c[3];
      ConvPlan plan = ConvPlan.of(l, lk, mode, ConvEngine.LEARNED_PACKED, Precision.F64);
      assertEquals(l == 40000 ? 5 : 3, plan.factors().size(), plan.toString());
      assertTrue(PackedMonarchLearned.supports(l, lk, CudaFlashLongConv.mode(mode), CudaLearnedConv.ioOf(io)), plan.toString());
      double[][] init = PackedLearnedButterfly.atInit(plan).blocks();
      var rng = Rng.seeded(l + 11L * mode.ordinal());
      List<Tensor> cpu = new ArrayList<>();
      cpu.add(round16(Tensor.randn(rng, DType.F32, b, h, l), io, dev).to(DType.F64));
      int[] kShape = mode == ConvMode.BIDIRECTIONAL ? new int[] {h, 2, lk} : new int[] {h, lk};
      cpu.add(Tensor.randn(rng, DType.F32, kShape).mul(1 / Math.sqrt(lk)).to(DType.F64));
      cpu.add(Tensor.randn(rng, DType.F32, 1, h).to(DType.F64));
      int[] sizes = PackedLearnedButterfly.blockSizes(plan);
      for (int i = 0; i < sizes.length; i++) {
        int n = sizes[i];
        cpu.add(Tensor.of(init[i], n, n, 2).to(DType.F32).add(Tensor.randn(rng, DType.F32, n, n, 2).mul(0.05)).to(DType.F64));
      }
      cpu.replaceAll(t -> t.detach().requiresGrad(true));
      List<Tensor> gpu = new ArrayList<>();
      for (int i = 0; i < cpu.size(); i++) gpu.add(cpu.get(i).detach().to(DType.F32).to(dev).to(i == 0 ? io : DType.F32).detach().requiresGrad(true));
      int nIn = cpu.size();
      Tensor[] bc = cpu.subList(3, nIn).toArray(Tensor[]::new), bg = gpu.subList(3, nIn).toArray(Tensor[]::new);
      int before = be.gpu(dev).packedMonarchPlans();
      Tensor yc = ConvOps.learnedPackedConv(cpu.get(0), cpu.get(1), cpu.get(2), mode, bc);
      Tensor yg = ConvOps.learnedPackedConv(gpu.get(0), gpu.get(1), gpu.get(2), mode, bg);
      assertTrue(be.gpu(dev).packedMonarchPlans() > before || before > 0, "no PackedMonarchLearned plan for " + plan);
      assertEquals(io, yg.dtype());
      String what = "tensor-core route " + mode + " " + io + " L=" + l + " Lk=" + lk;
      // y: 16-bit u and y (8 / 11 significant bits) and 16-bit MMA operands over J = 3 stages each way: PackedMonarchGpuTest's
      // 1e-2 (its worst over random blocks 3.7e-3). Gradients: the fp32 chain on 16-bit dy / du: 1e-2 as the fallback's
      // 16-bit cases; dk keeps Lk of the N taps' energy, so its relative error grows by sqrt(N / Lk).
      close(what + " y", yg.to(DType.F32), yc, 1e-2);
      Tensor twin;
      String old = System.getProperty("longconv4j.pk.monarch");
      System.setProperty("longconv4j.pk.monarch", "false");
      try (var ng = Tensor.noGrad()) {
        twin = ConvOps.learnedPackedConv(gpu.get(0).detach(), gpu.get(1).detach(), gpu.get(2).detach(), mode, bg);
      } finally {
        if (old == null) System.clearProperty("longconv4j.pk.monarch"); else System.setProperty("longconv4j.pk.monarch", old);
      }
      close(what + " y vs the chain's forward (slow twin)", yg.to(DType.F32), twin.to(DType.F32).to(Device.CPU).to(DType.F64), 1e-2);
      Tensor w = round16(Tensor.randn(Rng.seeded(9), DType.F32, yc.shape()), io, dev);
      yc.mul(w.to(DType.F64)).sum().backward();
      yg.to(DType.F32).mul(w.to(dev)).sum().backward();
      List<String> names = new ArrayList<>(List.of("du", "dk", "dD"));
      for (String nm : PackedLearnedButterfly.blockNames(plan)) names.add("d" + nm);
      double tk = 1e-2 * Math.sqrt((double) plan.fftSize() / lk);
      for (int i = 0; i < nIn; i++) {
        double tol = i == 1 ? tk : i == 2 ? 1e-5 : 1e-2;
        close(what + " " + names.get(i), gpu.get(i).grad().to(DType.F32), cpu.get(i).grad(), tol);
      }
    }
  }
}
