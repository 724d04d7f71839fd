// Shape legend: not shape-specific.
package ai.longconv4j.tensor;

/**
 * Where a tensor's storage lives: {@link #CPU} or {@code cuda(i)}.
 *
 * <pre>{@code
 * jshell> Device.cuda(0)           // on a machine with a GPU and longconv4j-kernels-cuda on the class path
 * $1 ==> cuda:0
 * jshell> Device.cuda(0)           // without: IllegalStateException: cuda:0 unavailable: no GPU: ... libcuda.so.1 ...
 * }</pre>
 * {@code new Device(Kind.CUDA, i)} names a device without checking it; {@link #cuda} checks.
 */
public record Device(Kind kind, int index) {
    public enum Kind { CPU, CUDA }

    public static final Device CPU = new Device(Kind.CPU, 0);

    public Device {
        if (kind == null) throw new IllegalArgumentException("Device: kind is null");
        if (index < 0) throw new IllegalArgumentException("Device: index must be >= 0, got " + index);
        if (kind == Kind.CPU && index != 0) throw new IllegalArgumentException("Device: CPU index must be 0, got " + index);
    }

    /**
     * CUDA device {@code index}, checked: throws {@link IllegalStateException} saying why it cannot be used (no
     * CUDA backend jar, no driver / libcuda, no device {@code index} of n). See {@code Devices.best()}.
     */
    public static Device cuda(int index) {
        Device d = new Device(Kind.CUDA, index);
        String why = ai.longconv4j.backend.Backends.unavailableReason(d);
        if (why != null) throw new IllegalStateException(why);
        return d;
    }

    public boolean isCpu() { return kind == Kind.CPU; }

    @Override
    public String toString() { return kind == Kind.CPU ? "cpu" : "cuda:" + index; }
}
