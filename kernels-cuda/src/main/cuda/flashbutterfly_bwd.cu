// FlashButterfly backward, fused: du and the kernel/D gradients from one pass over (u, dy) on tensor cores.
// Shapes: B batch, H channels, L sequence length, N FFT size (power of two, 32 .. 32768; up to 16K both spectra in shared
// memory, at 32K u's in a global scratch zg: (ceil(B/2) * H) slots of 2 * (N + N/32) 16-bit values).
//   u, dy, du : (B, H, L) row-major, element type IO; du must not alias u or dy.
//   kf        : (H, N) float2, the kernel spectrum in the Monarch order of monarch.cuh (as flashbutterfly.cu's).
//   D, dD     : (H) fp32; acc: (H, N) float2, the spectral accumulator (zeroed by the caller); dk: (H, Lk) fp32,
//               bidirectional (2, H, Lk).
// One block per (batch pair, channel), as the forward: z_u = u[b] + i u[b+1], z_d = dy[b] + i dy[b+1] (two complex FFTs
// run as one of 2N points, scaled by 1/N per transform, bf16/fp16 MMA with fp32 accumulation). Then
//   du branch: Zd * conj(Kf), inverse, + D dy: exactly the forward kernel's adjoint (flags bit 1 there);
//   dk branch: acc[h] += conj(Zu) Zd (fp32 atomics). conj(U0 + i U1)(D0 + i D1) = (conj(U0) D0 + conj(U1) D1)
//     + i (conj(U0) D1 - conj(U1) D0); both brackets are spectra of real sequences (Hermitian), so the real part of
//     the inverse FFT of the sum over pairs is sum_b corr(u[b], dy[b]) exactly: no unpacking of the pairs.
//   dD[h] += sum over the pair of dy u (fp32 atomics, one per block).
// fb_bwd_dk_finish then runs per channel: the inverse FFT of acc[h] (fp32 on CUDA cores), its real part placed at the
// taps as flashbutterfly.cu's fb_conv_dk does: dk[h, j] = dkt[j], bidirectional also dk[H*Lk + h*Lk + j] = dkt[N-1-j]
// (lag -(j+1)); circular lags wrap mod N = L by construction.
// Scale: both spectra carry 1/N, so acc = sum conj(Zu) Zd / N^2 and dkt = (1/N) IFFT(N^2 acc) = N * IFFT(acc).
// N = 32K (the _zg kernels and fb_bwd_dk_finish_global) is opt-in on the Java side: not yet run on a GPU since its fix.
// Uses monarch.cuh's stages (stage_cc, stage_mma_a/b, make_frag_b, mma16816, pack2, monarch_fft, tw_init) unchanged.
#include "monarch.cuh"
#include "pair_io.cuh"
#include "bwd_core.cuh"   // tw_offset4, acc_add4, fft_fwd_two, stage_b_bwd

// (ur, ui) = (u0, u1) (ur null: not stored), (dr, di) = (d0, d1) for n < Lin, zero up to N (second rows null: zero); returns this thread's
// sum of u * dy over n < L (the dD term; Lin = L whenever the pair is read in full, i.e. every mode).
template <typename IO, typename ST>
__device__ __forceinline__ float load_two_pairs(ST* ur, ST* ui, ST* dr, ST* di, const IO* u0, const IO* u1,
                                                const IO* d0, const IO* d1, int Lin, int N) {
  constexpr int U = 4;
  const int T = blockDim.x;
  float s = 0.f;
  for (int n0 = threadIdx.x; n0 < N; n0 += U * T) {
    float a[U], b[U], c[U], e[U];
#pragma unroll
    for (int j = 0; j < U; ++j) {
      const int n = n0 + j * T;
      const bool in = n < Lin, in1 = in && u1 != nullptr;
      a[j] = in ? ld(u0 + n) : 0.f;
      c[j] = in ? ld(d0 + n) : 0.f;
      b[j] = in1 ? ld(u1 + n) : 0.f;
      e[j] = in1 ? ld(d1 + n) : 0.f;
    }
#pragma unroll
    for (int j = 0; j < U; ++j) {
      const int n = n0 + j * T;
      s = fmaf(a[j], c[j], fmaf(b[j], e[j], s));
      if (n < N) {
        if (ur != nullptr) { st(ur + SIDX(n), a[j]); st(ui + SIDX(n), b[j]); }
        st(dr + SIDX(n), c[j]); st(di + SIDX(n), e[j]);
      }
    }
  }
  return s;
}


// As stage_b_bwd, for N = 32K (one spectrum in shared memory): Zu complete (all stages) at ur/ui in the SIDX layout
// (a global scratch slot of this block), read per position; only dy's tile is transformed here.
template <bool BF16, typename ST>
__device__ void stage_b_bwd_mem(const Tw& T, ST* zr, ST* zi, const ST* ur, const ST* ui, int N, float scale,
                                const float2* __restrict__ k, float2* __restrict__ acc, bool du) {
  FragB F; make_frag_b<BF16>(T, F);
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  for (int tile = warp; tile < (N >> 8); tile += nw) {
    const int base = tile << 8;
    uint32_t xr[4], xi[4];
    load_tile_b<BF16>(zr, zi, base, g, t, xr, xi);
    __syncwarp();
    uint32_t ar[4], ai[4];
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float dr[4], di[4];
      mma_b<BF16, true>(F, j, xr, xi, dr, di);
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) {
        const int p = base + (g + 8 * hh) * 16 + 8 * j + 2 * t;
        const float a0 = dr[2 * hh] * scale, b0 = di[2 * hh] * scale, a1 = dr[2 * hh + 1] * scale,
                    b1 = di[2 * hh + 1] * scale;
        const float u0r = ld(ur + SIDX(p)), u0i = ld(ui + SIDX(p)), u1r = ld(ur + SIDX(p + 1)), u1i = ld(ui + SIDX(p + 1));
        acc_conj_product(acc + p, a0, b0, a1, b1, u0r, u0i, u1r, u1i);
        if (du) conj_k_pack<BF16>(k + p, a0, b0, a1, b1, ar[2 * j + hh], ai[2 * j + hh]);
      }
    }
    if (du) {
      inverse_b_store<BF16>(F, ar, ai, zr, zi, base, g, t);
    }
    __syncwarp();
  }
}

// Grid (ceil(B/2), H), block a multiple of 32, dynamic smem 4*(N+N/32)*sizeof(ST) (aligned to 16) + 8*tw_entries(N).
// flags bit 0: fused middle (N >= 256: stage_b_bwd); clear: the products as their own shared-memory pass (the twin).
// flags bit 2: dk and dD only (no du: du may be null).
// ZG (N = 32K, 16-bit storage): one spectrum in shared memory (2 planes); u's goes to this block's slot of the global
// scratch zg ((ceil(B/2) * H) slots of 2 * (N + N/32) ST, SIDX layout) and is read back per position by stage_b_bwd_mem.
template <typename IO, int CM, typename ST, bool ZG>
__device__ void fb_bwd(const IO* __restrict__ u, const IO* __restrict__ dy, const float2* __restrict__ kf,
                       const float* __restrict__ D, IO* __restrict__ du, float2* __restrict__ acc, float* __restrict__ dD,
                       ST* zg, int B, int H, int L, int log2N, int flags) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  __shared__ float red[32];
  ST* smem = reinterpret_cast<ST*>(smem_raw);
  const int N = 1 << log2N, P = N + (N >> 5), h = blockIdx.y, b0 = 2 * blockIdx.x, T = blockDim.x;
  const bool two = b0 + 1 < B, wantDu = (flags & 4) == 0;
  const bool fused = (flags & 1) && N >= 256;
  const int Lin = L < N ? L : N;
  const IO* u0 = u + ((size_t)b0 * H + h) * L;
  const IO* d0 = dy + ((size_t)b0 * H + h) * L;
  const IO* u1 = two ? u0 + (size_t)H * L : nullptr;
  const IO* d1 = two ? d0 + (size_t)H * L : nullptr;
  ST *ur, *ui, *zr, *zi;
  float dsum;
  Tw tw;
  if constexpr (ZG) {
    zr = smem; zi = smem + P;
    ur = zg + ((size_t)blockIdx.y * gridDim.x + blockIdx.x) * 2 * P; ui = ur + P;
    load_pair(zr, zi, u0, u1, Lin, N);
    tw = tw_init(reinterpret_cast<float2*>(smem_raw + ((2 * P * (int)sizeof(ST) + 15) & ~15)), log2N);
    __syncthreads();
    monarch_fft<CM, true, ST, true>(tw, zr, zi, log2N, true);   // Zu / N, all stages; ends with a barrier
    const uint4* src = reinterpret_cast<const uint4*>(smem);    // both planes (2P ST = 4P bytes, 16-byte multiple)
    uint4* dst = reinterpret_cast<uint4*>(ur);
    for (int i = threadIdx.x; i < (2 * P * (int)sizeof(ST)) / 16; i += T) dst[i] = src[i];
    __syncthreads();   // the copy read the planes; the slot's writes are visible to the block after the barrier
    dsum = load_two_pairs<IO, ST>(nullptr, nullptr, zr, zi, u0, u1, d0, d1, Lin, N);
    __syncthreads();
    monarch_fft<CM, true, ST, true>(tw, zr, zi, log2N, true, fused);   // Zd / N
  } else {
    ur = smem; zr = smem + P; ui = smem + 2 * P; zi = smem + 3 * P;   // re = [ur | zr], im = [ui | zi]
    dsum = load_two_pairs(ur, ui, zr, zi, u0, u1, d0, d1, Lin, N);
    tw = tw_init(reinterpret_cast<float2*>(smem_raw + tw_offset4(P, sizeof(ST))), log2N);
    __syncthreads();
    fft_fwd_two<CM, ST>(tw, ur, ui, log2N, fused);   // Zu / N, Zd / N (without their last stage when fused); a barrier
  }
  const float2* k = kf + (size_t)h * N;
  float2* a = acc + (size_t)h * N;
  if (fused) {
    if constexpr (CM != 0) {
      if constexpr (ZG) stage_b_bwd_mem<CM == 2>(tw, zr, zi, ur, ui, N, 1.0f / 16.0f, k, a, wantDu);
      else stage_b_bwd<CM == 2>(tw, zr, zi, ur, ui, N, 1.0f / 16.0f, k, a, wantDu);
    }
  } else {
    for (int n = 2 * threadIdx.x; n < N; n += 2 * T) {   // two adjacent values per thread: one 16-byte atomic
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
  for (int o = 16; o > 0; o >>= 1) dsum += __shfl_xor_sync(0xffffffffu, dsum, o);
  if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = dsum;
  __syncthreads();
  if (threadIdx.x == 0) {
    float s = 0.f;
    for (int w = 0; w < (T >> 5); ++w) s += red[w];
    atomicAdd(dD + h, s);
  }
  if (!wantDu) return;
  monarch_fft<CM, false, ST, true>(tw, zr, zi, log2N, false, fused);
  const float d = D[h];
  IO* y0 = du + ((size_t)b0 * H + h) * L;
  IO* y1 = y0 + (size_t)H * L;
  store_pair(y0, y1, zr, zi, d0, d1, d, L, two);
}

// Register caps (ptxas -v, no spills): sm_90, 16-bit I/O or storage: 80 registers, up to 768 threads (the last stage
// holds both tiles and their accumulators: 100 bytes of spills at 64; the ZG kernels 44); fp32 I/O with fp32 storage:
// 128 registers, 512 threads. sm_80 (no vector
// atomics: four scalar ones per product pair): 512 threads, 128 registers.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#define FB_BWD_MAXT(IO, ST, ZG) 512
#else
#define FB_BWD_MAXT(IO, ST, ZG) ((ZG || sizeof(IO) == 2 || sizeof(ST) == 2) ? 768 : 512)
#endif
#define FB_BWD(NAME, IO, CM, ST, ZG)                                                                               \
  extern "C" __global__ void __launch_bounds__(FB_BWD_MAXT(IO, ST, ZG), 1) NAME(                                 \
      const IO* __restrict__ u, const IO* __restrict__ dy, const float2* __restrict__ kf,                          \
      const float* __restrict__ D, IO* __restrict__ du, float2* __restrict__ acc, float* __restrict__ dD,          \
      ST* zg, int B, int H, int L, int log2N, int flags) {                                                         \
    fb_bwd<IO, CM, ST, ZG>(u, dy, kf, D, du, acc, dD, zg, B, H, L, log2N, flags);                                  \
  }
// name: fb_bwd_<io>_<compute>[_s16 = 16-bit shared-memory storage][_zg: N = 32K, u's spectrum in global scratch]
FB_BWD(fb_bwd_bf16_bf16, __nv_bfloat16, 2, float, false)
FB_BWD(fb_bwd_f16_f16, __half, 1, float, false)
FB_BWD(fb_bwd_bf16_bf16_s16, __nv_bfloat16, 2, __nv_bfloat16, false)
FB_BWD(fb_bwd_f16_f16_s16, __half, 1, __half, false)
FB_BWD(fb_bwd_f32_bf16, float, 2, float, false)
FB_BWD(fb_bwd_f32_f16, float, 1, float, false)
FB_BWD(fb_bwd_f32_bf16_s16, float, 2, __nv_bfloat16, false)
FB_BWD(fb_bwd_f32_f16_s16, float, 1, __half, false)
FB_BWD(fb_bwd_bf16_bf16_s16_zg, __nv_bfloat16, 2, __nv_bfloat16, true)
FB_BWD(fb_bwd_f16_f16_s16_zg, __half, 1, __half, true)
FB_BWD(fb_bwd_f32_bf16_s16_zg, float, 2, __nv_bfloat16, true)
FB_BWD(fb_bwd_f32_f16_s16_zg, float, 1, __half, true)

// dk from the accumulator, one block per channel: dkt = N * IFFT(acc[h]) (fp32 CUDA-core stages), real part at the taps.
// Grid (H), block a multiple of 32 (<= 512), dynamic smem 8*(N+N/32) (aligned to 16) + 8*tw_entries(N).
extern "C" __global__ void __launch_bounds__(512) fb_bwd_dk_finish(const float2* __restrict__ acc, float* __restrict__ dk,
                                                                   int H, int Lk, int log2N, int bidir) {
  extern __shared__ __align__(16) unsigned char smem_fin[];
  const int N = 1 << log2N, P = N + (N >> 5), h = blockIdx.x;
  float* zr = reinterpret_cast<float*>(smem_fin);
  float* zi = zr + P;
  const Tw tw = tw_init(reinterpret_cast<float2*>(smem_fin + ((2 * P * 4 + 15) & ~15)), log2N);
  const float scale = (float)N;   // exact
  for (int n = threadIdx.x; n < N; n += blockDim.x) {
    const float2 q = acc[(size_t)h * N + n];
    zr[SIDX(n)] = q.x * scale; zi[SIDX(n)] = q.y * scale;
  }
  __syncthreads();
  monarch_fft<0, false, float, true>(tw, zr, zi, log2N, false);
  for (int j = threadIdx.x; j < Lk; j += blockDim.x) {
    dk[(size_t)h * Lk + j] = zr[SIDX(j)];
    if (bidir) dk[(size_t)H * Lk + (size_t)h * Lk + j] = zr[SIDX(N - 1 - j)];
  }
}

// The same for N = 32K, whose fp32 planes do not fit in shared memory: the stages run on a global scratch
// (H, 2, N + N/32) fp32 with sincospif twiddles, as flashbutterfly.cu's fb_spectrum_global. Grid (H), block <= 512, no smem.
extern "C" __global__ void __launch_bounds__(512) fb_bwd_dk_finish_global(const float2* __restrict__ acc,
                                                                          float* scratch, float* __restrict__ dk,
                                                                          int H, int Lk, int log2N, int bidir) {
  const int N = 1 << log2N, P = N + (N >> 5), h = blockIdx.x;
  float* zr = scratch + (size_t)h * 2 * P;
  float* zi = zr + P;
  const float scale = (float)N;   // exact
  for (int n = threadIdx.x; n < N; n += blockDim.x) {
    const float2 q = acc[(size_t)h * N + n];
    zr[SIDX(n)] = q.x * scale; zi[SIDX(n)] = q.y * scale;
  }
  __syncthreads();
  monarch_fft<0, false>(Tw{nullptr, nullptr, log2N}, zr, zi, log2N, false);
  for (int j = threadIdx.x; j < Lk; j += blockDim.x) {
    dk[(size_t)h * Lk + j] = zr[SIDX(j)];
    if (bidir) dk[(size_t)H * Lk + (size_t)h * Lk + j] = zr[SIDX(N - 1 - j)];
  }
}
