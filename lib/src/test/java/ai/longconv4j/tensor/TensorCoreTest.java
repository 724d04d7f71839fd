// Shape legend: small 2-d and 3-d tensors; (B, M, K) x (B, K, N) for batched matmul.
package ai.longconv4j.tensor;

import org.junit.jupiter.api.Test;

import static ai.longconv4j.testing.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.*;

/** Factories, metadata, data access and the basic ops, against values computed by hand. */
class TensorCoreTest {

    @Test
    void factoriesAndMetadata() {
        Tensor z = Tensor.zeros(DType.F32, 2, 3);
        assertArrayEquals(new int[]{2, 3}, z.shape());
        assertEquals(2, z.dim());
        assertEquals(3, z.size(-1));
        assertEquals(6, z.numel());
        assertEquals(DType.F32, z.dtype());
        assertEquals(Device.CPU, z.device());
        assertArrayEquals(new float[6], z.toFloatArray());
        assertArrayEquals(new double[]{7, 7}, Tensor.full(7, DType.F64, 2).toDoubleArray());
        assertArrayEquals(new double[]{1, 1, 1}, Tensor.ones(DType.F64, 3).toDoubleArray());
        assertArrayEquals(new double[]{0, 1, 2, 3}, Tensor.arange(4, DType.F32).toDoubleArray());
        assertEquals(5.0, Tensor.of(new double[]{1, 5}, 2).get(1));
        assertEquals(3.0, Tensor.scalar(3, DType.F64).item());
        assertArrayEquals(new int[0], Tensor.scalar(3, DType.F64).shape());
        assertArrayEquals(new int[0], Tensor.of(new float[]{4}).shape());   // no shape: a 0-dim scalar
        // same seed, same values; different seed, different values
        assertArrayEquals(Tensor.randn(Rng.seeded(3), DType.F64, 5).toDoubleArray(), Tensor.randn(Rng.seeded(3), DType.F64, 5).toDoubleArray());
        assertFalse(java.util.Arrays.equals(Tensor.rand(Rng.seeded(3), DType.F64, 5).toDoubleArray(), Tensor.rand(Rng.seeded(4), DType.F64, 5).toDoubleArray()));
        for (double v : Tensor.rand(Rng.seeded(1), DType.F32, 100).toDoubleArray()) assertTrue(v >= 0 && v < 1);
    }

    @Test
    void ofCopiesItsInput() {
        double[] d = {1, 2};
        Tensor t = Tensor.of(d, 2);
        d[0] = 9;
        assertEquals(1.0, t.get(0));
    }

    @Test
    void toStringIsShortAndFixed() {
        Tensor t = Tensor.arange(10, DType.F32).reshape(2, 5);
        assertEquals("Tensor(shape=[2, 5], F32, cpu, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, ...])", t.toString());
        assertEquals("Tensor(shape=[2], F64, cpu, requiresGrad, [1.0, 2.0])", Tensor.of(new double[]{1, 2}, 2).requiresGrad(true).toString());
        assertEquals("Tensor(shape=[2, 2], F32, cpu, [0.0, 2.0, 1.0, 3.0])", Tensor.arange(4, DType.F32).reshape(2, 2).transpose(0, 1).toString());
    }

    @Test
    void broadcastingArithmetic() {
        Tensor a = Tensor.of(new double[]{1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = Tensor.of(new double[]{10, 20, 30}, 3);
        Tensor c = Tensor.of(new double[]{100, 200}, 2, 1);
        assertArrayEquals(new double[]{11, 22, 33, 14, 25, 36}, a.add(b).toDoubleArray());
        assertArrayEquals(new double[]{101, 102, 103, 204, 205, 206}, a.add(c).toDoubleArray());
        assertArrayEquals(new double[]{110, 120, 130, 210, 220, 230}, b.add(c).toDoubleArray());
        assertArrayEquals(new double[]{-9, -18, -27, -6, -15, -24}, a.sub(b).toDoubleArray());
        assertArrayEquals(new double[]{10, 40, 90, 40, 100, 180}, a.mul(b).toDoubleArray());
        assertArrayEquals(new double[]{0.01, 0.02, 0.03, 0.02, 0.025, 0.03}, a.div(c).toDoubleArray(), 1e-15);
        assertArrayEquals(new double[]{3, 4, 5, 6, 7, 8}, a.add(2).toDoubleArray());
        assertArrayEquals(new double[]{2, 4, 6, 8, 10, 12}, a.mul(2).toDoubleArray());
        assertArrayEquals(new double[]{0.5, 1, 1.5, 2, 2.5, 3}, a.div(2).toDoubleArray());
        assertArrayEquals(new double[]{-1, 0, 1, 2, 3, 4}, a.sub(2).toDoubleArray());
    }

    @Test
    void reductions() {
        Tensor a = Tensor.of(new double[]{1, 2, 3, 4, 5, 6}, 2, 3);
        assertEquals(21.0, a.sum().item());
        assertEquals(3.5, a.mean().item());
        assertArrayEquals(new double[]{5, 7, 9}, a.sum(0, false).toDoubleArray());
        assertArrayEquals(new int[]{1, 3}, a.sum(0, true).shape());
        assertArrayEquals(new double[]{6, 15}, a.sum(-1, false).toDoubleArray());
        assertArrayEquals(new double[]{2, 5}, a.mean(1, false).toDoubleArray());
        assertArrayEquals(new double[]{3, 6}, a.max(1, false).toDoubleArray());
        assertArrayEquals(new int[]{2, 1}, a.max(1, true).shape());
    }

    @Test
    void matmulSmall() {
        Tensor a = Tensor.of(new double[]{1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = Tensor.of(new double[]{1, 0, 0, 1, 1, 1}, 3, 2);
        assertArrayEquals(new double[]{4, 5, 10, 11}, a.matmul(b).toDoubleArray());
        assertArrayEquals(new double[]{4, 5, 10, 11}, a.to(DType.F32).matmul(b.to(DType.F32)).toDoubleArray());
        // transposed view operand: a^T a
        assertArrayEquals(new double[]{17, 22, 27, 22, 29, 36, 27, 36, 45}, a.transpose(0, 1).matmul(a).toDoubleArray());
    }

    @Test
    void backwardThroughComposition() {
        Tensor x = Tensor.of(new double[]{1, 2, 3}, 3).requiresGrad(true);
        Tensor w = Tensor.of(new double[]{2, 2, 2}, 3).requiresGrad(true);
        Tensor loss = x.mul(w).add(x).sum();       // dL/dx = w + 1, dL/dw = x
        loss.backward();
        assertArrayEquals(new double[]{3, 3, 3}, x.grad().toDoubleArray());
        assertArrayEquals(new double[]{1, 2, 3}, w.grad().toDoubleArray());
        assertEquals("sum", loss.gradFn());
        x.zeroGrad();
        assertNull(x.grad());
    }

    @Test
    void customOpHook() {
        Tensor x = Tensor.of(new double[]{1, 2, 3}, 3).requiresGrad(true);
        Tensor y = Tensor.op("triple", x.detach().mul(3), new Tensor[]{x}, g -> new Tensor[]{g.mul(3)});
        assertTrue(y.requiresGrad());
        assertEquals("triple", y.gradFn());
        y.sum().backward();
        assertArrayEquals(new double[]{3, 3, 3}, x.grad().toDoubleArray());
        // a wrongly shaped gradient from a custom backward is reported with the op's name
        Tensor z = Tensor.op("bad", x.detach().sum(), new Tensor[]{x}, g -> new Tensor[]{g});
        var e = assertThrows(IllegalStateException.class, z::backward);
        assertTrue(e.getMessage().contains("bad"), e.getMessage());
    }

    @Test
    void reshapeAndTransposeViews() {
        Tensor a = Tensor.arange(6, DType.F64);
        Tensor r = a.reshape(2, 3);
        assertSame(a.storage(), r.storage());
        Tensor t = r.transpose(0, 1);
        assertSame(a.storage(), t.storage());
        assertArrayEquals(new int[]{3, 2}, t.shape());
        assertArrayEquals(new double[]{0, 3, 1, 4, 2, 5}, t.toDoubleArray());
        assertArrayEquals(new double[]{0, 3, 1, 4, 2, 5}, t.reshape(-1).toDoubleArray());
        assertClose(t.contiguous(), Tensor.of(new double[]{0, 3, 1, 4, 2, 5}, 3, 2), 0, 0);
    }
}
