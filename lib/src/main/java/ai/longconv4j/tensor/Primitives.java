// Shape legend: generic; "g" is dL/d(output) with the output's shape, every returned gradient has its
// input's shape (broadcast inputs get g summed back down with Raw.sumToShape).
package ai.longconv4j.tensor;

import ai.longconv4j.backend.cpu.CpuContext;
import ai.longconv4j.backend.cpu.CpuStorage;
import ai.longconv4j.backend.cpu.ElementwiseKernels;
import ai.longconv4j.backend.cpu.ElementwiseKernels.Arith;

import java.util.Arrays;

/**
 * The differentiable primitives, each forward next to its gradient rule (all rules live here).
 * Everything else in {@link Tensor} / {@link Composite} is composed from these.
 */
final class Primitives {
    private Primitives() {}

    private static Tensor rec(String name, Tensor out, Tensor[] in, Tensor.Backward bw) {
        OpObserver obs = OpObserver.current();              // profiler hook (null unless installed)
        if (obs != null) obs.onForward(name, out, in);
        return Autograd.record(name, out, in, bw);
    }

    // ---- elementwise -------------------------------------------------------------------------

    /** y = f(x); dx = g * f'(x, y). */
    static Tensor unary(UnaryFn fn, Tensor x) {
        var be = Raw.backend(fn.name(), x);
        if (be != null) {                                         // a device: one kernel each way
            Tensor yd = Raw.unaryDevice(be, fn, x);
            if (fn.isAffine())
                return rec(fn.name(), yd, new Tensor[]{x}, g -> new Tensor[]{fn.slope() == 1 ? g : g.mul(fn.slope())});
            return rec(fn.name(), yd, new Tensor[]{x}, g -> new Tensor[]{unaryGrad(fn, x, yd, g)});
        }
        Tensor fast = UnaryLoops.forward(fn, x);                  // a tight loop where there is one
        Tensor y = fast != null ? fast : Raw.unary(fn.name(), x, fn.f());
        if (fn.isAffine())
            return rec(fn.name(), y, new Tensor[]{x}, g -> new Tensor[]{fn.slope() == 1 ? g : g.mul(fn.slope())});
        return rec(fn.name(), y, new Tensor[]{x}, g -> new Tensor[]{unaryGrad(fn, x, y, g)});
    }

    /**
     * g * f'(x, y) for y = f(x) (f not affine): one kernel on a device, a fused loop on the CPU where there is one; when
     * g itself needs a gradient, g times f' so that the product is recorded.
     */
    static Tensor unaryGrad(UnaryFn fn, Tensor x, Tensor y, Tensor g) {
        var be = Raw.backend(fn.name(), x);
        if (be != null)
            return g.requiresGrad()
                    ? g.mul(Raw.unaryGradDevice(be, fn, x, y, Raw.empty(x.device(), x.dtype(), new int[0]).add(1)))
                    : Raw.unaryGradDevice(be, fn, x, y, g);
        Tensor dx = g.requiresGrad() ? null : UnaryLoops.backward(fn, x, y, g);   // fused g * f'(x, y)
        return dx != null ? dx : unaryGradSlow(fn, x, y, g);
    }

    /** The slow twin of the fused unary gradient: f'(x, y) through the generic kernel, then g * f'. */
    static Tensor unaryGradSlow(UnaryFn fn, Tensor x, Tensor y, Tensor g) {
        return g.mul(Raw.binary(fn.name() + "'", x, y, null, fn.df()));
    }

    /** Broadcasting arithmetic; gradients are reduced back to each input's shape. */
    static Tensor arith(Arith op, Tensor a, Tensor b) {
        String name = op.name().toLowerCase();
        Tensor y = Raw.binary(name, a, b, op, op.fn);
        return rec(name, y, new Tensor[]{a, b}, g -> {
            // only the gradients an input needs (a constant operand, e.g. a mask or a detached max, costs no kernels)
            boolean wa = a.requiresGrad(), wb = b.requiresGrad();
            Tensor ga = null, gb = null;
            switch (op) {
                case ADD -> { ga = g; gb = g; }
                case SUB -> { ga = g; gb = wb ? g.neg() : null; }
                case MUL -> { ga = wa ? g.mul(b) : null; gb = wb ? g.mul(a) : null; }
                default -> {                                                     // d(a/b)/db = -a/b^2
                    ga = wa ? g.div(b) : null;
                    gb = wb ? g.mul(a).div(b.mul(b)).neg() : null;
                }
            }
            return new Tensor[]{wa ? Raw.sumToShape(ga, a.shape()) : null, wb ? Raw.sumToShape(gb, b.shape()) : null};
        });
    }

    /** out = cond != 0 ? a : b (cond is a constant). */
    static Tensor where(Tensor cond, Tensor a, Tensor b) {
        Tensor y = Raw.select("where", cond, a, b);
        return rec("where", y, new Tensor[]{null, a, b}, g -> {
            Tensor zero = Raw.empty(g.device(), g.dtype(), new int[0]);
            return new Tensor[]{null,
                    a.requiresGrad() ? Raw.sumToShape(Raw.select("where", cond, g, zero), a.shape()) : null,
                    b.requiresGrad() ? Raw.sumToShape(Raw.select("where", cond, zero, g), b.shape()) : null};
        });
    }

    static Tensor to(Tensor x, DType dtype) {
        if (x.dtype() == dtype) return x;
        Tensor y = Raw.convert(x, dtype);
        return rec("to", y, new Tensor[]{x}, g -> new Tensor[]{Raw.convert(g, x.dtype())});
    }

    /** A copy on another device; the gradient is copied back to x's device. */
    static Tensor toDevice(Tensor x, Device device) {
        if (x.device().equals(device)) return x;
        Tensor y = Raw.toDevice(x, device);
        return rec("toDevice", y, new Tensor[]{x}, g -> {
            Tensor back = Raw.toDevice(g, x.device());
            return new Tensor[]{back.dtype() == x.dtype() ? back : Raw.convert(back, x.dtype())};
        });
    }

    // ---- reductions --------------------------------------------------------------------------

    static Tensor sumAll(Tensor x) {
        Tensor y = Raw.sumAll(x);
        return rec("sum", y, new Tensor[]{x}, g -> new Tensor[]{expand(g, x.shape())});
    }

    static Tensor sum(Tensor x, int axis, boolean keepDim) {
        Tensor y = Raw.sum(x, axis, keepDim);
        int[] kept = Raw.reducedShape(x.shape(), axis, true);
        return rec("sum", y, new Tensor[]{x}, g -> new Tensor[]{expand(g.reshape(kept), x.shape())});
    }

    /** Max along an axis; the gradient goes to the first maximal element. */
    static Tensor max(Tensor x, int axis, boolean keepDim) {
        Object[] arg = new Object[1];
        Tensor y = Raw.max(x, axis, keepDim, arg);
        return rec("max", y, new Tensor[]{x}, g -> {
            int[] s = x.shape();
            int red = s[axis], inner = 1, outer = 1;
            for (int i = axis + 1; i < s.length; i++) inner *= s[i];
            for (int i = 0; i < axis; i++) outer *= s[i];
            Tensor gc = Raw.contiguous(g);
            Tensor dx = Raw.empty(g.device(), g.dtype(), s);
            var be = Raw.backend("max", gc);
            if (be != null) {
                be.maxGrad(arg[0], gc.storage(), gc.offset(), outer, red, inner, dx.storage());
                return new Tensor[]{dx};
            }
            int[] am = (int[]) arg[0];
            CpuStorage gs = Raw.cpu("max", gc), ds = (CpuStorage) dx.storage();
            for (int j = 0; j < am.length; j++) {
                int o = j / inner, i = j % inner;
                ds.set((o * red + am[j]) * inner + i, gs.get(gc.offset() + j));
            }
            return new Tensor[]{dx};
        });
    }

    // ---- linear algebra ----------------------------------------------------------------------

    /** C = A B (batched); dA = g B^T, dB = A^T g, each summed over broadcast batch dims. */
    static Tensor matmul(Tensor a, Tensor b) {
        Tensor y = Raw.matmul(a, b);
        return rec("matmul", y, new Tensor[]{a, b}, g -> new Tensor[]{
                a.requiresGrad() ? Raw.sumToShape(Raw.matmul(g, b.transpose(-1, -2)), a.shape()) : null,
                b.requiresGrad() ? Raw.sumToShape(Raw.matmul(a.transpose(-1, -2), g), b.shape()) : null});
    }

    // ---- shape and indexing ------------------------------------------------------------------

    static Tensor reshape(Tensor x, int[] shape) {
        Tensor y = (x.isContiguous() ? x : Raw.contiguous(x)).reshapeView(shape);
        return rec("reshape", y, new Tensor[]{x}, g -> new Tensor[]{g.reshape(x.shape())});
    }

    /** Broadcasts x to {@code shape} (a stride-0 view); the gradient sums back. */
    static Tensor expand(Tensor x, int[] shape) {
        int[] target = Shapes.broadcast("expand", x.shape(), shape);
        if (!Arrays.equals(target, shape))
            throw new IllegalArgumentException("expand: shape " + Shapes.str(x.shape()) + " cannot be expanded to " + Shapes.str(shape));
        Tensor y = new Tensor(x.storage(), shape.clone(), Shapes.broadcastStrides(x.shape(), x.strides(), shape), x.offset());
        return rec("expand", y, new Tensor[]{x}, g -> new Tensor[]{Raw.sumToShape(g, x.shape())});
    }

    static Tensor permute(Tensor x, int[] perm) {
        int d = x.dim();
        if (perm.length != d)
            throw new IllegalArgumentException("permute: " + perm.length + " axes given for a tensor of shape " + Shapes.str(x.shape()));
        int[] p = new int[d], inv = new int[d], shape = new int[d], strides = new int[d];
        boolean[] used = new boolean[d];
        for (int i = 0; i < d; i++) {
            p[i] = Shapes.axis("permute", perm[i], d);
            if (used[p[i]]) throw new IllegalArgumentException("permute: axis " + perm[i] + " repeated in " + Arrays.toString(perm));
            used[p[i]] = true;
            inv[p[i]] = i;
            shape[i] = x.shape()[p[i]];
            strides[i] = x.strides()[p[i]];
        }
        Tensor y = new Tensor(x.storage(), shape, strides, x.offset());
        return rec("permute", y, new Tensor[]{x}, g -> new Tensor[]{g.permute(inv)});
    }

    static Tensor slice(Tensor x, int axis, int start, int end) {
        int a = Shapes.axis("slice", axis, x.dim());
        int n = x.shape()[a];
        if (start < 0 || end > n || start > end)
            throw new IllegalArgumentException("slice: range [" + start + ", " + end + ") out of bounds for axis " + axis
                    + " of shape " + Shapes.str(x.shape()));
        int[] shape = x.shape();
        shape[a] = end - start;
        Tensor y = new Tensor(x.storage(), shape, x.strides(), x.offset() + start * x.strides()[a]);
        return rec("slice", y, new Tensor[]{x}, g -> new Tensor[]{g.pad(a, start, n - end)});
    }

    static Tensor concat(int axis, Tensor[] ts) {
        if (ts.length == 0) throw new IllegalArgumentException("concat: no tensors given");
        int d = ts[0].dim();
        int a = Shapes.axis("concat", axis, d);
        int[] shape = ts[0].shape();
        int total = 0;
        for (Tensor t : ts) {
            int[] s = t.shape();
            boolean ok = s.length == d;
            for (int i = 0; ok && i < d; i++) ok = i == a || s[i] == shape[i];
            if (!ok)
                throw new IllegalArgumentException("concat: shapes " + Shapes.str(shape) + " and " + Shapes.str(s)
                        + " differ outside axis " + axis);
            Raw.checkDType("concat", ts[0], t);
            total += s[a];
        }
        shape[a] = total;
        var be = Raw.backend("concat", ts);
        Tensor y = Raw.output(ts[0].device(), ts[0].dtype(), shape);
        int[] offs = new int[ts.length + 1];
        for (int i = 0; i < ts.length; i++) {
            offs[i + 1] = offs[i] + ts[i].shape()[a];
            int dstOff = offs[i] * y.strides()[a];
            if (be != null) {
                if (ts[i].numel() > 0)
                    be.copy(ts[i].shape(), Raw.view(ts[i]), new ai.longconv4j.backend.View(y.storage(), y.strides(), dstOff));
                continue;
            }
            ElementwiseKernels.copy(CpuContext.current(), ts[i].shape(), Raw.cpu("concat", ts[i]), ts[i].strides(),
                    ts[i].offset(), (CpuStorage) y.storage(), y.strides(), dstOff);
        }
        return rec("concat", y, ts, g -> {
            Tensor[] gs = new Tensor[ts.length];
            for (int i = 0; i < ts.length; i++) gs[i] = Raw.contiguous(g.slice(a, offs[i], offs[i + 1]));
            return gs;
        });
    }

    static Tensor flip(Tensor x, int axis) {
        int a = Shapes.axis("flip", axis, x.dim());
        int[] st = x.strides();
        int n = x.shape()[a];
        int off = x.offset() + (n > 0 ? (n - 1) * st[a] : 0);
        st[a] = -st[a];
        Tensor y = Raw.contiguous(new Tensor(x.storage(), x.shape(), st, off));
        return rec("flip", y, new Tensor[]{x}, g -> new Tensor[]{g.flip(a)});
    }

    /** out[..., :] = weight[ids[...], :]; dweight = scatter-add of g rows at ids. */
    static Tensor embedding(Tensor weight, int[] ids, int[] idShape) {
        if (weight.dim() != 2)
            throw new IllegalArgumentException("embedding: weight must be (V, D), got " + Shapes.str(weight.shape()));
        if (Shapes.numel(idShape) != ids.length)
            throw new IllegalArgumentException("embedding: idShape " + Shapes.str(idShape) + " does not hold " + ids.length + " ids");
        int v = weight.shape()[0], dm = weight.shape()[1];
        for (int id : ids)
            if (id < 0 || id >= v) throw new IllegalArgumentException("embedding: id " + id + " out of range [0, " + v + ")");
        Tensor w = Raw.contiguous(weight);
        int[] outShape = Arrays.copyOf(idShape, idShape.length + 1);
        outShape[idShape.length] = dm;
        var be = Raw.backend("embedding", weight);
        if (be != null) {
            Tensor yd = Raw.output(weight.device(), weight.dtype(), outShape);
            if (yd.numel() > 0) be.gather(w.storage(), w.offset(), dm, ids, yd.storage());
            return rec("embedding", yd, new Tensor[]{weight}, g -> {
                Tensor gc = Raw.contiguous(g);
                Tensor dw = Raw.empty(g.device(), g.dtype(), weight.shape());
                if (gc.numel() > 0) be.scatterAdd(gc.storage(), gc.offset(), dm, ids, dw.storage());
                return new Tensor[]{dw};
            });
        }
        Tensor y = Raw.empty(weight.dtype(), outShape);
        CpuStorage ws = Raw.cpu("embedding", w), ys = (CpuStorage) y.storage();
        for (int r = 0; r < ids.length; r++)
            for (int j = 0; j < dm; j++) ys.set(r * dm + j, ws.get(w.offset() + ids[r] * dm + j));
        return rec("embedding", y, new Tensor[]{weight}, g -> {
            Tensor gc = Raw.contiguous(g);
            Tensor dw = Raw.empty(g.dtype(), weight.shape());
            CpuStorage gs = Raw.cpu("embedding", gc), ds = (CpuStorage) dw.storage();
            for (int r = 0; r < ids.length; r++)
                for (int j = 0; j < dm; j++) ds.set(ids[r] * dm + j, ds.get(ids[r] * dm + j) + gs.get(gc.offset() + r * dm + j));
            return new Tensor[]{dw};
        });
    }

    /** Custom op: the caller computed {@code result}; wire it into the graph with its backward. */
    static Tensor op(String name, Tensor result, Tensor[] inputs, Tensor.Backward backward) {
        if (result.node != null)
            throw new IllegalArgumentException("op '" + name + "': result is already part of a graph; pass a plain tensor");
        Tensor y = new Tensor(result.storage(), result.shape(), result.strides(), result.offset());
        return rec(name, y, inputs, backward);
    }
}
