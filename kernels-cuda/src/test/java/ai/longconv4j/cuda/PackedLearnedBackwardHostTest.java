// Shapes: none (reads nvcc's resource report of learned_pk_bwd.cu).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * Runs without a GPU: every entry function of learned_pk_bwd.cu (the packed learned backward's kernels,
 * PackedLearnedBackward) was compiled for sm_80 and sm_90a without spilling, and the kernels PackedLearnedBackward
 * launches exist in both images.
 */
class PackedLearnedBackwardHostTest {
  private static final Path REPORT = Path.of("target", "cuda", "learned_pk_bwd.ptxas.txt");
  private static final Pattern ENTRY = Pattern.compile("Compiling entry function '(\\w+)' for '(sm_\\w+)'");
  private static final Pattern SPILL = Pattern.compile("(\\d+) bytes spill stores, (\\d+) bytes spill loads");

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
    assertTrue(spills.size() >= 90, "expected the chain, Gram and helper kernels in both images, got " + spills.size());
    spills.forEach((k, v) -> assertEquals("0/0", v, k + " spills (stores/loads bytes)"));
    for (String io : new String[] {"bf16", "f16"})
      for (String f : new String[] {"32x32", "16x32", "16x16"}) {
        for (String c : new String[] {"f", "a", "fs", "as", "ask"})
          for (String sm : new String[] {"sm_80", "sm_90a"})
            assertTrue(spills.containsKey("lpkb_chain_" + io + "_" + f + "_" + c + "@" + sm), "lpkb_chain_" + io + "_" + f + "_" + c + " " + sm);
        for (String g : new String[] {"x", "d"})
          assertTrue(spills.containsKey("lpkb_gram_b_" + io + "_" + f + "_" + g + "@sm_90a"), "lpkb_gram_b_" + io + "_" + f + "_" + g);
      }
    for (String k : new String[] {"lpkb_adj_blocks", "lpkb_pq_adj", "lpkb_dk_bf16", "lpkb_dk_f16"})
      assertTrue(spills.containsKey(k + "@sm_90a"), k);
  }
}
