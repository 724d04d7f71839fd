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
 * padding rule, and a clear reason when the library is missing.
 */
class CuBlasLtHostTest {
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
}
