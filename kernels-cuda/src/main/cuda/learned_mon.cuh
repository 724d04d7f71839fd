// Shapes: a row of n complex points in shared memory as two planes zr, zi of ST (fp32, or the 16-bit operand type),
// addressed through monarch.cuh's SIDX; a: a 16 x 16 complex matrix (float2, row-major, global) in LEFT form (a stage
// computes Y[k] = sum_m a[k][m] X[m] along its axis); pair coefficients c = {Re P, Im P, Re Q, Im Q} (float4).
//
// Device code shared by the packed learned butterfly's J-factor kernels (helper pkjdedup, session 14): learned_pm.cu
// (one pass, M <= 32768; learned_pm2.cu through it) and learned_p3.cu (three passes, the inner 8192 points). The two
// files had written these pieces twice (pkjtc's lpm_* and pkj3p's lp3_*, in parallel); folded here with the machine code
// of every kernel unchanged (kernels-cuda/bench-runs/pkjdedup/machine-code-check.txt: each kernel's .text for sm_80 and
// sm_90a identical before and after, ptxas reports unchanged).
//   lm_frag_a     the A operand (monarch.cuh's FragA) of a, or of conj(a)
//   lm_frag_b     the B operand a^T (FragB, or a struct without nim: learned_pm.cu's PmB)
//   lm_stage_a    a radix-16 stage along a strided axis with a learned matrix (monarch.cuh's tiles_a)
//   lm_stage_b    the stage along the last, contiguous, axis (monarch.cuh's load_tile_b / mma_b)
// The builders are learned-matrix twins of monarch.cuh's make_frag_a / make_frag_b and stage_mma_a / stage_mma_b, which
// build W16 from the twiddle table instead (monarch.cuh is FlashButterfly's and stays as it is).
#pragma once
#include "monarch.cuh"

// A operand of the 16 x 16 left-form matrix a, or of conj(a) when cj: reg i holds row g + 8 (i & 1),
// cols 2t + 8 (i >> 1) + {0, 1} (monarch.cuh's FragA layout).
template <bool BF16>
__device__ __forceinline__ void lm_frag_a(const float2* __restrict__ a, bool cj, FragA& f) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const float sg = cj ? -1.0f : 1.0f;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int row = g + 8 * (i & 1), col = 2 * t + 8 * (i >> 1);
    const float2 w0 = __ldg(a + row * 16 + col), w1 = __ldg(a + row * 16 + col + 1);
    f.re[i] = pack2<BF16>(w0.x, w1.x);
    f.im[i] = pack2<BF16>(sg * w0.y, sg * w1.y);
    f.nim[i] = pack2<BF16>(-sg * w0.y, -sg * w1.y);
  }
}

// B operand Bm = a^T (so X @ Bm = the left-form stage along the last axis): register q of column half j holds rows
// 2t + 8q + {0, 1}, col 8j + g, i.e. a[8j + g][2t + 8q + {0, 1}] (monarch.cuh's FragB layout). NIM: FB has nim (= -im,
// FragB) and it is filled; without it (learned_pm.cu's PmB) only re and im.
template <bool BF16, bool NIM, typename FB>
__device__ __forceinline__ void lm_frag_b(const float2* __restrict__ a, FB& f) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int j = 0; j < 2; ++j)
#pragma unroll
    for (int q = 0; q < 2; ++q) {
      const float2 w0 = __ldg(a + (8 * j + g) * 16 + 2 * t + 8 * q), w1 = __ldg(a + (8 * j + g) * 16 + 2 * t + 8 * q + 1);
      f.re[j][q] = pack2<BF16>(w0.x, w1.x);
      f.im[j][q] = pack2<BF16>(w0.y, w1.y);
      if constexpr (NIM) f.nim[j][q] = pack2<BF16>(-w0.y, -w1.y);
    }
}

// A radix-16 stage along the axis of stride S = 2^lS >= 16 (O outer blocks of 16 S points) with a learned matrix:
// monarch.cuh's tiles_a with F from lm_frag_a. FWD: Y = a @ X, then o T_s * scale; inverse: X o conj(T_s), then
// conj(F) @ X with F the fragment of conj(a), i.e. a @ (X o conj(T_s)).
// Session 33: a warp takes its tiles column block by column block (tile = o cols + col, c0 = 8 col), so a lane's twiddles
// (four a tile, tiles_a's values; forward with the stage's scale) are computed once per column block (TwCol) instead of
// per element use; at the middles' S = 16 (O = 64, 2 column blocks, 8 warps) once per stage, at S = 256 (O = 4) once per
// 4 tiles. lm_tiles_a is tiles_a (monarch.cuh, FlashButterfly's, unchanged) with those twiddles, forward the 16-bit planes
// of the compute type read as raw word pairs (ld then pack2 gives the same bits), and the twiddle products as explicit
// fmaf (tiles_a leaves their contraction to the compiler; built first with the products left to it, y at L = 65536 differed
// from the previous build's in 26 (bf16) / 1275 (fp16) of 393216 outputs, bench-runs/s33/s1). The same twiddle values and
// operand roundings, so within rounding of tiles_a; two kernels through lm_tiles_a give the same bits (0 outputs differ, s2 / s5).
// Where a column block would leave a warp single tiles (O = 1, or nw not a multiple of the column blocks): tiles_a.
struct TwCol {
  float c[4], s[4];
  template <bool FWD, typename TT>
  __device__ __forceinline__ void init(const TT& T, int lS, int c0, float scale) {
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, M = 16 << lS;
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      if (FWD) {   // tiles_a's store: row k = g + 8 (q >> 1), column c0 + 2t + (q & 1), then * scale
        twiddle<true>(T, ((g + 8 * (q >> 1)) * (c0 + 2 * t + (q & 1))) & (M - 1), lS + 4, -1.0f, c[q], s[q]);
        c[q] *= scale; s[q] *= scale;
      } else {     // tiles_a's load: row r = 2t + (q & 1) + 8 (q >> 1), column c0 + g
        twiddle<true>(T, ((2 * t + (q & 1) + 8 * (q >> 1)) * (c0 + g)) & (M - 1), lS + 4, 1.0f, c[q], s[q]);
      }
    }
  }
};
template <bool BF16, bool FWD, int NT, typename ST>
__device__ __forceinline__ void lm_tiles_a(const FragA& F, const TwCol& th, ST* zr, ST* zi, int lS, const int* tile) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int S = 1 << lS, cols = S >> 3;
  constexpr bool RAW = FWD && sizeof(ST) == 2 && (std::is_same<ST, __half>::value != BF16);
  float ar[NT][4], ai[NT][4];
#pragma unroll
  for (int v = 0; v < NT; ++v) {
    const int at = (tile[v] >> (lS - 3)) * 16 * S + (tile[v] & (cols - 1)) * 8;   // the tile's row 0, column c0
    uint32_t xr[2], xi[2];   // rows 2t + 8h, 2t + 8h + 1 (tiles_a's q = 2h, 2h + 1) as one operand word a plane
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int p0 = SIDX(at + (2 * t + 8 * h) * S + g), p1 = SIDX(at + (2 * t + 8 * h + 1) * S + g);
      if constexpr (RAW) {
        xr[h] = ld_pack2<BF16>(zr + p0, zr + p1); xi[h] = ld_pack2<BF16>(zi + p0, zi + p1);
      } else {
        float br[2] = {ld(zr + p0), ld(zr + p1)}, bi[2] = {ld(zi + p0), ld(zi + p1)};
        if (!FWD) {
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const float tc = th.c[2 * h + e], ts = th.s[2 * h + e];
            const float a = fmaf(br[e], tc, -(bi[e] * ts)), b = fmaf(br[e], ts, bi[e] * tc);
            br[e] = a; bi[e] = b;
          }
        }
        xr[h] = pack2<BF16>(br[0], br[1]); xi[h] = pack2<BF16>(bi[0], bi[1]);
      }
    }
#pragma unroll
    for (int q = 0; q < 4; ++q) { ar[v][q] = 0.f; ai[v][q] = 0.f; }
    mma16816<BF16>(ar[v], F.re, xr[0], xr[1]);
    mma16816<BF16>(ar[v], FWD ? F.nim : F.im, xi[0], xi[1]);
    mma16816<BF16>(ai[v], F.re, xi[0], xi[1]);
    mma16816<BF16>(ai[v], FWD ? F.im : F.nim, xr[0], xr[1]);
  }
  __syncwarp();
#pragma unroll
  for (int v = 0; v < NT; ++v) {
    const int at = (tile[v] >> (lS - 3)) * 16 * S + (tile[v] & (cols - 1)) * 8 + 2 * t;
#pragma unroll
    for (int h = 0; h < 2; ++h) {   // row g + 8h, columns c0 + 2t + e (tiles_a's q = 2h + e)
      const int idx = SIDX(at + (g + 8 * h) * S);
      float vr[2], vi[2];
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        vr[e] = ar[v][2 * h + e]; vi[e] = ai[v][2 * h + e];
        if (FWD) {
          const float tc = th.c[2 * h + e], ts = th.s[2 * h + e];
          const float a = fmaf(vr[e], tc, -(vi[e] * ts)), b = fmaf(vr[e], ts, vi[e] * tc);
          vr[e] = a; vi[e] = b;
        }
      }
      if constexpr (pairs16<ST>()) {
        st_pair(zr + idx, vr[0], vr[1]); st_pair(zi + idx, vi[0], vi[1]);
      } else {
        const int idx1 = SIDX(at + (g + 8 * h) * S + 1);
        st(zr + idx, vr[0]); st(zi + idx, vi[0]); st(zr + idx1, vr[1]); st(zi + idx1, vi[1]);
      }
    }
  }
  __syncwarp();
}
// HOIST (the three-pass middles' callers, learned_p3.cu / learned_p3b.cu): the column-block order with TwCol; else (the
// one-pass kernels, whose register budgets the held twiddles overran: lpmb2_bwd_*_r80 spilled 80-180 bytes) tiles_a's.
template <bool BF16, bool FWD, typename ST, typename TT, bool HOIST = false>
__device__ void lm_stage_a(const TT& T, const float2* __restrict__ a, ST* zr, ST* zi, int lS, int O, float scale) {
  FragA F; lm_frag_a<BF16>(a, !FWD, F);
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  const int cols = (1 << lS) >> 3, ntiles = O * cols;
  if constexpr (HOIST) {
    if (cols <= nw && nw % cols == 0 && O >= 2 * (nw / cols)) {   // one column block a warp, its outer blocks o = o0, o0 + os, ..
      const int col = warp % cols, os = nw / cols;
      TwCol th; th.init<FWD>(T, lS, 8 * col, scale);
      int o = warp / cols;
      for (; o + os < O; o += 2 * os) {
        const int tl[2] = {o * cols + col, (o + os) * cols + col};
        lm_tiles_a<BF16, FWD, 2, ST>(F, th, zr, zi, lS, tl);
      }
      for (; o < O; o += os) { const int tl = o * cols + col; lm_tiles_a<BF16, FWD, 1, ST>(F, th, zr, zi, lS, &tl); }
      return;
    }
    if (cols > nw && O >= 2) {   // column blocks col = warp, warp + nw, ..; each with all O outer blocks
      for (int col = warp; col < cols; col += nw) {
        TwCol th; th.init<FWD>(T, lS, 8 * col, scale);
        int o = 0;
        for (; o + 1 < O; o += 2) {
          const int tl[2] = {o * cols + col, (o + 1) * cols + col};
          lm_tiles_a<BF16, FWD, 2, ST>(F, th, zr, zi, lS, tl);
        }
        if (o < O) { const int tl = o * cols + col; lm_tiles_a<BF16, FWD, 1, ST>(F, th, zr, zi, lS, &tl); }
      }
      return;
    }
  }
  int tile = warp;
  for (; tile + nw < ntiles; tile += 2 * nw) {
    const int tl[2] = {tile, tile + nw};
    tiles_a<BF16, FWD, 2, ST>(T, F, zr, zi, lS, tl, scale);
  }
  for (; tile < ntiles; tile += nw) tiles_a<BF16, FWD, 1, ST>(T, F, zr, zi, lS, &tile, scale);
}

// The stage along the last axis (stride 1, no twiddle) of n points (n a multiple of 256): each 16 x 16 tile of 16
// contiguous rows X -> X @ a^T, * scale.
template <bool BF16, typename ST>
__device__ void lm_stage_b(const float2* __restrict__ a, ST* zr, ST* zi, int n, float scale) {
  FragB F; lm_frag_b<BF16, true>(a, F);
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  for (int tile = warp; tile < (n >> 8); tile += nw) {
    const int base = tile << 8;
    uint32_t xr[4], xi[4];
    load_tile_b<BF16>(zr, zi, base, g, t, xr, xi);
    __syncwarp();
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float dr[4], di[4];
      mma_b<BF16, true>(F, j, xr, xi, dr, di);
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const int idx = SIDX(base + (g + 8 * (q >> 1)) * 16 + 8 * j + 2 * t + (q & 1));
        if constexpr (pairs16<ST>()) {   // columns 2 t, 2 t + 1 (q even, q + 1): one word a plane
          if ((q & 1) == 0) { st_pair(zr + idx, dr[q] * scale, dr[q + 1] * scale); st_pair(zi + idx, di[q] * scale, di[q + 1] * scale); }
        } else {
          st(zr + idx, dr[q] * scale); st(zi + idx, di[q] * scale);
        }
      }
    }
    __syncwarp();
  }
}
