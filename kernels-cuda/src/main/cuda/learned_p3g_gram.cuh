// learned_p3g.cu's Gram building blocks (split out in session 25; included at its point of use, so the same translation unit
// and the same machine code): one 16-column tile of a complex Gram on mma.sync (p3g_tile), the warps' fixed-order accumulation
// (p3g_acc, p3g_s16, p3g_acc3), the inner Grams' operands from the planes and the dump rows (P3gGa, P3gGb), one inner stage's Gram
// (p3g_gram16) and the flush of its accumulator (p3g_flush).
// Shapes: R = 16 (inner) or N1 (outer) rows / columns of a Gram; the planes' 2 x 8192 columns in tiles of 16; T = blockDim.x.
#pragma once

// One 16-column tile at col0 of a complex Gram on mma.sync: acc[kt][j] += A[k][col] conj(B[n][col]) over the tile, for
// rows k = 16 kt + (g, g + 8) of KT row tiles and columns n = 8 j + g of NJ column halves: A from ga(k, col), B from
// gb(n, col) (float2; the callers give 0 outside their R). Re += Ar Br^T + Ai Bi^T, Im += Ai Br^T - Ar Bi^T. Fragment
// layouts as learned_pmb.cu's pmb_gram (monarch.cuh's FragA / FragB).
// Session 25: an operand type with a member frag(k, col, re, im) gives the packed fragment words of columns col, col + 1
// itself (p3g_gram16's P3gGa / P3gGb: the 16-bit bits as they are where no twiddle applies; pack2 of the fp32 values
// rounds them to the same bits), and -Im as Im's words with the sign bits flipped (pack2(-x) = -pack2(x) bit for bit).
template <typename T, typename = void> struct p3g_frag : std::false_type {};
template <typename T> struct p3g_frag<T, std::void_t<decltype(&T::frag)>> : std::true_type {};
// Session 33: an operand with frag_s(slot, k, col, re, im) instead (P3gGaW / P3gGbW: the twiddled side with its lane's eight
// twiddles held; slot = i (A fragment i) or 2 j + q (B column half j, word q), the twiddles 2 slot + e for col + e).
template <typename T, typename = void> struct p3g_fs : std::false_type {};
template <typename T> struct p3g_fs<T, std::void_t<decltype(&T::frag_s)>> : std::true_type {};
template <bool BF16, int KT, int NJ, typename GA, typename GB>
__device__ __forceinline__ void p3g_tile(const GA& ga, const GB& gb, int col0, float (&dr)[KT][NJ][4], float (&di)[KT][NJ][4]) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  uint32_t br[NJ][2], bi[NJ][2], bn[NJ][2];
#pragma unroll
  for (int j = 0; j < NJ; ++j)
#pragma unroll
    for (int q = 0; q < 2; ++q) {
      const int col = col0 + 2 * t + 8 * q;
      if constexpr (p3g_fs<GB>::value) {
        gb.frag_s(2 * j + q, 8 * j + g, col, br[j][q], bi[j][q]); bn[j][q] = bi[j][q] ^ 0x80008000u;
      } else if constexpr (p3g_frag<GB>::value) {
        gb.frag(8 * j + g, col, br[j][q], bi[j][q]); bn[j][q] = bi[j][q] ^ 0x80008000u;
      } else {
        const float2 v0 = gb(8 * j + g, col), v1 = gb(8 * j + g, col + 1);
        br[j][q] = pack2<BF16>(v0.x, v1.x); bi[j][q] = pack2<BF16>(v0.y, v1.y); bn[j][q] = pack2<BF16>(-v0.y, -v1.y);
      }
    }
#pragma unroll
  for (int kt = 0; kt < KT; ++kt) {
    uint32_t ar[4], ai[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int k = 16 * kt + g + 8 * (i & 1), col = col0 + 2 * t + 8 * (i >> 1);
      if constexpr (p3g_fs<GA>::value) ga.frag_s(i, k, col, ar[i], ai[i]);
      else if constexpr (p3g_frag<GA>::value) ga.frag(k, col, ar[i], ai[i]);
      else {
        const float2 v0 = ga(k, col), v1 = ga(k, col + 1);
        ar[i] = pack2<BF16>(v0.x, v1.x); ai[i] = pack2<BF16>(v0.y, v1.y);
      }
    }
#pragma unroll
    for (int j = 0; j < NJ; ++j) {
      mma16816<BF16>(dr[kt][j], ar, br[j][0], br[j][1]);
      mma16816<BF16>(dr[kt][j], ai, bi[j][0], bi[j][1]);
      mma16816<BF16>(di[kt][j], ai, br[j][0], br[j][1]);
      mma16816<BF16>(di[kt][j], ar, bn[j][0], bn[j][1]);
    }
  }
}

// The block's warps' accumulators into acc (shared, R x R float2 at [k R + n]), entries k, n < R: warp by warp in order
// (a block barrier after each), every entry owned by one lane of a warp, so the sums are in a fixed order (two runs give
// the same bits). All threads of the block call it.
// SW16 (session 25; R = 16, the inner Grams' acc of P3gGram): entry (k, n) at float2 slot p3g_s16(k, n), its column XOR
// (k & 1) | (k & 2) << 2: a warp's 64-bit adds (rows g, columns 2 t + c + 8 j) then reach 16 distinct bank pairs a half-warp
// instead of 4 (ncu, bench-runs/s25/s2: these LDS.64 / STS.64 took 3.6x their ideal wavefronts). The same sums in the same
// order: the same bits.
__device__ __forceinline__ int p3g_s16(int k, int n) { return k * 16 + (n ^ ((k & 1) | ((k & 2) << 2))); }
template <int KT, int NJ, bool SW16 = false>
__device__ __forceinline__ void p3g_acc(float* acc, int R, const float (&dr)[KT][NJ][4], const float (&di)[KT][NJ][4]) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  for (int w = 0; w < nw; ++w) {
    if (warp == w) {
#pragma unroll
      for (int kt = 0; kt < KT; ++kt)
#pragma unroll
        for (int j = 0; j < NJ; ++j)
#pragma unroll
          for (int q = 0; q < 4; ++q) {
            const int k = 16 * kt + g + 8 * (q >> 1), n = 8 * j + 2 * t + (q & 1);
            const int e = SW16 ? p3g_s16(k, n) : k * R + n;
            if (k < R && n < R) { acc[2 * e] += dr[kt][j][q]; acc[2 * e + 1] += di[kt][j][q]; }
          }
    }
    __syncthreads();
  }
}

// Session 27: the inner Grams' (R = 16, SW16 slots) accumulation into P3G_NB = 3 buffers of 512 floats (acc, acc + 512,
// acc + 1024; dynamic shared memory p3_smem(2) + 6144, still 3 blocks an SM): warp w adds into buffer w % 3 in round w / 3,
// a block barrier after each round (3 rounds for 8 warps, p3g_acc's 8), and p3g_flush sums the buffers in the order 0, 1, 2.
// A fixed order still (buffer b takes warps b, b + 3, b + 6 in turn): two runs give the same bits; not p3g_acc's bits.
constexpr int P3G_NB = 3;
__device__ __forceinline__ void p3g_acc3(float* acc, const float (&dr)[1][2][4], const float (&di)[1][2][4]) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  float* buf = acc + 512 * (warp % P3G_NB);
  const int round = warp / P3G_NB;
  for (int r = 0; r < (nw + P3G_NB - 1) / P3G_NB; ++r) {
    if (round == r) {
#pragma unroll
      for (int j = 0; j < 2; ++j)
#pragma unroll
        for (int q = 0; q < 4; ++q) {
          const int e = p3g_s16(g + 8 * (q >> 1), 8 * j + 2 * t + (q & 1));
          buf[2 * e] += dr[0][j][q]; buf[2 * e + 1] += di[0][j][q];
        }
    }
    __syncthreads();
  }
}

// (c, s) of conj(w_m^e) = exp(+2 pi i e / m) from the middle's table (m = 2^lm <= 8192, e < m).
__device__ __forceinline__ float2 p3g_cw(const TwP& T, int e, int lm) {
  float c, s; twiddle<true>(T, e, lm, 1.0f, c, s);
  return make_float2(c, s);
}
__device__ __forceinline__ float2 p3g_mul(float2 a, float2 b) { return make_float2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }
// (re, im) += a conj(b) as the outer Grams' fp32 sums take it (the same two fmaf chains everywhere: P3gOg, p3g_ogramc, p3g_ogramv).
__device__ __forceinline__ void p3g_macc(float& re, float& im, float2 a, float2 b) {
  re = fmaf(a.x, b.x, fmaf(a.y, b.y, re));
  im = fmaf(a.y, b.x, fmaf(-a.x, b.y, im));
}
// (re, im) summed over the lanes of a warp whose indices differ in bits >= KS (xor shuffles 16, 8, .. KS: a fixed order; KS = 1:
// the whole warp, every lane holding the sum).
template <int KS>
__device__ __forceinline__ void p3g_lane_sum(float& re, float& im) {
#pragma unroll
  for (int o = 16; o >= KS; o >>= 1) {
    re += __shfl_xor_sync(0xffffffffu, re, o);
    im += __shfl_xor_sync(0xffffffffu, im, o);
  }
}

// Whether the 16-bit type T (element or pair) is the mma operand type (BF16: bf16, else fp16): its bits are the fragment's.
template <bool BF16, typename T> __host__ __device__ constexpr bool p3g_raw() {
  return BF16 ? std::is_same<T, __nv_bfloat16>::value || std::is_same<T, __nv_bfloat162>::value
              : std::is_same<T, __half>::value || std::is_same<T, __half2>::value;
}
// G from the planes, times conj(T_s) when TWG. Columns col (even), col + 1 sit at p and q = p + 1 for S > 1 (one word a plane
// under pairs16), p + 16 at S = 1 (lS = 0: the last axis).
template <bool BF16, typename ST, bool TWG>
struct P3gGa {
  const TwP& T; const ST* zr; const ST* zi; int lS, S, lMs;
  __device__ __forceinline__ void vals(int p, int q, float2& v0, float2& v1) const {   // (re, im) at p and q as fp32
    if (pairs16<ST>() && S > 1) {
      const float2 r = ld_pair(zr + SIDX(p)), m = ld_pair(zi + SIDX(p));
      v0 = make_float2(r.x, m.x); v1 = make_float2(r.y, m.y);
    } else {
      v0 = make_float2(ld(zr + SIDX(p)), ld(zi + SIDX(p))); v1 = make_float2(ld(zr + SIDX(q)), ld(zi + SIDX(q)));
    }
  }
  __device__ __forceinline__ void frag(int k, int col, uint32_t& re, uint32_t& im) const {
    const int p = ((col >> lS) << lMs) + k * S + (col & (S - 1)), q = S == 1 ? p + 16 : p + 1;
    if constexpr (!TWG && p3g_raw<BF16, ST>()) {
      if (pairs16<ST>() && S > 1) { re = *reinterpret_cast<const uint32_t*>(zr + SIDX(p)); im = *reinterpret_cast<const uint32_t*>(zi + SIDX(p)); }
      else { re = ld_pack2<BF16>(zr + SIDX(p), zr + SIDX(q)); im = ld_pack2<BF16>(zi + SIDX(p), zi + SIDX(q)); }
    } else {
      float2 v0, v1;
      vals(p, q, v0, v1);
      if constexpr (TWG) {
        v0 = p3g_mul(v0, p3g_cw(T, (k * (col & (S - 1))) & ((1 << lMs) - 1), lMs));
        v1 = p3g_mul(v1, p3g_cw(T, (k * ((col + 1) & (S - 1))) & ((1 << lMs) - 1), lMs));
      }
      re = pack2<BF16>(v0.x, v1.x); im = pack2<BF16>(v0.y, v1.y);
    }
  }
};
// X from the dump rows xa (p < 8192) / xb, times conj(T_s) when TWX; raw: (re, im) words of columns col, col + 1 regrouped
// into (re0, re1), (im0, im1) by byte permutes.
template <bool BF16, typename SC, bool TWX>
struct P3gGb {
  const TwP& T; const SC* xa; const SC* xb; int lS, S, lMs;
  __device__ __forceinline__ const SC* at(int p) const { return (p >> P3_LIN ? xb : xa) + (p & (P3_IN - 1)); }
  __device__ __forceinline__ void frag(int n, int col, uint32_t& re, uint32_t& im) const {
    const int p = ((col >> lS) << lMs) + n * S + (col & (S - 1)), q = S == 1 ? p + 16 : p + 1;
    // session 33: p and q in the same dump row (p even; at S = 1 q = p + 16 with col even <= 510): one row select (at), and
    // at S > 1 both words in one 8-byte load (p even, the rows' offsets even: 8-byte aligned); the same values
    const SC* r = at(p);
    if constexpr (!TWX && p3g_raw<BF16, SC>()) {
      uint32_t e0, e1;
      if (S > 1) { const uint2 e = *reinterpret_cast<const uint2*>(r); e0 = e.x; e1 = e.y; }
      else { e0 = *reinterpret_cast<const uint32_t*>(r); e1 = *reinterpret_cast<const uint32_t*>(r + 16); }
      re = __byte_perm(e0, e1, 0x5410); im = __byte_perm(e0, e1, 0x7632);
    } else {
      float2 v0 = ldc(r), v1 = ldc(r + (q - p));
      if constexpr (TWX) {
        v0 = p3g_mul(v0, p3g_cw(T, (n * (col & (S - 1))) & ((1 << lMs) - 1), lMs));
        v1 = p3g_mul(v1, p3g_cw(T, (n * ((col + 1) & (S - 1))) & ((1 << lMs) - 1), lMs));
      }
      re = pack2<BF16>(v0.x, v1.x); im = pack2<BF16>(v0.y, v1.y);
    }
  }
};
// Session 33: the twiddled side of a Gram with its lane's eight twiddles conj(T_s) computed once (p3g_cw of the same
// exponents as P3gGa / P3gGb at use): at S = 16 they do not depend on the tile (col & 15 = 2t + 8 (i >> 1) + e, columns
// col0 a multiple of 16), at S = 256 only on the tile's class cls = tile & 15 (col & 255 = 16 cls + ..). init(cls) for
// P3gGaW's rows k = g + 8 (i & 1), P3gGbW's n = 8 j + g. The same twiddle values and products as the per-use path.
template <bool BF16, typename ST>
struct P3gGaW {
  P3gGa<BF16, ST, true> a; float2 w[8];
  __device__ __forceinline__ void init(int cls) {
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, c0 = a.lS == 8 ? 16 * cls : 0;
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int e = 0; e < 2; ++e)
        w[2 * i + e] = p3g_cw(a.T, ((g + 8 * (i & 1)) * (c0 + 2 * t + 8 * (i >> 1) + e)) & ((1 << a.lMs) - 1), a.lMs);
  }
  __device__ __forceinline__ void frag_s(int i, int k, int col, uint32_t& re, uint32_t& im) const {
    const int p = ((col >> a.lS) << a.lMs) + k * a.S + (col & (a.S - 1));
    float2 v0, v1;
    a.vals(p, p + 1, v0, v1);
    v0 = p3g_mul(v0, w[2 * i]); v1 = p3g_mul(v1, w[2 * i + 1]);
    re = pack2<BF16>(v0.x, v1.x); im = pack2<BF16>(v0.y, v1.y);
  }
};
template <bool BF16, typename SC>
struct P3gGbW {
  P3gGb<BF16, SC, true> b; float2 w[8];
  __device__ __forceinline__ void init(int cls) {
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, c0 = b.lS == 8 ? 16 * cls : 0;
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int q = 0; q < 2; ++q)
#pragma unroll
        for (int e = 0; e < 2; ++e)
          w[4 * j + 2 * q + e] = p3g_cw(b.T, ((8 * j + g) * (c0 + 2 * t + 8 * q + e)) & ((1 << b.lMs) - 1), b.lMs);
  }
  __device__ __forceinline__ void frag_s(int s, int n, int col, uint32_t& re, uint32_t& im) const {
    const int p = ((col >> b.lS) << b.lMs) + n * b.S + (col & (b.S - 1));   // S >= 16: p, p + 1 in one 8-byte load (P3gGb)
    union { uint2 u; SC e[2]; } x;
    x.u = *reinterpret_cast<const uint2*>(b.at(p));
    const float2 v0 = p3g_mul(ldc(&x.e[0]), w[2 * s]), v1 = p3g_mul(ldc(&x.e[1]), w[2 * s + 1]);
    re = pack2<BF16>(v0.x, v1.x); im = pack2<BF16>(v0.y, v1.y);
  }
};
// The tiles of a Gram (64 of 16 columns) into dr / di: tile = warp, warp + nw, .. in order (per-use twiddles, or the
// hoisted side's twiddles computed once at S = 16: the same order, so the same sums), or at S = 256 with the hoisted side
// class by class (cls = warp, warp + nw, ..; tiles cls, cls + 16, ..: another summation order than tile order; needs nw
// dividing 16). HW: the hoisted operand is A (P3gGaW) or B (P3gGbW).
template <bool BF16, bool HA, typename GA, typename GB, typename HS>
__device__ __forceinline__ void p3g_tiles_h(HS& hs, const GA& ga, const GB& gb, int lS, float (&dr)[1][2][4], float (&di)[1][2][4]) {
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  constexpr int NT = 2 * P3_IN / 16 / 16;
  auto tile16 = [&](int tile) {
    if constexpr (HA) p3g_tile<BF16, 1, 2>(hs, gb, tile << 4, dr, di); else p3g_tile<BF16, 1, 2>(ga, hs, tile << 4, dr, di);
  };
  if (lS == 8) {
    for (int cls = warp; cls < 16; cls += nw) {
      hs.init(cls);
      for (int tile = cls; tile < NT; tile += 16) tile16(tile);
    }
  } else {
    hs.init(0);
    for (int tile = warp; tile < NT; tile += nw) tile16(tile);
  }
}
// Whether p3g_tiles_h applies: a twiddled side at S = 16 or 256 and (S = 256) nw dividing 16.
__device__ __forceinline__ bool p3g_hoist(int lS) { return lS == 4 || (lS == 8 && 16 % (blockDim.x >> 5) == 0); }

// One inner stage's Gram (R = 16, axis stride S = 2^lS: 3 -> 8, 4 -> 4, 5 -> 0) over the block's two rows (1024 columns):
// acc[k][n] += sum G[k][col] conj(X[n][col]), element (k, col) at plane index p = ((col >> lS) << (lS + 4)) + k S + (col & (S - 1));
// G from the planes (times conj(T_s) when TWG), X from the dump rows xa (p < 8192) / xb (times conj(T_s) when TWX); T_s
// = w_(16 S)^(k c). Ends with a barrier (p3g_acc3's).
// Session 28: p3g_gram16b, the same with the X operand gb given (any type with frag(n, col, re, im); learned_p3g_x.cuh's P3gGu).
template <bool BF16, typename ST, bool TWG, typename GB>
__device__ __forceinline__ void p3g_gram16b(const TwP& T, const ST* zr, const ST* zi, const GB& gb, int lS, float* acc) {
  const int S = 1 << lS, lMs = lS + 4, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  const P3gGa<BF16, ST, TWG> ga{T, zr, zi, lS, S, lMs};
  float dr[1][2][4] = {}, di[1][2][4] = {};
  if constexpr (TWG) {
    if (p3g_hoist(lS)) {
      P3gGaW<BF16, ST> hs{P3gGa<BF16, ST, true>{T, zr, zi, lS, S, lMs}};
      p3g_tiles_h<BF16, true>(hs, ga, gb, lS, dr, di);
      p3g_acc3(acc, dr, di);
      return;
    }
  }
  for (int tile = warp; tile < 2 * P3_IN / 16 / 16; tile += nw) p3g_tile<BF16, 1, 2>(ga, gb, tile << 4, dr, di);
  p3g_acc3(acc, dr, di);
}
template <bool BF16, typename ST, typename SC, bool TWG, bool TWX>
__device__ void p3g_gram16(const TwP& T, const ST* zr, const ST* zi, const SC* xa, const SC* xb, int lS, float* acc) {
  const int S = 1 << lS, lMs = lS + 4;
  if constexpr (TWX && !TWG) {
    if (p3g_hoist(lS)) {
      const P3gGa<BF16, ST, false> ga{T, zr, zi, lS, S, lMs};
      P3gGbW<BF16, SC> hs{P3gGb<BF16, SC, true>{T, xa, xb, lS, S, lMs}};
      float dr[1][2][4] = {}, di[1][2][4] = {};
      p3g_tiles_h<BF16, false>(hs, ga, hs, lS, dr, di);
      p3g_acc3(acc, dr, di);
      return;
    }
  }
  p3g_gram16b<BF16, ST, TWG>(T, zr, zi, P3gGb<BF16, SC, TWX>{T, xa, xb, lS, S, lMs}, lS, acc);
}

// The P3G_NB buffers at acc (16 x 16 float2 each, slots p3g_s16) summed in order to out ([k][n]) and zeroed for the next
// Gram, then a block barrier. The callers' accumulation ends with a block barrier (p3g_acc3's, P3gGram::add2's), so none
// is needed before the reads.
__device__ __forceinline__ void p3g_flush(float* acc, float2* __restrict__ out) {
  for (int i = threadIdx.x; i < 256; i += blockDim.x) {
    const int e = p3g_s16(i >> 4, i & 15);
    float re = acc[2 * e], im = acc[2 * e + 1];
#pragma unroll
    for (int b = 1; b < P3G_NB; ++b) { re += acc[512 * b + 2 * e]; im += acc[512 * b + 2 * e + 1]; }
    out[i] = make_float2(re, im);
#pragma unroll
    for (int b = 0; b < P3G_NB; ++b) { acc[512 * b + 2 * e] = 0.f; acc[512 * b + 2 * e + 1] = 0.f; }
  }
  __syncthreads();
}
