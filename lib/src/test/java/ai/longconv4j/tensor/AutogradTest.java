// Shape legend: small vectors; graphs with shared subexpressions.
package ai.longconv4j.tensor;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.*;

/** Graph mechanics: accumulation, shared nodes, retained graphs, noGrad scopes, detach. */
class AutogradTest {

    @Test
    void sharedSubexpressionAccumulates() {
        Tensor x = Tensor.of(new double[]{1, 2}, 2).requiresGrad(true);
        Tensor s = x.mul(x);                 // used twice below
        s.add(s).sum().backward();           // d/dx 2x^2 = 4x
        assertArrayEquals(new double[]{4, 8}, x.grad().toDoubleArray());
        x.mul(3).sum().backward();           // leaf grads accumulate across backward calls
        assertArrayEquals(new double[]{7, 11}, x.grad().toDoubleArray());
    }

    @Test
    void leafGradsAreFreshContiguousTensors() {
        Tensor a = Tensor.ones(DType.F64, 2, 3).requiresGrad(true);
        Tensor b = Tensor.ones(DType.F64, 2, 3).requiresGrad(true);
        a.add(b).sum().backward();     // add passes g to both inputs; sum's g is an expanded view
        assertNotSame(a.grad().storage(), b.grad().storage());
        assertTrue(a.grad().isContiguous());
        try (var _ = Tensor.noGrad()) {
            a.grad().copyFrom(Tensor.zeros(DType.F64, 2, 3));
        }
        assertArrayEquals(new double[]{1, 1, 1, 1, 1, 1}, b.grad().toDoubleArray());
    }

    @Test
    void retainGraphAllowsASecondBackward() {
        Tensor x = Tensor.of(new double[]{3}, 1).requiresGrad(true);
        Tensor y = x.mul(x).sum();
        y.backward(Tensor.ones(DType.F64), true);
        y.backward(Tensor.ones(DType.F64), false);
        assertEquals(12.0, x.grad().item());
        assertThrows(IllegalStateException.class, y::backward);
    }

    @Test
    void noGradScopeIsPerThreadAndNested() throws Exception {
        Tensor x = Tensor.ones(DType.F64, 2).requiresGrad(true);
        assertTrue(Tensor.isGradEnabled());
        try (var _ = Tensor.noGrad()) {
            assertFalse(x.mul(2).requiresGrad());
            try (var _ = Tensor.noGrad()) {
                assertFalse(Tensor.isGradEnabled());
            }
            assertFalse(Tensor.isGradEnabled(), "closing the inner scope keeps the outer one");
            // another thread is not affected
            assertTrue(CompletableFuture.supplyAsync(() -> x.mul(2).requiresGrad()).get());
        }
        assertTrue(Tensor.isGradEnabled());
        assertTrue(x.mul(2).requiresGrad());
    }

    @Test
    void detachCutsTheGraph() {
        Tensor x = Tensor.of(new double[]{2}, 1).requiresGrad(true);
        Tensor y = x.mul(x.detach()).sum();   // d/dx = x (the detached factor is a constant)
        y.backward();
        assertEquals(2.0, x.grad().item());
        assertFalse(x.detach().requiresGrad());
        assertSame(x.storage(), x.detach().storage());
        assertNull(x.detach().gradFn());
    }

    @Test
    void gradientOfF32LeafIsF32() {
        Tensor x = Tensor.ones(DType.F32, 3).requiresGrad(true);
        x.to(DType.F64).mul(2).sum().backward();
        assertEquals(DType.F32, x.grad().dtype());
        assertArrayEquals(new float[]{2, 2, 2}, x.grad().toFloatArray());
    }

    @Test
    void inputsWithoutGradGetNone() {
        Tensor x = Tensor.ones(DType.F64, 2, 2).requiresGrad(true);
        Tensor w = Tensor.ones(DType.F64, 2, 2);
        x.matmul(w).sum().backward();
        assertNull(w.grad());
        assertArrayEquals(new double[]{2, 2, 2, 2}, x.grad().toDoubleArray());
    }
}
