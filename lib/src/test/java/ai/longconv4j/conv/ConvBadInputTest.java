// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps.
package ai.longconv4j.conv;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.*;

/** Bad input gives IllegalArgumentExceptions that name the op and the shapes. */
class ConvBadInputTest {

    private static void fails(Executable ex, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, ex);
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
    }

    @Test
    void lengthZeroAndNonPositiveSizes() {
        fails(() -> new ConvShape(1, 1, 1, 0, 1, ConvMode.CAUSAL), "L=0");
        fails(() -> ConvPlan.of(0, 4, ConvMode.CAUSAL), "L=0");
        fails(() -> new ConvShape(0, 1, 3, 8, 1, ConvMode.CAUSAL), "B=0");
    }

    @Test
    void mismatchedFeaturesAndLengths() {
        ConvShape s = new ConvShape(2, 1, 3, 8, 4, ConvMode.CAUSAL);
        Convolver conv = ConvPlan.of(8, 4, ConvMode.CAUSAL).newConvolver();
        // u built for H = 4 while the kernel has H = 3
        fails(() -> conv.forward(s, new double[2 * 4 * 8], new double[3 * 4], null), "FftConv.forward", "(B, H, L) = (2, 3, 8)", "64");
        fails(() -> conv.forward(s, new double[48], new double[4 * 4], null), "k must hold", "(C, H, Lk) = (1, 3, 4)");
        fails(() -> conv.forward(s, new double[48], new double[12], new double[5]), "D must hold", "(C, H) = (1, 3)");
        fails(() -> conv.backward(s, new double[48], new double[12], null, new double[47]), "dy must hold", "(B, C, H, L) = (2, 1, 3, 8)");
        fails(() -> conv.forward(new ConvShape(2, 1, 3, 9, 4, ConvMode.CAUSAL), new double[54], new double[12], null), "plan is for L=8");
        ConvShape bi = new ConvShape(1, 2, 3, 8, 4, ConvMode.BIDIRECTIONAL);
        fails(() -> DirectConv.forward(bi, new double[24], new double[24], null), "(C, H, 2, Lk) = (2, 3, 2, 4)");
    }

    @Test
    void nonFiniteKernels() {
        ConvShape s = new ConvShape(1, 1, 2, 8, 4, ConvMode.CAUSAL);
        double[] k = new double[8];
        k[5] = Double.NaN;
        fails(() -> ConvPlan.of(8, 4, ConvMode.CAUSAL).newConvolver().forward(s, new double[16], k, null), "non-finite", "index 5");
        k[5] = Double.POSITIVE_INFINITY;
        fails(() -> DirectConv.forward(s, new double[16], k, null), "non-finite");
    }

    @Test
    void modesThatCannotHoldTheLength() {
        fails(() -> ConvPlan.of(100, 10, ConvMode.CIRCULAR, ConvEngine.MONARCH, Precision.F64), "MONARCH", "CIRCULAR", "L=100", "powers of two");
        fails(() -> ConvPlan.of(16, 4, ConvMode.CIRCULAR, ConvEngine.MONARCH, Precision.F64), "32");
        fails(() -> ConvPlan.of(1 << 23, 16, ConvMode.CAUSAL, ConvEngine.MONARCH, Precision.F64), "cannot hold");
        fails(() -> ConvPlan.of(1 << 16, 16, ConvMode.CAUSAL, ConvEngine.LEARNED, Precision.F64), "LEARNED");
        fails(() -> ConvPlan.of(8, 8, ConvMode.CAUSAL, ConvEngine.DIRECT, Precision.F32), "F64");
        fails(() -> new FftConv(ConvPlan.of(64, 8, ConvMode.CAUSAL, ConvEngine.MONARCH, Precision.F64)), "FftConv", "FFT");
    }
}
