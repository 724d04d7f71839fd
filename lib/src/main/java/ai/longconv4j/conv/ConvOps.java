// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps, N FFT size.
package ai.longconv4j.conv;

import ai.longconv4j.backend.Backend;
import ai.longconv4j.backend.Backends;
import ai.longconv4j.backend.SpectralConvBackend;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Tensor;

import java.util.Arrays;

/**
 * Tensor-level long-convolution ops, each a {@link Tensor#op} with its hand-written backward next to the
 * forward: the convolution (any engine), the learned-butterfly convolutions (plain and packed, blocks as inputs), Squash and
 * Smooth. F32 tensors compute at the plan's F32 precision and return F32; F64 returns F64.
 * <pre>{@code
 * jshell> var u = Tensor.randn(Rng.seeded(1), DType.F64, 2, 4, 100); var k = Tensor.randn(Rng.seeded(2), DType.F64, 4, 100)
 * jshell> ConvOps.conv(u, k, null, ConvMode.CAUSAL, ConvEngine.AUTO)
 * $3 ==> Tensor(shape=[2, 4, 100], F64, cpu, [...])
 * }</pre>
 */
public final class ConvOps {
    private ConvOps() {}

    /** The call's sizes, read from the tensors' shapes, with the checks that name them. */
    static ConvShape shapeOf(String op, Tensor u, Tensor k, Tensor d, ConvMode mode) {
        if (u == null || k == null || mode == null) throw new IllegalArgumentException(op + ": u, k and mode must be non-null");
        if (u.dim() != 3) throw new IllegalArgumentException(op + ": u must be (B, H, L), got " + Arrays.toString(u.shape()));
        if (!k.device().equals(u.device()) || (d != null && !d.device().equals(u.device()))) {
            throw new IllegalArgumentException(op + ": operands on different devices: u on " + u.device() + ", k on " + k.device()
                    + (d == null ? "" : ", D on " + d.device()) + "; move them with to(Device)");
        }
        int sides = mode.sides();
        // k without a channel axis is (H, [2,] Lk); with one, (C, H, [2,] Lk)
        int base = sides == 2 ? 3 : 2;
        if (k.dim() != base && k.dim() != base + 1) {
            throw new IllegalArgumentException(op + ": k must be " + (sides == 2 ? "(C, H, 2, Lk) or (H, 2, Lk)" : "(C, H, Lk) or (H, Lk)")
                    + " for " + mode + ", got " + Arrays.toString(k.shape()));
        }
        int c = k.dim() == base + 1 ? k.size(0) : 1, h = k.size(k.dim() - base), lk = k.size(-1);
        if (sides == 2 && k.size(-2) != 2) {
            throw new IllegalArgumentException(op + ": bidirectional k needs an axis of 2 (k0, k1) before Lk, got " + Arrays.toString(k.shape()));
        }
        if (h != u.size(1)) {
            throw new IllegalArgumentException(op + ": H mismatch: u " + Arrays.toString(u.shape()) + " is (B, H, L) with H=" + u.size(1)
                    + " but k " + Arrays.toString(k.shape()) + " has H=" + h);
        }
        if (u.size(2) < 1) throw new IllegalArgumentException(op + ": L must be >= 1, got u " + Arrays.toString(u.shape()));
        if (d != null && (d.numel() != c * h || d.dim() > 2)) {
            throw new IllegalArgumentException(op + ": D must be (C, H) = (" + c + ", " + h + "), got " + Arrays.toString(d.shape()));
        }
        return new ConvShape(u.size(0), c, h, u.size(2), lk, mode);
    }

    static Precision precisionOf(Tensor u) { return u.dtype() == DType.F64 ? Precision.F64 : Precision.F32; }

    static Tensor tensor(double[] a, DType dtype, int... shape) {
        return dtype == DType.F64 ? Tensor.wrap(a, shape) : Tensor.wrap(ConvShape.toFloat(a), shape).to(dtype);
    }

    /**
     * {@code y = conv(u, k) + D * u}: u (B, H, L); k (H, Lk) or (C, H, Lk) (bidirectional: (H, 2, Lk) or
     * (C, H, 2, Lk)); D (C, H) or null. Returns (B, H, L) when k has no channel axis, else (B, C, H, L).
     */
    public static Tensor conv(Tensor u, Tensor k, Tensor d, ConvMode mode, ConvEngine engine) {
        ConvShape s = shapeOf("LongConv.apply", u, k, d, mode);
        // the DIRECT slow twin always sums in F64; the result still comes back in u's dtype
        Precision p = engine == ConvEngine.DIRECT ? Precision.F64 : precisionOf(u);
        // the plan (a table look-up) checks the sizes on every device alike; its CPU engine (twiddle tables, JTransforms
        // plans: ~60 ms at L = 256K) only where it computes
        ConvPlan plan = ConvPlan.of(s.length(), s.kernelLength(), mode, engine, p);
        if (!u.device().isCpu() && !deviceHostConvolver()) return convOnDevice(u, k, d, s);
        HOST_CONVOLVERS.incrementAndGet();
        return conv(u, k, d, s, plan.newConvolver());
    }

    /**
     * The switch of {@link #conv}'s device route: by default a device tensor goes straight to {@link #convOnDevice};
     * {@code -D}{@value #DEVICE_HOST_CONVOLVER}{@code =true} builds the plan's CPU engine first, as before session 17 (the
     * slow twin: the same device computation after a wasted host build). Read at each call.
     */
    static final String DEVICE_HOST_CONVOLVER = "longconv4j.conv.device.hostconvolver";

    static boolean deviceHostConvolver() { return "true".equals(System.getProperty(DEVICE_HOST_CONVOLVER)); }

    /** CPU engines {@link #conv} built (tests: the device route builds none). */
    static final java.util.concurrent.atomic.AtomicLong HOST_CONVOLVERS = new java.util.concurrent.atomic.AtomicLong();

    /** The same with a prepared engine (a layer keeps one per length); u on a device: {@link #convOnDevice}. */
    static Tensor conv(Tensor u, Tensor k, Tensor d, ConvShape s, Convolver engine) {
        if (!u.device().isCpu()) return convOnDevice(u, k, d, s);
        boolean noChannel = k.dim() == s.mode().sides() + 1;
        int[] yShape = noChannel ? new int[] {s.batch(), s.features(), s.length()}
                : new int[] {s.batch(), s.channels(), s.features(), s.length()};
        double[] ua = u.toDoubleArray(), ka = k.toDoubleArray(), da = d == null ? null : d.toDoubleArray();
        // Keep the spectra for the backward only when a graph is being recorded for a tensor that needs it.
        boolean keep = Tensor.isGradEnabled() && (u.requiresGrad() || k.requiresGrad() || (d != null && d.requiresGrad()));
        Convolver.Forward fw = keep ? engine.forwardKeep(s, ua, ka, da) : new Convolver.Forward(engine.forward(s, ua, ka, da), null);
        DType dt = u.dtype();
        Tensor result = tensor(fw.y(), dt, yShape);
        Tensor[] inputs = d == null ? new Tensor[] {u, k} : new Tensor[] {u, k, d};
        return Tensor.op("longconv[" + engine.plan().engine() + "]", result, inputs, g -> {
            ConvGrads gr = engine.backward(s, ua, ka, da, g.toDoubleArray(), fw.saved());
            Tensor du = tensor(gr.du(), u.dtype(), u.shape()), dk = tensor(gr.dk(), k.dtype(), k.shape());
            return d == null ? new Tensor[] {du, dk} : new Tensor[] {du, dk, tensor(gr.dD(), d.dtype(), d.shape())};
        });
    }

    /**
     * The convolution on u's device through its backend's {@link SpectralConvBackend}: the mode's N-tap kernel
     * (causal: side-0 taps at [0, t0), N = 2L; bidirectional: plus the side-1 taps flipped into [N - t1, N), N = 2L;
     * circular: N = L; the backend may ask for a larger N, e.g. a power of two) is built with tensor ops (pad/flip/add, so dk flows back through them), the backend computes
     * {@code irfft(rfft(pad(u, N)) * rfft(kN))[:L]} with its own backward, and {@code D * u} is added with tensor
     * ops. BF16/F16 inputs keep their dtype (the backend picks its 16-bit path). Same taps and zero padding as the
     * CPU engines. First the backend's fused path ({@link SpectralConvBackend#spectralConvD}: kernel layout, D u and
     * all gradients inside, e.g. FlashButterfly's plan) unless {@code -D}{@value #DEVICE_FUSED}{@code =false}; the
     * composition above is its fallback and slow twin.
     */
    static Tensor convOnDevice(Tensor u, Tensor k, Tensor d, ConvShape s) {
        Backend be = Backends.forDevice(u.device());
        if (!(be instanceof SpectralConvBackend sc))
            throw new UnsupportedOperationException("LongConv: the backend of " + u.device() + " has no device convolution");
        ConvMode mode = s.mode();
        if (deviceFused()) {
            Tensor y = sc.spectralConvD(u, k, d, mode, s.taps(0), s.taps(1));
            if (y != null) return y;
        }
        boolean noChannel = k.dim() == mode.sides() + 1;
        int cN = s.channels(), hN = s.features(), l = s.length(), sides = mode.sides();
        DType dt = u.dtype();
        DType ct = dt == DType.F64 ? DType.F64 : DType.F32;
        int n = sc.fftSize(mode, l, dt);
        Tensor kc = (noChannel ? k.unsqueeze(0) : k).to(ct);                       // (C, H, [2,] Lk)
        Tensor k0 = sides == 2 ? kc.slice(2, 0, 1).squeeze(2) : kc;
        int t0 = s.taps(0);
        Tensor kN = k0.slice(2, 0, t0).pad(2, 0, n - t0);
        if (sides == 2) {
            int t1 = s.taps(1);
            Tensor k1 = kc.slice(2, 1, 2).squeeze(2);
            if (t1 > 0) kN = kN.add(k1.slice(2, 0, t1).flip(2).pad(2, n - t1, 0));
        }
        Tensor y = sc.spectralConv(u, kN, mode, t0);                                // (B, C, H, L), u's dtype
        if (d != null) y = y.to(ct).add(d.to(ct).reshape(1, cN, hN, 1).mul(u.to(ct).unsqueeze(1))).to(dt);
        return noChannel ? y.squeeze(1) : y;
    }

    /** The switch of {@link #convOnDevice}'s fused path (read at each call, so a bench or test can flip it). */
    static final String DEVICE_FUSED = "longconv4j.conv.device.fused";

    /** Whether {@link #convOnDevice} asks the backend's fused path first (default; {@value #DEVICE_FUSED}=false: never). */
    static boolean deviceFused() { return !"false".equals(System.getProperty(DEVICE_FUSED)); }

    /**
     * Learned-butterfly convolution with the four blocks as inputs (each (n, n, 2), see {@link LearnedButterfly}),
     * so they can be trainable parameters; shapes otherwise as {@link #conv}.
     */
    public static Tensor learnedConv(Tensor u, Tensor k, Tensor d, ConvMode mode, Tensor[] blocks) {
        return learned(ConvEngine.LEARNED, "LongConv.learned", u, k, d, mode, blocks);
    }

    /**
     * The packed learned-butterfly convolution ({@link PackedLearnedButterfly}, {@link ConvEngine#LEARNED_PACKED}) with
     * the 2J blocks {F_1 .. F_J, G_J .. G_1} of the plan's M = N/2 = R_1 x .. x R_J packed transform as inputs (J = 2:
     * {Fa (N1, N1, 2), Fb (N2, N2, 2), Gb (N2, N2, 2), Ga (N1, N1, 2)}; names and sizes
     * {@link PackedLearnedButterfly#blockNames}, {@link PackedLearnedButterfly#blockSizes}), so they can be trainable parameters; gradients for u, k, D and the blocks; shapes
     * otherwise as {@link #conv}. CPU (F64 / F32); other devices through their backend's
     * {@link SpectralConvBackend#learnedPackedConv}, else an UnsupportedOperationException.
     */
    public static Tensor learnedPackedConv(Tensor u, Tensor k, Tensor d, ConvMode mode, Tensor[] blocks) {
        return learned(ConvEngine.LEARNED_PACKED, "LongConv.learnedPacked", u, k, d, mode, blocks);
    }

    /** Block gradients of either learned engine, in one shape. */
    private record LearnedGrads(ConvGrads conv, double[][] dBlocks) {}

    private static final String[] BLOCK_NAMES = {"Fa", "Fb", "Gb", "Ga"};

    /** The shared body of {@link #learnedConv} and {@link #learnedPackedConv}: checks, device hook, CPU op. */
    private static Tensor learned(ConvEngine engine, String op, Tensor u, Tensor k, Tensor d, ConvMode mode, Tensor[] blocks) {
        ConvShape s = shapeOf(op, u, k, d, mode);
        boolean packed = engine == ConvEngine.LEARNED_PACKED;
        // the plan (and with it the block count: LEARNED 4, LEARNED_PACKED 2J) is the same on every device
        ConvPlan plan = ConvPlan.of(s.length(), s.kernelLength(), mode, engine, precisionOf(u));
        java.util.List<String> names = packed ? PackedLearnedButterfly.blockNames(plan) : java.util.List.of(BLOCK_NAMES);
        int[] sizes = packed ? PackedLearnedButterfly.blockSizes(plan)
                : new int[] {plan.factors().get(0), plan.factors().get(1), plan.factors().get(1), plan.factors().get(0)};
        if (blocks == null || blocks.length != names.size() || Arrays.asList(blocks).contains(null)) {
            throw new IllegalArgumentException(op + ": needs " + names.size() + " non-null blocks " + names + " for " + plan + ", got "
                    + (blocks == null ? "null" : blocks.length + " " + Arrays.toString(Arrays.stream(blocks)
                        .map(b -> b == null ? "null" : Arrays.toString(b.shape())).toArray())));
        }
        if (!u.device().isCpu()) {
            for (Tensor b : blocks)
                if (!b.device().equals(u.device()))
                    throw new IllegalArgumentException(op + ": operands on different devices: u on " + u.device() + ", a block on " + b.device());
            Tensor y = Backends.forDevice(u.device()) instanceof SpectralConvBackend sc
                    ? (packed ? sc.learnedPackedConv(u, k, d, mode, blocks) : sc.learnedConv(u, k, d, mode, blocks)) : null;
            if (y == null)
                throw new UnsupportedOperationException(op + ": the backend of " + u.device() + " has no " + (packed ? "packed " : "")
                        + "learned-butterfly path for u " + Arrays.toString(u.shape()) + " " + u.dtype() + ", k " + Arrays.toString(k.shape())
                        + " in " + mode + (packed ? " (the GPU paths take M = N/2 <= 4096; compute it on the CPU: move the tensors with to(Device))"
                        : " (the GPU kernels take F32, BF16 or F16, one kernel channel, FFT size <= 2048)"));
            return y;
        }
        double[][] ba = new double[blocks.length][];
        for (int i = 0; i < blocks.length; i++) {
            int n = sizes[i];
            if (!Arrays.equals(blocks[i].shape(), new int[] {n, n, 2}))
                throw new IllegalArgumentException(op + ": block " + i + " (" + names.get(i) + ") must be (" + n + ", " + n + ", 2) for "
                        + plan + ", got " + Arrays.toString(blocks[i].shape()));
            ba[i] = blocks[i].toDoubleArray();
        }
        double[] ua = u.toDoubleArray(), ka = k.toDoubleArray(), da = d == null ? null : d.toDoubleArray();
        Convolver cv;
        java.util.function.Function<double[], LearnedGrads> backward;
        if (packed) {
            PackedLearnedButterfly pk = new PackedLearnedButterfly(plan, ba);
            cv = pk;
            backward = dy -> { var g = pk.backwardAll(s, ua, ka, da, dy); return new LearnedGrads(g.conv(), g.dBlocks()); };
        } else {
            LearnedButterfly lb = new LearnedButterfly(plan, ba);
            cv = lb;
            backward = dy -> { var g = lb.backwardAll(s, ua, ka, da, dy); return new LearnedGrads(g.conv(), g.dBlocks()); };
        }
        boolean noChannel = k.dim() == mode.sides() + 1;
        int[] yShape = noChannel ? new int[] {s.batch(), s.features(), s.length()}
                : new int[] {s.batch(), s.channels(), s.features(), s.length()};
        Tensor result = tensor(cv.forward(s, ua, ka, da), u.dtype(), yShape);
        Tensor[] inputs = learnedInputs(u, k, d, blocks);
        int nIn = inputs.length;
        return Tensor.op("longconv[" + engine + "]", result, inputs, g -> {
            LearnedGrads gr = backward.apply(g.toDoubleArray());
            Tensor[] out = new Tensor[nIn];
            out[0] = tensor(gr.conv().du(), u.dtype(), u.shape());
            out[1] = tensor(gr.conv().dk(), k.dtype(), k.shape());
            if (d != null) out[2] = tensor(gr.conv().dD(), d.dtype(), d.shape());
            for (int i = 0; i < blocks.length; i++) out[nIn - blocks.length + i] = tensor(gr.dBlocks()[i], blocks[i].dtype(), blocks[i].shape());
            return out;
        });
    }

    /**
     * The causal learned-Monarch convolution {@code M_out(conv(M_in(u), k)) + D * u} ({@link CausalMonarch}): u (B, H, L)
     * with L &lt;= Lp; blocks {A_in (L1, L1), W_in (L2, L2), A_out, W_out} with Lp = L1 * L2; k, D and the result as
     * {@link #conv}; CAUSAL mode only. The inner convolution runs at length Lp with the AUTO engine (on a device: its
     * backend's). Composed of tensor ops, so it runs on every device.
     */
    public static Tensor learnedCausalConv(Tensor u, Tensor k, Tensor d, ConvMode mode, Tensor[] blocks) {
        return CausalMonarch.convolve("LongConv.learnedCausal", u, k, d, mode, blocks, x -> conv(x, k, null, ConvMode.CAUSAL, ConvEngine.AUTO));
    }

    /** Squash (soft threshold) {@code sign(K) * max(|K| - lambda, 0)}; gradient {@code g * [|K| > lambda]}. */
    public static Tensor squash(Tensor kParam, double lambda) {
        if (!(lambda >= 0)) throw new IllegalArgumentException("Squash: lambda must be >= 0, got " + lambda);
        if (!kParam.device().isCpu()) {
            // composed on the device: sign(K) * max(|K| - lambda, 0); its gradient sign(K)^2 [|K| > lambda] is the rule below
            return kParam.sign().mul(kParam.abs().sub(lambda).maximum(0));
        }
        double[] a = kParam.toDoubleArray(), y = new double[a.length];
        for (int i = 0; i < a.length; i++) y[i] = Math.signum(a[i]) * Math.max(Math.abs(a[i]) - lambda, 0);
        return Tensor.op("squash", tensor(y, kParam.dtype(), kParam.shape()), new Tensor[] {kParam}, g -> {
            double[] ga = g.toDoubleArray();
            for (int i = 0; i < ga.length; i++) if (!(Math.abs(a[i]) > lambda)) ga[i] = 0;
            return new Tensor[] {tensor(ga, kParam.dtype(), kParam.shape())};
        });
    }

    /**
     * Smooth: average pool of odd width w along the last axis (taps), stride 1, zero padding w/2 each side,
     * dividing by w: {@code y[t] = (1/w) sum_{|s| <= w/2} K[t+s]}. The stencil is symmetric, so the backward is
     * the same pool applied to the gradient. w = 1 is the identity.
     */
    public static Tensor smooth(Tensor kParam, int width) {
        if (width < 1 || width % 2 == 0) throw new IllegalArgumentException("Smooth: width must be odd and >= 1, got " + width);
        if (width == 1) return kParam;
        int lk = kParam.size(-1);
        if (!kParam.device().isCpu()) {
            // composed on the device: (1/w) sum_j pad(K, w/2, w/2)[j : j + Lk] (the same zero-padded stencil)
            int r = width / 2;
            Tensor p = kParam.pad(-1, r, r), acc = p.slice(-1, 0, lk);
            for (int j = 1; j < width; j++) acc = acc.add(p.slice(-1, j, j + lk));
            return acc.div(width);
        }
        double[] y = pool(kParam.toDoubleArray(), lk, width);
        return Tensor.op("smooth", tensor(y, kParam.dtype(), kParam.shape()), new Tensor[] {kParam},
                g -> new Tensor[] {tensor(pool(g.toDoubleArray(), lk, width), kParam.dtype(), kParam.shape())});
    }

    private static double[] pool(double[] a, int lk, int w) {
        int r = w / 2;
        double[] y = new double[a.length];
        for (int row = 0; row < a.length / lk; row++) {
            int o = row * lk;
            for (int t = 0; t < lk; t++) {
                double s = 0;
                for (int j = Math.max(0, t - r); j <= Math.min(lk - 1, t + r); j++) s += a[o + j];
                y[o + t] = s / w;
            }
        }
        return y;
    }

    /**
     * The graph inputs of a learned-butterfly convolution (plain or packed), in the order its backward returns gradients:
     * {@code u, k, [D,] Fa, Fb, Gb, Ga} (D only when present; LEARNED_PACKED with J factors: its 2J blocks in
     * {@link PackedLearnedButterfly#blockNames} order). Shared by every device's implementation.
     */
    public static Tensor[] learnedInputs(Tensor u, Tensor k, Tensor d, Tensor[] blocks) {
        int nIn = (d == null ? 2 : 3) + blocks.length;
        Tensor[] inputs = new Tensor[nIn];
        inputs[0] = u;
        inputs[1] = k;
        if (d != null) inputs[2] = d;
        System.arraycopy(blocks, 0, inputs, nIn - blocks.length, blocks.length);
        return inputs;
    }
}
