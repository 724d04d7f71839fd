// Shape legend: N real FFT size; a spectrum is an engine-specific packed array of spectrumLength() doubles.
package ai.longconv4j.conv;

/**
 * A real FFT of N points with a packed spectrum layout private to the engine; pointwise products are done
 * by the engine too, so a spectrum never needs to be unpacked (the Monarch spectrum stays permuted).
 */
interface RealTransform {
    /** N, the real transform size. */
    int size();

    /** Doubles in one spectrum buffer. */
    int spectrumLength();

    /** Per-thread scratch (null when none is needed). */
    Object newWork();

    /** spec = rfft(x); x (length N) may be overwritten. */
    void forward(double[] x, double[] spec, int specOff, Object work);

    /** x = irfft(spec) scaled by 1/N (so inverse(forward(x)) == x); spec may be overwritten. */
    void inverse(double[] spec, int specOff, double[] x, Object work);

    /** out (+)= (conjA ? conj(a) : a) * b, bin by bin. */
    void mul(double[] a, int aOff, double[] b, int bOff, double[] out, int outOff, boolean conjA, boolean accumulate);
}
