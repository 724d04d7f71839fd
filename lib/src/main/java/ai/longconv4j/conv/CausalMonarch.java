// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps, Lp = L1*L2 the factored length.
package ai.longconv4j.conv;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Tensor;

import java.util.Arrays;
import java.util.function.UnaryOperator;

/**
 * The causal learned-Monarch convolution ({@link ConvEngine#LEARNED_CAUSAL}):
 * <pre>
 *   y = M_out( conv_k( M_in(u) ) ) + D * u        u (B, H, L), L &lt;= Lp
 *   M = A (x) W  on time t = t1*L2 + t2:  (M x)[t1, t2] = sum_{s1 &lt;= t1, s2 &lt;= t2} A[t1, s1] W[t2, s2] x[s1, s2]
 * </pre>
 * where {@code conv_k} is the layer's ordinary long convolution (any engine: FFT / Monarch on the CPU, cuFFT /
 * FlashButterfly on a GPU), W (L2, L2) mixes the L2 steps inside each chunk, A (L1, L1) mixes the L1 chunks at the
 * same in-chunk position, and both are used through a constant lower-triangular mask ({@code A * tril}, {@code W * tril}),
 * so the upper triangle of a raw block never reaches the output and gets gradient exactly 0. Blocks are real, shared by
 * the H channels of a convolution, and start at the identity, so at init the layer is the plain long convolution.
 *
 * <p><b>Why this and not learned DFT blocks.</b> The FFT convolution {@code crop(G(F k * F pad(u)))} evaluates the
 * polynomial {@code p_u(z) = sum_j u_j z^j} at N &gt;= 2L nodes, multiplies, and interpolates. A polynomial product does
 * not depend on the nodes, so learning nodes or twiddles changes nothing; learning the blocks freely ({@link
 * LearnedButterfly}) leaves the polynomial picture and output i then depends on inputs j &gt; i (measured: causality probe
 * ratio 0.06 after training). What can be learned without losing causality is a causal map composed with the
 * convolution. Output (t1, t2) of M reads only inputs (s1, s2) with s1 &lt;= t1 and s2 &lt;= t2, hence
 * {@code s = s1*L2 + s2 <= t}: M is lower triangular (a Kronecker product of two lower-triangular matrices) for
 * <em>any</em> parameter values, and a composition of causal maps is causal. This is the Monarch form (block diagonal,
 * permutation, block diagonal) restricted to its causal subfamily, with one block per factor like the FFT's; in FFT
 * terms the first block becomes {@code F_N1 * (lower triangular)} and the last becomes {@code (lower triangular) *
 * F_N1^-1} on the data rows.
 *
 * <p><b>Lengths.</b> {@link #factor} picks a balanced {@code Lp = L1 * L2 >= L} (exact when L has a divisor pair with
 * {@code L2 <= 4 L1}, else the smallest {@code L1 <= L2 = ceil(sqrt L)} covering L). Inputs shorter than Lp are
 * zero-padded at the end and the output is cropped: a causal map's first L outputs never read the padded tail, so this
 * is exact. Everything is composed of differentiable tensor ops (pad, reshape, matmul, mul, transpose, slice) around
 * {@link ConvOps#conv}, so it runs on any device and autograd gives the backward.
 * <pre>{@code
 * jshell> CausalMonarch.factor(1024)
 * $1 ==> Factors[length=1024, l1=32, l2=32]
 * jshell> CausalMonarch.factor(37)
 * $2 ==> Factors[length=37, l1=6, l2=7]       // padded to 42, cropped back to 37
 * }</pre>
 */
public final class CausalMonarch {
    /** Block order in {@link ConvOps#learnedCausalConv}'s {@code blocks}: input map (A, W), output map (A, W). */
    public static final int IN_A = 0, IN_W = 1, OUT_A = 2, OUT_W = 3;

    private CausalMonarch() {}

    /** A factored length {@code Lp = l1 * l2 >= length}; A is (l1, l1), W is (l2, l2). */
    public record Factors(int length, int l1, int l2) {
        public Factors {
            if (length < 1 || l1 < 1 || l2 < 1 || (long) l1 * l2 < length) {
                throw new IllegalArgumentException("CausalMonarch: need l1 * l2 >= length >= 1, got length=" + length + " l1=" + l1 + " l2=" + l2);
            }
        }

        /** Lp = l1 * l2. */
        public int padded() { return l1 * l2; }
    }

    /** The balanced factorization of L (see the class comment); L &gt;= 1. */
    public static Factors factor(int length) {
        if (length < 1) throw new IllegalArgumentException("CausalMonarch.factor: L must be >= 1, got " + length);
        int l1 = (int) Math.sqrt(length);
        while ((long) (l1 + 1) * (l1 + 1) <= length) l1++;
        while ((long) l1 * l1 > length) l1--;
        for (int a = l1; a >= 1; a--) {
            if (length % a == 0) {
                if ((long) 4 * a * a >= length) return new Factors(length, a, length / a);
                break;
            }
        }
        int l2 = (int) Math.ceil(Math.sqrt(length));
        while ((long) (l2 - 1) * (l2 - 1) >= length) l2--;
        return new Factors(length, (length + l2 - 1) / l2, l2);
    }

    /** The identity block (n, n) in dtype: the init of every block. */
    public static Tensor identity(int n, DType dtype) {
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) a[i * n + i] = 1;
        return Tensor.of(a, n, n).to(dtype);
    }

    /** The constant lower-triangular mask (n, n) of ones on and below the diagonal, in b's dtype and on b's device. */
    static Tensor trilLike(Tensor b) {
        int n = b.size(0);
        double[] m = new double[n * n];
        for (int r = 0; r < n; r++) for (int c = 0; c <= r; c++) m[r * n + c] = 1;
        Tensor t = Tensor.of(m, n, n).to(b.dtype());
        return b.device().isCpu() ? t : t.to(b.device());
    }

    /**
     * The causal map {@code M = tril(A) (x) tril(W)} on the last axis: x (..., Lp) with Lp = L1 * L2, A (L1, L1),
     * W (L2, L2) -> (..., Lp). Differentiable in x, A and W (the masked upper triangles get gradient 0).
     */
    public static Tensor apply(Tensor x, Tensor a, Tensor w) {
        checkBlock("CausalMonarch.apply", "A", a);
        checkBlock("CausalMonarch.apply", "W", w);
        int l1 = a.size(0), l2 = w.size(0), lp = l1 * l2;
        if (x == null || x.dim() < 1 || x.size(-1) != lp) {
            throw new IllegalArgumentException("CausalMonarch.apply: x must be (..., Lp = L1*L2 = " + l1 + "*" + l2 + " = " + lp + "), got "
                    + (x == null ? "null" : Arrays.toString(x.shape())));
        }
        if (!a.device().equals(x.device()) || !w.device().equals(x.device())) {
            throw new IllegalArgumentException("CausalMonarch.apply: operands on different devices: x on " + x.device() + ", A on "
                    + a.device() + ", W on " + w.device() + "; move them with to(Device)");
        }
        int[] shape = x.shape();
        int rows = x.numel() / lp;
        Tensor wt = w.mul(trilLike(w)).transpose(0, 1), at = a.mul(trilLike(a)).transpose(0, 1);
        // within chunks: z[r, t1, t2] = sum_{s2 <= t2} W[t2, s2] x[r, t1, s2]   (one GEMM of (R*L1, L2) x (L2, L2))
        Tensor z = x.reshape(rows * l1, l2).matmul(wt).reshape(rows, l1, l2);
        // across chunks: y[r, t1, t2] = sum_{s1 <= t1} A[t1, s1] z[r, s1, t2]  (one GEMM of (R*L2, L1) x (L1, L1))
        Tensor y = z.transpose(1, 2).reshape(rows * l2, l1).matmul(at).reshape(rows, l2, l1).transpose(1, 2);
        return y.reshape(shape);
    }

    /**
     * Slow twin: the dense (Lp, Lp) row-major matrix of the map, {@code M[t][s] = A[t1][s1] W[t2][s2]} for
     * {@code s1 <= t1, s2 <= t2} and 0 otherwise (A (L1, L1), W (L2, L2) row-major, unmasked values allowed).
     */
    public static double[] dense(double[] a, int l1, double[] w, int l2) {
        if (a.length != l1 * l1 || w.length != l2 * l2) {
            throw new IllegalArgumentException("CausalMonarch.dense: A must be (" + l1 + ", " + l1 + ") and W (" + l2 + ", " + l2
                    + "), got " + a.length + " and " + w.length + " values");
        }
        int lp = l1 * l2;
        double[] m = new double[lp * lp];
        for (int t = 0; t < lp; t++) {
            int t1 = t / l2, t2 = t % l2;
            for (int s = 0; s < lp; s++) {
                int s1 = s / l2, s2 = s % l2;
                if (s1 <= t1 && s2 <= t2) m[t * lp + s] = a[t1 * l1 + s1] * w[t2 * l2 + s2];
            }
        }
        return m;
    }

    /**
     * {@code y = M_out(conv(M_in(u))) + D * u}, u (B, H, L) with L &lt;= Lp; k (H, Lk) or (C, H, Lk); D (C, H) or null;
     * blocks {A_in, W_in, A_out, W_out}; {@code conv} maps x (B, H, Lp) to conv(x, k) without skip: (B, H, Lp) or
     * (B, C, H, Lp). Returns (B, H, L) or (B, C, H, L).
     */
    static Tensor convolve(String op, Tensor u, Tensor k, Tensor d, ConvMode mode, Tensor[] blocks, UnaryOperator<Tensor> conv) {
        if (mode != ConvMode.CAUSAL) {
            throw new IllegalArgumentException(op + ": the causal learned-Monarch convolution is CAUSAL only, got " + mode
                    + " (for bidirectional or circular use the LEARNED engine)");
        }
        if (blocks == null || blocks.length != 4) {
            throw new IllegalArgumentException(op + ": needs 4 blocks {A_in, W_in, A_out, W_out}, got "
                    + (blocks == null ? "null" : blocks.length));
        }
        for (int i = 0; i < 4; i++) checkBlock(op, "block " + i, blocks[i]);
        if (blocks[IN_A].size(0) != blocks[OUT_A].size(0) || blocks[IN_W].size(0) != blocks[OUT_W].size(0)) {
            throw new IllegalArgumentException(op + ": input and output maps must have the same factors, got A_in "
                    + Arrays.toString(blocks[IN_A].shape()) + ", W_in " + Arrays.toString(blocks[IN_W].shape()) + ", A_out "
                    + Arrays.toString(blocks[OUT_A].shape()) + ", W_out " + Arrays.toString(blocks[OUT_W].shape()));
        }
        ConvShape s = ConvOps.shapeOf(op, u, k, d, mode);
        int l = s.length(), lp = blocks[IN_A].size(0) * blocks[IN_W].size(0);
        if (l > lp) {
            throw new IllegalArgumentException(op + ": the blocks are built for L <= Lp = " + blocks[IN_A].size(0) + "*" + blocks[IN_W].size(0)
                    + " = " + lp + ", got u " + Arrays.toString(u.shape()));
        }
        // a causal map's first L outputs never read the zero tail, so pad to Lp and crop back (exact)
        Tensor x = l < lp ? u.pad(2, 0, lp - l) : u;
        Tensor y = apply(conv.apply(apply(x, blocks[IN_A], blocks[IN_W])), blocks[OUT_A], blocks[OUT_W]);
        if (l < lp) y = y.slice(y.dim() - 1, 0, l);
        if (d == null) return y;
        boolean noChannel = y.dim() == 3;
        Tensor skip = noChannel ? d.reshape(1, s.features(), 1).mul(u)
                : d.reshape(1, s.channels(), s.features(), 1).mul(u.unsqueeze(1));
        return y.add(skip);
    }

    private static void checkBlock(String op, String name, Tensor b) {
        if (b == null || b.dim() != 2 || b.size(0) != b.size(1) || b.size(0) < 1) {
            throw new IllegalArgumentException(op + ": " + name + " must be a square (n, n) block, got "
                    + (b == null ? "null" : Arrays.toString(b.shape())));
        }
    }
}
