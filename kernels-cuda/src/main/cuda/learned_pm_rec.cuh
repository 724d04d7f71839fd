// Shapes: as learned_pm3.cu (B batch, H channels, L length, M = N / 2 complex points; a warp's units of the first / outer
// stages, lane (g, t)). Included by learned_pm3.cu at the top of namespace pm3.
//
// Session 27: the twiddle sources of the first / outer stages (first_fwd_tc, first_inv_tc, outer_fwd, outer_inv). Per unit
// (tile) a stage takes its twiddles from the source, then calls next() once. TwTab: monarch.cuh's table, or under TWP_SFU
// one __sincosf per twiddle and unit (every kernel before the v / w kernels: the same code as before, PTX compared). Rec*:
// learned_pm4.cu's v / w kernels: a lane's twiddles for its first unit from __sincosf (rec_w, as TwP under TWP_SFU:
// |error| < 2^-21.4), each later unit's from the previous one times the lane's step w^(k 8 nw) (one complex product in fp32;
// a few fp32 ulps a step, 3 steps at 256 threads: within ~2^-21 of the exact twiddles, against the 16-bit operands' 2^-9),
// the stages' 1/16 folded into the first ones (a power of two: exact). ncu (bench-runs/s26/s2, lpm4y at M = 4096): the first
// and last stages were 34 % of the kernel's instructions, ~10 of every twiddle's 14 the angle, its reduction, the MUFUs and the
// 1/16. Not the bits of the y kernels (PackedMonarchOuterGpuTest bounds both against lpm3's).
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

// The table / SFU twiddles (T: Tw or TwP; sh = log2M - 12). fwd16: first_fwd_tc's w_4096^(k c) / 16; inv1: first_inv_tc's
// conj(w_4096^(r c)); m: the J = 4 first stage's w_M^m; s2: outer_fwd's w_4096^(k2 c) / 16; s2i: outer_inv's conj(w_4096^(k2 c)).
template <typename TT>
struct TwTab {
  const TT& T; int sh;
  __device__ __forceinline__ float2 fwd16(int, int k, int c) const {
    float tc, ts; twiddle<true>(T, (k * c) & 4095, 12, -1.0f, tc, ts);
    tc *= 1.0f / 16.0f; ts *= 1.0f / 16.0f;
    return make_float2(tc, ts);
  }
  __device__ __forceinline__ float2 inv1(int, int r, int c) const {
    float tc, ts; twiddle<true>(T, (r * c) & 4095, 12, 1.0f, tc, ts);
    return make_float2(tc, ts);
  }
  __device__ __forceinline__ float2 m(int, int mm) const { return tw_at(T, mm); }
  __device__ __forceinline__ float2 s2(int, int k2, int c) const {
    const float2 w = tw_at(T, ((k2 * c) & 4095) << sh);
    return make_float2(w.x * (1.0f / 16.0f), w.y * (1.0f / 16.0f));
  }
  __device__ __forceinline__ float2 s2i(int, int k2, int c) const {
    const float2 v = tw_at(T, ((k2 * c) & 4095) << sh);
    return make_float2(v.x, -v.y);
  }
  __device__ __forceinline__ void next() {}
};

// first_fwd_tc (M = 4096): output q of a tile at (k, c) = (g + 8 (q >> 1), c0 + 2t + (q & 1)), c0 = 8 tile, tile += nw.
struct RecFirstFwd {
  float2 w[4], s[2];
  __device__ __forceinline__ RecFirstFwd() {
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
#pragma unroll
    for (int q = 0; q < 4; ++q) w[q] = rec_scale(rec_w((g + 8 * (q >> 1)) * (8 * warp + 2 * t + (q & 1)), 12), 1.0f / 16.0f);
#pragma unroll
    for (int h = 0; h < 2; ++h) s[h] = rec_w((g + 8 * h) * 8 * nw, 12);
  }
  __device__ __forceinline__ float2 fwd16(int q, int, int) const { return w[q]; }
  __device__ __forceinline__ void next() {
#pragma unroll
    for (int q = 0; q < 4; ++q) w[q] = rec_mul(w[q], s[q >> 1]);
  }
};

// first_inv_tc (M = 4096): B operand q of a tile at row r = 2t + (q & 1) + 8 (q >> 1), column c0 + g, conj(w^(r (c0 + g))).
struct RecFirstInv {
  float2 w[4], s[4];
  __device__ __forceinline__ RecFirstInv() {
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int r = 2 * t + (q & 1) + 8 * (q >> 1);
      w[q] = rec_conj(rec_w(r * (8 * warp + g), 12));
      s[q] = rec_conj(rec_w(r * 8 * nw, 12));
    }
  }
  __device__ __forceinline__ float2 inv1(int q, int, int) const { return w[q]; }
  __device__ __forceinline__ void next() {
#pragma unroll
    for (int q = 0; q < 4; ++q) w[q] = rec_mul(w[q], s[q]);
  }
};

// outer_fwd (J = 4): the first stage's w_M^m at m = 256 (2t + 8h + p) + 8u + g, i = 2h + p (WM: by recurrence, u += nw: times
// w_M^(8 nw); else rec_w per unit, fewer live registers: the w kernels); stage 2's w_4096^(k2 c) / 16 at k2 = g + 8 (q >> 1),
// c = 8u + 2t + (q & 1) (times w_4096^(8 nw k2)).
template <bool WM>
struct RecOuterFwd {
  float2 wm[4], wo[4], so[2], sm;
  int lM;
  __device__ __forceinline__ explicit RecOuterFwd(int log2M) : lM(log2M) {
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    sm = WM ? rec_w(8 * nw, log2M) : make_float2(1.f, 0.f);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      if constexpr (WM) wm[i] = rec_w((2 * t + 8 * (i >> 1) + (i & 1)) * 256 + 8 * warp + g, log2M);
      wo[i] = rec_scale(rec_w((g + 8 * (i >> 1)) * (8 * warp + 2 * t + (i & 1)), 12), 1.0f / 16.0f);
    }
#pragma unroll
    for (int h = 0; h < 2; ++h) so[h] = rec_w((g + 8 * h) * 8 * nw, 12);
  }
  __device__ __forceinline__ float2 m(int i, int mm) const { if constexpr (WM) return wm[i]; else return rec_w(mm, lM); }
  __device__ __forceinline__ float2 s2(int q, int, int) const { return wo[q]; }
  __device__ __forceinline__ void next() {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      if constexpr (WM) wm[i] = rec_mul(wm[i], sm);
      wo[i] = rec_mul(wo[i], so[i >> 1]);
    }
  }
};

// outer_inv (J = 4): conj(w_4096^(k2 c)) at k2 = 2t + 8h + p (i = 2h + p), c = 8u + g (times conj(w_4096^(8 nw k2))); the first
// stage's w_M^m at m = 256 (g + 8 hq) + 8u + 2t + p (i = 2 hq + p; WM as RecOuterFwd's).
template <bool WM>
struct RecOuterInv {
  float2 wc[4], sc[4], wm[4], sm;
  int lM;
  __device__ __forceinline__ explicit RecOuterInv(int log2M) : lM(log2M) {
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    sm = WM ? rec_w(8 * nw, log2M) : make_float2(1.f, 0.f);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int k2 = 2 * t + 8 * (i >> 1) + (i & 1);
      wc[i] = rec_conj(rec_w(k2 * (8 * warp + g), 12));
      sc[i] = rec_conj(rec_w(k2 * 8 * nw, 12));
      if constexpr (WM) wm[i] = rec_w((g + 8 * (i >> 1)) * 256 + 8 * warp + 2 * t + (i & 1), log2M);
    }
  }
  __device__ __forceinline__ float2 m(int i, int mm) const { if constexpr (WM) return wm[i]; else return rec_w(mm, lM); }
  __device__ __forceinline__ float2 s2i(int i, int, int) const { return wc[i]; }
  __device__ __forceinline__ void next() {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      wc[i] = rec_mul(wc[i], sc[i]);
      if constexpr (WM) wm[i] = rec_mul(wm[i], sm);
    }
  }
};

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
