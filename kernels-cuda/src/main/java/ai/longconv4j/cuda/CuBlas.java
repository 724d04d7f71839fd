// Shapes: column-major GEMM C (m, n) = alpha * op(A) (m, k) * op(B) (k, n) + beta * C.
package ai.longconv4j.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * cuBLAS through Java's FFM API ({@code libcublas.so.13}, then {@code .12}): {@code cublasGemmEx} with fp32
 * accumulation. One handle per device, bound to the device's stream.
 * <pre>{@code
 * try (var blas = CuBlas.create(dev)) {
 *   blas.gemmEx(false, false, m, n, k, 1f, a.ptr(), CuBlas.DataType.BF16, m, b.ptr(), CuBlas.DataType.BF16, k,
 *       0f, c.ptr(), CuBlas.DataType.BF16, m);
 * }}</pre>
 */
public final class CuBlas implements AutoCloseable {
  /** cudaDataType values. */
  public enum DataType {
    F32(0), F64(1), F16(2), BF16(14);
    final int code;
    DataType(int code) { this.code = code; }
  }

  private static final int COMPUTE_32F = 68, COMPUTE_64F = 70, GEMM_DEFAULT = -1, OP_N = 0, OP_T = 1;

  private static final class Lib {
    static final NativeLibrary LIB = NativeLibrary.open("libcublas.so.13", "libcublas.so.12", "libcublas.so");
    static final MethodHandle CREATE = LIB.fn("cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle DESTROY = LIB.fn("cublasDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle SET_STREAM = LIB.fn("cublasSetStream_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle SET_WORKSPACE = LIB.fn("cublasSetWorkspace_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    static final MethodHandle GEMM_EX = LIB.fn("cublasGemmEx", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
        JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS,
        JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    static final MethodHandle GEMM_SB_EX = LIB.fn("cublasGemmStridedBatchedEx", FunctionDescriptor.of(JAVA_INT, ADDRESS,
        JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, JAVA_INT,
        JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT));
  }

  /**
   * The workspace each handle gets from the device's allocator, like {@link CuBlasLt#WORKSPACE_BYTES} (cuBLAS
   * recommends 32 MiB on Hopper; PyTorch gives its handles one too): {@code -Dlongconv4j.cuda.cublas.workspace.mb},
   * default 32; 0 leaves cuBLAS its own default.
   */
  static long workspaceBytes() {
    return (long) LaunchProperty.intValue("CuBlas", "longconv4j.cuda.cublas.workspace.mb",
        System.getProperty("longconv4j.cuda.cublas.workspace.mb"), 32, 0, 1024) << 20;
  }

  private final CudaDevice device;
  private final MemorySegment handle;
  private final DeviceBuffer workspace;
  private final Arena arena = Arena.ofShared();
  private final MemorySegment alpha, beta, alpha64, beta64;
  private boolean closed;

  private CuBlas(CudaDevice device, MemorySegment handle, DeviceBuffer workspace) {
    this.device = device;
    this.handle = handle;
    this.workspace = workspace;
    alpha = arena.allocate(JAVA_FLOAT);
    beta = arena.allocate(JAVA_FLOAT);
    alpha64 = arena.allocate(JAVA_DOUBLE);
    beta64 = arena.allocate(JAVA_DOUBLE);
  }

  /** The library that was bound, e.g. "libcublas.so.13". */
  public static String soname() { return Lib.LIB.soname(); }

  static void check(int rc, String op, Object... details) {
    if (rc != 0) throw new CudaException(rc, op + java.util.Arrays.toString(details) + " failed: cublasStatus " + rc);
  }

  /** A handle on {@code device}, queued on its stream. */
  public static CuBlas create(CudaDevice device) {
    device.makeCurrent();
    try (Arena a = Arena.ofConfined()) {
      MemorySegment p = a.allocate(ADDRESS);
      check((int) Lib.CREATE.invokeExact(p), "cublasCreate_v2", "device " + device.index());
      MemorySegment h = p.get(ADDRESS, 0);
      check((int) Lib.SET_STREAM.invokeExact(h, device.stream().segment()), "cublasSetStream_v2");
      long ws = workspaceBytes();
      DeviceBuffer w = ws == 0 ? null : device.alloc(ws);
      try {
        if (w != null) check((int) Lib.SET_WORKSPACE.invokeExact(h, w.ptr().segment(), ws), "cublasSetWorkspace_v2", ws + " bytes");
      } catch (RuntimeException | Error e) {
        w.close();
        int ignored = (int) Lib.DESTROY.invokeExact(h);   // the workspace could not be set: give the handle back
        throw e;
      }
      return new CuBlas(device, h, w);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /**
   * C = alpha op(A) op(B) + beta C, column-major, fp32 compute (tensor cores for 16-bit types);
   * lda/ldb/ldc are the leading dimensions in elements.
   */
  public synchronized void gemmEx(boolean transA, boolean transB, int m, int n, int k, float a, DevicePointer A,
      DataType aType, int lda, DevicePointer B, DataType bType, int ldb, float b, DevicePointer C, DataType cType, int ldc) {
    if (m < 1 || n < 1 || k < 1) throw new IllegalArgumentException("cublasGemmEx: m, n, k must be >= 1: " + m + ", " + n + ", " + k);
    device.makeCurrent();
    alpha.set(JAVA_FLOAT, 0, a);
    beta.set(JAVA_FLOAT, 0, b);
    try {
      int rc = (int) Lib.GEMM_EX.invokeExact(handle, transA ? OP_T : OP_N, transB ? OP_T : OP_N, m, n, k, alpha,
          A.segment(), aType.code, lda, B.segment(), bType.code, ldb, beta, C.segment(), cType.code, ldc, COMPUTE_32F,
          GEMM_DEFAULT);
      check(rc, "cublasGemmEx", "m=" + m, "n=" + n, "k=" + k, aType, bType, cType);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /**
   * Strided batched C[i] = alpha op(A[i]) op(B[i]) + beta C[i], column-major, i < batch, with A[i] at
   * {@code A + i * strideA} elements (likewise B, C; a stride may be 0). Compute: fp64 when all types are
   * F64, else fp32 (tensor cores for 16-bit inputs; F32 inputs computed in full fp32, no TF32).
   */
  public synchronized void gemmStridedBatchedEx(boolean transA, boolean transB, int m, int n, int k, double a,
      DevicePointer A, DataType aType, int lda, long strideA, DevicePointer B, DataType bType, int ldb, long strideB,
      double b, DevicePointer C, DataType cType, int ldc, long strideC, int batch) {
    if (m < 1 || n < 1 || k < 1 || batch < 1)
      throw new IllegalArgumentException("cublasGemmStridedBatchedEx: m, n, k, batch must be >= 1: " + m + ", " + n + ", "
          + k + ", " + batch);
    device.makeCurrent();
    boolean f64 = cType == DataType.F64;
    MemorySegment al = f64 ? alpha64 : alpha, be = f64 ? beta64 : beta;
    if (f64) { alpha64.set(JAVA_DOUBLE, 0, a); beta64.set(JAVA_DOUBLE, 0, b); }
    else { alpha.set(JAVA_FLOAT, 0, (float) a); beta.set(JAVA_FLOAT, 0, (float) b); }
    try {
      int rc = (int) Lib.GEMM_SB_EX.invokeExact(handle, transA ? OP_T : OP_N, transB ? OP_T : OP_N, m, n, k, al,
          A.segment(), aType.code, lda, strideA, B.segment(), bType.code, ldb, strideB, be, C.segment(), cType.code, ldc,
          strideC, batch, f64 ? COMPUTE_64F : COMPUTE_32F, GEMM_DEFAULT);
      check(rc, "cublasGemmStridedBatchedEx", "m=" + m, "n=" + n, "k=" + k, "batch=" + batch, "lda=" + lda, "ldb=" + ldb,
          "transA=" + transA, "transB=" + transB, aType, bType, cType);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  @Override public synchronized void close() {
    if (closed) return;
    closed = true;
    device.makeCurrent();
    try {
      check((int) Lib.DESTROY.invokeExact(handle), "cublasDestroy_v2");
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    } finally {
      arena.close();
      if (workspace != null) workspace.close();
    }
  }
}
