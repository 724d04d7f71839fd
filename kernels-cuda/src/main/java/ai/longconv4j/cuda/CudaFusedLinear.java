// Shapes: R rows (flattened leading axes, e.g. B·L), x (R, in), w (out, in), b (out), y and dy (R, out);
//   aux = pre-activation z (R, out) stored with row stride auxLd = out rounded up to 8 (cuBLASLt's rule for the GELU aux).
package ai.longconv4j.cuda;

import ai.longconv4j.backend.FusedLinearBackend.Activation;
import ai.longconv4j.backend.UnaryOp;
import ai.longconv4j.backend.View;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Tensor;
import java.lang.ref.Reference;

/**
 * The linear layer with its epilogue in the GEMM through cuBLASLt: {@code y = act(x · wᵀ + b)} with act none or the
 * tanh GELU (the erf GELU is never fused: cuBLASLt's epilogue computes the tanh form).
 *
 * <p>Layout: our tensors are row-major, cuBLAS is column-major, so a row-major (R, out) matrix is the column-major
 * (out, R) matrix yᵀ, and {@code yᵀ = w · xᵀ}: A = w (stored col-major (in, out), transA), B = x (stored col-major
 * (in, R)), m = out, n = R, k = in. The epilogue's bias has one value per row of the column-major D, i.e. per output
 * feature: length m = out, as b.
 * <ul>
 *   <li>forward: {@code BIAS}, or {@code GELU_AUX_BIAS} (or {@code GELU_AUX} without b) writing z = x·wᵀ + b into aux
 *       when a gradient is recorded; {@code GELU_BIAS}/{@code GELU} without a graph (nothing kept).
 *   <li>backward: {@code dz = dy ⊙ geluTanh'(z)} (one elementwise kernel reading aux; identity without GELU);
 *       {@code dx = dz · w} (plain GEMM, {@code dxᵀ = wᵀ · dzᵀ}); {@code dw = dzᵀ · x} as {@code dwᵀ (in, out) = xᵀ ·
 *       dz}: A = x (col-major (in, R)), B = dz (col-major (out, R), transB), k = R, with the {@code BGRADB} epilogue
 *       writing {@code db[j] = Σ_r dz[r, j]} (sums of op(B) over k, length n = out) in the same GEMM.
 * </ul>
 * cuBLASLt's {@code DGELU_BGRAD} applies gelu' to a GEMM's output: it fuses into the GEMM that produces dy (the next
 * layer's dx GEMM), which lies outside this op (an MLP-level op would be needed), so it is not used here.
 *
 * <p>F64 fuses the bias only: cuBLASLt's fp64 GELU epilogue measured ~2e-10 relative error on the H200, too coarse for
 * the F64 reference dtype, so an F64 GELU runs as separate kernels.
 *
 * <p>Where cuBLASLt is missing or its heuristic has no algorithm (a dtype, epilogue or alignment it does not support),
 * the forward returns null (Linear composes the unfused ops) and the backward falls back per GEMM to cuBLAS and a
 * reduction. {@code -Dlongconv4j.fusedLinear=off} disables the path (an A/B switch).
 */
final class CudaFusedLinear {
  private CudaFusedLinear() {}

  static final boolean ENABLED = !"off".equals(System.getProperty("longconv4j.fusedLinear"));

  /**
   * Counts (tests, bench): forwards fused / declined (cuBLASLt had no algorithm, or an F64 GELU, never fused); dw GEMMs
   * with db fused (BGRADB) / declined.
   */
  static final java.util.concurrent.atomic.AtomicLong FUSED = new java.util.concurrent.atomic.AtomicLong(),
      DECLINED = new java.util.concurrent.atomic.AtomicLong(), BGRADB = new java.util.concurrent.atomic.AtomicLong(),
      BGRADB_DECLINED = new java.util.concurrent.atomic.AtomicLong();

  /** The row stride of the GELU aux buffer: out rounded up to a multiple of 8. */
  static int auxLd(int out) { return (out + 7) / 8 * 8; }

  static Tensor apply(CudaBackend be, Tensor x, Tensor w, Tensor b, Activation act) {
    if (!ENABLED || (act == Activation.NONE && b == null)) return null;   // a plain GEMM: nothing to fuse
    if (x.dim() != 2 || w.dim() != 2 || x.size(1) != w.size(1) || (b != null && (b.dim() != 1 || b.size(0) != w.size(0))))
      throw new IllegalArgumentException("linear[cublasLt]: expected x (R, in), w (out, in), b (out), got x "
          + java.util.Arrays.toString(x.shape()) + ", w " + java.util.Arrays.toString(w.shape())
          + (b == null ? "" : ", b " + java.util.Arrays.toString(b.shape())));
    CudaBackend.Gpu g = be.gpu(x.device());
    CuBlasLt lt = g.blasLt();
    if (lt == null) return null;
    DType dt = x.dtype();
    int rows = x.size(0), in = x.size(1), out = w.size(0);
    if (rows == 0) return null;
    boolean gelu = act == Activation.GELU_TANH;
    if (gelu && dt == DType.F64) {
      // measured on the H200 (cuBLAS 13): the GELU epilogue in fp64 is ~2e-10 off the fp64 GELU (tanh evaluated in
      // reduced precision), which would swamp F64 central-difference checks (2e-10 / eps 1e-6 = 2e-4): F64 keeps the
      // unfused kernels; the F64 BIAS epilogue is exact to 1e-12 and stays fused
      DECLINED.incrementAndGet();
      return null;
    }
    boolean keep = Tensor.isGradEnabled() && (x.requiresGrad() || w.requiresGrad() || (b != null && b.requiresGrad()));
    Tensor xc = x.detach().contiguous(), wc = w.detach().contiguous(), bc = b == null ? null : b.detach().contiguous();
    CudaStorage xs = CudaBackend.cs("linear", xc.storage()), ws = CudaBackend.cs("linear", wc.storage());
    CudaStorage bs = bc == null ? null : CudaBackend.cs("linear", bc.storage());
    CuBlasLt.Epilogue epi = !gelu ? CuBlasLt.Epilogue.BIAS
        : keep ? (b != null ? CuBlasLt.Epilogue.GELU_AUX_BIAS : CuBlasLt.Epilogue.GELU_AUX)
        : (b != null ? CuBlasLt.Epilogue.GELU_BIAS : CuBlasLt.Epilogue.GELU);
    int ld = auxLd(out);
    CudaStorage ys = be.allocateOut(g, dt, rows * out);
    CudaStorage aux = epi.hasAux() ? be.allocateOut(g, dt, rows * ld) : null;   // columns [out, ld) are never read
    var op = new CuBlasLt.Op(true, false, out, rows, in, in, in, out, CudaBackend.blasType(dt), epi, epi.hasAux() ? ld : 0);
    boolean done;
    try {
      done = lt.matmul(op, ws.at(wc.offset()), xs.at(xc.offset()), ys.at(0), bs == null ? null : bs.at(bc.offset()),
          aux == null ? null : aux.at(0));
    } finally {
      Reference.reachabilityFence(xs);
      Reference.reachabilityFence(ws);
      Reference.reachabilityFence(bs);
    }
    (done ? FUSED : DECLINED).incrementAndGet();
    if (!done) {
      ys.release();
      if (aux != null) aux.release();
      return null;
    }
    Tensor y = Tensor.fromStorage(ys, rows, out);
    if (!keep) return y;
    String name = gelu ? "linearGelu[cublasLt]" : "linear[cublasLt]";
    return Tensor.op(name, y, new Tensor[] {x, w, b}, gy -> {
      Tensor gc = gy.detach().contiguous();
      CudaStorage gs = CudaBackend.cs(name, gc.storage());
      CudaStorage dz = gs;
      int dzOff = gc.offset();
      if (gelu) {   // dz = dy * geluTanh'(z), z read from aux with row stride ld
        dz = be.allocateOut(g, dt, rows * out);
        dzOff = 0;
        int[] shape = {rows, out};
        View z = new View(aux, new int[] {ld, 1}, 0);
        be.unaryGrad(UnaryOp.GELU_TANH, 0, shape, z, z, new View(gs, new int[] {out, 1}, gc.offset()),
            new View(dz, new int[] {out, 1}, 0));
      }
      Tensor dx = null, dw = null, db = null;
      CuBlas blas = g.blas();
      CuBlas.DataType t = CudaBackend.blasType(dt);
      try {
        if (x.requiresGrad()) {   // dxᵀ (in, R) = wᵀ (in, out) · dzᵀ (out, R)
          CudaStorage dxs = be.allocateOut(g, dt, rows * in);
          blas.gemmStridedBatchedEx(false, false, in, rows, out, 1, ws.at(wc.offset()), t, in, 0, dz.at(dzOff), t, out, 0, 0,
              dxs.at(0), t, in, 0, 1);
          dx = Tensor.fromStorage(dxs, rows, in);
        }
        boolean wantW = w.requiresGrad(), wantB = b != null && b.requiresGrad();
        CudaStorage dws = wantW ? be.allocateOut(g, dt, out * in) : null;
        CudaStorage dbs = wantB ? be.allocateOut(g, dt, out) : null;
        // dwᵀ (in, out) = xᵀ (in, R) · dz (R, out); BGRADB: db = sums of op(B) = dz over k = R
        boolean fused = wantW && wantB && lt.matmul(new CuBlasLt.Op(false, true, in, out, rows, in, out, in, t,
            CuBlasLt.Epilogue.BGRADB, 0), xs.at(xc.offset()), dz.at(dzOff), dws.at(0), dbs.at(0), null);
        if (wantW && wantB) (fused ? BGRADB : BGRADB_DECLINED).incrementAndGet();
        if (wantW && !fused)
          blas.gemmStridedBatchedEx(false, true, in, out, rows, 1, xs.at(xc.offset()), t, in, 0, dz.at(dzOff), t, out, 0, 0,
              dws.at(0), t, in, 0, 1);
        if (wantB && !fused) be.sum(dz, dzOff, 1, rows, out, dbs);
        if (wantW) dw = Tensor.fromStorage(dws, out, in);
        if (wantB) db = Tensor.fromStorage(dbs, out);
      } catch (CudaException e) {
        throw new CudaException(e.code(), name + " backward (R=" + rows + ", in=" + in + ", out=" + out + ", " + dt + "): "
            + e.getMessage());
      } finally {
        Reference.reachabilityFence(xs);
        Reference.reachabilityFence(ws);
        Reference.reachabilityFence(gs);
        Reference.reachabilityFence(aux);
      }
      if (dz != gs) dz.release();
      return new Tensor[] {dx, dw, db};
    });
  }
}
