// Shapes: R rows (flattened leading axes, e.g. B·L), x (R, in), w (out, in), b (out), y and dy (R, out);
//   aux = pre-activation z (R, out) stored with row stride auxLd = out rounded up to 8 (cuBLASLt's rule for the GELU aux).
package ai.longconv4j.cuda;

import ai.longconv4j.backend.FusedLinearBackend.Activation;
import ai.longconv4j.backend.UnaryOp;
import ai.longconv4j.backend.View;
import ai.longconv4j.backend.cpu.ElementwiseKernels.Arith;
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
 * <p>The plain-bias forward takes the BIAS epilogue only where, timed once per op key, it is not slower than cuBLAS's
 * GEMM followed by the bias-add kernel (then that pair runs, inside this op, with the same backward); see
 * {@link #biasEpilogueMode}. The GEMMs' algorithms are autotuned by {@link CuBlasLt}.
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

  /** Forwards whose BIAS epilogue lost to GEMM + bias add in the timing (or was forced off): the GEMM and add ran. */
  static final java.util.concurrent.atomic.AtomicLong VIA_GEMM = new java.util.concurrent.atomic.AtomicLong();

  /**
   * Plain-bias forward: {@code auto} (default) times, once per op key, the BIAS epilogue (autotuned) against cuBLAS's
   * GEMM followed by the bias-add kernel, and keeps the epilogue only where it is not slower (an epilogue is for saving
   * a pass; final-s5 measured fc2's BIAS epilogue 0.213 ms vs 0.188 ms unfused on the H200); {@code on}: always the
   * epilogue (the untimed behaviour); {@code off}: always GEMM + add. {@code -Dlongconv4j.fusedLinear.biasEpilogue},
   * read per call (tests flip it). Either way the backward is this class's (BGRADB dw+db).
   */
  static String biasEpilogueMode() { return System.getProperty("longconv4j.fusedLinear.biasEpilogue", "auto"); }

  /** Per device and op key (see {@link CuBlasLt#key}): whether the BIAS epilogue won its timing on that device. */
  private static final java.util.Map<String, Boolean> BIAS_CHOICE = new java.util.concurrent.ConcurrentHashMap<>();
  private static volatile String lastBiasChoice;

  /** The last timing of BIAS epilogue vs GEMM + add (op, both times, the choice), or null before any. */
  static String lastBiasChoice() { return lastBiasChoice; }

  /** Launches timed per variant (after one untimed) when choosing between the BIAS epilogue and GEMM + add. */
  static final int CHOICE_REPEATS = 5;

  /** The epilogue is kept when it is not slower than the two-pass alternative (NaN: it could not be timed: kept). */
  static boolean epilogueWins(double fusedMs, double unfusedMs) { return !(fusedMs > unfusedMs); }

  private static final class Declined extends RuntimeException {
    Declined() { super(null, null, false, false); }
  }

  private static boolean biasEpilogueChosen(CudaDevice cd, CuBlasLt.Op op, DevicePointer w, DevicePointer x, DevicePointer y,
      DevicePointer b, Runnable fused, Runnable viaGemm) {
    String mode = biasEpilogueMode();
    if (mode.equals("on")) return true;
    if (mode.equals("off")) return false;
    if (!mode.equals("auto"))
      throw new IllegalArgumentException("linear[cublasLt]: longconv4j.fusedLinear.biasEpilogue must be auto, on or off, got "
          + mode);
    String key = "cuda:" + cd.index() + " " + CuBlasLt.key(op, CuBlasLt.autotune(), w, x, y, b);   // GPUs may differ
    Boolean won = BIAS_CHOICE.get(key);
    if (won != null) return won;
    // both variants write only y (the op's own output, overwritten by the real launch after); a decline of the
    // epilogue (no algorithm) is no timing: it is "kept", so the real call declines as before
    double fusedMs, unfusedMs;
    try {
      fusedMs = time(cd, fused);
    } catch (Declined d) {
      return true;
    }
    unfusedMs = time(cd, viaGemm);
    won = epilogueWins(fusedMs, unfusedMs);
    BIAS_CHOICE.put(key, won);
    lastBiasChoice = String.format("[%s]: BIAS epilogue %.4f ms, GEMM + add %.4f ms -> %s", op, fusedMs, unfusedMs,
        won ? "epilogue" : "GEMM + add");
    return won;
  }

  /** Mean milliseconds of {@link #CHOICE_REPEATS} launches of {@code body} after one untimed, by CUDA events. */
  private static double time(CudaDevice cd, Runnable body) {
    body.run();
    try (var start = new CudaEvent(cd); var end = new CudaEvent(cd)) {
      start.record(cd.stream());
      for (int i = 0; i < CHOICE_REPEATS; i++) body.run();
      end.record(cd.stream());
      return end.elapsedSince(start) / CHOICE_REPEATS;
    }
  }

  /** yᵀ (out, R) = w · xᵀ by cuBLAS (no epilogue), then y += b (the elementwise add, b broadcast over the rows). */
  static void gemmThenBias(CudaBackend be, CuBlas blas, CuBlas.DataType t, int rows, int in, int out, DevicePointer w,
      DevicePointer x, CudaStorage ys, CudaStorage bs, int bOff) {
    blas.gemmStridedBatchedEx(true, false, out, rows, in, 1, w, t, in, 0, x, t, in, 0, 0, ys.at(0), t, out, 0, 1);
    View y = new View(ys, new int[] {out, 1}, 0);
    be.binary(Arith.ADD, new int[] {rows, out}, y, new View(bs, new int[] {0, 1}, bOff), y);
  }

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
      DevicePointer wp = ws.at(wc.offset()), xp = xs.at(xc.offset()), bp = bs == null ? null : bs.at(bc.offset());
      Runnable fused = () -> {
        if (!lt.matmul(op, wp, xp, ys.at(0), bp, aux == null ? null : aux.at(0))) throw new Declined();
      };
      Runnable viaGemm = epi == CuBlasLt.Epilogue.BIAS
          ? () -> gemmThenBias(be, g.blas(), op.type(), rows, in, out, wp, xp, ys, bs, bc.offset()) : null;
      done = true;
      if (viaGemm != null && !biasEpilogueChosen(g.dev, op, wp, xp, ys.at(0), bp, fused, viaGemm)) {
        viaGemm.run();
        VIA_GEMM.incrementAndGet();
      } else {
        try {
          fused.run();
          FUSED.incrementAndGet();
        } catch (Declined d) {
          done = false;
          DECLINED.incrementAndGet();
        }
      }
    } finally {
      Reference.reachabilityFence(xs);
      Reference.reachabilityFence(ws);
      Reference.reachabilityFence(bs);
    }
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
