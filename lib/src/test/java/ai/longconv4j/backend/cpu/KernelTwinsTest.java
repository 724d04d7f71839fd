// Shape legend: (R, C) F32/F64 operands, contiguous or strided (transposed) and broadcast.
package ai.longconv4j.backend.cpu;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static ai.longconv4j.testing.Assertions2.assertClose;

/** Fast paths against their slow twins: the tight arithmetic loops vs the generic get/set loop. */
class KernelTwinsTest {

    private static double[] run(boolean fast, ElementwiseKernels.Arith op, Tensor a, Tensor b) {
        int[] shape = ai.longconv4j.tensor.Shapes.broadcast("twin", a.shape(), b.shape());
        CpuStorage out = CpuStorage.allocate(a.dtype(), ai.longconv4j.tensor.Shapes.numel(shape));
        int[] sa = ai.longconv4j.tensor.Shapes.broadcastStrides(a.shape(), a.strides(), shape);
        int[] sb = ai.longconv4j.tensor.Shapes.broadcastStrides(b.shape(), b.strides(), shape);
        CpuContext ctx = CpuContext.withThreads(2);
        if (fast) ElementwiseKernels.binary(ctx, shape, op, op.fn, (CpuStorage) a.storage(), sa, a.offset(), (CpuStorage) b.storage(), sb, b.offset(), out);
        else ElementwiseKernels.binarySlow(ctx, shape, op.fn, (CpuStorage) a.storage(), sa, a.offset(), (CpuStorage) b.storage(), sb, b.offset(), out);
        double[] r = new double[out.length()];
        for (int i = 0; i < r.length; i++) r[i] = out.get(i);
        return r;
    }

    @Test
    void arithmeticFastPathEqualsGenericLoop() {
        for (DType t : new DType[]{DType.F32, DType.F64}) {
            Tensor a = Tensor.randn(Rng.seeded(70), t, 257, 131), b = Tensor.randn(Rng.seeded(71), t, 257, 131).add(3);
            Tensor row = Tensor.randn(Rng.seeded(72), t, 131);
            Tensor at = Tensor.randn(Rng.seeded(73), t, 131, 257).transpose(0, 1);
            for (ElementwiseKernels.Arith op : ElementwiseKernels.Arith.values()) {
                // the slow loop computes in double and rounds to float; for + - * / of floats that equals the
                // float result exactly (double has more than 2 * 24 + 2 mantissa bits), so tolerance 0
                assertClose(run(true, op, a, b), run(false, op, a, b), 0, 0, op + " contiguous " + t);
                assertClose(run(true, op, a, row), run(false, op, a, row), 0, 0, op + " broadcast " + t);
                assertClose(run(true, op, at, b), run(false, op, at, b), 0, 0, op + " strided " + t);
                Tensor perRow = Tensor.randn(Rng.seeded(75), t, 257, 1).add(3);     // stride 0 along the row
                assertClose(run(true, op, a, perRow), run(false, op, a, perRow), 0, 0, op + " per-row scalar " + t);
                assertClose(run(true, op, perRow, at), run(false, op, perRow, at), 0, 0, op + " scalar-first strided " + t);
                assertClose(run(true, op, perRow, a), run(false, op, perRow, a), 0, 0, op + " scalar-first contiguous " + t);
            }
        }
    }

    @Test
    void stridedCopyEqualsIndexFormula() {
        Tensor x = Tensor.randn(Rng.seeded(74), DType.F32, 5, 7, 9).permute(2, 0, 1).slice(1, 1, 4);
        double[] c = x.toDoubleArray();
        int p = 0;
        for (int i = 0; i < 9; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 7; k++) assertClose(new double[]{c[p++]}, new double[]{x.get(i, j, k)}, 0, 0);
    }
}
