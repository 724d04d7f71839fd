// Shape legend: not shape-specific.
package ai.longconv4j.tensor;

/**
 * Where a tensor's storage lives: {@link #CPU} or {@code cuda(i)}.
 *
 * <pre>{@code
 * jshell> Device.cuda(1)
 * $1 ==> cuda:1
 * }</pre>
 */
public record Device(Kind kind, int index) {
    public enum Kind { CPU, CUDA }

    public static final Device CPU = new Device(Kind.CPU, 0);

    public Device {
        if (kind == null) throw new IllegalArgumentException("Device: kind is null");
        if (index < 0) throw new IllegalArgumentException("Device: index must be >= 0, got " + index);
        if (kind == Kind.CPU && index != 0) throw new IllegalArgumentException("Device: CPU index must be 0, got " + index);
    }

    public static Device cuda(int index) { return new Device(Kind.CUDA, index); }

    public boolean isCpu() { return kind == Kind.CPU; }

    @Override
    public String toString() { return kind == Kind.CPU ? "cpu" : "cuda:" + index; }
}
