// %device: the CPU this kernel runs on, the GPU status from kernels-cuda, the selected device. No tensor shapes here.
package ai.longconv4j.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What {@code %device} shows and accepts, and the device that {@link Notebook#device()} returns to cells.
 * The selection starts at {@link ai.longconv4j.backend.Devices#best()} (cuda:0 when the CUDA backend can
 * use a GPU here, else the CPU), so one notebook runs on a laptop and on a GPU machine unchanged.
 * <pre>
 * %device            the selected device; CPU model, cores, heap; GPU: Cuda.reason() and each device
 * %device cpu        select the CPU
 * %device gpu        select cuda:0 (an error saying why when it cannot be used; the selection stays)
 * %device cuda:N     select GPU N
 * %device auto       back to the best available device
 * </pre>
 */
final class Devices {
    private static volatile ai.longconv4j.tensor.Device selected;

    private Devices() { }

    /** The device notebook cells should put tensors and models on. */
    static ai.longconv4j.tensor.Device selected() {
        var d = selected;
        if (d == null) selected = d = ai.longconv4j.backend.Devices.best();
        return d;
    }

    /**
     * Selects a device by name (cpu, gpu, cuda, cuda:N, auto) and returns it; an unusable or unknown one
     * throws {@link IllegalArgumentException} with the reason and leaves the selection as it was.
     */
    static ai.longconv4j.tensor.Device select(String name) {
        String n = name.strip().toLowerCase(java.util.Locale.ROOT);
        ai.longconv4j.tensor.Device d;
        if (n.equals("cpu")) d = ai.longconv4j.tensor.Device.CPU;
        else if (n.equals("auto")) d = ai.longconv4j.backend.Devices.best();
        else if (n.equals("gpu") || n.equals("cuda") || n.matches("cuda:\\d{1,3}")) {
            int i = n.contains(":") ? Integer.parseInt(n.substring(n.indexOf(':') + 1)) : 0;
            try {
                d = ai.longconv4j.tensor.Device.cuda(i);
            } catch (RuntimeException | LinkageError e) {
                throw new IllegalArgumentException("cannot use cuda:" + i + ": " + e.getMessage()
                        + " (the selection stays " + selected() + ")");
            }
        } else throw new IllegalArgumentException("expected cpu, gpu, cuda:N or auto, got " + name);
        selected = d;
        return d;
    }

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
        var sb = new StringBuilder("device for Tensor ops: " + selected() + "  (device() in a cell; %device cpu|gpu|cuda:N|auto)\n");
        sb.append("cpu: ").append(cpu()).append('\n');
        List<String> g = gpu();
        sb.append("gpu: ").append(g.getFirst()).append('\n');
        for (String l : g.subList(1, g.size())) sb.append(l).append('\n');
        return sb.toString();
    }
}
