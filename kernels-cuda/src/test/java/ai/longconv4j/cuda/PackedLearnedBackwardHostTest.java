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

  @Test
  void noSpillsAndEveryLaunchedKernelBuilt() throws IOException {
    assumeTrue(Files.exists(REPORT), "no ptxas report (built without nvcc): " + REPORT.toAbsolutePath());
    Map<String, String> spills = KernelResourceReportTest.spills(REPORT);
    assertTrue(spills.size() >= 90, "expected the chain, Gram and helper kernels in both images, got " + spills.size());
    KernelResourceReportTest.assertNoSpills(spills);
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

  /**
   * pkbwd3's default Gram grids (PackedLearnedBackward.defaultGbPerSm / defaultGramPerSm blocks per SM at 16 x 16 and
   * 16 x 32) are one wave: that many blocks of 256 threads fit an H200 SM (sm_90a) at once by registers (65,536 a SM,
   * allocated per warp in units of 256, i.e. per thread rounded up to 8) and shared memory (228 KB a SM, 1 KB reserved
   * per block; the launches' dynamic sizes as PackedLearnedBackward computes them). A kernel that grew its registers past
   * the grid's count would run a second, partial wave (what the 4 x SMs grid of lpkb_gram_b did before).
   */
  @Test
  void defaultGramGridsAreOneWave() throws IOException {
    Path tc = Path.of("target", "cuda", "learned_tc_bwd.ptxas.txt");
    assumeTrue(Files.exists(REPORT) && Files.exists(tc), "no ptxas reports (built without nvcc)");
    Map<String, Integer> regs = new LinkedHashMap<>();
    Pattern used = Pattern.compile("Used (\\d+) registers");
    for (Path p : new Path[] {REPORT, tc}) {
      String entry = null;
      for (String line : Files.readAllLines(p)) {
        Matcher e = ENTRY.matcher(line), u = used.matcher(line);
        if (e.find()) entry = e.group(1) + "@" + e.group(2);
        else if (u.find() && entry != null) { regs.put(entry, Integer.parseInt(u.group(1))); entry = null; }
      }
    }
    for (String io : new String[] {"bf16", "f16"})
      for (int n2 : new int[] {16, 32}) {
        int n1 = 16, gb = PackedLearnedBackward.defaultGbPerSm(n1, n2), gr = PackedLearnedBackward.defaultGramPerSm(n1, n2);
        String f = n1 + "x" + n2;
        int rps = 8 / (n1 / 16), xsm = 2 * rps * (n1 + 16) * (2 * n2 + 8) * 2;   // lpkb_gram_b's dynamic shared memory
        for (String g : new String[] {"x", "d"}) fits("lpkb_gram_b_" + io + "_" + f + "_" + g, regs, gb, xsm);
        // lbt_gram: form A by grama's default (p at N2 = 32, s at 16), form B two buffers
        String a = n2 == 32 ? "a_asyncp" : "a_asyncs";
        int smA = (n2 == 32 ? 16 : 8) * n1 * (2 * n2 + 8), smB = 8 * n1 * (2 * n2 + 8);
        fits("lbt_gram_" + io + "_" + f + "_" + a, regs, gr, smA);
        fits("lbt_gram_" + io + "_" + f + "_b_asyncs", regs, gr, smB);
      }
  }

  private static void fits(String kernel, Map<String, Integer> regs, int blocks, int smem) {
    Integer r = regs.get(kernel + "@sm_90a");
    assertTrue(r != null, kernel + "@sm_90a not in the ptxas reports");
    int perBlock = (r + 7) / 8 * 8 * 256;
    assertTrue(blocks * perBlock <= 65536, kernel + ": " + blocks + " blocks of 256 threads at " + r + " registers need "
        + blocks * perBlock + " > 65,536 registers an SM");
    assertTrue(blocks * (smem + 1024) <= 228 * 1024, kernel + ": " + blocks + " blocks of " + smem + " B shared memory exceed an SM's");
  }
}
