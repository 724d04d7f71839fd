// Shapes: column-major D (m, n) = epilogue(op(A) (m, k) · op(B) (k, n)); bias (m) for BIAS / GELU_AUX_BIAS,
//   bias gradient (n) for BGRADB (sum over k of op(B)), aux (m, n) with leading dimension auxLd (a multiple of 8).
package ai.longconv4j.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Map;

/**
 * cuBLASLt through Java's FFM API ({@code libcublasLt.so.13}, then {@code .12}, then {@code libcublasLt.so}): one
 * {@code cublasLtMatmul} with an epilogue (bias, GELU with its pre-activation kept, GELU gradient, bias gradient),
 * fp32 accumulation (fp64 for F64), on the device's stream, with a workspace of {@link #WORKSPACE_BYTES} allocated once.
 * The algorithm comes from {@code cublasLtMatmulAlgoGetHeuristic}, autotuned (the fastest of its first 8 results,
 * timed on the first call's operands) unless {@code -Dlongconv4j.cublasLt.autotune=false}, and is cached with the
 * matmul descriptor and layouts per shape, epilogue and pointer alignment (see {@link #matmul}). When the heuristic has no algorithm (an epilogue or alignment the library does not support for these
 * types), {@link #matmul} returns false and queues nothing: the caller takes its unfused path.
 *
 * <p>The GELU of the epilogues is the tanh approximation {@code 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))} (cuBLAS
 * documentation, cublasLtEpilogue_t, note 5), never the erf form.
 *
 * <p>Enum values and struct sizes (cublasLt.h is not installed here; no header is compiled against): taken from
 * NVIDIA's cuBLAS documentation (section cublasLtEpilogue_t: DEFAULT = 1, BIAS = 4, GELU = 32, GELU_AUX = GELU | 128,
 * GELU_BIAS = GELU | BIAS, GELU_AUX_BIAS = GELU_AUX | BIAS,
 * DGELU = 64 | 128, DGELU_BGRAD = DGELU | 16, BGRADA = 256, BGRADB = 512) and cross-checked against two public copies
 * of cublasLt.h (the CUDA 11 header, which lists the matmul descriptor attributes 0..15 with their C types and the
 * 8 x uint64 {@code cublasLtMatmulAlgo_t}, and a CUDA 12 stub header listing EPILOGUE_AUX_DATA_TYPE = 22,
 * BIAS_DATA_TYPE = 26 and {@code cublasLtMatmulHeuristicResult_t = {algo, size_t workspaceSize, cublasStatus_t state,
 * float wavesCount, int reserved[4]}} = 64 + 8 + 4 + 4 + 16 = 96 bytes, state at byte 72). cudaDataType and
 * cublasComputeType_t values are those {@link CuBlas} already uses (CUDA_R_32F 0, CUDA_R_64F 1, CUDA_R_16F 2,
 * CUDA_R_16BF 14; CUBLAS_COMPUTE_32F 68, CUBLAS_COMPUTE_64F 70). CUBLAS_STATUS_NOT_SUPPORTED = 15 (cublas_api.h).
 */
public final class CuBlasLt implements AutoCloseable {
  /** Workspace given to every matmul (cuBLAS recommends 32 MiB on Hopper). */
  public static final long WORKSPACE_BYTES = 32L << 20;

  /** cublasLtEpilogue_t values (see the class comment for their source). */
  public enum Epilogue {
    /** D = op(A) op(B). */
    DEFAULT(1),
    /** D = op(A) op(B) + bias, bias of length m broadcast over the columns. */
    BIAS(4),
    /** D = gelu(op(A) op(B) + bias), no aux (inference: nothing kept for a backward). */
    GELU_BIAS(32 | 4),
    /** D = gelu(op(A) op(B)), no aux. */
    GELU(32),
    /** D = gelu(op(A) op(B)), aux = the pre-activation. */
    GELU_AUX(32 | 128),
    /** D = gelu(op(A) op(B) + bias), aux = the pre-activation (for the backward). */
    GELU_AUX_BIAS(32 | 128 | 4),
    /** D = gelu'(aux) ⊙ (op(A) op(B)). */
    DGELU(64 | 128),
    /** As DGELU, and bias = the row sums of D (length m). */
    DGELU_BGRAD(64 | 128 | 16),
    /** D = op(A) op(B), bias = the sums of op(A) over k (length m). */
    BGRADA(256),
    /** D = op(A) op(B), bias = the sums of op(B) over k (length n). */
    BGRADB(512);

    final int code;

    Epilogue(int code) { this.code = code; }

    boolean hasBias() { return this == BIAS || this == GELU_BIAS || this == GELU_AUX_BIAS || this == DGELU_BGRAD || this == BGRADA || this == BGRADB; }

    boolean hasAux() { return this == GELU_AUX || this == GELU_AUX_BIAS || this == DGELU || this == DGELU_BGRAD; }
  }

  // cublasLtMatmulDescAttributes_t (C types: TRANSA/TRANSB int32, EPILOGUE uint32, pointers void*, AUX_LD int64,
  // the two data types int32)
  private static final int DESC_TRANSA = 3, DESC_TRANSB = 4, DESC_EPILOGUE = 7, DESC_BIAS_POINTER = 8,
      DESC_AUX_POINTER = 11, DESC_AUX_LD = 12, DESC_AUX_DATA_TYPE = 22, DESC_BIAS_DATA_TYPE = 26;
  /** cublasLtMatmulPreferenceAttributes_t: MAX_WORKSPACE_BYTES, uint64. */
  private static final int PREF_MAX_WORKSPACE_BYTES = 1;
  private static final int COMPUTE_32F = 68, COMPUTE_64F = 70, OP_N = 0, OP_T = 1;
  static final int STATUS_NOT_SUPPORTED = 15;
  static final long ALGO_BYTES = 64, HEURISTIC_RESULT_BYTES = 96, HEURISTIC_STATE_OFFSET = 72;

  /** Why the library cannot be used (null: it loaded with every symbol bound). */
  private static final class Probe {
    static final String REASON = probe();

    private static String probe() {
      try {
        return Lib.LIB == null ? "cuBLASLt not loaded" : null;
      } catch (Throwable t) {
        Throwable c = t instanceof ExceptionInInitializerError e && e.getCause() != null ? e.getCause() : t;
        return c.getMessage();
      }
    }
  }

  private static final class Lib {
    static final NativeLibrary LIB = NativeLibrary.open("libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so");
    static final MethodHandle CREATE = LIB.fn("cublasLtCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle DESTROY = LIB.fn("cublasLtDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle DESC_CREATE = LIB.fn("cublasLtMatmulDescCreate",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    static final MethodHandle DESC_DESTROY = LIB.fn("cublasLtMatmulDescDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle DESC_SET = LIB.fn("cublasLtMatmulDescSetAttribute",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
    static final MethodHandle LAYOUT_CREATE = LIB.fn("cublasLtMatrixLayoutCreate",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    static final MethodHandle LAYOUT_DESTROY = LIB.fn("cublasLtMatrixLayoutDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle PREF_CREATE = LIB.fn("cublasLtMatmulPreferenceCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle PREF_DESTROY = LIB.fn("cublasLtMatmulPreferenceDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle PREF_SET = LIB.fn("cublasLtMatmulPreferenceSetAttribute",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
    static final MethodHandle HEURISTIC = LIB.fn("cublasLtMatmulAlgoGetHeuristic", FunctionDescriptor.of(JAVA_INT,
        ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle MATMUL = LIB.fn("cublasLtMatmul", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
        ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
  }

  /**
   * One matmul's description, column-major: D (m, n) = op(A) op(B) with the epilogue; lda/ldb/ldd leading dimensions
   * in elements (A stored (m, k), or (k, m) when transA; likewise B); auxLd the aux buffer's leading dimension (0 when
   * the epilogue has no aux). All matrices of {@code type}; bias and aux too.
   */
  public record Op(boolean transA, boolean transB, int m, int n, int k, int lda, int ldb, int ldd, CuBlas.DataType type,
                   Epilogue epilogue, long auxLd) {
    public Op {
      if (m < 1 || n < 1 || k < 1)
        throw new IllegalArgumentException("cublasLtMatmul: m, n, k must be >= 1, got " + m + ", " + n + ", " + k);
      if (lda < (transA ? k : m) || ldb < (transB ? n : k) || ldd < m)
        throw new IllegalArgumentException("cublasLtMatmul: leading dimensions too small: m=" + m + ", n=" + n + ", k=" + k
            + ", transA=" + transA + ", transB=" + transB + ", lda=" + lda + ", ldb=" + ldb + ", ldd=" + ldd);
      if (epilogue.hasAux() && (auxLd < m || auxLd % 8 != 0))
        throw new IllegalArgumentException("cublasLtMatmul: aux leading dimension must be >= m and a multiple of 8 (cuBLASLt), got "
            + auxLd + " for m=" + m);
    }

    @Override public String toString() {
      return "m=" + m + ", n=" + n + ", k=" + k + ", transA=" + transA + ", transB=" + transB + ", lda=" + lda + ", ldb=" + ldb
          + ", ldd=" + ldd + ", " + type + ", " + epilogue + (epilogue.hasAux() ? ", auxLd=" + auxLd : "");
    }
  }

  private final CudaDevice device;
  private final MemorySegment handle;
  private final DeviceBuffer workspace;
  private final Arena arena = Arena.ofShared();
  private final MemorySegment one32, zero32, one64, zero64;
  private boolean closed;

  private CuBlasLt(CudaDevice device, MemorySegment handle, DeviceBuffer workspace) {
    this.device = device;
    this.handle = handle;
    this.workspace = workspace;
    one32 = arena.allocate(JAVA_FLOAT);
    one32.set(JAVA_FLOAT, 0, 1f);
    zero32 = arena.allocate(JAVA_FLOAT);
    one64 = arena.allocate(JAVA_DOUBLE);
    one64.set(JAVA_DOUBLE, 0, 1d);
    zero64 = arena.allocate(JAVA_DOUBLE);
  }

  private static volatile String lastDecline;

  /** Why the last declined op was declined (the call, the op and the cuBLAS status), or null when none was. */
  public static String lastDecline() { return lastDecline; }

  /** Null when cuBLASLt loaded with every symbol this class binds; else why not (the sonames tried). */
  public static String unavailableReason() { return Probe.REASON; }

  /** The library that was bound, e.g. "libcublasLt.so.13". */
  public static String soname() {
    if (Probe.REASON != null) throw new UnsupportedOperationException("cuBLASLt unavailable: " + Probe.REASON);
    return Lib.LIB.soname();
  }

  static void check(int rc, String op, Object details) {
    if (rc != 0) throw new CudaException(rc, op + " [" + details + "] failed: cublasStatus " + rc);
  }

  /** A handle on {@code device} with its workspace from the device's allocator. */
  public static CuBlasLt create(CudaDevice device) {
    if (Probe.REASON != null)
      throw new UnsupportedOperationException("cuBLASLt unavailable (the epilogue fusions need it): " + Probe.REASON);
    device.makeCurrent();
    try (Arena a = Arena.ofConfined()) {
      MemorySegment p = a.allocate(ADDRESS);
      check((int) Lib.CREATE.invokeExact(p), "cublasLtCreate", "device " + device.index());
      return new CuBlasLt(device, p.get(ADDRESS, 0), device.alloc(WORKSPACE_BYTES));
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /** The alignment class of a device address (the heuristic's choice depends on it): 16, 8, 4, 2 or 1 bytes. */
  static int alignment(DevicePointer p) {
    if (p == null) return 0;
    long a = p.address();
    return (int) Math.min(16, Long.lowestOneBit(a == 0 ? 16 : a));
  }

  /**
   * Whether the first use of an op key times the heuristic's candidates ({@code -Dlongconv4j.cublasLt.autotune=false}:
   * take the heuristic's first result untimed, the slow twin). Read per call, so tests and benchmarks can flip it; the
   * flag is part of the plan key.
   */
  static boolean autotune() { return !"false".equals(System.getProperty("longconv4j.cublasLt.autotune")); }

  /** Candidates asked of the heuristic when autotuning; launches timed per candidate (after one untimed). */
  static final int CANDIDATES = 8, TUNE_REPEATS = 5;

  /**
   * The cache key of one op: its shape, types, epilogue, the alignment class of every pointer (the heuristic's choice
   * depends on them) and whether the algorithm was autotuned.
   */
  static String key(Op op, boolean tuned, DevicePointer... ptrs) {
    StringBuilder sb = new StringBuilder(op.toString()).append('|');
    for (DevicePointer p : ptrs) sb.append(alignment(p)).append(',');
    return sb.append(tuned ? "tuned" : "first").toString();
  }

  /**
   * The index of the smallest finite, non-negative time ({@code NaN} marks a candidate that failed to launch), or -1
   * when there is none; ties go to the earlier index (the heuristic's own ranking).
   */
  static int fastest(float[] ms) {
    int best = -1;
    for (int i = 0; i < ms.length; i++)
      if (Float.isFinite(ms[i]) && ms[i] >= 0 && (best < 0 || ms[i] < ms[best])) best = i;
    return best;
  }

  /**
   * One op key's cached state: matmul descriptor and layouts (created once, destroyed by {@link #close}; only the
   * bias/aux pointers are set per call) and the chosen algorithm (null: not chosen yet; zero length: none).
   */
  private static final class Plan {
    MemorySegment desc, la, lb, ld, algo;
    String choice = "";
  }

  private final Map<String, Plan> plans = new java.util.HashMap<>();
  private static volatile String lastChoice;

  /** How the last autotuned op key chose its algorithm (the op, candidates, the times), or null before any. */
  public static String lastChoice() { return lastChoice; }

  /**
   * Queues {@code D = epilogue(op(A) op(B))} (alpha 1, beta 0; C is D) on the device's stream. {@code bias}: the bias
   * (BIAS, GELU_AUX_BIAS) or the bias gradient written (DGELU_BGRAD, BGRADA, BGRADB), else null; {@code aux}: the
   * pre-activation written (GELU_AUX*) or read (DGELU*), else null. Returns false, queuing nothing, when cuBLASLt has
   * no algorithm for this op (the caller then runs its unfused path); a failure of any other kind throws a
   * {@link CudaException} naming the call and the op.
   *
   * <p>The first call of an op key (see {@link #key}) builds its descriptor and layouts (kept) and chooses the
   * algorithm: with {@link #autotune()}, up to {@link #CANDIDATES} heuristic results are each launched
   * {@link #TUNE_REPEATS} times on these very operands, timed with CUDA events on the device stream, and the fastest
   * is kept. Those launches only write this op's outputs (D, aux, the bias gradient; beta is 0), which the real launch
   * then overwrites, so they are harmless; the op reads nothing it writes (aux is read only by DGELU*, never written
   * there).
   */
  public synchronized boolean matmul(Op op, DevicePointer A, DevicePointer B, DevicePointer D, DevicePointer bias,
      DevicePointer aux) {
    if (closed) throw new IllegalStateException("cublasLtMatmul: handle closed");
    if (op.epilogue().hasBias() != (bias != null) || op.epilogue().hasAux() != (aux != null))
      throw new IllegalArgumentException("cublasLtMatmul: epilogue " + op.epilogue() + " needs bias " + op.epilogue().hasBias()
          + " and aux " + op.epilogue().hasAux() + ", got bias " + (bias != null) + ", aux " + (aux != null));
    device.makeCurrent();
    boolean tune = autotune();
    String key = key(op, tune, A, B, D, bias, aux);
    try (Arena a = Arena.ofConfined()) {
      Plan p = plans.get(key);
      if (p == null) {
        p = plan(a, op);
        plans.put(key, p);
      }
      if (p.algo != null && p.algo.byteSize() == 0) return false;
      if (bias != null) setPointer(a, p.desc, DESC_BIAS_POINTER, bias, op);
      if (aux != null) setPointer(a, p.desc, DESC_AUX_POINTER, aux, op);
      if (p.algo == null) choose(p, op, tune, A, B, D);
      if (p.algo.byteSize() == 0) return false;
      int rc = launch(p, p.algo, op, A, B, D);
      if (rc == STATUS_NOT_SUPPORTED) {
        lastDecline = "cublasLtMatmul [" + op + "]: status " + rc + " (not supported)";
        p.algo = MemorySegment.NULL;
        return false;
      }
      check(rc, "cublasLtMatmul", op);
      return true;
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    } finally {
      java.lang.ref.Reference.reachabilityFence(A);
      java.lang.ref.Reference.reachabilityFence(B);
      java.lang.ref.Reference.reachabilityFence(D);
    }
  }

  /** Descriptor and layouts of {@code op}, with every attribute but the bias/aux pointers set. */
  private Plan plan(Arena a, Op op) throws Throwable {
    boolean f64 = op.type() == CuBlas.DataType.F64;
    int type = op.type().code;
    Plan p = new Plan();
    p.desc = create(a, Lib.DESC_CREATE, "cublasLtMatmulDescCreate", op, f64 ? COMPUTE_64F : COMPUTE_32F,
        f64 ? CuBlas.DataType.F64.code : CuBlas.DataType.F32.code);
    try {
      setInt(a, p.desc, DESC_TRANSA, op.transA() ? OP_T : OP_N, op);
      setInt(a, p.desc, DESC_TRANSB, op.transB() ? OP_T : OP_N, op);
      setInt(a, p.desc, DESC_EPILOGUE, op.epilogue().code, op);
      if (op.epilogue().hasBias()) setInt(a, p.desc, DESC_BIAS_DATA_TYPE, type, op);
      if (op.epilogue().hasAux()) {
        MemorySegment v = a.allocate(JAVA_LONG);
        v.set(JAVA_LONG, 0, op.auxLd());
        check((int) Lib.DESC_SET.invokeExact(p.desc, DESC_AUX_LD, v, 8L), "cublasLtMatmulDescSetAttribute(EPILOGUE_AUX_LD)", op);
        setInt(a, p.desc, DESC_AUX_DATA_TYPE, type, op);
      }
      p.la = layout(a, type, op.transA() ? op.k() : op.m(), op.transA() ? op.m() : op.k(), op.lda(), op);
      p.lb = layout(a, type, op.transB() ? op.n() : op.k(), op.transB() ? op.k() : op.n(), op.ldb(), op);
      p.ld = layout(a, type, op.m(), op.n(), op.ldd(), op);
      return p;
    } catch (Throwable t) {
      destroy(p, op);
      throw t;
    }
  }

  private static void destroy(Plan p, Object op) throws Throwable {
    for (MemorySegment l : new MemorySegment[] {p.la, p.lb, p.ld})
      if (l != null) check((int) Lib.LAYOUT_DESTROY.invokeExact(l), "cublasLtMatrixLayoutDestroy", op);
    if (p.desc != null) check((int) Lib.DESC_DESTROY.invokeExact(p.desc), "cublasLtMatmulDescDestroy", op);
  }

  private int launch(Plan p, MemorySegment algo, Op op, DevicePointer A, DevicePointer B, DevicePointer D) throws Throwable {
    // locals, not conditionals, as invokeExact arguments: a conditional there is typed Object (a poly expression in
    // the signature-polymorphic call), which the handle's exact type rejects
    boolean f64 = op.type() == CuBlas.DataType.F64;
    MemorySegment alpha = f64 ? one64 : one32, beta = f64 ? zero64 : zero32;
    return (int) Lib.MATMUL.invokeExact(handle, p.desc, alpha, A.segment(), p.la, B.segment(), p.lb, beta, D.segment(), p.ld,
        D.segment(), p.ld, algo, workspace.ptr().segment(), WORKSPACE_BYTES, device.stream().segment());
  }

  /**
   * Sets {@code p.algo}: the heuristic's first usable result, or with {@code tune} the fastest of up to
   * {@link #CANDIDATES} by CUDA-event timing; a zero-length segment when the heuristic has none.
   */
  private void choose(Plan p, Op op, boolean tune, DevicePointer A, DevicePointer B, DevicePointer D) throws Throwable {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment pp = a.allocate(ADDRESS);
      check((int) Lib.PREF_CREATE.invokeExact(pp), "cublasLtMatmulPreferenceCreate", op);
      MemorySegment pref = pp.get(ADDRESS, 0);
      java.util.List<MemorySegment> ok = new java.util.ArrayList<>();
      int asked = tune ? CANDIDATES : 1, rc, n;
      try {
        MemorySegment ws = a.allocate(JAVA_LONG);
        ws.set(JAVA_LONG, 0, WORKSPACE_BYTES);
        check((int) Lib.PREF_SET.invokeExact(pref, PREF_MAX_WORKSPACE_BYTES, ws, 8L),
            "cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)", op);
        MemorySegment results = a.allocate(HEURISTIC_RESULT_BYTES * asked, 8);
        MemorySegment count = a.allocate(JAVA_INT);
        rc = (int) Lib.HEURISTIC.invokeExact(handle, p.desc, p.la, p.lb, p.ld, p.ld, pref, asked, results, count);
        n = rc == 0 ? Math.min(asked, count.get(JAVA_INT, 0)) : 0;
        for (int i = 0; i < n; i++) {
          MemorySegment r = results.asSlice(i * HEURISTIC_RESULT_BYTES, HEURISTIC_RESULT_BYTES);
          // a candidate in a failed state or wanting more workspace than offered (the preference caps it) is skipped
          if (r.get(JAVA_INT, HEURISTIC_STATE_OFFSET) == 0 && r.get(JAVA_LONG, ALGO_BYTES) <= WORKSPACE_BYTES)
            ok.add(arena.allocate(ALGO_BYTES, 8).copyFrom(r.asSlice(0, ALGO_BYTES)));
        }
      } finally {
        check((int) Lib.PREF_DESTROY.invokeExact(pref), "cublasLtMatmulPreferenceDestroy", op);
      }
      // any refusal of the heuristic (NOT_SUPPORTED for an epilogue/type/alignment it lacks, INVALID_VALUE for a
      // combination it rejects) is a decline, remembered with its status: the caller runs the unfused ops, and the
      // GPU tests assert that the shapes the fusion is for do take it
      if (ok.isEmpty()) {
        lastDecline = "cublasLtMatmulAlgoGetHeuristic [" + op + "]: status " + rc + ", " + n + " algorithms, none usable";
        p.algo = MemorySegment.NULL;
        return;
      }
      if (!tune || ok.size() == 1) {
        p.algo = ok.get(0);
        return;
      }
      float[] ms = new float[ok.size()];
      try (var start = new CudaEvent(device); var end = new CudaEvent(device)) {
        for (int i = 0; i < ms.length; i++) {
          if (launch(p, ok.get(i), op, A, B, D) != 0) {   // this candidate cannot run these operands: not a choice
            ms[i] = Float.NaN;
            continue;
          }
          start.record(device.stream());
          for (int r = 0; r < TUNE_REPEATS; r++) check(launch(p, ok.get(i), op, A, B, D), "cublasLtMatmul (autotune)", op);
          end.record(device.stream());
          ms[i] = end.elapsedSince(start) / TUNE_REPEATS;
        }
      }
      int best = fastest(ms);
      p.algo = ok.get(Math.max(best, 0));
      p.choice = "[" + op + "]: candidate " + best + " of " + ms.length + ", ms " + java.util.Arrays.toString(ms);
      lastChoice = p.choice;
    }
  }

  private static MemorySegment create(Arena a, MethodHandle fn, String name, Op op, int compute, int scale) throws Throwable {
    MemorySegment p = a.allocate(ADDRESS);
    check((int) fn.invokeExact(p, compute, scale), name, op);
    return p.get(ADDRESS, 0);
  }

  private static MemorySegment layout(Arena a, int type, long rows, long cols, long ld, Op op) throws Throwable {
    MemorySegment p = a.allocate(ADDRESS);
    check((int) Lib.LAYOUT_CREATE.invokeExact(p, type, rows, cols, ld), "cublasLtMatrixLayoutCreate(" + rows + "x" + cols + ", ld "
        + ld + ")", op);
    return p.get(ADDRESS, 0);
  }

  private static void setInt(Arena a, MemorySegment desc, int attr, int value, Op op) throws Throwable {
    MemorySegment v = a.allocate(JAVA_INT);
    v.set(JAVA_INT, 0, value);
    check((int) Lib.DESC_SET.invokeExact(desc, attr, v, 4L), "cublasLtMatmulDescSetAttribute(" + attr + ")", op);
  }

  private static void setPointer(Arena a, MemorySegment desc, int attr, DevicePointer ptr, Op op) throws Throwable {
    MemorySegment v = a.allocate(JAVA_LONG);
    v.set(JAVA_LONG, 0, ptr.address());
    check((int) Lib.DESC_SET.invokeExact(desc, attr, v, 8L), "cublasLtMatmulDescSetAttribute(" + attr + ")", op);
  }

  @Override public synchronized void close() {
    if (closed) return;
    closed = true;
    device.makeCurrent();
    try {
      for (Map.Entry<String, Plan> e : plans.entrySet()) destroy(e.getValue(), e.getKey());
      plans.clear();
      check((int) Lib.DESTROY.invokeExact(handle), "cublasLtDestroy", "device " + device.index());
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    } finally {
      workspace.close();
      arena.close();
    }
  }
}
