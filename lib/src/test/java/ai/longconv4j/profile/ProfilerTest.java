// Shape legend: matmul (M, K) x (K, N); LM B batch, L length.
package ai.longconv4j.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.models.LongConvLM;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.OpObserver;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.Row;
import tech.tablesaw.api.Table;

class ProfilerTest {
    private static Row row(Table t, String kind, String name) {
        for (Row r : t) {
            if (r.getString("kind").equals(kind) && r.getString("name").equals(name)) {
                return r;
            }
        }
        throw new AssertionError("no row " + kind + "/" + name + " in\n" + t.print());
    }

    @Test
    void matmulFlopsBytesAndCounts() {
        Tensor a = Tensor.randn(Rng.seeded(1), DType.F64, 3, 4);
        Tensor b = Tensor.randn(Rng.seeded(2), DType.F64, 4, 5);
        Table t;
        try (var p = Profiler.start()) {
            a.matmul(b);
            a.matmul(b);
            t = p.table();
        }
        Row r = row(t, "op", "matmul");
        assertEquals(2, r.getInt("calls"));
        assertEquals(2 * (2.0 * 3 * 4 * 5) * 1e-9, r.getDouble("gflop"), 1e-18);
        assertEquals(2 * (12 + 20 + 15) * 8 * 1e-9, r.getDouble("gbytes"), 1e-18);   // read A, B; write C (F64)
        assertNull(OpObserver.current(), "closing must uninstall the hook");
    }

    /** A fake clock that advances 1000 ns per reading makes the attribution exact and checkable. */
    @Test
    void rowsAddUpToWallTimeWithFakeClock() {
        AtomicLong now = new AtomicLong();
        Tensor x = Tensor.ones(DType.F32, 2, 2);
        Profiler p = Profiler.start(() -> now.addAndGet(1000));
        x.add(x);
        Profiler.module("block", () -> x.mul(x).exp());
        p.close();
        Table t = p.table();
        double ops = 0;
        for (Row r : t) {
            if (r.getString("kind").equals("op")) {
                ops += r.getDouble("total_ms");
            }
        }
        assertEquals(p.elapsedNanos() * 1e-6, ops, 1e-12, t.print());
        assertEquals(1, row(t, "module", "block").getInt("calls"));
        assertEquals(1, row(t, "op", "exp").getInt("calls"));
    }

    @Test
    void lmForwardBackwardHasOpsModulesAndConv() {
        var lm = LongConvLM.builder().vocab(7).width(8).layers(2).length(32).seed(1).build();
        int[] ids = new int[2 * 32];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i % 7;
        }
        Table t;
        try (var p = Profiler.start()) {
            lm.loss(ids, ids, 2, 32, -100).backward();
            t = p.table();
        }
        assertTrue(row(t, "op", "matmul").getDouble("tflop_per_s") > 0);
        assertTrue(row(t, "op", "matmul.backward").getInt("calls") > 0);
        boolean conv = false;
        for (Row r : t) {
            conv |= r.getString("name").startsWith("longconv[") && r.getDouble("gflop") > 0;
        }
        assertTrue(conv, t.print());
        assertEquals(1, row(t, "module", "blocks.1").getInt("calls"));
        assertEquals(2, row(t, "module", "blocks.0.mixer.shiftConv").getInt("calls") + row(t, "module", "blocks.1.mixer.shiftConv").getInt("calls"));
        assertTrue(t.columnNames().containsAll(java.util.List.of("kind", "name", "calls", "total_ms", "mean_us", "percent",
                "gflop", "gbytes", "gb_per_s", "tflop_per_s")));
    }

    /** Ops run inside a gradient rule belong to that rule's row, not to their own. */
    @Test
    void backwardRowsIncludeTheOpsTheyRun() {
        Tensor x = Tensor.randn(Rng.seeded(3), DType.F64, 4).requiresGrad(true);
        Tensor y = Tensor.randn(Rng.seeded(4), DType.F64, 4).requiresGrad(true);
        Table t;
        try (var p = Profiler.start()) {
            x.mul(y).sum().backward();          // mul's rule computes g*y and g*x with mul
            t = p.table();
        }
        assertEquals(1, row(t, "op", "mul").getInt("calls"), t.print());
        assertEquals(1, row(t, "op", "mul.backward").getInt("calls"));
        assertEquals(1, row(t, "op", "sum.backward").getInt("calls"));
    }

    @Test
    void noProfilerNoHook() {
        assertNull(OpObserver.current());
        assertNull(Profiler.active());
        Tensor x = Tensor.ones(DType.F32, 2);
        assertEquals(2.0, Profiler.module("m", () -> x.sum()).item());
    }
}
