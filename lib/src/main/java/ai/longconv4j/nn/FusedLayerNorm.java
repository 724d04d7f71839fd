// Shapes: x (..., D) viewed as (rows, D); weight, bias (D); mean, rstd (rows) in F64.
package ai.longconv4j.nn;

import ai.longconv4j.backend.Backend;
import ai.longconv4j.backend.Backends;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Storage;
import ai.longconv4j.tensor.Tensor;

/**
 * LayerNorm as one device op when the backend has the fused kernels ({@link Backend#layerNorm}): one kernel forward
 * (saving each row's mean and 1/std) and two backward (dx per row; dw, db as column sums), instead of ~25 composed
 * kernels and their temporaries. The composed {@link LayerNorm#layerNorm} stays the CPU path and the slow twin;
 * {@link #composedBackward} is the backward's slow twin, also used when the incoming gradient requires grad (double
 * backward), since the fused rule is not itself differentiable.
 */
final class FusedLayerNorm {
    private FusedLayerNorm() {}

    /** False with {@code -Dlongconv4j.layerNorm=composed} (an A/B switch for benchmarks): always the composed path. */
    static final boolean ENABLED = !"composed".equals(System.getProperty("longconv4j.layerNorm"));

    /** The fused op, or null where it does not apply (CPU, mixed dtypes or devices, no fused kernel). */
    static Tensor apply(Tensor x, Tensor weight, Tensor bias, double eps) {
        Device dev = x.device();
        if (!ENABLED || dev.isCpu() || x.numel() == 0) {
            return null;
        }
        for (Tensor p : new Tensor[] {weight, bias}) {
            if (p != null && (!p.device().equals(dev) || p.dtype() != x.dtype())) {
                return null;
            }
        }
        Backend be = Backends.forDevice(dev);
        int d = x.size(x.dim() - 1), rows = x.numel() / d;
        Tensor xc = x.detach().contiguous();
        Tensor wc = weight == null ? null : weight.detach().contiguous();
        Tensor bc = bias == null ? null : bias.detach().contiguous();
        Storage y = be.allocateUninitialized(dev, x.dtype(), rows * d);
        Storage mean = be.allocateUninitialized(dev, DType.F64, rows), rstd = be.allocateUninitialized(dev, DType.F64, rows);
        if (!be.layerNorm(rows, d, xc.storage(), xc.offset(), wc == null ? null : wc.storage(), wc == null ? 0 : wc.offset(),
                bc == null ? null : bc.storage(), bc == null ? 0 : bc.offset(), eps, y, mean, rstd)) {
            return null;
        }
        Tensor out = Tensor.fromStorage(y, x.shape());
        Tensor r = Tensor.op("layerNorm", out, new Tensor[] {x, weight, bias}, g -> {
            if (g.requiresGrad()) {
                return composedBackward(x, weight, bias != null, eps, g);
            }
            Tensor gc = g.contiguous();
            Storage dx = be.allocateUninitialized(dev, x.dtype(), rows * d);
            Storage dw = weight != null && weight.requiresGrad() ? be.allocateUninitialized(dev, x.dtype(), d) : null;
            Storage db = bias != null && bias.requiresGrad() ? be.allocateUninitialized(dev, x.dtype(), d) : null;
            if (!be.layerNormBackward(rows, d, xc.storage(), xc.offset(), wc == null ? null : wc.storage(),
                    wc == null ? 0 : wc.offset(), mean, rstd, gc.storage(), gc.offset(), dx, dw, db)) {
                return composedBackward(x, weight, bias != null, eps, g);
            }
            return new Tensor[] {Tensor.fromStorage(dx, x.shape()), dw == null ? null : Tensor.fromStorage(dw, d),
                    db == null ? null : Tensor.fromStorage(db, d)};
        });
        if (!r.requiresGrad()) {       // no graph (inference, noGrad): the saved row statistics are dead already
            mean.release();
            rstd.release();
        }
        return r;
    }

    /**
     * The LayerNorm gradients from tensor ops (differentiable): with xhat = (x - mean) rstd and gw = g w,
     * dx = rstd (gw - mean(gw) - xhat mean(gw xhat)), dw = sum over rows of g xhat, db = sum of g (null without a bias).
     */
    static Tensor[] composedBackward(Tensor x, Tensor weight, boolean hasBias, double eps, Tensor g) {
        int last = x.dim() - 1, d = x.size(last), rows = x.numel() / d;
        Tensor xc = x.sub(x.mean(last, true));
        Tensor rstd = xc.mul(xc).mean(last, true).add(eps).sqrt().pow(-1);
        Tensor xhat = xc.mul(rstd);
        Tensor gw = weight == null ? g : g.mul(weight);
        Tensor dx = gw.sub(gw.mean(last, true)).sub(xhat.mul(gw.mul(xhat).mean(last, true))).mul(rstd);
        Tensor dw = weight == null ? null : g.mul(xhat).reshape(rows, d).sum(0, false);
        Tensor db = hasBias ? g.reshape(rows, d).sum(0, false) : null;
        return new Tensor[] {dx, dw, db};
    }
}
