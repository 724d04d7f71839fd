// Device code of the tensor-core learned butterfly forward (learned_tc.cu, whose header states the math, the layouts and
// the kernel variants): the split and pair rows (lbt_row, lbp_row and their stages / twiddle tables), the chained rows
// (learned_tc_chain.cuh, learned_tc_chain2.cuh, learned_tc_wg.cuh), the row loops, the in-forward dk / Gram flushes and
// lbt_forward. The kernels are learned_tc.cu's (learned_tc_gram.cu includes that file for its own kernels).
// Shapes: B batch, H channels, L length, N = N1 x N2 the learned complex transform (learned_tc.cu).
#pragma once
#include "learned_tc_ops.cuh"
#include "learned_tc_out.cuh"

// The 6 values of lbp_tw_init (cur[4], stp[2]) from a table laid out [value][lane]; p = table + lane.
__device__ __forceinline__ void lbp_tw_load(const float2* p, float2 (&cur)[4], float2 (&stp)[2]) {
#pragma unroll
  for (int v = 0; v < 4; ++v) cur[v] = p[32 * v];
  stp[0] = p[128]; stp[1] = p[160];
}

// One row: the four products in the warp's buffer X. kp: padded (N1, SK) float2 in shared memory.
// FE (N1 = 16, the `f` kernels): the pair kernels' epilogues, twiddles of steps 1 and 3 by recurrence (w^(r c) times
// w^(8 r) per 8 columns) and Kp in 16-byte loads, instead of two-level lookups (tw_at). Both recurrences start at
// lbp_tw_init(tw, g, 2t) (one row tile): the block keeps those 6 values per lane after the full table tw, by lane
// ([value][lane], conflict-free loads, as the TI pair kernels).
template <typename IO, bool BF16, int N1, int N2, bool SPLIT, bool FE = false>
__device__ __forceinline__ void lbt_row(const IO* __restrict__ xrow, IO* __restrict__ orow, float d, int L, bool conjK,
                                        uint16_t* X, const uint16_t* sb, const float2* kp, const Tw& T, uint16_t* dump,
                                        const float2* tw = nullptr) {
  static_assert(!FE || (N1 == 16 && !SPLIT), "FE: N1 = 16 (one row tile)");
  using Lo = LbtLayout<N1, N2>;
  constexpr int N = N1 * N2, MT = N1 / 16, KT1 = N1 / 16, JP = N2 / 16, NT = N2 / 8;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, lr = lane & 7, lm = lane >> 3;
  const uint16_t *a1r = sb, *a1i = a1r + Lo::A_EL, *b2r = a1i + Lo::A_EL, *b2i = b2r + Lo::B_EL, *b3r = b2i + Lo::B_EL,
                 *b3i = b3r + Lo::B_EL, *a4r = b3i + Lo::B_EL, *a4i = a4r + Lo::A_EL;
  const int rowsIn = (L + N2 - 1) / N2, kt = (rowsIn + 15) >> 4;   // non-zero input / needed output rows, in tiles
  lbt_load_x<IO, N1, N2>(xrow, X, L, kt);
  // ---- step 1: X1 = (a1 @ X) * T; B fragments of X (trans) for every (kk, jp) first
  {
    uint32_t xb[KT1][JP][4];
#pragma unroll
    for (int kk = 0; kk < KT1; ++kk)
#pragma unroll
      for (int jp = 0; jp < JP; ++jp)
        if (kk < kt) ldsm_x4_t(xb[kk][jp], X + (16 * kk + (lm & 1) * 8 + lr) * Lo::SX + 16 * jp + (lm >> 1) * 8);
    __syncwarp();
#pragma unroll
    for (int m = 0; m < MT; ++m) {
      uint32_t fr[KT1][4], fi[KT1][4];
      float2 cur[4], stp[2];   // FE: the lane's next twiddles (columns 2t (+1) + 8 per step), as lbp_row's step 1
      if constexpr (FE) lbp_tw_load(tw + N + lane, cur, stp);
#pragma unroll
      for (int kk = 0; kk < KT1; ++kk) {
        const int aoff = (16 * m + (lm & 1) * 8 + lr) * Lo::SA + 16 * kk + (lm >> 1) * 8;
        ldsm_x4(fr[kk], a1r + aoff);
        ldsm_x4(fi[kk], a1i + aoff);
      }
#pragma unroll
      for (int jp = 0; jp < JP; ++jp)
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          float cr[4] = {0.f, 0.f, 0.f, 0.f}, ci[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
          for (int kk = 0; kk < KT1; ++kk)
            if (kk < kt) {
              mma16816<BF16>(cr, fr[kk], xb[kk][jp][2 * j], xb[kk][jp][2 * j + 1]);
              mma16816<BF16>(ci, fi[kk], xb[kk][jp][2 * j], xb[kk][jp][2 * j + 1]);
            }
#pragma unroll
          for (int h = 0; h < 2; ++h) {
            const int row = 16 * m + g + 8 * h, col = 16 * jp + 8 * j + 2 * t;
            float2 w0, w1;
            if constexpr (FE) {
              w0 = cur[2 * h]; w1 = cur[2 * h + 1];
              cur[2 * h] = cmul(w0, stp[h]); cur[2 * h + 1] = cmul(w1, stp[h]);
            } else {
              w0 = tw_at(T, (row * col) & (N - 1)); w1 = tw_at(T, (row * (col + 1)) & (N - 1));
            }
            const float2 v0 = cmul(make_float2(cr[2 * h], ci[2 * h]), w0), v1 = cmul(make_float2(cr[2 * h + 1], ci[2 * h + 1]), w1);
            st_pair<BF16>(X + row * Lo::SX + col, v0.x, v1.x);
            st_pair<BF16>(X + row * Lo::SX + N2 + col, v0.y, v1.y);
          }
        }
    }
    __syncwarp();
  }
  constexpr int SLOT = 2 * N;   // 16-bit values per dumped matrix
  if (dump != nullptr) dump_rows<N1, N2>(X, dump);                     // slot 0: X1
  // ---- step 2: P = (X1 @ b2) * Kp
  float2 k1;   // FE: Kp of the odd column, loaded with the even one (one conflict-free 16-byte load)
  right_product<BF16, N1, N2, SPLIT>(X, b2r, b2i, [&](int row, int col, float cr, float ci, int e) {
    float2 k;
    if constexpr (FE) {
      k = k1;
      if ((e & 1) == 0) {
        const float4 v = *reinterpret_cast<const float4*>(kp + row * Lo::SK + col);
        k = make_float2(v.x, v.y), k1 = make_float2(v.z, v.w);
      }
    } else {
      k = kp[row * Lo::SK + col];
    }
    if (conjK) k.y = -k.y;
    return cmul(make_float2(cr, ci), k);
  }, dump == nullptr ? nullptr : dump + SLOT);                          // slot 1: C (before Kp)
  if (dump != nullptr) dump_rows<N1, N2>(X, dump + 2 * SLOT);          // slot 2: P
  // ---- step 3: X3 = (P @ b3) * conj(T) / N
  const float invN = 1.0f / (float)N;
  float2 cur[4], stp[2];   // FE: w^(row col) of the lane's next columns (slot e = 2h + q) and the step w^(8 row)
  if constexpr (FE) lbp_tw_load(tw + N + lane, cur, stp);
  right_product<BF16, N1, N2, SPLIT>(X, b3r, b3i, [&](int row, int col, float cr, float ci, int e) {
    float2 w;
    if constexpr (FE) {
      w = cur[e];
      cur[e] = cmul(w, stp[e >> 1]);
    } else {
      w = tw_at(T, (row * col) & (N - 1));
    }
    return make_float2((cr * w.x + ci * w.y) * invN, (ci * w.x - cr * w.y) * invN);
  });
  if (dump != nullptr) dump_rows<N1, N2>(X, dump + 3 * SLOT);          // slot 3: X3
  // ---- step 4: E = Re(a4 @ X3) for the output rows (m-tiles < kt)
  if constexpr (SPLIT) {   // one output row tile at a time, y written from the accumulators (X3 stays intact)
#pragma unroll 1
    for (int m = 0; m < kt; ++m) {
      float e[NT][4];
#pragma unroll
      for (int j = 0; j < NT; ++j)
#pragma unroll
        for (int q = 0; q < 4; ++q) e[j][q] = 0.f;
#pragma unroll
      for (int kk = 0; kk < KT1; ++kk) {
        uint32_t gr[4], gi[4];
        const int aoff = (16 * m + (lm & 1) * 8 + lr) * Lo::SA + 16 * kk + (lm >> 1) * 8;
        ldsm_x4(gr, a4r + aoff);
        ldsm_x4(gi, a4i + aoff);
#pragma unroll
        for (int q = 0; q < 4; ++q) gi[q] ^= SIGN2;
#pragma unroll
        for (int jp = 0; jp < JP; ++jp) {
          uint32_t vr[4], vi[4];
          const uint16_t* p = X + (16 * kk + (lm & 1) * 8 + lr) * Lo::SX + 16 * jp + (lm >> 1) * 8;
          ldsm_x4_t(vr, p);
          ldsm_x4_t(vi, p + N2);
#pragma unroll
          for (int j = 0; j < 2; ++j) {
            mma16816<BF16>(e[2 * jp + j], gr, vr[2 * j], vr[2 * j + 1]);
            mma16816<BF16>(e[2 * jp + j], gi, vi[2 * j], vi[2 * j + 1]);
          }
        }
      }
#pragma unroll
      for (int j = 0; j < NT; ++j)
#pragma unroll
        for (int q = 0; q < 4; ++q) {
          const int n = (16 * m + g + 8 * (q >> 1)) * N2 + 8 * j + 2 * t + (q & 1);
          if (n < L) st(orow + n, fmaf(d, ld(xrow + n), e[j][q]));
        }
    }
    __syncwarp();
  } else {
    lbt_out<IO, BF16, N1, N2>(xrow, orow, d, L, X, a4r, a4i, kt);
  }
}

// PAIR (N1 = 32): two warps per row share its buffer; warp half = w & 1 owns the columns [half N2/2, (half+1) N2/2) in
// steps 1 and 4 (left products: columns are independent) and the rows [16 half, 16 half + 16) in steps 2 and 3 (right
// products: rows are independent); two pair barriers per row (after steps 1 and 3). Half the registers of one warp per
// row: 16 warps per block (12: the dumping 32 x 64 kernel). x goes through a per-warp stage S (own columns, 32 rows of
// N2/2 + 8): step 1 reads it, then cp.async fills it with the next row (L % 8 == 0; past L zero-filled) behind steps 1-4.
// The epilogue twiddles of steps 1 and 3 go by recurrence along the lane's columns (w^(r c) times w^(8 r) per 8 columns).
// REMAP (the TI kernels): the 8 lanes of a 16-byte phase take the chunks of 8 / CPR rows CPR apart (rows 8 (q / CPR) +
// q % CPR + CPR k of group q = i / 8), whose padded starts (stride HC + 8) fall on disjoint banks; the plain order puts
// rows next to each other, whose banks overlap (2 wavefronts; ~2.2M excess at 1K). Same chunks, same places.
template <int N2, typename IO, bool REMAP = false>
__device__ __forceinline__ void lbp_stage_async(const IO* xrow, uint16_t* S, int L, int c0, int kt) {
  constexpr int CPR = N2 / 16, HC = N2 / 2;
  for (int i = threadIdx.x & 31; i < 16 * kt * CPR; i += 32) {
    const int q = i >> 3, w = i & 7;
    const int r = REMAP ? 8 * (q / CPR) + q % CPR + CPR * (w / CPR) : i / CPR;
    const int c = REMAP ? 8 * (w % CPR) : 8 * (i - r * CPR), n = r * N2 + c0 + c;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" :: "r"((uint32_t)__cvta_generic_to_shared(S + r * (HC + 8) + c)),
                 "l"(xrow + (n < L ? n : 0)), "r"(n < L ? 16 : 0) : "memory");
  }
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}
// TI (the `t` kernels): the lane's start values of the three recurrences (steps 1 per row tile, 3) come from a table of
// the block, [half][recurrence][value][lane] (lbp_twi_build): conflict-free 8-byte loads of the same values that
// lbp_tw_init looks up at lane-dependent (bank-conflicting) indices of tw (~6.5M of the 8.7M excess wavefronts at 1K).
template <int N2>
__device__ void lbp_twi_build(const float2* tw, float2* twi) {   // after tw is complete; 192 lanes' worth of 6 values
  constexpr int N = 32 * N2, JPW = N2 / 32;
  for (int i = threadIdx.x; i < 192; i += blockDim.x) {
    const int half = i / 96, which = (i >> 5) % 3, ln = i & 31, g = ln >> 2, t = ln & 3;
    float2 cur[4], stp[2];
    if (which < 2) lbp_tw_init<N>(tw, 16 * which + g, 16 * half * JPW + 2 * t, cur, stp);   // step 1, row tile which
    else lbp_tw_init<N>(tw, 16 * half + g, 2 * t, cur, stp);                               // step 3, own rows
    float2* p = twi + (half * 3 + which) * 6 * 32 + ln;
#pragma unroll
    for (int v = 0; v < 4; ++v) p[32 * v] = cur[v];
    p[128] = stp[0]; p[160] = stp[1];
  }
}
template <typename IO, bool BF16, int N2, bool DUMP, bool TI = false>
__device__ __forceinline__ void lbp_row(const IO* __restrict__ xrow, IO* __restrict__ orow, float d, int L, bool conjK,
                                        uint16_t* X, const uint16_t* sb, const float2* kp, const float2* tw, uint16_t* dump,
                                        const IO* __restrict__ xnext, uint16_t* S, int bar) {
  using Lo = LbtLayout<32, N2>;
  constexpr int N = 32 * N2, JPW = N2 / 32, HC = N2 / 2;   // per warp: 16-column tiles, columns
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, lr = lane & 7, lm = lane >> 3;
  const int half = (threadIdx.x >> 5) & 1, c0 = half * HC, jp0 = half * JPW;
  const uint16_t *a1r = sb, *a1i = a1r + Lo::A_EL, *b2r = a1i + Lo::A_EL, *b2i = b2r + Lo::B_EL, *b3r = b2i + Lo::B_EL,
                 *b3i = b3r + Lo::B_EL, *a4r = b3i + Lo::B_EL, *a4i = a4r + Lo::A_EL;
  const int kt = ((L + N2 - 1) / N2 + 15) >> 4;   // non-zero input / needed output rows, in tiles
  const bool vec = (L & 7) == 0;
  if (vec) asm volatile("cp.async.wait_all;\n" ::: "memory");   // this row's x, queued during the previous row
  else for (int i = lane; i < 16 * kt * HC; i += 32) {         // any L: synchronous element loads
    const int r = i / HC, c = i - r * HC, n = r * N2 + c0 + c;
    st(reinterpret_cast<IO*>(S) + r * (HC + 8) + c, n < L ? ld(xrow + n) : 0.f);
  }
  __syncwarp();
  // ---- step 1 (own columns, all rows): X1 = (a1 @ X) * T
  {
    uint32_t xb[2][JPW][4];
#pragma unroll
    for (int kk = 0; kk < 2; ++kk)
#pragma unroll
      for (int jj = 0; jj < JPW; ++jj)
        if (kk < kt) ldsm_x4_t(xb[kk][jj], S + (16 * kk + (lm & 1) * 8 + lr) * (HC + 8) + 16 * jj + (lm >> 1) * 8);
    __syncwarp();
    if (vec && xnext != nullptr) lbp_stage_async<N2, IO, TI>(xnext, S, L, c0, kt);   // the next row's x, behind steps 1 to 4
#pragma unroll 1
    for (int m = 0; m < 2; ++m) {   // one row tile at a time: 32 accumulators live
      uint32_t fr[2][4], fi[2][4];
      float2 cur[4], stp[2];   // twiddles of the lane's next columns by recurrence, as in step 3
      if constexpr (TI) lbp_tw_load(tw + N + (half * 3 + m) * 6 * 32 + lane, cur, stp);
      else lbp_tw_init<N>(tw, 16 * m + g, 16 * jp0 + 2 * t, cur, stp);
#pragma unroll
      for (int kk = 0; kk < 2; ++kk)
        if (kk < kt) {
          const int aoff = (16 * m + (lm & 1) * 8 + lr) * Lo::SA + 16 * kk + (lm >> 1) * 8;
          ldsm_x4(fr[kk], a1r + aoff);
          ldsm_x4(fi[kk], a1i + aoff);
        }
#pragma unroll
      for (int jj = 0; jj < JPW; ++jj)
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          float cr[4] = {0.f, 0.f, 0.f, 0.f}, ci[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
          for (int kk = 0; kk < 2; ++kk)
            if (kk < kt) {
              mma16816<BF16>(cr, fr[kk], xb[kk][jj][2 * j], xb[kk][jj][2 * j + 1]);
              mma16816<BF16>(ci, fi[kk], xb[kk][jj][2 * j], xb[kk][jj][2 * j + 1]);
            }
#pragma unroll
          for (int h = 0; h < 2; ++h) {
            const int row = 16 * m + g + 8 * h, col = 16 * (jp0 + jj) + 8 * j + 2 * t;
            const float2 w0 = cur[2 * h], w1 = cur[2 * h + 1];
            cur[2 * h] = cmul(w0, stp[h]); cur[2 * h + 1] = cmul(w1, stp[h]);
            const float2 v0 = cmul(make_float2(cr[2 * h], ci[2 * h]), w0), v1 = cmul(make_float2(cr[2 * h + 1], ci[2 * h + 1]), w1);
            st_pair<BF16>(X + row * Lo::SX + col, v0.x, v1.x);
            st_pair<BF16>(X + row * Lo::SX + N2 + col, v0.y, v1.y);
          }
        }
    }
  }
  asm volatile("bar.sync %0, 64;\n" :: "r"(bar) : "memory");
  constexpr int SLOT = 2 * N;   // 16-bit values per dumped matrix; below: the own row tile of X and of the dump
  uint16_t *Xh = X + 16 * half * Lo::SX, *dh = DUMP ? dump + 16 * half * 2 * N2 : nullptr;
  if (dh != nullptr) dump_rows<16, N2>(Xh, dh);                                  // slot 0: X1
  // ---- step 2 (own rows): P = (X1 @ b2) * Kp
  float2 k1;   // Kp of the odd column, loaded with the even one (one conflict-free 16-byte load)
  right_product<BF16, 16, N2, false>(Xh, b2r, b2i, [&](int row, int col, float cr, float ci, int e) {
    float2 k = k1;
    if ((e & 1) == 0) {
      const float4 v = *reinterpret_cast<const float4*>(kp + (16 * half + row) * Lo::SK + col);
      k = make_float2(v.x, v.y), k1 = make_float2(v.z, v.w);
    }
    if (conjK) k.y = -k.y;
    return cmul(make_float2(cr, ci), k);
  }, dh == nullptr ? nullptr : dh + SLOT);                                       // slot 1: C
  if (dh != nullptr) dump_rows<16, N2>(Xh, dh + 2 * SLOT);                       // slot 2: P
  // ---- step 3 (own rows): X3 = (P @ b3) * conj(T) / N
  const float invN = 1.0f / (float)N;
  float2 cur[4], stp[2];   // w^(row col) of the lane's next columns (slot e = 2h + q), and the step w^(8 row)
  if constexpr (TI) lbp_tw_load(tw + N + (half * 3 + 2) * 6 * 32 + lane, cur, stp);
  else lbp_tw_init<N>(tw, 16 * half + g, 2 * t, cur, stp);
  right_product<BF16, 16, N2, false>(Xh, b3r, b3i, [&](int row, int col, float cr, float ci, int e) {
    const float2 w = cur[e];
    cur[e] = cmul(w, stp[e >> 1]);
    return make_float2((cr * w.x + ci * w.y) * invN, (ci * w.x - cr * w.y) * invN);
  });
  if (dh != nullptr) dump_rows<16, N2>(Xh, dh + 3 * SLOT);                       // slot 3: X3
  asm volatile("bar.sync %0, 64;\n" :: "r"(bar) : "memory");
  lbp_out<IO, BF16, N2>(xrow, orow, d, L, X, a4r, a4i, kt, c0, jp0);
}
#include "learned_tc_chain.cuh"
#include "learned_tc_chain2.cuh"
#include "learned_tc_wg.cuh"
// PAIR: grid (ceil(B / (W / 2)), H) at most, block 32 W (W even), smem FIXED_BYTES + W/2 * 2 PAIR_EL + 8 N (twiddles)
// (TI: + 192 * 6 * 8 for the start values after the twiddles).
template <typename IO, bool BF16, int N2, bool DUMP, bool TI = false>
__device__ void lbp_rows(const IO* __restrict__ x, IO* __restrict__ out, float d, int B, int H, int L, int conjK,
                         uint16_t* bufs, const uint16_t* sb, const float2* skp, const float2* tw, uint16_t* __restrict__ dump) {
  constexpr int N = 32 * N2, HC = N2 / 2;
  const int h = blockIdx.y, R = blockDim.x >> 6, pair = threadIdx.x >> 6, half = (threadIdx.x >> 5) & 1;
  uint16_t *X = bufs + pair * LbtLayout<32, N2>::PAIR_EL, *S = X + LbtLayout<32, N2>::WARP_BYTES / 2 + half * 32 * (HC + 8);
  int b = blockIdx.x * R + pair;
  const int kt = ((L + N2 - 1) / N2 + 15) >> 4;
  if ((L & 7) == 0 && b < B) lbp_stage_async<N2, IO, TI>(x + ((size_t)b * H + h) * L, S, L, half * HC, kt);   // the first row
  for (; b < B; b += gridDim.x * R) {
    const size_t off = ((size_t)b * H + h) * L;
    const int bn = b + gridDim.x * R;
    lbp_row<IO, BF16, N2, DUMP, TI>(x + off, out + off, d, L, conjK != 0, X, sb, skp, tw,
                                DUMP ? dump + ((size_t)b * H + h) * 8 * N : nullptr, bn < B ? x + ((size_t)bn * H + h) * L : nullptr,
                                S, 1 + pair);
  }
}
// KF: the block's dKp accumulator (learned_tc_chain.cuh lbc_steps) times kscale (1/N, exact) added to the channel's
// dKp row g (N float2, position p = k1 N2 + k2; zeroed by the caller). One block per channel (gridDim.x == 1, the
// automatic grid at H >= SMs) makes it the only adder; several add in any order.
template <int N1, int N2>
__device__ __forceinline__ void lbk_flush(const float* ka, float2* g, float kscale) {
  constexpr int S = lbk_stride<N2>();
  __syncthreads();
  for (int p = threadIdx.x; p < N1 * N2; p += blockDim.x) {
    const int r = p / N2, c = p - r * N2;
    const float re = ka[r * S + c] * kscale, im = ka[N1 * S + r * S + c] * kscale;
    if (gridDim.x == 1) g[p] = make_float2(re, im);
    else { atomicAdd(&g[p].x, re); atomicAdd(&g[p].y, im); }
  }
}
// Grid (ceil(B / (W * rowsPerWarp)), H), block 32 W, dynamic smem LbtLayout::FIXED_BYTES + W * WARP_BYTES.
template <typename IO, bool BF16, int N1, int N2, bool SPLIT, int PAIR = 0, bool FE = false, bool TI = false, bool CH = false,
          int NB = 0, bool PERSIST = false, int WG = 0, bool KF = false, int GV = 0, bool GR = false>
__device__ void lbt_forward(const IO* __restrict__ x, const float2* __restrict__ kp, const float* __restrict__ D,
                            const uint16_t* __restrict__ pb, IO* __restrict__ out, int B, int H, int L, int conjK,
                            uint16_t* __restrict__ dump, const uint16_t* __restrict__ fdump = nullptr,
                            float2* __restrict__ gk = nullptr, float kscale = 0.f, const IO* __restrict__ gv = nullptr,
                            float2* __restrict__ gpart = nullptr, int gherm = 0) {
  using Lo = LbtLayout<N1, N2>;
  constexpr int N = N1 * N2;
  extern __shared__ __align__(16) unsigned char smraw[];
  uint16_t* sb = reinterpret_cast<uint16_t*>(smraw);
  float2* skp = reinterpret_cast<float2*>(smraw + Lo::BLK_BYTES);
  float2* stw = reinterpret_cast<float2*>(smraw + Lo::BLK_BYTES + Lo::KP_BYTES);
  uint16_t* bufs = reinterpret_cast<uint16_t*>(smraw + Lo::FIXED_BYTES);
  const int h = blockIdx.y, W = blockDim.x >> 5, warp = threadIdx.x >> 5;
  // blocks: 8 planes (a1r a1i b2r b2i b3r b3i a4r a4i), rows of 8-element (16-byte) chunks into padded rows
  {
    const int n[8] = {N1, N1, N2, N2, N2, N2, N1, N1};
    int src = 0, dst = 0;
#pragma unroll
    for (int pl = 0; pl < 8; ++pl) {
      const int w = n[pl], cpr = w / 8, s = w + 8;
      for (int i = threadIdx.x; i < w * cpr; i += blockDim.x) {
        const int r = i / cpr, c = i - r * cpr;
        *reinterpret_cast<uint4*>(sb + dst + r * s + 8 * c) = *reinterpret_cast<const uint4*>(pb + src + r * w + 8 * c);
      }
      src += w * w; dst += w * s;
    }
  }
  const float2* kph = kp + (size_t)h * N;
  if (!PERSIST)   // persistent blocks load each channel's Kp in their loop
    for (int i = threadIdx.x; i < N; i += blockDim.x) { const int r = i / N2, c = i - r * N2; skp[r * Lo::SK + c] = kph[i]; }
  constexpr int LOG2N = N == 256 ? 8 : N == 512 ? 9 : N == 1024 ? 10 : 11;
  const Tw T = tw_init(stw, LOG2N);
  __syncthreads();
  const float d = PERSIST ? 0.f : D[h];
  if constexpr (CH && N1 == 32) {   // the TI start values after the pairs' buffers, built from a full table held there meanwhile
    float2 *full = reinterpret_cast<float2*>(bufs),
           *twi = reinterpret_cast<float2*>(bufs + (blockDim.x >> 6) * (NB > 0 ? lbc2_pair_el<N2, NB>() : GV > 0 ? lbg_pair_el<N2, (GV > 0 ? GV : 1)>() : lbc_pair_el<N2>()));
    for (int i = threadIdx.x; i < N; i += blockDim.x) full[i] = tw_at(T, i);
    unsigned char *w2 = reinterpret_cast<unsigned char*>(sb + 2 * Lo::A_EL), *w3 = reinterpret_cast<unsigned char*>(twi + 192 * 6);
    if constexpr (WG != 0) lbw_build_b<N2, WG == 2 || WG == 4 ? 16 : 32>(pb, w2, w3);   // the wgmma B layouts: b2's over the padded b2 / b3 planes, b3's after twi
    __syncthreads();
    lbp_twi_build<N2>(full, twi);
    if constexpr (WG == 5) {   // pwt: step 3's twiddle table after b3's layouts (lbw_tw3_build reads twi: complete after a barrier)
      __syncthreads();
      lbw_tw3_build<N2>(twi, reinterpret_cast<float2*>(w2 + lbw_wgb_bytes<N2>()), reinterpret_cast<float2*>(w3 + lbw_wgb_bytes<N2>()));
    }
    float* ka = reinterpret_cast<float*>(twi + 192 * 6);   // KF: dKp's accumulator (not with WG: its b3 layouts live there)
    if constexpr (KF) {
      for (int i = threadIdx.x; i < 2 * N1 * lbk_stride<N2>(); i += blockDim.x) ka[i] = 0.f;
    }
    if constexpr (GV > 0) {   // GV: the pairs' Gram accumulators (lbg_pair_floats each) at the same place
      for (int i = threadIdx.x; i < (int)(blockDim.x >> 6) * lbg_pair_floats<GV>(); i += blockDim.x) ka[i] = 0.f;
    }
    __syncthreads();
    if constexpr (WG == 1 || WG == 3 || WG == 4 || WG == 5) {   // 3: pwd (the descriptors precomputed, lbw_product_d); 4: pwo (lbw_steps_ov); 5: pwt (pwd + step 3's twiddle table)
      lbw_rows<IO, BF16, N2, WG >= 3, WG == 4, WG == 5>(x, out, d, B, H, L, conjK, bufs, sb, skp, twi, w2, w3,
                                                       reinterpret_cast<const float4*>(w2 + lbw_wgb_bytes<N2>()),
                                                       reinterpret_cast<const float4*>(w3 + lbw_wgb_bytes<N2>()));
      return;
    }
    if constexpr (PERSIST) {   // grid (<= SMs, 1): the blocks, twiddles and start values once per block, then channel after channel
#pragma unroll 1
      for (int hh = blockIdx.x; hh < H; hh += gridDim.x) {
        __syncthreads();   // every pair done with the previous channel's Kp
        const float2* kq = kp + (size_t)hh * N;
        for (int i = threadIdx.x; i < N; i += blockDim.x) { const int r = i / N2, c = i - r * N2; skp[r * Lo::SK + c] = kq[i]; }
        __syncthreads();
        if constexpr (WG == 2) lbw2_rows<IO, BF16, N2, NB>(x, out, D, B, H, L, conjK, bufs, sb, skp, twi, w2, w3, hh, 0, 1);
        else lbc2_rows<IO, BF16, N2, NB>(x, out, D, B, H, L, conjK, bufs, sb, skp, twi, hh, 0, 1);
      }
    } else if constexpr (NB > 0) lbc2_rows<IO, BF16, N2, NB>(x, out, D, B, H, L, conjK, bufs, sb, skp, twi, h, blockIdx.x, gridDim.x);
    else lbc_rows<IO, BF16, N2, PAIR == 2, KF, GV, GR>(x, out, d, B, H, L, conjK, bufs, sb, skp, twi, dump, fdump, ka, gv);
    if constexpr (KF) lbk_flush<N1, N2>(ka, gk + (size_t)h * N, kscale);
    if constexpr (GV > 0)
      lbg_flush<32, GV>(ka, gpart + ((size_t)blockIdx.y * gridDim.x + blockIdx.x) * 32 * 32, gherm, blockDim.x >> 6, lbg_pair_floats<GV>());
    return;
  }
  if constexpr (PAIR != 0) {   // the full twiddle table T[i] = w_N^i after the pairs' buffers: one lookup per entry
    float2* tw = reinterpret_cast<float2*>(bufs + (blockDim.x >> 6) * Lo::PAIR_EL);
    for (int i = threadIdx.x; i < N; i += blockDim.x) tw[i] = tw_at(T, i);
    __syncthreads();
    if constexpr (TI) {
      lbp_twi_build<N2>(tw, tw + N);
      __syncthreads();
    }
    lbp_rows<IO, BF16, N2, PAIR == 2, TI>(x, out, d, B, H, L, conjK, bufs, sb, skp, tw, dump);
    return;
  }
  float2* tw = nullptr;   // FE: the full twiddle table T[i] = w_N^i after the warps' buffers, then 6 x 32 start values
  float* ka = nullptr;     // KF (f2ck): dKp's accumulator after those
  if constexpr (FE) {
    tw = reinterpret_cast<float2*>(bufs + W * (Lo::WARP_BYTES / 2));
    ka = reinterpret_cast<float*>(tw + N + 192);
    if constexpr (KF) {
      for (int i = threadIdx.x; i < 2 * N1 * lbk_stride<N2>(); i += blockDim.x) ka[i] = 0.f;
    }
    if constexpr (GV > 0) {   // f2cg: the warps' Gram accumulators (2 planes of 16 rows of lbg_sj floats) there, then their V stages
      for (int i = threadIdx.x; i < W * 2 * 16 * lbg_sj<GV>(); i += blockDim.x) ka[i] = 0.f;
    }
    for (int i = threadIdx.x; i < N; i += blockDim.x) tw[i] = tw_at(T, i);
    __syncthreads();
    if (threadIdx.x < 32) {
      float2 cur[4], stp[2];
      lbp_tw_init<N>(tw, threadIdx.x >> 2, 2 * (threadIdx.x & 3), cur, stp);
#pragma unroll
      for (int v = 0; v < 4; ++v) tw[N + 32 * v + threadIdx.x] = cur[v];
      tw[N + 128 + threadIdx.x] = stp[0]; tw[N + 160 + threadIdx.x] = stp[1];
    }
    __syncthreads();
  }
  uint16_t* X = bufs + warp * (Lo::WARP_BYTES / 2);
  for (int b = blockIdx.x * W + warp; b < B; b += gridDim.x * W) {
    const size_t off = ((size_t)b * H + h) * L;
    if constexpr (CH) lbc_row16<IO, BF16, N2, KF, GV>(x + off, out + off, d, L, conjK != 0, X, sb, skp, tw,
                                                      dump == nullptr ? nullptr : dump + ((size_t)b * H + h) * 8 * N,
                                                      KF ? fdump + ((size_t)b * H + h) * 8 * N + 2 * N : nullptr,
                                                      ka,
                                                      GV > 0 ? gv + off : nullptr, GV > 0 ? ka + warp * 2 * 16 * lbg_sj<(GV > 0 ? GV : 1)>() : nullptr,
                                                      GV > 0 ? reinterpret_cast<uint16_t*>(ka + W * 2 * 16 * lbg_sj<(GV > 0 ? GV : 1)>()) + warp * 16 * (N2 + 8) : nullptr);
    else lbt_row<IO, BF16, N1, N2, SPLIT, FE>(x + off, out + off, d, L, conjK != 0, X, sb, skp, T,
                                              dump == nullptr ? nullptr : dump + ((size_t)b * H + h) * 8 * N, tw);
  }
  if constexpr (KF) lbk_flush<N1, N2>(ka, gk + (size_t)h * N, kscale);
  if constexpr (GV > 0 && N1 == 16)
    lbg_flush<16, GV>(ka, gpart + ((size_t)blockIdx.y * gridDim.x + blockIdx.x) * 16 * 16, gherm, W, 2 * 16 * lbg_sj<GV>());
}
