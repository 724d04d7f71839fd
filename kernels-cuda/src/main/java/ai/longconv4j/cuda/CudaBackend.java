// Shapes: elementwise kernels take any n-d shape (collapsed to <= 8 dims here); reductions (O, R, I);
// matmul C (batch, M, N) = A (batch, M, K) B (batch, K, N) row-major; embedding w (V, D), ids (n), out (n, D).
package ai.longconv4j.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD8Async;

import ai.longconv4j.backend.Backend;
import ai.longconv4j.backend.DropoutMaskBackend;
import ai.longconv4j.backend.FusedLinearBackend;
import ai.longconv4j.backend.SpectralConvBackend;
import ai.longconv4j.backend.UnaryOp;
import ai.longconv4j.backend.View;
import ai.longconv4j.backend.WriteCountingBackend;
import ai.longconv4j.backend.cpu.CpuStorage;
import ai.longconv4j.backend.cpu.ElementwiseKernels.Arith;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Storage;
import ai.longconv4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jcuda.Pointer;

/**
 * The CUDA {@link Backend} of {@code ai.longconv4j.tensor}, registered for {@link java.util.ServiceLoader}: tensors
 * moved with {@code x.to(Device.cuda(i))} compute here. Per device (opened on first use): the primary context,
 * one stream, the caching allocator, the kernel modules (elementwise, reduce, gather, spectral .cu files), a cuBLAS
 * handle and cached cuFFT plans. Launches are asynchronous on the stream; {@link #read}, {@code toCpu} and
 * {@link #synchronize} wait. A CUDA failure is a {@link CudaException} naming the op and its shapes; an allocation
 * that fails after a garbage collection (device buffers are returned when their storages become unreachable)
 * is a {@link CudaOutOfMemoryException} with the bytes asked, and the context stays usable.
 */
public final class CudaBackend implements Backend, SpectralConvBackend, DropoutMaskBackend, FusedLinearBackend, WriteCountingBackend {
  private static final int THREADS = 256;
  private final Map<Integer, Gpu> gpus = new ConcurrentHashMap<>();

  /** Per-device state: the device and its lazily created cuBLAS handle and cuFFT plans. */
  static final class Gpu {
    final CudaDevice dev;
    private CuBlas blas;
    private final Map<String, CuFft.Plan> plans = new ConcurrentHashMap<>();

    private final Map<String, FlashButterflyConv> flash = new ConcurrentHashMap<>();
    private final Map<String, LearnedButterflyConv> learned = new ConcurrentHashMap<>();
    private final Map<String, PackedLearnedConv> packedLearned = new ConcurrentHashMap<>();
    private final Map<String, PackedLearnedRef> packedLearnedRef = new ConcurrentHashMap<>();
    private final Map<String, PackedMonarchLearned> packedMonarch = new ConcurrentHashMap<>();
    private volatile boolean poison;

    Gpu(CudaDevice dev) { this.dev = dev; }

    /** Number of FlashButterfly plans made so far (tests). */
    int flashPlans() { return flash.size(); }

    /** The FlashButterfly plan made for (H, L, mode, io), or null (tests). */
    FlashButterflyConv flashPlan(int h, int l, ConvMode mode, ElementType io) { return flash.get(h + "/" + l + "/" + mode + "/" + io); }

    /** One FlashButterfly plan per (H, L, mode, io); its weights are set before every use (stream-ordered). */
    FlashButterflyConv flash(int h, int l, ConvMode mode, ElementType io) {
      Precision p = io == ElementType.BF16 ? Precision.BF16 : Precision.F16;
      return flash.computeIfAbsent(h + "/" + l + "/" + mode + "/" + io, k -> FlashButterflyConv.plan(dev, h, l, mode, io, p));
    }

    /** One learned-butterfly plan per (H, L, Lk, mode, I/O type); weights and blocks are uploaded before every use. */
    LearnedButterflyConv learned(int h, int l, int lk, ConvMode mode, ElementType io) {
      return learned.computeIfAbsent(h + "/" + l + "/" + lk + "/" + mode + "/" + io, k -> LearnedButterflyConv.plan(dev, h, l, lk, mode, io));
    }

    /** One packed learned-butterfly plan per (H, L, Lk, mode, I/O type); weights and blocks are uploaded before every use. */
    PackedLearnedConv packedLearned(int h, int l, int lk, ConvMode mode, ElementType io) {
      return packedLearned.computeIfAbsent(h + "/" + l + "/" + lk + "/" + mode + "/" + io, k -> PackedLearnedConv.plan(dev, h, l, lk, mode, io));
    }

    /** One fp32 packed learned-butterfly plan (PackedLearnedRef: every mode, M <= 4096, F32 / 16-bit I/O) per (H, L, Lk, mode, io). */
    PackedLearnedRef packedLearnedRef(int h, int l, int lk, ConvMode mode, ElementType io) {
      return packedLearnedRef.computeIfAbsent(h + "/" + l + "/" + lk + "/" + mode + "/" + io, k -> PackedLearnedRef.plan(dev, h, l, lk, mode, io));
    }

    /** One J-factor tensor-core packed plan (PackedMonarchLearned: 16-bit, M = 2048 .. 2^18) per (H, L, Lk, mode, io). */
    PackedMonarchLearned packedMonarch(int h, int l, int lk, ConvMode mode, ElementType io) {
      return packedMonarch.computeIfAbsent(h + "/" + l + "/" + lk + "/" + mode + "/" + io, k -> PackedMonarchLearned.plan(dev, h, l, lk, mode, io));
    }

    /** Number of PackedMonarchLearned plans made so far (tests: the route was taken). */
    int packedMonarchPlans() { return packedMonarch.size(); }

    synchronized CuBlas blas() {
      if (blas == null) blas = CuBlas.create(dev);
      return blas;
    }

    private CuBlasLt blasLt;
    private boolean blasLtTried;

    /** The cuBLASLt handle (epilogue fusions), or null when the library is missing (said once on System.Logger). */
    synchronized CuBlasLt blasLt() {
      if (!blasLtTried) {
        blasLtTried = true;
        String why = CuBlasLt.unavailableReason();
        if (why == null) blasLt = CuBlasLt.create(dev);
        else System.getLogger("ai.longconv4j.cuda").log(System.Logger.Level.WARNING, "cuBLASLt unavailable, Linear's bias and"
            + " GELU run as separate kernels after the GEMM: " + why);
      }
      return blasLt;
    }

    CuFft.Plan plan(int n, CuFft.Type type, int batch) {
      return plans.computeIfAbsent(n + "/" + type + "/" + batch, k -> CuFft.plan1d(dev, n, type, batch));
    }
  }

  /** Used by {@link java.util.ServiceLoader}. */
  public CudaBackend() {}

  @Override public Device.Kind kind() { return Device.Kind.CUDA; }

  @Override public String unavailableReason(Device device) {
    if (device.kind() == Device.Kind.CUDA && gpus.containsKey(device.index())) return null;   // opened: the per-op fast path
    if (!Cuda.available()) return Cuda.reason();
    if (device.index() >= Cuda.deviceCount())
      return "no CUDA device " + device.index() + " (this machine has " + Cuda.deviceCount() + ")";
    if (!CudaModule.packaged("elementwise"))
      return "the tensor kernels (elementwise.fatbin) are not in the jar: kernels-cuda was built without nvcc";
    return null;
  }

  Gpu gpu(Device d) {
    if (d.kind() != Device.Kind.CUDA) throw new IllegalArgumentException("CudaBackend: " + d + " is not a CUDA device");
    return gpus.computeIfAbsent(d.index(), i -> {
      String why = unavailableReason(d);
      if (why != null) throw new IllegalStateException(d + " unavailable: " + why);
      return new Gpu(CudaDevice.open(i));
    });
  }

  /** The opened device behind {@code d} (its allocator statistics, stream, modules), opening it on first use. */
  public CudaDevice cudaDevice(Device d) { return gpu(d).dev; }

  static CudaStorage cs(String op, Storage s) {
    if (s instanceof CudaStorage c) return c;
    throw new IllegalArgumentException(op + ": storage on " + s.device() + " passed to the CUDA backend");
  }

  static String tag(DType t) {
    return switch (t) { case F64 -> "f64"; case F32 -> "f32"; case BF16 -> "bf16"; case F16 -> "f16"; };
  }

  // ---- memory ------------------------------------------------------------------------------------------

  /**
   * Allocates from the caching allocator. When the device is full: first a garbage collection, waiting up to ~100 ms
   * for the cleaners to bring dead storages' blocks back to the cache (the cache is kept: emptying it would free
   * blocks of every size, each cuMemFree a device sync, only to allocate them again); then the allocator empties
   * its cache and retries; then, twice more, a collection and a pause before {@link CudaOutOfMemoryException}.
   */
  static DeviceBuffer alloc(CudaDevice dev, long bytes) {
    long b = Math.max(1, bytes);
    DeviceBuffer buf = dev.allocator().alloc(b, false);
    if (buf != null) return buf;
    System.gc();
    for (int i = 0; i < 50 && buf == null; i++) {
      try { Thread.sleep(2); } catch (InterruptedException ie) { Thread.currentThread().interrupt(); break; }
      buf = dev.allocator().alloc(b, false);
    }
    if (buf != null) return buf;
    for (int attempt = 0; ; attempt++) {
      try {
        return dev.alloc(b);
      } catch (CudaOutOfMemoryException e) {
        if (attempt == 2) throw e;
        System.gc();
        try { Thread.sleep(50L * (attempt + 1)); } catch (InterruptedException ie) { Thread.currentThread().interrupt(); throw e; }
      }
    }
  }

  CudaStorage allocate(Gpu g, DType dtype, int length) {
    long bytes = (long) Math.max(1, length) * dtype.bytes();
    DeviceBuffer b = alloc(g.dev, bytes);
    g.dev.makeCurrent();
    Check.cu(cuMemsetD8Async(b.ptr(), (byte) 0, bytes, g.dev.stream().cu()), "cuMemsetD8Async", bytes + " bytes",
        "cuda:" + g.dev.index());
    return new CudaStorage(g.dev, b, dtype, length);
  }

  @Override public Storage allocate(Device device, DType dtype, int length) { return allocate(gpu(device), dtype, length); }

  /**
   * Without the zero fill: for outputs a kernel overwrites entirely. With {@link #poisonOutputs} on, such storages
   * are filled with all-ones bytes first (NaN in every float type), so an element a kernel fails to write shows.
   */
  @Override public Storage allocateUninitialized(Device device, DType dtype, int length) { return allocateOut(gpu(device), dtype, length); }

  /** {@link #allocateUninitialized} on an opened device: for buffers a kernel, cuFFT or a copy overwrites entirely. */
  CudaStorage allocateOut(Gpu g, DType dtype, int length) {
    long bytes = (long) Math.max(1, length) * dtype.bytes();
    DeviceBuffer b = alloc(g.dev, bytes);
    if (g.poison) {
      g.dev.makeCurrent();
      Check.cu(cuMemsetD8Async(b.ptr(), (byte) 0xff, bytes, g.dev.stream().cu()), "cuMemsetD8Async(poison)", bytes + " bytes",
          "cuda:" + g.dev.index());
    }
    return new CudaStorage(g.dev, b, dtype, length);
  }

  /**
   * Test switch for {@code device}: outputs of the tensor kernels start as NaN (all-ones bytes) instead of undefined.
   * Costs one memset per op; off by default.
   */
  public void poisonOutputs(Device device, boolean on) { gpu(device).poison = on; }

  @Override public boolean adamw(int n, View p, View g, View m, View v, View pOut, View mOut, View vOut,
      double lr, double wd, double b1, double b2, double eps, double bc1, double bc2) {
    CudaStorage ps = cs("adamw", p.storage());
    launch(ps.cudaDevice(), "optim", "adamw_" + tag(ps.dtype()), n, "adamw", new int[] {n}, ps, p.offset(),
        cs("adamw", g.storage()), g.offset(), cs("adamw", m.storage()), m.offset(), cs("adamw", v.storage()), v.offset(),
        cs("adamw", pOut.storage()), pOut.offset(), cs("adamw", mOut.storage()), mOut.offset(), cs("adamw", vOut.storage()),
        vOut.offset(), n, lr, wd, b1, b2, eps, bc1, bc2);
    return true;
  }

  @Override public Storage upload(Device device, CpuStorage src, DType dtype) {
    Gpu g = gpu(device);
    DType st = src.dtype();
    int n = src.length();
    long bytes = (long) Math.max(1, n) * st.bytes();
    DeviceBuffer b = alloc(g.dev, bytes);
    g.dev.makeCurrent();
    if (n > 0) {
      Pointer p = st == DType.F64 ? Pointer.to(src.f64()) : Pointer.to(src.f32());
      Check.cu(cuMemcpyHtoD(b.ptr(), p, (long) n * st.bytes()), "cuMemcpyHtoD", "upload " + st + "[" + n + "]",
          "cuda:" + g.dev.index());
    }
    CudaStorage s = new CudaStorage(g.dev, b, st, n);
    if (st == dtype) return s;
    CudaStorage out = allocateOut(g, dtype, n);     // the copy below writes all of it
    int[] shape = {n};
    copy(shape, new View(s, new int[] {1}, 0), new View(out, new int[] {1}, 0));
    return out;
  }

  @Override public double read(Storage s, int index) { return cs("read", s).read(index); }

  @Override public void synchronize(Device device) { gpu(device).dev.synchronize(); }

  /**
   * CUDA-event time: each reading records an event on the device's stream, waits for it and returns the
   * nanoseconds since the first event (cuEventElapsedTime, ~0.5 us resolution). Events are pooled per clock.
   */
  @Override public java.util.function.LongSupplier clock(Device device) {
    CudaDevice dev = gpu(device).dev;
    CudaEvent origin = new CudaEvent(dev).record(dev.stream());
    CudaEvent mark = new CudaEvent(dev);
    return () -> Math.round(mark.record(dev.stream()).elapsedSince(origin) * 1e6);
  }

  // ---- launching ---------------------------------------------------------------------------------------

  static int blocks(CudaDevice dev, long n) { return (int) Math.max(1, Math.min((n + THREADS - 1) / THREADS, dev.smCount() * 32L)); }

  /** Launches {@code module.fn} over n elements; a CUDA error is rethrown with the op and its shapes. */
  static void launch(CudaDevice dev, String module, String fn, long n, String op, Object shapes, Object... args) {
    if (n <= 0) return;
    launchGrid(dev, module, fn, blocks(dev, n), op, shapes, args);
  }

  /**
   * Storages among {@code args} are passed as their buffers and kept reachable until the launch is queued (so their
   * cleaners cannot return the memory mid-call; later reuse is ordered by the stream).
   */
  static void launchGrid(CudaDevice dev, String module, String fn, int grid, String op, Object shapes, Object... args) {
    Object[] a = args.clone();
    for (int i = 0; i < a.length; i++) if (a[i] instanceof CudaStorage c) a[i] = c.buffer();
    try {
      dev.module(module).kernel(fn).launch(dev.stream(), grid, 1, THREADS, 0, a);
    } catch (CudaException e) {
      throw new CudaException(e.code(), op + " " + shapeText(shapes) + ": " + e.getMessage());
    } finally {
      java.lang.ref.Reference.reachabilityFence(args);
    }
  }

  static String shapeText(Object shapes) {
    return shapes instanceof int[] a ? Arrays.toString(a) : String.valueOf(shapes);
  }

  // ---- elementwise -------------------------------------------------------------------------------------

  static Gpu one(CudaBackend be, Storage s) { return be.gpu(s.device()); }

  @Override public void copy(int[] shape, View src, View dst) {
    CudaStorage s = cs("copy", src.storage()), d = cs("copy", dst.storage());
    StorageWrites.wrote(d);   // pkdev: in-place writes seen by plans that keep values derived from d
    if (CopyEngine.tryCopy(shape, src, dst, s, d)) return;   // dense and same-typed: cuMemcpyDtoDAsync
    int[] m = StridedMeta.meta(shape, dst, src);
    launch(s.cudaDevice(), "elementwise", "ew_copy_" + tag(s.dtype()) + "_" + tag(d.dtype()), m[1], "copy", shape, m, s,
        d);
  }

  /** {@link StorageWrites}' count of in-place writes (copy, fill) to s, counting from this call on (session 18, helper layer). */
  @Override public long writes(Storage s) {
    StorageWrites.watch(s);
    return StorageWrites.writes(s);
  }

  @Override public void fill(int[] shape, View dst, double value) {
    CudaStorage d = cs("fill", dst.storage());
    StorageWrites.wrote(d);   // pkdev: as in copy
    int[] m = StridedMeta.meta(shape, dst);
    launch(d.cudaDevice(), "elementwise", "ew_fill_" + tag(d.dtype()), m[1], "fill", shape, m, d, value);
  }

  @Override public void unary(UnaryOp op, double p, int[] shape, View x, View y) {
    CudaStorage xs = cs(op.name(), x.storage()), ys = cs(op.name(), y.storage());
    int[] m = StridedMeta.meta(shape, y, x);
    launch(xs.cudaDevice(), "elementwise", "ew_unary_" + tag(xs.dtype()), m[1], op.name().toLowerCase(), shape, m, xs,
        ys, op.code(), p);
  }

  @Override public void unaryGrad(UnaryOp op, double p, int[] shape, View x, View y, View g, View dx) {
    String name = op.name().toLowerCase() + "'";
    CudaStorage xs = cs(name, x.storage()), ys = cs(name, y.storage()), gs = cs(name, g.storage()), ds = cs(name, dx.storage());
    int[] m = StridedMeta.meta(shape, dx, x, y, g);
    launch(xs.cudaDevice(), "elementwise", "ew_unary_grad_" + tag(xs.dtype()), m[1], name, shape, m, xs, ys,
        gs, ds, op.code(), p);
  }

  @Override public void binary(Arith op, int[] shape, View a, View b, View out) {
    String name = op.name().toLowerCase();
    CudaStorage as = cs(name, a.storage()), bs = cs(name, b.storage()), os = cs(name, out.storage());
    int[] m = StridedMeta.meta(shape, out, a, b);
    launch(as.cudaDevice(), "elementwise", "ew_binary_" + tag(as.dtype()), m[1], name, shape, m, as, bs,
        os, op.ordinal());
  }

  @Override public void select(int[] shape, View cond, View a, View b, View out) {
    CudaStorage c = cs("where", cond.storage()), as = cs("where", a.storage()), bs = cs("where", b.storage()),
        os = cs("where", out.storage());
    View cv = cond;
    if (c.dtype() != as.dtype()) {          // the mask in the values' dtype (0 stays 0, nonzero stays nonzero except
      CudaStorage cc = allocateOut(one(this, c), as.dtype(), size(shape));   // below the 16-bit range: not an issue for masks)
      copy(shape, cond, new View(cc, StridedMeta.contiguous(shape), 0));
      c = cc;
      cv = new View(cc, StridedMeta.contiguous(shape), 0);
    }
    int[] m = StridedMeta.meta(shape, out, cv, a, b);
    launch(as.cudaDevice(), "elementwise", "ew_select_" + tag(as.dtype()), m[1], "where", shape, m, c, as,
        bs, os);
    if (c != cs("where", cond.storage())) c.release();     // the converted mask: a temporary
  }

  /** The counter-based mask in one kernel ({@code dropout.cu}; Java twin {@code DropoutMasks}); no host draw, no upload. */
  @Override public void dropoutMask(Storage out, int n, long seed, double p, double scale) {
    CudaStorage os = cs("dropout", out);
    launch(os.cudaDevice(), "dropout", "dropout_mask_" + tag(os.dtype()), n, "dropout", new int[] {n}, os, (long) n, seed, p,
        scale);
  }

  static int size(int[] shape) {
    int n = 1;
    for (int s : shape) n *= s;
    return n;
  }

  // ---- reductions --------------------------------------------------------------------------------------

  /** One thread per output when the inner run is wide or the reduced axis short; else one block per output. */
  private static boolean perThread(int red, int inner) { return inner >= 32 || red <= 32; }

  /**
   * Short reduced axes (R <= 32): one thread per output. Longer ones: the split reduction of {@link ReducePlan}
   * (R cut into chunks so even one output or a bias gradient (1, B*L, D) fills the GPU; f64 partials, summed in
   * chunk order). {@code -Dlongconv4j.cuda.reduce=legacy} goes back to one thread / one block per output.
   */
  @Override public void sum(Storage x, int off, int outer, int red, int inner, Storage out) {
    CudaStorage xs = cs("sum", x), os = cs("sum", out);
    int[] sh = {outer, red, inner};
    if (outer * inner == 0) return;
    if (red <= 32 || LEGACY_REDUCE) {
      if (perThread(red, inner))
        launch(xs.cudaDevice(), "reduce", "red_sum_thread_" + tag(xs.dtype()), (long) outer * inner, "sum", sh, xs, off,
            outer, red, inner, os);
      else launchBlocks(xs.cudaDevice(), "red_sum_block_" + tag(xs.dtype()), outer * inner, "sum", sh, xs, off, outer, red,
          inner, os);
      return;
    }
    CudaRowOps.splitSum(xs, off, outer, red, inner, false, os, 0, false);
  }

  static final boolean LEGACY_REDUCE = "legacy".equals(System.getProperty("longconv4j.cuda.reduce"));

  /** The fused sum of squares into out[outIndex] (F64): {@link CudaRowOps#sumSquares}. */
  @Override public void sumSquares(Storage x, int off, int n, Storage out, int outIndex) {
    CudaRowOps.sumSquares(this, x, off, n, out, outIndex);
  }

  /** {@code norm.cu}'s fused LayerNorm: {@link CudaRowOps#layerNorm}. */
  @Override public boolean layerNorm(int rows, int d, Storage x, int xOff, Storage w, int wOff, Storage b, int bOff,
      double eps, Storage y, Storage mean, Storage rstd) {
    return CudaRowOps.layerNorm(rows, d, x, xOff, w, wOff, b, bOff, eps, y, mean, rstd);
  }

  @Override public boolean layerNormBackward(int rows, int d, Storage x, int xOff, Storage w, int wOff, Storage mean,
      Storage rstd, Storage g, int gOff, Storage dx, Storage dw, Storage db) {
    return CudaRowOps.layerNormBackward(rows, d, x, xOff, w, wOff, mean, rstd, g, gOff, dx, dw, db);
  }

  /** {@code xent.cu}'s fused cross-entropy: {@link CudaRowOps#crossEntropy}. */
  @Override public Object crossEntropy(int rows, int v, Storage logits, int off, int[] targets, int ignoreIndex, int count,
      Storage loss) {
    return CudaRowOps.crossEntropy(this, rows, v, logits, off, targets, ignoreIndex, count, loss);
  }

  @Override public void crossEntropyBackward(Object handle, Storage g, int gOff, Storage dx) {
    CudaRowOps.crossEntropyBackward(handle, g, gOff, dx);
  }

  private static void launchBlocks(CudaDevice dev, String fn, int outputs, String op, int[] sh, Object... args) {
    launchGrid(dev, "reduce", fn, Math.max(1, Math.min(outputs, dev.smCount() * 32)), op, sh, args);
  }

  /** Device int32 argmax indices, returned to the allocator when unreachable. */
  record ArgMax(CudaStorage idx, int count) {}

  @Override public Object max(Storage x, int off, int outer, int red, int inner, Storage out) {
    CudaStorage xs = cs("max", x), os = cs("max", out);
    int n = outer * inner;
    // int32 indices in an F32-sized storage (4 bytes each); only the kernels below read them
    CudaStorage idx = allocateOut(one(this, xs), DType.F32, n);   // every index is written by the max kernels
    int[] sh = {outer, red, inner};
    if (n > 0) {
      if (perThread(red, inner))
        launch(xs.cudaDevice(), "reduce", "red_max_thread_" + tag(xs.dtype()), n, "max", sh, xs, off, outer, red, inner,
            os, idx);
      else launchBlocks(xs.cudaDevice(), "red_max_block_" + tag(xs.dtype()), n, "max", sh, xs, off, outer, red, inner,
          os, idx);
    }
    return new ArgMax(idx, n);
  }

  @Override public void maxGrad(Object arg, Storage g, int gOff, int outer, int red, int inner, Storage dx) {
    ArgMax a = (ArgMax) arg;
    CudaStorage gs = cs("max'", g), ds = cs("max'", dx);
    launch(gs.cudaDevice(), "reduce", "red_max_grad_" + tag(gs.dtype()), (long) outer * inner, "max'", new int[] {outer, red, inner},
        a.idx(), gs, gOff, outer, red, inner, ds);
  }

  @Override public void argmaxValues(Object arg, Storage out) {
    ArgMax a = (ArgMax) arg;
    CudaStorage os = cs("argmax", out);
    launch(os.cudaDevice(), "reduce", "red_arg_values_" + tag(os.dtype()), a.count(), "argmax", new int[] {a.count()},
        a.idx(), a.count(), os);
  }

  // ---- matmul ------------------------------------------------------------------------------------------

  static CuBlas.DataType blasType(DType t) {
    return switch (t) { case F64 -> CuBlas.DataType.F64; case F32 -> CuBlas.DataType.F32; case BF16 -> CuBlas.DataType.BF16;
      case F16 -> CuBlas.DataType.F16; };
  }

  /** The common stride of {@code off} (off[i] = off[0] + i * stride), or -1 when there is none. */
  static long uniformStride(int[] off) {
    if (off.length == 1) return 0;
    long s = (long) off[1] - off[0];
    if (s < 0) return -1;
    for (int i = 2; i < off.length; i++) if ((long) off[i] - off[i - 1] != s) return -1;
    return s;
  }

  @Override public void matmul(int batch, int m, int n, int k, Storage a, int[] aOff, int lda, boolean transA,
      Storage b, int[] bOff, int ldb, boolean transB, Storage c) {
    CudaStorage as = cs("matmul", a), bs = cs("matmul", b), ocs = cs("matmul", c);
    CuBlas blas = one(this, as).blas();
    CuBlas.DataType t = blasType(as.dtype());
    // row-major C (M, N) = A B  <=>  column-major C^T (N, M) = B^T A^T: B's storage is the first operand
    long sa = uniformStride(aOff), sb = uniformStride(bOff);
    try {
      if (sa >= 0 && sb >= 0) {
        blas.gemmStridedBatchedEx(transB, transA, n, m, k, 1, bs.at(bOff[0]), t, ldb, sb, as.at(aOff[0]), t, lda, sa, 0,
            ocs.at(0), t, n, (long) m * n, batch);
      } else {
        for (int i = 0; i < batch; i++)
          blas.gemmStridedBatchedEx(transB, transA, n, m, k, 1, bs.at(bOff[i]), t, ldb, 0, as.at(aOff[i]), t, lda, 0, 0,
              ocs.at((long) i * m * n), t, n, 0, 1);
      }
    } catch (CudaException e) {
      throw new CudaException(e.code(), "matmul (batch " + batch + ", M " + m + ", K " + k + ", N " + n + ", " + as.dtype() + "): "
          + e.getMessage());
    } finally {
      java.lang.ref.Reference.reachabilityFence(as);
      java.lang.ref.Reference.reachabilityFence(bs);
      java.lang.ref.Reference.reachabilityFence(ocs);
    }
  }

  /**
   * How the fused linear path went so far in this JVM: forwards fused by cuBLASLt / declined (no algorithm: the unfused
   * ops ran), and dw GEMMs that produced db in their BGRADB epilogue / declined. For benchmarks and logs.
   */
  public static String fusedLinearStats() {
    return "cuBLASLt " + (CuBlasLt.unavailableReason() == null ? "loaded" : "unavailable") + ": forward fused "
        + CudaFusedLinear.FUSED.get() + ", declined " + CudaFusedLinear.DECLINED.get() + ", bias epilogue lost to GEMM + add "
        + CudaFusedLinear.VIA_GEMM.get() + "; dw+db (BGRADB) fused "
        + CudaFusedLinear.BGRADB.get() + ", declined " + CudaFusedLinear.BGRADB_DECLINED.get()
        + (CuBlasLt.lastDecline() == null ? "" : "; last decline: " + CuBlasLt.lastDecline())
        + (CuBlasLt.lastChoice() == null ? "" : "; last autotune: " + CuBlasLt.lastChoice())
        + (CudaFusedLinear.lastBiasChoice() == null ? "" : "; last bias choice: " + CudaFusedLinear.lastBiasChoice());
  }

  /** Linear with bias / tanh-GELU in the GEMM's cuBLASLt epilogue ({@link CudaFusedLinear}); null where it does not apply. */
  @Override public Tensor linear(Tensor x, Tensor w, Tensor b, FusedLinearBackend.Activation act) {
    return CudaFusedLinear.apply(this, x, w, b, act);
  }

  // ---- embedding ---------------------------------------------------------------------------------------

  CudaStorage uploadIds(Gpu g, int[] ids) {
    CudaStorage s = allocateOut(g, DType.F32, ids.length);   // int32 ids in 4-byte slots, all copied in below
    g.dev.makeCurrent();
    Check.cu(cuMemcpyHtoD(s.buffer().ptr(), Pointer.to(ids), 4L * ids.length), "cuMemcpyHtoD", "ids[" + ids.length + "]",
        "cuda:" + g.dev.index());
    return s;
  }

  @Override public void gather(Storage w, int wOff, int dm, int[] ids, Storage out) {
    CudaStorage ws = cs("embedding", w), os = cs("embedding", out);
    CudaStorage is = uploadIds(one(this, ws), ids);
    launch(ws.cudaDevice(), "gather", "gather_" + tag(ws.dtype()), (long) ids.length * dm, "embedding", new int[] {ids.length, dm},
        ws, wOff, dm, is, ids.length, os);
    is.release();
  }

  @Override public void scatterAdd(Storage g, int gOff, int dm, int[] ids, Storage dw) {
    CudaStorage gs = cs("embedding'", g), ds = cs("embedding'", dw);
    CudaStorage is = uploadIds(one(this, gs), ids);
    launch(gs.cudaDevice(), "gather", "scatter_add_" + tag(gs.dtype()), (long) ids.length * dm, "embedding'",
        new int[] {ids.length, dm}, gs, gOff, dm, is, ids.length, ds);
    is.release();
  }

  // ---- long convolution --------------------------------------------------------------------------------

  /** 16-bit inputs: FlashButterfly's power-of-two N where its plans apply (N <= 2^19); else 2L (circular: L). */
  @Override public int fftSize(ai.longconv4j.conv.ConvMode mode, int length, DType dtype) {
    int n = CudaFlashLongConv.fftSize(mode, length, dtype);
    return n > 0 ? n : SpectralConvBackend.super.fftSize(mode, length, dtype);
  }

  /** The learned-butterfly convolution of F32 / BF16 / F16 tensors ({@link CudaLearnedConv}); null where no kernel applies. */
  @Override public Tensor learnedConv(Tensor u, Tensor k, Tensor d, ai.longconv4j.conv.ConvMode mode, Tensor[] blocks) {
    return CudaLearnedConv.apply(this, u, k, d, mode, blocks);
  }

  /** The packed learned-butterfly convolution of BF16 / F16 tensors ({@link CudaLearnedConv#applyPacked}); null where no kernel applies. */
  @Override public Tensor learnedPackedConv(Tensor u, Tensor k, Tensor d, ai.longconv4j.conv.ConvMode mode, Tensor[] blocks) {
    return CudaLearnedConv.applyPacked(this, u, k, d, mode, blocks);
  }

  /** BF16/F16 with one kernel channel where FlashButterfly's plans apply: the fused op ({@link CudaFlashLongConv#applyD}); else null. */
  @Override public Tensor spectralConvD(Tensor u, Tensor k, Tensor d, ai.longconv4j.conv.ConvMode mode, int taps0, int taps1) {
    return CudaFlashLongConv.applyD(this, u, k, d, mode, taps0, taps1);
  }

  /** F32/F64: cuFFT ({@link CudaLongConv}); BF16/F16: FlashButterfly ({@link CudaFlashLongConv}) where N fits, else cuFFT in F32. */
  @Override public Tensor spectralConv(Tensor u, Tensor kN, ai.longconv4j.conv.ConvMode mode, int taps) {
    return switch (CudaFlashLongConv.route(u.dtype(), mode, u.size(2), kN.size(2))) {
      case CUFFT -> CudaLongConv.apply(this, u, kN);
      case FLASH_BUTTERFLY -> CudaFlashLongConv.apply(this, u, kN, mode, taps);
      case CUFFT_F32 -> CudaLongConv.apply(this, u.to(DType.F32), kN.to(DType.F32)).to(u.dtype());
    };
  }
}
