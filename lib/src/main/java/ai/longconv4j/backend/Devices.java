// Shape legend: not shape-specific.
package ai.longconv4j.backend;

import ai.longconv4j.tensor.Device;

/**
 * The devices tensors can live on here, for notebooks and scripts that should run with or without a GPU.
 * <pre>{@code
 * jshell> var dev = Devices.best()          // cuda:0 where a GPU and the CUDA backend are present, else cpu
 * jshell> var x = Tensor.randn(Rng.seeded(1), DType.F32, 8, 64).to(dev)
 * jshell> Devices.describe()
 * $3 ==> "cuda:0 usable" / "cpu only: cuda:0 unavailable: no GPU: UnsatisfiedLinkError: ..."
 * }</pre>
 */
public final class Devices {
    private Devices() {}

    /** cuda:0 when it is usable, else {@link Device#CPU}. */
    public static Device best() {
        Device gpu = new Device(Device.Kind.CUDA, 0);
        return Backends.unavailableReason(gpu) == null ? gpu : Device.CPU;
    }

    /** Whether tensors can be placed on {@code device}. */
    public static boolean usable(Device device) { return Backends.unavailableReason(device) == null; }

    /** One line: which device {@link #best()} picks and, when it is the CPU, why the GPU is not used. */
    public static String describe() {
        Device gpu = new Device(Device.Kind.CUDA, 0);
        String why = Backends.unavailableReason(gpu);
        return why == null ? gpu + " usable" : "cpu only: " + why;
    }
}
