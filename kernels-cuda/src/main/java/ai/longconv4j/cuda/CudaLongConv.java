// Shapes: B batch, C kernel channels, H features, L length, N FFT size (N >= L), F = N/2 + 1 frequencies.
//   u (B, H, L), kN (C, H, N) -> y (B, C, H, L); spectra U (B, H, F), K (C, H, F), Y and G (B, C, H, F).
package ai.longconv4j.cuda;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Tensor;
import java.lang.ref.Reference;
import java.util.Arrays;

/**
 * The long convolution's FFT core on the GPU through cuFFT (the path torch.fft takes), forward and backward:
 * {@code y = irfft(rfft(pad(u, N)) * rfft(kN))[:L]} for every (b, c, h);
 * {@code du = irfft(sum_c G_c conj(K_c))[:L]}, {@code dkN = irfft(sum_b G_b conj(U_b))} with {@code G = rfft(pad(dy, N))}.
 * F32 runs R2C/C2R in fp32, F64 runs D2Z/Z2D. U and K are kept for the backward only when a gradient is recorded.
 * {@code ai.longconv4j.conv.ConvOps} builds kN for the mode (causal, bidirectional: N = 2L; circular: N = L) and
 * adds {@code D * u} with tensor ops, so their gradients come from autograd.
 */
final class CudaLongConv {
  private CudaLongConv() {}

  static Tensor apply(CudaBackend be, Tensor u, Tensor kN) {
    if (u.dim() != 3 || kN.dim() != 3 || u.size(1) != kN.size(1) || kN.size(2) < u.size(2))
      throw new IllegalArgumentException("spectralConv: expected u (B, H, L) and kN (C, H, N >= L), got " + Arrays.toString(u.shape())
          + " and " + Arrays.toString(kN.shape()));
    if (u.dtype() != kN.dtype() || (u.dtype() != DType.F32 && u.dtype() != DType.F64))
      throw new IllegalArgumentException("spectralConv: u and kN must both be F32 or both F64, got " + u.dtype() + " and " + kN.dtype());
    if (!u.device().equals(kN.device()))
      throw new IllegalArgumentException("spectralConv: u on " + u.device() + " and kN on " + kN.device());
    CudaBackend.Gpu g = be.gpu(u.device());
    int b = u.size(0), h = u.size(1), l = u.size(2), c = kN.size(0), n = kN.size(2);
    DType dt = u.dtype();
    Conv cv = new Conv(be, g, dt, b, c, h, l, n);
    Tensor uc = u.detach().contiguous(), kc = kN.detach().contiguous();
    boolean keep = Tensor.isGradEnabled() && (u.requiresGrad() || kN.requiresGrad());
    CudaStorage uSpec = cv.spectrum(uc, b * h, l);
    CudaStorage kSpec = cv.spectrum(kc, c * h, n);
    CudaStorage ySpec = cv.complex(b * c * h);
    cv.launch("sc_mul", (long) b * c * h * cv.f, uSpec, kSpec, b, c, h, cv.f, cv.scale(), ySpec);
    Tensor y = cv.inverseCropped(ySpec, b * c * h, l, new int[] {b, c, h, l});
    if (!keep) return y;
    return Tensor.op("longconv[cuFFT]", y, new Tensor[] {u, kN}, gy -> {
      CudaStorage gSpec = cv.spectrum(gy.detach().contiguous(), b * c * h, l);
      Tensor du = null, dk = null;
      if (u.requiresGrad()) {
        CudaStorage duSpec = cv.complex(b * h);
        cv.launch("sc_du", (long) b * h * cv.f, gSpec, kSpec, b, c, h, cv.f, cv.scale(), duSpec);
        du = cv.inverseCropped(duSpec, b * h, l, new int[] {b, h, l});
      }
      if (kN.requiresGrad()) {
        CudaStorage dkSpec = cv.complex(c * h);
        cv.launch("sc_dk", (long) c * h * cv.f, gSpec, uSpec, b, c, h, cv.f, cv.scale(), dkSpec);
        dk = cv.inverseCropped(dkSpec, c * h, n, new int[] {c, h, n});
      }
      return new Tensor[] {du, dk};
    });
  }

  /** One call's sizes and helpers. */
  private static final class Conv {
    final CudaBackend be;
    final CudaBackend.Gpu g;
    final DType dt;
    final int b, c, h, l, n, f;
    final String tag;

    Conv(CudaBackend be, CudaBackend.Gpu g, DType dt, int b, int c, int h, int l, int n) {
      this.be = be; this.g = g; this.dt = dt; this.b = b; this.c = c; this.h = h; this.l = l; this.n = n; this.f = n / 2 + 1;
      this.tag = CudaBackend.tag(dt);
    }

    Object scale() { return dt == DType.F64 ? (Object) (1.0 / n) : (Object) (float) (1.0 / n); }

    String shapes() { return "u (B=" + b + ", H=" + h + ", L=" + l + "), kN (C=" + c + ", H=" + h + ", N=" + n + "), " + dt; }

    void launch(String fn, long count, Object... args) {
      CudaBackend.launch(g.dev, "spectral", fn + "_" + tag, count, "longconv", shapes(), args);
    }

    /** (rows, F) complex values, as a storage of 2 * rows * F reals. */
    CudaStorage complex(int rows) { return be.allocateOut(g, dt, 2 * rows * f); }   // written whole by cuFFT / sc_*

    /** rfft of rows of length len (zero-padded to N); x contiguous. */
    CudaStorage spectrum(Tensor x, int rows, int len) {
      CudaStorage xs = CudaBackend.cs("longconv", x.storage());
      CudaStorage padded = be.allocateOut(g, dt, rows * n);      // sc_pad writes all N points (zeros too)
      try {
        CudaBackend.launch(g.dev, "spectral", "sc_pad_" + tag, (long) rows * n, "longconv", shapes(),
            xs.at(x.offset()), rows, len, n, padded);
        CudaStorage spec = complex(rows);
        if (dt == DType.F64) g.plan(n, CuFft.Type.D2Z, rows).execD2Z(padded.at(0), spec.at(0));
        else g.plan(n, CuFft.Type.R2C, rows).execR2C(padded.at(0), spec.at(0));
        return spec;
      } catch (CudaException e) {
        throw new CudaException(e.code(), "longconv " + shapes() + ": " + e.getMessage());
      } finally {
        Reference.reachabilityFence(xs);
        padded.release();           // dead once the FFT is queued: back to the cache now, not at the next GC
      }
    }

    /** irfft (unnormalised; the 1/N is in the spectra) of rows, cropped to len, as a new tensor of shape. */
    Tensor inverseCropped(CudaStorage spec, int rows, int len, int[] shape) {
      CudaStorage full = len == n ? null : be.allocateOut(g, dt, rows * n);   // no zero fill: cuFFT / sc_crop write all
      CudaStorage out = be.allocateOut(g, dt, rows * len);
      try {
        CudaStorage target = full == null ? out : full;
        if (dt == DType.F64) g.plan(n, CuFft.Type.Z2D, rows).execZ2D(spec.at(0), target.at(0));
        else g.plan(n, CuFft.Type.C2R, rows).execC2R(spec.at(0), target.at(0));
        if (full != null)
          CudaBackend.launch(g.dev, "spectral", "sc_crop_" + tag, (long) rows * len, "longconv", shapes(), full, rows, len, n, out);
        return Tensor.fromStorage(out, shape);
      } catch (CudaException e) {
        throw new CudaException(e.code(), "longconv " + shapes() + ": " + e.getMessage());
      } finally {
        Reference.reachabilityFence(spec);
        if (full != null) full.release();
      }
    }
  }
}
