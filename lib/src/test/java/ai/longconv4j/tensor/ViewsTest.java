// Shape legend: a (3, 4, 5) tensor holding 0..59, so element [i, j, k] = 20 i + 5 j + k.
package ai.longconv4j.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Views (slice, transpose/permute, expand, reshape) and the copying shape ops, element by element. */
class ViewsTest {
    private final Tensor x = Tensor.arange(60, DType.F64).reshape(3, 4, 5);

    private static double v(int i, int j, int k) { return 20 * i + 5 * j + k; }

    @Test
    void sliceOfTransposeAndTransposeOfSlice() {
        Tensor a = x.transpose(0, 2).slice(0, 1, 4).slice(2, 1, 3);   // [k', j, i'] = x[i'+1, j, k'+1]
        assertArrayEquals(new int[]{3, 4, 2}, a.shape());
        assertSame(x.storage(), a.storage());
        for (int k = 0; k < 3; k++)
            for (int j = 0; j < 4; j++)
                for (int i = 0; i < 2; i++) assertEquals(v(i + 1, j, k + 1), a.get(k, j, i));
        Tensor b = x.slice(1, 1, 3).permute(2, 0, 1).transpose(1, 2);  // [k, j, i] = x[i, j+1, k]
        assertArrayEquals(new int[]{5, 2, 3}, b.shape());
        double[] flat = b.toDoubleArray();
        int p = 0;
        for (int k = 0; k < 5; k++)
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < 3; i++) assertEquals(v(i, j + 1, k), flat[p++]);
    }

    @Test
    void opsOnViewsReadTheRightElements() {
        Tensor s = x.slice(2, 2, 4).transpose(0, 1);                  // (4, 3, 2) = x[i, j, k+2] at [j, i, k]
        Tensor y = s.mul(2).add(s.exp().log());                        // = 3 * s
        double[] flat = y.toDoubleArray();
        int p = 0;
        for (int j = 0; j < 4; j++)
            for (int i = 0; i < 3; i++)
                for (int k = 0; k < 2; k++) assertEquals(3 * v(i, j, k + 2), flat[p++], 1e-9);
        // reductions and reshape of a non-contiguous view
        assertEquals(x.slice(2, 2, 4).sum().item(), s.sum().item(), 0);
        assertArrayEquals(s.toDoubleArray(), s.reshape(-1).toDoubleArray());
        assertNotSame(s.storage(), s.reshape(-1).storage());
    }

    @Test
    void expandIsAStrideZeroView() {
        Tensor row = Tensor.of(new double[]{1, 2, 3}, 1, 3);
        Tensor e = row.expand(4, 3);
        assertSame(row.storage(), e.storage());
        assertEquals(0, e.strides()[0]);
        assertArrayEquals(new double[]{1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3}, e.toDoubleArray());
        assertArrayEquals(new double[]{4, 8, 12}, e.sum(0, false).toDoubleArray());
    }

    @Test
    void concatPadFlip() {
        Tensor a = Tensor.of(new double[]{1, 2, 3, 4}, 2, 2), b = Tensor.of(new double[]{5, 6}, 2, 1);
        assertArrayEquals(new double[]{1, 2, 5, 3, 4, 6}, Tensor.concat(1, a, b).toDoubleArray());
        assertArrayEquals(new double[]{1, 2, 3, 4, 1, 3, 2, 4}, Tensor.concat(0, a, a.transpose(0, 1)).toDoubleArray());
        assertArrayEquals(new double[]{0, 1, 2, 0, 0, 0, 3, 4, 0, 0}, a.pad(1, 1, 2).toDoubleArray());
        assertArrayEquals(new double[]{0, 0, 1, 2, 3, 4}, a.pad(0, 1, 0).toDoubleArray());
        assertArrayEquals(new double[]{2, 1, 4, 3}, a.flip(1).toDoubleArray());
        assertArrayEquals(new double[]{3, 4, 1, 2}, a.flip(0).toDoubleArray());
        assertArrayEquals(new double[]{3, 1, 4, 2}, a.transpose(0, 1).flip(1).toDoubleArray());
        assertArrayEquals(new int[]{0, 2}, a.slice(0, 1, 1).shape());
    }

    @Test
    void embeddingAndWhere() {
        Tensor w = Tensor.arange(8, DType.F32).reshape(4, 2);
        Tensor e = Tensor.embedding(w, new int[]{3, 0, 3}, 1, 3);
        assertArrayEquals(new int[]{1, 3, 2}, e.shape());
        assertArrayEquals(new double[]{6, 7, 0, 1, 6, 7}, e.toDoubleArray());
        Tensor m = Tensor.of(new double[]{1, 0, 1}, 3);
        Tensor r = Tensor.where(m, Tensor.full(5, DType.F64, 2, 3), Tensor.of(new double[]{-1, -2}, 2, 1));
        assertArrayEquals(new double[]{5, -1, 5, 5, -2, 5}, r.toDoubleArray());
    }

    @Test
    void dtypeConversionAndDropout() {
        Tensor a = Tensor.of(new double[]{1.5, 1e-9}, 2);
        assertEquals(DType.F32, a.to(DType.F32).dtype());
        assertArrayEquals(new float[]{1.5f, 1e-9f}, a.to(DType.F32).toFloatArray());
        assertSame(a, a.to(DType.F64));
        assertThrows(UnsupportedOperationException.class, () -> a.to(DType.BF16));
        Tensor ones = Tensor.ones(DType.F64, 10000);
        double[] d = ones.dropout(0.25, Rng.seeded(3), true).toDoubleArray();
        int kept = 0;
        for (double v : d) {
            assertTrue(v == 0 || Math.abs(v - 1 / 0.75) < 1e-12);
            if (v != 0) kept++;
        }
        // binomial(10000, 0.75): sd ~ 43; 5 sd band
        assertTrue(Math.abs(kept - 7500) < 220, "kept " + kept);
        assertArrayEquals(d, ones.dropout(0.25, Rng.seeded(3), true).toDoubleArray());
        assertSame(ones, ones.dropout(0.25, Rng.seeded(3), false));
    }
}
