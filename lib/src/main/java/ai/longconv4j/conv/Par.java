// Shape legend: n independent rows (B*H rows of length L, or H features).
package ai.longconv4j.conv;

import java.util.stream.IntStream;

/** Splits [0, n) into chunks, runs them in parallel and joins before returning (nothing outlives the call). */
final class Par {
    private Par() {}

    /** A body over a half-open range of rows; each call owns its own scratch buffers. */
    interface Range { void run(int from, int to); }

    static void forRange(int n, Range body) {
        int workers = Runtime.getRuntime().availableProcessors();
        if (n <= 1 || workers <= 1) {
            body.run(0, n);
            return;
        }
        int chunks = Math.min(n, 4 * workers);
        // A parallel stream joins all chunks before forEach returns; an exception in a chunk is rethrown here.
        IntStream.range(0, chunks).parallel().forEach(i -> body.run(
                (int) ((long) i * n / chunks), (int) ((long) (i + 1) * n / chunks)));
    }
}
