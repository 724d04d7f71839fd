// Shape legend: flat contiguous runs of n elements (the tensor's shape does not matter here).
package ai.longconv4j.tensor;

import ai.longconv4j.backend.cpu.CpuContext;
import ai.longconv4j.backend.cpu.CpuStorage;

/**
 * Fast paths of the elementwise unary functions for contiguous F32/F64 tensors: one tight loop per
 * function (a {@code switch} per run, not a megamorphic lambda call per element), and the backward
 * {@code dx = g * f'(x, y)} fused into one pass. The generic path ({@code ElementwiseKernels.unary} with
 * the {@link UnaryFn}'s operators, and {@code g.mul(Raw.binary(f'))} for the gradient) is the slow twin;
 * {@code UnaryLoopsTest} compares them. Runs are split over the context's threads (elementwise, so
 * results do not depend on the thread count).
 */
final class UnaryLoops {
    private UnaryLoops() {}

    /** The functions with a tight loop; {@link #NONE} = use the generic path. */
    enum Kind { NONE, SCALE, SHIFT, EXP, LOG, TANH, SIGMOID, RELU, GELU, GELU_TANH, SQRT, ABS }

    static Kind kind(UnaryFn fn) {
        // Tensor.mul(c) / neg: x * slope; Tensor.add(c): x + c (the same arithmetic as their operators)
        if (fn.isAffine()) return switch (fn.name()) {
            case "mul", "neg" -> Kind.SCALE;
            case "add" -> Kind.SHIFT;
            default -> Kind.NONE;
        };
        if (fn == UnaryFn.EXP) return Kind.EXP;
        if (fn == UnaryFn.LOG) return Kind.LOG;
        if (fn == UnaryFn.TANH) return Kind.TANH;
        if (fn == UnaryFn.SIGMOID) return Kind.SIGMOID;
        if (fn == UnaryFn.RELU) return Kind.RELU;
        if (fn == UnaryFn.GELU) return Kind.GELU;
        if (fn == UnaryFn.GELU_TANH) return Kind.GELU_TANH;
        if (fn == UnaryFn.SQRT) return Kind.SQRT;
        if (fn == UnaryFn.ABS) return Kind.ABS;
        return Kind.NONE;
    }

    /** True when {@code t} is a contiguous CPU tensor (any offset) of F32 or F64. */
    private static boolean flat(Tensor t) {
        return t.isContiguous() && t.storage() instanceof CpuStorage;
    }

    /** y = f(x) through a tight loop, or null when there is none for this function / layout. */
    static Tensor forward(UnaryFn fn, Tensor x) {
        Kind k = kind(fn);
        if (k == Kind.NONE || !flat(x)) return null;
        Tensor y = Raw.empty(x.dtype(), x.shape());
        CpuStorage xs = (CpuStorage) x.storage(), ys = (CpuStorage) y.storage();
        int n = x.numel(), xo = x.offset();
        double slope = fn.slope(), c = k == Kind.SHIFT ? fn.f().applyAsDouble(0) : 0;
        CpuContext.current().parallelFor(n, 8, (a, b) -> {
            if (xs.f32() != null) f32(k, slope, c, xs.f32(), xo + a, ys.f32(), a, b - a);
            else f64(k, slope, c, xs.f64(), xo + a, ys.f64(), a, b - a);
        });
        return y;
    }

    /** dx = g * f'(x, y) in one pass, or null when there is no fused loop for this function / layout. */
    static Tensor backward(UnaryFn fn, Tensor x, Tensor y, Tensor g) {
        Kind k = kind(fn);
        if (k == Kind.NONE || k == Kind.SCALE || k == Kind.SHIFT || !flat(x) || !flat(y) || !flat(g) || g.dtype() != x.dtype()
                || !java.util.Arrays.equals(g.shape(), x.shape())) return null;
        Tensor dx = Raw.empty(x.dtype(), x.shape());
        CpuStorage xs = (CpuStorage) x.storage(), ys = (CpuStorage) y.storage(), gs = (CpuStorage) g.storage();
        CpuStorage ds = (CpuStorage) dx.storage();
        int n = x.numel(), xo = x.offset(), yo = y.offset(), go = g.offset();
        CpuContext.current().parallelFor(n, 8, (a, b) -> {
            if (xs.f32() != null) grad32(k, xs.f32(), xo + a, ys.f32(), yo + a, gs.f32(), go + a, ds.f32(), a, b - a);
            else grad64(k, xs.f64(), xo + a, ys.f64(), yo + a, gs.f64(), go + a, ds.f64(), a, b - a);
        });
        return dx;
    }

    private static void f32(Kind k, double slope, double c, float[] x, int xo, float[] y, int yo, int n) {
        switch (k) {
            case SCALE -> { for (int i = 0; i < n; i++) y[yo + i] = (float) (x[xo + i] * slope); }
            case SHIFT -> { for (int i = 0; i < n; i++) y[yo + i] = (float) (x[xo + i] + c); }
            case EXP -> { for (int i = 0; i < n; i++) y[yo + i] = (float) Math.exp(x[xo + i]); }
            case LOG -> { for (int i = 0; i < n; i++) y[yo + i] = (float) Math.log(x[xo + i]); }
            case TANH -> { for (int i = 0; i < n; i++) y[yo + i] = (float) Math.tanh(x[xo + i]); }
            case SIGMOID -> { for (int i = 0; i < n; i++) y[yo + i] = (float) UnaryFn.sigmoid(x[xo + i]); }
            case RELU -> { for (int i = 0; i < n; i++) { float v = x[xo + i]; y[yo + i] = v > 0 ? v : 0; } }
            case GELU -> { for (int i = 0; i < n; i++) y[yo + i] = (float) UnaryFn.gelu(x[xo + i]); }
            case GELU_TANH -> { for (int i = 0; i < n; i++) y[yo + i] = (float) UnaryFn.geluTanh(x[xo + i]); }
            case SQRT -> { for (int i = 0; i < n; i++) y[yo + i] = (float) Math.sqrt(x[xo + i]); }
            case ABS -> { for (int i = 0; i < n; i++) y[yo + i] = Math.abs(x[xo + i]); }
            default -> throw new IllegalStateException("unary: no loop for " + k);
        }
    }

    private static void f64(Kind k, double slope, double c, double[] x, int xo, double[] y, int yo, int n) {
        switch (k) {
            case SCALE -> { for (int i = 0; i < n; i++) y[yo + i] = x[xo + i] * slope; }
            case SHIFT -> { for (int i = 0; i < n; i++) y[yo + i] = x[xo + i] + c; }
            case EXP -> { for (int i = 0; i < n; i++) y[yo + i] = Math.exp(x[xo + i]); }
            case LOG -> { for (int i = 0; i < n; i++) y[yo + i] = Math.log(x[xo + i]); }
            case TANH -> { for (int i = 0; i < n; i++) y[yo + i] = Math.tanh(x[xo + i]); }
            case SIGMOID -> { for (int i = 0; i < n; i++) y[yo + i] = UnaryFn.sigmoid(x[xo + i]); }
            case RELU -> { for (int i = 0; i < n; i++) { double v = x[xo + i]; y[yo + i] = v > 0 ? v : 0; } }
            case GELU -> { for (int i = 0; i < n; i++) y[yo + i] = UnaryFn.gelu(x[xo + i]); }
            case GELU_TANH -> { for (int i = 0; i < n; i++) y[yo + i] = UnaryFn.geluTanh(x[xo + i]); }
            case SQRT -> { for (int i = 0; i < n; i++) y[yo + i] = Math.sqrt(x[xo + i]); }
            case ABS -> { for (int i = 0; i < n; i++) y[yo + i] = Math.abs(x[xo + i]); }
            default -> throw new IllegalStateException("unary: no loop for " + k);
        }
    }

    // f'(x, y) exactly as in UnaryFn's table (the slow twin uses those operators)
    private static double df(Kind k, double x, double y) {
        return switch (k) {
            case EXP -> y;
            case LOG -> 1 / x;
            case TANH -> 1 - y * y;
            case SIGMOID -> y * (1 - y);
            case RELU -> x > 0 ? 1 : 0;
            case GELU -> UnaryFn.geluGrad(x);
            case GELU_TANH -> UnaryFn.geluTanhGrad(x, y);
            case SQRT -> 0.5 / y;
            case ABS -> Math.signum(x);
            default -> throw new IllegalStateException("unary: no gradient loop for " + k);
        };
    }

    private static void grad32(Kind k, float[] x, int xo, float[] y, int yo, float[] g, int go, float[] d, int dOff, int n) {
        switch (k) {
            case GELU -> { for (int i = 0; i < n; i++) d[dOff + i] = g[go + i] * (float) UnaryFn.geluGrad(x[xo + i]); }
            case TANH -> { for (int i = 0; i < n; i++) { float v = y[yo + i]; d[dOff + i] = g[go + i] * (float) (1 - (double) v * v); } }
            case EXP -> { for (int i = 0; i < n; i++) d[dOff + i] = g[go + i] * y[yo + i]; }
            default -> { for (int i = 0; i < n; i++) d[dOff + i] = g[go + i] * (float) df(k, x[xo + i], y[yo + i]); }
        }
    }

    private static void grad64(Kind k, double[] x, int xo, double[] y, int yo, double[] g, int go, double[] d, int dOff, int n) {
        switch (k) {
            case GELU -> { for (int i = 0; i < n; i++) d[dOff + i] = g[go + i] * UnaryFn.geluGrad(x[xo + i]); }
            default -> { for (int i = 0; i < n; i++) d[dOff + i] = g[go + i] * df(k, x[xo + i], y[yo + i]); }
        }
    }
}
