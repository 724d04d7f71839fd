// Shapes: H channels, L length, Lk taps per side (plan validation only); none for the ptxas report of learned_pk_ref.cu.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Runs without a GPU: {@link PackedLearnedRef#plan}'s refusals (they come before any device use, so a null device shows
 * them), {@link PackedLearnedRef#supports} for routing, and learned_pk_ref.cu's ptxas report (every kernel
 * PackedLearnedRef launches built for sm_80 and sm_90a, none spilling).
 */
class PackedLearnedRefHostTest {
  private static final Path REPORT = Path.of("target", "cuda", "learned_pk_ref.ptxas.txt");
  private static final Pattern ENTRY = Pattern.compile("Compiling entry function '(\\w+)' for '(sm_\\w+)'");
  private static final Pattern SPILL = Pattern.compile("(\\d+) bytes spill stores, (\\d+) bytes spill loads");

  private static String refused(int H, int L, int Lk, ConvMode mode, ElementType io) {
    return assertThrows(IllegalArgumentException.class, () -> PackedLearnedRef.plan(null, H, L, Lk, mode, io)).getMessage();
  }

  @Test
  void planRefusesWhatItCannotHold() {
    String e = refused(4, 5000, 5000, ConvMode.CAUSAL, ElementType.F32);   // N = 16384, M = 8192 = 64 x 128
    assertTrue(e.contains("M=8192 = 64 x 128") && e.contains("M <= 4096"), e);
    e = refused(4, 4097, 4097, ConvMode.BIDIRECTIONAL, ElementType.BF16);
    assertTrue(e.contains("M <= 4096"), e);
    e = refused(4, 16384, 16384, ConvMode.CIRCULAR, ElementType.F16);
    assertTrue(e.contains("M=8192"), e);
    e = refused(4, 100, 100, ConvMode.CIRCULAR, ElementType.F32);           // circular N = L must be a power of two
    assertTrue(e.contains("CIRCULAR L=100") && e.contains("exactly L"), e);
    e = refused(4, 16, 16, ConvMode.CIRCULAR, ElementType.F32);             // N >= 32
    assertTrue(e.contains("CIRCULAR L=16"), e);
    assertTrue(refused(0, 64, 64, ConvMode.CAUSAL, ElementType.F32).contains("H must be in [1, 65535], got 0"));
    assertTrue(refused(65536, 64, 64, ConvMode.CAUSAL, ElementType.F32).contains("got 65536"));
    assertTrue(refused(4, 64, 65, ConvMode.CAUSAL, ElementType.F32).contains("Lk=65, L=64"));
    assertTrue(refused(4, 64, 0, ConvMode.CAUSAL, ElementType.F32).contains("Lk=0"));
    assertTrue(refused(4, 64, 64, null, ElementType.F32).contains("non-null"));
    assertTrue(refused(4, 64, 64, ConvMode.CAUSAL, null).contains("non-null"));
    assertTrue(refused(4, 64, 64, ConvMode.CAUSAL, ElementType.F32).contains("device is null"));   // valid shape: only the device
  }

  @Test
  void supportsEveryModeUpToM4096() {
    for (ElementType io : ElementType.values()) {
      assertTrue(PackedLearnedRef.supports(1, 1, ConvMode.CAUSAL, io));          // N = 32, M = 16
      assertTrue(PackedLearnedRef.supports(4096, 4096, ConvMode.CAUSAL, io));    // M = 4096
      assertFalse(PackedLearnedRef.supports(4097, 4097, ConvMode.CAUSAL, io));
      assertTrue(PackedLearnedRef.supports(1000, 1000, ConvMode.BIDIRECTIONAL, io));
      assertTrue(PackedLearnedRef.supports(256, 256, ConvMode.CIRCULAR, io));
      assertTrue(PackedLearnedRef.supports(8192, 100, ConvMode.CIRCULAR, io));
      assertFalse(PackedLearnedRef.supports(16384, 100, ConvMode.CIRCULAR, io));
      assertFalse(PackedLearnedRef.supports(300, 300, ConvMode.CIRCULAR, io));
    }
    assertEquals(256, PackedLearnedRef.check(3, 256, 256, ConvMode.CIRCULAR, ElementType.F32).fftSize());
  }

  @Test
  void noSpillsAndEveryLaunchedKernelBuilt() throws IOException {
    assumeTrue(Files.exists(REPORT), "no ptxas report (built without nvcc): " + REPORT.toAbsolutePath());
    Map<String, String> spills = new LinkedHashMap<>();
    String entry = null;
    for (String line : Files.readAllLines(REPORT)) {
      Matcher e = ENTRY.matcher(line), s = SPILL.matcher(line);
      if (e.find()) entry = e.group(1) + "@" + e.group(2);
      else if (s.find() && entry != null) { spills.put(entry, s.group(1) + "/" + s.group(2)); entry = null; }
    }
    spills.forEach((k, v) -> assertEquals("0/0", v, k + " spills (stores/loads bytes)"));
    for (String sm : new String[] {"sm_80", "sm_90a"}) {
      for (String io : new String[] {"f32", "bf16", "f16"})
        for (String k : new String[] {"lpr_forward_" + io + "_r1", "lpr_forward_" + io + "_r4", "lpr_backward_" + io + "_r1",
            "lpr_backward_" + io + "_r2"}) assertTrue(spills.containsKey(k + "@" + sm), k + " " + sm);
      for (String k : new String[] {"lpr_pq", "lpr_reduce", "lpr_taps", "lpr_adjoint"}) assertTrue(spills.containsKey(k + "@" + sm), k + " " + sm);
    }
  }
}
