// Shape legend: not shape-specific; n = number of loop indices split into chunks.
package ai.longconv4j.backend.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;

/**
 * Thread settings for CPU kernels, held on an object and bound to the current thread with a
 * {@link ScopedValue}. There is no process-global mutable setting: two notebook cells (or two tests)
 * each bind their own context.
 *
 * <pre>{@code
 * jshell> CpuContext.withThreads(2).call(() -> a.matmul(b))   // runs the matmul on 2 threads
 * jshell> CpuContext.current().threads()
 * $2 ==> 16
 * }</pre>
 *
 * <p>{@link #parallelFor} always joins every task it starts (also when one throws). Kernels that
 * reduce use a fixed chunking ({@link #REDUCE_CHUNK}) that does not depend on the thread count, so
 * results are bit-identical with 1 and N threads.
 */
public final class CpuContext implements AutoCloseable {
    /** Work below this many elements runs on the calling thread. */
    public static final int PARALLEL_THRESHOLD = 32 * 1024;
    /** Fixed chunk length for deterministic partial sums (independent of the thread count). */
    public static final int REDUCE_CHUNK = 8192;

    private static final ScopedValue<CpuContext> CURRENT = ScopedValue.newInstance();
    private static final class DefaultHolder {
        static final CpuContext DEFAULT = new CpuContext(Runtime.getRuntime().availableProcessors());
    }

    private final int threads;
    private volatile ForkJoinPool pool;

    private CpuContext(int threads) {
        if (threads < 1) throw new IllegalArgumentException("CpuContext: threads must be >= 1, got " + threads);
        this.threads = threads;
    }

    /** The context bound to this thread, or the default one (all available cores). */
    public static CpuContext current() {
        return CURRENT.isBound() ? CURRENT.get() : DefaultHolder.DEFAULT;
    }

    /** A new context that uses {@code n} threads; bind it with {@link #call} or {@link #run}. */
    public static CpuContext withThreads(int n) {
        return new CpuContext(n);
    }

    public int threads() { return threads; }

    /** Runs {@code body} with this context bound as {@link #current()}. */
    public <T> T call(Callable<T> body) {
        try {
            return ScopedValue.where(CURRENT, this).call(body::call);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    /** Runs {@code body} with this context bound as {@link #current()}. */
    public void run(Runnable body) {
        ScopedValue.where(CURRENT, this).run(body);
    }

    /**
     * Splits {@code [0, n)} into at most {@link #threads()} contiguous ranges, runs them on this
     * context's pool and joins them all. Runs inline when {@code n} is small or one thread is set.
     */
    public void parallelFor(int n, IntRangeBody body) {
        parallelFor(n, 1, body);
    }

    /**
     * Like {@link #parallelFor(int, IntRangeBody)}, with {@code costPerIndex} elements of work per
     * index: runs inline when {@code n * costPerIndex < PARALLEL_THRESHOLD}.
     */
    public void parallelFor(int n, long costPerIndex, IntRangeBody body) {
        if (n <= 0) return;
        long work = (long) n * Math.max(1, costPerIndex);
        int parts = (int) Math.min(threads, Math.min(n, Math.max(1, work / (PARALLEL_THRESHOLD / 2))));
        if (threads == 1 || work < PARALLEL_THRESHOLD || parts <= 1) {
            body.apply(0, n);
            return;
        }
        ForkJoinPool p = pool();
        List<Future<?>> futures = new ArrayList<>(parts);
        int step = n / parts, rem = n % parts, start = 0;
        int firstEnd = -1;
        for (int t = 0; t < parts; t++) {
            int end = start + step + (t < rem ? 1 : 0);
            if (t == 0) firstEnd = end;
            else {
                final int s = start, e = end;
                futures.add(p.submit(() -> body.apply(s, e)));
            }
            start = end;
        }
        Throwable failure = null;
        try {
            body.apply(0, firstEnd);           // the caller does the first range itself
        } catch (Throwable t) {
            failure = t;
        }
        for (Future<?> f : futures) {          // join ALL, even after a failure
            try {
                f.get();
            } catch (ExecutionException e) {
                if (failure == null) failure = e.getCause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) failure = e;
            }
        }
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error er) throw er;
        if (failure != null) throw new RuntimeException(failure);
    }

    private ForkJoinPool pool() {
        ForkJoinPool p = pool;
        if (p == null) {
            synchronized (this) {
                p = pool;
                if (p == null) {
                    p = new ForkJoinPool(threads, pool -> {
                        var w = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                        w.setDaemon(true);
                        w.setName("longconv4j-cpu-" + w.getPoolIndex());
                        return w;
                    }, null, false);
                    pool = p;
                }
            }
        }
        return p;
    }

    /** Shuts this context's pool down (the default context is never closed by callers). */
    @Override
    public void close() {
        ForkJoinPool p = pool;
        if (p != null) p.shutdown();
    }

    @Override
    public String toString() { return "CpuContext(threads=" + threads + ")"; }
}
