// Shapes: a middle block's planes (2, 16384) 16-bit values (re then im, plane index order); pq (channels, M) float4
// {P_p, Q_p} as fp32 quadruples; M = 2048, 4096, N1 x 4096 (N1 = 4, 8) or 8192.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Session 30: the inner-only middles' enumerated pair maps (learned_p3_pairs.cuh: p3_pairs2k / 4 / q / 1, what the
 * backward middles {@code lp3g_2kbmid*}, {@code lp3g_qbmid*}, {@code lp3g_q3bmid*} and {@code lp3g_obmid*} run) against
 * their twins (learned_p3.cu's p3_pairmap2k / 4 / q / 1, every plane index with the upper elements skipped), through the
 * check kernel {@code lp3pm_check_<io>} (learned_p3pm.cu: both on shared-memory copies of the same random planes with
 * the same random coefficients). Each element's new value is p3_pair of the same 16-bit values and coefficients in
 * both, so the planes must agree <b>bit for bit</b> (asserted for all 32768 values): a pair left out keeps its old
 * value, a pair done twice or with another row's channel gets other values. The twin must have changed most values
 * (a check kernel that ran neither map would pass the comparison). Cases: batch sizes 64 (a block's rows in one
 * channel), 3 and 5 (channels change inside a block: the reload path), 1; blocks past the last channel (the H - 1
 * clamp of padding rows); N1 = 4 and 8 with both block columns x; bf16 and fp16; fresh random data per case.
 */
@Tag("gpu")
class PackedPairMapGpuTest extends CudaDeviceTest {
  static Stream<Arguments> cases() {
    // variant (0: M = 2048, 1: 4096, 2: N1 x 4096, 3: 8192), h0, B, H, a (c0, or x at variant 2), N1
    Object[][] shapes = {{0, 0, 64, 7, 0, 8}, {0, 2, 3, 7, 8, 8}, {0, 1, 5, 4, 16, 8}, {0, 0, 1, 9, 0, 8}, {0, 3, 3, 5, 24, 8},
        {1, 0, 64, 7, 4, 1}, {1, 1, 3, 6, 8, 1}, {1, 2, 5, 4, 12, 1}, {1, 0, 1, 3, 4, 1},
        {2, 0, 0, 1, 0, 4}, {2, 0, 0, 1, 0, 8}, {2, 0, 0, 1, 1, 8}, {3, 0, 0, 2, 0, 1}};
    return Stream.of(ElementType.BF16, ElementType.F16).flatMap(io -> Stream.of(shapes).map(s -> Arguments.of(io, s[0], s[1], s[2], s[3], s[4], s[5])));
  }

  @ParameterizedTest(name = "{0} variant {1} h0={2} B={3} H={4} a={5} N1={6}")
  @MethodSource("cases")
  void enumeratedPairMapsMatchTheirTwinsBitForBit(ElementType io, int variant, int h0, int B, int H, int a, int n1) {
    var rng = new SplittableRandom(977L * variant + 131L * h0 + 17L * B + 7L * H + 3L * a + n1 + 1000L * io.ordinal());
    int m = switch (variant) { case 0 -> 2048; case 1 -> 4096; case 2 -> n1 * 4096; default -> 8192; };
    int channels = variant == 2 ? 1 : H;
    float[] planes = new float[2 * 16384];
    for (int i = 0; i < planes.length; i++) planes[i] = (float) (2 * rng.nextDouble() - 1);
    float[] pq = new float[4 * channels * m];
    for (int i = 0; i < pq.length; i++) pq[i] = (float) (2 * rng.nextDouble() - 1);
    short[] in = HalfFloats.encode(planes, io);
    String what = io + " variant " + variant + " h0=" + h0 + " B=" + B + " H=" + H + " a=" + a + " N1=" + n1;
    short[] got = new short[2 * 32768];
    try (var din = dev.upload(in); var dpq = dev.upload(pq); var dout = dev.alloc(2L * got.length)) {
      dout.fill32(0x7fff7fff);   // NaN in both 16-bit types: a value neither block wrote fails
      int smem = 2 * 2 * (16384 + 2 * (16384 >> 6));   // two planes of SIDX(16384) 16-bit values (learned_p3.cu's LP3_PAIRS layout)
      dev.module("learned_p3pm").kernel("lp3pm_check_" + io.tag()).launch(dev.stream(), 2, 1, 256, smem,
          variant, din, dout, dpq, h0, B, H, a, n1);
      dev.synchronize();
      dout.copyTo(got, 0);
    }
    int diff = 0, changed = 0;
    for (int i = 0; i < 32768; i++) {
      if (got[i] != got[32768 + i]) diff++;
      if (got[32768 + i] != in[i]) changed++;
    }
    System.out.printf("pairs %s: %d of 32768 values differ from the twin's, the twin changed %d%n", what, diff, changed);
    assertEquals(0, diff, "values of the enumerated pair map differing from its twin's bit for bit, " + what);
    assertTrue(changed > 30000, "the twin changed only " + changed + " of 32768 values, " + what);
  }
}
