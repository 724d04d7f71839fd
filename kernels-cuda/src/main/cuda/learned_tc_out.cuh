// Row I/O of the tensor-core learned butterfly (learned_tc.cu, learned_tc_chain.cuh): the x load of a one-warp row and
// step 4, y = Re(a4 @ X3) + D x from the row buffer X holding X3. Shapes: N1 x N2 = N, X rows [Re | Im] of SX 16-bit
// values; x, y rows of L.
#pragma once
#include "learned_tc_ops.cuh"

// One warp: x (zero-padded) into X as the real N1 x N2 matrix (rows < 16 kt), then __syncwarp.
template <typename IO, int N1, int N2>
__device__ __forceinline__ void lbt_load_x(const IO* __restrict__ xrow, uint16_t* X, int L, int kt) {
  using Lo = LbtLayout<N1, N2>;
  const int lane = threadIdx.x & 31;
  // L % 8 == 0: 16-byte chunks (rows 16-byte aligned)
  if ((L & 7) == 0) {
    for (int n = 8 * lane; n < 16 * kt * N2; n += 256) {
      const int r = n / N2, c = n - r * N2;
      *reinterpret_cast<uint4*>(X + r * Lo::SX + c) = n < L ? *reinterpret_cast<const uint4*>(xrow + n) : make_uint4(0, 0, 0, 0);
    }
  } else {
    for (int n = lane; n < 16 * kt * N2; n += 32) {
      const int r = n / N2, c = n - r * N2;
      st(reinterpret_cast<IO*>(X) + r * Lo::SX + c, n < L ? ld(xrow + n) : 0.f);
    }
  }
  __syncwarp();
}

// Step 4 of a one-warp row, all row tiles at once (not SPLIT): E = Re(a4 @ X3) for the output rows (m-tiles < kt), staged
// in fp32 in X (rows of SE floats) for 16-byte writes of y = E + D x. X holds X3; lbt_row and lbc_row16 (the chained f2c).
template <typename IO, bool BF16, int N1, int N2>
__device__ __forceinline__ void lbt_out(const IO* __restrict__ xrow, IO* __restrict__ orow, float d, int L, uint16_t* X,
                                        const uint16_t* a4r, const uint16_t* a4i, int kt) {
  using Lo = LbtLayout<N1, N2>;
  constexpr int MT = N1 / 16, KT1 = N1 / 16, JP = N2 / 16, NT = N2 / 8;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, lr = lane & 7, lm = lane >> 3;
    float e[MT][NT][4];   // all accumulators before the buffer is reused for the fp32 stage
  #pragma unroll
    for (int m = 0; m < MT; ++m)
  #pragma unroll
      for (int j = 0; j < NT; ++j)
  #pragma unroll
        for (int q = 0; q < 4; ++q) e[m][j][q] = 0.f;
  #pragma unroll
    for (int kk = 0; kk < KT1; ++kk) {
      uint32_t gr[MT][4], gi[MT][4];
  #pragma unroll
      for (int m = 0; m < MT; ++m)
        if (m < kt) {
          const int aoff = (16 * m + (lm & 1) * 8 + lr) * Lo::SA + 16 * kk + (lm >> 1) * 8;
          ldsm_x4(gr[m], a4r + aoff);
          ldsm_x4(gi[m], a4i + aoff);
  #pragma unroll
          for (int q = 0; q < 4; ++q) gi[m][q] ^= SIGN2;
        }
  #pragma unroll
      for (int jp = 0; jp < JP; ++jp) {
        uint32_t vr[4], vi[4];
        const uint16_t* p = X + (16 * kk + (lm & 1) * 8 + lr) * Lo::SX + 16 * jp + (lm >> 1) * 8;
        ldsm_x4_t(vr, p);
        ldsm_x4_t(vi, p + N2);
  #pragma unroll
        for (int m = 0; m < MT; ++m)
          if (m < kt)
  #pragma unroll
            for (int j = 0; j < 2; ++j) {
              mma16816<BF16>(e[m][2 * jp + j], gr[m], vr[2 * j], vr[2 * j + 1]);
              mma16816<BF16>(e[m][2 * jp + j], gi[m], vi[2 * j], vi[2 * j + 1]);
            }
      }
    }
    __syncwarp();
    float* E = reinterpret_cast<float*>(X);   // fp32 stage, rows of SE floats
  #pragma unroll
    for (int m = 0; m < MT; ++m)
      if (m < kt)
  #pragma unroll
        for (int j = 0; j < NT; ++j)
  #pragma unroll
          for (int h = 0; h < 2; ++h)
            *reinterpret_cast<float2*>(E + (16 * m + g + 8 * h) * Lo::SE + 8 * j + 2 * t) = make_float2(e[m][j][2 * h], e[m][j][2 * h + 1]);
    __syncwarp();
    if ((L & 7) == 0) {   // 8 outputs per lane: two float4 of E, 16-byte x and y
      for (int n = 8 * lane; n < L; n += 256) {
        const int r = n / N2, c = n - r * N2;
        const float4 e0 = *reinterpret_cast<const float4*>(E + r * Lo::SE + c), e1 = *reinterpret_cast<const float4*>(E + r * Lo::SE + c + 4);
        const uint4 xv = *reinterpret_cast<const uint4*>(xrow + n);
        const IO* xs = reinterpret_cast<const IO*>(&xv);
        const float ev[8] = {e0.x, e0.y, e0.z, e0.w, e1.x, e1.y, e1.z, e1.w};
        uint4 yv;
        uint32_t* yw = reinterpret_cast<uint32_t*>(&yv);
  #pragma unroll
        for (int i = 0; i < 4; ++i) yw[i] = pack2<BF16>(fmaf(d, ld(xs + 2 * i), ev[2 * i]), fmaf(d, ld(xs + 2 * i + 1), ev[2 * i + 1]));
        *reinterpret_cast<uint4*>(orow + n) = yv;
      }
    } else {
      for (int n = lane; n < L; n += 32) {
        const int r = n / N2, c = n - r * N2;
        st(orow + n, fmaf(d, ld(xrow + n), E[r * Lo::SE + c]));
      }
    }
    __syncwarp();
}

// Step 4 of a pair row (own columns c0 + [0, N2/2), output rows < 16 kt, one row tile at a time): y = Re(a4 @ X3) + D x
// from the accumulators; X holds X3 (all 32 rows), synced by the caller (lbp_row, learned_tc_chain.cuh lbc_row).
// xs != nullptr (lbc_row): the row's x (L even) from its stage, rows of N2 + 8 values, instead of global memory.
template <typename IO, bool BF16, int N2>
__device__ __forceinline__ void lbp_out(const IO* __restrict__ xrow, IO* __restrict__ orow, float d, int L, const uint16_t* X,
                                        const uint16_t* a4r, const uint16_t* a4i, int kt, int c0, int jp0,
                                        const uint16_t* xs = nullptr) {
  using Lo = LbtLayout<32, N2>;
  constexpr int JPW = N2 / 32;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, lr = lane & 7, lm = lane >> 3;
#pragma unroll 1
  for (int m = 0; m < kt; ++m) {
    float e[2 * JPW][4];
    uint32_t xv[2 * JPW][2];   // x pairs of the skip term (L even), loaded before the MMAs hide their latency
#pragma unroll
    for (int j = 0; j < 2 * JPW; ++j)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int n = (16 * m + g + 8 * h) * N2 + c0 + 8 * j + 2 * t;
        const int xo = (16 * m + g + 8 * h) * (N2 + 8) + c0 + 8 * j + 2 * t;   // n in the stage (xs)
        xv[j][h] = ((L & 1) == 0 && n < L) ? (xs != nullptr ? *reinterpret_cast<const uint32_t*>(xs + xo)
                                                            : *reinterpret_cast<const uint32_t*>(xrow + n)) : 0u;
        e[j][2 * h] = e[j][2 * h + 1] = 0.f;
      }
#pragma unroll
    for (int kk = 0; kk < 2; ++kk) {
      uint32_t gr[4], gi[4];
      const int aoff = (16 * m + (lm & 1) * 8 + lr) * Lo::SA + 16 * kk + (lm >> 1) * 8;
      ldsm_x4(gr, a4r + aoff);
      ldsm_x4(gi, a4i + aoff);
#pragma unroll
      for (int q = 0; q < 4; ++q) gi[q] ^= SIGN2;
#pragma unroll
      for (int jj = 0; jj < JPW; ++jj) {
        uint32_t vr[4], vi[4];
        const uint16_t* p = X + (16 * kk + (lm & 1) * 8 + lr) * Lo::SX + 16 * (jp0 + jj) + (lm >> 1) * 8;
        ldsm_x4_t(vr, p);
        ldsm_x4_t(vi, p + N2);
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          mma16816<BF16>(e[2 * jj + j], gr, vr[2 * j], vr[2 * j + 1]);
          mma16816<BF16>(e[2 * jj + j], gi, vi[2 * j], vi[2 * j + 1]);
        }
      }
    }
#pragma unroll
    for (int j = 0; j < 2 * JPW; ++j)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int n = (16 * m + g + 8 * h) * N2 + c0 + 8 * j + 2 * t;
        const IO* xs = reinterpret_cast<const IO*>(&xv[j][h]);
        if ((L & 1) == 0 && n < L)   // n even, L even: the pair is in or out together; 4-byte aligned
          *reinterpret_cast<uint32_t*>(orow + n) = pack2<BF16>(fmaf(d, ld(xs), e[j][2 * h]), fmaf(d, ld(xs + 1), e[j][2 * h + 1]));
        if ((L & 1) != 0 && n < L) st(orow + n, fmaf(d, ld(xrow + n), e[j][2 * h]));
        if ((L & 1) != 0 && n + 1 < L) st(orow + n + 1, fmaf(d, ld(xrow + n + 1), e[j][2 * h + 1]));
      }
  }
  __syncwarp();
}
