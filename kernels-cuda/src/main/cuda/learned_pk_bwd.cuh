// Device code of the PACKED learned butterfly's backward (learned_pk_bwd.cu, whose header states the dumps and the
// Grams): the chains' steps (lpkb_steps), the in-chain form-B Gram (lpkb_row_gram), the row loops with their dumps
// (lpkb_rows) and the persistent chain (lpkb_chain), built on the forward's device code (learned_pk_rows.cuh).
// Shapes: B batch, H channels, L length, M = N / 2 = N1 x N2, rows R = B H (learned_pk_bwd.cu).
#pragma once
#include <type_traits>
#include "learned_pk_rows.cuh"

// lpk_rho's inverse: the tile row holding k1.
__device__ __forceinline__ int lpkb_rho_inv(int k1, int N1) {
  int r = 0;
  for (int i = 0; i < N1; ++i) r = lpk_rho(i, N1) == k1 ? i : r;
  return r;
}

// Steps 1 to 3 of one row (lpk_steps with NB = 1) storing X1, C, C', X3 into the row's dump d (slots of 2 M values, tile
// rows of 2 N2); OUT: X3 also into the row buffer Xh for step 4. The same products, roundings and twiddles as lpk_steps.
// ST (staged, PackedLearnedBackward's default): each slot's 16 own rows are staged in Xh (free until step 3) and stored by
// dump_rows in 16-byte chunks (the unpacked chains' way, learned_tc_chain.cuh lbc_steps); else 4-byte stores straight
// from the fragments (sitting s2: 0.86-0.95 ms per chain at 1K, 4x the forward).
// KF (with ST; the adjoint chain, PackedLearnedBackward's fusedPq): dP, dQ summed in the chain: after the pair map the
// own tile's C (= M dC') is staged in Xh (16-bit, as the dump would hold it); each lane takes positions lane + 32 k of the
// tile, reads the forward chain's C at the position and at its partner (fc: the row's forward slot 1, all N1 rows, in
// shared memory: the partner rows i ^ 8 (i itself for tile rows 0 and 8: k1 = 0, N1 / 2) lie in the same 16-row tile) and
// adds C conj(C_fwd) and C C_fwd[s] into ka (four planes of M floats: Re dP, Im dP, Re dQ, Im dQ) by shared-memory
// atomics (the block's pairs share it: the sums' order varies from run to run). Slot 1 is then not dumped.
// D3 = false (helper pkbwd4's in-chain Grams): slot 3 (X3 / dB) not dumped (its Gram is summed in the chain).
template <bool BF16, int N1, int N2, bool OUT, bool ST, bool KF = false, int SR = 16, bool D3 = true>
__device__ __forceinline__ void lpkb_steps(const uint16_t* xs, int half, const uint16_t* sb, const float4* pq, const float2* tws,
                                           uint16_t* Xh, uint16_t* __restrict__ d, const uint16_t* fc = nullptr, float* ka = nullptr) {
  static_assert(!KF || ST, "KF needs the staged dumps");
  using Lo = LbtLayout<N1, N2>;
  using Lp = LpkLayout<N1, N2, SR>;
  constexpr int JP = N2 / 16, NT = N2 / 8, XS = Lp::XS, M = N1 * N2, RS = 2 * N2;
  constexpr unsigned FULL = 0xffffffffu;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, lr = lane & 7, lm = lane >> 3, r0 = 16 * half;
  const uint16_t *a1r = sb, *a1i = a1r + Lo::A_EL, *b2r = a1i + Lo::A_EL, *b2i = b2r + Lo::B_EL, *b3r = b2i + Lo::B_EL,
                 *b3i = b3r + Lo::B_EL;
  uint16_t *d0 = d, *d1 = d + 2 * M, *d2 = d + 4 * M, *d3 = d + 6 * M;
  // ---- step 1
  uint32_t ar[JP][4], ai[JP][4];
  {
    uint32_t fr[4], fi[4];
    const int aoff = (r0 + (lm & 1) * 8 + lr) * Lo::SA + (lm >> 1) * 8;
    ldsm_x4(fr, a1r + aoff);
    ldsm_x4(fi, a1i + aoff);
    float2 cur[2] = {tws[0], tws[32]}, stp[2] = {tws[64], tws[96]};
#pragma unroll
    for (int jp = 0; jp < 2 * N2 / 16; ++jp) {
      uint32_t xb[4];
      ldsm_x4_t(xb, xs + ((lm & 1) * 8 + lr) * XS + 16 * jp + (lm >> 1) * 8);
      uint32_t xc[4];   // SR = 32 (pkmode, circular 32 x 32): the stage's rows 16 .. 31 (A's second k16 block)
      if constexpr (SR == 32) ldsm_x4_t(xc, xs + (16 + (lm & 1) * 8 + lr) * XS + 16 * jp + (lm >> 1) * 8);
      float2 v[2][2];
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        float cr[4], ci[4];
#pragma unroll
        for (int e = 0; e < 4; ++e) { cr[e] = 0.f; ci[e] = 0.f; }
        mma16816<BF16>(cr, fr, xb[2 * j], xb[2 * j + 1]);
        mma16816<BF16>(ci, fi, xb[2 * j], xb[2 * j + 1]);
        if constexpr (SR == 32) {   // + Fa's columns 16 .. 31 times rows 16 .. 31 (lpk_steps' SR = 32)
          uint32_t gr[4], gi[4];
          ldsm_x4(gr, a1r + aoff + 16);
          ldsm_x4(gi, a1i + aoff + 16);
          mma16816<BF16>(cr, gr, xc[2 * j], xc[2 * j + 1]);
          mma16816<BF16>(ci, gi, xc[2 * j], xc[2 * j + 1]);
        }
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const float2 w = cur[h];
          cur[h] = cmul(w, stp[h]);
          v[j][h] = cmul(make_float2(cr[2 * h] - ci[2 * h + 1], ci[2 * h] + cr[2 * h + 1]), w);
          // dump X1 at (row, column 4 (2 jp + j) + t): lanes t, t ^ 1 hold neighbouring columns; even t stores the Re
          // pair, odd t the Im pair (4-byte stores)
          const float ox = __shfl_xor_sync(FULL, v[j][h].x, 1), oy = __shfl_xor_sync(FULL, v[j][h].y, 1);
          const int col = 4 * (2 * jp + j) + t;
          uint16_t* dst = ST ? Xh + (g + 8 * h) * Lo::SX : d0 + (r0 + g + 8 * h) * RS;
          if ((t & 1) == 0) st_pair<BF16>(dst + col, v[j][h].x, ox);
          else st_pair<BF16>(dst + N2 + col - 1, oy, v[j][h].y);
        }
      }
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        ar[jp >> 1][2 * (jp & 1) + h] = pack2<BF16>(v[0][h].x, v[1][h].x);
        ai[jp >> 1][2 * (jp & 1) + h] = pack2<BF16>(v[0][h].y, v[1][h].y);
      }
    }
  }
  if constexpr (ST) {
    __syncwarp();
    dump_rows<16, N2>(Xh, d0 + r0 * RS);
    __syncwarp();
  }
  // ---- step 2
  float cc[NT][2][4];
#pragma unroll
  for (int jp = 0; jp < JP; ++jp) {
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) { cc[2 * jp + j][0][e] = 0.f; cc[2 * jp + j][1][e] = 0.f; }
#pragma unroll
    for (int kk = 0; kk < JP; ++kk) {
      uint32_t fr[4], fi[4];
      const int boff = (16 * jp + (lm >> 1) * 8 + lr) * Lo::SB + 16 * kk + (lm & 1) * 8;
      ldsm_x4(fr, b2r + boff);
      ldsm_x4(fi, b2i + boff);
      const uint32_t nf[4] = {fi[0] ^ SIGN2, fi[1] ^ SIGN2, fi[2] ^ SIGN2, fi[3] ^ SIGN2};
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        float (&c0)[4] = cc[2 * jp + j][0];
        float (&c1)[4] = cc[2 * jp + j][1];
        mma16816<BF16>(c0, ar[kk], fr[2 * j], fr[2 * j + 1]);
        mma16816<BF16>(c0, ai[kk], nf[2 * j], nf[2 * j + 1]);
        mma16816<BF16>(c1, ar[kk], fi[2 * j], fi[2 * j + 1]);
        mma16816<BF16>(c1, ai[kk], fr[2 * j], fr[2 * j + 1]);
      }
    }
  }
  // ---- the pair map (dump C and C')
  uint32_t pr[JP][4], pi[JP][4];
  {
    const bool special = half == 0 && g == 0;
    const int src2 = (lane & ~3) | ((4 - t) & 3);
#pragma unroll
    for (int n = 0; n < NT; ++n) {
      const int m = NT - 1 - n, nn = (NT - n) % NT;
      float z[2][4];
#pragma unroll
      for (int p = 0; p < 2; ++p) {
#pragma unroll
        for (int he = 0; he < 4; ++he) {
          const int h = he >> 1, e = he & 1;
          const float sv = special ? (h == 1 ? cc[m][p][2 + (e ^ 1)] : cc[m][p][1]) : cc[m][p][2 * (h ^ 1) + (e ^ 1)];
          z[p][he] = __shfl_xor_sync(FULL, sv, 3);
        }
        if (half == 0) {
          const float sv = t == 0 ? cc[nn][p][0] : cc[m][p][0];
          const float r = __shfl_sync(FULL, sv, src2);
          if (g == 0) z[p][0] = r;
        }
      }
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const float4* pp = pq + (r0 + g + 8 * h) * Lp::SQ + 8 * n + 2 * t;
        float o[2][2];
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const float4 kv = pp[e];
          const float cr = cc[n][0][2 * h + e], ci = cc[n][1][2 * h + e], zr = z[0][2 * h + e], zi = z[1][2 * h + e];
          o[e][0] = kv.x * cr - kv.y * ci + kv.z * zr + kv.w * zi;
          o[e][1] = kv.x * ci + kv.y * cr + kv.w * zr - kv.z * zi;
        }
        pr[n >> 1][2 * (n & 1) + h] = pack2<BF16>(o[0][0], o[1][0]);
        pi[n >> 1][2 * (n & 1) + h] = pack2<BF16>(o[0][1], o[1][1]);
        if constexpr (ST) {   // C staged; C' after C's dump, from the fragments
          uint16_t* dst = Xh + (g + 8 * h) * Lo::SX + 8 * n + 2 * t;
          st_pair<BF16>(dst, cc[n][0][2 * h], cc[n][0][2 * h + 1]);
          st_pair<BF16>(dst + N2, cc[n][1][2 * h], cc[n][1][2 * h + 1]);
        } else {
          const int off = (r0 + g + 8 * h) * RS + 8 * n + 2 * t;
          st_pair<BF16>(d1 + off, cc[n][0][2 * h], cc[n][0][2 * h + 1]);
          st_pair<BF16>(d1 + off + N2, cc[n][1][2 * h], cc[n][1][2 * h + 1]);
          *reinterpret_cast<uint32_t*>(d2 + off) = pr[n >> 1][2 * (n & 1) + h];
          *reinterpret_cast<uint32_t*>(d2 + off + N2) = pi[n >> 1][2 * (n & 1) + h];
        }
      }
    }
  }
  if constexpr (KF) {
    using IO = std::conditional_t<BF16, __nv_bfloat16, __half>;
    __syncwarp();
#pragma unroll 4
    for (int k = 0; k < 16 * N2 / 32; ++k) {
      const int p = lane + 32 * k, lrow = p / N2, col = p - lrow * N2, i = r0 + lrow;
      const int ip = (i == 0 || i == 8) ? i : i ^ 8, cp = i == 0 ? (N2 - col) & (N2 - 1) : N2 - 1 - col;
      const IO *xa = reinterpret_cast<const IO*>(Xh + lrow * Lo::SX + col), *fo = reinterpret_cast<const IO*>(fc + i * RS + col),
               *fs = reinterpret_cast<const IO*>(fc + ip * RS + cp);
      const float ar_ = ld(xa), ai_ = ld(xa + N2), cr = ld(fo), ci = ld(fo + N2), sr = ld(fs), si = ld(fs + N2);
      float* kq = ka + i * N2 + col;
      atomicAdd(kq, ar_ * cr + ai_ * ci);
      atomicAdd(kq + M, ai_ * cr - ar_ * ci);
      atomicAdd(kq + 2 * M, ar_ * sr - ai_ * si);
      atomicAdd(kq + 3 * M, ar_ * si + ai_ * sr);
    }
    __syncwarp();
  }
  if constexpr (ST) {
    __syncwarp();
    if constexpr (!KF) dump_rows<16, N2>(Xh, d1 + r0 * RS);
    __syncwarp();
#pragma unroll
    for (int n = 0; n < NT; ++n)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        uint16_t* dst = Xh + (g + 8 * h) * Lo::SX + 8 * n + 2 * t;
        *reinterpret_cast<uint32_t*>(dst) = pr[n >> 1][2 * (n & 1) + h];
        *reinterpret_cast<uint32_t*>(dst + N2) = pi[n >> 1][2 * (n & 1) + h];
      }
    __syncwarp();
    dump_rows<16, N2>(Xh, d2 + r0 * RS);
    __syncwarp();
  }
  // ---- step 3 (dump X3)
  float2 cur[4] = {tws[128], tws[160], tws[192], tws[224]}, stp[2] = {tws[256], tws[288]};
#pragma unroll
  for (int jp = 0; jp < JP; ++jp) {
    float cr[2][4], ci[2][4];
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) { cr[j][e] = 0.f; ci[j][e] = 0.f; }
#pragma unroll
    for (int kk = 0; kk < JP; ++kk) {
      uint32_t fr[4], fi[4];
      const int boff = (16 * jp + (lm >> 1) * 8 + lr) * Lo::SB + 16 * kk + (lm & 1) * 8;
      ldsm_x4(fr, b3r + boff);
      ldsm_x4(fi, b3i + boff);
      const uint32_t nf[4] = {fi[0] ^ SIGN2, fi[1] ^ SIGN2, fi[2] ^ SIGN2, fi[3] ^ SIGN2};
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        mma16816<BF16>(cr[j], pr[kk], fr[2 * j], fr[2 * j + 1]);
        mma16816<BF16>(cr[j], pi[kk], nf[2 * j], nf[2 * j + 1]);
        mma16816<BF16>(ci[j], pr[kk], fi[2 * j], fi[2 * j + 1]);
        mma16816<BF16>(ci[j], pi[kk], fr[2 * j], fr[2 * j + 1]);
      }
    }
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = g + 8 * h, col = 16 * jp + 8 * j + 2 * t;
        float2 w[2];
#pragma unroll
        for (int e = 0; e < 2; ++e) { w[e] = cur[2 * h + e]; cur[2 * h + e] = cmul(w[e], stp[h]); }
        float2 v[2];
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const float c_r = cr[j][2 * h + e], c_i = ci[j][2 * h + e];
          v[e] = make_float2(c_r * w[e].x + c_i * w[e].y, c_i * w[e].x - c_r * w[e].y);
        }
        const uint32_t re = pack2<BF16>(v[0].x, v[1].x), im = pack2<BF16>(v[0].y, v[1].y);
        if constexpr (OUT || ST) {
          *reinterpret_cast<uint32_t*>(Xh + row * Lo::SX + col) = re;
          *reinterpret_cast<uint32_t*>(Xh + row * Lo::SX + N2 + col) = im;
        }
        if constexpr (!ST) {
          *reinterpret_cast<uint32_t*>(d3 + (r0 + row) * RS + col) = re;
          *reinterpret_cast<uint32_t*>(d3 + (r0 + row) * RS + N2 + col) = im;
        }
      }
  }
  __syncwarp();
  if constexpr (ST && D3) dump_rows<16, N2>(Xh, d3 + r0 * RS);   // X3 (step 4 reads Xh after the pair barrier)
}

// Helper pkbwd4: one row's form-B Gram in the warp (N1 = 16: one 16 x 16 complex unit; lpkb_gram_b's MMAs with i0 = j0 =
// 0), added into acc (acc[0..1]: Re of the two n8 tiles, acc[2..3]: Im). Gr: the packed row staged raw (16 rows of 2 N2
// interleaved values, stride 2 N2 + 8), deinterleaved into Ge's [Re | Im] rows; Xh: slot 3 of the row ([Re | Im] rows,
// stride Lo::SX = 2 N2 + 8). LX: L = the packed row, R = Xh (dGa); else L = Xh, R = the packed row (dFa).
template <bool BF16, int N2, bool LX>
__device__ __forceinline__ void lpkb_row_gram(const uint16_t* Gr, uint16_t* Ge, const uint16_t* Xh, float (*acc)[4]) {
  constexpr int SX = 2 * N2 + 8, CPR = 2 * N2 / 8, KT = N2 / 16;
  const int lane = threadIdx.x & 31, lr = lane & 7, lm = lane >> 3;
#pragma unroll
  for (int i = lane; i < 16 * CPR; i += 32) {
    const int r = i / CPR, c = 8 * (i - r * CPR);
    const uint4 v = *reinterpret_cast<const uint4*>(Gr + r * SX + c);
    uint16_t* d = Ge + r * SX + c / 2;
    *reinterpret_cast<uint2*>(d) = make_uint2(__byte_perm(v.x, v.y, 0x5410), __byte_perm(v.z, v.w, 0x5410));
    *reinterpret_cast<uint2*>(d + N2) = make_uint2(__byte_perm(v.x, v.y, 0x7632), __byte_perm(v.z, v.w, 0x7632));
  }
  __syncwarp();
  const uint16_t *Lc = LX ? Ge : Xh, *Rc = LX ? Xh : Ge;
#pragma unroll
  for (int kk = 0; kk < KT; ++kk) {
    uint32_t ar[4], ai[4], br[4], bi[4];
    const uint16_t* pa = Lc + ((lm & 1) * 8 + lr) * SX + 16 * kk + (lm >> 1) * 8;
    ldsm_x4(ar, pa);
    ldsm_x4(ai, pa + N2);
    const uint16_t* pb = Rc + ((lm >> 1) * 8 + lr) * SX + 16 * kk + (lm & 1) * 8;
    ldsm_x4(br, pb);
    ldsm_x4(bi, pb + N2);
    const uint32_t nbi[4] = {bi[0] ^ SIGN2, bi[1] ^ SIGN2, bi[2] ^ SIGN2, bi[3] ^ SIGN2};
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      mma16816<BF16>(acc[j], ar, br[2 * j], br[2 * j + 1]);
      mma16816<BF16>(acc[j], ai, bi[2 * j], bi[2 * j + 1]);
      mma16816<BF16>(acc[2 + j], ai, br[2 * j], br[2 * j + 1]);
      mma16816<BF16>(acc[2 + j], ar, nbi[2 * j], nbi[2 * j + 1]);
    }
  }
  __syncwarp();   // Ge and Gr free for the next row
}

// Channel h's rows (lpk_rows with NB = 1): the dumps of row r into dump + r 8M, its packed input into ins + r 8M +
// inslot 2M (ins == nullptr: not stored; lpkb_gram_b reads the rows themselves); OUT: step 4 writes out (du in the adjoint chain), else nothing is written to out.
// KF: the forward dump's slot 1 of each row (fdump, N1 rows of 2 N2) prefetched by cp.async into the pair's two fc
// buffers (fcb: 2 N1 2 N2 16-bit values per pair) a row ahead, as x; ka: the block's dP / dQ planes (lpkb_steps).
template <int N1, int N2, int WPR>
__device__ __forceinline__ void lpkb_fc_async(const uint16_t* src, uint16_t* dst, int half) {
  for (int i = 32 * half + (threadIdx.x & 31); i < N1 * 2 * N2 / 8; i += 32 * WPR)
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" :: "r"((uint32_t)__cvta_generic_to_shared(dst + 8 * i)),
                 "l"(src + 8 * i) : "memory");
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}

// GR (helper pkbwd4, N1 = 16 only: one warp per row, kt = 1): the form-B Gram of slot 3 with the packed row of xo summed
// in the chain (lpkb_row_gram) into the warp's accumulators ga (re) / gi (im), slot 3 not dumped; gbuf: per warp a raw x
// stage and its [Re | Im] rows (2 XST 16-bit values). GR 1: dGa = sum pack(xo) X3^H (the forward chain, xo = dy);
// GR 2: dFa = sum dB pack(xo)^H (the adjoint chain, xo = u).
template <typename IO, bool BF16, int N1, int N2, bool OUT, bool ST, bool KF = false, int SR = 16, int GR = 0>
__device__ void lpkb_rows(const IO* __restrict__ x, IO* __restrict__ out, const float* __restrict__ D, int B, int H, int L,
                          uint16_t* bufs, const uint16_t* sb, const float4* pq, const float2* twi, int h,
                          uint16_t* __restrict__ dump, uint16_t* __restrict__ ins, int inslot,
                          const uint16_t* __restrict__ fdump = nullptr, uint16_t* fcb = nullptr, float* ka = nullptr,
                          const IO* __restrict__ xo = nullptr, uint16_t* gbuf = nullptr, float (*gacc)[4] = nullptr) {
  static_assert(GR == 0 || (N1 == 16 && SR == 16 && ST && !KF), "in-chain Grams: N1 = 16, staged, no fused dP / dQ");
  using Lo = LbtLayout<N1, N2>;
  using Lp = LpkLayout<N1, N2, SR>;
  constexpr int WPR = N1 / 16, XST = Lp::XST, XB = Lp::XB, XS = Lp::XS, M = N1 * N2;
  const int R = blockDim.x / (32 * WPR), pair = threadIdx.x / (32 * WPR), half = WPR == 2 ? (threadIdx.x >> 5) & 1 : 0,
            lane = threadIdx.x & 31;
  uint16_t *X = bufs + pair * (XB + 2 * XST), *S0 = X + XB, *S1 = S0 + XST;
  const int rows = ((L + 1) / 2 + N2 - 1) / N2, kt = (rows + 15) >> 4;
  const bool vec = (L & 7) == 0;
  int b = pair;
  constexpr int FCE = N1 * 2 * N2;   // 16-bit values of one fc buffer
  uint16_t* F0 = KF ? fcb + pair * 2 * FCE : nullptr;
  if (KF && b < B) lpkb_fc_async<N1, N2, WPR>(fdump + ((size_t)b * H + h) * 8 * M + 2 * M, F0, half);
  if (vec && b < B) lpk_stage_async<N2, WPR, IO>(x + ((size_t)b * H + h) * L, S0, L, kt, half);
  const uint16_t* a4r = sb + 2 * Lo::A_EL + 4 * Lo::B_EL;
  for (int it = 0; b < B; b += R, ++it) {
    uint16_t *Sc = (it & 1) ? S1 : S0, *Sn = (it & 1) ? S0 : S1;
    const size_t row = (size_t)b * H + h;
    const IO* xq = x + row * L;
    if (vec || KF) asm volatile("cp.async.wait_all;\n" ::: "memory");
    if (!vec)
      for (int i = 32 * half + lane; i < 16 * kt * 2 * N2; i += 32 * WPR) {
        const int r = i / (2 * N2), c = i - r * 2 * N2;
        st(reinterpret_cast<IO*>(Sc) + r * XS + c, i < L ? ld(xq + i) : 0.f);
      }
    if constexpr (WPR == 2) asm volatile("bar.sync %0, 64;\n" :: "r"(1 + pair) : "memory");
    else __syncwarp();
    const int bn = b + R;
    if constexpr (GR != 0)   // the other operand's row into the warp's raw stage (its own group, before the next x's)
      if (vec) lpk_stage_async<N2, WPR, IO>(xo + row * L, gbuf + pair * 2 * XST, L, kt, half);
    if (KF && bn < B) lpkb_fc_async<N1, N2, WPR>(fdump + ((size_t)bn * H + h) * 8 * M + 2 * M, F0 + ((it & 1) ^ 1) * FCE, half);
    if (vec && bn < B) lpk_stage_async<N2, WPR, IO>(x + ((size_t)bn * H + h) * L, Sn, L, kt, half);
    if (ins != nullptr) {   // the packed input as [Re | Im] rows (the stage's 16 kt rows; the rest of the slot unwritten)
      uint16_t* di = ins + row * 8 * M + (size_t)inslot * 2 * M;
      for (int i = 32 * half + lane; i < 16 * kt * N2; i += 32 * WPR) {
        const int r = i / N2, c = i - r * N2;
        const uint32_t v = *reinterpret_cast<const uint32_t*>(Sc + r * XS + 2 * c);
        di[r * 2 * N2 + c] = (uint16_t)(v & 0xffffu);
        di[r * 2 * N2 + N2 + c] = (uint16_t)(v >> 16);
      }
    }
    lpkb_steps<BF16, N1, N2, OUT, ST, KF, SR, GR == 0>(Sc, half, sb, pq, twi + half * 10 * 32 + lane, X + 16 * half * Lo::SX, dump + row * 8 * M,
                                          KF ? F0 + (it & 1) * FCE : nullptr, ka);
    if constexpr (GR != 0) {
      uint16_t *Gr = gbuf + pair * 2 * XST, *Ge = Gr + XST;
      if (vec) {
        if (vec && bn < B) asm volatile("cp.async.wait_group 1;\n" ::: "memory");   // the next x's group may stay in flight
        else asm volatile("cp.async.wait_group 0;\n" ::: "memory");
      } else {
        const IO* xr = xo + row * L;
        for (int i = lane; i < 16 * 2 * N2; i += 32) {
          const int r = i / (2 * N2), c = i - r * 2 * N2;
          st(reinterpret_cast<IO*>(Gr) + r * XS + c, i < L ? ld(xr + i) : 0.f);
        }
      }
      __syncwarp();
      lpkb_row_gram<BF16, N2, GR == 1>(Gr, Ge, X, gacc);
    }
    if constexpr (WPR == 2) asm volatile("bar.sync %0, 64;\n" :: "r"(1 + pair) : "memory");
    else __syncwarp();
    if constexpr (OUT) {
      const IO* xr[1] = {xq};
      IO* orr[1] = {out + row * L};
      lpk_out<IO, BF16, N1, N2, 1, N2 / WPR, 0, SR>(xr, orr, D[h], L, X, a4r, a4r + Lo::A_EL, kt, half * (N2 / WPR), Sc);
    }
  }
}

// Persistent: grid (<= SMs, 1), block 32 W (N1 = 32: a pair of warps per row; 16: a warp per row), dynamic smem as
// lpk_forward with one row per unit (PackedLearnedConv.smem(N1, N2, W, 1)). lpk_forward's setup, then lpkb_rows.
// KF: after the pairs' buffers, ka (4 M floats) and per pair two fc buffers (2 N1 2 N2 16-bit values): dynamic smem
// + 16 M + W / WPR * 8 N1 N2 bytes (PackedLearnedBackward); dpq (H, M) float4 {Re dP, Im dP, Re dQ, Im dQ} in tile
// order, unscaled, written per channel.
// GR (helper pkbwd4; lpkb_rows): after the pairs' buffers, per warp 2 XST 16-bit values (dynamic smem + W 4 16 (2 N2 + 8)
// bytes); the warps' accumulators summed at the end into part[blockIdx.x] ((gridDim.x, N1, N1) float2, lbt_gram_reduce2's
// partials; dGa's columns / dFa's rows in rho order, as lpkb_gram_b's).
template <typename IO, bool BF16, int N1, int N2, bool OUT, bool ST, bool KF = false, int SR = 16, int GR = 0>
__device__ void lpkb_chain(const IO* __restrict__ x, const float4* __restrict__ pq, const float* __restrict__ D,
                           const uint16_t* __restrict__ pb, IO* __restrict__ out, int B, int H, int L, uint16_t* __restrict__ dump,
                           uint16_t* __restrict__ ins, int inslot, const uint16_t* __restrict__ fdump = nullptr,
                           float4* __restrict__ dpq = nullptr, const IO* __restrict__ xo = nullptr, float2* __restrict__ part = nullptr) {
  using Lo = LbtLayout<N1, N2>;
  using Lp = LpkLayout<N1, N2, SR>;
  constexpr int M = Lp::M;
  extern __shared__ __align__(16) unsigned char smraw[];
  uint16_t* sb = reinterpret_cast<uint16_t*>(smraw);
  float4* spq = reinterpret_cast<float4*>(smraw + Lo::BLK_BYTES);
  float2* twi = reinterpret_cast<float2*>(smraw + Lo::BLK_BYTES + Lp::PQ_BYTES);
  uint16_t* bufs = reinterpret_cast<uint16_t*>(smraw + Lp::FIXED_BYTES);
  const int units = blockDim.x / (32 * (N1 / 16));
  float* ka = KF ? reinterpret_cast<float*>(smraw + Lp::FIXED_BYTES + 2 * units * (Lp::XB + 2 * Lp::XST)) : nullptr;
  uint16_t* fcb = KF ? reinterpret_cast<uint16_t*>(ka + 4 * M) : nullptr;
  uint16_t* gbuf = GR != 0 ? bufs + units * (Lp::XB + 2 * Lp::XST) : nullptr;
  float gacc[4][4];
#pragma unroll
  for (int j = 0; j < 4; ++j)
#pragma unroll
    for (int e = 0; e < 4; ++e) gacc[j][e] = 0.f;
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
  for (int i = threadIdx.x; i < 2 * 10 * 32; i += blockDim.x) {   // lpk_forward's start-value table
    const int half = i / 320, v = (i / 32) % 10, ln = i & 31, g = ln >> 2, t = ln & 3;
    int e, hh;
    double scale = 1.0;
    if (v < 2) { hh = v; e = t; }
    else if (v < 4) { hh = v - 2; e = 4; }
    else if (v < 8) { hh = (v - 4) >> 1; e = 2 * t + ((v - 4) & 1); scale = 1.0 / M; }
    else { hh = v - 8; e = 8; }
    const int k1 = lpk_rho(16 * half + g + 8 * hh, N1), a = (k1 * e) % M;
    double s, c;
    sincospi(-2.0 * a / M, &s, &c);
    twi[i] = make_float2((float)(c * scale), (float)(s * scale));
  }
#pragma unroll 1
  for (int hh = blockIdx.x; hh < H; hh += gridDim.x) {
    __syncthreads();
    const float4* src = pq + (size_t)hh * M;
    for (int i = threadIdx.x; i < M; i += blockDim.x) { const int r = i / N2, c = i - r * N2; spq[r * Lp::SQ + c] = src[i]; }
    if constexpr (KF)
      for (int i = threadIdx.x; i < 4 * M; i += blockDim.x) ka[i] = 0.f;
    __syncthreads();
    lpkb_rows<IO, BF16, N1, N2, OUT, ST, KF, SR, GR>(x, out, D, B, H, L, bufs, sb, spq, twi, hh, dump, ins, inslot, fdump, fcb, ka,
                                                 xo, gbuf, gacc);
    if constexpr (KF) {
      __syncthreads();
      for (int i = threadIdx.x; i < M; i += blockDim.x) dpq[(size_t)hh * M + i] = make_float4(ka[i], ka[M + i], ka[2 * M + i], ka[3 * M + i]);
    }
  }
  if constexpr (GR != 0) {   // the warps' accumulators summed in warp order (the row buffers reused: 2 KB per warp)
    asm volatile("cp.async.wait_all;\n" ::: "memory");
    __syncthreads();
    float* red = reinterpret_cast<float*>(bufs);   // [warp][16 values][32 lanes]
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, W = blockDim.x >> 5;
#pragma unroll
    for (int j = 0; j < 4; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) red[(warp * 16 + 4 * j + e) * 32 + lane] = gacc[j][e];
    __syncthreads();
    for (int q = threadIdx.x; q < 8 * 32; q += blockDim.x) {   // q = (j e) 32 + lane: entry (i, c) of the 16 x 16 unit
      const int v = q >> 5, ln = q & 31, j = v >> 2, e = v & 3, i = (ln >> 2) + 8 * (e >> 1), c = 8 * j + 2 * (ln & 3) + (e & 1);
      float sr = 0.f, si = 0.f;
      for (int w = 0; w < W; ++w) { sr += red[(w * 16 + v) * 32 + ln]; si += red[(w * 16 + 8 + v) * 32 + ln]; }
      part[(size_t)blockIdx.x * N1 * N1 + i * N1 + c] = make_float2(sr, si);
    }
  }
}
