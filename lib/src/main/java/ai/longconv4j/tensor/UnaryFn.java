// Shape legend: scalar functions, applied elementwise (output shape = input shape).
package ai.longconv4j.tensor;

import ai.longconv4j.backend.UnaryOp;

import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/**
 * The table of elementwise unary functions with their derivatives: {@code f(x)} and
 * {@code df(x, y)} = dy/dx given x and y = f(x). Every form is stable on finite inputs (sigmoid by
 * sign, gelu through erf/erfc without overflow).
 */
record UnaryFn(String name, DoubleUnaryOperator f, DoubleBinaryOperator df, double slope, UnaryOp op, double param) {

    /** A function with a derivative table entry; {@code op, param} name it for device backends. */
    UnaryFn(String name, DoubleUnaryOperator f, DoubleBinaryOperator df, UnaryOp op, double param) {
        this(name, f, df, Double.NaN, op, param);
    }

    /** An affine function x -> slope * x + c: its gradient is g * slope, no derivative pass needed. */
    static UnaryFn affine(String name, DoubleUnaryOperator f, double slope) {
        // device backends compute x * slope ("mul", "neg") or x + c ("add": slope 1, c = f(0))
        boolean shift = name.equals("add");
        return new UnaryFn(name, f, (x, y) -> slope, slope, shift ? UnaryOp.SHIFT : UnaryOp.SCALE,
                shift ? f.applyAsDouble(0) : slope);
    }

    boolean isAffine() { return !Double.isNaN(slope); }

    static final double SQRT_2 = Math.sqrt(2.0);
    static final double INV_SQRT_2PI = 1.0 / Math.sqrt(2.0 * Math.PI);
    static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);
    static final double GELU_TANH_C = 0.044715;

    static final UnaryFn NEG = affine("neg", x -> -x, -1);
    static final UnaryFn EXP = new UnaryFn("exp", Math::exp, (x, y) -> y, UnaryOp.EXP, 0);
    static final UnaryFn LOG = new UnaryFn("log", Math::log, (x, y) -> 1 / x, UnaryOp.LOG, 0);
    static final UnaryFn TANH = new UnaryFn("tanh", Math::tanh, (x, y) -> 1 - y * y, UnaryOp.TANH, 0);
    static final UnaryFn SIGMOID = new UnaryFn("sigmoid", UnaryFn::sigmoid, (x, y) -> y * (1 - y), UnaryOp.SIGMOID, 0);
    static final UnaryFn RELU = new UnaryFn("relu", x -> x > 0 ? x : 0, (x, y) -> x > 0 ? 1 : 0, UnaryOp.RELU, 0);
    static final UnaryFn GELU = new UnaryFn("gelu", UnaryFn::gelu, (x, y) -> geluGrad(x), UnaryOp.GELU, 0);
    static final UnaryFn GELU_TANH = new UnaryFn("geluTanh", UnaryFn::geluTanh, UnaryFn::geluTanhGrad, UnaryOp.GELU_TANH, 0);
    static final UnaryFn SQRT = new UnaryFn("sqrt", Math::sqrt, (x, y) -> 0.5 / y, UnaryOp.SQRT, 0);
    static final UnaryFn ABS = new UnaryFn("abs", Math::abs, (x, y) -> Math.signum(x), UnaryOp.ABS, 0);
    static final UnaryFn SIGN = new UnaryFn("sign", Math::signum, (x, y) -> 0, UnaryOp.SIGN, 0);

    static UnaryFn pow(double p) {
        return new UnaryFn("pow", x -> Math.pow(x, p), (x, y) -> p == 0 ? 0 : p * Math.pow(x, p - 1), UnaryOp.POW, p);
    }

    /** max(x, c); the gradient flows where x > c (0 at a tie). */
    static UnaryFn maximum(double c) {
        return new UnaryFn("maximum", x -> x > c ? x : c, (x, y) -> x > c ? 1 : 0, UnaryOp.MAXIMUM, c);
    }

    static double sigmoid(double x) {
        if (x >= 0) return 1 / (1 + Math.exp(-x));
        double e = Math.exp(x);
        return e / (1 + e);
    }

    /** Standard normal CDF Phi(x) = erfc(-x / sqrt 2) / 2, accurate in both tails. */
    static double phiCdf(double x) {
        return 0.5 * erfc(-x / SQRT_2);
    }

    static double gelu(double x) { return x * phiCdf(x); }

    /** d gelu / dx = Phi(x) + x phi(x). */
    static double geluGrad(double x) { return phiCdf(x) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x); }

    static double geluTanh(double x) {
        double t = Math.tanh(SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x));
        return 0.5 * x * (1 + t);
    }

    static double geluTanhGrad(double x, double y) {
        double t = Math.tanh(SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x));
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_C * x * x);
    }

    /** erf(x): a table + Taylor step for |x| < 3, otherwise 1 - erfc. Error ~1e-16 absolute. */
    static double erf(double x) {
        double ax = Math.abs(x);
        if (ax >= 3) return Math.signum(x) * (1 - erfcLarge(ax));
        return erfTable(x);
    }

    /** erfc(x) = 1 - erf(x), without cancellation for large positive x. */
    static double erfc(double x) {
        if (x >= 3) return erfcLarge(x);
        if (x <= -3) return 2 - erfcLarge(-x);
        return 1 - erfTable(x);
    }

    // erf on a grid x0 = i / 64 over [0, 3] (computed once by the series), and e^(-x0^2)
    private static final int GRID = 64, GRID_N = 3 * GRID + 1;
    private static final double[] ERF_GRID = new double[GRID_N], GAUSS_GRID = new double[GRID_N];
    private static final double TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

    /**
     * The fast path for |x| < 3: with x = x0 + d, |d| <= 1/128,
     * erf(x) = erf(x0) + 2/sqrt(pi) e^(-x0^2) sum_n (-1)^n H_n(x0) d^(n+1) / (n+1)!
     * (H_n the Hermite polynomials); 8 terms leave an error < 1e-19. The 8 coefficients of each grid
     * point are tabulated once, so this is one Horner polynomial in d (no divisions, no recurrence).
     * {@link #erfHermite} (the same series with the recurrence per call) and {@link #erfSeries} are its
     * slow twins.
     */
    static double erfTable(double x) {
        double ax = Math.abs(x);
        int i = (int) (ax * GRID + 0.5);
        double d = ax - (double) i / GRID;
        int c = i * TERMS;
        double p = COEF[c + 7];
        for (int n = 6; n >= 0; n--) p = Math.fma(p, d, COEF[c + n]);
        double r = ERF_GRID[i] + p * d;
        return x < 0 ? -r : r;
    }

    /** The series of {@link #erfTable} with the Hermite recurrence evaluated per call (its slow twin). */
    static double erfHermite(double x) {
        double ax = Math.abs(x);
        int i = (int) (ax * GRID + 0.5);
        double x0 = (double) i / GRID, d = ax - x0;
        double hPrev = 1, h = 2 * x0;              // H_0, H_1
        double pow = d, sum = d;                   // n = 0 term: H_0 d / 1!
        double sign = -1;
        for (int n = 1; n < TERMS; n++) {
            pow *= d / (n + 1);                    // d^(n+1) / (n+1)!
            sum += sign * h * pow;
            double next = 2 * x0 * h - 2 * n * hPrev;
            hPrev = h;
            h = next;
            sign = -sign;
        }
        double r = ERF_GRID[i] + TWO_OVER_SQRT_PI * GAUSS_GRID[i] * sum;
        return x < 0 ? -r : r;
    }

    private static final int TERMS = 8;
    /** COEF[i * TERMS + n] = 2/sqrt(pi) e^(-x0^2) (-1)^n H_n(x0) / (n+1)!, x0 = i / GRID. */
    private static final double[] COEF = new double[GRID_N * TERMS];

    private static final double[] TWO_OVER_ODD = new double[200];   // 2 / (2n + 1): multiply, not divide
    static {
        for (int n = 0; n < TWO_OVER_ODD.length; n++) TWO_OVER_ODD[n] = 2.0 / (2 * n + 1);
        for (int i = 0; i < GRID_N; i++) {
            double x0 = (double) i / GRID;
            ERF_GRID[i] = erfSeries(x0);
            GAUSS_GRID[i] = Math.exp(-x0 * x0);
            double hPrev = 0, h = 1, fact = 1, scale = TWO_OVER_SQRT_PI * GAUSS_GRID[i];
            for (int n = 0; n < TERMS; n++) {
                fact *= n + 1;                     // (n+1)!
                COEF[i * TERMS + n] = scale * ((n & 1) == 0 ? 1 : -1) * h / fact;
                double next = 2 * x0 * h - 2 * n * hPrev;   // H_(n+1)
                hPrev = h;
                h = next;
            }
        }
    }

    /** The slow twin: a power series with positive terms, accurate to ~1e-16 for |x| < 3. */
    static double erfSeries(double x) {
        double x2 = x * x, term = x, sum = x;
        for (int n = 1; n < 200; n++) {
            term *= x2 * TWO_OVER_ODD[n];
            sum += term;
            if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
        }
        return 2 / Math.sqrt(Math.PI) * Math.exp(-x2) * sum;
    }

    // erfc(x) for x >= 3 by the continued fraction exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
    private static double erfcLarge(double x) {
        double f = x;
        for (int n = 60; n >= 1; n--) f = x + (n / 2.0) / f;
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
    }
}
