// Shape legend: x (B, H, L) = (3, 5, 17) values; awkward sizes and a non-zero offset (a slice).
package ai.longconv4j.tensor;

import ai.longconv4j.backend.cpu.CpuContext;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The tight unary loops ({@link UnaryLoops}) against the generic path they replace (the slow twins:
 * {@code Raw.unary} with the function's operator, {@code Primitives.unaryGradSlow}). Both compute the
 * same double expression per element and round once to the tensor's dtype, so they must agree
 * bit for bit; the erf Horner table is compared with its recurrence twin.
 */
class UnaryLoopsTest {
    private static final List<UnaryFn> FNS = List.of(UnaryFn.EXP, UnaryFn.LOG, UnaryFn.TANH, UnaryFn.SIGMOID, UnaryFn.RELU,
            UnaryFn.GELU, UnaryFn.GELU_TANH, UnaryFn.SQRT, UnaryFn.ABS, UnaryFn.NEG,
            UnaryFn.affine("mul", x -> x * 0.37, 0.37), UnaryFn.affine("add", x -> x + 1.25, 1));

    /** Inputs over [-6, 6] (both erf regions, the tails), made positive for log/sqrt. */
    private static Tensor input(UnaryFn fn, DType dt) {
        Tensor x = Tensor.randn(Rng.seeded(7), DType.F64, 3, 5, 19).mul(2.5).to(dt).slice(2, 1, 18);   // offset, non-contiguous
        if (fn == UnaryFn.LOG || fn == UnaryFn.SQRT) x = x.abs().add(1e-3);
        return Raw.contiguous(x.contiguous().slice(0, 1, 3));   // contiguous with a non-zero offset
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void forwardAndGradientMatchTheGenericPathBitForBit(DType dt) {
        for (UnaryFn fn : FNS) {
            Tensor x = input(fn, dt);
            assertTrue(x.offset() > 0 && x.isContiguous());
            assertNotEquals(UnaryLoops.Kind.NONE, UnaryLoops.kind(fn), fn.name());
            Tensor fast = UnaryLoops.forward(fn, x);
            Tensor slow = Raw.unary(fn.name(), x, fn.f());
            assertArrayEquals(slow.toDoubleArray(), fast.toDoubleArray(), 0.0, fn.name() + " forward " + dt);
            if (fn.isAffine()) {
                assertNull(UnaryLoops.backward(fn, x, fast, x), "affine gradients need no pass");
                continue;
            }
            Tensor g = Tensor.randn(Rng.seeded(8), DType.F64, x.shape()).to(dt);
            Tensor dx = UnaryLoops.backward(fn, x, fast, g);
            assertNotNull(dx, fn.name());
            assertArrayEquals(Primitives.unaryGradSlow(fn, x, fast, g).toDoubleArray(), dx.toDoubleArray(), 0.0,
                    fn.name() + " gradient " + dt);
        }
    }

    @Test
    void stridedInputsAndUnknownFunctionsTakeTheGenericPath() {
        Tensor t = Tensor.randn(Rng.seeded(9), DType.F32, 4, 6).transpose(0, 1);
        assertNull(UnaryLoops.forward(UnaryFn.GELU, t));
        assertNull(UnaryLoops.forward(UnaryFn.pow(3), t.contiguous()));
        assertEquals(UnaryLoops.Kind.NONE, UnaryLoops.kind(UnaryFn.maximum(0.5)));
        // and the public op still gives the right values there (negative control of the dispatch)
        assertArrayEquals(Raw.unary("gelu", t, UnaryFn.GELU.f()).toDoubleArray(), t.gelu().toDoubleArray(), 0.0);
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        Tensor x = Tensor.randn(Rng.seeded(10), DType.F32, 64, 1024).requiresGrad(true);   // above the parallel threshold
        double[][] out = new double[2][], grad = new double[2][];
        int i = 0;
        for (int threads : new int[]{1, 3}) {
            final int k = i++;
            CpuContext.withThreads(threads).run(() -> {
                x.zeroGrad();
                Tensor y = x.gelu();
                y.mul(y).sum().backward();
                out[k] = y.toDoubleArray();
                grad[k] = x.grad().toDoubleArray();
            });
        }
        assertArrayEquals(out[0], out[1], 0.0);
        assertArrayEquals(grad[0], grad[1], 0.0);
    }

    @Test
    void erfHornerTableMatchesItsRecurrenceTwin() {
        // same series, evaluated two ways: they differ by rounding only (a few ulps of erf <= 1);
        // a wrong coefficient (e.g. a sign) shows up as >= 1e-12 at d ~ 1/128
        double worst = 0;
        for (int i = -299_000; i <= 299_000; i += 7) {
            double x = i * 1e-5 + 3.1e-9;
            worst = Math.max(worst, Math.abs(UnaryFn.erfTable(x) - UnaryFn.erfHermite(x)));
        }
        assertTrue(worst < 1e-15, "max |erfTable - erfHermite| = " + worst);
    }
}
