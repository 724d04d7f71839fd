// %device: the CPU this kernel runs on and the GPU status from kernels-cuda. No tensor shapes here.
package ai.longconv4j.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What {@code %device} shows and accepts. Tensor ops run on the CPU: the library has no CUDA backend
 * for {@code Tensor} yet, so {@code %device gpu} says so (with the GPU status) instead of pretending.
 * The CUDA kernels of {@code kernels-cuda} ({@code ai.longconv4j.cuda}) can be called directly.
 * <pre>
 * %device            CPU model, cores, heap; GPU: Cuda.reason() and each device
 * %device cpu        the (only) device for Tensor ops
 * %device gpu        error: Tensor ops on CUDA are not implemented yet
 * </pre>
 */
final class Devices {
    /** The message of {@code %device gpu} (before the GPU status). */
    static final String NO_TENSOR_CUDA = "Tensor ops on CUDA are not implemented yet (the library has no CUDA backend for Tensor); "
            + "tensors stay on the CPU. The CUDA kernels of ai.longconv4j.cuda can be called directly.";

    private Devices() { }

    /** The GPU status: {@code Cuda.reason()} plus one line per device, or why kernels-cuda cannot be asked. */
    static List<String> gpu() {
        var lines = new ArrayList<String>();
        try {
            lines.add(ai.longconv4j.cuda.Cuda.reason());
            for (int i = 0; i < ai.longconv4j.cuda.Cuda.deviceCount(); i++) {
                try (var d = ai.longconv4j.cuda.CudaDevice.open(i)) {
                    lines.add("  " + d);
                } catch (RuntimeException e) {
                    lines.add("  cuda:" + i + ": cannot open: " + e.getMessage());
                }
            }
        } catch (LinkageError e) {   // kernels-cuda or JCuda missing from the class path
            lines.add("no GPU: " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        return lines;
    }

    /** CPU model (from /proc/cpuinfo when readable), cores, OS, JVM and heap. */
    static String cpu() {
        Runtime rt = Runtime.getRuntime();
        return String.format(Locale.ROOT, "%s, %d cores (%s %s), Java %s, heap %.1f GiB max", cpuModel(), rt.availableProcessors(),
                System.getProperty("os.name"), System.getProperty("os.arch"), Runtime.version(), rt.maxMemory() / (double) (1L << 30));
    }

    private static String cpuModel() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) return l.substring(l.indexOf(':') + 1).strip();
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux: the architecture below says enough
        }
        return "CPU";
    }

    /** The full report of {@code %device}. */
    static String report() {
        var sb = new StringBuilder("device for Tensor ops: cpu\n");
        sb.append("cpu: ").append(cpu()).append('\n');
        List<String> g = gpu();
        sb.append("gpu: ").append(g.getFirst()).append('\n');
        for (String l : g.subList(1, g.size())) sb.append(l).append('\n');
        sb.append("note: ").append(NO_TENSOR_CUDA).append('\n');
        return sb.toString();
    }
}
