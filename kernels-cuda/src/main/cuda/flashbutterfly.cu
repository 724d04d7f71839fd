// FlashButterfly long convolution, fused in shared memory:
//   y[b,h,:] = ifft( fft(pad(u[b,h,:], N)) * Kf[h] )[:L] + D[h] * u[b,h,:]
// Shapes: B batch, H channels, L sequence length, N FFT size (power of two, 32 .. 16384).
//   causal: N >= 2L - 1 (kernel zero-padded); bidirectional: N >= 2L with the two-sided kernel; circular: N = L.
//   u, y : (B, H, L) row-major, element type IO (fp32, bf16 or fp16); y must not alias u.
//   kt   : (H, N) fp32, the time-domain kernel already placed for the mode (see FlashButterflyConv.java).
//   kf   : (H, N) float2 (re, im), the kernel spectrum in the Monarch (digit-reversed) order of monarch.cuh.
//   D    : (H) fp32.
// Two batch rows share one complex FFT: z = u[b] + i*u[b+1]; since the kernel is real,
// ifft(fft(z) * Kf) = y[b] + i*y[b+1]. One block per (batch pair, channel); blocks of one channel are
// adjacent in launch order so Kf[h] is read from HBM once and then from L2.
// The 2N (complex) intermediates never leave shared memory: 8 * (N + N/32) bytes per block.
// Backward: du comes from the same kernel with flags bit 1 (conjugate spectrum); dk and dD are not written yet.
#include "monarch.cuh"

// Kf[h] = Monarch-ordered FFT of kt[h] (fp32 on CUDA cores, unscaled). Grid (H), block <= 256, smem 8*(N+N/32).
extern "C" __global__ void __launch_bounds__(256, 1)
fb_spectrum(const float* __restrict__ kt, float2* __restrict__ kf, int log2N) {
  extern __shared__ float smem[];
  const int N = 1 << log2N, P = N + (N >> 5), h = blockIdx.x;
  float* zr = smem; float* zi = smem + P;
  for (int n = threadIdx.x; n < N; n += blockDim.x) { zr[SIDX(n)] = kt[(size_t)h * N + n]; zi[SIDX(n)] = 0.f; }
  __syncthreads();
  monarch_fft<0, true>(zr, zi, log2N, false);
  for (int n = threadIdx.x; n < N; n += blockDim.x) kf[(size_t)h * N + n] = make_float2(zr[SIDX(n)], zi[SIDX(n)]);
}

// The same for FFTs too large for shared memory in fp32 (N = 32K): the stages run on a global scratch
// (H, 2, N + N/32) fp32 instead (one-time cost per weight update). Grid (H), block <= 256, no smem.
extern "C" __global__ void __launch_bounds__(256, 1)
fb_spectrum_global(const float* __restrict__ kt, float* __restrict__ scratch, float2* __restrict__ kf, int log2N) {
  const int N = 1 << log2N, P = N + (N >> 5), h = blockIdx.x;
  float* zr = scratch + (size_t)h * 2 * P; float* zi = zr + P;
  for (int n = threadIdx.x; n < N; n += blockDim.x) { zr[SIDX(n)] = kt[(size_t)h * N + n]; zi[SIDX(n)] = 0.f; }
  __syncthreads();
  monarch_fft<0, true>(zr, zi, log2N, false);
  for (int n = threadIdx.x; n < N; n += blockDim.x) kf[(size_t)h * N + n] = make_float2(zr[SIDX(n)], zi[SIDX(n)]);
}

// Grid (ceil(B/2), H), block a multiple of 32 (at most 512), dynamic smem 2*(N+N/32)*sizeof(ST) bytes.
// ST: shared-memory element type: fp32 up to N = 16K; the compute type (bf16/fp16) for N = 32K, where the
// MMA operands are rounded to that type anyway (one extra rounding: the inverse stages' input twiddles).
// flags bit 0: with tensor cores and N >= 256, do the last forward stage, the product and the first inverse
// stage in one pass (stage_b_conv); clear: three passes through shared memory (the unfused twin).
// flags bit 1: multiply by conj(Kf): the adjoint of the convolution, du = K^T dy + D * dy (backward for u).
template <typename IO, int CM, typename ST>
__device__ void fb_conv_forward(const IO* __restrict__ u, const float2* __restrict__ kf, const float* __restrict__ D,
                                IO* __restrict__ y, int B, int H, int L, int log2N, int flags) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  ST* smem = reinterpret_cast<ST*>(smem_raw);
  const int N = 1 << log2N, P = N + (N >> 5), h = blockIdx.y, b0 = 2 * blockIdx.x;
  const bool two = b0 + 1 < B;
  const int Lin = L < N ? L : N;
  ST* zr = smem; ST* zi = smem + P;
  const IO* u0 = u + ((size_t)b0 * H + h) * L;
  const IO* u1 = u0 + (size_t)H * L;
  // Global phases issue U independent loads per thread before the first use (latency, not bandwidth, bound them).
  constexpr int U = 8;
  const int T = blockDim.x;
  for (int n0 = threadIdx.x; n0 < N; n0 += U * T) {
    float a[U], b[U];
#pragma unroll
    for (int j = 0; j < U; ++j) {
      const int n = n0 + j * T;
      a[j] = n < Lin ? ld(u0 + n) : 0.f;
      b[j] = (two && n < Lin) ? ld(u1 + n) : 0.f;
    }
#pragma unroll
    for (int j = 0; j < U; ++j) {
      const int n = n0 + j * T;
      if (n < N) { st(zr + SIDX(n), a[j]); st(zi + SIDX(n), b[j]); }
    }
  }
  __syncthreads();
  const float2* k = kf + (size_t)h * N;
  const float conj = (flags & 2) ? -1.0f : 1.0f;   // -1: multiply by conj(Kf): the adjoint (du = K^T dy)
  const bool fused = (flags & 1) && CM != 0 && N >= 256;   // tensor cores: last stage + product + first inverse stage in one pass
  monarch_fft<CM, true>(zr, zi, log2N, true, fused);
  if (fused) {
    if constexpr (CM != 0) stage_b_conv<CM == 2>(zr, zi, N, 1.0f / 16.0f, k, conj);
  } else {
    for (int n0 = threadIdx.x; n0 < N; n0 += U * T) {
      float2 w[U];
#pragma unroll
      for (int j = 0; j < U; ++j) {
        const int n = n0 + j * T;
        w[j] = n < N ? k[n] : make_float2(0.f, 0.f);
        w[j].y *= conj;
      }
#pragma unroll
      for (int j = 0; j < U; ++j) {
        const int n = n0 + j * T;
        if (n < N) {
          const float a = ld(zr + SIDX(n)), b = ld(zi + SIDX(n));
          st(zr + SIDX(n), a * w[j].x - b * w[j].y);
          st(zi + SIDX(n), a * w[j].y + b * w[j].x);
        }
      }
    }
  }
  __syncthreads();
  monarch_fft<CM, false>(zr, zi, log2N, false, fused);
  const float d = D[h];
  IO* y0 = y + ((size_t)b0 * H + h) * L;
  IO* y1 = y0 + (size_t)H * L;
  for (int n0 = threadIdx.x; n0 < L; n0 += U * T) {
    float a[U], b[U];
#pragma unroll
    for (int j = 0; j < U; ++j) {
      const int n = n0 + j * T;
      a[j] = n < L ? ld(u0 + n) : 0.f;
      b[j] = (two && n < L) ? ld(u1 + n) : 0.f;
    }
#pragma unroll
    for (int j = 0; j < U; ++j) {
      const int n = n0 + j * T;
      if (n < L) {
        st(y0 + n, fmaf(d, a[j], ld(zr + SIDX(n))));
        if (two) st(y1 + n, fmaf(d, b[j], ld(zi + SIDX(n))));
      }
    }
  }
}

#define FB_CONV(NAME, IO, CM, ST)                                                                          \
  extern "C" __global__ void __launch_bounds__(512) NAME(const IO* __restrict__ u, const float2* __restrict__ kf, \
      const float* __restrict__ D, IO* __restrict__ y, int B, int H, int L, int log2N, int flags) {      \
    fb_conv_forward<IO, CM, ST>(u, kf, D, y, B, H, L, log2N, flags);                                     \
  }
// name: fb_conv_fwd_<io>_<compute>[_s16 = 16-bit shared-memory storage, for N = 32K]
FB_CONV(fb_conv_fwd_f32_f32, float, 0, float)
FB_CONV(fb_conv_fwd_f32_bf16, float, 2, float)
FB_CONV(fb_conv_fwd_f32_f16, float, 1, float)
FB_CONV(fb_conv_fwd_bf16_bf16, __nv_bfloat16, 2, float)
FB_CONV(fb_conv_fwd_f16_f16, __half, 1, float)
FB_CONV(fb_conv_fwd_f32_bf16_s16, float, 2, __nv_bfloat16)
FB_CONV(fb_conv_fwd_f32_f16_s16, float, 1, __half)
FB_CONV(fb_conv_fwd_bf16_bf16_s16, __nv_bfloat16, 2, __nv_bfloat16)
FB_CONV(fb_conv_fwd_f16_f16_s16, __half, 1, __half)
