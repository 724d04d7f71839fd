// Shapes: column-major D (m, n) = op(A) (m, k) op(B) (k, n); aux leading dimension auxLd (no GPU needed).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Host-side checks of the cuBLASLt binding: the epilogue codes are the documented bit compositions (a wrong enum
 * would silently run another epilogue), the op's argument checks (aux leading dimension a multiple of 8), the aux
 * padding rule, a clear reason when the library is missing, and the autotuning's pure logic (plan keys, the choice
 * among candidate timings, epilogue vs GEMM + add).
 */
class CuBlasLtHostTest {
  @Test
  void cublasHandlesGetThe32MiBWorkspaceUnlessThePropertySaysOtherwise() {
    String prop = "longconv4j.cuda.cublas.workspace.mb", before = System.getProperty(prop);
    try {
      System.clearProperty(prop);
      assertEquals(32L << 20, CuBlas.workspaceBytes());
      assertEquals(CuBlasLt.WORKSPACE_BYTES, CuBlas.workspaceBytes(), "the same workspace as the cuBLASLt handles");
      System.setProperty(prop, "0");
      assertEquals(0, CuBlas.workspaceBytes(), "0: cuBLAS's own default");
      System.setProperty(prop, "64");
      assertEquals(64L << 20, CuBlas.workspaceBytes());
      System.setProperty(prop, "-1");
      var e = assertThrows(IllegalArgumentException.class, CuBlas::workspaceBytes);
      assertTrue(e.getMessage().contains("-1"), e.getMessage());
    } finally {
      if (before == null) System.clearProperty(prop); else System.setProperty(prop, before);
    }
  }

  @Test
  void epilogueCodesAreTheDocumentedCompositions() {
    // cuBLAS docs, cublasLtEpilogue_t: BIAS = 4, GELU = 32, *_AUX = | 128, DGELU = 64 | 128, *_BGRAD = | 16
    assertEquals(1, CuBlasLt.Epilogue.DEFAULT.code);
    assertEquals(4, CuBlasLt.Epilogue.BIAS.code);
    assertEquals(32, CuBlasLt.Epilogue.GELU.code);
    assertEquals(36, CuBlasLt.Epilogue.GELU_BIAS.code);
    assertEquals(160, CuBlasLt.Epilogue.GELU_AUX.code);
    assertEquals(164, CuBlasLt.Epilogue.GELU_AUX_BIAS.code);     // the header's literal value
    assertEquals(192, CuBlasLt.Epilogue.DGELU.code);
    assertEquals(208, CuBlasLt.Epilogue.DGELU_BGRAD.code);
    assertEquals(256, CuBlasLt.Epilogue.BGRADA.code);
    assertEquals(512, CuBlasLt.Epilogue.BGRADB.code);
    assertTrue(CuBlasLt.Epilogue.BGRADB.hasBias() && !CuBlasLt.Epilogue.BGRADB.hasAux());
    assertTrue(CuBlasLt.Epilogue.GELU_AUX_BIAS.hasBias() && CuBlasLt.Epilogue.GELU_AUX_BIAS.hasAux());
    assertTrue(!CuBlasLt.Epilogue.GELU_BIAS.hasAux() && !CuBlasLt.Epilogue.DEFAULT.hasBias());
    // cublasLtMatmulHeuristicResult_t = {algo (8 x uint64), size_t, int, float, int[4]}
    assertEquals(96, CuBlasLt.HEURISTIC_RESULT_BYTES);
    assertEquals(CuBlasLt.ALGO_BYTES + 8, CuBlasLt.HEURISTIC_STATE_OFFSET);
  }

  @Test
  void opArgumentsAreChecked() {
    var t = CuBlas.DataType.BF16;
    new CuBlasLt.Op(true, false, 111, 10, 77, 77, 77, 111, t, CuBlasLt.Epilogue.GELU_AUX_BIAS, 112);
    var e = assertThrows(IllegalArgumentException.class,
        () -> new CuBlasLt.Op(true, false, 111, 10, 77, 77, 77, 111, t, CuBlasLt.Epilogue.GELU_AUX_BIAS, 111));
    assertTrue(e.getMessage().contains("multiple of 8"), e.getMessage());
    var e2 = assertThrows(IllegalArgumentException.class,
        () -> new CuBlasLt.Op(false, false, 111, 10, 77, 100, 77, 111, t, CuBlasLt.Epilogue.BIAS, 0));
    assertTrue(e2.getMessage().contains("leading dimensions"), e2.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new CuBlasLt.Op(false, false, 0, 1, 1, 1, 1, 1, t, CuBlasLt.Epilogue.DEFAULT, 0));
    assertEquals(112, CudaFusedLinear.auxLd(111));
    assertEquals(8, CudaFusedLinear.auxLd(1));
    assertEquals(3072, CudaFusedLinear.auxLd(3072));
  }

  @Test
  void aMissingLibraryIsReportedNotThrownAtLoad() {
    String why = CuBlasLt.unavailableReason();
    if (why == null) {
      assertNotNull(CuBlasLt.soname());        // loaded: the soname it bound
    } else {
      assertTrue(why.contains("libcublasLt.so.13") && why.contains("libcublasLt.so.12"), why);
      var e = assertThrows(UnsupportedOperationException.class, () -> CuBlasLt.create(null));
      assertTrue(e.getMessage().contains("cuBLASLt unavailable"), e.getMessage());
    }
    assertNull(CuBlasLt.alignment(null) == 0 ? null : "alignment of no pointer is 0");
  }

  @Test
  void autotuneKeepsTheFastestFiniteCandidate() {
    assertEquals(2, CuBlasLt.fastest(new float[] {0.30f, 0.25f, 0.20f, 0.21f}));
    assertEquals(0, CuBlasLt.fastest(new float[] {0.2f, 0.2f}), "a tie keeps the heuristic's own ranking");
    assertEquals(1, CuBlasLt.fastest(new float[] {Float.NaN, 0.5f, Float.POSITIVE_INFINITY}), "failed launches never win");
    assertEquals(-1, CuBlasLt.fastest(new float[] {Float.NaN, -1f}));
    assertEquals(-1, CuBlasLt.fastest(new float[0]));
  }

  @Test
  void planKeysSeparateShapeEpilogueAlignmentAndTuning() {
    var t = CuBlas.DataType.BF16;
    var op = new CuBlasLt.Op(true, false, 768, 16384, 3072, 3072, 3072, 768, t, CuBlasLt.Epilogue.BIAS, 0);
    var gelu = new CuBlasLt.Op(true, false, 768, 16384, 3072, 3072, 3072, 768, t, CuBlasLt.Epilogue.GELU_BIAS, 0);
    var f32 = new CuBlasLt.Op(true, false, 768, 16384, 3072, 3072, 3072, 768, CuBlas.DataType.F32, CuBlasLt.Epilogue.BIAS, 0);
    var wide = new CuBlasLt.Op(true, false, 768, 16385, 3072, 3072, 3072, 768, t, CuBlasLt.Epilogue.BIAS, 0);
    String k = CuBlasLt.key(op, true);
    assertEquals(k, CuBlasLt.key(new CuBlasLt.Op(true, false, 768, 16384, 3072, 3072, 3072, 768, t, CuBlasLt.Epilogue.BIAS, 0),
        true), "equal ops share a plan");
    for (String other : new String[] {CuBlasLt.key(op, false), CuBlasLt.key(gelu, true), CuBlasLt.key(f32, true),
        CuBlasLt.key(wide, true)})
      assertTrue(!k.equals(other), k + " vs " + other);
    // a null pointer (no bias/aux) has alignment class 0; the classes are part of the key
    assertTrue(CuBlasLt.key(op, true, (DevicePointer) null).contains("|0,"), CuBlasLt.key(op, true, (DevicePointer) null));
  }

  @Test
  void theBiasEpilogueIsKeptOnlyWhenNotSlower() {
    assertTrue(CudaFusedLinear.epilogueWins(0.128, 0.188));
    assertTrue(!CudaFusedLinear.epilogueWins(0.213, 0.188), "final-s5's fc2: the epilogue lost, GEMM + add runs");
    assertTrue(CudaFusedLinear.epilogueWins(0.2, 0.2), "a tie keeps the single pass");
    assertTrue(CudaFusedLinear.epilogueWins(Double.NaN, 0.2), "an epilogue that could not be timed is kept (it declines itself)");
    assertEquals("auto", CudaFusedLinear.biasEpilogueMode(), "the default mode times both");
    assertTrue(CuBlasLt.autotune(), "autotune is on by default");
  }
}
