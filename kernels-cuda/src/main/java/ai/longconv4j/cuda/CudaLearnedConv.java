// Shapes: B batch, H features, L length, Lk taps per side, N = N1 * N2 FFT size (<= 2048; packed: M = N/2 = N1 * N2), blocks
//   {Fa, Fb, Gb, Ga} each (n, n, 2) with n = N1 (Fa, Ga) or N2 (Fb, Gb); packed J-factor plans (M = R_1 .. R_J from 2048 to 2^18):
//   2J blocks {F_1 .. F_J, G_J .. G_1} (R_s, R_s, 2). u, y, dy, du (B, H, L) F32 / BF16 / F16; k (H, Lk) or (H, 2, Lk); d (H).
package ai.longconv4j.cuda;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Tensor;
import java.lang.ref.Reference;
import java.util.Arrays;

/**
 * The learned-butterfly long convolutions of F32, BF16 and F16 tensors on the GPU: lib's {@code ConvOps.learnedConv} through
 * {@link LearnedButterflyConv} and {@code ConvOps.learnedPackedConv} through {@link PackedLearnedConv}, on a device: forward,
 * and a backward giving du, dk, dD and the four block gradients. One plan per (H, L, Lk, mode), cached on the device;
 * two convolutions of one shape share the plan (H3's shift and diagonal convolutions, layers of one shape).
 * Engine LEARNED: taps, D and the blocks (H·Lk, H, 2(N1² + N2²) numbers) go through the host and are uploaded again before
 * the backward; u, y and the gradients stay on the device. Engine LEARNED_PACKED (helper pkop, session 13;
 * {@link #runPacked}): taps, D and blocks go device-to-device from the tensors' storage (converted to F32 on the device when
 * they are not), no synchronisation until the block gradients' copy; the forward keeps its dumps for the backward when a
 * gradient is needed ({@link #saveDumps}), and the backward uploads the forward's values again only when another op ran
 * on the plan in between ({@link PackedLearnedConv#generation}). {@code -Dlongconv4j.pk.op.device=false}: session 12's
 * host route, the slow twin.
 * Routing ({@link #ioOf}): the plan's I/O type is u's dtype, so 16-bit tensors with N = 256 .. 2048 get the tensor-core
 * forward and du ({@link LearnedButterflyConv#tensorCoresSupport}), F32 tensors (and other sizes) the fp32 twin;
 * {@code -Dlongconv4j.learned.fp32=true} forces the twin everywhere. The packed engine: the tensor-core kernels where
 * {@link PackedLearnedConv#plan} takes the shapes (16-bit; causal and bidirectional 128 &lt; L &lt;= 1K, circular L = 512,
 * 1K, 2K; two-sided taps read from the device by the FFT route of P / Q); at the J-factor sizes (16-bit, M = 2048 .. 2^18)
 * {@link PackedMonarchLearned} (the forward on tensor cores, the backward on tensor cores at one pass, on the fp32 chain at
 * three; session 14) through {@link #runMonarch} (helper pkdev, session 15: taps, D and blocks device to device, P / Q by
 * cuFFT on the device, no host copy or synchronisation in the forward; P / Q and the blocks kept between calls while their
 * source tensors are unchanged ({@link Src}, {@link StorageWrites}; {@code -Dlongconv4j.pk.op.reuse=false}: uploaded at
 * every call); {@code -Dlongconv4j.pk.op.device=false}: the host route, its slow twin); else its fp32
 * path {@link PackedLearnedRef} (F32,
 * BF16, F16 I/O; every mode; every lib plan: J = 2 to M = 4096 in shared memory, J = 3 .. 5 (M = 2048 .. 2^18, 2J blocks)
 * on {@link PackedLearnedChain}; through the host route above); beyond that {@link #applyPacked} returns null and the
 * caller says so. The plan is chosen by checks of the plans' conditions ({@link #route}, session 18); {@code
 * -Dlongconv4j.learned.route=exception} asks for the tensor-core plan and catches its IllegalArgumentException, as before.
 */
final class CudaLearnedConv {
  private CudaLearnedConv() {}

  /** The plan's I/O type for u's dtype: F32, BF16, F16; null (no GPU path) for F64. */
  static ElementType ioOf(DType t) {
    return switch (t) {
      case F32 -> ElementType.F32;
      case BF16 -> ElementType.BF16;
      case F16 -> ElementType.F16;
      default -> null;
    };
  }

  /** Whether a plan of (L, Lk, mode) for u of dtype t runs forward and du on tensor cores (no device needed). */
  static boolean usesTensorCores(DType t, int l, int lk, ai.longconv4j.conv.ConvMode lmode) {
    ElementType io = ioOf(t);
    if (io == null || LearnedButterflyConv.FORCE_FP32) return false;
    var p = ai.longconv4j.conv.ConvPlan.of(l, lk, lmode, ai.longconv4j.conv.ConvEngine.LEARNED, ai.longconv4j.conv.Precision.F64);
    return p.fftSize() <= LearnedButterflyConv.MAX_N
        && LearnedButterflyConv.tensorCoresSupport(p.factors().get(0), p.factors().get(1), io);
  }

  /** y = conv(u, k) + D u, or null when these operands are not the kernel's (F32 / 16-bit, one channel, N <= 2048). */
  static Tensor apply(CudaBackend be, Tensor u, Tensor k, Tensor d, ai.longconv4j.conv.ConvMode lmode, Tensor[] blocks) {
    return run(be, u, k, d, lmode, blocks, false);
  }

  /** The packed learned butterfly's y: tensor cores ({@link PackedLearnedConv}) or the fp32 path ({@link PackedLearnedRef}); null beyond both. */
  static Tensor applyPacked(CudaBackend be, Tensor u, Tensor k, Tensor d, ai.longconv4j.conv.ConvMode lmode, Tensor[] blocks) {
    return run(be, u, k, d, lmode, blocks, true);
  }

  private static Tensor run(CudaBackend be, Tensor u, Tensor k, Tensor d, ai.longconv4j.conv.ConvMode lmode, Tensor[] blocks,
      boolean packed) {
    boolean bi = lmode == ai.longconv4j.conv.ConvMode.BIDIRECTIONAL;
    ElementType io = ioOf(u.dtype());
    if (io == null || k.dim() != (bi ? 3 : 2)) return null;
    int b = u.size(0), h = u.size(1), l = u.size(2), lk = k.size(-1);
    ConvMode mode = CudaFlashLongConv.mode(lmode);
    CudaBackend.Gpu g = be.gpu(u.device());
    String op = packed ? "LongConv.learnedPacked" : "LongConv.learned", tag = packed ? "longconv[LEARNED_PACKED]" : "longconv[LEARNED]";
    LearnedPlan plan = routeByChecks() ? planOf(g, route(packed, h, l, lk, mode, io), h, l, lk, mode, io)
        : routeByException(g, packed, h, l, lk, mode, io);
    if (plan == null) return null;
    int[] sz = plan.blockSizes();   // {N1, N2, N2, N1}, or {R_1 .. R_J, R_J .. R_1} for J-factor plans
    if (blocks.length != sz.length)
      throw new IllegalArgumentException(op + ": " + plan + " takes " + sz.length + " blocks, got " + blocks.length);
    for (int i = 0; i < sz.length; i++) {
      int n = sz[i];
      if (!Arrays.equals(blocks[i].shape(), new int[] {n, n, 2}))
        throw new IllegalArgumentException(op + ": block " + i + " must be (" + n + ", " + n + ", 2) for " + plan + ", got "
            + Arrays.toString(blocks[i].shape()));
    }
    if (plan instanceof PackedLearnedConv pk) {
      // two-sided taps are read from the device by the FFT route of P / Q only (-Dlongconv4j.pk.pq=dft: the host route)
      if (deviceInputs() && (!bi || pk.pqByFft())) return runPacked(be, g, pk, u, k, d, blocks, tag);
      pk.invalidate();   // the host route's uploads: an op's kept state is no longer the plan's
    }
    if (plan instanceof PackedMonarchLearned pm && deviceInputs()) return runMonarch(be, g, pm, u, k, d, blocks, mode, tag);
    Phases ph = plan instanceof PackedMonarchLearned && phases() ? new Phases(g.dev, "host", b, h, l) : null;
    int nb = blocks.length;
    double[][] ba = new double[nb][];
    for (int i = 0; i < nb; i++) ba[i] = blocks[i].toDoubleArray();
    float[] ka = k.toFloatArray(), k0 = new float[h * lk], k1 = bi ? new float[h * lk] : null;
    for (int r = 0; r < h; r++) {
      System.arraycopy(ka, r * (bi ? 2 : 1) * lk, k0, r * lk, lk);
      if (bi) System.arraycopy(ka, r * 2 * lk + lk, k1, r * lk, lk);
    }
    float[] da = d == null ? new float[h] : d.toFloatArray();
    if (da.length != h) throw new IllegalArgumentException(op + ": D must hold H=" + h + " values, got " + da.length);
    Runnable upload = () -> {
      plan.setBlocks(ba);
      if (ph != null) ph.mark("setBlocks");
      if (bi) plan.setWeights(k0, k1, da); else plan.setWeights(k0, da);
      if (ph != null) ph.mark("setWeights (P / Q)");
    };
    Tensor uc = CudaFlashLongConv.fresh(u.detach());
    CudaStorage us = (CudaStorage) uc.storage();
    CudaStorage y = be.allocate(g, u.dtype(), b * h * l);
    if (ph != null) ph.mark("host copies (+ u, y)");
    try {
      upload.run();
      plan.forward(us.buffer(), y.buffer(), b);
      if (ph != null) ph.mark("forward").print();
    } catch (CudaException e) {
      throw new CudaException(e.code(), tag + " u " + Arrays.toString(u.shape()) + ", k " + Arrays.toString(k.shape()) + ": "
          + e.getMessage());
    } finally {
      Reference.reachabilityFence(us);
    }
    Tensor out = Tensor.fromStorage(y, b, h, l);
    Tensor[] inputs = ai.longconv4j.conv.ConvOps.learnedInputs(u, k, d, blocks);
    int nIn = inputs.length;
    if (!gradWanted(inputs)) return out;
    return Tensor.op(tag, out, inputs, gy -> {
      try (var ng = Tensor.noGrad()) {
        Tensor gc = CudaFlashLongConv.fresh(gy.detach().to(u.dtype()));
        CudaStorage gs = (CudaStorage) gc.storage();
        int parts = bi ? 2 : 1;
        CudaStorage du = be.allocate(g, u.dtype(), b * h * l), dk = be.allocate(g, DType.F32, parts * h * lk),
            dD = be.allocate(g, DType.F32, h);
        upload.run();
        plan.backward(us.buffer(), gs.buffer(), b, du.buffer(), dk.buffer(), dD.buffer());
        Reference.reachabilityFence(gs);
        Reference.reachabilityFence(us);
        double[][] gb = plan.blockGrads();
        Tensor[] grads = new Tensor[nIn];
        grads[0] = Tensor.fromStorage(du, b, h, l);
        Tensor dkt = Tensor.fromStorage(dk, parts, h, lk);                     // (sides, H, Lk) -> lib's (H, [2,] Lk)
        grads[1] = (bi ? dkt.permute(1, 0, 2).contiguous() : dkt.reshape(h, lk)).to(k.dtype());
        if (d != null) grads[2] = Tensor.fromStorage(dD, h).reshape(d.shape()).to(d.dtype());
        System.arraycopy(hostGrads(gb, blocks, u), 0, grads, nIn - nb, nb);
        return grads;
      } catch (CudaException e) {
        throw new CudaException(e.code(), tag + " backward u " + Arrays.toString(u.shape()) + ": " + e.getMessage());
      }
    });
  }

  // ---- helper layer (session 18): routing by checks, not by catching the plans' IllegalArgumentException

  /** The learned plans {@link #run} chooses from (engine LEARNED: {@link #LEARNED} or none; LEARNED_PACKED: the rest). */
  enum Route { LEARNED, PACKED_TENSOR_CORES, PACKED_MONARCH, PACKED_REF, NONE }

  /**
   * Which plan takes a learned op of (H, L, Lk, mode) with I/O type io (no GPU needed), in {@link #run}'s order: engine
   * LEARNED the fp32 / tensor-core {@link LearnedButterflyConv} where {@link #learnedTakes}; engine LEARNED_PACKED the
   * J = 2 tensor-core {@link PackedLearnedConv} where {@link #packedTensorCoresTake}, else the J-factor
   * {@link PackedMonarchLearned} (16-bit, M = 2048 .. 2^18), else the fp32 {@link PackedLearnedRef}, else none.
   */
  static Route route(boolean packed, int h, int l, int lk, ConvMode mode, ElementType io) {
    if (!packed) return learnedTakes(h, l, lk, mode) ? Route.LEARNED : Route.NONE;
    if (packedTensorCoresTake(h, l, lk, mode, io)) return Route.PACKED_TENSOR_CORES;
    if (PackedMonarchLearned.enabled() && PackedMonarchLearned.supports(l, lk, mode, io)) return Route.PACKED_MONARCH;
    if (PackedLearnedRef.supports(l, lk, mode, io)) return Route.PACKED_REF;
    return Route.NONE;
  }

  /** {@link LearnedButterflyConv#plan}'s conditions: H in [1, 65535], 1 &lt;= Lk &lt;= L, lib's LEARNED N &lt;= MAX_N. */
  static boolean learnedTakes(int h, int l, int lk, ConvMode mode) {
    if (h < 1 || h > 65535 || lk < 1 || lk > l || mode == null) return false;
    var p = ai.longconv4j.conv.ConvPlan.of(l, lk, LearnedButterflyConv.libMode(mode), ai.longconv4j.conv.ConvEngine.LEARNED,
        ai.longconv4j.conv.Precision.F64);
    return p.fftSize() <= LearnedButterflyConv.MAX_N;
  }

  /**
   * {@link PackedLearnedConv#plan}'s conditions: H in [1, 65535], 1 &lt;= Lk &lt;= L, circular L a power of two, lib's
   * packed plan with J = 2 factors N1 x N2 that the tensor-core kernels cover for io, and ceil(L/2) within the rows they
   * stage ({@link PackedLearnedConv#stageRows} x N2).
   */
  static boolean packedTensorCoresTake(int h, int l, int lk, ConvMode mode, ElementType io) {
    if (h < 1 || h > 65535 || l < 1 || lk < 1 || lk > l || mode == null) return false;
    if (mode == ConvMode.CIRCULAR && Integer.bitCount(l) != 1) return false;
    var p = PackedLearnedConv.libPlan(l, lk, mode);
    if (p.factors().size() != 2) return false;
    int f1 = p.factors().get(0), f2 = p.factors().get(1);
    return PackedLearnedConv.tensorCoresSupport(f1, f2, io) && (l + 1) / 2 <= PackedLearnedConv.stageRows(mode, f1) * f2;
  }

  /** The device's cached plan for a route (null for NONE). */
  private static LearnedPlan planOf(CudaBackend.Gpu g, Route r, int h, int l, int lk, ConvMode mode, ElementType io) {
    return switch (r) {
      case LEARNED -> g.learned(h, l, lk, mode, io);
      case PACKED_TENSOR_CORES -> g.packedLearned(h, l, lk, mode, io);
      case PACKED_MONARCH -> g.packedMonarch(h, l, lk, mode, io);      // J-factor sizes: tensor-core forward
      case PACKED_REF -> g.packedLearnedRef(h, l, lk, mode, io);       // the packed engine's fp32 path (every mode, every lib plan)
      case NONE -> null;
    };
  }

  /**
   * The routing before session 18 (the slow twin of {@link #route}, {@code -Dlongconv4j.learned.route=exception}): ask the
   * device for the LEARNED / J = 2 tensor-core plan and catch the IllegalArgumentException its checks throw (at every call
   * of the J-factor sizes), then try the J-factor and fp32 packed plans.
   */
  private static LearnedPlan routeByException(CudaBackend.Gpu g, boolean packed, int h, int l, int lk, ConvMode mode, ElementType io) {
    try {
      return packed ? g.packedLearned(h, l, lk, mode, io) : g.learned(h, l, lk, mode, io);
    } catch (IllegalArgumentException e) {          // no tensor-core kernel for these shapes / this dtype
      if (!packed) return null;                        // e.g. N > 2048: no GPU path
      if (PackedMonarchLearned.enabled() && PackedMonarchLearned.supports(l, lk, mode, io)) return g.packedMonarch(h, l, lk, mode, io);
      if (PackedLearnedRef.supports(l, lk, mode, io)) return g.packedLearnedRef(h, l, lk, mode, io);
      return null;
    }
  }

  /** The switch of {@link #route}: checks (default) or, with {@code -Dlongconv4j.learned.route=exception}, the twin. Read per call. */
  static boolean routeByChecks() { return LearnedDefaults.twoWay("longconv4j.learned.route", "checks", "exception"); }

  // ---- helper pkop (session 13): the packed op without host round trips, the forward's dumps kept for the backward

  /**
   * The packed op's route: taps, D and blocks device-to-device from the tensors' storage (default), or with
   * {@code -Dlongconv4j.pk.op.device=false} session 12's route through the host (its slow twin: toFloatArray /
   * toDoubleArray, uploads before the forward and again before the backward). Read per call.
   */
  static boolean deviceInputs() { return !"false".equals(System.getProperty("longconv4j.pk.op.device")); }

  /**
   * Whether the device route's forward keeps its dumps for the backward when a gradient is needed
   * ({@link PackedLearnedConv#forwardForBackward}; default true, {@code -Dlongconv4j.pk.op.save=false}: the plain forward,
   * the backward runs its forward chain itself). Read per call.
   */
  static boolean saveDumps() { return !"false".equals(System.getProperty("longconv4j.pk.op.save")); }

  /** t detached, F32 (converted on its device when not) and contiguous: what the plan's device setters read. */
  static Tensor f32(Tensor t) {
    Tensor x = t.detach();
    if (x.dtype() != DType.F32) x = x.to(DType.F32);
    return x.isContiguous() ? x : x.contiguous();
  }

  /** The address of t's first element (t on a CUDA device). */
  private static DevicePointer at(Tensor t) { return ((CudaStorage) t.storage()).at(t.offset()); }

  /**
   * The packed op on the device route: no host copy and no synchronisation before the block gradients (whose
   * {@link PackedLearnedConv#blockGrads} is a blocking copy). Under plan sharing (one plan per shape, e.g. H3's shift and
   * diagonal convolutions, or several layers of one shape) the backward re-uploads the forward's taps, D and blocks (still
   * held by this op's closure, device-side) unless the plan's {@link PackedLearnedConv#generation} is the one this forward
   * left; the forward's dumps ({@link PackedLearnedConv#forwardForBackward}, 16 B H M bytes) are the plan's kept workspace,
   * not the op's: one set per plan, so only the last forward on a plan before its backward keeps them (in a stack of
   * layers of one shape, the last layer's), the others recompute their forward chain in the backward. Keeping them per op
   * would cost 16 B H M bytes per layer (805 MB at B = 64, H = 768, M = 1024), 8x the bf16 activation u itself.
   */
  private static Tensor runPacked(CudaBackend be, CudaBackend.Gpu g, PackedLearnedConv plan, Tensor u, Tensor k, Tensor d,
      Tensor[] blocks, String tag) {
    int sides = plan.mode() == ConvMode.BIDIRECTIONAL ? 2 : 1;
    checkTaps(u, k, d, sides, plan.mode());
    Tensor k32 = f32(k), d32 = d == null ? null : f32(d);
    Tensor[] b32 = new Tensor[4];
    for (int i = 0; i < 4; i++) b32[i] = f32(blocks[i]);
    Runnable upload = () -> {
      DevicePointer[] bp = new DevicePointer[4];
      for (int i = 0; i < 4; i++) bp[i] = at(b32[i]);
      plan.setBlocksOnDevice(bp);
      plan.setWeightsOnDevice(at(k32), sides, d32 == null ? null : at(d32));
      Reference.reachabilityFence(b32);   // the copies are queued on the stream: any reuse of these buffers is ordered after
      Reference.reachabilityFence(k32);
      Reference.reachabilityFence(d32);
    };
    int nb = blocks.length;
    return deviceFrame(be, g, plan, plan::generation, u, k, d, blocks, sides, tag, upload, (us, y, b, grad) -> {
      upload.run();
      if (grad && saveDumps()) plan.forwardForBackward(us, y, b);
      else plan.forward(us, y, b);
    }, () -> {
      Tensor[] out = new Tensor[nb];
      CudaStorage gbs = be.allocateOut(g, DType.F32, plan.blockGradFloats());
      if (plan.blockGradsOnDevice(gbs.at(0))) {   // on the device: views of one fp32 buffer, converted there if need be
        Tensor all = Tensor.fromStorage(gbs, plan.blockGradFloats());
        for (int i = 0, off = 0; i < nb; i++) {
          int len = blocks[i].numel();
          out[i] = all.slice(0, off, off + len).reshape(blocks[i].shape()).to(blocks[i].dtype());
          off += len;
        }
        return out;
      }
      gbs.release();
      return hostGrads(plan.blockGrads(), blocks, u);
    });
  }

  /** Both device routes' checks: k holds (H, [2,] Lk) taps of u's H, D (if any) H values. */
  private static void checkTaps(Tensor u, Tensor k, Tensor d, int sides, ConvMode mode) {
    int h = u.size(1), lk = k.size(-1);
    if (k.numel() != sides * h * lk)
      throw new IllegalArgumentException("LongConv.learnedPacked: k must be (H=" + h + (sides == 2 ? ", 2" : "") + ", Lk) taps in "
          + mode + ", got " + Arrays.toString(k.shape()));
    if (d != null && d.numel() != h)
      throw new IllegalArgumentException("LongConv.learnedPacked: D must hold H=" + h + " values, got " + Arrays.toString(d.shape()));
  }

  /** A device route's forward: its uploads (if any) and the plan's forward of u into y, queued; grad: a backward will follow. */
  private interface DeviceForward { void run(DeviceBuffer u, DeviceBuffer y, int b, boolean grad); }

  /**
   * The frame both device routes share ({@link #runPacked}, {@link #runMonarch}): u as one contiguous buffer, y from the
   * output allocator, the forward ({@code forward}) queued; without a gradient wanted, y alone. Else the op whose backward
   * re-queues {@code upload} when the plan's {@code generation} moved since this forward (another op of this shape ran on
   * the plan), runs the plan's backward into du, dk (sides, H, Lk) and dD, and takes the block gradients from
   * {@code blockGrads} (after the backward, in block order, each as its block).
   */
  private static Tensor deviceFrame(CudaBackend be, CudaBackend.Gpu g, LearnedPlan plan, java.util.function.LongSupplier generation,
      Tensor u, Tensor k, Tensor d, Tensor[] blocks, int sides, String tag, Runnable upload, DeviceForward forward,
      java.util.function.Supplier<Tensor[]> blockGrads) {
    int b = u.size(0), h = u.size(1), l = u.size(2), lk = k.size(-1), nb = blocks.length;
    Tensor[] inputs = ai.longconv4j.conv.ConvOps.learnedInputs(u, k, d, blocks);
    int nIn = inputs.length;
    boolean grad = gradWanted(inputs);
    Tensor uc = CudaFlashLongConv.fresh(u.detach());
    CudaStorage us = (CudaStorage) uc.storage();
    CudaStorage y = be.allocateOut(g, u.dtype(), b * h * l);
    long token;
    try {
      forward.run(us.buffer(), y.buffer(), b, grad);
      token = generation.getAsLong();
    } catch (CudaException e) {
      throw new CudaException(e.code(), tag + " u " + Arrays.toString(u.shape()) + ", k " + Arrays.toString(k.shape()) + ": " + e.getMessage());
    } finally {
      Reference.reachabilityFence(us);
    }
    Tensor out = Tensor.fromStorage(y, b, h, l);
    if (!grad) return out;
    return Tensor.op(tag, out, inputs, gy -> {
      try (var ng = Tensor.noGrad()) {
        Tensor gc = CudaFlashLongConv.fresh(gy.detach().to(u.dtype()));
        CudaStorage gs = (CudaStorage) gc.storage();
        CudaStorage du = be.allocateOut(g, u.dtype(), b * h * l), dk = be.allocateOut(g, DType.F32, sides * h * lk),
            dD = be.allocateOut(g, DType.F32, h);
        if (generation.getAsLong() != token) upload.run();   // another op ran on the plan since this forward: its values again
        plan.backward(us.buffer(), gs.buffer(), b, du.buffer(), dk.buffer(), dD.buffer());
        Reference.reachabilityFence(gs);
        Reference.reachabilityFence(us);
        Tensor[] grads = new Tensor[nIn];
        grads[0] = Tensor.fromStorage(du, b, h, l);
        Tensor dkt = Tensor.fromStorage(dk, sides, h, lk);                     // (sides, H, Lk) -> lib's (H, [2,] Lk)
        grads[1] = (sides == 2 ? dkt.permute(1, 0, 2).contiguous() : dkt).reshape(k.shape()).to(k.dtype());
        if (d != null) grads[2] = Tensor.fromStorage(dD, h).reshape(d.shape()).to(d.dtype());
        System.arraycopy(blockGrads.get(), 0, grads, nIn - nb, nb);
        return grads;
      } catch (CudaException e) {
        throw new CudaException(e.code(), tag + " backward u " + Arrays.toString(u.shape()) + ": " + e.getMessage());
      }
    });
  }

  /** Whether a graph is being recorded and one of the op's inputs needs a gradient. */
  private static boolean gradWanted(Tensor[] inputs) {
    boolean any = false;
    for (Tensor t : inputs) any |= t != null && t.requiresGrad();
    return Tensor.isGradEnabled() && any;
  }

  /** Block gradients computed on the host, each as its block on u's device ({@link #hostGrad}). */
  private static Tensor[] hostGrads(double[][] gb, Tensor[] blocks, Tensor u) {
    Tensor[] out = new Tensor[blocks.length];
    for (int i = 0; i < blocks.length; i++) out[i] = hostGrad(gb[i], blocks[i], u);
    return out;
  }

  // ---- helper pkdev (session 15): the J-factor plans (PackedMonarchLearned) without host round trips

  /**
   * The op at the J-factor sizes on the device route (default; {@code -Dlongconv4j.pk.op.device=false}: the host route in
   * {@link #run}, its slow twin): the 2J blocks, the taps and D read from the tensors' device memory (converted to F32 there
   * when they are not: {@link #f32}; two-sided taps split into (2, H, Lk) by a device permute), uploaded by
   * {@link PackedMonarchLearned#setBlocksOnDevice} / {@link PackedMonarchLearned#setWeightsOnDevice} (P / Q by the chain's
   * cuFFT route) and the forward, all queued on the device's stream: no synchronisation and no host copy in the forward.
   * P / Q and the blocks are uploaded only when the sources changed since this plan's last device upload: the key
   * {@link Src} (each source's storage by identity, the in-place writes {@link StorageWrites} counted to it, the view) and
   * the plan's {@link PackedMonarchLearned#keptInputs} (dropped by any other upload to the plan, e.g. another op of this
   * shape); Tensor keeps no version of its own, and its one in-place write, {@code copyFrom}, reaches the backend's copy,
   * which counts it; an optimizer's step assigns new storages. {@code -Dlongconv4j.pk.op.reuse=false}: upload at every
   * call (the kept inputs' slow twin). The backward
   * re-uploads the forward's values only when the plan's {@link PackedMonarchLearned#generation} moved since this forward
   * (another op of this shape ran on the plan), as {@link #runPacked}; it synchronises (the block gradients' host copy).
   */
  private static Tensor runMonarch(CudaBackend be, CudaBackend.Gpu g, PackedMonarchLearned plan, Tensor u, Tensor k, Tensor d,
      Tensor[] blocks, ConvMode mode, String tag) {
    boolean bi = mode == ConvMode.BIDIRECTIONAL;
    int b = u.size(0), h = u.size(1), l = u.size(2), lk = k.size(-1), nb = blocks.length;
    Phases ph = phases() ? new Phases(g.dev, "device", b, h, l) : null;
    checkTaps(u, k, d, bi ? 2 : 1, mode);
    Runnable upload = () -> {
      Tensor kt = f32(k), d32 = d == null ? null : f32(d);
      if (bi) kt = kt.reshape(h, 2, lk).permute(1, 0, 2).contiguous();   // (sides, H, Lk): side 1 at H Lk floats
      Tensor[] b32 = new Tensor[nb];
      DevicePointer[] bp = new DevicePointer[nb];
      for (int i = 0; i < nb; i++) bp[i] = at(b32[i] = f32(blocks[i]));
      if (ph != null) ph.mark("f32 views / conversions");
      plan.setBlocksOnDevice(bp);
      if (ph != null) ph.mark("setBlocksOnDevice");
      DevicePointer k0 = at(kt);
      plan.setWeightsOnDevice(k0, bi ? k0.at(4L * h * lk) : null, d32 == null ? null : at(d32));
      if (ph != null) ph.mark("setWeightsOnDevice (P / Q)");
      Reference.reachabilityFence(b32);   // the copies are queued on the stream: any reuse of these buffers is ordered after
      Reference.reachabilityFence(kt);
      Reference.reachabilityFence(d32);
    };
    Src[] key = Src.of(k, d, blocks);
    boolean kept = reuseInputs() && plan.keptInputs() instanceof Src[] was && Src.same(was, key);
    return deviceFrame(be, g, plan, plan::generation, u, k, d, blocks, bi ? 2 : 1, tag, upload, (us, y, bb, grad) -> {
      if (kept) {
        if (ph != null) ph.mark("kept P / Q and blocks (no upload)");
      } else {
        upload.run();
        plan.keepInputs(key);
      }
      plan.forward(us, y, bb);
      if (ph != null) ph.mark("forward").print();
    }, () -> hostGrads(plan.blockGrads(), blocks, u));
  }

  /**
   * Whether the J-factor op's device route keeps P / Q and the blocks between calls while their sources are unchanged
   * ({@link Src}; {@code -Dlongconv4j.pk.op.reuse}, default true; false: every forward uploads, the slow twin). Read per call.
   */
  static boolean reuseInputs() { return !"false".equals(System.getProperty("longconv4j.pk.op.reuse")); }

  /**
   * A source tensor of the plan's uploaded values, as the op saw it: its storage (held weakly, compared by identity), the
   * in-place writes {@link StorageWrites} counted to that storage, and the view (offset, dtype, shape, strides). Two keys are
   * the same only when every source is the same live storage with no write since, through the same view: the values the
   * plan derived from them are then still theirs (an optimizer's step assigns new storages; a {@code copyFrom} counts a
   * write; another op on the plan moves its generation, which drops the kept key).
   */
  record Src(java.lang.ref.WeakReference<ai.longconv4j.tensor.Storage> storage, long writes, int offset, DType dtype, int[] shape, int[] strides) {
    static Src of(Tensor t) {
      if (t == null) return null;
      var s = t.storage();
      StorageWrites.watch(s);
      return new Src(new java.lang.ref.WeakReference<>(s), StorageWrites.writes(s), t.offset(), t.dtype(), t.shape(), t.strides());
    }

    /** Keys of k, D (null allowed) and the blocks, in that order. */
    static Src[] of(Tensor k, Tensor d, Tensor[] blocks) {
      Src[] key = new Src[2 + blocks.length];
      key[0] = of(k);
      key[1] = of(d);
      for (int i = 0; i < blocks.length; i++) key[2 + i] = of(blocks[i]);
      return key;
    }

    boolean sameAs(Src o) {
      var s = storage.get();
      return o != null && s != null && s == o.storage.get() && writes == o.writes && offset == o.offset && dtype == o.dtype
          && Arrays.equals(shape, o.shape) && Arrays.equals(strides, o.strides);
    }

    static boolean same(Src[] a, Src[] b) {
      if (a.length != b.length) return false;
      for (int i = 0; i < a.length; i++)
        if (a[i] == null ? b[i] != null : !a[i].sameAs(b[i])) return false;
      return true;
    }
  }

  /**
   * {@code -Dlongconv4j.pk.op.phases=true} (read per call; for LearnedOpBench's phases rows): the J-factor op's forward
   * synchronises after each phase and prints one line of wall-clock milliseconds per phase (host route: host copies,
   * setBlocks, setWeights with P / Q, the forward kernel; device route: the F32 views / conversions, the two device
   * setters, the forward kernel). The synchronisations make it a breakdown, not a timing of the op.
   */
  static boolean phases() { return "true".equals(System.getProperty("longconv4j.pk.op.phases")); }

  /** Wall-clock phases between device synchronisations (see {@link #phases}). */
  private static final class Phases {
    private final CudaDevice dev;
    private final StringBuilder line;
    private long t;

    Phases(CudaDevice dev, String route, int b, int h, int l) {
      this.dev = dev;
      dev.synchronize();
      line = new StringBuilder("pk op phases " + route + " B=" + b + " H=" + h + " L=" + l);
      t = System.nanoTime();
    }

    Phases mark(String phase) {
      dev.synchronize();
      long now = System.nanoTime();
      line.append(String.format(" | %s %.3f ms", phase, (now - t) / 1e6));
      t = System.nanoTime();   // the formatting is not the next phase's (sittings s1 / s2 charged the first call's ~11 ms to it)
      return this;
    }

    void print() { System.out.println(line); }
  }

  /**
   * A block gradient computed on the host as a tensor like the block on u's device: the fp32 values (exact in F32) uploaded,
   * then converted on the device (BF16 / F16 are not computed on the CPU: converting there failed for 16-bit blocks).
   */
  static Tensor hostGrad(double[] g, Tensor block, Tensor u) {
    return Tensor.of(g, block.shape()).to(DType.F32).to(u.device()).to(block.dtype());
  }
}
