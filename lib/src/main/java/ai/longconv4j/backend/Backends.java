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
        static final Map<Device.Kind, java.util.List<Backend>> BY_KIND;
        static final String LOAD_ERRORS;
        static {
            Map<Device.Kind, java.util.List<Backend>> m = new EnumMap<>(Device.Kind.class);
            StringBuilder errors = new StringBuilder();
            var it = ServiceLoader.load(Backend.class, Backends.class.getClassLoader()).iterator();
            for (int attempt = 0; attempt < 64; attempt++) {     // bounded: a broken provider file cannot loop forever
                try {
                    if (!it.hasNext()) break;
                    Backend b = it.next();
                    m.computeIfAbsent(b.kind(), k -> new java.util.ArrayList<>()).add(b);
                } catch (java.util.ServiceConfigurationError | LinkageError e) {   // e.g. the CUDA jar without JCuda
                    errors.append(errors.isEmpty() ? "" : "; ").append(e.getClass().getSimpleName()).append(": ").append(e.getMessage());
                }
            }
            m.replaceAll((k, v) -> java.util.List.copyOf(v));
            BY_KIND = m;
            LOAD_ERRORS = errors.toString();
        }
    }

    /** The first backend serving {@code kind}, if one is on the class path. */
    public static java.util.Optional<Backend> find(Device.Kind kind) {
        var list = Loaded.BY_KIND.get(kind);
        return list == null ? java.util.Optional.empty() : java.util.Optional.of(list.getFirst());
    }

    /**
     * Null when {@code device} can hold tensors, else the reason (no backend jar, no driver, index out of range).
     * With several backends of one kind on the class path (e.g. a test backend beside the CUDA one), the first that
     * can serve the device is used; the reason then lists why each cannot.
     */
    public static String unavailableReason(Device device) {
        if (device.isCpu()) return null;
        StringBuilder why = new StringBuilder();
        return serving(device, why) != null ? null : why.toString();
    }

    /** The backend of a non-CPU device; throws {@link IllegalStateException} saying why it cannot be used. */
    public static Backend forDevice(Device device) {
        StringBuilder why = new StringBuilder();
        Backend b = serving(device, why);
        if (b == null) throw new IllegalStateException(why.toString());
        return b;
    }

    /** The first backend that can serve {@code device} (one pass, asked once each), or null with the reason in {@code why}. */
    private static Backend serving(Device device, StringBuilder why) {
        var list = Loaded.BY_KIND.get(device.kind());
        if (list == null) {
            why.append(device).append(" unavailable: no ").append(device.kind())
                    .append(" backend on the class path (add the longconv4j-kernels-cuda jar)")
                    .append(Loaded.LOAD_ERRORS.isEmpty() ? "" : "; backends that failed to load: " + Loaded.LOAD_ERRORS);
            return null;
        }
        StringBuilder reasons = new StringBuilder();
        for (Backend b : list) {
            String w = b.unavailableReason(device);
            if (w == null) return b;
            reasons.append(reasons.isEmpty() ? "" : "; ").append(w);
        }
        why.append(device).append(" unavailable: ").append(reasons);
        return null;
    }
}
