// Shapes: every tensor has the parameter's shape.
package ai.longconv4j.optim;

import ai.longconv4j.backend.Backend;
import ai.longconv4j.backend.Backends;
import ai.longconv4j.backend.View;
import ai.longconv4j.tensor.Tensor;

/** Fused optimizer steps on device backends that provide them (one kernel per parameter); null where none is. */
final class FusedUpdates {
    private FusedUpdates() {}

    private static View flat(Tensor t) { return new View(t.storage(), new int[] {1}, t.offset()); }

    /** {p', m', v'} of one AdamW step (see {@link Backend#adamw}), or null when the backend has no fused kernel. */
    static Tensor[] adamw(Tensor p, Tensor g, Tensor m, Tensor v, double lr, double wd, double b1, double b2, double eps,
                          double bc1, double bc2) {
        if (!g.device().equals(p.device()) || g.dtype() != p.dtype()
                || m.dtype() != p.dtype() || v.dtype() != p.dtype()) return null;
        Backend be = Backends.forDevice(p.device());
        Tensor pc = p.contiguous(), gc = g.contiguous(), mc = m.contiguous(), vc = v.contiguous();
        int[] shape = p.shape();
        int n = p.numel();                     // outputs the kernel writes whole: no zero fill
        Tensor pn = Tensor.fromStorage(be.allocateUninitialized(p.device(), p.dtype(), n), shape),
                mn = Tensor.fromStorage(be.allocateUninitialized(p.device(), p.dtype(), n), shape),
                vn = Tensor.fromStorage(be.allocateUninitialized(p.device(), p.dtype(), n), shape);
        if (!be.adamw(p.numel(), flat(pc), flat(gc), flat(mc), flat(vc), flat(pn), flat(mn), flat(vn), lr, wd, b1, b2, eps, bc1, bc2))
            return null;
        return new Tensor[] {pn, mn, vn};
    }
}
