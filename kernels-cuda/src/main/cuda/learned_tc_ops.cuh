// Shared pieces of the tensor-core learned butterfly forward (learned_tc.cu): the shared-memory layout, block
// preparation, the right product with its fp32 epilogue, the dump of a row buffer, the twiddle recurrence start.
// Shapes: N1 x N2 = N (the row as a matrix), rows of the warp buffer [Re | Im] padded to SX 16-bit values.
#pragma once
#include "learned_tc.cuh"

template <int N1, int N2>
struct LbtLayout {
  static constexpr int N = N1 * N2, SA = N1 + 8, SB = N2 + 8, SX = 2 * N2 + 8, SK = N2 + 8, SE = N2 + 4;
  static constexpr int A_EL = N1 * SA, B_EL = N2 * SB;                   // 16-bit elements per padded block plane
  static constexpr int BLK_BYTES = 2 * (4 * A_EL + 4 * B_EL);            // a1r a1i a4r a4i, b2r b2i b3r b3i
  static constexpr int KP_BYTES = 8 * N1 * SK;
  static constexpr int TW_BYTES = 8 * tw_entries(N);
  static constexpr int WARP_BYTES = 2 * N1 * SX;                         // >= 4 * N1 * SE: the fp32 output stage fits
  static constexpr int FIXED_BYTES = BLK_BYTES + KP_BYTES + TW_BYTES;
  static constexpr int PAIR_EL = WARP_BYTES / 2 + 2 * 32 * (N2 / 2 + 8);   // PAIR: a row buffer and two x stages
};

// Prepared blocks (16-bit) from the fp32 complex blocks {Fa, Fb, Gb, Ga}; adjoint: {Ga^H, Gb^H, Fb^H, Fa^H}.
// out: a1r a1i | b2r b2i | b3r b3i | a4r a4i, unpadded (see the header). Grid ceil(2 (N1^2 + N2^2) / 256), block 256.
template <typename T16>
__device__ void lbt_prep(const float2* __restrict__ blocks, T16* __restrict__ out, int N1, int N2, int adjoint) {
  const int e = blockIdx.x * blockDim.x + threadIdx.x, a = N1 * N1, b = N2 * N2;
  if (e >= 2 * (a + b)) return;
  const float2 *fa = blocks, *fb = blocks + a, *gb = fb + b, *ga = gb + b;
  float2 v;
  int off, size, i;   // offset of the slot's Re plane (Im at + size), index in the plane
  if (e < a || e >= a + 2 * b) {   // a1 or a4: (r, c) row-major
    const bool first = e < a;
    i = first ? e : e - a - 2 * b;
    const int r = i / N1, c = i - r * N1;
    const float2* src = first ? (adjoint ? ga : fa) : (adjoint ? fa : ga);
    if (adjoint) { const float2 s = src[c * N1 + r]; v = make_float2(s.x, -s.y); } else v = src[r * N1 + c];
    off = first ? 0 : 2 * a + 4 * b; size = a;
  } else {                         // b2 or b3, stored transposed: out[n][k] = M[k][n]
    const bool second = e < a + b;
    i = second ? e - a : e - a - b;
    const int n = i / N2, k = i - n * N2;
    const float2* src = second ? (adjoint ? gb : fb) : (adjoint ? fb : gb);
    // forward: M = src, M[k][n] = src[k*N2+n]; adjoint: M = src^H, M[k][n] = conj(src[n*N2+k])
    if (adjoint) { const float2 s = src[n * N2 + k]; v = make_float2(s.x, -s.y); } else v = src[k * N2 + n];
    off = second ? 2 * a : 2 * a + 2 * b; size = b;
  }
  st(out + off + i, v.x); st(out + off + size + i, v.y);
}

template <bool BF16>   // packs two fp32 into the compute type and stores them (4 bytes) at p
__device__ __forceinline__ void st_pair(void* p, float a, float b) { *reinterpret_cast<uint32_t*>(p) = pack2<BF16>(a, b); }
__device__ __forceinline__ float2 cmul(float2 a, float2 b) { return make_float2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }

// Right product of a warp's buffer X (N1 x N2 complex, [Re | Im] rows) by a block Bm (stored transposed, Re / Im planes
// br, bi), then the fp32 epilogue e(row, col, cr, ci) -> complex, rounded to 16 bits into X (in place).
// SPLIT: one 16-row tile at a time (its rows are read and written only by itself, so in place stays safe): half the
// registers at N1 = 32, the block fragments loaded once per row tile instead of once per row.
// pre != nullptr: the product before the epilogue is also stored there (unpadded [Re | Im] rows of 2 N2, global).
template <bool BF16, int N1, int N2, bool SPLIT, typename EPI>
__device__ __forceinline__ void right_product(uint16_t* X, const uint16_t* br, const uint16_t* bi, EPI epi,
                                              uint16_t* pre = nullptr) {
  if constexpr (SPLIT && N1 > 16) {
#pragma unroll 1
    for (int m = 0; m < N1 / 16; ++m)
      right_product<BF16, 16, N2, false>(X + 16 * m * (2 * N2 + 8), br, bi,
                                         [&](int row, int col, float cr, float ci, int e) { return epi(16 * m + row, col, cr, ci, e); },
                                         pre == nullptr ? nullptr : pre + 16 * m * 2 * N2);
    return;
  }
  using Lo = LbtLayout<N1, N2>;
  constexpr int MT = N1 / 16, KT = N2 / 16, JP = N2 / 16;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, lr = lane & 7, lm = lane >> 3;
  uint32_t xr[MT][KT][4], xi[MT][KT][4];
#pragma unroll
  for (int m = 0; m < MT; ++m)
#pragma unroll
    for (int kk = 0; kk < KT; ++kk) {
      const uint16_t* p = X + (16 * m + (lm & 1) * 8 + lr) * Lo::SX + 16 * kk + (lm >> 1) * 8;
      ldsm_x4(xr[m][kk], p);
      ldsm_x4(xi[m][kk], p + N2);
    }
  __syncwarp();
#pragma unroll 1
  for (int jp = 0; jp < JP; ++jp) {
    float cr[MT][2][4], ci[MT][2][4];
#pragma unroll
    for (int m = 0; m < MT; ++m)
#pragma unroll
      for (int j = 0; j < 2; ++j)
#pragma unroll
        for (int q = 0; q < 4; ++q) { cr[m][j][q] = 0.f; ci[m][j][q] = 0.f; }
#pragma unroll
    for (int kk = 0; kk < KT; ++kk) {
      uint32_t fr[4], fi[4];
      const int boff = (16 * jp + (lm >> 1) * 8 + lr) * Lo::SB + 16 * kk + (lm & 1) * 8;
      ldsm_x4(fr, br + boff);
      ldsm_x4(fi, bi + boff);
      const uint32_t nf[4] = {fi[0] ^ SIGN2, fi[1] ^ SIGN2, fi[2] ^ SIGN2, fi[3] ^ SIGN2};
#pragma unroll
      for (int m = 0; m < MT; ++m)
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          mma16816<BF16>(cr[m][j], xr[m][kk], fr[2 * j], fr[2 * j + 1]);
          mma16816<BF16>(cr[m][j], xi[m][kk], nf[2 * j], nf[2 * j + 1]);
          mma16816<BF16>(ci[m][j], xr[m][kk], fi[2 * j], fi[2 * j + 1]);
          mma16816<BF16>(ci[m][j], xi[m][kk], fr[2 * j], fr[2 * j + 1]);
        }
    }
#pragma unroll
    for (int m = 0; m < MT; ++m)
#pragma unroll
      for (int j = 0; j < 2; ++j)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int row = 16 * m + g + 8 * h, col = 16 * jp + 8 * j + 2 * t;
          const float2 v0 = epi(row, col, cr[m][j][2 * h], ci[m][j][2 * h], 2 * h);
          const float2 v1 = epi(row, col + 1, cr[m][j][2 * h + 1], ci[m][j][2 * h + 1], 2 * h + 1);
          st_pair<BF16>(X + row * Lo::SX + col, v0.x, v1.x);
          st_pair<BF16>(X + row * Lo::SX + N2 + col, v0.y, v1.y);
          if (pre != nullptr) {
            st_pair<BF16>(pre + row * 2 * N2 + col, cr[m][j][2 * h], cr[m][j][2 * h + 1]);
            st_pair<BF16>(pre + row * 2 * N2 + N2 + col, ci[m][j][2 * h], ci[m][j][2 * h + 1]);
          }
        }
  }
  __syncwarp();
}

// The warp's buffer X (N1 rows of SX) to dst (N1 rows of 2 N2, global), 16-byte chunks; callers sync X before.
template <int N1, int N2>
__device__ __forceinline__ void dump_rows(const uint16_t* X, uint16_t* dst) {
  constexpr int CPR = 2 * N2 / 8;
  for (int i = threadIdx.x & 31; i < N1 * CPR; i += 32) {
    const int r = i / CPR, c = 8 * (i - r * CPR);
    *reinterpret_cast<uint4*>(dst + r * 2 * N2 + c) = *reinterpret_cast<const uint4*>(X + r * LbtLayout<N1, N2>::SX + c);
  }
}
// cur[2h + q] = w^(r (c + q)), stp[h] = w^(8 r) for the rows r = r0 + 8 h (w = e^(-2 pi i / N), tw: the full table).
template <int N>
__device__ __forceinline__ void lbp_tw_init(const float2* tw, int r0, int c, float2 (&cur)[4], float2 (&stp)[2]) {
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int r = r0 + 8 * h;
    stp[h] = tw[(8 * r) & (N - 1)]; cur[2 * h] = tw[(r * c) & (N - 1)]; cur[2 * h + 1] = tw[(r * (c + 1)) & (N - 1)];
  }
}
