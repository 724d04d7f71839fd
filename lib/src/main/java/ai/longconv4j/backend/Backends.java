// Shape legend: not shape-specific.
package ai.longconv4j.backend;

import ai.longconv4j.tensor.Device;

import java.util.EnumMap;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Finds the {@link Backend} of a device kind through {@link ServiceLoader} (loaded once; immutable
 * afterwards). The CPU has no backend object: {@code ai.longconv4j.tensor} computes it directly.
 * <pre>{@code
 * jshell> Backends.find(Device.Kind.CUDA).isPresent()   // true with longconv4j-kernels-cuda on the class path
 * }</pre>
 */
public final class Backends {
    private Backends() {}

    private static final class Loaded {
        static final Map<Device.Kind, Backend> BY_KIND;
        static final String LOAD_ERRORS;
        static {
            Map<Device.Kind, Backend> m = new EnumMap<>(Device.Kind.class);
            StringBuilder errors = new StringBuilder();
            var it = ServiceLoader.load(Backend.class, Backends.class.getClassLoader()).iterator();
            for (int attempt = 0; attempt < 64; attempt++) {     // bounded: a broken provider file cannot loop forever
                try {
                    if (!it.hasNext()) break;
                    Backend b = it.next();
                    m.putIfAbsent(b.kind(), b);
                } catch (java.util.ServiceConfigurationError | LinkageError e) {   // e.g. the CUDA jar without JCuda
                    errors.append(errors.isEmpty() ? "" : "; ").append(e.getClass().getSimpleName()).append(": ").append(e.getMessage());
                }
            }
            BY_KIND = m;
            LOAD_ERRORS = errors.toString();
        }
    }

    /** The backend serving {@code kind}, if one is on the class path. */
    public static java.util.Optional<Backend> find(Device.Kind kind) {
        return java.util.Optional.ofNullable(Loaded.BY_KIND.get(kind));
    }

    /** Null when {@code device} can hold tensors, else the reason (no backend jar, no driver, index out of range). */
    public static String unavailableReason(Device device) {
        if (device.isCpu()) return null;
        Backend b = Loaded.BY_KIND.get(device.kind());
        if (b == null)
            return device + " unavailable: no " + device.kind() + " backend on the class path (add the longconv4j-kernels-cuda jar)"
                    + (Loaded.LOAD_ERRORS.isEmpty() ? "" : "; backends that failed to load: " + Loaded.LOAD_ERRORS);
        String why = b.unavailableReason(device);
        return why == null ? null : device + " unavailable: " + why;
    }

    /** The backend of a non-CPU device; throws {@link IllegalStateException} saying why it cannot be used. */
    public static Backend forDevice(Device device) {
        String why = unavailableReason(device);
        if (why != null) throw new IllegalStateException(why);
        return Loaded.BY_KIND.get(device.kind());
    }
}
