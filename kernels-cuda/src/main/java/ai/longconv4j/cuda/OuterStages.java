// Shapes: N FFT size (one-pass plans, N = R1 * 16^J as in monarch.cuh); no tensors here.
package ai.longconv4j.cuda;

/**
 * Which forward kernel family runs the outer stages of a one-pass tensor-core plan with two radix-16 stages per warp
 * ({@link FlashButterflyConv#pairStages(boolean)}): the {@code _w2} kernels (one shared-memory pass per outer stage,
 * the slow twin) or the {@code _w3} kernels (monarch_outer.cuh) with fewer passes: at N = 8K, 16K, 32K the first stage
 * and the stage at S = 256 as one column FFT per warp in registers (one barrier and one shared-memory round trip fewer
 * each way); at N = 512 - 2K the first stage straight from global memory and the inverse first stage straight to
 * global memory with the skip term. N = 16K and 32K take the {@code _w3b} kernels (at most {@value #BIG_MAX_THREADS}
 * threads, 128 registers: the 4- and 8-tile column units spilled at 80). Other N (256, 4K) have nothing to pair.
 */
final class OuterStages {
  // sm_80: the new paths spilled there (4-28 bytes), so plans on devices below sm_90 keep the _w2 kernels (and the _w3
  // entry points, compiled for sm_80 too, run the _w2 code).
  /**
   * Default of {@link FlashButterflyConv#outerStages(boolean)}: on. H200, bench-runs/fwd-1 (B = 64, H = 768, causal,
   * bf16 I/O, _w2 -> _w3/_w3b at the default threads): L = 1K 0.390 (no clock warm-up; fp16 0.348) -> 0.332 ms
   * (0.301 with 2 pairs per block), 4K 1.996 -> 1.378, 8K 4.225 -> 2.799 (2.726 at 128 threads), 16K 10.320 -> 6.164.
   */
  static final boolean DEFAULT = true;
  /** The most threads per block of the {@code _w3b} kernels. */
  static final int BIG_MAX_THREADS = 512;

  private OuterStages() {}

  /** Whether the {@code _w3}/{@code _w3b} kernels pair anything at this one-pass N with this many threads. */
  static boolean applies(int n, int threads) {
    return switch (n) {
      case 512, 1024, 2048, 8192 -> true;
      case 16384, 32768 -> threads <= BIG_MAX_THREADS;
      default -> false;
    };
  }

  /**
   * Batch pairs per block of the {@code _w3} kernels at N = 512 - 2K (flags bits 8-15; each block runs its pairs one
   * after the other, building the twiddle tables once, and its later pairs read the channel's spectrum from L1); 1 at
   * other N. Default {@value #DEFAULT_PER_BLOCK}: H200, bench-runs/fwd-1 (B = 64, H = 768, L = 1K, bf16): 0.332 ms with 1,
   * 0.301 with 2, 0.304 with 4 (at L = 4K, N = 8K, where the kernels now ignore it: 1.378 / 1.373 / 1.390); fwd-2 below.
   */
  static int perBlock(int n, int requested) { return n > 2048 ? 1 : requested > 0 ? requested : DEFAULT_PER_BLOCK; }

  /** bench-runs/fwd-2 (bf16): L = 256 (N = 512) 0.134 / 0.121 / 0.112 ms with 1 / 2 / 4; 1K 0.307 / 0.297 / 0.296. */
  static final int DEFAULT_PER_BLOCK = 4;

  /**
   * Default threads of a one-pass plan: FlashButterflyConv.defaultThreads, except 128 at N = 16K with tensor cores while
   * the _w3b kernels are the default (bench-runs/fwd-1: 2.726 ms vs 2.799 at 256 and 3.487 at 512; _w2 was best at 256).
   */
  static int threads(int n, Precision compute) {
    return DEFAULT && compute != Precision.FP32 && n == 16384 ? 128 : FlashButterflyConv.defaultThreads(n, compute);
  }

  /** IllegalArgumentException unless 0 (the default) <= p <= 255. */
  static int checkPerBlock(int p) {
    if (p < 0 || p > 255) throw new IllegalArgumentException("FlashButterflyConv.pairsPerBlock: need 0..255, got " + p);
    return p;
  }

  /** Kernel-name suffix of a one-pass plan whose pairStages() holds: "_w3", "_w3b" or "_w2". */
  static String suffix(int n, int threads, boolean on) {
    if (!on || !applies(n, threads)) return "_w2";
    return n >= 16384 ? "_w3b" : "_w3";
  }
}
