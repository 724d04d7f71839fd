// Shape legend: as Backend: elementwise kernels over an output shape; reductions (O, R, I); matmul (batch, M, K) x
// (batch, K, N); embedding (V, D); spectral conv u (B, H, L), kN (C, H, N).
package ai.longconv4j.backend;

import ai.longconv4j.backend.cpu.CpuContext;
import ai.longconv4j.backend.cpu.CpuStorage;
import ai.longconv4j.backend.cpu.ElementwiseKernels;
import ai.longconv4j.backend.cpu.ElementwiseKernels.Arith;
import ai.longconv4j.backend.cpu.ReduceKernels;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Storage;
import ai.longconv4j.tensor.Tensor;

/**
 * A test-only device backend (registered for the lib tests through META-INF/services): "cuda:7" whose storages are
 * CPU arrays behind a non-CPU device tag. It lets the CI (no GPU) run everything the tensor library does on a
 * non-CPU device through the {@link Backend} SPI — dispatch, device placement of every intermediate, gradients,
 * Module.to, optimizers — and compare with the CPU path. Its unary table is written from {@link UnaryOp}'s
 * documentation, independently of ai.longconv4j.tensor.UnaryFn. Only cuda:7 exists.
 */
public final class SimulatedDeviceBackend implements Backend, SpectralConvBackend, DropoutMaskBackend, FusedLinearBackend {
    public static final Device DEVICE = new Device(Device.Kind.CUDA, 7);

    /**
     * The storage: a CPU buffer tagged with {@link #DEVICE}. {@link #release()} poisons it with NaN and any later use
     * throws, so a storage given back while still in use (e.g. by autograd's scope) fails the tests loudly.
     */
    static final class Sim implements Storage {
        private final CpuStorage data;
        private volatile boolean released;

        Sim(CpuStorage data) {
            this.data = data;
            StorageScope.created(this);
        }

        CpuStorage data() {
            if (released) throw new IllegalStateException("simulated storage of " + data.length() + " used after release");
            return data;
        }

        @Override public DType dtype() { return data.dtype(); }
        @Override public Device device() { return DEVICE; }
        @Override public int length() { return data.length(); }
        @Override public CpuStorage toCpu() {
            CpuStorage d = data();
            return d.f64() != null ? CpuStorage.of(d.f64().clone()) : CpuStorage.of(d.f32().clone());
        }
        @Override public void release() {
            for (int i = 0; i < data.length(); i++) data.set(i, Double.NaN);
            released = true;
        }
    }

    static CpuStorage in(Storage s) {
        if (s instanceof Sim sim) return sim.data();
        throw new IllegalArgumentException("simulated backend got a storage on " + s.device());
    }

    @Override public Device.Kind kind() { return Device.Kind.CUDA; }

    @Override public String unavailableReason(Device device) {
        return device.equals(DEVICE) ? null : "the simulated test backend serves only " + DEVICE;
    }

    @Override public Storage allocate(Device device, DType dtype, int length) { return new Sim(CpuStorage.allocate(dtype, length)); }

    @Override public Storage upload(Device device, CpuStorage src, DType dtype) {
        CpuStorage out = CpuStorage.allocate(dtype, src.length());
        for (int i = 0; i < src.length(); i++) out.set(i, src.get(i));
        return new Sim(out);
    }

    @Override public double read(Storage s, int index) { return in(s).get(index); }

    /** The device mask through the Java twin ({@link DropoutMasks#value}), as the CUDA kernel computes it. */
    @Override public void dropoutMask(Storage out, int n, long seed, double p, double scale) {
        CpuStorage o = in(out);
        for (int i = 0; i < n; i++) o.set(i, DropoutMasks.value(seed, i, p, scale));
    }

    /** The fused linear op through its Java twin ({@code FusedLinear.reference}); counts its calls ({@link #FUSED_LINEARS}). */
    @Override public Tensor linear(Tensor x, Tensor w, Tensor b, Activation act) {
        FUSED_LINEARS.incrementAndGet();
        return ai.longconv4j.nn.FusedLinear.reference(x, w, b, act);
    }

    /** How often {@link #linear} ran. */
    public static final java.util.concurrent.atomic.AtomicLong FUSED_LINEARS = new java.util.concurrent.atomic.AtomicLong();

    /** How often {@link #synchronize} ran (the profiler's device clock waits through it). */
    static final java.util.concurrent.atomic.AtomicLong SYNCS = new java.util.concurrent.atomic.AtomicLong();

    @Override public void synchronize(Device device) { SYNCS.incrementAndGet(); }

    private static CpuContext ctx() { return CpuContext.current(); }

    @Override public void copy(int[] shape, View src, View dst) {
        ElementwiseKernels.copy(ctx(), shape, in(src.storage()), src.strides(), src.offset(), in(dst.storage()), dst.strides(), dst.offset());
    }

    @Override public void fill(int[] shape, View dst, double value) {
        forEach(shape, (i, idx) -> in(dst.storage()).set(at(dst, idx), value));
    }

    static double f(UnaryOp op, double p, double x) {
        return switch (op) {
            case SCALE -> x * p;
            case SHIFT -> x + p;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case RELU -> x > 0 ? x : 0;
            case GELU -> x * 0.5 * (1 + erf(x / Math.sqrt(2)));
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            case SQRT -> Math.sqrt(x);
            case ABS -> Math.abs(x);
            case SIGN -> Math.signum(x);
            case POW -> Math.pow(x, p);
            case MAXIMUM -> Math.max(x, p);
        };
    }

    static double df(UnaryOp op, double p, double x, double y) {
        return switch (op) {
            case SCALE -> p;
            case SHIFT -> 1;
            case EXP -> y;
            case LOG -> 1 / x;
            case TANH -> 1 - y * y;
            case SIGMOID -> y * (1 - y);
            case RELU -> x > 0 ? 1 : 0;
            case GELU -> 0.5 * (1 + erf(x / Math.sqrt(2))) + x * Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
            case GELU_TANH -> {
                double c = Math.sqrt(2 / Math.PI), t = Math.tanh(c * (x + 0.044715 * x * x * x));
                yield 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x);
            }
            case SQRT -> 0.5 / y;
            case ABS -> Math.signum(x);
            case SIGN -> 0;
            case POW -> p == 0 ? 0 : p * Math.pow(x, p - 1);
            case MAXIMUM -> x > p ? 1 : 0;
        };
    }

    /** erf by its Taylor series (|x| < 3) or the asymptotic complement; ~1e-13, enough for a 1e-9 comparison. */
    static double erf(double x) {
        double ax = Math.abs(x);
        if (ax > 5) return Math.signum(x);
        double sum = 0, term = ax;
        for (int n = 0; n < 200; n++) {
            sum += term / (2 * n + 1);
            term *= -ax * ax / (n + 1);
            if (Math.abs(term) < 1e-17) break;
        }
        return Math.signum(x) * 2 / Math.sqrt(Math.PI) * sum;
    }

    @Override public void unary(UnaryOp op, double p, int[] shape, View x, View y) {
        forEach(shape, (i, idx) -> in(y.storage()).set(at(y, idx), f(op, p, in(x.storage()).get(at(x, idx)))));
    }

    @Override public void unaryGrad(UnaryOp op, double p, int[] shape, View x, View y, View g, View dx) {
        forEach(shape, (i, idx) -> in(dx.storage()).set(at(dx, idx), in(g.storage()).get(at(g, idx))
                * df(op, p, in(x.storage()).get(at(x, idx)), in(y.storage()).get(at(y, idx)))));
    }

    @Override public void binary(Arith op, int[] shape, View a, View b, View out) {
        forEach(shape, (i, idx) -> in(out.storage()).set(at(out, idx),
                op.fn.applyAsDouble(in(a.storage()).get(at(a, idx)), in(b.storage()).get(at(b, idx)))));
    }

    @Override public void select(int[] shape, View cond, View a, View b, View out) {
        forEach(shape, (i, idx) -> in(out.storage()).set(at(out, idx), in(cond.storage()).get(at(cond, idx)) != 0
                ? in(a.storage()).get(at(a, idx)) : in(b.storage()).get(at(b, idx))));
    }

    @Override public void sum(Storage x, int off, int outer, int red, int inner, Storage out) {
        ReduceKernels.sum(ctx(), in(x), off, outer, red, inner, in(out));
    }

    /**
     * The fused LayerNorm as norm.cu computes it (per row: mean, then the biased variance around it, in double), written
     * from the Backend contract: the CI's twin of the CUDA kernel, compared with the composed LayerNorm.
     */
    @Override public boolean layerNorm(int rows, int d, Storage x, int xOff, Storage w, int wOff, Storage b, int bOff, double eps,
                                       Storage y, Storage mean, Storage rstd) {
        CpuStorage xs = in(x), ys = in(y);
        for (int r = 0; r < rows; r++) {
            double s = 0, v = 0;
            for (int j = 0; j < d; j++) s += xs.get(xOff + r * d + j);
            double mu = s / d;
            for (int j = 0; j < d; j++) {
                double c = xs.get(xOff + r * d + j) - mu;
                v += c * c;
            }
            double rs = 1 / Math.sqrt(v / d + eps);
            for (int j = 0; j < d; j++) {
                double h = (xs.get(xOff + r * d + j) - mu) * rs;
                if (w != null) h *= in(w).get(wOff + j);
                if (b != null) h += in(b).get(bOff + j);
                ys.set(r * d + j, h);
            }
            in(mean).set(r, mu);
            in(rstd).set(r, rs);
        }
        return true;
    }

    @Override public boolean layerNormBackward(int rows, int d, Storage x, int xOff, Storage w, int wOff, Storage mean,
                                               Storage rstd, Storage g, int gOff, Storage dx, Storage dw, Storage db) {
        CpuStorage xs = in(x), gs = in(g);
        double[] sw = new double[d], sb = new double[d];
        for (int r = 0; r < rows; r++) {
            double mu = in(mean).get(r), rs = in(rstd).get(r), a = 0, c = 0;
            for (int j = 0; j < d; j++) {
                double gv = gs.get(gOff + r * d + j), xh = (xs.get(xOff + r * d + j) - mu) * rs;
                double gw = gv * (w == null ? 1 : in(w).get(wOff + j));
                a += gw;
                c += gw * xh;
                sw[j] += gv * xh;
                sb[j] += gv;
            }
            a /= d;
            c /= d;
            for (int j = 0; j < d; j++) {
                double gv = gs.get(gOff + r * d + j), xh = (xs.get(xOff + r * d + j) - mu) * rs;
                double gw = gv * (w == null ? 1 : in(w).get(wOff + j));
                in(dx).set(r * d + j, rs * (gw - a - xh * c));
            }
        }
        for (int j = 0; j < d; j++) {
            if (dw != null) in(dw).set(j, sw[j]);
            if (db != null) in(db).set(j, sb[j]);
        }
        return true;
    }

    /** The fused cross-entropy as xent.cu computes it (row max, log-sum-exp in double, mean of the kept rows). */
    record Xent(Storage logits, int off, int[] targets, double[] lse, int rows, int v, int ignore, double scale) {}

    @Override public Object crossEntropy(int rows, int v, Storage logits, int off, int[] targets, int ignoreIndex, int count,
                                         Storage loss) {
        CpuStorage x = in(logits);
        double scale = 1.0 / Math.max(1, count), sum = 0;
        double[] lse = new double[rows];
        for (int r = 0; r < rows; r++) {
            double m = Double.NEGATIVE_INFINITY, s = 0;
            for (int j = 0; j < v; j++) m = Math.max(m, x.get(off + r * v + j));
            for (int j = 0; j < v; j++) s += Math.exp(x.get(off + r * v + j) - m);
            lse[r] = m + Math.log(s);
            if (targets[r] != ignoreIndex) sum += (lse[r] - x.get(off + r * v + targets[r])) * scale;
        }
        in(loss).set(0, sum);
        return new Xent(logits, off, targets.clone(), lse, rows, v, ignoreIndex, scale);
    }

    @Override public void crossEntropyBackward(Object handle, Storage g, int gOff, Storage dx) {
        Xent h = (Xent) handle;
        CpuStorage x = in(h.logits()), d = in(dx);
        double gs = in(g).get(gOff) * h.scale();
        for (int r = 0; r < h.rows(); r++)
            for (int j = 0; j < h.v(); j++) {
                int i = r * h.v() + j, t = h.targets()[r];
                d.set(i, t == h.ignore() ? 0 : gs * (Math.exp(x.get(h.off() + i) - h.lse()[r]) - (j == t ? 1 : 0)));
            }
    }

    @Override public Object max(Storage x, int off, int outer, int red, int inner, Storage out) {
        int[] arg = new int[outer * inner];
        ReduceKernels.max(ctx(), in(x), off, outer, red, inner, in(out), arg);
        return arg;
    }

    @Override public void maxGrad(Object arg, Storage g, int gOff, int outer, int red, int inner, Storage dx) {
        int[] a = (int[]) arg;
        for (int j = 0; j < a.length; j++) in(dx).set(((j / inner) * red + a[j]) * inner + j % inner, in(g).get(gOff + j));
    }

    @Override public void argmaxValues(Object arg, Storage out) {
        int[] a = (int[]) arg;
        for (int j = 0; j < a.length; j++) in(out).set(j, a[j]);
    }

    @Override public void matmul(int batch, int m, int n, int k, Storage a, int[] aOff, int lda, boolean transA,
                                 Storage b, int[] bOff, int ldb, boolean transB, Storage c) {
        for (int bi = 0; bi < batch; bi++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++)
                        s += in(a).get(aOff[bi] + (transA ? p * lda + i : i * lda + p)) * in(b).get(bOff[bi] + (transB ? j * ldb + p : p * ldb + j));
                    in(c).set((bi * m + i) * n + j, s);
                }
    }

    @Override public void gather(Storage w, int wOff, int dm, int[] ids, Storage out) {
        for (int r = 0; r < ids.length; r++) for (int j = 0; j < dm; j++) in(out).set(r * dm + j, in(w).get(wOff + ids[r] * dm + j));
    }

    @Override public void scatterAdd(Storage g, int gOff, int dm, int[] ids, Storage dw) {
        for (int r = 0; r < ids.length; r++)
            for (int j = 0; j < dm; j++) in(dw).set(ids[r] * dm + j, in(dw).get(ids[r] * dm + j) + in(g).get(gOff + r * dm + j));
    }

    /** Direct circular convolution of length N, cropped to L; backward = the two correlations. */
    @Override public Tensor spectralConv(Tensor u, Tensor kN, ai.longconv4j.conv.ConvMode mode, int taps) {
        int b = u.size(0), h = u.size(1), l = u.size(2), c = kN.size(0), n = kN.size(2);
        double[] ua = u.toDoubleArray(), ka = kN.toDoubleArray(), y = new double[b * c * h * l];
        for (int bi = 0; bi < b; bi++) for (int ci = 0; ci < c; ci++) for (int hi = 0; hi < h; hi++) for (int i = 0; i < l; i++) {
            double s = 0;
            for (int m = 0; m < l; m++) s += ua[(bi * h + hi) * l + m] * ka[(ci * h + hi) * n + Math.floorMod(i - m, n)];
            y[((bi * c + ci) * h + hi) * l + i] = s;
        }
        Tensor out = Tensor.of(y, b, c, h, l).to(u.dtype()).to(DEVICE);
        return Tensor.op("longconv[simulated]", out.detach(), new Tensor[] {u, kN}, g -> {
            double[] ga = g.toDoubleArray(), du = new double[ua.length], dk = new double[ka.length];
            for (int bi = 0; bi < b; bi++) for (int ci = 0; ci < c; ci++) for (int hi = 0; hi < h; hi++) for (int i = 0; i < l; i++) {
                double gv = ga[((bi * c + ci) * h + hi) * l + i];
                for (int m = 0; m < l; m++) {
                    int kj = (ci * h + hi) * n + Math.floorMod(i - m, n);
                    du[(bi * h + hi) * l + m] += gv * ka[kj];
                    dk[kj] += gv * ua[(bi * h + hi) * l + m];
                }
            }
            return new Tensor[] {Tensor.of(du, u.shape()).to(u.dtype()).to(DEVICE).detach(),
                    Tensor.of(dk, kN.shape()).to(kN.dtype()).to(DEVICE).detach()};
        });
    }

    // ---- strided iteration -------------------------------------------------------------------

    interface Body { void at(int flat, int[] idx); }

    static void forEach(int[] shape, Body body) {
        int n = 1;
        for (int s : shape) n *= s;
        int[] idx = new int[shape.length];
        for (int i = 0; i < n; i++) {
            int rem = i;
            for (int d = shape.length - 1; d >= 0; d--) {
                idx[d] = rem % shape[d];
                rem /= shape[d];
            }
            body.at(i, idx);
        }
    }

    static int at(View v, int[] idx) {
        int p = v.offset();
        for (int d = 0; d < idx.length; d++) p += idx[d] * v.strides()[d];
        return p;
    }
}
