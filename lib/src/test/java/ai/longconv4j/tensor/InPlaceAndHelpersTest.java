// Shape legend: small 2-d tensors; w (2, 3) stands for a parameter.
package ai.longconv4j.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** copyFrom (the one in-place write), setGrad, unsqueeze/squeeze, argmax. */
class InPlaceAndHelpersTest {

    @Test
    void copyFromWritesThroughViewsAndNeedsNoGradForParameters() {
        Tensor w = Tensor.zeros(DType.F32, 2, 3).requiresGrad(true);
        assertThrows(IllegalStateException.class, () -> w.copyFrom(Tensor.ones(DType.F32, 2, 3)));
        try (var _ = Tensor.noGrad()) {
            w.copyFrom(Tensor.of(new double[]{1, 2, 3}, 3));             // broadcast + F64 -> F32
            w.transpose(0, 1).slice(0, 2, 3).copyFrom(Tensor.of(new double[]{7, 8}, 1, 2));  // column 2
        }
        assertArrayEquals(new float[]{1, 2, 7, 1, 2, 8}, w.toFloatArray());
        assertTrue(w.requiresGrad());
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.F64, 2, 3).copyFrom(Tensor.zeros(DType.F64, 3, 2)));
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.F64, 1, 3).expand(2, 3).copyFrom(Tensor.zeros(DType.F64, 2, 3)));
    }

    @Test
    void sgdStepWithCopyFrom() {
        Tensor w = Tensor.of(new double[]{1, -2}, 2).requiresGrad(true);
        for (int step = 0; step < 200; step++) {
            w.zeroGrad();
            w.mul(w).sum().backward();                 // minimize |w|^2, grad 2w
            try (var _ = Tensor.noGrad()) {
                w.copyFrom(w.sub(w.grad().mul(0.1)));  // w <- 0.8 w
            }
        }
        // 0.8^200 ~ 4e-20
        for (double v : w.toDoubleArray()) assertEquals(0, v, 1e-15);
    }

    @Test
    void setGrad() {
        Tensor w = Tensor.zeros(DType.F64, 2);
        w.setGrad(Tensor.ones(DType.F64, 2));
        assertArrayEquals(new double[]{1, 1}, w.grad().toDoubleArray());
        assertThrows(IllegalArgumentException.class, () -> w.setGrad(Tensor.ones(DType.F32, 2)));
        w.setGrad(null);
        assertNull(w.grad());
    }

    @Test
    void unsqueezeSqueezeArgmax() {
        Tensor x = Tensor.of(new double[]{3, 9, 1, 4, 4, 2}, 2, 3);
        assertArrayEquals(new int[]{2, 1, 3}, x.unsqueeze(1).shape());
        assertArrayEquals(new int[]{2, 3, 1}, x.unsqueeze(-1).shape());
        assertArrayEquals(new int[]{2, 3}, x.unsqueeze(0).squeeze(0).shape());
        assertThrows(IllegalArgumentException.class, () -> x.squeeze(0));
        assertArrayEquals(new double[]{1, 0}, x.argmax(1, false).toDoubleArray());   // first maximum wins
        assertArrayEquals(new double[]{1, 0, 1}, x.argmax(0, false).toDoubleArray());
        assertArrayEquals(new int[]{2, 1}, x.argmax(-1, true).shape());
    }
}
