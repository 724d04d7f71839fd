// Shape legend: B batch, L length, D model width; M = N/2 = R_1 * .. * R_J packed complex points (J factors).
package ai.longconv4j.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.nn.Parameter;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** H3 with the packed learned butterfly at J = 3 factors (L = 2048 bidirectional: M = 2048 = 8 x 16 x 16). */
class PackedJFactorModelTest {

    @Test
    void h3WithThreeFactorsEqualsTheFftH3AtInitAndTrainsAllTwelveBlocks() {
        int l = 2048;
        var settings = ConvSettings.defaults().withMode(ConvMode.BIDIRECTIONAL).withKernelDropout(0);
        var fft = H3Conv.builder().width(2).length(l).conv(settings.withEngine(ConvEngine.FFT)).dtype(DType.F64).seed(3).build();
        var packed = H3Conv.builder().width(2).length(l).conv(settings.withEngine(ConvEngine.LEARNED_PACKED)).dtype(DType.F64).seed(3).build();
        var names = new TreeSet<String>();
        packed.namedParameters().forEach((n, p) -> { if (p.group().equals(Parameter.BUTTERFLY_GROUP)) names.add(n); });
        var want = new TreeSet<String>();
        for (String c : List.of("shift", "diag"))
            for (String b : List.of("Fa", "Fb", "Fc", "Gc", "Gb", "Ga")) want.add(c + "pk" + b);
        assertEquals(want, names);
        Tensor u = Tensor.randn(Rng.seeded(4), DType.F64, 1, l, 2).detach();
        fft.eval();
        double[] a = fft.forward(u).toDoubleArray();
        // at init the packed engine is the FFT convolution to ~1e-13 (PackedJFactorTest); H3's O(1)-Lipschitz
        // projections and products keep the outputs within 1e-10
        double[] b = packed.forward(u).toDoubleArray();
        double w = 0;
        for (int i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]));
        assertTrue(w <= 1e-10, "H3 at init, packed J = 3 vs FFT: " + w);
        Tensor y = packed.forward(u);
        y.mul(y).mean().backward();
        for (String n : names) {
            Tensor g = packed.namedParameters().get(n).grad();
            assertNotNull(g, n);
            double m = 0;
            for (double v : g.toDoubleArray()) m = Math.max(m, Math.abs(v));
            assertTrue(m > 0, n + " gets a non-zero gradient");
        }
    }
}
