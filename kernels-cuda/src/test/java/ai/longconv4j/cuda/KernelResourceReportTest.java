// Shapes: none (reads nvcc's resource report of the compiled kernels).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Runs without a GPU (CI): the kernels were compiled for sm_80 and sm_90a, and FlashButterfly does not spill. */
class KernelResourceReportTest {
  private static final Path REPORT = Path.of("target", "cuda", "flashbutterfly.ptxas.txt");
  private static final List<String> KERNELS = List.of("fb_spectrum", "fb_spectrum_global", "fb_conv_fwd_f32_f32",
      "fb_conv_fwd_f32_bf16", "fb_conv_fwd_f32_f16", "fb_conv_fwd_bf16_bf16", "fb_conv_fwd_f16_f16",
      "fb_conv_fwd_f32_bf16_s16", "fb_conv_fwd_f32_f16_s16", "fb_conv_fwd_bf16_bf16_s16", "fb_conv_fwd_f16_f16_s16",
      "fb_conv_dk_f32", "fb_conv_dk_bf16", "fb_conv_dk_f16");
  private static final Pattern ENTRY = Pattern.compile("Compiling entry function '(\\w+)' for '(sm_\\w+)'");
  private static final Pattern SPILL = Pattern.compile("(\\d+) bytes spill stores, (\\d+) bytes spill loads");

  /** kernel@arch -> "stores,loads" parsed from ptxas -v output. */
  static Map<String, String> parse(String report) {
    Map<String, String> out = new LinkedHashMap<>();
    String current = null;
    for (String line : report.split("\n")) {
      Matcher e = ENTRY.matcher(line);
      if (e.find()) { current = e.group(1) + "@" + e.group(2); continue; }
      Matcher s = SPILL.matcher(line);
      if (s.find() && current != null) { out.put(current, s.group(1) + "," + s.group(2)); current = null; }
    }
    return out;
  }

  @Test
  void parserReadsSpillLines() {
    String sample = """
        ptxas info    : Compiling entry function 'k1' for 'sm_80'
        ptxas info    : Function properties for k1
            0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
        ptxas info    : Compiling entry function 'k2' for 'sm_90a'
        ptxas info    : Function properties for k2
            16 bytes stack frame, 12 bytes spill stores, 8 bytes spill loads
        """;
    assertEquals(Map.of("k1@sm_80", "0,0", "k2@sm_90a", "12,8"), parse(sample));
  }

  @Test
  void flashButterflyKernelsDoNotSpill() throws IOException {
    assumeTrue(Files.exists(REPORT), "no resource report at " + REPORT.toAbsolutePath() + " (built without nvcc)");
    Map<String, String> spills = parse(Files.readString(REPORT));
    for (String k : KERNELS)
      for (String arch : List.of("sm_80", "sm_90a")) {
        String key = k + "@" + arch;
        assertTrue(spills.containsKey(key), "kernel " + key + " missing from " + REPORT + ": " + spills.keySet());
        assertEquals("0,0", spills.get(key), key + " spills (stores,loads bytes)");
      }
  }

  @Test
  void fatbinsArePackagedWhenNvccRan() {
    assumeTrue(Files.exists(REPORT), "built without nvcc: no fatbins expected");
    for (String m : List.of("flashbutterfly", "fftconv", "directconv", "fill"))
      assertTrue(CudaModule.packaged(m), m + ".fatbin missing from the classpath");
  }
}
