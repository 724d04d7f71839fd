// Shape legend: n = loop length; large tensors (> 32K elements) so the kernels actually split.
package ai.longconv4j.backend.cpu;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.*;

/** parallelFor covers every index once and joins; results are identical with 1 and 2 threads. */
class CpuContextTest {

    @Test
    void contextIsScopedNotGlobal() {
        int def = CpuContext.current().threads();
        assertEquals(Runtime.getRuntime().availableProcessors(), def);
        assertEquals(3, (int) CpuContext.withThreads(3).call(() -> CpuContext.current().threads()));
        assertEquals(def, CpuContext.current().threads());
        assertThrows(IllegalArgumentException.class, () -> CpuContext.withThreads(0));
    }

    @Test
    void parallelForCoversEachIndexOnceAndJoins() {
        try (CpuContext ctx = CpuContext.withThreads(4)) {
            int n = 1_000_003;
            AtomicIntegerArray hits = new AtomicIntegerArray(n);
            AtomicInteger ranges = new AtomicInteger();
            ctx.parallelFor(n, (s, e) -> {
                ranges.incrementAndGet();
                for (int i = s; i < e; i++) hits.incrementAndGet(i);
            });
            // after return every range has run (joined): no index is missing
            for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "index " + i);
            assertTrue(ranges.get() > 1, "expected the loop to be split, got " + ranges.get() + " range(s)");
        }
    }

    @Test
    void failuresPropagateAfterAllRangesFinish() {
        try (CpuContext ctx = CpuContext.withThreads(4)) {
            AtomicInteger finished = new AtomicInteger();
            var e = assertThrows(IllegalStateException.class, () -> ctx.parallelFor(1 << 20, (s, t) -> {
                if (s == 0) throw new IllegalStateException("boom");
                try { Thread.sleep(50); } catch (InterruptedException ie) { Thread.currentThread().interrupt(); }
                finished.incrementAndGet();
            }));
            assertEquals("boom", e.getMessage());
            assertEquals(3, finished.get(), "the other ranges were joined before the exception surfaced");
        }
    }

    @Test
    void oneAndTwoThreadsGiveIdenticalResults() {
        Tensor a = Tensor.randn(Rng.seeded(60), DType.F32, 300, 517);   // 155K elements
        Tensor b = Tensor.randn(Rng.seeded(61), DType.F32, 517);
        Tensor big = Tensor.randn(Rng.seeded(62), DType.F64, 1 << 20);
        java.util.function.Supplier<double[][]> work = () -> new double[][]{
                a.add(b).mul(a).toDoubleArray(),
                a.exp().toDoubleArray(),
                a.transpose(0, 1).contiguous().toDoubleArray(),
                a.sum(0, false).toDoubleArray(),
                a.sum(1, false).toDoubleArray(),
                a.max(1, false).toDoubleArray(),
                {a.sum().item(), big.sum().item(), big.mean().item()},
                a.softmax(1).toDoubleArray(),
        };
        java.util.function.Supplier<double[]> matmul = () -> a.matmul(a.transpose(0, 1).slice(1, 0, 64)).toDoubleArray();
        double[][] one = CpuContext.withThreads(1).call(work::get);
        double[][] two = CpuContext.withThreads(2).call(work::get);
        double[][] three = CpuContext.withThreads(3).call(work::get);
        for (int i = 0; i < one.length; i++) {
            assertArrayEquals(one[i], two[i], 0.0, "result " + i + " differs between 1 and 2 threads");
            assertArrayEquals(one[i], three[i], 0.0, "result " + i + " differs between 1 and 3 threads");
        }
        // matmul uses the same row blocks whatever the thread count, but netlib's VectorBLAS rounds
        // differently before and after the JIT compiles its Vector API code (lane-reduction order), so
        // two calls may differ by a few float ulps: K = 517 terms of size ~1 -> |C| <= ~600, ulp 6e-5
        double[] m1 = CpuContext.withThreads(1).call(matmul::get);
        double[] m2 = CpuContext.withThreads(2).call(matmul::get);
        ai.longconv4j.testing.Assertions2.assertClose(m2, m1, 1e-3, 1e-5, "matmul 1 vs 2 threads");
    }
}
