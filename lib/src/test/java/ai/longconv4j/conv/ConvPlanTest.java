// Shape legend: L length, Lk kernel taps, N FFT size.
package ai.longconv4j.conv;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ConvPlanTest {

    @Test
    void fftSizesFollowTheModes() {
        assertEquals(2048, ConvPlan.of(1024, 1024, ConvMode.CAUSAL).fftSize());           // 2L - 1 -> 2048
        assertEquals(1350, ConvPlan.of(1000, 301, ConvMode.CAUSAL).fftSize());            // needs 1300 = 2^2 5^2 13 -> 1350 = 2 3^3 5^2
        assertEquals(2048, ConvPlan.of(1024, 1024, ConvMode.BIDIRECTIONAL).fftSize());
        assertEquals(310, ConvPlan.of(310, 7, ConvMode.CIRCULAR).fftSize());
        assertEquals(ConvEngine.FFT, ConvPlan.of(8, 8, ConvMode.CAUSAL).engine());
        assertEquals(2, ConvPlan.of(1, 1, ConvMode.CAUSAL).fftSize());
    }

    @Test
    void fastSizesAreEvenAndSmooth() {
        for (long m = 1; m < 3000; m++) {
            long v = ConvPlan.nextFastEven(m);
            assertTrue(v >= m && v % 2 == 0, "m=" + m + " -> " + v);
            long r = v;
            for (int p : new int[] {2, 3, 5}) while (r % p == 0) r /= p;
            assertEquals(1, r, "m=" + m + " -> " + v + " is not 5-smooth");
            for (long w = Math.max(2, m); w < v; w++) {
                long q = w;
                for (int p : new int[] {2, 3, 5}) while (q % p == 0) q /= p;
                assertFalse(q == 1 && w % 2 == 0, "m=" + m + ": " + w + " is smaller than " + v);
            }
        }
    }

    @Test
    void monarchFactorizationComesFromTheTable() {
        for (int log = 4; log <= 22; log++) {
            int[] f = ConvPlan.monarchFactors(1 << log);
            long p = 1;
            for (int x : f) p *= x;
            assertEquals(1L << log, p, "factors of 2^" + log);
            assertEquals(log <= 10 ? 2 : log <= 15 ? 3 : 4, f.length, "2^" + log);
        }
        ConvPlan p = ConvPlan.of(16384, 16384, ConvMode.CAUSAL, ConvEngine.MONARCH, Precision.F32);
        assertEquals(32768, p.fftSize());
        assertEquals(List.of(16, 32, 32), p.factors());
        assertEquals(1, p.passes());
        assertEquals("ConvPlan[L=16384 Lk=16384 CAUSAL engine=MONARCH N=32768 (real via complex 16384 = 16 x 32 x 32, 1 pass) F32]",
                p.toString());
        ConvPlan big = ConvPlan.of(1 << 16, 1 << 16, ConvMode.CAUSAL, ConvEngine.MONARCH, Precision.F32);
        assertEquals(3, big.passes(), big.toString());
        assertTrue(big.toString().contains("3 passes"), big.toString());
        assertTrue(ConvPlan.of(1000, 300, ConvMode.CAUSAL).toString().contains("engine=FFT N=1350 (JTransforms real) F64"));
    }
}
