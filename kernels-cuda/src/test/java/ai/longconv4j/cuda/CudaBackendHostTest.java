// Shapes: elementwise views of up to 9 dims; (2, 3, 4) contiguous, transposed and broadcast.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.longconv4j.backend.Backends;
import ai.longconv4j.backend.Devices;
import ai.longconv4j.backend.View;
import ai.longconv4j.tensor.Device;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Host-side parts of the CUDA tensor backend (run in CI, no GPU): the no-GPU message, the launch metadata. */
class CudaBackendHostTest {

  @Test
  void withoutAGpuDeviceCudaSaysWhyAndBestIsTheCpu() {
    assumeFalse(Cuda.available(), "a GPU is present: the no-GPU path cannot be observed");
    assertTrue(Backends.find(Device.Kind.CUDA).orElseThrow() instanceof CudaBackend, "CudaBackend is registered");
    var e = assertThrows(IllegalStateException.class, () -> Device.cuda(0));
    assertTrue(e.getMessage().startsWith("cuda:0 unavailable: no GPU: "), e.getMessage());
    assertTrue(e.getMessage().contains(Cuda.reason().substring("no GPU: ".length())), e.getMessage());
    assertEquals(Device.CPU, Devices.best());
  }

  @Test
  void tensorKernelsArePackagedWithoutSpillsWhenNvccRan() throws java.io.IOException {
    for (String m : java.util.List.of("elementwise", "reduce", "gather", "spectral", "optim")) {
      java.nio.file.Path report = java.nio.file.Path.of("target", "cuda", m + ".ptxas.txt");
      org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.exists(report), "built without nvcc: no fatbins expected");
      assertTrue(CudaModule.packaged(m), m + ".fatbin missing from the classpath");
      for (String line : java.nio.file.Files.readAllLines(report))
        if (line.contains("spill stores")) assertTrue(line.contains(" 0 bytes spill stores, 0 bytes spill loads"), m + ": " + line);
    }
  }

  static View v(int off, int... strides) { return new View(null, strides, off); }

  static int[] metaShape(int[] m) { return Arrays.copyOfRange(m, 2, 2 + m[0]); }

  /** The copy engine's test (session 20): row-major dense layouts only; size-1 dimensions take any stride. */
  @Test
  void denseMeansRowMajorWithoutGaps() {
    assertTrue(CopyEngine.dense(new int[] {3, 111, 37}, new int[] {4107, 37, 1}));
    assertTrue(CopyEngine.dense(new int[] {2, 1, 5}, new int[] {5, 99, 1}), "a size-1 dimension's stride does not matter");
    assertTrue(CopyEngine.dense(new int[] {}, new int[] {}), "a scalar");
    assertTrue(!CopyEngine.dense(new int[] {3, 111, 37}, new int[] {1, 3, 333}), "a permutation");
    assertTrue(!CopyEngine.dense(new int[] {3, 111, 37}, new int[] {0, 37, 1}), "a broadcast");
    assertTrue(!CopyEngine.dense(new int[] {3, 4}, new int[] {8, 1}), "a slice of the last dimension (gaps)");
  }

  @Test
  void metadataCollapsesContiguousRunsAndKeepsStrides() {
    int[] shape = {2, 3, 4};
    int[] m = StridedMeta.meta(shape, v(0, 12, 4, 1), v(5, 12, 4, 1));
    assertEquals(1, m[0]);
    assertEquals(24, m[1]);
    assertArrayEquals(new int[] {24}, metaShape(m));
    assertEquals(5, m[2 + 8 + 32 + 1], "offset of operand 1");
    // operand 1 transposed in its last two dims: (2, 3, 4) read with strides (12, 1, 3): dims stay separate
    m = StridedMeta.meta(shape, v(0, 12, 4, 1), v(0, 12, 1, 3));
    assertEquals(3, m[0]);
    assertArrayEquals(new int[] {12, 1, 3}, Arrays.copyOfRange(m, 2 + 8 + 8, 2 + 8 + 8 + 3));
    // broadcast (stride 0) over the first dim, size-1 dims dropped
    m = StridedMeta.meta(new int[] {2, 1, 12}, v(0, 12, 12, 1), v(0, 0, 0, 1));
    assertArrayEquals(new int[] {2, 12}, metaShape(m));
    assertArrayEquals(new int[] {0, 1}, Arrays.copyOfRange(m, 2 + 8 + 8, 2 + 8 + 8 + 2));
    int[] nine = {2, 2, 2, 2, 2, 2, 2, 2, 2};
    int[] alternating = {1, 2, 4, 8, 16, 32, 64, 128, 256};   // reversed order: never mergeable
    assertThrows(UnsupportedOperationException.class, () -> StridedMeta.meta(nine, v(0, 256, 128, 64, 32, 16, 8, 4, 2, 1),
        v(0, alternating)));
    assertEquals(1, StridedMeta.meta(nine, v(0, 256, 128, 64, 32, 16, 8, 4, 2, 1))[0], "9 contiguous dims collapse to 1");
  }

  @Test
  void batchOffsetsBecomeOneStrideOrALoop() {
    assertEquals(0, CudaBackend.uniformStride(new int[] {7}));
    assertEquals(0, CudaBackend.uniformStride(new int[] {3, 3, 3}));
    assertEquals(10, CudaBackend.uniformStride(new int[] {0, 10, 20, 30}));
    assertEquals(-1, CudaBackend.uniformStride(new int[] {0, 10, 0, 10}));
  }
}
