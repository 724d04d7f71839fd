// Shapes: u (B, H, L); k (H, Lk) or (H, 2, Lk); D (1, H); y (B, H, L).
package ai.longconv4j.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.backend.SimulatedDeviceBackend;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * ConvOps.conv's device route (session 17): a device tensor goes to convOnDevice without building the plan's CPU engine;
 * {@code -Dlongconv4j.conv.device.hostconvolver=true} (the slow twin) builds it first, as before. On the simulated device
 * (lib's test backend: a direct circular sum) both give the same bits for y and every gradient, the route builds no CPU
 * engine and the twin one, and both agree with the CPU op.
 */
class ConvOpsDeviceRouteTest {
    private static final ai.longconv4j.tensor.Device DEV = SimulatedDeviceBackend.DEVICE;

    /** y and du, dk, dD of sum(y * w) for one route; the CPU engines the call built. */
    private record Run(double[][] values, long built) {}

    private static Run run(Tensor u0, Tensor k0, Tensor d0, ConvMode mode, boolean twin, ai.longconv4j.tensor.Device dev) {
        String old = System.getProperty(ConvOps.DEVICE_HOST_CONVOLVER);
        try {
            if (twin) System.setProperty(ConvOps.DEVICE_HOST_CONVOLVER, "true"); else System.clearProperty(ConvOps.DEVICE_HOST_CONVOLVER);
            Tensor u = u0.to(dev).detach().requiresGrad(true), k = k0.to(dev).detach().requiresGrad(true),
                    d = d0.to(dev).detach().requiresGrad(true);
            long before = ConvOps.HOST_CONVOLVERS.get();
            Tensor y = ConvOps.conv(u, k, d, mode, ConvEngine.AUTO);
            long built = ConvOps.HOST_CONVOLVERS.get() - before;
            Tensor w = Tensor.randn(Rng.seeded(9), u0.dtype(), y.shape()).to(dev);
            y.mul(w).sum().backward();
            return new Run(new double[][] {y.toDoubleArray(), u.grad().toDoubleArray(), k.grad().toDoubleArray(), d.grad().toDoubleArray()},
                    built);
        } finally {
            if (old == null) System.clearProperty(ConvOps.DEVICE_HOST_CONVOLVER); else System.setProperty(ConvOps.DEVICE_HOST_CONVOLVER, old);
        }
    }

    @Test
    void theDeviceRouteBuildsNoHostEngineAndGivesTheTwinsBits() {
        for (DType dt : new DType[] {DType.F64, DType.F32}) {
            for (ConvMode mode : new ConvMode[] {ConvMode.CAUSAL, ConvMode.BIDIRECTIONAL, ConvMode.CIRCULAR}) {
                int b = 2, h = 3, l = 20, lk = mode == ConvMode.CIRCULAR ? 20 : 13;
                Tensor u = Tensor.randn(Rng.seeded(1), dt, b, h, l);
                Tensor k = mode.sides() == 2 ? Tensor.randn(Rng.seeded(2), dt, h, 2, lk) : Tensor.randn(Rng.seeded(2), dt, h, lk);
                Tensor d = Tensor.randn(Rng.seeded(3), dt, 1, h);
                Run route = run(u, k, d, mode, false, DEV), twin = run(u, k, d, mode, true, DEV), cpu = run(u, k, d, mode, false,
                        ai.longconv4j.tensor.Device.CPU);
                String what = dt + " " + mode;
                assertEquals(0, route.built(), what + ": the device route built a CPU engine");
                assertEquals(1, twin.built(), what + ": the twin builds the CPU engine first");
                assertEquals(1, cpu.built(), what + ": the CPU op builds its engine");
                // same device computation after the same checks: identical bits
                for (int i = 0; i < 4; i++) assertArrayEquals(twin.values()[i], route.values()[i], 0.0, what + " value " + i);
                // against the CPU engine (FFT; the simulated device sums directly): round-off of O(Lk) products of O(1)
                // values, ~1e-13 in F64; F32 I/O (24-bit mantissa) with sums of ~20 terms: 1e-4 relative to the largest entry
                double tol = dt == DType.F64 ? 1e-10 : 1e-4;
                for (int i = 0; i < 4; i++) {
                    double[] a = cpu.values()[i], r = route.values()[i];
                    double scale = 0, err = 0;
                    for (int j = 0; j < a.length; j++) { scale = Math.max(scale, Math.abs(a[j])); err = Math.max(err, Math.abs(a[j] - r[j])); }
                    assertTrue(err <= tol * Math.max(1, scale), what + " value " + i + " vs CPU: max err " + err + " scale " + scale);
                }
            }
        }
    }

    @Test
    void theSwitchIsOffByDefaultAndReadAtEachCall() {
        String old = System.getProperty(ConvOps.DEVICE_HOST_CONVOLVER);
        try {
            System.clearProperty(ConvOps.DEVICE_HOST_CONVOLVER);
            assertEquals(false, ConvOps.deviceHostConvolver());
            System.setProperty(ConvOps.DEVICE_HOST_CONVOLVER, "true");
            assertEquals(true, ConvOps.deviceHostConvolver());
        } finally {
            if (old == null) System.clearProperty(ConvOps.DEVICE_HOST_CONVOLVER); else System.setProperty(ConvOps.DEVICE_HOST_CONVOLVER, old);
        }
    }

    @Test
    void badSizesStillFailOnTheDeviceRoute() {
        // the plan is still made on the device route, so its size checks name the engine as before
        Tensor u = Tensor.randn(Rng.seeded(4), DType.F64, 1, 2, 100).to(DEV), k = Tensor.randn(Rng.seeded(5), DType.F64, 2, 100).to(DEV);
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ConvOps.conv(u, k, null, ConvMode.CIRCULAR, ConvEngine.LEARNED));
        assertTrue(e.getMessage().contains("LEARNED"), e.getMessage());
    }
}
