// Shape legend: B batch, L length, D width, V vocabulary; one LM training step = forward + loss + backward.
package ai.longconv4j.examples;

import ai.longconv4j.backend.cpu.CpuContext;
import ai.longconv4j.backend.cpu.MatmulKernels;
import ai.longconv4j.data.SyntheticTasks;
import ai.longconv4j.data.TaskData;
import ai.longconv4j.models.LongConvLM;
import ai.longconv4j.profile.Profiler;
import ai.longconv4j.tensor.Rng;
import tech.tablesaw.api.Table;

/**
 * Wall time (and, with 1 thread, CPU time) of one training step (forward, loss, backward; no optimizer) of the H3 LongConvLM on
 * associative-recall batches, the median of {@code repeats} steps after {@code warmup}, then one step
 * under the {@link Profiler} (its op table, sorted by time).
 *
 * <pre>
 * java -cp ... ai.longconv4j.examples.StepBench --batch=32 --length=256 --width=64 --threads=2
 * </pre>
 */
public final class StepBench {
    private StepBench() {
    }

    public static void main(String[] args) throws Exception {
        var f = new Flags(args);
        int batch = f.integer("batch", 32), length = f.integer("length", 256), width = f.integer("width", 64);
        int layers = f.integer("layers", 2), vocab = f.integer("vocab", 30);
        int warmup = f.integer("warmup", 3), repeats = f.integer("repeats", 5), rows = f.integer("rows", 25);
        int threads = f.integer("threads", Runtime.getRuntime().availableProcessors());
        String settings = f.done();
        System.out.println("StepBench " + settings + "\nBLAS: " + MatmulKernels.blas().getClass().getSimpleName());
        var lm = LongConvLM.builder().vocab(vocab).width(width).layers(layers).length(length).seed(1).build();
        TaskData d = SyntheticTasks.associativeRecall(vocab, length, batch, Rng.seeded(3));
        Runnable step = () -> {
            lm.zeroGrad();
            lm.loss(d.inputs(), d.targets(), batch, length, TaskData.IGNORE).backward();
        };
        CpuContext ctx = CpuContext.withThreads(threads);
        ctx.run(() -> {
            for (int i = 0; i < warmup; i++) step.run();
            double[] t = new double[repeats], cpu = new double[repeats];
            var mx = java.lang.management.ManagementFactory.getThreadMXBean();
            for (int i = 0; i < repeats; i++) {
                long c0 = mx.getCurrentThreadCpuTime(), t0 = System.nanoTime();
                step.run();
                t[i] = (System.nanoTime() - t0) * 1e-6;
                cpu[i] = (mx.getCurrentThreadCpuTime() - c0) * 1e-6;
            }
            java.util.Arrays.sort(t);
            java.util.Arrays.sort(cpu);
            // with 1 thread all kernels run on this thread, so its CPU time is the step's work (robust to load)
            System.out.printf("step: median %.1f ms wall (min %.1f, max %.1f), median %.1f ms CPU of the calling thread,"
                    + " over %d steps, %d threads%n", t[repeats / 2], t[0], t[repeats - 1], cpu[repeats / 2], repeats, threads);
            Table table;
            try (var p = Profiler.start()) {
                step.run();
                table = p.table();
            }
            System.out.println(table.sortDescendingOn("total_ms").first(rows).printAll());
        });
        ctx.close();
    }
}
