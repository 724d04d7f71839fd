// Shapes: reductions view x as (O, R, I) = (outer, reduced, inner), out (O, I); LayerNorm x (rows, d), weight/bias (d),
// mean/rstd (rows) F64; cross-entropy logits (rows, V), targets (rows).
package ai.longconv4j.cuda;

import static ai.longconv4j.cuda.CudaBackend.alloc;
import static ai.longconv4j.cuda.CudaBackend.cs;
import static ai.longconv4j.cuda.CudaBackend.launch;
import static ai.longconv4j.cuda.CudaBackend.launchGrid;
import static ai.longconv4j.cuda.CudaBackend.tag;

import ai.longconv4j.backend.View;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Storage;
import java.lang.ref.Reference;

/**
 * The CUDA backend's split reductions (reduce.cu's red_cols / red_rows / red_final, planned by {@link ReducePlan})
 * and the row-wise fused ops built on them: the sum of squares of a gradient (global norm), LayerNorm forward and
 * backward ({@code norm.cu}) and softmax cross-entropy ({@code xent.cu}). Called by {@link CudaBackend}.
 */
final class CudaRowOps {
  private CudaRowOps() {}

  /**
   * Pass 1 ({@code red_cols} / {@code red_rows}) and, with more than one chunk or {@code viaPartials}, pass 2
   * ({@code red_final}, writing {@code out[outOff + o I + i]} in out's dtype). {@code square}: sums of squares.
   */
  static void splitSum(CudaStorage xs, int off, int outer, int red, int inner, boolean square, CudaStorage os, int outOff,
      boolean viaPartials) {
    CudaDevice dev = xs.cudaDevice();
    ReducePlan p = ReducePlan.of(outer, red, inner, dev.smCount());
    int[] sh = {outer, red, inner};
    String op = square ? "sum of squares" : "sum";
    boolean two = viaPartials || p.splits() > 1;
    if (!two && outOff != 0) throw new IllegalArgumentException(op + ": an output offset needs the partials pass");
    String fn = (p.columns() ? "red_cols_" : "red_rows_") + tag(xs.dtype());
    if (two && p.splits() == 1 && os.dtype() == DType.F64) {   // one chunk into f64 outputs: pass 1 writes them directly
      launchGrid(dev, "reduce", fn, p.grid(), op, sh, xs, off, outer, red, inner, 1, p.chunk(), square ? 1 : 0, os.at(outOff), 0L);
      Reference.reachabilityFence(os);
      return;
    }
    DeviceBuffer part = two ? alloc(dev, 8L * outer * p.splits() * inner) : null;
    try {
      launchGrid(dev, "reduce", fn, p.grid(), op, sh, xs, off, outer, red, inner, p.splits(), p.chunk(), square ? 1 : 0,
          two ? part : (Object) 0L, two ? (Object) 0L : os);
      if (two)
        launch(dev, "reduce", "red_final_" + tag(os.dtype()), (long) outer * inner, op, sh, part, outer, p.splits(), inner,
            os, outOff);
    } finally {
      if (part != null) part.close();       // back to the cache; a later user is ordered after these kernels by the stream
    }
  }

  /** The fused sum of squares: the split reduction of x's n elements, squared, into out[outIndex] (F64). */
  static void sumSquares(CudaBackend be, Storage x, int off, int n, Storage out, int outIndex) {
    CudaStorage xs = cs("sumSquares", x), os = cs("sumSquares", out);
    if (os.dtype() != DType.F64) throw new IllegalArgumentException("sumSquares: out must be F64, got " + os.dtype());
    if (outIndex < 0 || outIndex >= os.length())
      throw new IllegalArgumentException("sumSquares: index " + outIndex + " out of [0, " + os.length() + ")");
    if (n <= 0) {
      be.fill(new int[] {1}, new View(os, new int[] {1}, outIndex), 0);
      return;
    }
    splitSum(xs, off, 1, n, 1, true, os, outIndex, true);
  }

  /** What the fused cross-entropy's backward needs: logits, int32 targets and per-row log-sum-exp on the device. */
  record Xent(CudaStorage logits, int off, CudaStorage targets, CudaStorage lse, int rows, int v, int ignore, double scale) {}

  /** {@code xent.cu}: one warp per row (max, log-sum-exp, the target's term), then the split sum of the row losses. */
  static Object crossEntropy(CudaBackend be, int rows, int v, Storage logits, int off, int[] targets, int ignoreIndex,
      int count, Storage loss) {
    CudaStorage xs = cs("crossEntropy", logits), ls = cs("crossEntropy", loss);
    if (rows == 0 || v == 0) return null;
    CudaBackend.Gpu g = CudaBackend.one(be, xs);
    CudaDevice dev = g.dev;
    double scale = 1.0 / Math.max(1, count);
    CudaStorage ts = be.uploadIds(g, targets);
    CudaStorage lse = be.allocateOut(g, DType.F64, rows), rowLoss = be.allocateOut(g, DType.F64, rows);
    launchGrid(dev, "xent", "xent_fwd_" + tag(xs.dtype()), warpGrid(dev, rows), "crossEntropy", new int[] {rows, v}, xs,
        off, ts, ignoreIndex, rows, v, scale, lse, rowLoss);
    splitSum(rowLoss, 0, 1, rows, 1, false, ls, 0, true);      // f64 row losses -> the loss in the logits' dtype
    rowLoss.release();
    return new Xent(xs, off, ts, lse, rows, v, ignoreIndex, scale);
  }

  static void crossEntropyBackward(Object handle, Storage g, int gOff, Storage dx) {
    Xent h = (Xent) handle;
    CudaStorage gs = cs("crossEntropy'", g), ds = cs("crossEntropy'", dx);
    launch(h.logits().cudaDevice(), "xent", "xent_bwd_" + tag(h.logits().dtype()), (long) h.rows() * h.v(), "crossEntropy'",
        new int[] {h.rows(), h.v()}, h.logits(), h.off(), h.targets(), h.ignore(), h.rows(), h.v(), h.scale(), h.lse(), gs, gOff,
        ds);
  }

  /** {@code norm.cu}: one warp per row for y / dx; dw, db through the split column reduction. */
  static boolean layerNorm(int rows, int d, Storage x, int xOff, Storage w, int wOff, Storage b, int bOff,
      double eps, Storage y, Storage mean, Storage rstd) {
    CudaStorage xs = cs("layerNorm", x), ys = cs("layerNorm", y), ms = cs("layerNorm", mean), rs = cs("layerNorm", rstd);
    checkLn(xs, ms, rs, w, b);
    if (rows == 0 || d == 0) return rows == 0;
    CudaDevice dev = xs.cudaDevice();
    launchGrid(dev, "norm", "ln_fwd_" + tag(xs.dtype()), warpGrid(dev, rows), "layerNorm", new int[] {rows, d}, xs, xOff,
        w == null ? (Object) 0L : cs("layerNorm", w), wOff, b == null ? (Object) 0L : cs("layerNorm", b), bOff, rows, d, eps,
        ys, ms, rs);
    return true;
  }

  static boolean layerNormBackward(int rows, int d, Storage x, int xOff, Storage w, int wOff, Storage mean,
      Storage rstd, Storage g, int gOff, Storage dx, Storage dw, Storage db) {
    String op = "layerNorm'";
    CudaStorage xs = cs(op, x), ms = cs(op, mean), rs = cs(op, rstd), gs = cs(op, g), dxs = cs(op, dx);
    checkLn(xs, ms, rs, w, null);
    if (rows == 0 || d == 0) return rows == 0;
    CudaDevice dev = xs.cudaDevice();
    int[] sh = {rows, d};
    String t = tag(xs.dtype());
    launchGrid(dev, "norm", "ln_bwd_dx_" + t, warpGrid(dev, rows), op, sh, xs, xOff, w == null ? (Object) 0L : cs(op, w), wOff,
        ms, rs, gs, gOff, rows, d, dxs);
    if (dw == null && db == null) return true;
    ReducePlan p = ReducePlan.columns(1, rows, d, dev.smCount());
    boolean two = p.splits() > 1;
    DeviceBuffer pw = two ? alloc(dev, 8L * p.splits() * d) : null, pb = two ? alloc(dev, 8L * p.splits() * d) : null;
    Object dwArg = dw == null ? (Object) 0L : cs(op, dw), dbArg = db == null ? (Object) 0L : cs(op, db);
    try {
      launchGrid(dev, "norm", "ln_bwd_dwdb_" + t, p.grid(), op, sh, xs, xOff, ms, rs, gs, gOff, rows, d, p.splits(), p.chunk(),
          two ? pw : (Object) 0L, two ? pb : (Object) 0L, dwArg, dbArg);
      if (two) {
        if (dw != null) launch(dev, "reduce", "red_final_" + t, d, op, sh, pw, 1, p.splits(), d, dwArg, 0);
        if (db != null) launch(dev, "reduce", "red_final_" + t, d, op, sh, pb, 1, p.splits(), d, dbArg, 0);
      }
    } finally {
      if (pw != null) pw.close();
      if (pb != null) pb.close();
    }
    return true;
  }

  private static void checkLn(CudaStorage x, CudaStorage mean, CudaStorage rstd, Storage w, Storage b) {
    if (mean.dtype() != DType.F64 || rstd.dtype() != DType.F64)
      throw new IllegalArgumentException("layerNorm: mean and rstd must be F64, got " + mean.dtype() + " and " + rstd.dtype());
    for (Storage p : new Storage[] {w, b})
      if (p != null && p.dtype() != x.dtype())
        throw new IllegalArgumentException("layerNorm: weight/bias " + p.dtype() + " differ from x " + x.dtype());
  }

  /** Blocks of 8 warps, one warp per row, grid-strided beyond 32 blocks per SM. */
  private static int warpGrid(CudaDevice dev, int rows) {
    return (int) Math.max(1, Math.min((rows + 7L) / 8, dev.smCount() * 32L));
  }
}
