// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps, N real FFT size.
package ai.longconv4j.conv;

import ai.longconv4j.tensor.Tensor;
import org.jtransforms.fft.DoubleFFT_1D;
import org.jtransforms.fft.FloatFFT_1D;

/**
 * FFT convolution through JTransforms real FFTs — the CPU reference engine. N is the plan's FFT size
 * (causal: the smallest even 2^a 3^b 5^c at least L + Lk - 1; bidirectional: at least L + Lk; circular: L).
 * Spectra use JTransforms' packed real layout (N even: {@code a[2k] = Re X_k, a[2k+1] = Im X_k} for
 * {@code 0 < k < N/2}, {@code a[0] = Re X_0}, {@code a[1] = Re X_{N/2}}; N odd: {@code a[1] = Im X_{(N-1)/2}},
 * {@code a[N-1] = Re X_{(N-1)/2}}). Forward and backward are in {@link SpectralConv}. F32 plans run
 * JTransforms' {@code FloatFFT_1D} (float arithmetic, spectra products rounded to float); F64 plans
 * {@code DoubleFFT_1D}.
 * <pre>{@code
 * jshell> var conv = new FftConv(ConvPlan.of(1000, 300, ConvMode.CAUSAL, ConvEngine.FFT, Precision.F64))
 * jshell> conv.plan()
 * $2 ==> ConvPlan[L=1000 Lk=300 CAUSAL engine=FFT N=1350 (JTransforms real) F64]
 * }</pre>
 */
public final class FftConv extends SpectralConv {

    public FftConv(ConvPlan plan) {
        super("FftConv", requireFft(plan), new JTransformsReal(plan.fftSize(), plan.precision()));
    }

    /** Functional form on tensors (FFT engine): see {@link ConvOps#conv}; k (H, Lk) -> (B, H, L). */
    public static Tensor apply(Tensor u, Tensor k, ConvMode mode) { return ConvOps.conv(u, k, null, mode, ConvEngine.FFT); }

    private static ConvPlan requireFft(ConvPlan plan) {
        if (plan.engine() != ConvEngine.FFT) {
            throw new IllegalArgumentException("FftConv: needs a plan with engine FFT, got " + plan);
        }
        return plan;
    }

    /** JTransforms' packed real FFT (double in place; float through a per-thread float buffer). */
    static final class JTransformsReal implements RealTransform {
        private final int n;
        private final DoubleFFT_1D fft;
        private final FloatFFT_1D fft32;

        JTransformsReal(int n) { this(n, Precision.F64); }

        JTransformsReal(int n, Precision precision) {
            this.n = n;
            this.fft = precision == Precision.F64 ? new DoubleFFT_1D(n) : null;
            this.fft32 = precision == Precision.F32 ? new FloatFFT_1D(n) : null;
        }

        @Override public int size() { return n; }
        @Override public int spectrumLength() { return n; }
        @Override public Object newWork() { return fft32 == null ? null : new float[n]; }

        @Override
        public void forward(double[] x, double[] spec, int specOff, Object work) {
            if (fft32 != null) {
                float[] f = (float[]) work;
                for (int i = 0; i < n; i++) f[i] = (float) x[i];
                fft32.realForward(f);
                for (int i = 0; i < n; i++) spec[specOff + i] = f[i];
                return;
            }
            fft.realForward(x);
            System.arraycopy(x, 0, spec, specOff, n);
        }

        @Override
        public void inverse(double[] spec, int specOff, double[] x, Object work) {
            if (fft32 != null) {
                float[] f = (float[]) work;
                for (int i = 0; i < n; i++) f[i] = (float) spec[specOff + i];
                fft32.realInverse(f, true);
                for (int i = 0; i < n; i++) x[i] = f[i];
                return;
            }
            System.arraycopy(spec, specOff, x, 0, n);
            fft.realInverse(x, true);
        }

        @Override
        public void mul(double[] a, int ao, double[] b, int bo, double[] o, int oo, boolean conjA, boolean acc) {
            double sa = conjA ? -1 : 1;
            put(o, oo, a[ao] * b[bo], acc);
            if (n == 1) return;
            int full;
            if ((n & 1) == 0) {
                put(o, oo + 1, a[ao + 1] * b[bo + 1], acc);   // Nyquist: real in both
                full = n / 2;
            } else {
                full = (n - 1) / 2;                            // bin (N-1)/2: Re at N-1, Im at 1
                double ar = a[ao + n - 1], ai = sa * a[ao + 1], br = b[bo + n - 1], bi = b[bo + 1];
                put(o, oo + n - 1, ar * br - ai * bi, acc);
                put(o, oo + 1, ar * bi + ai * br, acc);
            }
            for (int kk = 1; kk < full; kk++) {
                int i = 2 * kk;
                double ar = a[ao + i], ai = sa * a[ao + i + 1], br = b[bo + i], bi = b[bo + i + 1];
                double re = ar * br - ai * bi, im = ar * bi + ai * br;
                if (acc) {
                    o[oo + i] += re;
                    o[oo + i + 1] += im;
                } else {
                    o[oo + i] = re;
                    o[oo + i + 1] = im;
                }
            }
        }

        private static void put(double[] o, int i, double v, boolean acc) {
            if (acc) o[i] += v; else o[i] = v;
        }
    }
}
