// Shape legend: B batch, H features, L length (kernel taps Lk = L), N = 2L real FFT size.
package ai.longconv4j.examples.bench;

import ai.longconv4j.backend.cpu.CpuContext;
import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.ConvShape;
import ai.longconv4j.conv.Convolver;
import ai.longconv4j.conv.Precision;
import org.jtransforms.fft.DoubleFFT_1D;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * CPU benchmark of the causal long convolution, B=8, H=64, C=1, Lk=L, F64: FftConv and MonarchConv
 * (forward, forward+backward) next to the three raw JTransforms real FFTs of length 2L per row that any
 * FFT convolution needs (rfft u, rfft k, irfft y), all parallel over the B*H rows on the same CpuContext.
 * Warm-up runs, then the median of timed runs. Usage: {@code ConvBench [--threads T] [L ...]}
 * (default: all cores; 1024 4096 16384).
 * <pre>
 *   java -cp ... ai.longconv4j.examples.bench.ConvBench --threads 2 1024 4096
 * </pre>
 */
public final class ConvBench {
    static final int B = 8, H = 64;

    interface Body { void run(); }

    static double medianMs(Body body, int warmup, int runs) {
        for (int i = 0; i < warmup; i++) body.run();
        double[] t = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            body.run();
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(t);
        return t[runs / 2];
    }

    /** The three FFTs per row an FFT convolution cannot avoid: rfft(u, 2L), rfft(k, 2L), irfft(y, 2L). */
    static void rawFfts(DoubleFFT_1D fft, int n, double[] u, double[] k, int l) {
        CpuContext.current().parallelFor(B * H, 8L * n * 3, (from, to) -> {
            double[] a = new double[n], b = new double[n];
            for (int r = from; r < to; r++) {
                Arrays.fill(a, 0);
                System.arraycopy(u, r * l, a, 0, l);
                fft.realForward(a);
                Arrays.fill(b, 0);
                System.arraycopy(k, (r % H) * l, b, 0, l);
                fft.realForward(b);
                fft.realInverse(a, true);
            }
        });
    }

    public static void main(String[] args) {
        int threads = Runtime.getRuntime().availableProcessors(), from = 0;
        if (args.length >= 2 && args[0].equals("--threads")) {
            threads = Integer.parseInt(args[1]);
            from = 2;
        }
        int[] lengths = args.length == from ? new int[] {1024, 4096, 16384}
                : Arrays.stream(args, from, args.length).mapToInt(Integer::parseInt).toArray();
        try (CpuContext ctx = CpuContext.withThreads(threads)) {
            ctx.run(() -> bench(lengths));
        }
    }

    static void bench(int[] lengths) {
        System.out.printf("ConvBench: B=%d H=%d C=1 causal Lk=L F64, %d threads (%s), JVM %s%n",
                B, H, CpuContext.current().threads(), CpuContext.current(), Runtime.version());
        System.out.println("| L | raw 3 FFTs (ms) | FftConv fwd (ms, x raw) | FftConv fwd+bwd (ms, x raw) | Monarch fwd (ms, x raw) | Monarch fwd+bwd (ms, x raw) | Monarch plan |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (int l : lengths) {
            SplittableRandom rng = new SplittableRandom(l);
            ConvShape s = new ConvShape(B, 1, H, l, l, ConvMode.CAUSAL);
            double[] u = new double[s.uSize()], k = new double[s.kSize()], dy = new double[s.ySize()];
            for (int i = 0; i < u.length; i++) u[i] = rng.nextDouble(-1, 1);
            for (int i = 0; i < k.length; i++) k[i] = rng.nextDouble(-1, 1) * 0.01;
            for (int i = 0; i < dy.length; i++) dy[i] = rng.nextDouble(-1, 1);
            int n = 2 * l;
            DoubleFFT_1D fft = new DoubleFFT_1D(n);
            Convolver fftConv = ConvPlan.of(l, l, ConvMode.CAUSAL, ConvEngine.FFT, Precision.F64).newConvolver();
            Convolver mono = ConvPlan.of(l, l, ConvMode.CAUSAL, ConvEngine.MONARCH, Precision.F64).newConvolver();
            int runs = l >= 16384 ? 5 : 9, monoRuns = l >= 16384 ? 3 : 5;
            double raw = medianMs(() -> rawFfts(fft, n, u, k, l), 3, runs);
            double ff = medianMs(() -> fftConv.forward(s, u, k, null), 3, runs);
            double ffb = medianMs(() -> {
                fftConv.forward(s, u, k, null);
                fftConv.backward(s, u, k, null, dy);
            }, 2, runs);
            double mf = medianMs(() -> mono.forward(s, u, k, null), 1, monoRuns);
            double mfb = medianMs(() -> {
                mono.forward(s, u, k, null);
                mono.backward(s, u, k, null, dy);
            }, 1, monoRuns);
            System.out.printf("| %d | %.1f | %.1f (%.2fx) | %.1f (%.2fx) | %.1f (%.2fx) | %.1f (%.2fx) | %s |%n", l, raw,
                    ff, ff / raw, ffb, ffb / raw, mf, mf / raw, mfb, mfb / raw, mono.plan().factors());
        }
    }
}
