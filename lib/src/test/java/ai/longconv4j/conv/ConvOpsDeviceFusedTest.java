// Shapes: none (a switch).
package ai.longconv4j.conv;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.backend.SpectralConvBackend;
import org.junit.jupiter.api.Test;

/**
 * ConvOps.convOnDevice's fused-path switch without a device: on by default, off with
 * {@code -Dlongconv4j.conv.device.fused=false} (read per call), and a backend without a fused path answers null
 * (SpectralConvBackend's default), so the composition runs.
 */
class ConvOpsDeviceFusedTest {
    @Test
    void theSwitchIsOnByDefaultAndReadAtEachCall() {
        String old = System.getProperty(ConvOps.DEVICE_FUSED);
        try {
            System.clearProperty(ConvOps.DEVICE_FUSED);
            assertTrue(ConvOps.deviceFused());
            System.setProperty(ConvOps.DEVICE_FUSED, "false");
            assertFalse(ConvOps.deviceFused());
            System.setProperty(ConvOps.DEVICE_FUSED, "true");
            assertTrue(ConvOps.deviceFused());
        } finally {
            if (old == null) System.clearProperty(ConvOps.DEVICE_FUSED); else System.setProperty(ConvOps.DEVICE_FUSED, old);
        }
    }

    @Test
    void aBackendWithoutAFusedPathAnswersNull() {
        SpectralConvBackend none = (u, kN, mode, taps) -> { throw new AssertionError("not called"); };
        assertNull(none.spectralConvD(null, null, null, ConvMode.CAUSAL, 1, 0));
    }
}
