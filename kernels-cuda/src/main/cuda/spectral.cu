// Pointwise kernels around cuFFT for the device long convolution (CudaLongConv), forward and backward
// side by side. y = irfft(rfft(pad(u, N)) * rfft(kN))[:L] per (b, c, h); kN is the kernel already placed in
// N taps (the mode's layout, built in Java). R2C/C2R (f32) or D2Z/Z2D (f64); F = N/2 + 1 frequencies.
// Shapes: B batch, C kernel channels, H features, L length, N FFT size.
//   sc_pad_T:   up (R, N) = u (R, L) zero-padded                     (R = B*H or B*C*H rows)
//   sc_crop_T:  y (R, L) = yfull (R, N)[:, :L]
//   sc_mul_T:   Y (B, C, H, F) = U (B, H, F) * K (C, H, F) * s        (forward)
//   sc_du_T:    DU (B, H, F) = s * sum_c G (B, C, H, F) * conj(K)     (backward, input)
//   sc_dk_T:    DK (C, H, F) = s * sum_b G (B, C, H, F) * conj(U)     (backward, kernel)
// s = 1/N folds cuFFT's unnormalised inverse in.
#include "ewcommon.cuh"

template <typename T> struct Cx { typedef float2 type; };
template <> struct Cx<double> { typedef double2 type; };

template <typename T>
__device__ void pad_k(const T* u, int R, int L, int N, T* up) {
  EW_FOR((long long)R * N) {
    const int n = (int)(_i % N);
    const long long r = _i / N;
    up[_i] = n < L ? u[r * L + n] : (T)0;
  }
}

template <typename T>
__device__ void crop_k(const T* yf, int R, int L, int N, T* y) {
  EW_FOR((long long)R * L) {
    const int n = (int)(_i % L);
    const long long r = _i / L;
    y[_i] = yf[r * N + n];
  }
}

template <typename C, typename T>
__device__ void mul_k(const C* U, const C* K, int B, int Cn, int H, int F, T s, C* Y) {
  EW_FOR((long long)B * Cn * H * F) {
    const int f = (int)(_i % F);
    const long long bch = _i / F;
    const int h = (int)(bch % H), c = (int)((bch / H) % Cn), b = (int)(bch / ((long long)H * Cn));
    const C a = U[((long long)b * H + h) * F + f], w = K[((long long)c * H + h) * F + f];
    C r; r.x = (a.x * w.x - a.y * w.y) * s; r.y = (a.x * w.y + a.y * w.x) * s;
    Y[_i] = r;
  }
}

template <typename C, typename T>
__device__ void du_k(const C* G, const C* K, int B, int Cn, int H, int F, T s, C* DU) {
  EW_FOR((long long)B * H * F) {
    const int f = (int)(_i % F);
    const long long bh = _i / F;
    const int h = (int)(bh % H), b = (int)(bh / H);
    T re = 0, im = 0;
    for (int c = 0; c < Cn; c++) {
      const C g = G[(((long long)b * Cn + c) * H + h) * F + f], w = K[((long long)c * H + h) * F + f];
      re += g.x * w.x + g.y * w.y;     // g * conj(w)
      im += g.y * w.x - g.x * w.y;
    }
    C r; r.x = re * s; r.y = im * s;
    DU[_i] = r;
  }
}

template <typename C, typename T>
__device__ void dk_k(const C* G, const C* U, int B, int Cn, int H, int F, T s, C* DK) {
  EW_FOR((long long)Cn * H * F) {
    const int f = (int)(_i % F);
    const long long ch = _i / F;
    const int h = (int)(ch % H), c = (int)(ch / H);
    T re = 0, im = 0;
    for (int b = 0; b < B; b++) {
      const C g = G[(((long long)b * Cn + c) * H + h) * F + f], a = U[((long long)b * H + h) * F + f];
      re += g.x * a.x + g.y * a.y;     // g * conj(a)
      im += g.y * a.x - g.x * a.y;
    }
    C r; r.x = re * s; r.y = im * s;
    DK[_i] = r;
  }
}

#define SC_PER_TYPE(tag, T, C)                                                                                 \
  extern "C" __global__ void sc_pad_##tag(const T* u, int R, int L, int N, T* up) { pad_k(u, R, L, N, up); }  \
  extern "C" __global__ void sc_crop_##tag(const T* yf, int R, int L, int N, T* y) { crop_k(yf, R, L, N, y); } \
  extern "C" __global__ void sc_mul_##tag(const C* U, const C* K, int B, int Cn, int H, int F, T s, C* Y) {   \
    mul_k(U, K, B, Cn, H, F, s, Y); }                                                                          \
  extern "C" __global__ void sc_du_##tag(const C* G, const C* K, int B, int Cn, int H, int F, T s, C* DU) {   \
    du_k(G, K, B, Cn, H, F, s, DU); }                                                                          \
  extern "C" __global__ void sc_dk_##tag(const C* G, const C* U, int B, int Cn, int H, int F, T s, C* DK) {   \
    dk_k(G, U, B, Cn, H, F, s, DK); }
SC_PER_TYPE(f32, float, float2)
SC_PER_TYPE(f64, double, double2)
