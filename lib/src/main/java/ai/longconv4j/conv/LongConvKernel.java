// Shape legend: C kernel channels, H features, Lk kernel taps (sides = 2 for a bidirectional kernel).
package ai.longconv4j.conv;

import ai.longconv4j.backend.Backends;
import ai.longconv4j.backend.StorageScope;
import ai.longconv4j.backend.WriteCountingBackend;
import ai.longconv4j.nn.Module;
import ai.longconv4j.nn.Parameter;
import ai.longconv4j.optim.ParamGroup;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;

import java.util.List;
import java.util.Objects;
import java.util.function.UnaryOperator;
import java.util.random.RandomGenerator;

/**
 * The long-convolution kernel: parameter {@code K: (C, H, Lk)} (bidirectional: {@code (C, H, 2, Lk)}),
 * initialized {@code randn * 0.002}; each call computes {@code k = Dropout_p(Squash_lambda(Smooth_w(K)))}.
 * Smooth is off by default (w = 1), Squash lambda = 0.003, kernel dropout p = 0.2 (training only). Without dropout and on a
 * CUDA device, k is computed once per value of K and kept (session 18; {@link #kernel}, {@code -Dlongconv4j.conv.kernel.keep}).
 * K sits in the {@value Parameter#KERNEL_GROUP} optimizer group without weight decay; {@link #LR} is its
 * suggested learning rate.
 *
 * <p><b>Init and lambda: the policy.</b> The defaults are the published ones (the reference H3-conv and
 * long-conv configurations: init {@code randn * 0.002}, {@code lam = 0.003}, kernel dropout 0.2, kernel lr
 * {@code min(1e-3, lr)}, no weight decay on K). Their consequence, measured: Squash maps every tap with
 * {@code |K| <= lambda} to exactly 0 and passes it no gradient, so at init 86.8% of the taps
 * ({@code P(|z| <= 1.5)} for {@code z ~ N(0, 1)}) are <em>dead</em>: nothing moves them (no gradient, no
 * decay), and training kills more (97% dead after 1,900 associative-recall steps). The kernel therefore
 * starts as a sparse random filter, about {@code 0.13 * Lk} live taps per feature, each of magnitude
 * {@code < 0.01}: a convolution that contributes almost nothing at init. That suits the layers where the
 * kernel is a learned regularized filter (LRA, language modelling with the skip term {@code D * u} carrying
 * the signal early). It does <em>not</em> suit a mixer that needs a specific filter to work at all: the H3
 * mixer's associative recall needs a one-step shift and a sum over the history, and with this init alone
 * a 2-layer H3 LM stalls at the "most frequent value" rule (19.8% vs 21.6%, see examples/README.md).
 * Such models add the filter they need with {@link #addTaps}, which places every non-zero tap
 * {@code lambda} further from 0 so that Squash leaves exactly the requested value (plus the random init);
 * those taps are live from the first step, with any lambda. Rules: keep lambda well below the magnitude of
 * the taps a layer must learn; lambda = 0 turns Squash off (no dead taps); lambda above the init scale
 * (0.002) makes most random taps dead at init by design.
 * <pre>{@code
 * jshell> var kern = LongConvKernel.builder().channels(2).features(64).length(1024).seed(1).build()
 * kern ==> LongConvKernel(C=2, H=64, Lk=1024, lambda=0.003, p=0.2, smooth=1) (131,072 parameters, train)
 * jshell> var groups = ParamGroups.of(model).override("kernel", LongConvKernel.groupSettings(LongConvKernel.LR)).build()
 * jshell> kern.addTaps(t -> t == 1 ? 1.0 : 0.0)      // every feature starts as a one-step shift (after Squash)
 * jshell> kern.deadFraction()
 * $4 ==> 0.866...
 * }</pre>
 */
public final class LongConvKernel extends Module {
    /** Defaults, each defined once. */
    public static final double INIT_SCALE = 0.002, LAMBDA = 0.003, DROPOUT = 0.2, LR = 1e-3;
    public static final int CHANNELS = 2, SMOOTH = 1;

    private final Parameter k;
    private final double lambda, p;
    private final int smooth;
    private final RandomGenerator rng;

    private LongConvKernel(Builder b) {
        RandomGenerator init = b.rng != null ? b.rng : Rng.seeded(b.seed);
        int[] shape = b.bidirectional ? new int[] {b.channels, b.features, 2, b.length} : new int[] {b.channels, b.features, b.length};
        this.k = param(new Parameter("k", Tensor.randn(init, b.dtype, shape).mul(INIT_SCALE).detach(), Parameter.KERNEL_GROUP, false));
        this.lambda = b.lambda;
        this.p = b.p;
        this.smooth = b.smooth;
        this.rng = init;
    }

    public static Builder builder() { return new Builder(); }

    /** Builder: {@code features} and {@code length} are required; the rest default to the constants above. */
    public static final class Builder {
        private int channels = CHANNELS, features = -1, length = -1, smooth = SMOOTH;
        private double lambda = LAMBDA, p = DROPOUT;
        private boolean bidirectional;
        private DType dtype = DType.F32;
        private long seed = 0;
        private RandomGenerator rng;

        public Builder channels(int c) { channels = c; return this; }
        public Builder features(int h) { features = h; return this; }
        public Builder length(int lk) { length = lk; return this; }
        public Builder lambda(double v) { lambda = v; return this; }
        public Builder dropout(double v) { p = v; return this; }
        public Builder smooth(int w) { smooth = w; return this; }
        public Builder bidirectional(boolean on) { bidirectional = on; return this; }
        public Builder dtype(DType d) { dtype = Objects.requireNonNull(d); return this; }
        public Builder seed(long s) { seed = s; return this; }
        public Builder rng(RandomGenerator r) { rng = r; return this; }

        public LongConvKernel build() {
            if (channels < 1 || features < 1 || length < 1) {
                throw new IllegalArgumentException("LongConvKernel: need C, H, Lk >= 1, got C=" + channels + " H=" + features + " Lk=" + length);
            }
            if (!(lambda >= 0)) throw new IllegalArgumentException("LongConvKernel: lambda must be >= 0, got " + lambda);
            if (!(p >= 0 && p < 1)) throw new IllegalArgumentException("LongConvKernel: dropout must be in [0, 1), got " + p);
            if (smooth < 1 || smooth % 2 == 0) throw new IllegalArgumentException("LongConvKernel: smooth width must be odd >= 1, got " + smooth);
            return new LongConvKernel(this);
        }
    }

    /** The raw parameter K. */
    public Parameter parameter() { return k; }

    /** The optimizer-group hint of K ({@value Parameter#KERNEL_GROUP}, no weight decay). */
    public String group() { return k.group(); }

    /** This kernel's own optimizer group: K alone, learning rate {@code lr}, weight decay 0. */
    public ParamGroup optimizerGroup(double lr) { return new ParamGroup(Parameter.KERNEL_GROUP, List.of(k), lr, 0); }

    /** Settings of the kernel group for {@code ParamGroups...override("kernel", groupSettings(lr))}: own lr, no decay. */
    public static UnaryOperator<ParamGroup> groupSettings(double lr) { return g -> g.withLr(lr).withWeightDecay(0); }

    public boolean bidirectional() { return k.value().dim() == 4; }
    public int channels() { return k.value().size(0); }
    public int features() { return k.value().size(1); }
    public int length() { return k.value().size(-1); }

    /**
     * Adds a structured filter to K: for every channel and feature, tap {@code t} of the causal side
     * (bidirectional: side 0) gets {@code target(t) + sign(target(t)) * lambda} added, for each {@code t}
     * in {@code [0, Lk)} where {@code target(t) != 0}. With Smooth off, Squash then yields
     * {@code target(t)} plus the random init at those taps (the init noise is {@code randn * 0.002},
     * so it can flip a squashed value only for targets within ~0.006 of 0). Returns {@code this}.
     * Use it at construction, before training (the optimizer state is not touched).
     */
    public LongConvKernel addTaps(java.util.function.IntToDoubleFunction target) {
        Objects.requireNonNull(target, "target");
        int lk = length();
        double[] add = new double[lk];
        for (int t = 0; t < lk; t++) {
            double v = target.applyAsDouble(t);
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException("LongConvKernel.addTaps: target(" + t + ") = " + v + " is not finite");
            }
            add[t] = v == 0 ? 0 : v + Math.signum(v) * lambda;
        }
        int sides = bidirectional() ? 2 : 1;
        double[] raw = k.value().toDoubleArray();
        for (int row = 0; row < raw.length / lk; row++) {
            if (row % sides != 0) {
                continue;                                   // bidirectional: only side 0 (the causal part)
            }
            for (int t = 0; t < lk; t++) {
                raw[row * lk + t] += add[t];
            }
        }
        k.assign(Tensor.of(raw, k.shape()).to(k.value().dtype()));
        return this;
    }

    /** Share of the taps of K that Squash maps to 0 ({@code |K| <= lambda}): they get no gradient while there. */
    public double deadFraction() {
        double[] raw = k.value().toDoubleArray();
        long dead = 0;
        for (double v : raw) {
            dead += Math.abs(v) <= lambda ? 1 : 0;
        }
        return (double) dead / raw.length;
    }

    /** The Squash threshold lambda. */
    public double lambda() { return lambda; }

    /**
     * {@code k = Dropout_p(Squash_lambda(Smooth_w(K)))}; dropout only in training mode.
     *
     * <p><b>Kept k (session 18, helper layer).</b> Without dropout (evaluation, or p = 0) and with K on a device whose
     * backend counts in-place writes ({@link WriteCountingBackend}: CUDA), k is computed once per value of K and kept:
     * a later call returns the same k (the same storage, so the device convolution also keeps the spectrum it computed
     * from it) until K changes: a new value object (every optimizer step, {@code Parameter.assign}, loading, moving) or
     * an in-place write to its storage ({@code Tensor.copyFrom}, counted by the backend). Each call still records its own
     * graph node on K, whose backward is Squash's and Smooth's: {@code dK = Smooth(dk * [|Smooth(K)| > lambda])} (the
     * pool is its own adjoint; at w = 1 exactly the composed ops' gradient, value for value). Not kept: on the CPU
     * (nothing to save there), with dropout, and when a {@link StorageScope} is open at the computation (the scope may
     * release what it saw created). {@code -D}{@value #KEEP}{@code =false}: k computed at every call (the slow twin).
     */
    public Tensor kernel() {
        Tensor kv = k.value();
        if (p > 0 && isTraining()) return computed(kv).dropout(p, rng, true);   // a new mask at every call: nothing to keep
        Long writes = keep() ? writesOf(kv) : null;
        if (writes == null) return computed(kv);                                // the CPU, or the twin: nothing kept or used
        Kept c = kept;
        boolean stale = c == null || c.source() != kv || c.writes() != writes;
        if (stale && StorageScope.active()) {
            kept = null;
            return computed(kv);
        }
        if (stale) {
            Tensor value;
            try (var ng = Tensor.noGrad()) {
                value = computed(kv);
            }
            kept = c = new Kept(kv, writes, value);
        }
        Tensor source = c.source();
        return Tensor.op("kernel[kept]", c.value(), new Tensor[] {source}, g -> new Tensor[] {computedGrad(source, g, smooth, lambda)});
    }

    /** The switch of the kept k ({@link #kernel}; default on, {@code false}: recomputed per call). Read per call. */
    public static final String KEEP = "longconv4j.conv.kernel.keep";

    static boolean keep() { return !"false".equals(System.getProperty(KEEP)); }

    /** What {@link #kernel} kept: K's value object, its storage's write count then, and k (no graph). */
    private record Kept(Tensor source, long writes, Tensor value) {}

    private Kept kept;
    private long computations;

    /** Times this kernel computed k from K (a kept k returned again does not count); for tests and benches. */
    public long computations() { return computations; }

    /** {@code Squash_lambda(Smooth_w(K))}, counted. */
    private Tensor computed(Tensor kv) {
        computations++;
        return ConvOps.squash(ConvOps.smooth(kv, smooth), lambda);
    }

    /** The gradient of {@code Squash_lambda(Smooth_w(K))} at K for dk = g: {@code Smooth_w(g * [|Smooth_w(K)| > lambda])}. */
    static Tensor computedGrad(Tensor kv, Tensor g, int smooth, double lambda) {
        // max(|x| - lambda, 0) is what Squash's composed ops compute, so its sign (1 or 0) is their derivative, bit for bit
        Tensor mask = ConvOps.smooth(kv, smooth).abs().sub(lambda).maximum(0).sign();
        return ConvOps.smooth(g.mul(mask), smooth);
    }

    /** The in-place writes counted on t's storage by its backend, or null where none are counted (CPU). */
    private static Long writesOf(Tensor t) {
        if (t.device().isCpu()) return null;
        return Backends.forDevice(t.device()) instanceof WriteCountingBackend w ? w.writes(t.storage()) : null;
    }

    /** The kernel module produces its kernel; {@code x} is ignored (may be null). Same as {@link #kernel()}. */
    @Override
    public Tensor forward(Tensor x) { return kernel(); }

    @Override
    protected String describe() {
        return "LongConvKernel(C=" + channels() + ", H=" + features() + ", Lk=" + length() + (bidirectional() ? ", bidirectional" : "")
                + ", lambda=" + lambda + ", p=" + p + ", smooth=" + smooth + ")";
    }
}
