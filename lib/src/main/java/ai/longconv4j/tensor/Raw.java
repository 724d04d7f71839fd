// Shape legend: generic; reductions view a tensor as (O, R, I) = (outer, reduced axis, inner);
// matmul operands are (..., M, K) and (..., K, N) with broadcast batch dims.
package ai.longconv4j.tensor;

import ai.longconv4j.backend.Backend;
import ai.longconv4j.backend.Backends;
import ai.longconv4j.backend.View;
import ai.longconv4j.backend.cpu.CpuContext;
import ai.longconv4j.backend.cpu.CpuStorage;
import ai.longconv4j.backend.cpu.ElementwiseKernels;
import ai.longconv4j.backend.cpu.ElementwiseKernels.Arith;
import ai.longconv4j.backend.cpu.MatmulKernels;
import ai.longconv4j.backend.cpu.ReduceKernels;

import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/**
 * Forward computations without autograd: each takes tensors and returns a new tensor (never part of
 * a graph). The differentiable primitives in {@link Primitives} call these and add gradient rules.
 * Tensors on a non-CPU device go to that device's {@link Backend} (one branch at the top of each op, so
 * the CPU path is unchanged); all operands of one op must be on the same device.
 */
final class Raw {
    private Raw() {}

    static CpuStorage cpu(String op, Tensor t) {
        if (!(t.storage() instanceof CpuStorage s))
            throw new UnsupportedOperationException(op + ": tensors on " + t.device() + " are not supported by the CPU backend");
        return s;
    }

    static Tensor empty(DType dtype, int[] shape) {
        return new Tensor(CpuStorage.allocate(dtype, Shapes.numel(shape)), shape.clone(), Shapes.contiguousStrides(shape), 0);
    }

    /** A zero-filled contiguous tensor on {@code device}. */
    static Tensor empty(Device device, DType dtype, int[] shape) {
        if (device.isCpu()) return empty(dtype, shape);
        return new Tensor(Backends.forDevice(device).allocate(device, dtype, Shapes.numel(shape)), shape.clone(),
                Shapes.contiguousStrides(shape), 0);
    }

    /** A contiguous output tensor on {@code device} whose contents are undefined off the CPU (a kernel overwrites it). */
    static Tensor output(Device device, DType dtype, int[] shape) {
        if (device.isCpu()) return empty(dtype, shape);
        return new Tensor(Backends.forDevice(device).allocateUninitialized(device, dtype, Shapes.numel(shape)), shape.clone(),
                Shapes.contiguousStrides(shape), 0);
    }

    /** The backend of the operands' device, or null for the CPU; mixed devices are an error naming both. */
    static Backend backend(String op, Tensor... ts) {
        Device d = null;
        Tensor first = null;
        for (Tensor t : ts) {
            if (t == null) continue;
            if (d == null) {
                d = t.device();
                first = t;
            } else if (!t.device().equals(d)) {
                throw new IllegalArgumentException(op + ": operands on different devices: " + d + " " + Shapes.str(first.shape())
                        + " and " + t.device() + " " + Shapes.str(t.shape()) + "; move them with to(Device)");
            }
        }
        return d == null || d.isCpu() ? null : Backends.forDevice(d);
    }

    static View view(Tensor t) { return new View(t.storage(), t.strides(), t.offset()); }

    static View view(Tensor t, int[] outShape) {
        return new View(t.storage(), Shapes.broadcastStrides(t.shape(), t.strides(), outShape), t.offset());
    }

    /** A copy of {@code t} on {@code device} (same dtype). */
    static Tensor toDevice(Tensor t, Device device) {
        if (t.device().equals(device)) return t;
        Tensor c = contiguous(t);
        if (device.isCpu() && (c.offset() != 0 || c.storage().length() != c.numel())) c = convert(c, c.dtype());  // download only the view
        if (device.isCpu()) {
            CpuStorage cs = c.storage().toCpu();      // a device storage downloads all of itself (F32 for 16-bit types)
            return new Tensor(cs, c.shape(), c.strides(), c.offset());   // 16-bit device types arrive as F32
        }
        Backend be = Backends.forDevice(device);
        if (!t.device().isCpu()) c = toDevice(c, Device.CPU);
        CpuStorage cs = cpu("to", c);
        if (c.offset() != 0 || cs.length() != c.numel()) c = convert(c, c.dtype());     // exact-size buffer
        return new Tensor(be.upload(device, cpu("to", c), t.dtype()), t.shape(), Shapes.contiguousStrides(t.shape()), 0);
    }

    static Tensor contiguous(Tensor t) {
        if (t.isContiguous()) return t;
        Backend be = backend("contiguous", t);
        if (be != null) {
            Tensor out = output(t.device(), t.dtype(), t.shape());
            be.copy(t.shape(), view(t), view(out));
            return out;
        }
        Tensor out = empty(t.dtype(), t.shape());
        ElementwiseKernels.copy(CpuContext.current(), t.shape(), cpu("contiguous", t), t.strides(), t.offset(),
                (CpuStorage) out.storage());
        return out;
    }

    static Tensor convert(Tensor t, DType dtype) {
        Backend be = backend("to", t);
        if (be != null) {
            Tensor out = output(t.device(), dtype, t.shape());
            be.copy(t.shape(), view(t), view(out));
            return out;
        }
        if (!dtype.cpuComputable())
            throw new UnsupportedOperationException("to: " + dtype + " is not computed on the CPU (use F32 or F64)");
        Tensor out = empty(dtype, t.shape());
        ElementwiseKernels.copy(CpuContext.current(), t.shape(), cpu("to", t), t.strides(), t.offset(),
                (CpuStorage) out.storage());
        return out;
    }

    static Tensor unary(String op, Tensor x, DoubleUnaryOperator f) {
        Tensor out = empty(x.dtype(), x.shape());
        ElementwiseKernels.unary(CpuContext.current(), x.shape(), f, cpu(op, x), x.strides(), x.offset(),
                (CpuStorage) out.storage());
        return out;
    }

    static void checkDType(String op, Tensor a, Tensor b) {
        if (a.dtype() != b.dtype())
            throw new IllegalArgumentException(op + ": dtypes " + a.dtype() + " and " + b.dtype()
                    + " differ (shapes " + Shapes.str(a.shape()) + " and " + Shapes.str(b.shape()) + "); convert with to()");
    }

    /** y = f(x) on a device (the UnaryFn names the function for the backend). */
    static Tensor unaryDevice(Backend be, UnaryFn fn, Tensor x) {
        Tensor y = output(x.device(), x.dtype(), x.shape());
        be.unary(fn.op(), fn.param(), x.shape(), view(x), view(y));
        return y;
    }

    /** dx = g * f'(x, y) on a device. */
    static Tensor unaryGradDevice(Backend be, UnaryFn fn, Tensor x, Tensor y, Tensor g) {
        checkDType(fn.name() + "'", x, g);
        int[] shape = x.shape();
        Tensor dx = output(x.device(), x.dtype(), shape);
        be.unaryGrad(fn.op(), fn.param(), shape, view(x), view(y), view(g, shape), view(dx));
        return dx;
    }

    static Tensor binary(String op, Tensor a, Tensor b, Arith fast, DoubleBinaryOperator fn) {
        checkDType(op, a, b);
        int[] shape = Shapes.broadcast(op, a.shape(), b.shape());
        Backend be = backend(op, a, b);
        if (be != null) {
            if (fast == null) throw new UnsupportedOperationException(op + ": no device kernel for this binary function on " + a.device());
            Tensor out = output(a.device(), a.dtype(), shape);
            be.binary(fast, shape, view(a, shape), view(b, shape), view(out));
            return out;
        }
        Tensor out = empty(a.dtype(), shape);
        ElementwiseKernels.binary(CpuContext.current(), shape, fast, fn,
                cpu(op, a), Shapes.broadcastStrides(a.shape(), a.strides(), shape), a.offset(),
                cpu(op, b), Shapes.broadcastStrides(b.shape(), b.strides(), shape), b.offset(),
                (CpuStorage) out.storage());
        return out;
    }

    static Tensor select(String op, Tensor cond, Tensor a, Tensor b) {
        checkDType(op, a, b);
        int[] shape = Shapes.broadcast(op, Shapes.broadcast(op, cond.shape(), a.shape()), b.shape());
        Backend be = backend(op, cond, a, b);
        if (be != null) {
            Tensor out = output(a.device(), a.dtype(), shape);
            be.select(shape, view(cond, shape), view(a, shape), view(b, shape), view(out));
            return out;
        }
        Tensor out = empty(a.dtype(), shape);
        ElementwiseKernels.select(CpuContext.current(), shape,
                cpu(op, cond), Shapes.broadcastStrides(cond.shape(), cond.strides(), shape), cond.offset(),
                cpu(op, a), Shapes.broadcastStrides(a.shape(), a.strides(), shape), a.offset(),
                cpu(op, b), Shapes.broadcastStrides(b.shape(), b.strides(), shape), b.offset(),
                (CpuStorage) out.storage());
        return out;
    }

    /** Sum over one axis; the result keeps the axis with size 1 when {@code keepDim}. */
    static Tensor sum(Tensor x, int axis, boolean keepDim) {
        Tensor c = contiguous(x);
        int[] s = c.shape();
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= s[i];
        for (int i = axis + 1; i < s.length; i++) inner *= s[i];
        Tensor out = output(x.device(), x.dtype(), reducedShape(s, axis, true));
        Backend be = backend("sum", x);
        if (be != null) {
            be.sum(c.storage(), c.offset(), outer, s[axis], inner, out.storage());
            if (c != x) c.storage().release();          // the op's own contiguous copy: dead once the sum is queued
        } else ReduceKernels.sum(CpuContext.current(), cpu("sum", c), c.offset(), outer, s[axis], inner, (CpuStorage) out.storage());
        return keepDim ? out : out.reshapeView(reducedShape(s, axis, false));
    }

    static Tensor sumAll(Tensor x) {
        Tensor c = contiguous(x);
        Tensor out = output(x.device(), x.dtype(), new int[0]);
        Backend be = backend("sum", x);
        if (be != null) {
            be.sum(c.storage(), c.offset(), 1, c.numel(), 1, out.storage());
            if (c != x) c.storage().release();
        } else ReduceKernels.sum(CpuContext.current(), cpu("sum", c), c.offset(), 1, c.numel(), 1, (CpuStorage) out.storage());
        return out;
    }

    /**
     * Max over one axis; {@code argmax[0]} receives, per output element, the index along the axis (an int[] on
     * the CPU, the backend's device handle otherwise).
     */
    static Tensor max(Tensor x, int axis, boolean keepDim, Object[] argmax) {
        Tensor c = contiguous(x);
        int[] s = c.shape();
        if (s[axis] == 0) throw new IllegalArgumentException("max: axis " + axis + " of shape " + Shapes.str(s) + " is empty");
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= s[i];
        for (int i = axis + 1; i < s.length; i++) inner *= s[i];
        Backend be = backend("max", x);
        Tensor out = output(x.device(), x.dtype(), reducedShape(s, axis, true));
        if (be != null) {
            argmax[0] = be.max(c.storage(), c.offset(), outer, s[axis], inner, out.storage());
        } else {
            int[] arg = new int[outer * inner];
            argmax[0] = arg;
            ReduceKernels.max(CpuContext.current(), cpu("max", c), c.offset(), outer, s[axis], inner,
                    (CpuStorage) out.storage(), arg);
        }
        return keepDim ? out : out.reshapeView(reducedShape(s, axis, false));
    }

    static int[] reducedShape(int[] s, int axis, boolean keepDim) {
        int[] r = new int[keepDim ? s.length : s.length - 1];
        for (int i = 0, j = 0; i < s.length; i++) {
            if (i == axis) {
                if (keepDim) r[j++] = 1;
            } else r[j++] = s[i];
        }
        return r;
    }

    /** Sums {@code g} down to {@code shape} (the inverse of broadcasting {@code shape} up to g's shape). */
    static Tensor sumToShape(Tensor g, int[] shape) {
        int[] gs = g.shape();
        if (java.util.Arrays.equals(gs, shape)) return g;
        int lead = gs.length - shape.length;
        Tensor r = g;
        for (int i = gs.length - 1; i >= 0; i--) {
            boolean reduce = i < lead || (shape[i - lead] == 1 && gs[i] != 1);
            if (reduce) {
                Tensor next = sum(r, i, true);
                if (r != g && !r.device().isCpu()) r.storage().release();   // an intermediate of this chain only
                r = next;
            }
        }
        return contiguous(r).reshapeView(shape);
    }

    /** Batched matmul with broadcast batch dims; 1-D operands are not promoted (need dim >= 2). */
    static Tensor matmul(Tensor a, Tensor b) {
        checkDType("matmul", a, b);
        int[] as = a.shape(), bs = b.shape();
        if (as.length < 2 || bs.length < 2)
            throw new IllegalArgumentException("matmul: operands need dim >= 2, got shapes " + Shapes.str(as) + " and " + Shapes.str(bs));
        int m = as[as.length - 2], k = as[as.length - 1], k2 = bs[bs.length - 2], n = bs[bs.length - 1];
        if (k != k2)
            throw new IllegalArgumentException("matmul: shapes " + Shapes.str(as) + " and " + Shapes.str(bs)
                    + " do not match (inner dims " + k + " and " + k2 + ")");
        int[] batch = Shapes.broadcast("matmul", java.util.Arrays.copyOf(as, as.length - 2), java.util.Arrays.copyOf(bs, bs.length - 2));
        int[] outShape = java.util.Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        Backend be = backend("matmul", a, b);
        Tensor out = k == 0 ? empty(a.device(), a.dtype(), outShape) : output(a.device(), a.dtype(), outShape);
        Operand pa = Operand.of(a), pb = Operand.of(b);
        int[] sa = Shapes.broadcastStrides(java.util.Arrays.copyOf(as, as.length - 2), java.util.Arrays.copyOf(pa.t.strides(), as.length - 2), batch);
        int[] sb = Shapes.broadcastStrides(java.util.Arrays.copyOf(bs, bs.length - 2), java.util.Arrays.copyOf(pb.t.strides(), bs.length - 2), batch);
        int nb = Shapes.numel(batch);
        if (be != null) {
            if (out.numel() == 0) return out;
            int[] offA = new int[nb], offB = new int[nb];
            for (int bi = 0; bi < nb; bi++) {
                int rem = bi, oa = pa.t.offset(), ob = pb.t.offset();
                for (int d = batch.length - 1; d >= 0; d--) {
                    int idx = rem % batch[d];
                    rem /= batch[d];
                    oa += idx * sa[d];
                    ob += idx * sb[d];
                }
                offA[bi] = oa;
                offB[bi] = ob;
            }
            if (k == 0) return out;                    // zero-filled
            be.matmul(nb, m, n, k, pa.t.storage(), offA, pa.ld, pa.trans, pb.t.storage(), offB, pb.ld, pb.trans, out.storage());
            return out;
        }
        CpuStorage ca = cpu("matmul", pa.t), cb = cpu("matmul", pb.t), cc = (CpuStorage) out.storage();
        CpuContext ctx = CpuContext.current();
        // tasks = (batch, row block); the blocks depend on the shape only, so results do not depend on threads
        int blocks = MatmulKernels.rowBlocks(m, n, k);
        long costPerTask = (long) m * n * k / blocks;
        ctx.parallelFor(nb * blocks, Math.max(1, costPerTask), (t0, t1) -> {
            for (int task = t0; task < t1; task++) {
                int bi = task / blocks, blk = task % blocks;
                int rem = bi, offA = pa.t.offset(), offB = pb.t.offset();
                for (int d = batch.length - 1; d >= 0; d--) {
                    int idx = rem % batch[d];
                    rem /= batch[d];
                    offA += idx * sa[d];
                    offB += idx * sb[d];
                }
                MatmulKernels.block(m, n, k, blocks, blk, ca, offA, pa.ld, pa.trans, cb, offB, pb.ld, pb.trans, cc, bi * m * n);
            }
        });
        return out;
    }

    /** A matrix operand as BLAS wants it: row-major or transposed, with a leading dimension. */
    private record Operand(Tensor t, int ld, boolean trans) {
        static Operand of(Tensor x) {
            int d = x.dim();
            int[] s = x.shape(), st = x.strides();
            int rows = s[d - 2], cols = s[d - 1];
            if ((st[d - 1] == 1 || cols == 1) && st[d - 2] >= Math.max(1, cols)) return new Operand(x, st[d - 2], false);
            if ((st[d - 2] == 1 || rows == 1) && st[d - 1] >= Math.max(1, rows)) return new Operand(x, st[d - 1], true);
            Tensor c = contiguous(x);
            return new Operand(c, Math.max(1, cols), false);
        }
    }
}
