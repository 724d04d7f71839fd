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
      "fb_conv_dk_f32", "fb_conv_dk_bf16", "fb_conv_dk_f16", "fb_conv_fwd_f32_bf16_w2", "fb_conv_fwd_f32_f16_w2",
      "fb_conv_fwd_bf16_bf16_w2", "fb_conv_fwd_f16_f16_w2", "fb_conv_fwd_f32_bf16_s16_w2", "fb_conv_fwd_f32_f16_s16_w2",
      "fb_conv_fwd_bf16_bf16_s16_w2", "fb_conv_fwd_f16_f16_s16_w2", "fb_conv_fwd_f32_bf16_w3", "fb_conv_fwd_f32_f16_w3",
      "fb_conv_fwd_bf16_bf16_w3", "fb_conv_fwd_f16_f16_w3", "fb_conv_fwd_f32_bf16_s16_w3", "fb_conv_fwd_f32_f16_s16_w3",
      "fb_conv_fwd_bf16_bf16_s16_w3", "fb_conv_fwd_f16_f16_s16_w3", "fb_conv_fwd_f32_bf16_w3b", "fb_conv_fwd_f32_f16_w3b",
      "fb_conv_fwd_bf16_bf16_w3b", "fb_conv_fwd_f16_f16_w3b", "fb_conv_fwd_f32_bf16_s16_w3b", "fb_conv_fwd_f32_f16_s16_w3b",
      "fb_conv_fwd_bf16_bf16_s16_w3b", "fb_conv_fwd_f16_f16_s16_w3b");
  private static final Path REPORT3 = Path.of("target", "cuda", "flashbutterfly3.ptxas.txt");
  private static final List<String> KERNELS3 = List.of("fb3_outer_fwd_f32_f32", "fb3_outer_inv_f32_f32",
      "fb3_outer_fwd_f32_bf16", "fb3_outer_inv_f32_bf16", "fb3_outer_fwd_f32_f16", "fb3_outer_inv_f32_f16",
      "fb3_outer_fwd_bf16_f32", "fb3_outer_inv_bf16_f32", "fb3_outer_fwd_bf16_bf16", "fb3_outer_inv_bf16_bf16",
      "fb3_outer_fwd_f16_f32", "fb3_outer_inv_f16_f32", "fb3_outer_fwd_f16_f16", "fb3_outer_inv_f16_f16",
      "fb3_outer_inv_dk", "fb3_mid_f32", "fb3_mid_bf16", "fb3_mid_f16", "fb3_mid_bf16_s16", "fb3_mid_f16_s16",
      "fb3_mid_bf16_w2", "fb3_mid_f16_w2", "fb3_mid_bf16_s16_w2", "fb3_mid_f16_s16_w2",
      "fb3_rows_f32", "fb3_dk_mid", "fb_dD_f32", "fb_dD_bf16", "fb_dD_f16");
  /**
   * The N1 = 64 outer passes (fb3_outer64_*: 128 data registers per column) and round 8d's tile outer passes
   * (fb3_outer_{fwd,inv}_t_*, N1 <= 16 at most 64 registers) of every (io, scratch) pair.
   */
  private static final List<String> OUTER64 = java.util.stream.Stream.concat(
      java.util.stream.Stream.of("f32_f32", "f32_bf16", "f32_f16", "bf16_f32", "bf16_bf16", "f16_f32", "f16_f16")
          .flatMap(s -> java.util.stream.Stream.of("fb3_outer64_fwd_" + s, "fb3_outer64_inv_" + s, "fb3_outer_fwd_t_" + s,
              "fb3_outer_inv_t_" + s)),
      java.util.stream.Stream.of("fb3_outer64_inv_dk")).toList();
  private static final Path REPORT3B = Path.of("target", "cuda", "flashbutterfly3_bwd.ptxas.txt");
  private static final List<String> KERNELS3B = List.of("fb3b_mid_bf16_s16", "fb3b_mid_f16_s16", "fb3b_mid_bf16",
      "fb3b_mid_f16", "fb3b_mid_bf16_s16_w2", "fb3b_mid_f16_s16_w2", "fb3b_mid_bf16_w2", "fb3b_mid_f16_w2", "fb3b_rows_dk",
      "fb3b_outer2_f32_f32_2", "fb3b_outer2_f32_f32_4", "fb3b_outer2_f32_f32_8", "fb3b_outer2_f32_bf16_8",
      "fb3b_outer2_f32_f16_8", "fb3b_outer2_bf16_f32_8", "fb3b_outer2_bf16_bf16_2", "fb3b_outer2_bf16_bf16_4",
      "fb3b_outer2_bf16_bf16_8", "fb3b_outer2_f16_f32_8", "fb3b_outer2_f16_f16_2", "fb3b_outer2_f16_f16_4",
      "fb3b_outer2_f16_f16_8");
  private static final Path REPORT32 = Path.of("target", "cuda", "flashbutterfly32.ptxas.txt");
  private static final List<String> KERNELS32 = List.of("fb32_fwd_f32_bf16", "fb32_fwd_f32_f16", "fb32_fwd_bf16_bf16",
      "fb32_fwd_f16_f16", "fb32_fwd_f32_bf16_w3", "fb32_fwd_f32_f16_w3", "fb32_fwd_bf16_bf16_w3", "fb32_fwd_f16_f16_w3",
      "fb32_spectrum");
  private static final Path REPORT_2K = Path.of("target", "cuda", "flashbutterfly2k.ptxas.txt");
  private static final List<String> KERNELS_2K = List.of("fbk_fwd_bf16", "fbk_fwd_f16", "fbk_fwd_bf16_ht", "fbk_fwd_f16_ht",
      "fbk_fwd_bf16_hp", "fbk_fwd_f16_hp", "fbk_fwd_bf16_hw", "fbk_fwd_f16_hw",
      "fbk_tables_bf16", "fbk_tables_f16");
  private static final Path REPORT_OG = Path.of("target", "cuda", "flashbutterfly_og.ptxas.txt");
  private static final List<String> KERNELS_OG = java.util.stream.Stream.of("bf16_bf16", "f16_f16", "f32_bf16", "f32_f16")
      .flatMap(s -> java.util.stream.Stream.of("fbog_fwd_" + s + "_r2", "fbog_fwd_" + s + "_r4"))
      .flatMap(k -> java.util.stream.Stream.of(k, k + "_twc")).toList();
  private static final Path REPORT_OGR = Path.of("target", "cuda", "flashbutterfly_ogr.ptxas.txt");
  private static final List<String> KERNELS_OGR = KERNELS_OG.stream().filter(k -> k.endsWith("_twc"))
      .flatMap(k -> java.util.stream.Stream.of(k.replace("_twc", "_ru"), k.replace("_twc", "_rua"),
          k.replace("_twc", "_rul"), k.replace("_twc", "_rup"), k.replace("_twc", "_rus"), k.replace("_twc", "_rut"),
          k.replace("_twc", "_rut4"), k.replace("_twc", "_ruh"), k.replace("_twc", "_ruh4"),
          k.replace("_twc", "_ruhr")))
      .filter(k -> !k.contains("_r4_rus") && !k.contains("_r4_rut") && !k.contains("_r4_ruh")).toList();   // N = 8K (r2) only
  private static final Path REPORT_LB = Path.of("target", "cuda", "learned.ptxas.txt");
  private static final List<String> KERNELS_LB = List.of("lb_forward_f32", "lb_forward_bf16", "lb_forward_f16",
      "lb_backward_f32", "lb_backward_bf16", "lb_backward_f16", "lb_reduce", "lb_spectrum", "lb_taps");
  private static final Path REPORT_PK = Path.of("target", "cuda", "learned_pk.ptxas.txt");
  /**
   * The packed learned forward's kernels that must not spill (session 12, pkgpu): every one except 32x32r2w12 / r2w10
   * (two rows per pair at 12 / 10 warps: 168 registers and an 8-byte spill; selectable, not the default) and, on sm_80
   * only, 16x32r2w12 (12 / 24 bytes there; 0 on sm_90a, checked below).
   */
  private static final List<String> KERNELS_PK = java.util.stream.Stream.of("bf16", "f16")
      .flatMap(t -> java.util.stream.Stream.of("lpk_prep_" + t, "lpk_forward_" + t + "_32x32r1w16", "lpk_forward_" + t + "_16x32r1w16",
          "lpk_forward_" + t + "_16x16r1w16", "lpk_forward_" + t + "_16x16r2w12"))
      .collect(java.util.stream.Collectors.collectingAndThen(java.util.stream.Collectors.toList(), l -> {
        l.add("lpk_pq");
        return List.copyOf(l);
      }));
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

  /** {@link #parse} of a ptxas report file. */
  static Map<String, String> spills(java.nio.file.Path report) throws java.io.IOException {
    return parse(java.nio.file.Files.readString(report));
  }

  /** Every kernel@arch of a parsed report spills nothing ("stores,loads" = "0,0"). */
  static void assertNoSpills(Map<String, String> spills) {
    spills.forEach((k, v) -> assertEquals("0,0", v, k + " spills (stores,loads bytes)"));
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
    noSpills(REPORT, KERNELS);
  }

  /** The three-pass kernels (flashbutterfly3.cu), and no local-memory stack frame in the register-array passes. */
  @Test
  void threePassKernelsDoNotSpill() throws IOException {
    noSpills(REPORT3, KERNELS3);
    noSpills(REPORT3, OUTER64);
    noStackFrames(REPORT3, "a three-pass kernel");
  }

  /** The three-pass tensor-core backward's middle kernels (flashbutterfly3_bwd.cu). */
  @Test
  void threePassBackwardKernelsDoNotSpill() throws IOException {
    noSpills(REPORT3B, KERNELS3B);
  }

  /** The one-pass 64K causal forward (flashbutterfly32.cu), and no local-memory stack frame. */
  @Test
  void onePass64KKernelsDoNotSpill() throws IOException {
    noSpills(REPORT32, KERNELS32);
    noStackFrames(REPORT32, "a flashbutterfly32 kernel");
  }

  /** The causal N = 512 - 2K forward (flashbutterfly2k.cu; its sm_80 code is empty), and no local-memory stack frame. */
  @Test
  void forward2KKernelsDoNotSpill() throws IOException {
    noSpills(REPORT_2K, KERNELS_2K);
    noStackFrames(REPORT_2K, "a flashbutterfly2k kernel");
  }

  /** The 8K / 16K forward with the outer stages from and to global memory (flashbutterfly_og.cu), no stack frame. */
  @Test
  void outerGlobalKernelsDoNotSpill() throws IOException {
    noSpills(REPORT_OG, KERNELS_OG);
    noStackFrames(REPORT_OG, "a flashbutterfly_og kernel");
    noSpills(REPORT_OGR, KERNELS_OGR);   // the _ru variants (flashbutterfly_ogr.cu)
    noStackFrames(REPORT_OGR, "a flashbutterfly_ogr kernel");
  }

  /** The learned-butterfly kernels (learned.cu). */
  @Test
  void learnedKernelsDoNotSpill() throws IOException {
    noSpills(REPORT_LB, KERNELS_LB);
  }

  @Test
  void packedLearnedKernelsDoNotSpill() throws IOException {
    noSpills(REPORT_PK, KERNELS_PK);
    Map<String, String> spills = parse(Files.readString(REPORT_PK));
    for (String t : List.of("bf16", "f16"))   // the N1 = 16 default at 16 x 32: no spill on the Hopper target
      assertEquals("0,0", spills.get("lpk_forward_" + t + "_16x32r2w12@sm_90a"), "lpk_forward_" + t + "_16x32r2w12@sm_90a spills");
  }

  /** Every entry of {@code report} has a 0-byte stack frame: no array of {@code what} lives in local memory. */
  private static void noStackFrames(Path report, String what) throws IOException {
    assumeTrue(Files.exists(report), "no resource report at " + report.toAbsolutePath() + " (built without nvcc)");
    Matcher f = Pattern.compile("(\\d+) bytes stack frame").matcher(Files.readString(report));
    while (f.find()) assertEquals("0", f.group(1), what + " keeps an array in local memory");
  }

  private static void noSpills(Path report, List<String> kernels) throws IOException {
    assumeTrue(Files.exists(report), "no resource report at " + report.toAbsolutePath() + " (built without nvcc)");
    Map<String, String> spills = parse(Files.readString(report));
    for (String k : kernels)
      for (String arch : List.of("sm_80", "sm_90a")) {
        String key = k + "@" + arch;
        assertTrue(spills.containsKey(key), "kernel " + key + " missing from " + report + ": " + spills.keySet());
        assertEquals("0,0", spills.get(key), key + " spills (stores,loads bytes)");
      }
  }

  @Test
  void fatbinsArePackagedWhenNvccRan() {
    assumeTrue(Files.exists(REPORT), "built without nvcc: no fatbins expected");
    for (String m : List.of("flashbutterfly", "flashbutterfly3", "flashbutterfly3_bwd", "flashbutterfly32", "flashbutterfly_og", "flashbutterfly2k", "learned", "fftconv", "directconv", "fill"))
      assertTrue(CudaModule.packaged(m), m + ".fatbin missing from the classpath");
  }
}
