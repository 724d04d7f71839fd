// Shape legend: not shape-specific; [start, end) is a half-open index range.
package ai.longconv4j.backend.cpu;

/** Body of a parallel loop: processes indices {@code [start, end)}. */
@FunctionalInterface
public interface IntRangeBody {
    void apply(int start, int end);
}
