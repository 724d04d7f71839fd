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
// ThreePass.backward then inverts acc per channel with fb3b_rows_dk (fp16 tensor cores, per-row scale; the twin:
// fb3_rows_f32, inverse, scale N) and fb3_outer_inv_dk. At N1 <= 8 u's and dy's outer passes and dD are one launch,
// fb3b_outer2 (the twin: two fb3_outer_fwd launches and fb_dD, flashbutterfly3.cu).
// flags bit 0: fused middle (M >= 256: the last forward stage, the products and the first inverse stage in registers,
// stage_b_bwd; the _w2 kernels: the last two stages and the first two inverse ones per warp, conv256_warp_bwd); clear:
// the products as their own shared-memory pass (the twin). flags bit 2: dk only (SB not written). flags bit 3 (round
// 8c): the rows move between the scratch and shared memory with 16-byte global accesses (load_two_v, scratch_io.cuh's store_row16).
#include "monarch.cuh"
#include "bwd_core.cuh"   // tw_offset4, acc_add4, fft_fwd_two, stage_b_bwd
#include "scratch_io.cuh" // ldc, stc, store_row16

// conv256_warp (monarch_pair.cuh) for the backward: per 256-point chunk both spectra's last two forward stages in
// registers (u's chunk at ur/ui, dy's at zr/zi), acc += conj(Zu) Zd (fp32 atomics, positions as stage_b_bwd's), and
// for du (du true) Zd * conj(k) through the first two inverse stages back to zr/zi; u's chunk is never written.
template <bool BF16, typename ST>
__device__ void conv256_warp_bwd(const Tw& T, const float2* tw256, const ST* ur, const ST* ui, ST* zr, ST* zi, int N,
                                 float scale, const float2* __restrict__ k, float2* __restrict__ acc, bool du) {
  FragA F; make_frag_a<BF16>(T, F);
  constexpr uint32_t NEG2 = 0x80008000u;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  const float2* tl = tw256 + lane;
  for (int chunk = warp; chunk < (N >> 8); chunk += nw) {
    const int base = chunk << 8;
    uint32_t yr[4], yi[4], vr[4], vi[4];
    pair_stage16_fwd<BF16>(F, tl, zr, zi, base, g, t, scale, yr, yi);   // dy
    pair_stage16_fwd<BF16>(F, tl, ur, ui, base, g, t, scale, vr, vi);   // u
    uint32_t yn[4], vn[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) { yn[i] = yi[i] ^ NEG2; vn[i] = vi[i] ^ NEG2; }
    uint32_t pr[4], pi[4];   // Zd * scale * conj(k), as an A operand
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float dr[4], di[4], er[4], ei[4];
      mma_f16<BF16, true>(F, j, yr, yi, yn, dr, di);   // dy
      mma_f16<BF16, true>(F, j, vr, vi, vn, er, ei);   // u
      float x[4], y[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) { x[q] = dr[q] * scale; y[q] = di[q] * scale; }
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) {   // q = 2hh, 2hh + 1: positions p, p + 1 (16-byte aligned in acc)
        const int p = base + (g + 8 * hh) * 16 + 8 * j + 2 * t, q0 = 2 * hh, q1 = 2 * hh + 1;
        const float u0r = er[q0] * scale, u0i = ei[q0] * scale, u1r = er[q1] * scale, u1i = ei[q1] * scale;
        acc_conj_product(acc + p, x[q0], y[q0], x[q1], y[q1], u0r, u0i, u1r, u1i);
      }
      if (du) {
        float a[4], b[4];
#pragma unroll
        for (int q = 0; q < 4; ++q) {   // conj(k): (kr, -ki)
          const float2 kw = k[base + (g + 8 * (q >> 1)) * 16 + 8 * j + 2 * t + (q & 1)];
          a[q] = x[q] * kw.x + y[q] * kw.y;
          b[q] = y[q] * kw.x - x[q] * kw.y;
        }
        pr[2 * j] = pack2<BF16>(a[0], a[1]); pr[2 * j + 1] = pack2<BF16>(a[2], a[3]);
        pi[2 * j] = pack2<BF16>(b[0], b[1]); pi[2 * j + 1] = pack2<BF16>(b[2], b[3]);
      }
    }
    if (!du) continue;
    pair_inv_stages<BF16>(F, tl, pr, pi, zr, zi, base, g, t);   // the first two inverse stages, back to zr/zi
  }
}

// The forward stages before the last two of both rows (monarch_fft's PAIR scheme): the first (R1 < 16: stage_first_pair
// on each row; R1 = 16: one type-A pass over both), then radix 16 down to S = 256 over the 2M-point array. Scaled.
template <int CM, typename ST>
__device__ void fft_fwd_two_pair(const Tw& T, ST* ur, ST* ui, ST* zr, ST* zi, int log2N) {
  constexpr bool BF = CM == 2;
  const int N = 1 << log2N, J = (log2N - 1) / 4, R1 = 1 << (log2N - 4 * J);
  const float s16 = 1.0f / 16.0f, s1 = 1.0f / R1;
  if (J > 1) {
    switch (R1) {
      case 2: stage_first_pair<2, true, ST>(T, ur, ui, log2N, s1, false); stage_first_pair<2, true, ST>(T, zr, zi, log2N, s1, false); break;
      case 4: stage_first_pair<4, true, ST>(T, ur, ui, log2N, s1, false); stage_first_pair<4, true, ST>(T, zr, zi, log2N, s1, false); break;
      case 8: stage_first_pair<8, true, ST>(T, ur, ui, log2N, s1, false); stage_first_pair<8, true, ST>(T, zr, zi, log2N, s1, false); break;
      default: stage_mma_a<BF, true, ST>(T, ur, ui, log2N - 4, 2, s1);
    }
    __syncthreads();
  }
  for (int s = 2; s <= J - 1; ++s) {
    const int lS = 4 * (J + 1 - s), S = 1 << lS;
    stage_mma_a<BF, true, ST>(T, ur, ui, lS, 2 * N / (16 * S), s16);
    __syncthreads();
  }
}

// Both rows into shared memory with 16-byte loads: V = 16 / sizeof(SC) complex elements per load (4 of bf16x2 / half2,
// 2 of float2), a quarter of the load instructions and four times the bytes in flight per load of the element loop.
// Every row starts at a multiple of M >= 32 elements: 16-byte aligned.
template <typename SC, typename ST>
__device__ __forceinline__ void load_two_v(const SC* __restrict__ ra, const SC* __restrict__ rb, ST* ur, ST* ui, ST* zr,
                                           ST* zi, int M) {
  constexpr int V = 16 / sizeof(SC);
  const uint4* va = reinterpret_cast<const uint4*>(ra);
  const uint4* vb = reinterpret_cast<const uint4*>(rb);
  for (int i = threadIdx.x; i < M / V; i += blockDim.x) {
    const uint4 a = va[i], b = vb[i];
    const SC* ea = reinterpret_cast<const SC*>(&a);
    const SC* eb = reinterpret_cast<const SC*>(&b);
#pragma unroll
    for (int j = 0; j < V; ++j) {
      const int n = V * i + j;
      const float2 x = ldc(ea + j), y = ldc(eb + j);
      st(ur + SIDX(n), x.x); st(ui + SIDX(n), x.y); st(zr + SIDX(n), y.x); st(zi + SIDX(n), y.y);
    }
  }
}

// Grid (pairs * N1, H), block a multiple of 32; dynamic smem 4 * (M + M/32) * sizeof(ST) (aligned to 16) + 8 *
// tw_entries(M) (FlashButterflyConv.bwdSmemBytes(M, 16-bit)), + pair_table_bytes(M) for PAIR (the _w2 kernels).
template <int CM, typename ST, typename SC, bool PAIR = false>
__device__ void fb3b_mid(const SC* __restrict__ SA, SC* __restrict__ SB, const float2* __restrict__ kf,
                         float2* __restrict__ acc, int pairs, int H, int log2N, int log2M, int flags) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  ST* smem = reinterpret_cast<ST*>(smem_raw);
  const int M = 1 << log2M, P = M + (M >> 5), h = blockIdx.y, T = blockDim.x;
  const int k1 = blockIdx.x / pairs, p = blockIdx.x - k1 * pairs;
  const bool wantDu = (flags & 4) == 0, fused = (flags & 1) && M >= 256, vec = (flags & 8) != 0;
  ST *ur = smem, *zr = smem + P, *ui = smem + 2 * P, *zi = smem + 3 * P;   // re = [ur | zr], im = [ui | zi]
  const size_t N = (size_t)1 << log2N, off = ((size_t)p * H + h) * N + (size_t)k1 * M;
  const SC* ra = SA + off;
  SC* rb = SB + off;
  if (vec) load_two_v(ra, rb, ur, ui, zr, zi, M);
  else
    for (int n = threadIdx.x; n < M; n += T) {
      const float2 a = ldc(ra + n), b = ldc(rb + n);
      st(ur + SIDX(n), a.x); st(ui + SIDX(n), a.y); st(zr + SIDX(n), b.x); st(zi + SIDX(n), b.y);
    }
  float2* tws = reinterpret_cast<float2*>(smem_raw + tw_offset4(P, sizeof(ST)));
  const Tw tw = tw_init(tws, log2M);
  const float2* k = kf + (size_t)h * N + (size_t)k1 * M;
  float2* a = acc + (size_t)h * N + (size_t)k1 * M;
  if constexpr (PAIR && CM != 0) {
    if (fused) {   // the last two stages of both, the products and du's first two inverse stages per warp
      float2* tw256 = tws + tw_entries(M);
      tw256_init(tw256);
      __syncthreads();
      fft_fwd_two_pair<CM, ST>(tw, ur, ui, zr, zi, log2M);
      conv256_warp_bwd<CM == 2>(tw, tw256, ur, ui, zr, zi, M, 1.0f / 16.0f, k, a, wantDu);
      if (!wantDu) return;
      __syncthreads();
      monarch_fft<CM, false, ST, true, true>(tw, zr, zi, log2M, false);   // the remaining inverse stages; a barrier
      if (vec) store_row16(rb, zr, zi, M);
      else for (int n = threadIdx.x; n < M; n += T) stc(rb + n, ld(zr + SIDX(n)), ld(zi + SIDX(n)));
      return;
    }
  }
  __syncthreads();
  fft_fwd_two<CM, ST>(tw, ur, ui, log2M, fused);   // Zu / M, Zd / M (without their last stage when fused); a barrier
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
  if (vec) store_row16(rb, zr, zi, M);
  else for (int n = threadIdx.x; n < M; n += T) stc(rb + n, ld(zr + SIDX(n)), ld(zi + SIDX(n)));
}

// Register caps as flashbutterfly_bwd.cu's (stage_b_bwd holds both tiles and their accumulators): sm_90 with 16-bit
// storage 768 threads (80 registers), fp32 storage 512; sm_80 512.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#define FB3B_MAXT(ST) 512
#else
#define FB3B_MAXT(ST) (sizeof(ST) == 2 ? 768 : 512)
#endif
#define FB3B_MID(NAME, CM, ST, SC, PAIR, MAXT)                                                                     \
  extern "C" __global__ void __launch_bounds__(MAXT, 1) NAME(const SC* __restrict__ SA,                          \
      SC* __restrict__ SB, const float2* __restrict__ kf, float2* __restrict__ acc, int pairs, int H, int log2N,  \
      int log2M, int flags) {                                                                                      \
    fb3b_mid<CM, ST, SC, PAIR>(SA, SB, kf, acc, pairs, H, log2N, log2M, flags);                                    \
  }
// name: fb3b_mid_<compute>[_s16: 16-bit shared memory and scratch][_w2: two stages per warp, 512 threads at most]
FB3B_MID(fb3b_mid_bf16_s16, 2, __nv_bfloat16, __nv_bfloat162, false, FB3B_MAXT(__nv_bfloat16))
FB3B_MID(fb3b_mid_f16_s16, 1, __half, __half2, false, FB3B_MAXT(__half))
FB3B_MID(fb3b_mid_bf16, 2, float, float2, false, FB3B_MAXT(float))
FB3B_MID(fb3b_mid_f16, 1, float, float2, false, FB3B_MAXT(float))
FB3B_MID(fb3b_mid_bf16_s16_w2, 2, __nv_bfloat16, __nv_bfloat162, true, 512)
FB3B_MID(fb3b_mid_f16_s16_w2, 1, __half, __half2, true, 512)
FB3B_MID(fb3b_mid_bf16_w2, 2, float, float2, true, 512)
FB3B_MID(fb3b_mid_f16_w2, 1, float, float2, true, 512)

// ---- round 8c: the dk finish on tensor cores and one outer pass for u and dy (ThreePass.backward's default steps) ----

// The dk finish's inverse inner FFT on tensor cores: per row of acc (M complex fp32, Monarch order, grid: one block
// per row), out = scale * IFFT_unscaled(in) in natural order (the twin: fb3_rows_f32 with inverse = 1). The row is
// scaled by a power of two s so that max(|re|, |im|) lies in [2^14 / M, 2^15 / M) (read once for the maximum, once
// for the values: the second read of the row mostly hits L2), rounded to fp16 into 16-bit shared memory and inverted
// by monarch.cuh's fp16 MMA stages with fp32 accumulation. The inverse stages do not scale (monarch.cuh applies the
// stage scale to forward stages only): an intermediate after stages of radix product P is at most P times the input's
// largest value, so every value stays below 2^15 < 65504 (the first sitting, fb3m-1, scaled to [128, 256) assuming
// scaled stages: dk came out M times too large, caught by the tests); values below 2^-14 (fp16 subnormals) keep an
// absolute error <= 2^-25, below 2^-24 of the row's largest value. out = that times scale / s. fp16 rounding
// (2^-11) in ~4 stages: ~1e-3 of the row's largest value, against the bf16 spectra's ~5e-3 before it. in and out may
// alias (each block reads its whole row before it writes).
// Dynamic smem: FlashButterflyConv.smemBytes(M, true) (two 16-bit planes and the twiddle table).
extern "C" __global__ void __launch_bounds__(512) fb3b_rows_dk(const float2* in, float2* out, int log2M, float scale) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  __shared__ float red[32];
  const int M = 1 << log2M, P = M + (M >> 5), T = blockDim.x;
  __half* zr = reinterpret_cast<__half*>(smem_raw);
  __half* zi = zr + P;
  const size_t r = (size_t)blockIdx.x * M;
  const float4* row = reinterpret_cast<const float4*>(in + r);   // M >= 32: 16-byte aligned rows
  float mx = 0.f;
  for (int i = threadIdx.x; i < (M >> 1); i += T) {
    const float4 v = row[i];
    mx = fmaxf(mx, fmaxf(fmaxf(fabsf(v.x), fabsf(v.y)), fmaxf(fabsf(v.z), fabsf(v.w))));
  }
  for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
  if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = mx;
  const Tw tw = tw_init(reinterpret_cast<float2*>(smem_raw + ((4 * P + 15) & ~15)), log2M);
  __syncthreads();
  mx = 0.f;
  for (int w = 0; w < (T >> 5); ++w) mx = fmaxf(mx, red[w]);
  int e = 0;
  if (mx > 0.f && mx <= 3.0e38f) frexpf(mx, &e);   // mx in [2^(e-1), 2^e); zero or non-finite rows: e = 0
  const float s = ldexpf(1.0f, 15 - log2M - e);     // mx * s in [2^(14 - log2M), 2^(15 - log2M))
  for (int i = threadIdx.x; i < (M >> 1); i += T) {
    const float4 v = row[i];
    st(zr + SIDX(2 * i), v.x * s); st(zi + SIDX(2 * i), v.y * s);
    st(zr + SIDX(2 * i + 1), v.z * s); st(zi + SIDX(2 * i + 1), v.w * s);
  }
  __syncthreads();
  monarch_fft<1, false, __half, true>(tw, zr, zi, log2M, false);   // unscaled inverse; ends with a barrier
  const float back = scale / s;
  float4* o = reinterpret_cast<float4*>(out + r);
  for (int i = threadIdx.x; i < (M >> 1); i += T)
    o[i] = make_float4(ld(zr + SIDX(2 * i)) * back, ld(zi + SIDX(2 * i)) * back, ld(zr + SIDX(2 * i + 1)) * back,
                       ld(zi + SIDX(2 * i + 1)) * back);
}

// Two adjacent inputs as fp32 (vector load when VEC: the address is 2-element aligned).
__device__ __forceinline__ void in2(const float* p, bool vec, float& a, float& b) {
  if (vec) { const float2 v = *reinterpret_cast<const float2*>(p); a = v.x; b = v.y; } else { a = p[0]; b = p[1]; }
}
__device__ __forceinline__ void in2(const __nv_bfloat16* p, bool vec, float& a, float& b) {
  if (vec) { const float2 v = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(p)); a = v.x; b = v.y; }
  else { a = ld(p); b = ld(p + 1); }
}
__device__ __forceinline__ void in2(const __half* p, bool vec, float& a, float& b) {
  if (vec) { const float2 v = __half22float2(*reinterpret_cast<const __half2*>(p)); a = v.x; b = v.y; }
  else { a = ld(p); b = ld(p + 1); }
}

// twiddle exp(-2 pi i k m / N) for k < R (as flashbutterfly3.cu's OuterTw: exact sincospif every 8th k, products
// with w^1 between, <= 8 ulp).
struct OuterTwB {
  float2 w1; int m; float arg;
  __device__ __forceinline__ OuterTwB(int m_, int log2N) : m(m_), arg(-2.0f / (float)(1 << log2N)) {
    sincospif((float)m * arg, &w1.y, &w1.x);
  }
  __device__ __forceinline__ float2 next(int k, float2 prev) const {
    if ((k & 7) == 0) { float2 w; if (k == 0) return make_float2(1.f, 0.f); sincospif((float)(k * m) * arg, &w.y, &w.x); return w; }
    return make_float2(prev.x * w1.x - prev.y * w1.y, prev.x * w1.y + prev.y * w1.x);
  }
};

// One input's part of fb3b_outer2 (fb3_outer_fwd's pass 1 for C columns m .. m + C - 1 of pair p): rows b, b + 1 of
// in (zero beyond L) packed as re / im, the N1-point DFT, twiddles, scale, into out's row (p, h).
template <int R, int C, typename IO, typename SC>
__device__ __forceinline__ void outer2_one(const IO* __restrict__ in, SC* __restrict__ out, int B, int H, int L, int b,
                                           int p, int h, int m, int log2N, int log2M, float scale) {
  const int M = 1 << log2M, N = 1 << log2N;
  const bool two = b + 1 < B, vec = (L & 1) == 0;
  const int Lin = L < N ? L : N;
  const size_t o0 = ((size_t)b * H + h) * L, o1 = o0 + (size_t)H * L;
  float xr[C][R], xi[C][R];
#pragma unroll
  for (int n1 = 0; n1 < R; ++n1) {
    const int n = n1 * M + m;
#pragma unroll
    for (int c = 0; c < C; ++c) { xr[c][n1] = 0.f; xi[c][n1] = 0.f; }
    if (C == 2 && n + 1 < Lin) {
      in2(in + o0 + n, vec, xr[0][n1], xr[C - 1][n1]);
      if (two) in2(in + o1 + n, vec, xi[0][n1], xi[C - 1][n1]);
    } else if (n < Lin) {
      xr[0][n1] = ld(in + o0 + n);
      if (two) xi[0][n1] = ld(in + o1 + n);
    }
  }
#pragma unroll
  for (int c = 0; c < C; ++c) dft_reg<R, false>(xr[c], xi[c]);
  SC* o = out + ((size_t)p * gridDim.y + h) * N + m;   // the scratch holds this launch's gridDim.y channels
  OuterTwB t0(m, log2N), t1(m + C - 1, log2N);
  float2 w0 = make_float2(1.f, 0.f), w1 = w0;
#pragma unroll
  for (int k1 = 0; k1 < R; ++k1) {
    w0 = t0.next(k1, w0);
    const float c0 = w0.x * scale, s0 = w0.y * scale;
    const float a0 = xr[0][k1] * c0 - xi[0][k1] * s0, b0 = xr[0][k1] * s0 + xi[0][k1] * c0;
    if constexpr (C == 2) {
      w1 = t1.next(k1, w1);
      const float c1 = w1.x * scale, s1 = w1.y * scale;
      stc2(o + (size_t)k1 * M, a0, b0, xr[1][k1] * c1 - xi[1][k1] * s1, xr[1][k1] * s1 + xi[1][k1] * c1);
    } else {
      stc(o + (size_t)k1 * M, a0, b0);
    }
  }
}

// sum of u * dy over the positions outer2_one loaded (both rows; the thread's own lines again, from L1 / L2).
template <int R, int C, typename IO>
__device__ __forceinline__ float outer2_dd(const IO* __restrict__ u, const IO* __restrict__ dy, int B, int H, int L, int b,
                                           int h, int m, int log2N, int log2M) {
  const int M = 1 << log2M, N = 1 << log2N, Lin = L < N ? L : N;
  const bool vec = (L & 1) == 0;
  float s = 0.f;
  for (int r = 0; r < 2 && b + r < B; ++r) {
    const size_t o = ((size_t)(b + r) * H + h) * L;
#pragma unroll 4
    for (int n1 = 0; n1 < R; ++n1) {
      const int n = n1 * M + m;
      if (C == 2 && n + 1 < Lin) {
        float a0, a1, d0, d1;
        in2(u + o + n, vec, a0, a1); in2(dy + o + n, vec, d0, d1);
        s = fmaf(a0, d0, fmaf(a1, d1, s));
      } else if (n < Lin) {
        s = fmaf(ld(u + o + n), ld(dy + o + n), s);
      }
    }
  }
  return s;
}

// u's and dy's outer passes in one launch, and dD: per thread two columns of pair p, u's
// rows into SA, then dy's into SB (as two fb3_outer_fwd launches: same scratch layout and scaling), then
// dD[h] += sum of u * dy over the same positions (re-read: the thread's own lines, from L1 / L2; one fp32 atomic per
// warp; the caller zeroes dD and offsets it by the channel chunk's h0 like u and dy).
// Grid (colBlocks * pairs, Hc) as fb3_outer_fwd, 256 threads; N1 <= 8.
template <int R, typename IO, typename SC>
__device__ void outer2(const IO* __restrict__ u, const IO* __restrict__ dy, SC* __restrict__ SA, SC* __restrict__ SB,
                       float* __restrict__ dD, int B, int H, int L, int b0, int log2N, int log2M, float scale) {
  constexpr int C = 2;
  const int M = 1 << log2M, cols = blockDim.x * C, colBlocks = (M + cols - 1) / cols;
  const int p = blockIdx.x / colBlocks, m = ((blockIdx.x - p * colBlocks) * blockDim.x + threadIdx.x) * C, h = blockIdx.y;
  float s = 0.f;
  if (m < M) {
    outer2_one<R, C, IO, SC>(u, SA, B, H, L, b0 + 2 * p, p, h, m, log2N, log2M, scale);
    asm volatile("" ::: "memory");   // one input's registers live at a time
    outer2_one<R, C, IO, SC>(dy, SB, B, H, L, b0 + 2 * p, p, h, m, log2N, log2M, scale);
    asm volatile("" ::: "memory");
    s = outer2_dd<R, C, IO>(u, dy, B, H, L, b0 + 2 * p, h, m, log2N, log2M);
  }
  for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
  if ((threadIdx.x & 31) == 0 && s != 0.f) atomicAdd(dD + h, s);
}

// One entry point per N1 <= 8 (64 registers on sm_90: 4 blocks of 256 per SM). From N1 = 16 a thread's columns take 128+
// registers per input and ptxas spilled at a 128 cap: ThreePass keeps the two fb3_outer_fwd launches and fb_dD there.
#define FB3B_OUTER2_R(SUF, IO, SC, R, MINB)                                                                       \
  extern "C" __global__ void __launch_bounds__(256, MINB) fb3b_outer2_##SUF##_##R(const IO* __restrict__ u,      \
      const IO* __restrict__ dy, SC* __restrict__ SA, SC* __restrict__ SB, float* __restrict__ dD, int B, int H,   \
      int L, int b0, int log2N, int log2M, float scale) {                                                          \
    outer2<R, IO, SC>(u, dy, SA, SB, dD, B, H, L, b0, log2N, log2M, scale);                                        \
  }
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#define FB3B_OUTER2_MINB8 3   // sm_80 spilled 12 bytes at N1 = 8 with fp32 scratch under 64 registers
#else
#define FB3B_OUTER2_MINB8 4
#endif
#define FB3B_OUTER2(SUF, IO, SC)                                                                                  \
  FB3B_OUTER2_R(SUF, IO, SC, 2, 4) FB3B_OUTER2_R(SUF, IO, SC, 4, 4) FB3B_OUTER2_R(SUF, IO, SC, 8, FB3B_OUTER2_MINB8)
// name: fb3b_outer2_<io>_<scratch: f32 = float2, bf16 = bf16x2, f16 = half2>_<N1> (the three-pass backward's scratches)
FB3B_OUTER2(f32_f32, float, float2)
FB3B_OUTER2(f32_bf16, float, __nv_bfloat162)
FB3B_OUTER2(f32_f16, float, __half2)
FB3B_OUTER2(bf16_f32, __nv_bfloat16, float2)
FB3B_OUTER2(bf16_bf16, __nv_bfloat16, __nv_bfloat162)
FB3B_OUTER2(f16_f32, __half, float2)
FB3B_OUTER2(f16_f16, __half, __half2)
