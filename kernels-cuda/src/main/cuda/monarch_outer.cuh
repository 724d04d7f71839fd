// The outer stages of the FlashButterfly _w3 kernels with fewer shared-memory passes (included by flashbutterfly.cu
// after monarch.cuh). N FFT size = R1 * 16^J as in monarch.cuh, R1 in {2, 4, 8} here; B batch, H channels, L length.
//  * J = 3 (N = 8K, 16K, 32K): the first stage (radix R1, stride 4096) and the type-A stage at S = 256 as one
//    (R1 x 16)-point column FFT per warp in registers (outer_pair_fwd / outer_pair_inv): one barrier and one
//    shared-memory round trip fewer each way than stage_first_pair + stage_mma_a.
//  * J = 2 (N = 512, 1K, 2K): the first stage straight from global memory (first_fwd_global: the load phase's shared-
//    memory writes and barrier go) and the inverse first stage straight to global memory with the skip term
//    (first_inv_global: the store phase's barrier and shared-memory reads go).
// The twiddles, scales and the Monarch (digit-reversed) order are exactly those of monarch_fft: the kernel spectrum
// is shared with the other kernels.
#pragma once
#include "monarch.cuh"

// ---- small DFTs with constant twiddles (natural order in and out) ---------------------------------------------
// HIN: the upper half of the input is zero (x[R/2..R) not read). INV: conjugate DFT (unscaled).
template <bool INV>
__device__ __forceinline__ void cmul_mi(float& r, float& i) {   // x *= -i (forward W4) or +i (INV)
  const float t = r;
  if (INV) { r = -i; i = t; } else { r = i; i = -t; }
}

template <bool INV, bool HIN>
__device__ __forceinline__ void dft4_c(float& r0, float& i0, float& r1, float& i1, float& r2, float& i2, float& r3,
                                       float& i3) {
  float t0r, t0i, t1r, t1i, t2r, t2i, t3r, t3i;
  if (HIN) { t0r = r0; t0i = i0; t1r = r0; t1i = i0; t2r = r1; t2i = i1; t3r = r1; t3i = i1; }
  else {
    t0r = r0 + r2; t0i = i0 + i2; t1r = r0 - r2; t1i = i0 - i2;
    t2r = r1 + r3; t2i = i1 + i3; t3r = r1 - r3; t3i = i1 - i3;
  }
  cmul_mi<INV>(t3r, t3i);
  r0 = t0r + t2r; i0 = t0i + t2i; r2 = t0r - t2r; i2 = t0i - t2i;
  r1 = t1r + t3r; i1 = t1i + t3i; r3 = t1r - t3r; i3 = t1i - t3i;
}

template <int R, bool INV, bool HIN>
__device__ __forceinline__ void dft_c(float (&xr)[R], float (&xi)[R]) {
  static_assert(R == 2 || R == 4 || R == 8, "dft_c: R in {2, 4, 8}");
  if constexpr (R == 2) {
    if (HIN) { xr[1] = xr[0]; xi[1] = xi[0]; }
    else {
      const float ar = xr[0] + xr[1], ai = xi[0] + xi[1];
      xr[1] = xr[0] - xr[1]; xi[1] = xi[0] - xi[1]; xr[0] = ar; xi[0] = ai;
    }
  } else if constexpr (R == 4) {
    dft4_c<INV, HIN>(xr[0], xi[0], xr[1], xi[1], xr[2], xi[2], xr[3], xi[3]);
  } else {   // radix-2 decimation in frequency: a_j = x_j + x_{j+4}, b_j = (x_j - x_{j+4}) W8^j; X_2k = DFT4(a), X_2k+1 = DFT4(b)
    constexpr float C = 0.707106781186547524f;
    float ar[4], ai[4], br[4], bi[4];
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      if (HIN) { ar[j] = xr[j]; ai[j] = xi[j]; br[j] = xr[j]; bi[j] = xi[j]; }
      else { ar[j] = xr[j] + xr[j + 4]; ai[j] = xi[j] + xi[j + 4]; br[j] = xr[j] - xr[j + 4]; bi[j] = xi[j] - xi[j + 4]; }
    }
    {   // W8^1 = C (1 - i) (INV: C (1 + i))
      const float r = br[1], i = bi[1];
      if (INV) { br[1] = C * (r - i); bi[1] = C * (r + i); } else { br[1] = C * (r + i); bi[1] = C * (i - r); }
    }
    cmul_mi<INV>(br[2], bi[2]);   // W8^2 = -i (INV: +i)
    {   // W8^3 = -C (1 + i) (INV: -C (1 - i))
      const float r = br[3], i = bi[3];
      if (INV) { br[3] = -C * (r + i); bi[3] = C * (r - i); } else { br[3] = C * (i - r); bi[3] = -C * (r + i); }
    }
    dft4_c<INV, false>(ar[0], ai[0], ar[1], ai[1], ar[2], ai[2], ar[3], ai[3]);
    dft4_c<INV, false>(br[0], bi[0], br[1], bi[1], br[2], bi[2], br[3], bi[3]);
#pragma unroll
    for (int k = 0; k < 4; ++k) { xr[2 * k] = ar[k]; xi[2 * k] = ai[k]; xr[2 * k + 1] = br[k]; xi[2 * k + 1] = bi[k]; }
  }
}

// x[k] *= s * w^k (k < R): w = exp(-2 pi i m / N) (CONJ: its conjugate), powers by a product recurrence.
template <int R, bool CONJ>
__device__ __forceinline__ void twiddle_pow(float (&xr)[R], float (&xi)[R], float2 w, float s) {
  if (CONJ) w.y = -w.y;
  xr[0] *= s; xi[0] *= s;
  float pr = s * w.x, pi = s * w.y;
#pragma unroll
  for (int k = 1; k < R; ++k) {
    const float a = xr[k] * pr - xi[k] * pi, b = xr[k] * pi + xi[k] * pr;
    xr[k] = a; xi[k] = b;
    if (k + 1 < R) { const float q = pr * w.x - pi * w.y; pi = pr * w.y + pi * w.x; pr = q; }
  }
}

constexpr int SK = 4096 + 4096 / 32;   // SIDX(k * 4096 + x) = SIDX(x) + k * SK for x >= 0

// ---- J = 3: the first stage and the type-A stage at S = 256 as one column FFT per warp --------------------------
// Unit = 8 columns c of [0, 256) (32 units, spread over the warps): the R1 tiles of 16 x 8 (k1 tile: rows r2, cols
// c at k1 * 4096 + 256 r2 + c). Lane (g, t) holds B-operand rows r2 = 2t + 8h + p (h, p in {0, 1}), col 8u + g: for
// each of its 4 positions the R1 values along the first axis are in its own registers.
// Forward: radix-R1 DFT along r1, twiddle exp(-2 pi i k1 m / N) (m = 256 r2 + c) and 1/R1 (the first stage), then
// per k1 tile Y = F16 @ X, twiddle exp(-2 pi i k2 c / 4096) and 1/16 (the S = 256 stage), stored at
// k1 * 4096 + 256 k2 + c. HALF: x is zero from N/2 on (not read).
template <int R, bool BF16, bool HALF, typename ST>
__device__ __forceinline__ void outer_pair_fwd_r(const Tw& T, ST* zr, ST* zi, int log2N) {
  constexpr uint32_t NEG2 = 0x80008000u;
  FragA F; make_frag_a<BF16>(T, F);
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5, sh = log2N - 12;
#pragma unroll 1
  for (int u = warp; u < 32; u += nw) {
    uint32_t br[R][2], bi[R][2];   // B operands of the R tiles
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      float pr[2][R], pi[2][R];
#pragma unroll
      for (int p = 0; p < 2; ++p) {
        const int m = (2 * t + 8 * h + p) * 256 + 8 * u + g;
#pragma unroll
        for (int r = 0; r < R; ++r) {
          if (HALF && r >= R / 2) { pr[p][r] = 0.f; pi[p][r] = 0.f; }
          else { pr[p][r] = ld(zr + SIDX(m) + r * SK); pi[p][r] = ld(zi + SIDX(m) + r * SK); }
        }
        dft_c<R, false, HALF>(pr[p], pi[p]);
        twiddle_pow<R, false>(pr[p], pi[p], tw_at(T, m), 1.0f / R);
      }
#pragma unroll
      for (int k = 0; k < R; ++k) { br[k][h] = pack2<BF16>(pr[0][k], pr[1][k]); bi[k][h] = pack2<BF16>(pi[0][k], pi[1][k]); }
    }
    float2 wo[4];   // the S = 256 stage's output twiddles (k2 = g + 8 (q >> 1), c = 8u + 2t + (q & 1)) with its 1/16
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const float2 w = tw_at(T, (((g + 8 * (q >> 1)) * (8 * u + 2 * t + (q & 1))) & 4095) << sh);
      wo[q] = make_float2(w.x * (1.0f / 16.0f), w.y * (1.0f / 16.0f));
    }
    __syncwarp();   // every lane's loads of this unit are done before any lane stores into it
#pragma unroll
    for (int k = 0; k < R; ++k) {
      float dr[4] = {0.f, 0.f, 0.f, 0.f}, di[4] = {0.f, 0.f, 0.f, 0.f};
      mma16816<BF16>(dr, F.re, br[k][0], br[k][1]);
      mma16816<BF16>(dr, F.im, bi[k][0] ^ NEG2, bi[k][1] ^ NEG2);
      mma16816<BF16>(di, F.re, bi[k][0], bi[k][1]);
      mma16816<BF16>(di, F.im, br[k][0], br[k][1]);
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const int idx = SIDX((g + 8 * (q >> 1)) * 256 + 8 * u + 2 * t + (q & 1)) + k * SK;
        st(zr + idx, dr[q] * wo[q].x - di[q] * wo[q].y);
        st(zi + idx, dr[q] * wo[q].y + di[q] * wo[q].x);
      }
    }
  }
}

// Inverse: per k1 tile the conjugate twiddle exp(+2 pi i k2 c / 4096) and V = conj(F16) @ Y (B operand rows k2,
// col c; accumulator rows r2 = g + 8 (q >> 1), col c = 8u + 2t + (q & 1)); then per accumulator position the twiddle
// exp(+2 pi i k1 m / N) and the conjugate radix-R1 DFT, stored at r1 * 4096 + m (HALF: only r1 < R1 / 2).
// The MMAs run twice, once per accumulator row half (q >> 1): only half of the R tiles' accumulators are live at a
// time (the B operands stay packed in registers; the tensor cores have room for the extra MMAs).
template <int R, bool BF16, bool HALF, typename ST>
__device__ __forceinline__ void outer_pair_inv_r(const Tw& T, ST* zr, ST* zi, int log2N) {
  constexpr uint32_t NEG2 = 0x80008000u;
  FragA F; make_frag_a<BF16>(T, F);
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5, sh = log2N - 12;
#pragma unroll 1
  for (int u = warp; u < 32; u += nw) {
    const int c = 8 * u + g;
    uint32_t br[R][2], bi[R][2];   // the twiddled B operands of the R tiles
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      float2 w[2];   // conj(exp(-2 pi i k2 c / 4096)), k2 = 2t + 8h + p
#pragma unroll
      for (int p = 0; p < 2; ++p) {
        const float2 v = tw_at(T, (((2 * t + 8 * h + p) * c) & 4095) << sh);
        w[p] = make_float2(v.x, -v.y);
      }
#pragma unroll
      for (int k = 0; k < R; ++k) {
        float a[2], b[2];
#pragma unroll
        for (int p = 0; p < 2; ++p) {
          const int idx = SIDX((2 * t + 8 * h + p) * 256 + c) + k * SK;
          const float xr = ld(zr + idx), xi = ld(zi + idx);
          a[p] = xr * w[p].x - xi * w[p].y;
          b[p] = xr * w[p].y + xi * w[p].x;
        }
        br[k][h] = pack2<BF16>(a[0], a[1]); bi[k][h] = pack2<BF16>(b[0], b[1]);
      }
    }
    __syncwarp();   // every lane's loads of this unit are done before any lane stores into it
#pragma unroll
    for (int hq = 0; hq < 2; ++hq) {
      float yr[2][R], yi[2][R];   // [accumulator position q & 1][k1] of rows g + 8 hq
#pragma unroll
      for (int k = 0; k < R; ++k) {
        float dr[4] = {0.f, 0.f, 0.f, 0.f}, di[4] = {0.f, 0.f, 0.f, 0.f};
        mma16816<BF16>(dr, F.re, br[k][0], br[k][1]);   // conj(F) X: re = Fr Xr + Fi Xi, im = Fr Xi - Fi Xr
        mma16816<BF16>(dr, F.im, bi[k][0], bi[k][1]);
        mma16816<BF16>(di, F.re, bi[k][0], bi[k][1]);
        mma16816<BF16>(di, F.im, br[k][0] ^ NEG2, br[k][1] ^ NEG2);
#pragma unroll
        for (int p = 0; p < 2; ++p) { yr[p][k] = dr[2 * hq + p]; yi[p][k] = di[2 * hq + p]; }
      }
#pragma unroll
      for (int p = 0; p < 2; ++p) {
        const int m = (g + 8 * hq) * 256 + 8 * u + 2 * t + p;
        twiddle_pow<R, true>(yr[p], yi[p], tw_at(T, m), 1.0f);
        dft_c<R, true, false>(yr[p], yi[p]);
#pragma unroll
        for (int r = 0; r < (HALF ? R / 2 : R); ++r) { st(zr + SIDX(m) + r * SK, yr[p][r]); st(zi + SIDX(m) + r * SK, yi[p][r]); }
      }
    }
  }
}

// Dispatch on R1 = N / 4096: N = 8K (BIG false), 16K or 32K (BIG).
template <bool FWD, bool BF16, bool BIG, typename ST>
__device__ __forceinline__ void outer_pair(const Tw& T, ST* zr, ST* zi, int log2N, bool half) {
  if (BIG && log2N == 15) {
    if (FWD) { if (half) outer_pair_fwd_r<8, BF16, true, ST>(T, zr, zi, log2N); else outer_pair_fwd_r<8, BF16, false, ST>(T, zr, zi, log2N); }
    else { if (half) outer_pair_inv_r<8, BF16, true, ST>(T, zr, zi, log2N); else outer_pair_inv_r<8, BF16, false, ST>(T, zr, zi, log2N); }
  } else if (!BIG) {
    if (FWD) { if (half) outer_pair_fwd_r<2, BF16, true, ST>(T, zr, zi, log2N); else outer_pair_fwd_r<2, BF16, false, ST>(T, zr, zi, log2N); }
    else { if (half) outer_pair_inv_r<2, BF16, true, ST>(T, zr, zi, log2N); else outer_pair_inv_r<2, BF16, false, ST>(T, zr, zi, log2N); }
  } else {
    if (FWD) { if (half) outer_pair_fwd_r<4, BF16, true, ST>(T, zr, zi, log2N); else outer_pair_fwd_r<4, BF16, false, ST>(T, zr, zi, log2N); }
    else { if (half) outer_pair_inv_r<4, BF16, true, ST>(T, zr, zi, log2N); else outer_pair_inv_r<4, BF16, false, ST>(T, zr, zi, log2N); }
  }
}

// ---- conv256_warp (monarch_pair.cuh) with 16-byte spectrum loads ----------------------------------------------------
// The same two stages, product and two inverse stages per 256-point chunk; the spectrum's two values of a lane's column
// pair (cols 8j + 2t + {0, 1}, adjacent in memory, 16-byte aligned) come with one 16-byte load instead of two 8-byte ones.
template <bool BF16, typename ST>
__device__ __forceinline__ void conv256_warp_v4(const Tw& T, const float2* tw256, ST* zr, ST* zi, int N, float scale,
                                                const float2* __restrict__ k, float conj) {
  FragA F; make_frag_a<BF16>(T, F);
  constexpr uint32_t NEG2 = 0x80008000u;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  const float2* tl = tw256 + lane;
  for (int chunk = warp; chunk < (N >> 8); chunk += nw) {
    const int base = chunk << 8;
    uint32_t yr[4], yi[4];
    pair_stage16_fwd<BF16>(F, tl, zr, zi, base, g, t, scale, yr, yi);
    uint32_t yn[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) yn[i] = yi[i] ^ NEG2;
    uint32_t pr[4], pi[4];
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float2 kw[4];
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) {
        const float4 v = *reinterpret_cast<const float4*>(k + base + (g + 8 * hh) * 16 + 8 * j + 2 * t);
        kw[2 * hh] = make_float2(v.x, v.y * conj);
        kw[2 * hh + 1] = make_float2(v.z, v.w * conj);
      }
      float dr[4], di[4];
      mma_f16<BF16, true>(F, j, yr, yi, yn, dr, di);
      float a[4], b[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const float x = dr[q] * scale, y = di[q] * scale;
        a[q] = x * kw[q].x - y * kw[q].y;
        b[q] = x * kw[q].y + y * kw[q].x;
      }
      pr[2 * j] = pack2<BF16>(a[0], a[1]); pr[2 * j + 1] = pack2<BF16>(a[2], a[3]);
      pi[2 * j] = pack2<BF16>(b[0], b[1]); pi[2 * j + 1] = pack2<BF16>(b[2], b[3]);
    }
    pair_inv_stages<BF16>(F, tl, pr, pi, zr, zi, base, g, t);
  }
}

// ---- J = 2: the first stage (radix R1 = N / 256, stride 256) straight from / to global memory ----------------------
// Forward: column c (one per thread) of z = p0 + i p1 (n = c + 256 r < Lin, zero beyond; p1 == nullptr: zero), the
// radix-R1 DFT, twiddle exp(-2 pi i k c / N) and 1/R1, stored at c + 256 k. Lanes take consecutive c: coalesced.
template <int R, bool HALF, typename IO, typename ST>
__device__ __forceinline__ void first_fwd_global_r(const Tw& T, ST* zr, ST* zi, const IO* p0, const IO* p1, int Lin) {
#pragma unroll 1
  for (int c = threadIdx.x; c < 256; c += blockDim.x) {
    float xr[R], xi[R];
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const int n = c + 256 * r;
      if (HALF && r >= R / 2) { xr[r] = 0.f; xi[r] = 0.f; }
      else { xr[r] = n < Lin ? ld(p0 + n) : 0.f; xi[r] = (p1 != nullptr && n < Lin) ? ld(p1 + n) : 0.f; }
    }
    dft_c<R, false, HALF>(xr, xi);
    twiddle_pow<R, false>(xr, xi, tw_at(T, c), 1.0f / R);
#pragma unroll
    for (int k = 0; k < R; ++k) { st(zr + SIDX(c + 256 * k), xr[k]); st(zi + SIDX(c + 256 * k), xi[k]); }
  }
}

// Inverse: column c: the conjugate twiddle exp(+2 pi i k c / N), the conjugate radix-R1 DFT, then
// (y0, y1)[n] = (re, im) + d * (p0, p1)[n] for n = c + 256 r < L (y1, p1 only when two). HALF: r < R1 / 2 only.
template <int R, bool HALF, typename IO, typename ST>
__device__ __forceinline__ void first_inv_global_r(const Tw& T, const ST* zr, const ST* zi, IO* y0, IO* y1, const IO* p0, const IO* p1,
                                   float d, int L, bool two) {
  constexpr int RO = HALF ? R / 2 : R;
#pragma unroll 1
  for (int c = threadIdx.x; c < 256; c += blockDim.x) {
    float a[RO], b[RO];   // the skip term's inputs, loaded first (their latency hides behind the DFT)
#pragma unroll
    for (int r = 0; r < RO; ++r) {
      const int n = c + 256 * r;
      a[r] = n < L ? ld(p0 + n) : 0.f;
      b[r] = (two && n < L) ? ld(p1 + n) : 0.f;
    }
    float xr[R], xi[R];
#pragma unroll
    for (int k = 0; k < R; ++k) { xr[k] = ld(zr + SIDX(c + 256 * k)); xi[k] = ld(zi + SIDX(c + 256 * k)); }
    twiddle_pow<R, true>(xr, xi, tw_at(T, c), 1.0f);
    dft_c<R, true, false>(xr, xi);
#pragma unroll
    for (int r = 0; r < RO; ++r) {
      const int n = c + 256 * r;
      if (n < L) {
        st(y0 + n, fmaf(d, a[r], xr[r]));
        if (two) st(y1 + n, fmaf(d, b[r], xi[r]));
      }
    }
  }
}

// Dispatch on R1 = N / 256 (J = 2, N in {512, 1K, 2K}).
template <typename IO, typename ST>
__device__ __forceinline__ void first_fwd_global(const Tw& T, ST* zr, ST* zi, const IO* p0, const IO* p1, int Lin, int log2N, bool half) {
  switch (log2N) {
    case 9: if (half) first_fwd_global_r<2, true>(T, zr, zi, p0, p1, Lin); else first_fwd_global_r<2, false>(T, zr, zi, p0, p1, Lin); break;
    case 10: if (half) first_fwd_global_r<4, true>(T, zr, zi, p0, p1, Lin); else first_fwd_global_r<4, false>(T, zr, zi, p0, p1, Lin); break;
    default: if (half) first_fwd_global_r<8, true>(T, zr, zi, p0, p1, Lin); else first_fwd_global_r<8, false>(T, zr, zi, p0, p1, Lin);
  }
}

template <typename IO, typename ST>
__device__ __forceinline__ void first_inv_global(const Tw& T, const ST* zr, const ST* zi, IO* y0, IO* y1, const IO* p0, const IO* p1,
                                 float d, int L, bool two, int log2N, bool half) {
  switch (log2N) {
    case 9: if (half) first_inv_global_r<2, true>(T, zr, zi, y0, y1, p0, p1, d, L, two);
            else first_inv_global_r<2, false>(T, zr, zi, y0, y1, p0, p1, d, L, two);
            break;
    case 10: if (half) first_inv_global_r<4, true>(T, zr, zi, y0, y1, p0, p1, d, L, two);
             else first_inv_global_r<4, false>(T, zr, zi, y0, y1, p0, p1, d, L, two);
             break;
    default: if (half) first_inv_global_r<8, true>(T, zr, zi, y0, y1, p0, p1, d, L, two);
             else first_inv_global_r<8, false>(T, zr, zi, y0, y1, p0, p1, d, L, two);
  }
}
