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
template <bool BF16, bool FWD, typename ST, typename TT>
__device__ void lm_stage_a(const TT& T, const float2* __restrict__ a, ST* zr, ST* zi, int lS, int O, float scale) {
  FragA F; lm_frag_a<BF16>(a, !FWD, F);
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  const int ntiles = O * ((1 << lS) >> 3);
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
