// Shapes: t (2, 3) F64 / F32 CPU tensors; learned_pk_op.cu's kernels by name@target.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Helper pkop (session 13), no GPU needed: the packed op's switches ({@link CudaLearnedConv#deviceInputs},
 * {@link CudaLearnedConv#saveDumps}: on by default, off with "false"), {@link CudaLearnedConv#f32} (what the device setters
 * read: F32, contiguous, the same values) and learned_pk_op.cu's ptxas report (no spills).
 */
class PackedLearnedOpHostTest {

  @Test
  void switchesDefaultOnAndTurnOff() {
    String[] keys = {"longconv4j.pk.op.device", "longconv4j.pk.op.save"};
    for (String k : keys) assertTrue(System.getProperty(k) == null, k + " set in the test JVM: " + System.getProperty(k));
    assertTrue(CudaLearnedConv.deviceInputs());
    assertTrue(CudaLearnedConv.saveDumps());
    try {
      for (String k : keys) System.setProperty(k, "false");
      assertFalse(CudaLearnedConv.deviceInputs());
      assertFalse(CudaLearnedConv.saveDumps());
    } finally {
      for (String k : keys) System.clearProperty(k);
    }
  }

  @Test
  void f32IsContiguousF32OfTheSameValues() {
    Tensor t = Tensor.of(new double[] {1, 2, 3, 4.5, -5, 6}, 2, 3);
    Tensor tt = t.transpose(0, 1);                 // (3, 2), not contiguous
    Tensor f = CudaLearnedConv.f32(tt);
    assertEquals(DType.F32, f.dtype());
    assertTrue(f.isContiguous());
    assertArrayEquals(tt.shape(), f.shape());
    assertArrayEquals(tt.toDoubleArray(), f.toDoubleArray());
    Tensor g = Tensor.of(new float[] {1, 2}, 2);
    assertSame(g.storage(), CudaLearnedConv.f32(g).storage(), "an F32 contiguous tensor is read in place");
  }

  @Test
  void unpermuteKernelDoesNotSpill() throws java.io.IOException {
    java.nio.file.Path report = java.nio.file.Path.of("target", "cuda", "learned_pk_op.ptxas.txt");
    org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.exists(report), "no ptxas report (built without nvcc)");
    var spills = KernelResourceReportTest.parse(java.nio.file.Files.readString(report));
    for (String target : new String[] {"sm_80", "sm_90a"})
      assertEquals("0,0", spills.get("lpko_unpermute@" + target), "lpko_unpermute@" + target + " spills (or is missing)");
  }
}
