// Shape legend: L length, Lk kernel taps, N FFT size (real points), M = N/2 complex points of the Monarch FFT.
package ai.longconv4j.conv;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What computes a convolution, chosen once from tables: engine, FFT size, Monarch factorization, passes
 * and precision. Like JTransforms' {@code DoubleFFT_1D(n)}, everything is decided here and nothing is
 * re-decided per call.
 * <ul>
 *   <li>{@code fftSize}: real FFT points (FFT: smallest even 2^a 3^b 5^c >= the mode's minimum; MONARCH:
 *       power of two >= 32; LEARNED: power of two >= 16; LEARNED_PACKED: as MONARCH, up to 2^19 (FlashButterfly's
 *       largest: causal / bidirectional L &lt;= 256K, circular L &lt;= 2^19); CIRCULAR: exactly L,
 *       which must fit the engine).</li>
 *   <li>{@code factors}: block sizes of the complex Monarch FFT (MONARCH: of N/2 points, after the real-input
 *       packing; LEARNED: of N points, two factors; LEARNED_PACKED: of M = N/2 points, FlashButterfly's own
 *       factorization ({@link #packedFactors}: two factors to M = 1024, R1 x 16 x .. x 16 to 32K, then an outer
 *       N1 = M / 8192 times 8192's factors); empty for FFT and DIRECT.</li>
 *   <li>{@code passes}: 1 when the complex FFT fits on chip (<= 2^15 points), else 3 (outer butterfly, N1
 *       independent inner Monarch FFT convolutions, inverse outer butterfly: {@link MonarchConv}'s forward then
 *       runs {@link MonarchFft#convolve}); LEARNED_PACKED: 3 when M > 32K (its outer factor is the first).</li>
 * </ul>
 * <pre>{@code
 * jshell> ConvPlan.of(16384, 16384, ConvMode.CAUSAL, ConvEngine.MONARCH, Precision.F32)
 * $1 ==> ConvPlan[L=16384 Lk=16384 CAUSAL engine=MONARCH N=32768 (real via complex 16384 = 16 x 32 x 32, 1 pass) F32]
 * }</pre>
 */
public record ConvPlan(int length, int kernelLength, ConvMode mode, ConvEngine engine, int fftSize,
                       List<Integer> factors, int passes, Precision precision) {

    /** Complex FFT sizes up to this many points run in one pass (on-chip on an H100/H200: 32K points). */
    public static final int ONE_PASS_MAX = 1 << 15;

    /** Monarch factorization of a complex FFT of 2^i points: row i (2-factor to 2^10, 3-factor to 2^15, then outer x 3). */
    private static final int[][] MONARCH_FACTORS = {
        null, null, null, null,
        {4, 4}, {4, 8}, {8, 8}, {8, 16}, {16, 16}, {16, 32}, {32, 32},                  // 2^4 .. 2^10
        {8, 16, 16}, {16, 16, 16}, {16, 16, 32}, {16, 32, 32}, {32, 32, 32},           // 2^11 .. 2^15
        {2, 32, 32, 32}, {4, 32, 32, 32}, {8, 32, 32, 32}, {16, 32, 32, 32},           // 2^16 .. 2^19 (3 passes)
        {32, 32, 32, 32}, {64, 32, 32, 32}, {128, 32, 32, 32},                         // 2^20 .. 2^22 (3 passes)
    };

    /** Learned-butterfly factorization of an N-point complex FFT (two learnable blocks per direction). */
    private static final int[][] LEARNED_FACTORS = {
        null, null, null, null,
        {4, 4}, {4, 8}, {8, 8}, {8, 16}, {16, 16}, {16, 32}, {32, 32}, {32, 64}, {64, 64}, {64, 128}, {128, 128},
        {128, 256}, {256, 256},                                                        // 2^4 .. 2^16
    };

    /**
     * Factorization of the packed learned butterfly's M-point complex transform, M = 2^i (row i): FlashButterfly's GPU
     * factorization (s14-jspec): two factors to 2^10 (the LEARNED row), then one pass R1 x 16^(J-1) (R1 in {2, 4, 8,
     * 16}) to 2^15, then an outer N1 = M / 8192 times 8192's factors (three passes) to 2^18.
     */
    private static final int[][] PACKED_FACTORS = {
        null, null, null, null,
        {4, 4}, {4, 8}, {8, 8}, {8, 16}, {16, 16}, {16, 32}, {32, 32},                  // 2^4 .. 2^10
        {8, 16, 16}, {16, 16, 16}, {2, 16, 16, 16}, {4, 16, 16, 16}, {8, 16, 16, 16},  // 2^11 .. 2^15 (1 pass)
        {8, 2, 16, 16, 16}, {16, 2, 16, 16, 16}, {32, 2, 16, 16, 16},                  // 2^16 .. 2^18 (3 passes)
    };

    /** How each engine sizes its FFT: smallest admissible size and the largest it supports. */
    private enum Sizing {
        EXACT(1, Integer.MAX_VALUE), FAST_EVEN(1, 1 << 28), POW2_REAL(32, 1 << 23), POW2_COMPLEX(16, 1 << 16),
        /** POW2_REAL's sizes, capped where the packed factor table ends (N/2 <= 2^18, FlashButterfly's MAX_N = 2^19). */
        POW2_PACKED(32, 1 << 19);
        final int min, max;
        Sizing(int min, int max) { this.min = min; this.max = max; }
    }

    private static final Map<ConvEngine, Sizing> SIZING = new EnumMap<>(Map.of(
            ConvEngine.DIRECT, Sizing.EXACT, ConvEngine.FFT, Sizing.FAST_EVEN,
            ConvEngine.MONARCH, Sizing.POW2_REAL, ConvEngine.LEARNED, Sizing.POW2_COMPLEX,
            ConvEngine.LEARNED_PACKED, Sizing.POW2_PACKED));

    /** What AUTO means per precision on the CPU: JTransforms beats dense blocks without tensor cores. */
    private static final Map<Precision, ConvEngine> AUTO = new EnumMap<>(Map.of(
            Precision.F64, ConvEngine.FFT, Precision.F32, ConvEngine.FFT));

    public ConvPlan {
        factors = List.copyOf(factors);
    }

    /** The default plan: AUTO engine, F64. */
    public static ConvPlan of(int length, int kernelLength, ConvMode mode) {
        return of(length, kernelLength, mode, ConvEngine.AUTO, Precision.F64);
    }

    /** Chooses the FFT size, factorization and passes for an engine (AUTO: from the table). */
    public static ConvPlan of(int length, int kernelLength, ConvMode mode, ConvEngine engine, Precision precision) {
        if (mode == null || engine == null || precision == null) {
            throw new IllegalArgumentException("ConvPlan: mode, engine and precision must be non-null");
        }
        if (length < 1 || kernelLength < 1) {
            throw new IllegalArgumentException("ConvPlan: need L >= 1 and Lk >= 1, got L=" + length + " Lk=" + kernelLength);
        }
        if (engine == ConvEngine.LEARNED_CAUSAL) {
            throw new IllegalArgumentException("ConvPlan: LEARNED_CAUSAL is a layer engine (learned causal maps around a convolution,"
                    + " CausalMonarch); plan its inner convolution with AUTO or a concrete engine");
        }
        ConvEngine e = engine == ConvEngine.AUTO ? AUTO.get(precision) : engine;
        if (e == ConvEngine.DIRECT && precision != Precision.F64) {
            throw new IllegalArgumentException("ConvPlan: the DIRECT engine is the F64 slow twin, got " + precision);
        }
        Sizing sz = SIZING.get(e);
        long need = mode.minFftSize(length, kernelLength);
        long n = switch (sz) {
            case EXACT -> length;
            case FAST_EVEN -> mode == ConvMode.CIRCULAR ? length : nextFastEven(need);
            case POW2_REAL, POW2_COMPLEX, POW2_PACKED -> mode == ConvMode.CIRCULAR ? length : Math.max(sz.min, Long.highestOneBit(need * 2 - 1));
        };
        boolean pow2 = sz != Sizing.EXACT && sz != Sizing.FAST_EVEN;
        if (n < sz.min || n > sz.max || (pow2 && Long.bitCount(n) != 1)) {
            throw new IllegalArgumentException("ConvPlan: engine " + e + " cannot hold " + mode + " L=" + length
                    + " Lk=" + kernelLength + ": needs an FFT of " + n + " points, supported: "
                    + (pow2 ? "powers of two " : "") + sz.min + " .. " + sz.max
                    + (mode == ConvMode.CIRCULAR ? " (circular FFT size is exactly L)" : ""));
        }
        int[] f = switch (e) {
            case MONARCH -> monarchFactors((int) n / 2);
            case LEARNED -> LEARNED_FACTORS[Integer.numberOfTrailingZeros((int) n)];
            case LEARNED_PACKED -> packedFactors((int) n / 2);
            default -> new int[0];
        };
        int complexPoints = e == ConvEngine.MONARCH || e == ConvEngine.LEARNED_PACKED ? (int) n / 2 : (int) n;
        int passes = f.length == 0 || complexPoints <= ONE_PASS_MAX ? 1 : 3;
        return new ConvPlan(length, kernelLength, mode, e, (int) n, java.util.Arrays.stream(f).boxed().toList(), passes, precision);
    }

    /** Factors of a power-of-two complex Monarch FFT of n points, 16 <= n <= 2^22 (from the table). */
    public static int[] monarchFactors(int n) {
        int i = Integer.numberOfTrailingZeros(n);
        if (n < 16 || Integer.bitCount(n) != 1 || i >= MONARCH_FACTORS.length) {
            throw new IllegalArgumentException("MonarchFft: N must be a power of two in 16 .. 2^"
                    + (MONARCH_FACTORS.length - 1) + ", got " + n);
        }
        return MONARCH_FACTORS[i].clone();
    }

    /**
     * Factors R_1 .. R_J of the packed learned butterfly's complex transform of m = N/2 points, 16 &lt;= m &lt;= 2^18 a
     * power of two (from the table: {16, 16, 16} at 4096, {8, 2, 16, 16, 16} at 65536).
     */
    public static int[] packedFactors(int m) {
        int i = Integer.numberOfTrailingZeros(m);
        if (m < 16 || Integer.bitCount(m) != 1 || i >= PACKED_FACTORS.length) {
            throw new IllegalArgumentException("ConvPlan: the packed learned butterfly's M = N/2 must be a power of two in 16 .. 2^"
                    + (PACKED_FACTORS.length - 1) + ", got " + m);
        }
        return PACKED_FACTORS[i].clone();
    }

    /** Smallest even 2^a 3^b 5^c >= m. */
    static long nextFastEven(long m) {
        for (long v = Math.max(2, m + (m & 1)); ; v += 2) {
            long r = v;
            for (int p : new int[] {2, 3, 5}) while (r % p == 0) r /= p;
            if (r == 1) return v;
        }
    }

    /**
     * The engine this plan describes (LEARNED / LEARNED_PACKED: blocks at the exact DFT, {@link LearnedButterfly#atInit}
     * / {@link PackedLearnedButterfly#atInit}).
     */
    public Convolver newConvolver() {
        return switch (engine) {
            case DIRECT -> new DirectConv.Engine(this);
            case FFT -> new FftConv(this);
            case MONARCH -> new MonarchConv(this);
            case LEARNED -> LearnedButterfly.atInit(this);
            case LEARNED_PACKED -> PackedLearnedButterfly.atInit(this);
            case AUTO, LEARNED_CAUSAL -> throw new IllegalStateException("ConvPlan: " + engine + " is resolved at construction");
        };
    }

    int[] factorArray() { return factors.stream().mapToInt(Integer::intValue).toArray(); }

    @Override
    public String toString() {
        String how = switch (engine) {
            case FFT -> "JTransforms real";
            case DIRECT -> "direct sum";
            case MONARCH -> "real via complex " + fftSize / 2 + " = " + join() + ", " + passes + (passes == 1 ? " pass" : " passes");
            case LEARNED -> "complex " + fftSize + " = " + join() + ", learned blocks";
            case LEARNED_PACKED -> "real via complex " + fftSize / 2 + " = " + join() + ", learned blocks" + (passes == 1 ? "" : ", " + passes + " passes");
            case AUTO, LEARNED_CAUSAL -> "?";
        };
        return "ConvPlan[L=" + length + " Lk=" + kernelLength + " " + mode + " engine=" + engine + " N=" + fftSize
                + " (" + how + ") " + precision + "]";
    }

    private String join() {
        return String.join(" x ", factors.stream().map(String::valueOf).toList());
    }
}
