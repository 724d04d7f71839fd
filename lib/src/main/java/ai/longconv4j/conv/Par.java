// Shape legend: n independent rows (B*H rows of length L, or H features).
package ai.longconv4j.conv;

import ai.longconv4j.backend.cpu.CpuContext;

/** Runs row loops on the bound {@link CpuContext}, which splits [0, n), runs the chunks and joins them all. */
final class Par {
    private Par() {}

    /** A body over a half-open range of rows; each call owns its own scratch buffers. */
    interface Range { void run(int from, int to); }

    /** {@code cost}: rough element operations per index (small loops run inline on the caller). */
    static void forRange(int n, long cost, Range body) {
        CpuContext.current().parallelFor(n, cost, body::run);
    }
}
