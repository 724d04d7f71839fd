// Shapes: none (kernel argument packs: one 8-byte slot per scalar, int[] structs rounded up to 8 bytes).
package ai.longconv4j.cuda;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * The FFM launch path's argument packing, without a GPU: every params[i] points at argument i's value as the
 * driver reads it (int, long long, float, double, device address, a by-value struct of ints), and bad arguments
 * are refused with the kernel's name. The slow twin is JCuda's per-argument Pointer path (-Dlongconv4j.cuda.launch=jcuda),
 * compared on the GPU through the benchmarks' losses.
 */
class FfmLaunchHostTest {
  static MemorySegment at(MemorySegment params, int i, long bytes) {
    return MemorySegment.ofAddress(params.getAtIndex(JAVA_LONG, i)).reinterpret(bytes);
  }

  @Test
  void everyParameterPointsAtItsValue() {
    var s = new FfmLaunch.Scratch();
    int[] meta = {3, 7, 11, 13, 17};                  // 20 bytes: the next slot starts 24 bytes later
    DevicePointer p = new DevicePointer().at(4096);
    Object[] args = {meta, 42, -5L, 1.5f, Math.PI, p, 9};
    MemorySegment params = FfmLaunch.pack(s, "test_kernel", args);
    for (int i = 0; i < meta.length; i++) assertEquals(meta[i], at(params, 0, 20).getAtIndex(JAVA_INT, i));
    assertEquals(42, at(params, 1, 4).get(JAVA_INT, 0));
    assertEquals(-5L, at(params, 2, 8).get(JAVA_LONG, 0));
    assertEquals(1.5f, at(params, 3, 4).get(JAVA_FLOAT, 0));
    assertEquals(Math.PI, at(params, 4, 8).get(JAVA_DOUBLE, 0));
    assertEquals(4096L, at(params, 5, 8).get(JAVA_LONG, 0));
    assertEquals(9, at(params, 6, 4).get(JAVA_INT, 0));
    long base = params.getAtIndex(JAVA_LONG, 0);
    assertEquals(24, params.getAtIndex(JAVA_LONG, 1) - base, "int[5] takes 24 bytes (8-aligned)");
    for (int i = 0; i < args.length; i++) assertEquals(0, (params.getAtIndex(JAVA_LONG, i) - base) % 8, "slot " + i + " aligned");
    // a second pack reuses the scratch: the values are the new ones
    MemorySegment again = FfmLaunch.pack(s, "test_kernel", new Object[] {7});
    assertEquals(7, at(again, 0, 4).get(JAVA_INT, 0));
  }

  @Test
  void badArgumentsAreRefusedNamingTheKernel() {
    var s = new FfmLaunch.Scratch();
    var e = assertThrows(IllegalArgumentException.class, () -> FfmLaunch.pack(s, "ew_copy_f32_f32", new Object[] {1, "x"}));
    assertTrue(e.getMessage().contains("ew_copy_f32_f32: unsupported kernel argument 1"), e.getMessage());
    var big = assertThrows(IllegalArgumentException.class,
        () -> FfmLaunch.pack(s, "k", new Object[] {new int[FfmLaunch.VALUE_BYTES / 4 + 1]}));
    assertTrue(big.getMessage().contains("exceed"), big.getMessage());
    var many = assertThrows(IllegalArgumentException.class, () -> FfmLaunch.pack(s, "k", new Object[FfmLaunch.MAX_ARGS + 1]));
    assertTrue(many.getMessage().contains("at most " + FfmLaunch.MAX_ARGS), many.getMessage());
  }
}
