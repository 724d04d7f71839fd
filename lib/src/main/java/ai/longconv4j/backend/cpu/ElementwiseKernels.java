// Shape legend: shape = output shape; each operand is read through strides (0 = broadcast dim) and
// an offset into its storage; outputs are contiguous row-major.
package ai.longconv4j.backend.cpu;

import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/**
 * Elementwise CPU kernels over strided operands. The four arithmetic ops have tight loops for
 * contiguous F32/F64 operands (the fast path); everything else goes through {@code get/set} (the
 * slow twin, which the tests compare against).
 */
public final class ElementwiseKernels {
    private ElementwiseKernels() {}

    /** The arithmetic ops that have a fast path. */
    public enum Arith {
        ADD((x, y) -> x + y), SUB((x, y) -> x - y), MUL((x, y) -> x * y), DIV((x, y) -> x / y);

        public final DoubleBinaryOperator fn;

        Arith(DoubleBinaryOperator fn) { this.fn = fn; }
    }

    /** out[i] = src[i] (any strides, any dtype pair): materializes a view contiguously. */
    public static void copy(CpuContext ctx, int[] shape, CpuStorage src, int[] st, int off, CpuStorage out) {
        copy(ctx, shape, src, st, off, out, contiguous(shape), 0);
    }

    /** dst[view] = src[view]: copies between two strided views of the same shape. */
    public static void copy(CpuContext ctx, int[] shape, CpuStorage src, int[] st, int off,
                            CpuStorage out, int[] dstSt, int dstOff) {
        Strided.forEachRow(ctx, shape, dstSt, dstOff, st, off, null, 0, (o0, s0, o1, s1, o2, s2, len) -> {
            if (src.f32() != null && out.f32() != null) {
                float[] a = src.f32(), c = out.f32();
                if (s1 == 1 && s0 == 1) System.arraycopy(a, o1, c, o0, len);
                else for (int i = 0; i < len; i++) c[o0 + i * s0] = a[o1 + i * s1];
            } else if (src.f64() != null && out.f64() != null) {
                double[] a = src.f64(), c = out.f64();
                if (s1 == 1 && s0 == 1) System.arraycopy(a, o1, c, o0, len);
                else for (int i = 0; i < len; i++) c[o0 + i * s0] = a[o1 + i * s1];
            } else {
                for (int i = 0; i < len; i++) out.set(o0 + i * s0, src.get(o1 + i * s1));
            }
        });
    }

    /** out[i] = f(src[i]). */
    public static void unary(CpuContext ctx, int[] shape, DoubleUnaryOperator f, CpuStorage src, int[] st, int off,
                             CpuStorage out) {
        Strided.forEachRow(ctx, shape, contiguous(shape), 0, st, off, null, 0, (o0, s0, o1, s1, o2, s2, len) -> {
            if (src.f32() != null && out.f32() != null) {
                float[] a = src.f32(), c = out.f32();
                for (int i = 0; i < len; i++) c[o0 + i] = (float) f.applyAsDouble(a[o1 + i * s1]);
            } else if (src.f64() != null && out.f64() != null) {
                double[] a = src.f64(), c = out.f64();
                for (int i = 0; i < len; i++) c[o0 + i] = f.applyAsDouble(a[o1 + i * s1]);
            } else {
                for (int i = 0; i < len; i++) out.set(o0 + i, f.applyAsDouble(src.get(o1 + i * s1)));
            }
        });
    }

    /**
     * out[i] = fn(a[i], b[i]) with a and b read through broadcast strides. When {@code fast} is not
     * null and the operands are contiguous rows of one dtype, a tight loop is used.
     */
    public static void binary(CpuContext ctx, int[] shape, Arith fast, DoubleBinaryOperator fn,
                              CpuStorage a, int[] sa, int offA, CpuStorage b, int[] sb, int offB, CpuStorage out) {
        Strided.forEachRow(ctx, shape, contiguous(shape), 0, sa, offA, sb, offB, (o0, s0, o1, s1, o2, s2, len) -> {
            if (fast != null && s1 == 1 && s2 == 1 && out.f32() != null && a.f32() != null && b.f32() != null) {
                arithF32(fast, a.f32(), o1, b.f32(), o2, out.f32(), o0, len);
            } else if (fast != null && s1 == 1 && s2 == 1 && out.f64() != null && a.f64() != null && b.f64() != null) {
                arithF64(fast, a.f64(), o1, b.f64(), o2, out.f64(), o0, len);
            } else if (fast != null && (s1 | s2) == 1 && (s1 & s2) == 0 && out.f32() != null && a.f32() != null && b.f32() != null) {
                // one operand contiguous, the other one value broadcast along the row (a bias, a scale)
                if (s2 == 0) arithF32Scalar(fast, a.f32(), o1, b.f32()[o2], false, out.f32(), o0, len);
                else arithF32Scalar(fast, b.f32(), o2, a.f32()[o1], true, out.f32(), o0, len);
            } else if (fast != null && (s1 | s2) == 1 && (s1 & s2) == 0 && out.f64() != null && a.f64() != null && b.f64() != null) {
                if (s2 == 0) arithF64Scalar(fast, a.f64(), o1, b.f64()[o2], false, out.f64(), o0, len);
                else arithF64Scalar(fast, b.f64(), o2, a.f64()[o1], true, out.f64(), o0, len);
            } else if (fast != null && out.f32() != null && a.f32() != null && b.f32() != null) {
                arithF32Strided(fast, a.f32(), o1, s1, b.f32(), o2, s2, out.f32(), o0, len);
            } else if (fast != null && out.f64() != null && a.f64() != null && b.f64() != null) {
                arithF64Strided(fast, a.f64(), o1, s1, b.f64(), o2, s2, out.f64(), o0, len);
            } else {
                for (int i = 0; i < len; i++)
                    out.set(o0 + i, fn.applyAsDouble(a.get(o1 + i * s1), b.get(o2 + i * s2)));
            }
        });
    }

    // c = x op s (or s op x when sFirst): a contiguous row against one broadcast value
    private static void arithF32Scalar(Arith op, float[] x, int ox, float s, boolean sFirst, float[] c, int oc, int len) {
        switch (op) {
            case ADD -> { for (int i = 0; i < len; i++) c[oc + i] = x[ox + i] + s; }
            case MUL -> { for (int i = 0; i < len; i++) c[oc + i] = x[ox + i] * s; }
            case SUB -> {
                if (sFirst) for (int i = 0; i < len; i++) c[oc + i] = s - x[ox + i];
                else for (int i = 0; i < len; i++) c[oc + i] = x[ox + i] - s;
            }
            case DIV -> {
                if (sFirst) for (int i = 0; i < len; i++) c[oc + i] = s / x[ox + i];
                else for (int i = 0; i < len; i++) c[oc + i] = x[ox + i] / s;
            }
        }
    }

    private static void arithF64Scalar(Arith op, double[] x, int ox, double s, boolean sFirst, double[] c, int oc, int len) {
        switch (op) {
            case ADD -> { for (int i = 0; i < len; i++) c[oc + i] = x[ox + i] + s; }
            case MUL -> { for (int i = 0; i < len; i++) c[oc + i] = x[ox + i] * s; }
            case SUB -> {
                if (sFirst) for (int i = 0; i < len; i++) c[oc + i] = s - x[ox + i];
                else for (int i = 0; i < len; i++) c[oc + i] = x[ox + i] - s;
            }
            case DIV -> {
                if (sFirst) for (int i = 0; i < len; i++) c[oc + i] = s / x[ox + i];
                else for (int i = 0; i < len; i++) c[oc + i] = x[ox + i] / s;
            }
        }
    }

    // strided rows (stride 0 = a broadcast operand, e.g. a per-channel scale over L)
    private static void arithF32Strided(Arith op, float[] a, int oa, int sa, float[] b, int ob, int sb, float[] c, int oc, int len) {
        switch (op) {
            case ADD -> { for (int i = 0; i < len; i++) c[oc + i] = a[oa + i * sa] + b[ob + i * sb]; }
            case SUB -> { for (int i = 0; i < len; i++) c[oc + i] = a[oa + i * sa] - b[ob + i * sb]; }
            case MUL -> { for (int i = 0; i < len; i++) c[oc + i] = a[oa + i * sa] * b[ob + i * sb]; }
            case DIV -> { for (int i = 0; i < len; i++) c[oc + i] = a[oa + i * sa] / b[ob + i * sb]; }
        }
    }

    private static void arithF64Strided(Arith op, double[] a, int oa, int sa, double[] b, int ob, int sb, double[] c, int oc, int len) {
        switch (op) {
            case ADD -> { for (int i = 0; i < len; i++) c[oc + i] = a[oa + i * sa] + b[ob + i * sb]; }
            case SUB -> { for (int i = 0; i < len; i++) c[oc + i] = a[oa + i * sa] - b[ob + i * sb]; }
            case MUL -> { for (int i = 0; i < len; i++) c[oc + i] = a[oa + i * sa] * b[ob + i * sb]; }
            case DIV -> { for (int i = 0; i < len; i++) c[oc + i] = a[oa + i * sa] / b[ob + i * sb]; }
        }
    }

    /** The slow twin of {@link #binary}: always the generic get/set loop (used by tests). */
    public static void binarySlow(CpuContext ctx, int[] shape, DoubleBinaryOperator fn,
                                  CpuStorage a, int[] sa, int offA, CpuStorage b, int[] sb, int offB, CpuStorage out) {
        binary(ctx, shape, null, fn, a, sa, offA, b, sb, offB, out);
    }

    /** out[i] = cond[i] != 0 ? a[i] : b[i] (broadcast strides for all three inputs). */
    public static void select(CpuContext ctx, int[] shape, CpuStorage cond, int[] sc, int offC,
                              CpuStorage a, int[] sa, int offA, CpuStorage b, int[] sb, int offB, CpuStorage out) {
        // two passes keep the row iterator at three operands: out = a where cond, then b elsewhere
        Strided.forEachRow(ctx, shape, contiguous(shape), 0, sa, offA, null, 0, (o0, s0, o1, s1, o2, s2, len) -> {
            for (int i = 0; i < len; i++) out.set(o0 + i, a.get(o1 + i * s1));
        });
        Strided.forEachRow(ctx, shape, contiguous(shape), 0, sc, offC, sb, offB, (o0, s0, o1, s1, o2, s2, len) -> {
            for (int i = 0; i < len; i++)
                if (cond.get(o1 + i * s1) == 0) out.set(o0 + i, b.get(o2 + i * s2));
        });
    }

    private static void arithF32(Arith op, float[] a, int oa, float[] b, int ob, float[] c, int oc, int len) {
        switch (op) {
            case ADD -> { for (int i = 0; i < len; i++) c[oc + i] = a[oa + i] + b[ob + i]; }
            case SUB -> { for (int i = 0; i < len; i++) c[oc + i] = a[oa + i] - b[ob + i]; }
            case MUL -> { for (int i = 0; i < len; i++) c[oc + i] = a[oa + i] * b[ob + i]; }
            case DIV -> { for (int i = 0; i < len; i++) c[oc + i] = a[oa + i] / b[ob + i]; }
        }
    }

    private static void arithF64(Arith op, double[] a, int oa, double[] b, int ob, double[] c, int oc, int len) {
        switch (op) {
            case ADD -> { for (int i = 0; i < len; i++) c[oc + i] = a[oa + i] + b[ob + i]; }
            case SUB -> { for (int i = 0; i < len; i++) c[oc + i] = a[oa + i] - b[ob + i]; }
            case MUL -> { for (int i = 0; i < len; i++) c[oc + i] = a[oa + i] * b[ob + i]; }
            case DIV -> { for (int i = 0; i < len; i++) c[oc + i] = a[oa + i] / b[ob + i]; }
        }
    }

    static int[] contiguous(int[] shape) {
        int[] st = new int[shape.length];
        int s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            st[i] = s;
            s *= Math.max(shape[i], 1);
        }
        return st;
    }
}
