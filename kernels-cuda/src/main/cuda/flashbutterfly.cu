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
// The 2N (complex) intermediates never leave shared memory: 2 * (N + N/32) * sizeof(ST) bytes per block, then
// (aligned to 16 B) the twiddle table of monarch.cuh: 8 * tw_entries(N) bytes.
// Backward: du comes from the same kernel with flags bit 1 (conjugate spectrum); dk and dD from fb_conv_dk_*:
//   dkt[h, m] = sum_b sum_n dy[b,h,n] u[b,h,(n-m) mod N]  (the gradient of the placed kernel kt, see below),
//   dD[h] = sum_b sum_n dy[b,h,n] u[b,h,n].
#include "monarch.cuh"
#include "pair_io.cuh"
#include "monarch_outer.cuh"

// Kf[h] = Monarch-ordered FFT of kt[h] (fp32 on CUDA cores, unscaled). Grid (H), block <= 256, smem 8*(N+N/32).
extern "C" __global__ void __launch_bounds__(256, 1)
fb_spectrum(const float* __restrict__ kt, float2* __restrict__ kf, int log2N) {
  extern __shared__ float smem[];
  const int N = 1 << log2N, P = N + (N >> 5), h = blockIdx.x;
  float* zr = smem; float* zi = smem + P;
  for (int n = threadIdx.x; n < N; n += blockDim.x) { zr[SIDX(n)] = kt[(size_t)h * N + n]; zi[SIDX(n)] = 0.f; }
  __syncthreads();
  monarch_fft<0, true>(Tw{nullptr, nullptr, log2N}, zr, zi, log2N, false);
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
  monarch_fft<0, true>(Tw{nullptr, nullptr, log2N}, zr, zi, log2N, false);
  for (int n = threadIdx.x; n < N; n += blockDim.x) kf[(size_t)h * N + n] = make_float2(zr[SIDX(n)], zi[SIDX(n)]);
}

// Byte offset of the twiddle table behind the two planes.
__device__ __forceinline__ int tw_offset(int P, int stBytes) { return (2 * P * stBytes + 15) & ~15; }

// 16-byte global accesses (the PAIR kernels): V elements of IO per access, V = 8 for 16-bit and 4 for fp32.
template <typename IO> struct Vec16 { static constexpr int V = 16 / sizeof(IO); };
__device__ __forceinline__ void unpack16(const uint4& q, float* f, const float*) {
  f[0] = __uint_as_float(q.x); f[1] = __uint_as_float(q.y); f[2] = __uint_as_float(q.z); f[3] = __uint_as_float(q.w);
}
__device__ __forceinline__ void unpack16(const uint4& q, float* f, const __nv_bfloat16*) {
  const uint32_t w[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) { f[2 * i] = __uint_as_float(w[i] << 16); f[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u); }
}
__device__ __forceinline__ void unpack16(const uint4& q, float* f, const __half*) {
  const uint32_t w[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 v = __half22float2(*reinterpret_cast<const __half2*>(&w[i]));
    f[2 * i] = v.x; f[2 * i + 1] = v.y;
  }
}
__device__ __forceinline__ uint4 pack16(const float* f, float*) {
  return make_uint4(__float_as_uint(f[0]), __float_as_uint(f[1]), __float_as_uint(f[2]), __float_as_uint(f[3]));
}
__device__ __forceinline__ uint4 pack16(const float* f, __nv_bfloat16*) {
  return make_uint4(pack2<true>(f[0], f[1]), pack2<true>(f[2], f[3]), pack2<true>(f[4], f[5]), pack2<true>(f[6], f[7]));
}
__device__ __forceinline__ uint4 pack16(const float* f, __half*) {
  return make_uint4(pack2<false>(f[0], f[1]), pack2<false>(f[2], f[3]), pack2<false>(f[4], f[5]), pack2<false>(f[6], f[7]));
}

// load_pair with 16-byte loads: L % V == 0 and 16-byte aligned rows (the caller checks), Lin = min(L, N).
template <typename IO, typename ST>
__device__ __forceinline__ void load_pair16(ST* zr, ST* zi, const IO* p0, const IO* p1, int Lin, int N) {
  constexpr int V = Vec16<IO>::V;
  const int T = blockDim.x;
  for (int v = threadIdx.x; v < N / V; v += T) {
    const int n = v * V;
    float a[V], b[V];
    if (n < Lin) {
      unpack16(*reinterpret_cast<const uint4*>(p0 + n), a, p0);
      if (p1 != nullptr) unpack16(*reinterpret_cast<const uint4*>(p1 + n), b, p1);
      else {
#pragma unroll
        for (int i = 0; i < V; ++i) b[i] = 0.f;
      }
    } else {
#pragma unroll
      for (int i = 0; i < V; ++i) { a[i] = 0.f; b[i] = 0.f; }
    }
#pragma unroll
    for (int i = 0; i < V; ++i) { st(zr + SIDX(n + i), a[i]); st(zi + SIDX(n + i), b[i]); }
  }
}

// Grid (ceil(B/2), H), block a multiple of 32 (at most 512), dynamic smem 2*(N+N/32)*sizeof(ST) bytes.
// ST: shared-memory element type: fp32 up to N = 16K; the compute type (bf16/fp16) for N = 32K, where the
// MMA operands are rounded to that type anyway (one extra rounding: the inverse stages' input twiddles).
// flags bit 0: with tensor cores and N >= 256, do the last forward stage, the product and the first inverse
// stage in one pass (stage_b_conv); clear: three passes through shared memory (the unfused twin).
// flags bit 1: multiply by conj(Kf): the adjoint of the convolution, du = K^T dy + D * dy (backward for u).
// PAIR (the _w2 kernels; tensor cores, N >= 256): the last two forward stages, the product and the first two inverse
// stages per warp in registers (conv256_warp; pair_table_bytes(N) more dynamic smem, behind the twiddle table;
// flags bit 0 is then ignored).
template <typename IO, int CM, typename ST, bool PAIR = false>
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
  constexpr int U = 8;   // loads in flight per thread in the global phases
  const int T = blockDim.x;
  // PAIR kernels: 16-byte global accesses when every row starts 16-byte aligned (L % V == 0; N % V == 0 always)
  const bool vec = PAIR && L % Vec16<IO>::V == 0 && (reinterpret_cast<uintptr_t>(u) & 15) == 0
                   && (reinterpret_cast<uintptr_t>(y) & 15) == 0;
  // PAIR: with L <= N/2 and a CUDA-core first stage, z[N/2, N) is never read (stage_first_pair skips the zeros)
  const bool half = PAIR && 2 * L <= N;
  const int Nz = half && pair_half_load(log2N) ? N / 2 : N;
  if (PAIR && vec) load_pair16(zr, zi, u0, two ? u1 : nullptr, Lin, Nz);
  else load_pair(zr, zi, u0, two ? u1 : nullptr, Lin, Nz);
  const Tw tw = tw_init(reinterpret_cast<float2*>(smem_raw + tw_offset(P, sizeof(ST))), log2N);
  float2* tw256 = nullptr;
  if (PAIR && CM != 0 && N >= 256) {   // two stages per warp: the per-lane twiddles behind the table
    tw256 = reinterpret_cast<float2*>(smem_raw + tw_offset(P, sizeof(ST))) + tw_entries(N);
    tw256_init(tw256);
  }
  __syncthreads();
  const float conj = (flags & 2) ? -1.0f : 1.0f;   // -1: multiply by conj(Kf): the adjoint (du = K^T dy)
  conv_smem<CM, ST, PAIR>(tw, zr, zi, log2N, kf + (size_t)h * N, conj, flags & 1, tw256, half);
  const float d = D[h];
  IO* y0 = y + ((size_t)b0 * H + h) * L;
  IO* y1 = y0 + (size_t)H * L;
  if (PAIR && vec) {
    constexpr int V = Vec16<IO>::V;
    for (int v = threadIdx.x; v < L / V; v += T) {
      const int n = v * V;
      float a[V], o[V];
      unpack16(*reinterpret_cast<const uint4*>(u0 + n), a, u0);
#pragma unroll
      for (int i = 0; i < V; ++i) o[i] = fmaf(d, a[i], ld(zr + SIDX(n + i)));
      *reinterpret_cast<uint4*>(y0 + n) = pack16(o, y0);
      if (two) {
        unpack16(*reinterpret_cast<const uint4*>(u1 + n), a, u1);
#pragma unroll
        for (int i = 0; i < V; ++i) o[i] = fmaf(d, a[i], ld(zi + SIDX(n + i)));
        *reinterpret_cast<uint4*>(y1 + n) = pack16(o, y1);
      }
    }
    return;
  }
  store_pair(y0, y1, zr, zi, u0, u1, d, L, two);
}

// Tensor-core kernels with 16-bit I/O or 16-bit shared memory are capped at 64 registers and take up to 1024
// threads (a 32K-point block, alone on its SM, can then run 32 warps; smaller FFTs run several blocks of 64-256
// threads per SM); the others keep 128 registers and at most 512 threads (fp32 I/O with fp32 shared memory
// spills at 64).
#define FB_CAP64(IO, CM, ST) (CM != 0 && (sizeof(IO) == 2 || sizeof(ST) == 2))
#define FB_CONV(NAME, IO, CM, ST)                                                                          \
  extern "C" __global__ void __launch_bounds__(FB_CAP64(IO, CM, ST) ? 1024 : 512, 1) NAME(                  \
      const IO* __restrict__ u, const float2* __restrict__ kf,                                               \
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

// Two radix-16 stages per warp in registers (PAIR): at most 768 threads, so up to 85 registers (80 after rounding):
// under the 64-register cap ptxas spilled a few bytes around conv256_warp.
#define FB_CONV_W2(NAME, IO, CM, ST)                                                                       \
  extern "C" __global__ void __launch_bounds__(FB_CAP64(IO, CM, ST) ? 768 : 512, 1) NAME(                   \
      const IO* __restrict__ u, const float2* __restrict__ kf,                                               \
      const float* __restrict__ D, IO* __restrict__ y, int B, int H, int L, int log2N, int flags) {      \
    fb_conv_forward<IO, CM, ST, true>(u, kf, D, y, B, H, L, log2N, flags);                               \
  }
// name: fb_conv_fwd_<io>_<compute>[_s16]_w2
FB_CONV_W2(fb_conv_fwd_f32_bf16_w2, float, 2, float)
FB_CONV_W2(fb_conv_fwd_f32_f16_w2, float, 1, float)
FB_CONV_W2(fb_conv_fwd_bf16_bf16_w2, __nv_bfloat16, 2, float)
FB_CONV_W2(fb_conv_fwd_f16_f16_w2, __half, 1, float)
FB_CONV_W2(fb_conv_fwd_f32_bf16_s16_w2, float, 2, __nv_bfloat16)
FB_CONV_W2(fb_conv_fwd_f32_f16_s16_w2, float, 1, __half)
FB_CONV_W2(fb_conv_fwd_bf16_bf16_s16_w2, __nv_bfloat16, 2, __nv_bfloat16)
FB_CONV_W2(fb_conv_fwd_f16_f16_s16_w2, __half, 1, __half)

// The _w3 kernels: the _w2 scheme with fewer shared-memory passes on the outer stages (monarch_outer.cuh).
//  * J = 3 (N = 8K in _w3; N = 16K and 32K in the _w3b kernels, at most 512 threads and 128 registers: at 80 the
//    column units of R1 = 4 and 8 tiles spilled): the first stage and the S = 256 stage as one column FFT per warp;
//  * J = 2 (N = 512 - 2K, _w3): the first stage from and to global memory.
// Other N (and the N of the other family; and every N on sm_80, where the new paths spilled: the plans run the _w2
// kernels there): exactly the _w2 kernels' code. Same arguments and shared memory as _w2; flags bits 8-15 (J = 2
// only): batch pairs per block, run one after the other (the tables are built once, the later pairs read the channel's
// spectrum from L1); the grid then has ceil(ceil(B/2) / pairs) blocks in x.
// blockIdx through volatile asm: the row pointers are recomputed in each global phase instead of staying live across
// the FFT phases (registers are what limits those).
__device__ __forceinline__ int cta_x() { int v; asm volatile("mov.u32 %0, %%ctaid.x;" : "=r"(v)); return v; }
__device__ __forceinline__ int cta_y() { int v; asm volatile("mov.u32 %0, %%ctaid.y;" : "=r"(v)); return v; }

template <typename IO, int CM, typename ST, bool BIG>
__device__ void fb_conv_forward_w3(const IO* __restrict__ u, const float2* __restrict__ kf, const float* __restrict__ D,
                                   IO* __restrict__ y, int B, int H, int L, int log2N, int flags) {
  const int J = (log2N - 1) >> 2, lR1 = log2N - 4 * J;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
  const bool outer = false, glob = false;   // sm_80: spilled 4-28 bytes; plans pick _w2 there (OuterStages), never these
#else
  const bool outer = J == 3 && (BIG ? lR1 >= 2 : lR1 == 1), glob = !BIG && J == 2 && lR1 < 4;
#endif
  if (!outer && !glob) { fb_conv_forward<IO, CM, ST, true>(u, kf, D, y, B, H, L, log2N, flags); return; }
  extern __shared__ __align__(16) unsigned char smem_raw[];
  ST* smem = reinterpret_cast<ST*>(smem_raw);
  const int N = 1 << log2N, P = N + (N >> 5);
  ST* zr = smem; ST* zi = smem + P;
  const bool half = 2 * L <= N;   // z is zero from N/2 on and only outputs below N/2 are kept
  const int Lin = L < N ? L : N;
  const bool vec = L % Vec16<IO>::V == 0 && (reinterpret_cast<uintptr_t>(u) & 15) == 0
                   && (reinterpret_cast<uintptr_t>(y) & 15) == 0;
  const int per = (flags >> 8) & 255;   // batch pairs per block (0: 1), one after the other (N <= 2K, _w3 only)
  const int npair = glob && per > 1 ? per : 1;
  const Tw tw = tw_init(reinterpret_cast<float2*>(smem_raw + tw_offset(P, sizeof(ST))), log2N);
  float2* tw256 = reinterpret_cast<float2*>(smem_raw + tw_offset(P, sizeof(ST))) + tw_entries(N);
  tw256_init(tw256);
  for (int pp = 0; pp < npair; ++pp) {
    const int b0 = 2 * (cta_x() * npair + pp);
    if (b0 >= B) break;   // the same for the whole block
    if (outer) {
      if (pp > 0) __syncthreads();   // the previous pair's store phase has read the planes
      const IO* u0 = u + ((size_t)b0 * H + cta_y()) * L;
      const IO* u1 = b0 + 1 < B ? u0 + (size_t)H * L : nullptr;
      if (vec) load_pair16(zr, zi, u0, u1, Lin, half ? N / 2 : N);
      else load_pair(zr, zi, u0, u1, Lin, half ? N / 2 : N);
    }
    __syncthreads();
    if (outer) outer_pair<true, CM == 2, BIG>(tw, zr, zi, log2N, half);
    else {
      const IO* u0 = u + ((size_t)b0 * H + cta_y()) * L;
      first_fwd_global(tw, zr, zi, u0, b0 + 1 < B ? u0 + (size_t)H * L : nullptr, Lin, log2N, half);
    }
    __syncthreads();
    const float conj = (flags & 2) ? -1.0f : 1.0f;   // -1: multiply by conj(Kf): the adjoint (du = K^T dy)
    conv256_warp_v4<CM == 2>(tw, tw256, zr, zi, N, 1.0f / 16.0f, kf + (size_t)cta_y() * N, conj);
    __syncthreads();
    if (outer) {
      outer_pair<false, CM == 2, BIG>(tw, zr, zi, log2N, half);
      __syncthreads();
    }
    const int h = cta_y(), b1 = 2 * (cta_x() * npair + pp);
    const bool two = b1 + 1 < B;
    const IO* u0 = u + ((size_t)b1 * H + h) * L;
    const IO* u1 = u0 + (size_t)H * L;
    IO* y0 = y + ((size_t)b1 * H + h) * L;
    IO* y1 = y0 + (size_t)H * L;
    const float d = D[h];
    if (glob) { first_inv_global(tw, zr, zi, y0, y1, u0, u1, d, L, two, log2N, half); continue; }
    if (vec) {
      constexpr int V = Vec16<IO>::V;
      for (int v = threadIdx.x; v < L / V; v += blockDim.x) {
        const int n = v * V;
        float a[V], o[V];
        unpack16(*reinterpret_cast<const uint4*>(u0 + n), a, u0);
#pragma unroll
        for (int i = 0; i < V; ++i) o[i] = fmaf(d, a[i], ld(zr + SIDX(n + i)));
        *reinterpret_cast<uint4*>(y0 + n) = pack16(o, y0);
        if (two) {
          unpack16(*reinterpret_cast<const uint4*>(u1 + n), a, u1);
#pragma unroll
          for (int i = 0; i < V; ++i) o[i] = fmaf(d, a[i], ld(zi + SIDX(n + i)));
          *reinterpret_cast<uint4*>(y1 + n) = pack16(o, y1);
        }
      }
    } else {
      store_pair(y0, y1, zr, zi, u0, u1, d, L, two);
    }
  }
}

#define FB_CONV_W3(NAME, IO, CM, ST, BIG)                                                                  \
  extern "C" __global__ void __launch_bounds__(FB_CAP64(IO, CM, ST) && !BIG ? 768 : 512, 1) NAME(           \
      const IO* __restrict__ u, const float2* __restrict__ kf,                                               \
      const float* __restrict__ D, IO* __restrict__ y, int B, int H, int L, int log2N, int flags) {      \
    fb_conv_forward_w3<IO, CM, ST, BIG>(u, kf, D, y, B, H, L, log2N, flags);                             \
  }
// name: fb_conv_fwd_<io>_<compute>[_s16]_w3
FB_CONV_W3(fb_conv_fwd_f32_bf16_w3, float, 2, float, false)
FB_CONV_W3(fb_conv_fwd_f32_f16_w3, float, 1, float, false)
FB_CONV_W3(fb_conv_fwd_bf16_bf16_w3, __nv_bfloat16, 2, float, false)
FB_CONV_W3(fb_conv_fwd_f16_f16_w3, __half, 1, float, false)
FB_CONV_W3(fb_conv_fwd_f32_bf16_s16_w3, float, 2, __nv_bfloat16, false)
FB_CONV_W3(fb_conv_fwd_f32_f16_s16_w3, float, 1, __half, false)
FB_CONV_W3(fb_conv_fwd_bf16_bf16_s16_w3, __nv_bfloat16, 2, __nv_bfloat16, false)
FB_CONV_W3(fb_conv_fwd_f16_f16_s16_w3, __half, 1, __half, false)
// name: fb_conv_fwd_<io>_<compute>[_s16]_w3b (N = 16K, 32K; at most 512 threads)
FB_CONV_W3(fb_conv_fwd_f32_bf16_w3b, float, 2, float, true)
FB_CONV_W3(fb_conv_fwd_f32_f16_w3b, float, 1, float, true)
FB_CONV_W3(fb_conv_fwd_bf16_bf16_w3b, __nv_bfloat16, 2, float, true)
FB_CONV_W3(fb_conv_fwd_f16_f16_w3b, __half, 1, float, true)
FB_CONV_W3(fb_conv_fwd_f32_bf16_s16_w3b, float, 2, __nv_bfloat16, true)
FB_CONV_W3(fb_conv_fwd_f32_f16_s16_w3b, float, 1, __half, true)
FB_CONV_W3(fb_conv_fwd_bf16_bf16_s16_w3b, __nv_bfloat16, 2, __nv_bfloat16, true)
FB_CONV_W3(fb_conv_fwd_f16_f16_s16_w3b, __half, 1, __half, true)

// Kernel and D gradients, fp32 CUDA-core stages (the gradient sums B products; fp32 keeps it at 1e-6):
//   dkt[m] = sum_b sum_n dy[b,h,n] u[b,h,(n-m) mod N]: one complex FFT per batch pair for u (z = u[b] + i u[b+1])
//   and one for dy; Re(ifft(conj(Zu) * Zdy)) = corr(u[b], dy[b]) + corr(u[b+1], dy[b+1]) (the cross terms are
//   purely imaginary). Summed over pairs in frequency (in P), one inverse FFT at the end.
//   Written out: dk[h, j] = dkt[j] (j < Lk); bidirectional also dk[H*Lk + h*Lk + j] = dkt[N-1-j] (lag -(j+1)).
//   dD[h] = sum_b sum_n dy u.
// Grid (H), block a multiple of 32 (<= 512), dynamic smem 8*(N+N/32) + twiddle table (N <= 16K). scratch: (H, 2, N) float2
// (the u spectrum of the current pair, and P); each thread reads back only what it wrote, so no grid sync.
template <typename IO>
__device__ void fb_conv_dk(const IO* __restrict__ u, const IO* __restrict__ dy, float* __restrict__ dk,
                           float* __restrict__ dD, float2* __restrict__ scratch, int B, int H, int L, int Lk, int log2N,
                           int bidir) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  __shared__ float red[32];
  float* zr = reinterpret_cast<float*>(smem_raw);
  const int N = 1 << log2N, P = N + (N >> 5), h = blockIdx.x, T = blockDim.x;
  float* zi = zr + P;
  const Tw tw = tw_init(reinterpret_cast<float2*>(smem_raw + tw_offset(P, 4)), log2N);   // first used after a barrier
  const int Lin = L < N ? L : N;
  float2* su = scratch + (size_t)h * 2 * N;
  float2* acc = su + N;
  float dsum = 0.f;
  for (int b0 = 0; b0 < B; b0 += 2) {
    const bool two = b0 + 1 < B;
    const IO* u0 = u + ((size_t)b0 * H + h) * L;
    const IO* d0 = dy + ((size_t)b0 * H + h) * L;
    const IO* u1 = two ? u0 + (size_t)H * L : nullptr;
    const IO* d1 = two ? d0 + (size_t)H * L : nullptr;
    for (int n = threadIdx.x; n < L; n += T)
      dsum += ld(u0 + n) * ld(d0 + n) + (two ? ld(u1 + n) * ld(d1 + n) : 0.f);
    load_pair(zr, zi, u0, u1, Lin, N);
    __syncthreads();
    monarch_fft<0, true, float, true>(tw, zr, zi, log2N, false);
    for (int n = threadIdx.x; n < N; n += T) su[n] = make_float2(zr[SIDX(n)], zi[SIDX(n)]);
    __syncthreads();
    load_pair(zr, zi, d0, d1, Lin, N);
    __syncthreads();
    monarch_fft<0, true, float, true>(tw, zr, zi, log2N, false);
    for (int n = threadIdx.x; n < N; n += T) {   // acc += conj(Zu) * Zdy (same n per thread as su's writes)
      const float2 a = su[n];
      const float br = zr[SIDX(n)], bi = zi[SIDX(n)];
      const float2 p = make_float2(a.x * br + a.y * bi, a.x * bi - a.y * br);
      if (b0 == 0) acc[n] = p; else { const float2 q = acc[n]; acc[n] = make_float2(q.x + p.x, q.y + p.y); }
    }
    __syncthreads();
  }
  const float invN = 1.0f / (float)N;   // exact
  for (int n = threadIdx.x; n < N; n += T) { const float2 q = acc[n]; zr[SIDX(n)] = q.x * invN; zi[SIDX(n)] = q.y * invN; }
  __syncthreads();
  monarch_fft<0, false, float, true>(tw, zr, zi, log2N, false);
  for (int j = threadIdx.x; j < Lk; j += T) {
    dk[(size_t)h * Lk + j] = zr[SIDX(j)];
    if (bidir) dk[(size_t)H * Lk + (size_t)h * Lk + j] = zr[SIDX(N - 1 - j)];
  }
  for (int o = 16; o > 0; o >>= 1) dsum += __shfl_xor_sync(0xffffffffu, dsum, o);
  if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = dsum;
  __syncthreads();
  if (threadIdx.x == 0) {
    float s = 0.f;
    for (int w = 0; w < (T >> 5); ++w) s += red[w];
    dD[h] = s;
  }
}

#define FB_DK(NAME, IO)                                                                                         \
  extern "C" __global__ void __launch_bounds__(512) NAME(const IO* __restrict__ u, const IO* __restrict__ dy,    \
      float* __restrict__ dk, float* __restrict__ dD, float2* __restrict__ scratch, int B, int H, int L, int Lk, \
      int log2N, int bidir) {                                                                                   \
    fb_conv_dk<IO>(u, dy, dk, dD, scratch, B, H, L, Lk, log2N, bidir);                                          \
  }
FB_DK(fb_conv_dk_f32, float)
FB_DK(fb_conv_dk_bf16, __nv_bfloat16)
FB_DK(fb_conv_dk_f16, __half)
