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
 * Two warm-up rounds, then interleaved timed rounds; medians of times and of per-round ratios to the raw FFTs. Usage: {@code ConvBench [--threads T] [L ...]}
 * (default: all cores; 1024 4096 16384).
 * <pre>
 *   java -cp ... ai.longconv4j.examples.bench.ConvBench --threads 2 1024 4096
 * </pre>
 */
public final class ConvBench {
    static final int B = 8, H = 64;

    interface Body { void run(); }

    static double median(double[] a) {
        double[] c = a.clone();
        Arrays.sort(c);
        return c.length % 2 == 1 ? c[c.length / 2] : 0.5 * (c[c.length / 2 - 1] + c[c.length / 2]);
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
            Body[] bodies = {
                () -> rawFfts(fft, n, u, k, l),
                () -> fftConv.forward(s, u, k, null),
                () -> {
                    fftConv.forward(s, u, k, null);
                    fftConv.backward(s, u, k, null, dy);
                },
                () -> mono.forward(s, u, k, null),
                () -> {
                    mono.forward(s, u, k, null);
                    mono.backward(s, u, k, null, dy);
                }};
            // Interleaved: each round times all five once, so a burst of load from other processes hits
            // them alike; the ratios are medians of per-round ratios, the times medians of rounds.
            int rounds = l >= 16384 ? 5 : 9;
            for (Body b : bodies) b.run();   // warm-up (JIT, plans, page faults)
            for (Body b : bodies) b.run();
            double[][] t = new double[bodies.length][rounds], ratio = new double[bodies.length][rounds];
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < bodies.length; i++) {
                    long t0 = System.nanoTime();
                    bodies[i].run();
                    t[i][r] = (System.nanoTime() - t0) / 1e6;
                }
                for (int i = 0; i < bodies.length; i++) ratio[i][r] = t[i][r] / t[0][r];
            }
            System.out.printf("| %d | %.1f | %.1f (%.2fx) | %.1f (%.2fx) | %.1f (%.2fx) | %.1f (%.2fx) | %s |%n", l, median(t[0]),
                    median(t[1]), median(ratio[1]), median(t[2]), median(ratio[2]), median(t[3]), median(ratio[3]),
                    median(t[4]), median(ratio[4]), mono.plan().factors());
        }
    }
}
