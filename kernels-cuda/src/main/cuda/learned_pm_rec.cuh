// Shapes: as learned_pm3.cu (B batch, H channels, L length, M = N / 2 complex points, R1 the first factor; the planes zr,
// zi of a row in shared memory, SIDX layout). Included by learned_pm3.cu inside namespace pm3, after the functions these
// mirror and before conv.
//
// Session 27: the first / outer stages of learned_pm4.cu's v kernels with their twiddles by a product recurrence over
// the warp's units instead of one __sincosf per twiddle and unit (ncu, bench-runs/s26/s2, lpm4y at M = 4096: the first
// and last stages were 34 % of the kernel's instructions, ~10 of every twiddle's 14 the angle, its reduction, the two
// MUFUs and the 1/16). A lane's twiddles for its first unit come from __sincosf (rec_w, as monarch.cuh's TwP under
// TWP_SFU: |error| < 2^-21.4), each later unit's from the previous one times the lane's step w^(k 8 nw) (one complex
// product in fp32: each step adds at most a few fp32 ulps, so after the 3 steps of 256 threads the twiddles are within
// ~2^-21 of the exact ones, against the 16-bit operands' 2^-9). The stages' 1/16 goes into the first twiddles (a power of
// two: exact). The data path (loads, products, roundings, stores) is first_fwd_tc's / first_inv_tc's / outer_fwd's /
// outer_inv's; only the twiddle values differ (not the bits of the y kernels; PackedMonarchOuterGpuTest bounds both
// against lpm3's).
#pragma once

// exp(-2 pi i j / 2^lN) for any j (taken mod 2^lN into [-2^(lN-1), 2^(lN-1)): |angle| <= pi, where __sincosf is accurate).
__device__ __forceinline__ float2 rec_w(int j, int lN) {
  const int sh = 32 - lN, js = static_cast<int>(static_cast<unsigned>(j) << sh) >> sh;
  float s, c; __sincosf((float)js * (-6.28318530717958648f / (float)(1 << lN)), &s, &c);
  return make_float2(c, s);
}
__device__ __forceinline__ float2 rec_mul(float2 a, float2 b) { return make_float2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }
__device__ __forceinline__ float2 rec_conj(float2 a) { return make_float2(a.x, -a.y); }
__device__ __forceinline__ float2 rec_scale(float2 a, float s) { return make_float2(a.x * s, a.y * s); }

// first_fwd_tc (M = 4096, R1 = 16) with recurrence twiddles: lane (g, t)'s outputs (k, c), k = g + 8 (q >> 1), c = c0 + 2t
// + (q & 1), c0 = 8 tile; tile += nw moves c by 8 nw: w^(k c) times w^(8 nw k).
template <bool BF16, bool HALF, typename XS, typename ST>
__device__ __forceinline__ void first_fwd_rec(const float2* __restrict__ a1, ST* zr, ST* zi, const XS& x, int L, bool vec) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  FragA F; lm_frag_a<BF16>(a1, false, F);
  float2 w[4], s[2];
#pragma unroll
  for (int q = 0; q < 4; ++q) w[q] = rec_scale(rec_w((g + 8 * (q >> 1)) * (8 * warp + 2 * t + (q & 1)), 12), 1.0f / 16.0f);
#pragma unroll
  for (int h = 0; h < 2; ++h) s[h] = rec_w((g + 8 * h) * 8 * nw, 12);
#pragma unroll 1
  for (int tile = warp; tile < 32; tile += nw) {
    const int c0 = tile * 8;
    float br[4], bi[4];
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int r = 2 * t + (q & 1) + 8 * (q >> 1);
      if (HALF && q >= 2) { br[q] = 0.f; bi[q] = 0.f; }
      else { const float2 v = ld_pair(x, 2 * (r * 256 + c0 + g), L, vec); br[q] = v.x; bi[q] = v.y; }
    }
    const uint32_t xr0 = pack2<BF16>(br[0], br[1]), xr1 = pack2<BF16>(br[2], br[3]);
    const uint32_t xi0 = pack2<BF16>(bi[0], bi[1]), xi1 = pack2<BF16>(bi[2], bi[3]);
    float ar[4] = {0.f, 0.f, 0.f, 0.f}, ai[4] = {0.f, 0.f, 0.f, 0.f};
    mma16816<BF16>(ar, F.re, xr0, xr1);
    mma16816<BF16>(ar, F.nim, xi0, xi1);
    mma16816<BF16>(ai, F.re, xi0, xi1);
    mma16816<BF16>(ai, F.im, xr0, xr1);
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int k = g + 8 * (q >> 1), c = c0 + 2 * t + (q & 1), idx = SIDX(k * 256 + c);
      st(zr + idx, ar[q] * w[q].x - ai[q] * w[q].y); st(zi + idx, ar[q] * w[q].y + ai[q] * w[q].x);
      w[q] = rec_mul(w[q], s[q >> 1]);
    }
  }
}

// first_inv_tc (M = 4096) with recurrence twiddles: B operand rows r = 2t + (q & 1) + 8 (q >> 1), column c0 + g, o
// conj(w^(r (c0 + g))); c0 += 8 nw: times conj(w^(8 nw r)).
template <bool BF16, bool HALF, typename IO, typename ST, typename A1, typename XS>
__device__ __forceinline__ void first_inv_rec(A1 a1, const ST* zr, const ST* zi, const XS& x, IO* __restrict__ o, int L, bool vec,
                                              float d) {
  constexpr uint32_t NEG2 = 0x80008000u;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  FragA F; pm_src<BF16>(a1, F);
  float2 w[4], s[4];
#pragma unroll
  for (int q = 0; q < 4; ++q) {
    const int r = 2 * t + (q & 1) + 8 * (q >> 1);
    w[q] = rec_conj(rec_w(r * (8 * warp + g), 12));
    s[q] = rec_conj(rec_w(r * 8 * nw, 12));
  }
#pragma unroll 1
  for (int tile = warp; tile < 32; tile += nw) {
    const int c0 = tile * 8;
    float br[4], bi[4];
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int r = 2 * t + (q & 1) + 8 * (q >> 1), idx = SIDX(r * 256 + c0 + g);
      const float xr = ld(zr + idx), xi = ld(zi + idx);
      br[q] = xr * w[q].x - xi * w[q].y; bi[q] = xr * w[q].y + xi * w[q].x;
      w[q] = rec_mul(w[q], s[q]);
    }
    const uint32_t xr0 = pack2<BF16>(br[0], br[1]), xr1 = pack2<BF16>(br[2], br[3]);
    const uint32_t xi0 = pack2<BF16>(bi[0], bi[1]), xi1 = pack2<BF16>(bi[2], bi[3]);
    float dr[4] = {0.f, 0.f, 0.f, 0.f}, di[4] = {0.f, 0.f, 0.f, 0.f};
    mma16816<BF16>(dr, F.re, xr0, xr1);
    mma16816<BF16>(dr, F.im, xi0 ^ NEG2, xi1 ^ NEG2);
    mma16816<BF16>(di, F.re, xi0, xi1);
    mma16816<BF16>(di, F.im, xr0, xr1);
#pragma unroll
    for (int hq = 0; hq < (HALF ? 1 : 2); ++hq) {
      const int n = (g + 8 * hq) * 256 + c0 + 2 * t;
      st_pair(o, x, 2 * n, L, vec, d, dr[2 * hq], di[2 * hq]);
      st_pair(o, x, 2 * n + 2, L, vec, d, dr[2 * hq + 1], di[2 * hq + 1]);
    }
  }
}

// outer_fwd (J = 4) with recurrence twiddles: WM: the first stage's w_M^m at m = 256 (2t + 8h + p) + 8u + g (u += nw: times
// w_M^(8 nw), one step for all four), stage 2's w_4096^(k2 c) / 16 at k2 = g + 8 (q >> 1), c = 8u + 2t + (q & 1) (times
// w_4096^(8 nw k2)); else w_M^m from rec_w per unit.
template <int R, bool BF16, bool HALF, bool WM, typename ST, typename A1, typename A2, typename XS>
__device__ __forceinline__ void outer_fwd_rec(A1 a1, A2 a2, ST* zr, ST* zi, int log2M, const XS& xs) {
  constexpr uint32_t NEG2 = 0x80008000u;
  constexpr int RI = HALF ? R / 2 : R;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  float2 wm[4], wo[4], so[2];
  const float2 sm = WM ? rec_w(8 * nw, log2M) : make_float2(1.f, 0.f);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    if constexpr (WM) wm[i] = rec_w((2 * t + 8 * (i >> 1) + (i & 1)) * 256 + 8 * warp + g, log2M);
    wo[i] = rec_scale(rec_w((g + 8 * (i >> 1)) * (8 * warp + 2 * t + (i & 1)), 12), 1.0f / 16.0f);
  }
#pragma unroll
  for (int h = 0; h < 2; ++h) so[h] = rec_w((g + 8 * h) * 8 * nw, 12);
#pragma unroll 1
  for (int u = warp; u < 32; u += nw) {
    uint32_t br[R][2], bi[R][2];
#pragma unroll
    for (int h = 0; h < 2; ++h)
#pragma unroll
      for (int p = 0; p < 2; ++p) {
        const int m = (2 * t + 8 * h + p) * 256 + 8 * u + g;
        float pr[R], pi[R];
#pragma unroll
        for (int r = 0; r < R; ++r) {
          if (r >= RI) { pr[r] = 0.f; pi[r] = 0.f; }
          else if constexpr (std::is_pointer<XS>::value) { pr[r] = ld(zr + SIDX(m) + r * SK); pi[r] = ld(zi + SIDX(m) + r * SK); }
          else { const float2 v = ld_pair(xs, 2 * (r * 4096 + m), 0, true); pr[r] = v.x; pi[r] = v.y; }
        }
        matvec<R, RI, R>(a1, pr, pi);
        if constexpr (WM) {
          twiddle_pow<R, false>(pr, pi, wm[2 * h + p], 1.0f / R);
          wm[2 * h + p] = rec_mul(wm[2 * h + p], sm);
        } else {
          twiddle_pow<R, false>(pr, pi, rec_w(m, log2M), 1.0f / R);
        }
#pragma unroll
        for (int k = 0; k < R; ++k) {
          if (p == 0) { br[k][h] = pack2<BF16>(pr[k], 0.f); bi[k][h] = pack2<BF16>(pi[k], 0.f); }
          else {
            br[k][h] = (br[k][h] & 0xffffu) | (pack2<BF16>(0.f, pr[k]) & 0xffff0000u);
            bi[k][h] = (bi[k][h] & 0xffffu) | (pack2<BF16>(0.f, pi[k]) & 0xffff0000u);
          }
        }
      }
    FragA F; pm_src<BF16>(a2, F);
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
#pragma unroll
    for (int q = 0; q < 4; ++q) wo[q] = rec_mul(wo[q], so[q >> 1]);
  }
}

// outer_inv (J = 4) with recurrence twiddles: conj(w_4096^(k2 c)) at k2 = 2t + 8h + p, c = 8u + g (u += nw: times
// conj(w_4096^(8 nw k2))), WM: the first stage's w_M^m at m = 256 (g + 8 hq) + 8u + 2t + p (times w_M^(8 nw)); else from rec_w per unit.
template <int R, bool BF16, bool HALF, bool WM, typename IO, typename ST, typename A1, typename A2, typename XS>
__device__ __forceinline__ void outer_inv_rec(A1 a1, A2 a2, const ST* zr, const ST* zi, int log2M, const XS& x,
                                              IO* __restrict__ o, int L, bool vec, float d) {
  constexpr uint32_t NEG2 = 0x80008000u;
  constexpr int RO = HALF ? R / 2 : R;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  float2 wc[4], sc[4], wm[4];
  const float2 sm = WM ? rec_w(8 * nw, log2M) : make_float2(1.f, 0.f);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int k2 = 2 * t + 8 * (i >> 1) + (i & 1);
    wc[i] = rec_conj(rec_w(k2 * (8 * warp + g), 12));
    sc[i] = rec_conj(rec_w(k2 * 8 * nw, 12));
    if constexpr (WM) wm[i] = rec_w((g + 8 * (i >> 1)) * 256 + 8 * warp + 2 * t + (i & 1), log2M);
  }
#pragma unroll 1
  for (int u = warp; u < 32; u += nw) {
    const int c = 8 * u + g;
    uint32_t br[R][2], bi[R][2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
#pragma unroll
      for (int k = 0; k < R; ++k) {
        float a[2], b[2];
#pragma unroll
        for (int p = 0; p < 2; ++p) {
          const int idx = SIDX((2 * t + 8 * h + p) * 256 + c) + k * SK;
          const float xr = ld(zr + idx), xi = ld(zi + idx);
          const float2 w = wc[2 * h + p];
          a[p] = xr * w.x - xi * w.y;
          b[p] = xr * w.y + xi * w.x;
        }
        br[k][h] = pack2<BF16>(a[0], a[1]); bi[k][h] = pack2<BF16>(b[0], b[1]);
      }
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) wc[i] = rec_mul(wc[i], sc[i]);
    FragA F; pm_src<BF16>(a2, F);
#pragma unroll
    for (int hq = 0; hq < 2; ++hq) {
      float yr[2][R], yi[2][R];
#pragma unroll
      for (int k = 0; k < R; ++k) {
        float dr[4] = {0.f, 0.f, 0.f, 0.f}, di[4] = {0.f, 0.f, 0.f, 0.f};
        mma16816<BF16>(dr, F.re, br[k][0], br[k][1]);
        mma16816<BF16>(dr, F.im, bi[k][0] ^ NEG2, bi[k][1] ^ NEG2);
        mma16816<BF16>(di, F.re, bi[k][0], bi[k][1]);
        mma16816<BF16>(di, F.im, br[k][0], br[k][1]);
#pragma unroll
        for (int p = 0; p < 2; ++p) { yr[p][k] = dr[2 * hq + p]; yi[p][k] = di[2 * hq + p]; }
      }
#pragma unroll
      for (int p = 0; p < 2; ++p) {
        const int m = (g + 8 * hq) * 256 + 8 * u + 2 * t + p;
        if constexpr (WM) {
          twiddle_pow<R, true>(yr[p], yi[p], wm[2 * hq + p], 1.0f);
          wm[2 * hq + p] = rec_mul(wm[2 * hq + p], sm);
        } else {
          twiddle_pow<R, true>(yr[p], yi[p], rec_w(m, log2M), 1.0f);
        }
        matvec<R, R, RO>(a1, yr[p], yi[p]);
#pragma unroll
        for (int r = 0; r < RO; ++r) st_pair(o, x, 2 * (r * 4096 + m), L, vec, d, yr[p][r], yi[p][r]);
      }
    }
  }
}

// The middle's fragment tables scaled by s (learned_pm4.cu's v kernels at bf16: the stages J-1 / J's 1/16 in the tables
// instead of 32 FMULs a chunk; a power of two: every bf16 product, sum and rounding scales with it, so the values are
// those of the unscaled tables times 1/16 exactly). lm_frag_a's / lm_frag_b's layouts (learned_mon.cuh).
template <bool BF16>
__device__ __forceinline__ void rec_frag_a(const float2* __restrict__ a, float s, uint4& re, uint4& im) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  uint32_t r[4], m[4];
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int row = g + 8 * (i & 1), col = 2 * t + 8 * (i >> 1);
    const float2 w0 = __ldg(a + row * 16 + col), w1 = __ldg(a + row * 16 + col + 1);
    r[i] = pack2<BF16>(w0.x * s, w1.x * s); m[i] = pack2<BF16>(w0.y * s, w1.y * s);
  }
  re = make_uint4(r[0], r[1], r[2], r[3]); im = make_uint4(m[0], m[1], m[2], m[3]);
}
template <bool BF16>
__device__ __forceinline__ void rec_frag_b(const float2* __restrict__ a, float s, uint4& re, uint4& im) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  uint32_t r[4], m[4];
#pragma unroll
  for (int j = 0; j < 2; ++j)
#pragma unroll
    for (int q = 0; q < 2; ++q) {
      const float2 w0 = __ldg(a + (8 * j + g) * 16 + 2 * t + 8 * q), w1 = __ldg(a + (8 * j + g) * 16 + 2 * t + 8 * q + 1);
      r[2 * j + q] = pack2<BF16>(w0.x * s, w1.x * s); m[2 * j + q] = pack2<BF16>(w0.y * s, w1.y * s);
    }
  re = make_uint4(r[0], r[1], r[2], r[3]); im = make_uint4(m[0], m[1], m[2], m[3]);
}

// conv's dispatch by the policy's TW_REC: 0 the table / SFU forms; 1 the recurrence forms with the J = 4 first stage's
// w_M^m from rec_w per unit (fewer live registers: the w kernels); 2 all by recurrence (the v kernels).
template <int REC, int R, bool BF16, bool HALF, typename ST, typename A1, typename A2, typename XS, typename TT>
__device__ __forceinline__ void outer_fwd_k(const TT& T, A1 a1, A2 a2, ST* zr, ST* zi, int log2M, const XS& xs) {
  if constexpr (REC > 0) outer_fwd_rec<R, BF16, HALF, REC >= 2>(a1, a2, zr, zi, log2M, xs);
  else outer_fwd<R, BF16, HALF>(T, a1, a2, zr, zi, log2M, xs);
}
template <int REC, int R, bool BF16, bool HALF, typename IO, typename ST, typename A1, typename A2, typename XS, typename TT>
__device__ __forceinline__ void outer_inv_k(const TT& T, A1 a1, A2 a2, const ST* zr, const ST* zi, int log2M, const XS& x,
                                            IO* __restrict__ o, int L, bool vec, float d) {
  if constexpr (REC > 0) outer_inv_rec<R, BF16, HALF, REC >= 2>(a1, a2, zr, zi, log2M, x, o, L, vec, d);
  else outer_inv<R, BF16, HALF>(T, a1, a2, zr, zi, log2M, x, o, L, vec, d);
}
template <int REC, bool BF16, bool HALF, typename IO, typename ST, typename A1, typename XS, typename TT>
__device__ __forceinline__ void first_inv_k(const TT& T, A1 a1, const ST* zr, const ST* zi, const XS& x, IO* __restrict__ o, int L,
                                            bool vec, float d) {
  if constexpr (REC > 0) first_inv_rec<BF16, HALF>(a1, zr, zi, x, o, L, vec, d);
  else first_inv_tc<BF16, HALF>(T, a1, zr, zi, x, o, L, vec, d);
}
