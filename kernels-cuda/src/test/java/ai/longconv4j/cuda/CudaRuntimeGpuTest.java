// Shapes: GEMM C (m, n) = A (m, k) B (k, n), column-major; otherwise none (runtime behaviour).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Allocator, errors, events and cuBLAS on a real device. */
@Tag("gpu")
class CudaRuntimeGpuTest extends CudaDeviceTest {
  @Test
  void outOfMemoryNamesTheBytesAndLeavesTheContextUsable() {
    long huge = dev.totalMemory() * 2;
    var e = assertThrows(CudaOutOfMemoryException.class, () -> dev.alloc(huge));
    assertEquals(huge, e.requestedBytes());
    assertTrue(e.getMessage().contains(Long.toString(huge)), e.getMessage());
    float[] x = {1, 2, 3, 4.5f};
    try (var b = dev.upload(x)) {
      assertEquals(4.5f, b.copyTo(new float[4], 0)[3]);
    }
  }

  @Test
  void allocatorReusesFreedBlocks() {
    try (var a = dev.alloc(3 << 20)) { a.fill32(0); }
    long mallocs = dev.allocator().cudaMallocs();
    try (var b = dev.alloc(3 << 20)) { b.fill32(1); }
    assertEquals(mallocs, dev.allocator().cudaMallocs(), "the second allocation of the same size must come from the cache");
  }

  @Test
  void badLaunchNamesTheKernelAndConfig() {
    try (var b = dev.alloc(4096)) {
      var k = dev.module("fftconv").kernel("fftconv_pad");
      var e = assertThrows(CudaException.class, () -> k.launch(dev.stream(), 1, 1, 4096, 0, b, b, 1, 1, 1));
      assertTrue(e.getMessage().contains("fftconv_pad") && e.getMessage().contains("block 4096"), e.getMessage());
    }
    dev.synchronize();   // still usable
  }

  @Test
  void eventsMeasureAPositiveTime() {
    try (var a = new CudaEvent(dev); var b = new CudaEvent(dev); var buf = dev.alloc(256L << 20)) {
      a.record(dev.stream());
      buf.fill32(7);
      b.record(dev.stream());
      assertTrue(b.elapsedSince(a) >= 0f);
    }
  }

  @Test
  void gemmExMatchesCpu() {
    // bf16 inputs are exact in fp32; fp32 output and fp32 accumulation: only summation order differs (~1e-6).
    int m = 96, n = 80, k = 64;
    var rng = new SplittableRandom(5);
    float[] a = Reference.randn(rng, m * k, 1), b = Reference.randn(rng, k * n, 1);
    short[] a16 = HalfFloats.encode(a, ElementType.BF16), b16 = HalfFloats.encode(b, ElementType.BF16);
    a = HalfFloats.decode(a16, ElementType.BF16);
    b = HalfFloats.decode(b16, ElementType.BF16);
    double[] ref = new double[m * n];
    for (int j = 0; j < n; j++)
      for (int i = 0; i < m; i++) {
        double s = 0;
        for (int p = 0; p < k; p++) s += (double) a[i + p * m] * b[p + j * k];
        ref[i + j * m] = s;
      }
    try (var blas = CuBlas.create(dev); var da = dev.upload(a16); var db = dev.upload(b16); var dc = dev.alloc(4L * m * n)) {
      dc.fill32(Float.floatToRawIntBits(Float.NaN));
      blas.gemmEx(false, false, m, n, k, 1f, da.ptr(), CuBlas.DataType.BF16, m, db.ptr(), CuBlas.DataType.BF16, k, 0f,
          dc.ptr(), CuBlas.DataType.F32, m);
      Reference.assertClose("cublasGemmEx bf16 (" + CuBlas.soname() + ")", dc.copyTo(new float[m * n], 0), ref, 1e-5);
    }
  }
}
