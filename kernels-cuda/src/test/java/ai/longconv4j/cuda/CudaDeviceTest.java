// Shapes: none (the device of the driver-level GPU tests).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Base of the GPU tests that drive kernels through {@link CudaDevice} directly: device 0 opened before the class's
 * tests (or every test skipped with the reason there is none) and closed after them. Test classes run one at a time,
 * so the one static device is never shared by two classes at once.
 */
abstract class CudaDeviceTest {
  static CudaDevice dev;

  @BeforeAll
  static void openDevice() {
    assumeTrue(Cuda.available(), Cuda.reason());
    dev = CudaDevice.open(0);
  }

  @AfterAll
  static void closeDevice() {
    if (dev != null) dev.close();
    dev = null;
  }
}
