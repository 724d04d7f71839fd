// Shapes: flat masks of n elements; a device tensor (4, 50, 100) for the dropout statistics.
package ai.longconv4j.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The counter-based dropout mask of device backends: its hash against the JDK's own splitmix64
 * ({@link SplittableRandom} with a seed walks exactly the counters seed + (i + 1) gamma through the same
 * finaliser), its statistics, and device dropout through the SPI (SimulatedDeviceBackend uses the Java twin).
 */
class DropoutMasksTest {
    @Test
    void hashIsSplitMix64AsTheJdkComputesIt() {
        for (long seed : new long[] {0, 1, -1, 42, Long.MIN_VALUE, 0x123456789ABCDEFL}) {
            var r = new SplittableRandom(seed);
            for (int i = 0; i < 1000; i++) assertEquals(r.nextLong(), DropoutMasks.hash(seed, i), "seed " + seed + " i " + i);
            var d = new SplittableRandom(seed);
            for (int i = 0; i < 1000; i++) assertEquals(d.nextDouble(), DropoutMasks.uniform(seed, i), 0, "uniform " + i);
        }
        // negative control: a different seed gives a different stream
        assertTrue(DropoutMasks.hash(1, 0) != new SplittableRandom(2).nextLong());
    }

    @Test
    void maskKeepsAboutOneMinusPAndScales() {
        int n = 200_000;
        for (double p : new double[] {0.1, 0.2, 0.5, 0.9}) {
            var m = DropoutMasks.mask(DType.F64, n, 17, p, 1 / (1 - p));
            int kept = 0;
            for (int i = 0; i < n; i++) {
                double v = m.get(i);
                assertTrue(v == 0 || v == 1 / (1 - p), "value " + v);
                if (v != 0) kept++;
            }
            // binomial: sd = sqrt(n p (1 - p)) <= 224 for n = 2e5; 5 sd of slack
            assertEquals(n * (1 - p), kept, 5 * Math.sqrt(n * p * (1 - p)), "p " + p);
        }
        var f32 = DropoutMasks.mask(DType.F32, 10, 3, 0.3, 1 / 0.7);
        for (int i = 0; i < 10; i++) assertEquals((float) DropoutMasks.value(3, i, 0.3, 1 / 0.7), (float) f32.get(i), 0);
    }

    @Test
    void deviceDropoutIsReproduciblePerSeedAndDiffersAcrossSeeds() {
        Tensor x = Tensor.randn(Rng.seeded(1), DType.F64, 4, 50, 100).to(SimulatedDeviceBackend.DEVICE);
        double[] a = x.dropout(0.2, Rng.seeded(5), true).toDoubleArray();
        double[] b = x.dropout(0.2, Rng.seeded(5), true).toDoubleArray();
        double[] c = x.dropout(0.2, Rng.seeded(6), true).toDoubleArray();
        assertArrayEquals(a, b, 0);
        assertFalse(Arrays.equals(a, c), "another seed drops other elements");
        long dropped = Arrays.stream(a).filter(v -> v == 0).count();
        // 20000 elements, p = 0.2: 4000 expected, sd 57; 5 sd
        assertEquals(4000, dropped, 5 * 57, "dropped");
        // eval mode / p = 0 are the identity on the device too
        assertArrayEquals(x.toDoubleArray(), x.dropout(0.2, Rng.seeded(5), false).toDoubleArray(), 0);
    }
}
