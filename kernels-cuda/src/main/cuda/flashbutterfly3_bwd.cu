// FlashButterfly three-pass backward on tensor cores: the middle pass of du and dk for N = N1 * M beyond shared memory.
// Shapes: B batch, H channels (of this launch: a chunk), L length, N FFT size, M inner (in-smem) size, N1 = N / M.
//   SA, SB: (pairs, H, N) complex scratch (float2, or bf16x2 / half2 with 16-bit storage) from flashbutterfly3.cu's
//           fb3_outer_fwd_* of u (SA) and dy (SB): batch pairs z = x[b] + i x[b+1], the outer N1-point DFT, twiddled,
//           scaled by 1/N1, row k1 of M points at S[(p*H + h)*N + k1*M].
//   kf:     (H, N) float2, the kernel spectrum in the three-pass order (ThreePass.spectrum).
//   acc:    (H, N) float2, the spectral accumulator in the same order (zeroed by the caller).
// One block per (pair, channel, row k1), block x = p + pairs * k1 as fb3_mid. Both rows go through the inner forward
// FFT as one 2M-point pass (bwd_core.cuh fft_fwd_two, 1/M each: Zu = U/N, Zd = D/N with U, D the N-point spectra), then
//   dk branch: acc += conj(Zu) Zd (fp32 atomics): summed over pairs, the real part of its inverse is
//              sum_b corr(u[b], dy[b]) / N (the packed-pair identity of flashbutterfly_bwd.cu);
//   du branch: Zd * conj(kf), the inner inverse FFT, back to SB: fb3_outer_inv_* then adds D dy and writes du, exactly
//              as the forward's adjoint (fb3_mid with flags bit 1).
// ThreePass.backward then inverts acc per channel with fb3_rows_f32 (inverse, scale N) and fb3_outer_inv_dk.
// flags bit 0: fused middle (M >= 256: the last forward stage, the products and the first inverse stage in registers,
// stage_b_bwd); clear: the products as their own shared-memory pass (the twin). flags bit 2: dk only (SB not written).
#include "monarch.cuh"
#include "bwd_core.cuh"   // tw_offset4, acc_add4, fft_fwd_two, stage_b_bwd

// Complex scratch elements (as flashbutterfly3.cu's ldc / stc).
__device__ __forceinline__ float2 ldz(const float2* p) { return *p; }
__device__ __forceinline__ float2 ldz(const __nv_bfloat162* p) { return __bfloat1622float2(*p); }
__device__ __forceinline__ float2 ldz(const __half2* p) { return __half22float2(*p); }
__device__ __forceinline__ void stz(float2* p, float a, float b) { *p = make_float2(a, b); }
__device__ __forceinline__ void stz(__nv_bfloat162* p, float a, float b) { *p = __floats2bfloat162_rn(a, b); }
__device__ __forceinline__ void stz(__half2* p, float a, float b) { *p = __floats2half2_rn(a, b); }

// Grid (pairs * N1, H), block a multiple of 32; dynamic smem 4 * (M + M/32) * sizeof(ST) (aligned to 16) + 8 *
// tw_entries(M) (FlashButterflyConv.bwdSmemBytes(M, 16-bit)).
template <int CM, typename ST, typename SC>
__device__ void fb3b_mid(const SC* __restrict__ SA, SC* __restrict__ SB, const float2* __restrict__ kf,
                         float2* __restrict__ acc, int pairs, int H, int log2N, int log2M, int flags) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  ST* smem = reinterpret_cast<ST*>(smem_raw);
  const int M = 1 << log2M, P = M + (M >> 5), h = blockIdx.y, T = blockDim.x;
  const int k1 = blockIdx.x / pairs, p = blockIdx.x - k1 * pairs;
  const bool wantDu = (flags & 4) == 0, fused = (flags & 1) && M >= 256;
  ST *ur = smem, *zr = smem + P, *ui = smem + 2 * P, *zi = smem + 3 * P;   // re = [ur | zr], im = [ui | zi]
  const size_t N = (size_t)1 << log2N, off = ((size_t)p * H + h) * N + (size_t)k1 * M;
  const SC* ra = SA + off;
  SC* rb = SB + off;
  for (int n = threadIdx.x; n < M; n += T) {
    const float2 a = ldz(ra + n), b = ldz(rb + n);
    st(ur + SIDX(n), a.x); st(ui + SIDX(n), a.y); st(zr + SIDX(n), b.x); st(zi + SIDX(n), b.y);
  }
  const Tw tw = tw_init(reinterpret_cast<float2*>(smem_raw + tw_offset4(P, sizeof(ST))), log2M);
  __syncthreads();
  fft_fwd_two<CM, ST>(tw, ur, ui, log2M, fused);   // Zu / M, Zd / M (without their last stage when fused); a barrier
  const float2* k = kf + (size_t)h * N + (size_t)k1 * M;
  float2* a = acc + (size_t)h * N + (size_t)k1 * M;
  if (fused) {
    if constexpr (CM != 0) stage_b_bwd<CM == 2>(tw, zr, zi, ur, ui, M, 1.0f / 16.0f, k, a, wantDu);
  } else {
    for (int n = 2 * threadIdx.x; n < M; n += 2 * T) {   // two adjacent values per thread: one 16-byte atomic
      float pr[2], pi[2];
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        const float xr = ld(zr + SIDX(n + j)), xi = ld(zi + SIDX(n + j));
        const float vr = ld(ur + SIDX(n + j)), vi = ld(ui + SIDX(n + j));
        pr[j] = vr * xr + vi * xi; pi[j] = vr * xi - vi * xr;
        if (wantDu) {
          const float2 w = k[n + j];
          st(zr + SIDX(n + j), xr * w.x + xi * w.y);
          st(zi + SIDX(n + j), xi * w.x - xr * w.y);
        }
      }
      acc_add4(a + n, pr[0], pi[0], pr[1], pi[1]);
    }
  }
  if (!wantDu) return;
  __syncthreads();
  monarch_fft<CM, false, ST, true>(tw, zr, zi, log2M, false, fused);   // ends with a barrier
  for (int n = threadIdx.x; n < M; n += T) stz(rb + n, ld(zr + SIDX(n)), ld(zi + SIDX(n)));
}

// Register caps as flashbutterfly_bwd.cu's (stage_b_bwd holds both tiles and their accumulators): sm_90 with 16-bit
// storage 768 threads (80 registers), fp32 storage 512; sm_80 512.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#define FB3B_MAXT(ST) 512
#else
#define FB3B_MAXT(ST) (sizeof(ST) == 2 ? 768 : 512)
#endif
#define FB3B_MID(NAME, CM, ST, SC)                                                                                 \
  extern "C" __global__ void __launch_bounds__(FB3B_MAXT(ST), 1) NAME(const SC* __restrict__ SA,                \
      SC* __restrict__ SB, const float2* __restrict__ kf, float2* __restrict__ acc, int pairs, int H, int log2N,  \
      int log2M, int flags) {                                                                                      \
    fb3b_mid<CM, ST, SC>(SA, SB, kf, acc, pairs, H, log2N, log2M, flags);                                          \
  }
// name: fb3b_mid_<compute>[_s16: 16-bit shared memory and scratch]
FB3B_MID(fb3b_mid_bf16_s16, 2, __nv_bfloat16, __nv_bfloat162)
FB3B_MID(fb3b_mid_f16_s16, 1, __half, __half2)
FB3B_MID(fb3b_mid_bf16, 2, float, float2)
FB3B_MID(fb3b_mid_f16, 1, float, float2)
