// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps.
package ai.longconv4j.conv;

import ai.longconv4j.nn.Dropout;
import ai.longconv4j.nn.GELU;
import ai.longconv4j.nn.GLU;
import ai.longconv4j.nn.Linear;
import ai.longconv4j.nn.Module;
import ai.longconv4j.nn.Parameter;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.random.RandomGenerator;

/**
 * The long-convolution layer (Fu et al. 2023) on {@code u: (B, H, L)}:
 * {@code y = conv(u, k) + D * u} with {@code k} from a {@link LongConvKernel} and {@code D: (C, H)} (init randn),
 * channels flattened to C*H, GELU, dropout, {@code Linear(C*H -> 2H)} + GLU -> {@code (B, H, L)}.
 * Inputs shorter than the kernel crop it (never wrap). The engine comes from a {@link ConvPlan} made once
 * per input length and dtype; LEARNED and LEARNED_PACKED (the blocks of FlashButterfly's packed half-size transform,
 * {@link PackedLearnedButterfly}) register butterfly blocks {@code Fa, Fb, Gb, Ga} (LEARNED_PACKED: 2J of them,
 * {@link PackedLearnedButterfly#blockNames}) ({@value Parameter#BUTTERFLY_GROUP}
 * group, exact DFT at init: the layer then equals the FFT layer) sized for L = kernel length and then need inputs of
 * exactly that length (causal only at init: trained blocks read future inputs); LEARNED_CAUSAL registers the
 * four causal Monarch blocks of {@link CausalMonarch} (same group, identity init) and takes any L &lt;= Lk.
 * <pre>{@code
 * jshell> var layer = LongConv.builder().features(64).length(1024).seed(1).build()
 * jshell> layer.forward(Tensor.randn(Rng.seeded(2), DType.F32, 8, 64, 1024)).shape()
 * $3 ==> int[3] { 8, 64, 1024 }
 * jshell> LongConv.apply(u, k, ConvMode.CAUSAL)   // functional form: no parameters, no skip
 * }</pre>
 */
public final class LongConv extends Module {
    /** Layer dropout after GELU (the kernel has its own, {@link LongConvKernel#DROPOUT}). */
    public static final double DROPOUT = 0.0;
    /** Suggested learning rate of the butterfly group (learned DFT blocks), weight decay 0. */
    public static final double BUTTERFLY_LR = 1e-3;

    private final LongConvKernel kernel;
    private final Parameter d;
    private final GELU act = new GELU();
    private final Dropout dropout;
    private final Linear out;
    private final ConvMode mode;
    private final ConvEngine engine;
    private final Parameter[] blocks;
    private final Parameter[] causalBlocks;
    private final Map<String, Convolver> engines = new ConcurrentHashMap<>();

    private LongConv(Builder b) {
        RandomGenerator rng = Rng.seeded(b.seed);
        this.mode = b.mode;
        this.engine = b.engine;
        this.kernel = register("kernel", LongConvKernel.builder().channels(b.channels).features(b.features).length(b.length)
                .lambda(b.lambda).dropout(b.kernelDropout).smooth(b.smooth).bidirectional(b.mode == ConvMode.BIDIRECTIONAL)
                .dtype(b.dtype).rng(Rng.seeded(b.seed + 1)).build());
        this.d = param("D", Tensor.randn(rng, b.dtype, b.channels, b.features).detach());
        this.dropout = register("dropout", new Dropout(b.dropout, Rng.seeded(b.seed + 2)));
        this.out = register("out", new Linear(b.channels * b.features, 2 * b.features, true, b.dtype, rng));
        if (isLearnedDft(engine)) {
            blocks = dftBlocks("", engine, b.length, mode, b.dtype);
            for (Parameter p : blocks) param(p);
        } else {
            blocks = null;
        }
        if (engine == ConvEngine.LEARNED_CAUSAL) {
            causalBlocks = causalBlocks("", b.length, b.dtype);
            for (Parameter p : causalBlocks) param(p);
        } else {
            causalBlocks = null;
        }
    }

    /** Whether the engine learns DFT blocks ({@link ConvEngine#LEARNED}, {@link ConvEngine#LEARNED_PACKED}). */
    public static boolean isLearnedDft(ConvEngine engine) {
        return engine == ConvEngine.LEARNED || engine == ConvEngine.LEARNED_PACKED;
    }

    /**
     * The learnable DFT blocks of a {@link ConvEngine#LEARNED} (four) or {@link ConvEngine#LEARNED_PACKED} (2J, J the
     * plan's factor count: four to L = 1K causal, six, eight or ten beyond) convolution of length L = Lk in {@code mode},
     * at the exact DFT of that engine's plan ({@link LearnedButterfly#atInit}, {@link PackedLearnedButterfly#atInit};
     * each (n, n, 2)), named {@code <prefix>Fa, <prefix>Fb, <prefix>Gb, <prefix>Ga}
     * (LEARNED_PACKED: {@code <prefix>pkFa} ... in {@link PackedLearnedButterfly#blockNames} order, e.g.
     * {@code pkFa, pkFb, pkFc, pkGc, pkGb, pkGa} at J = 3, so that a checkpoint of one engine never loads silently into the other,
     * whose blocks mean something else even where the shapes agree), in the {@value Parameter#BUTTERFLY_GROUP} group
     * without weight decay; the caller registers them.
     */
    public static Parameter[] dftBlocks(String prefix, ConvEngine engine, int length, ConvMode mode, DType dtype) {
        if (!isLearnedDft(engine)) throw new IllegalArgumentException("LongConv.dftBlocks: engine must be LEARNED or LEARNED_PACKED, got " + engine);
        Precision p = dtype == DType.F64 ? Precision.F64 : Precision.F32;
        ConvPlan plan = ConvPlan.of(length, length, mode, engine, p);
        double[][] init = engine == ConvEngine.LEARNED ? LearnedButterfly.atInit(plan).blocks() : PackedLearnedButterfly.atInit(plan).blocks();
        boolean packed = engine == ConvEngine.LEARNED_PACKED;
        List<String> names = packed ? PackedLearnedButterfly.blockNames(plan) : List.of("Fa", "Fb", "Gb", "Ga");
        int[] sizes = packed ? PackedLearnedButterfly.blockSizes(plan)
                : new int[] {plan.factors().get(0), plan.factors().get(1), plan.factors().get(1), plan.factors().get(0)};
        String tag = packed ? "pk" : "";
        Parameter[] ps = new Parameter[init.length];
        for (int i = 0; i < init.length; i++) {
            int n = sizes[i];
            Tensor t = Tensor.of(init[i], n, n, 2).to(dtype).detach();
            ps[i] = new Parameter(prefix + tag + names.get(i), t, Parameter.BUTTERFLY_GROUP, false);
        }
        return ps;
    }

    /**
     * The four identity-initialized blocks {A_in, W_in, A_out, W_out} of a {@link ConvEngine#LEARNED_CAUSAL} convolution
     * for inputs up to length Lk, named {@code <prefix>inA, <prefix>inW, <prefix>outA, <prefix>outW} (camel case after a
     * prefix), in the {@value Parameter#BUTTERFLY_GROUP} group without weight decay (like LEARNED's DFT blocks); the
     * caller registers them.
     */
    public static Parameter[] causalBlocks(String prefix, int length, DType dtype) {
        CausalMonarch.Factors f = CausalMonarch.factor(length);
        String[] names = {"inA", "inW", "outA", "outW"};
        Parameter[] ps = new Parameter[4];
        for (int i = 0; i < 4; i++) {
            int n = i % 2 == 0 ? f.l1() : f.l2();
            String name = prefix.isEmpty() ? names[i] : prefix + Character.toUpperCase(names[i].charAt(0)) + names[i].substring(1);
            ps[i] = new Parameter(name, CausalMonarch.identity(n, dtype).detach(), Parameter.BUTTERFLY_GROUP, false);
        }
        return ps;
    }

    public static Builder builder() { return new Builder(); }

    /** Builder: {@code features} (H) and {@code length} (kernel taps Lk) are required. */
    public static final class Builder {
        private int channels = LongConvKernel.CHANNELS, features = -1, length = -1, smooth = LongConvKernel.SMOOTH;
        private double lambda = LongConvKernel.LAMBDA, kernelDropout = LongConvKernel.DROPOUT, dropout = DROPOUT;
        private ConvMode mode = ConvMode.CAUSAL;
        private ConvEngine engine = ConvEngine.AUTO;
        private DType dtype = DType.F32;
        private long seed;

        public Builder channels(int c) { channels = c; return this; }
        public Builder features(int h) { features = h; return this; }
        public Builder length(int lk) { length = lk; return this; }
        public Builder lambda(double v) { lambda = v; return this; }
        public Builder kernelDropout(double v) { kernelDropout = v; return this; }
        public Builder smooth(int w) { smooth = w; return this; }
        public Builder dropout(double v) { dropout = v; return this; }
        public Builder mode(ConvMode m) { mode = Objects.requireNonNull(m); return this; }
        public Builder engine(ConvEngine e) { engine = Objects.requireNonNull(e); return this; }
        public Builder dtype(DType t) { dtype = Objects.requireNonNull(t); return this; }
        public Builder seed(long s) { seed = s; return this; }

        public LongConv build() {
            if (features < 1 || length < 1) {
                throw new IllegalArgumentException("LongConv: features (H) and length (Lk) are required, got H=" + features + " Lk=" + length);
            }
            if (engine == ConvEngine.LEARNED_CAUSAL && mode != ConvMode.CAUSAL) {
                throw new IllegalArgumentException("LongConv: the LEARNED_CAUSAL engine is CAUSAL only, got " + mode
                        + " (for bidirectional or circular use LEARNED)");
            }
            return new LongConv(this);
        }
    }

    /** Functional form: {@code conv(u, k)} with k (H, Lk) -> (B, H, L), or (C, H, Lk) -> (B, C, H, L). */
    public static Tensor apply(Tensor u, Tensor k, ConvMode mode) { return ConvOps.conv(u, k, null, mode, ConvEngine.AUTO); }

    /** Functional form with the skip term: {@code conv(u, k) + D * u}, D (C, H). */
    public static Tensor apply(Tensor u, Tensor k, Tensor d, ConvMode mode) { return ConvOps.conv(u, k, d, mode, ConvEngine.AUTO); }

    public LongConvKernel kernel() { return kernel; }
    public Parameter skip() { return d; }
    public ConvMode mode() { return mode; }

    /** The plan this layer uses for inputs of length L in dtype. */
    public ConvPlan planFor(int length, DType dtype) { return engineFor(length, dtype).plan(); }

    private Convolver engineFor(int length, DType dtype) {
        return engines.computeIfAbsent(length + "/" + dtype, key -> {
            Precision p = dtype == DType.F64 ? Precision.F64 : Precision.F32;
            ConvEngine inner = switch (engine) {
                case LEARNED, LEARNED_PACKED -> ConvEngine.FFT;
                case LEARNED_CAUSAL -> ConvEngine.AUTO;
                default -> engine;
            };
            return ConvPlan.of(length, kernel.length(), mode, inner, p).newConvolver();
        });
    }

    /**
     * {@code conv(x, k) + D x} on x's device with this layer's engine. A device input goes straight to the device op: the
     * plan's CPU engine (JTransforms plans, twiddle tables: ~60 ms and their memory at L = 256K) is built only where it
     * computes, or with ConvOps' hostconvolver twin on ({@code -Dlongconv4j.conv.device.hostconvolver=true}).
     */
    private Tensor convolve(Tensor x, Tensor k, Tensor dv) {
        ConvShape s = ConvOps.shapeOf("LongConv.forward", x, k, dv, mode);
        if (!x.device().isCpu() && !ConvOps.deviceHostConvolver()) return ConvOps.convOnDevice(x, k, dv, s);
        return ConvOps.conv(x, k, dv, s, engineFor(x.size(2), x.dtype()));
    }

    /** u (B, H, L) -> (B, H, L). */
    @Override
    public Tensor forward(Tensor u) {
        if (u == null || u.dim() != 3 || u.size(1) != kernel.features()) {
            throw new IllegalArgumentException("LongConv.forward: expected u (B, H=" + kernel.features() + ", L), got "
                    + (u == null ? "null" : Arrays.toString(u.shape())));
        }
        if (u.dtype() != d.value().dtype()) {
            throw new IllegalArgumentException("LongConv.forward: u " + Arrays.toString(u.shape()) + " is " + u.dtype()
                    + " but the layer's parameters are " + d.value().dtype() + " (convert with u.to(...))");
        }
        int bN = u.size(0), hN = u.size(1), l = u.size(2), cN = kernel.channels();
        Tensor k = kernel.kernel();
        Tensor y;
        if (blocks != null) {
            if (l != kernel.length()) {
                throw new IllegalArgumentException("LongConv.forward: a " + engine + " layer is built for L = " + kernel.length() + ", got u "
                        + Arrays.toString(u.shape()));
            }
            Tensor[] bt = new Tensor[blocks.length];                        // LEARNED 4, LEARNED_PACKED 2J
            for (int i = 0; i < blocks.length; i++) bt[i] = blocks[i].value();
            y = engine == ConvEngine.LEARNED_PACKED ? ConvOps.learnedPackedConv(u, k, d.value(), mode, bt)
                    : ConvOps.learnedConv(u, k, d.value(), mode, bt);
        } else if (causalBlocks != null) {
            Tensor[] bt = new Tensor[4];
            for (int i = 0; i < 4; i++) bt[i] = causalBlocks[i].value();
            y = CausalMonarch.convolve("LongConv.forward", u, k, d.value(), mode, bt, x -> convolve(x, k, null));
        } else {
            y = convolve(u, k, d.value());
        }
        y = dropout.forward(act.forward(y.reshape(bN, cN * hN, l)));
        y = GLU.glu(out.forward(y.transpose(1, 2)), -1);     // (B, L, 2H) -> (B, L, H)
        return y.transpose(1, 2);
    }

    @Override
    protected String describe() {
        return "LongConv(H=" + kernel.features() + ", C=" + kernel.channels() + ", Lk=" + kernel.length() + ", " + mode + ", engine=" + engine
                + blocksNote(engine, kernel.length()) + ")";
    }

    /** For a layer's description: the causal Monarch blocks' factors ({@code " (maps 8x8 . 16x16)"}), else "". */
    public static String blocksNote(ConvEngine engine, int length) {
        if (engine != ConvEngine.LEARNED_CAUSAL) return "";
        CausalMonarch.Factors f = CausalMonarch.factor(length);
        return " (maps " + f.l1() + "x" + f.l1() + " . " + f.l2() + "x" + f.l2() + (f.padded() > length ? ", L padded to " + f.padded() : "") + ")";
    }
}
