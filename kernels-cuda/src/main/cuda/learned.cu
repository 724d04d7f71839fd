// Learned-butterfly long convolution (lib's LearnedButterfly on the GPU): the 2-factor Monarch FFT convolution with
// learnable dense DFT blocks, fp32 on CUDA cores, one block per row, all intermediates in shared memory.
// Shapes: B batch, H channels, L length, Lk kernel taps, N complex FFT size = N1 * N2 (N <= 2048).
//   u, y, dy, du: (B, H, L) of IO; kp: (H, N) float2, the exact FFT of the kernel taps in permuted order
//   (position p = k1*N2 + k2 holds frequency k1 + N1*k2); D: (H) fp32.
//   blocks: Fa (N1, N1), Fb (N2, N2), Gb (N2, N2), Ga (N1, N1) float2, row-major, concatenated in that order.
// Per row (u zero-padded to N, complex with Im 0), T[k1, n2] = w_N^(k1*n2), w_N = exp(-2 pi i / N):
//   A = reshape(u, N1, N2); B2 = (Fa @ A) * T; C = B2 @ Fb; P = C * Kp; D2 = (P @ Gb) * conj(T) / N; E = Ga @ D2;
//   y = Re(E)[:L] + D * u.
// Backward (gradient of sum(y * dy)), per row, as lib's backwardAll: gE = dy; dGa += gE @ D2^H; gD1 = (Ga^H @ gE) * T/N;
//   dGb += P^H @ gD1; gP = gD1 @ Gb^H; dKp += gP * conj(C); gC = gP * conj(Kp); dFb += B2^H @ gC;
//   gB = (gC @ Fb^H) * conj(T); dFa += gB @ A^H; du = Re(Fa^H @ gB) + D * dy; dD += dy . u.
// The block gradients are summed per channel (one block per channel loops over the batch) into part (H, blocks),
// then over channels by lb_reduce; dKp (H, N) goes to taps by lb_taps (a direct DFT with a shared-memory table).
#include "monarch.cuh"

// Z (m x q) (=|+=) op(X) (m x kk) @ op(Y) (kk x q); XH / YH: conjugate transpose of the stored matrix
// (X stored kk x m, Y stored q x kk). Each thread owns whole outputs; callers sync around it.
template <bool XH, bool YH>
__device__ __forceinline__ void cmm(const float2* X, const float2* Y, float2* Z, int m, int kk, int q, bool acc) {
  for (int o = threadIdx.x; o < m * q; o += blockDim.x) {
    const int i = o / q, c = o - i * q;
    float zr = 0.f, zi = 0.f;
    for (int j = 0; j < kk; ++j) {
      const float2 x = XH ? X[j * m + i] : X[i * kk + j];
      const float2 y = YH ? Y[c * kk + j] : Y[j * q + c];
      const float xi = XH ? -x.y : x.y, yi = YH ? -y.y : y.y;
      zr += x.x * y.x - xi * yi;
      zi += x.x * yi + xi * y.x;
    }
    if (acc) { const float2 z = Z[o]; zr += z.x; zi += z.y; }
    Z[o] = make_float2(zr, zi);
  }
}

// x[i] *= w_N^(sign * k1*n2) * scale, i = k1*N2 + n2 (in place).
__device__ __forceinline__ void twiddle_mul(float2* x, int N, int N2, float sign, float scale) {
  const float inv = 2.0f / (float)N;
  for (int i = threadIdx.x; i < N; i += blockDim.x) {
    const int k1 = i / N2, n2 = i - k1 * N2;
    float s, c; sincospif(-sign * (float)((k1 * n2) & (N - 1)) * inv, &s, &c);
    const float2 v = x[i];
    x[i] = make_float2((v.x * c - v.y * s) * scale, (v.x * s + v.y * c) * scale);
  }
}

struct LbBlocks { const float2 *fa, *fb, *gb, *ga; };
__device__ __forceinline__ LbBlocks lb_blocks(const float2* blocks, int N1, int N2) {
  return LbBlocks{blocks, blocks + N1 * N1, blocks + N1 * N1 + N2 * N2, blocks + N1 * N1 + 2 * N2 * N2};
}

// The front of a row: a <- u (zero-padded), b2 <- (Fa @ a) * T, c <- b2 @ Fb.
template <typename IO>
__device__ __forceinline__ void lb_front(const IO* urow, int L, int N1, int N2, const LbBlocks& W, float2* a, float2* b2, float2* c) {
  const int N = N1 * N2;
  for (int n = threadIdx.x; n < N; n += blockDim.x) a[n] = make_float2(n < L ? ld(urow + n) : 0.f, 0.f);
  __syncthreads();
  cmm<false, false>(W.fa, a, b2, N1, N1, N2, false);
  __syncthreads();
  twiddle_mul(b2, N, N2, 1.0f, 1.0f);
  __syncthreads();
  cmm<false, false>(b2, W.fb, c, N1, N2, N2, false);
  __syncthreads();
}

// Grid (B, H), block 256, smem 4 * N * 8 bytes.
template <typename IO>
__device__ void lb_forward(const IO* __restrict__ u, const float2* __restrict__ kp, const float* __restrict__ D,
                           const float2* __restrict__ blocks, IO* __restrict__ y, int H, int L, int N1, int N2) {
  extern __shared__ __align__(16) float2 sm[];
  const int N = N1 * N2, b = blockIdx.x, h = blockIdx.y;
  float2 *a = sm, *b2 = sm + N, *c = sm + 2 * N, *t = sm + 3 * N;
  const LbBlocks W = lb_blocks(blocks, N1, N2);
  const IO* urow = u + ((size_t)b * H + h) * L;
  lb_front(urow, L, N1, N2, W, a, b2, c);
  const float2* k = kp + (size_t)h * N;
  for (int n = threadIdx.x; n < N; n += blockDim.x) {
    const float2 v = c[n], w = k[n];
    c[n] = make_float2(v.x * w.x - v.y * w.y, v.x * w.y + v.y * w.x);
  }
  __syncthreads();
  cmm<false, false>(c, W.gb, t, N1, N2, N2, false);
  __syncthreads();
  twiddle_mul(t, N, N2, -1.0f, 1.0f / (float)N);
  __syncthreads();
  cmm<false, false>(W.ga, t, a, N1, N1, N2, false);
  __syncthreads();
  const float d = D[h];
  IO* yrow = y + ((size_t)b * H + h) * L;
  for (int n = threadIdx.x; n < L; n += blockDim.x) st(yrow + n, fmaf(d, ld(urow + n), a[n].x));
}

// Grid (H), block 256 or 512 (any multiple of 32 up to 512), smem 7 * N * 8 bytes. du == nullptr: no du (the tensor-core adjoint writes it). part: (H, 2*(N1^2 + N2^2)) float2 block-gradient partials (zeroed by
// the caller), dkp: (H, N) float2, dD: (H).
template <typename IO>
__device__ void lb_backward(const IO* __restrict__ u, const IO* __restrict__ dy, const float2* __restrict__ kp,
                            const float* __restrict__ D, const float2* __restrict__ blocks, IO* __restrict__ du,
                            float2* __restrict__ part, float2* __restrict__ dkp, float* __restrict__ dD, int B, int H,
                            int L, int N1, int N2) {
  extern __shared__ __align__(16) float2 sm[];
  __shared__ float red[32];
  const int N = N1 * N2, h = blockIdx.x;
  float2 *a = sm, *b2 = sm + N, *c = sm + 2 * N, *p = sm + 3 * N, *d2 = sm + 4 * N, *t1 = sm + 5 * N, *t2 = sm + 6 * N;
  const LbBlocks W = lb_blocks(blocks, N1, N2);
  float2* pr = part + (size_t)h * 2 * (N1 * N1 + N2 * N2);
  float2 *dfa = pr, *dfb = pr + N1 * N1, *dgb = dfb + N2 * N2, *dga = dgb + N2 * N2;
  const float2* k = kp + (size_t)h * N;
  float2* gk = dkp + (size_t)h * N;
  const float d = D[h];
  float dsum = 0.f;
  for (int b = 0; b < B; ++b) {
    const IO* urow = u + ((size_t)b * H + h) * L;
    const IO* dyrow = dy + ((size_t)b * H + h) * L;
    lb_front(urow, L, N1, N2, W, a, b2, c);
    for (int n = threadIdx.x; n < N; n += blockDim.x) {
      const float2 v = c[n], w = k[n];
      p[n] = make_float2(v.x * w.x - v.y * w.y, v.x * w.y + v.y * w.x);
      t1[n] = make_float2(n < L ? ld(dyrow + n) : 0.f, 0.f);   // gE
      if (n < L) dsum += ld(dyrow + n) * ld(urow + n);
    }
    __syncthreads();
    cmm<false, false>(p, W.gb, d2, N1, N2, N2, false);
    __syncthreads();
    twiddle_mul(d2, N, N2, -1.0f, 1.0f / (float)N);                // D2
    __syncthreads();
    cmm<false, true>(t1, d2, dga, N1, N2, N1, true);                // dGa += gE @ D2^H
    cmm<true, false>(W.ga, t1, t2, N1, N1, N2, false);              // gD2 = Ga^H @ gE
    __syncthreads();
    twiddle_mul(t2, N, N2, 1.0f, 1.0f / (float)N);                  // gD1 = gD2 * T / N
    __syncthreads();
    cmm<true, false>(p, t2, dgb, N2, N1, N2, true);                 // dGb += P^H @ gD1
    cmm<false, true>(t2, W.gb, t1, N1, N2, N2, false);              // gP = gD1 @ Gb^H
    __syncthreads();
    for (int n = threadIdx.x; n < N; n += blockDim.x) {
      const float2 g = t1[n], cc = c[n], w = k[n];
      const float2 o = b == 0 ? make_float2(0.f, 0.f) : gk[n];     // dKp += gP * conj(C)
      gk[n] = make_float2(o.x + g.x * cc.x + g.y * cc.y, o.y + g.y * cc.x - g.x * cc.y);
      t1[n] = make_float2(g.x * w.x + g.y * w.y, g.y * w.x - g.x * w.y);   // gC = gP * conj(Kp)
    }
    __syncthreads();
    cmm<true, false>(b2, t1, dfb, N2, N1, N2, true);                // dFb += B2^H @ gC
    cmm<false, true>(t1, W.fb, t2, N1, N2, N2, false);              // gB2 = gC @ Fb^H
    __syncthreads();
    twiddle_mul(t2, N, N2, -1.0f, 1.0f);                            // gB = gB2 * conj(T)
    __syncthreads();
    cmm<false, true>(t2, a, dfa, N1, N2, N1, true);                 // dFa += gB @ A^H
    if (du != nullptr) {                                            // null: du comes from learned_tc.cu
      cmm<true, false>(W.fa, t2, t1, N1, N1, N2, false);            // gA = Fa^H @ gB
      __syncthreads();
      IO* durow = du + ((size_t)b * H + h) * L;
      for (int n = threadIdx.x; n < L; n += blockDim.x) st(durow + n, fmaf(d, ld(dyrow + n), t1[n].x));
    }
    __syncthreads();
  }
  for (int o = 16; o > 0; o >>= 1) dsum += __shfl_xor_sync(0xffffffffu, dsum, o);
  if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = dsum;
  __syncthreads();
  if (threadIdx.x == 0) {
    float s = 0.f;
    for (int w = 0; w < (int)(blockDim.x >> 5); ++w) s += red[w];
    dD[h] = s;
  }
}

#define LB_KERNELS(SUF, IO)                                                                                        \
  extern "C" __global__ void __launch_bounds__(256) lb_forward_##SUF(const IO* __restrict__ u,                   \
      const float2* __restrict__ kp, const float* __restrict__ D, const float2* __restrict__ blocks,              \
      IO* __restrict__ y, int H, int L, int N1, int N2) { lb_forward<IO>(u, kp, D, blocks, y, H, L, N1, N2); }       \
  extern "C" __global__ void __launch_bounds__(512, 1) lb_backward_##SUF(const IO* __restrict__ u,                  \
      const IO* __restrict__ dy, const float2* __restrict__ kp, const float* __restrict__ D,                      \
      const float2* __restrict__ blocks, IO* __restrict__ du, float2* __restrict__ part, float2* __restrict__ dkp, \
      float* __restrict__ dD, int B, int H, int L, int N1, int N2) {                                              \
    lb_backward<IO>(u, dy, kp, D, blocks, du, part, dkp, dD, B, H, L, N1, N2);                                     \
  }
LB_KERNELS(f32, float)
LB_KERNELS(bf16, __nv_bfloat16)
LB_KERNELS(f16, __half)

// Block gradients: out[e] = sum_h part[h, e], e < E. Grid (ceil(E / 256)), block 256.
extern "C" __global__ void __launch_bounds__(256) lb_reduce(const float2* __restrict__ part, float2* __restrict__ out,
                                                            int H, int E) {
  const int e = blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= E) return;
  float2 s = make_float2(0.f, 0.f);
  for (int h = 0; h < H; ++h) { const float2 v = part[(size_t)h * E + e]; s.x += v.x; s.y += v.y; }
  out[e] = s;
}

// Direct DFTs with a table w[j] = exp(-2 pi i j / N) in shared memory (exact index reduction mod N).
// INV = false (the kernel spectrum): out[h, p] = sum_{t < taps0} k0[h, t] w^(f*t) + sum_{t < taps1} k1[h, t] w^(-f*(t+1)),
//   f = perm(p) = k1 + N1*k2 (p = k1*N2 + k2); k1 == nullptr: one-sided. Grid (H), block 256, smem 8 * N.
// INV = true (the kernel gradient): dk[h, t] = Re sum_p g[h, p] w^(-f*t) for t < taps0 (at dk[h*Lk + t]); two-sided:
//   also dk[H*Lk + h*Lk + t] = Re sum_p g[h, p] w^(f*(t+1)) for t < taps1 (the lag N-1-t).
extern "C" __global__ void __launch_bounds__(256) lb_spectrum(const float* __restrict__ k0, const float* __restrict__ k1,
    float2* __restrict__ out, int Lk, int taps0, int taps1, int N1, int N2) {
  extern __shared__ __align__(16) float2 w[];
  const int N = N1 * N2, h = blockIdx.x;
  for (int j = threadIdx.x; j < N; j += blockDim.x) { float s, c; sincospif(-2.0f * (float)j / (float)N, &s, &c); w[j] = make_float2(c, s); }
  __syncthreads();
  for (int p = threadIdx.x; p < N; p += blockDim.x) {
    const int q1 = p / N2, f = q1 + N1 * (p - q1 * N2);
    float xr = 0.f, xi = 0.f;
    for (int t = 0; t < taps0; ++t) {
      const float v = k0[(size_t)h * Lk + t]; const float2 e = w[(f * t) & (N - 1)];
      xr += v * e.x; xi += v * e.y;
    }
    if (k1 != nullptr)
      for (int t = 0; t < taps1; ++t) {
        const float v = k1[(size_t)h * Lk + t]; const float2 e = w[(f * (N - 1 - t)) & (N - 1)];
        xr += v * e.x; xi += v * e.y;
      }
    out[(size_t)h * N + p] = make_float2(xr, xi);
  }
}

extern "C" __global__ void __launch_bounds__(256) lb_taps(const float2* __restrict__ g, float* __restrict__ dk, int H,
    int Lk, int taps0, int taps1, int twoSided, int N1, int N2) {
  extern __shared__ __align__(16) float2 w[];
  const int N = N1 * N2, h = blockIdx.x;
  for (int j = threadIdx.x; j < N; j += blockDim.x) { float s, c; sincospif(-2.0f * (float)j / (float)N, &s, &c); w[j] = make_float2(c, s); }
  __syncthreads();
  const float2* gr = g + (size_t)h * N;
  const int total = taps0 + (twoSided ? taps1 : 0);
  for (int i = threadIdx.x; i < total; i += blockDim.x) {
    const int t = i < taps0 ? i : N - 1 - (i - taps0);   // time index of the tap
    float s = 0.f;
    for (int p = 0; p < N; ++p) {
      const int q1 = p / N2, f = q1 + N1 * (p - q1 * N2);
      const float2 e = w[(f * t) & (N - 1)], v = gr[p];   // Re(v * conj(e)) = Re(v * w^(-f t))
      s += v.x * e.x + v.y * e.y;
    }
    if (i < taps0) dk[(size_t)h * Lk + i] = s;
    else dk[(size_t)H * Lk + (size_t)h * Lk + (i - taps0)] = s;
  }
}
