// The PACKED learned butterfly's backward on tensor cores (engine LEARNED_PACKED; prompts' packed spec,
// PackedLearnedBackward). Shapes: B batch, H channels, L length (causal), M = N / 2 = N1 x N2 in {16 x 16, 16 x 32,
// 32 x 32}; rows R = B H (row r = b H + h).
//   dump (R, 4, N1, 2 N2) 16-bit: per row four slots of [Re | Im] rows in the chain's tile-row order rho (row i holds
//   k1 = lpk_rho(i)), the layout learned_tc_bwd.cu's Grams read;
//   ins  (R, 4, N1, 2 N2) 16-bit (only without PackedLearnedBackward's direct route, the default): slot 0 pack(u), slot 1
//   pack(dy) as [Re | Im] rows in natural row order (slots 2, 3 unused; rows past the packed row's 16 staged rows are not
//   written: the Gram entries they feed are exactly zero and set so on the host).
// Per row (spec notation; X1 = B o T, X2 = C' @ Gb, X3 = X2 o conj(T) / M, E = Ga @ X3), the forward chain (on u, blocks
// {Fa, Fb, Gb, Ga}, coefficients (P, Q)) dumps slots (X1, C, C', X3). The adjoint chain is the SAME chain (learned_pk.cu's
// structure) on dy with blocks {Ga^H, Gb^H, Fb^H, Fa^H}, coefficients (conj P_k, Q_s(k)) and D: its step-1 product is
// (Ga^H dE) o T = M dX2, its C is M dC', its C' (the pair map's adjoint) M dC, its X3 = (M dC Fb^H) o conj(T) / M = dB and
// its output Fa^H dB + D dy = du (unpacked). It dumps slots (M dX2, M dC', M dC, dB). Then
//   dGa = sum dE X3^H       = Gram B (dy, fwd 3)           columns in rho order (lpkb_gram_b; or lbt_gram on ins 1)
//   dFa = sum dB A^H        = Gram B (adj 3, u)            rows in rho order (lpkb_gram_b; or lbt_gram on ins 0)
//   dGb = sum C'^H dX2      = Gram A (fwd 2, adj 0) / M    (rows summed: rho does not matter)
//   dFb = sum X1^H dC       = Gram A (fwd 0, adj 2) / M
//   dP_k = sum dC'[k] conj(C[k]), dQ_k = sum dC'[k] C[s(k)]   (lpkb_dk, / M; or in the adjoint chain: fusedPq), then dK
//   and dk (lbt_taps)
// The Grams, their reductions, dD (lbt_dkp3 with N1 = 0) and the inverse DFT of dK (lbt_taps at N1 = N, N2 = 1: natural
// order) are learned_tc_bwd.cu's kernels, launched from Java.
// Session 13, helper pkbwd4 (N1 = 16; PackedLearnedBackward's ingram, the default there): dGa summed in the forward chain
// and dFa in the adjoint chain (lpkb_chain_*_fsg / _asg, GR below: the other operand's packed row staged per row, the
// form-B Gram with the chain's slot 3 in shared memory, slot 3 not dumped; per-block partials for lbt_gram_reduce2).
#include <type_traits>
#define LPK_NO_INSTANCES
#include "learned_pk.cu"

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

// The adjoint chain's blocks {Ga^H, Gb^H, Fb^H, Fa^H} from {Fa, Fb, Gb, Ga} (fp32 complex), for lpk_prep.
// Grid ceil(2 (N1^2 + N2^2) / 256), block 256.
extern "C" __global__ void __launch_bounds__(256) lpkb_adj_blocks(const float2* __restrict__ blocks, float2* __restrict__ adj,
                                                                  int N1, int N2) {
  const int e = blockIdx.x * blockDim.x + threadIdx.x, a = N1 * N1, b = N2 * N2;
  if (e >= 2 * (a + b)) return;
  const float2 *fa = blocks, *fb = blocks + a, *gb = fb + b, *ga = gb + b;
  int n, i;
  const float2* src;
  if (e < a) { src = ga; n = N1; i = e; }
  else if (e < a + b) { src = gb; n = N2; i = e - a; }
  else if (e < a + 2 * b) { src = fb; n = N2; i = e - a - b; }
  else { src = fa; n = N1; i = e - a - 2 * b; }
  const int r = i / n, c = i - r * n;
  const float2 v = src[c * n + r];
  adj[e] = make_float2(v.x, -v.y);
}

// The adjoint chain's coefficients: out[p] = {conj P_p, Q_s(p)} at tile position p (lpk_pq's layout: (H, M) float4 in
// tile-row order; the partner of (k1, k2) is (0, (N2 - k2) mod N2) when k1 = 0, else (N1 - k1, N2 - 1 - k2)).
// Grid (H), block 256.
extern "C" __global__ void __launch_bounds__(256) lpkb_pq_adj(const float4* __restrict__ pq, float4* __restrict__ out, int N1, int N2) {
  const int M = N1 * N2;
  const float4* src = pq + (size_t)blockIdx.x * M;
  for (int p = threadIdx.x; p < M; p += blockDim.x) {
    const int i = p / N2, c = p - i * N2, k1 = lpk_rho(i, N1);
    const int k1p = k1 == 0 ? 0 : N1 - k1, cp = k1 == 0 ? (N2 - c) % N2 : N2 - 1 - c;
    const float4 v = src[p], w = src[lpkb_rho_inv(k1p, N1) * N2 + cp];
    out[(size_t)blockIdx.x * M + p] = make_float4(v.x, -v.y, w.z, w.w);
  }
}

// dP, dQ of channel h summed over the batch from the forward dump (slot 1: C) and the adjoint dump (slot 1: M dC'),
// times scale (1 / M): dP_p = sum_b dC'[p] conj(C[p]), dQ_p = sum_b dC'[p] C[s(p)]; then the spectrum's gradient
// (lib's PackedLearnedButterfly.tapGradient) dK[k] = conj(alpha_k) dP_k + conj(gamma_k) dQ_k + beta_(M-k) conj(dP_(M-k))
// + delta_(M-k) conj(dQ_(M-k)) for k = 0 .. M (terms whose index is outside 0 .. M - 1 absent), written in natural
// frequency order into g (H, 2M) float2 with zeros above M (lbt_taps at N1 = 2M, N2 = 1 then takes dk).
//   alpha = c_k a_k, beta = d_k conj(b_(M-k)), gamma = c_k b_k, delta = d_k conj(a_(M-k)) (pair-map coefficients of the
//   spec), w = e^(-2 pi i / N).
// Each thread takes 4 consecutive columns c0 .. c0 + 3 of a tile row (8-byte loads of Re and Im; N2 % 4 == 0): their
// partners (k1 != 0) are the columns N2 - 4 - c0 .. N2 - 1 - c0 of the partner row, reversed, one 8-byte load each; on
// the k1 = 0 row ((N2 - c) mod N2: not contiguous) 2-byte loads. The batch loop unrolled by 8 (lbt_dkp2's reason: loads
// in flight). Grid (H), block 256, dynamic smem 16 G M + 4 N1 bytes.
// G (batch groups, a divisor of the block's 256 threads; 1 = the first route): group g of 256 / G threads (4 columns a
// thread, looping over the M columns) sums the rows b = g, g + G, ... into its own plane of sd, the planes then added
// in g order. At M = 256 a block of one group has 64 of its 256 threads busy (M / 4 columns), so the
// batch loop of 64 rows had ~12 warps in flight per SM: G = 4 (16 x 16) / 2 (16 x 32) keeps all 256 threads loading.
// dpq != nullptr (fusedPq: the adjoint chain summed dP / dQ, (H, M) float4 in tile order): taken from there (times
// scale) instead of the dumps.
template <typename IO>
__device__ void lpkb_dk(const uint16_t* __restrict__ fd, const uint16_t* __restrict__ ad, float2* __restrict__ g, int B, int H,
                        int N1, int N2, float scale, const float4* __restrict__ dpq, int G) {
  extern __shared__ __align__(16) float4 sd[];
  if (dpq != nullptr) G = 1;
  int* inv = reinterpret_cast<int*>(sd + G * N1 * N2);
  const int M = N1 * N2, N = 2 * M, h = blockIdx.x, TG = blockDim.x / G, grp = threadIdx.x / TG, tg = threadIdx.x - grp * TG;
  for (int i = threadIdx.x; i < N1; i += blockDim.x) inv[lpk_rho(i, N1)] = i;
  __syncthreads();
  if (dpq != nullptr)
    for (int p = threadIdx.x; p < M; p += blockDim.x) {
      const float4 v = dpq[(size_t)h * M + p];
      sd[p] = make_float4(v.x * scale, v.y * scale, v.z * scale, v.w * scale);
    }
  for (int p = 4 * tg; dpq == nullptr && p < M; p += 4 * TG) {
    const int i = p / N2, c = p - i * N2, k1 = lpk_rho(i, N1);
    const int re = i * 2 * N2 + c, im = re + N2;
    const int pre = inv[k1 == 0 ? 0 : N1 - k1] * 2 * N2 + (k1 == 0 ? 0 : N2 - 4 - c), pim = pre + N2;
    float pr[4] = {0.f, 0.f, 0.f, 0.f}, pi[4] = {0.f, 0.f, 0.f, 0.f}, qr[4] = {0.f, 0.f, 0.f, 0.f}, qi[4] = {0.f, 0.f, 0.f, 0.f};
    // rows b = grp + G j, j < nb (G = 1: b = j, the first route's loop)
    const size_t stride = (size_t)G * H * 8 * M, base0 = ((size_t)grp * H + h) * 8 * M + 2 * M;   // slot 1 of row grp
    const int nb = grp < B ? (B - grp + G - 1) / G : 0;
#pragma unroll 8
    for (int j = 0; j < nb; ++j) {
      const size_t base = base0 + (size_t)j * stride;
      const uint16_t *f = fd + base, *a = ad + base;
      const uint2 ar4 = *reinterpret_cast<const uint2*>(a + re), ai4 = *reinterpret_cast<const uint2*>(a + im);
      const uint2 cr4 = *reinterpret_cast<const uint2*>(f + re), ci4 = *reinterpret_cast<const uint2*>(f + im);
      const IO *ar = reinterpret_cast<const IO*>(&ar4), *ai = reinterpret_cast<const IO*>(&ai4);
      const IO *cr = reinterpret_cast<const IO*>(&cr4), *ci = reinterpret_cast<const IO*>(&ci4);
      float sr[4], si[4];
      if (k1 != 0) {
        const uint2 sr4 = *reinterpret_cast<const uint2*>(f + pre), si4 = *reinterpret_cast<const uint2*>(f + pim);
        const IO *s0 = reinterpret_cast<const IO*>(&sr4), *s1 = reinterpret_cast<const IO*>(&si4);
#pragma unroll
        for (int e = 0; e < 4; ++e) { sr[e] = ld(s0 + 3 - e); si[e] = ld(s1 + 3 - e); }
      } else {
        const IO* fr = reinterpret_cast<const IO*>(f + pre);   // the k1 = 0 row itself
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int cp = (N2 - c - e) & (N2 - 1);
          sr[e] = ld(fr + cp); si[e] = ld(fr + N2 + cp);
        }
      }
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const float xr = ld(ar + e), xi = ld(ai + e), yr = ld(cr + e), yi = ld(ci + e);
        pr[e] += xr * yr + xi * yi;
        pi[e] += xi * yr - xr * yi;
        qr[e] += xr * sr[e] - xi * si[e];
        qi[e] += xr * si[e] + xi * sr[e];
      }
    }
#pragma unroll
    for (int e = 0; e < 4; ++e) sd[grp * M + p + e] = make_float4(pr[e] * scale, pi[e] * scale, qr[e] * scale, qi[e] * scale);
  }
  __syncthreads();
  if (G > 1) {   // the groups' planes added into plane 0 (each p by one thread, planes in g order)
    for (int p = threadIdx.x; p < M; p += blockDim.x) {
      float4 t = sd[p];
      for (int q = 1; q < G; ++q) {
        const float4 o = sd[q * M + p];
        t.x += o.x; t.y += o.y; t.z += o.z; t.w += o.w;
      }
      sd[p] = t;
    }
    __syncthreads();
  }
  for (int f = threadIdx.x; f < N; f += blockDim.x) {
    float2 v = make_float2(0.f, 0.f);
    if (f < M) {   // position of frequency k = f: conj(alpha_k) dP_k + conj(gamma_k) dQ_k
      float s, co;
      sincospif(-2.0f * (float)f / (float)N, &s, &co);                               // w^k = (co, s)
      const float2 a = make_float2(0.5f * (1.f + s), -0.5f * co), b = make_float2(0.5f * (1.f - s), 0.5f * co);
      const float2 cc = make_float2(a.x, -a.y);
      const float2 al = cmul(cc, a), ga = cmul(cc, b);
      const float4 q = sd[inv[f % N1] * N2 + f / N1];
      v.x += al.x * q.x + al.y * q.y + ga.x * q.z + ga.y * q.w;
      v.y += al.x * q.y - al.y * q.x + ga.x * q.w - ga.y * q.z;
    }
    if (f >= 1 && f <= M) {   // k = M - f: beta_k conj(dP_k) + delta_k conj(dQ_k)
      const int k = M - f;
      float s, co, s2, c2;
      sincospif(-2.0f * (float)k / (float)N, &s, &co);                               // w^k
      sincospif(-2.0f * (float)f / (float)N, &s2, &c2);                              // w^(M-k)
      const float2 dk = make_float2(0.5f * (1.f - s), -0.5f * co);                   // d_k = conj(b_k)
      const float2 bj = make_float2(0.5f * (1.f - s2), -0.5f * c2);                  // conj(b_(M-k))
      const float2 aj = make_float2(0.5f * (1.f + s2), 0.5f * c2);                   // conj(a_(M-k))
      const float2 be = cmul(dk, bj), de = cmul(dk, aj);
      const float4 q = sd[inv[k % N1] * N2 + k / N1];
      v.x += be.x * q.x + be.y * q.y + de.x * q.z + de.y * q.w;
      v.y += be.y * q.x - be.x * q.y + de.y * q.z - de.x * q.w;
    }
    g[(size_t)h * N + f] = v;
  }
}

// lpkb_gram_b's packed rows of step st (RPS rows of 16 N2 complex, chunk i of 4 complex per thread and k): load into
// registers (zero past L), then deinterleave into a stage's [Re | Im] rows (row slot rq at ROW, after its dump operand).
template <typename IO, int N2, int RPS, int XPT>
__device__ __forceinline__ void lpkb_gb_load_x(const IO* __restrict__ x, int st, int rows, int L, bool vec, uint4 (&v)[XPT]) {
  constexpr int XQ = 16 * N2 / 4;
#pragma unroll
  for (int k = 0; k < XPT; ++k) {
    const int i = threadIdx.x + 256 * k, rq = i / XQ, cq = i - rq * XQ, r = st * RPS + rq, n = 8 * cq;   // n: first value
    v[k] = make_uint4(0u, 0u, 0u, 0u);
    if (i < RPS * XQ && r < rows) {
      const IO* xr = x + (size_t)r * L;
      if (vec) { if (n < L) v[k] = *reinterpret_cast<const uint4*>(xr + n); }
      else {   // element loads, packed without taking v's address
        const uint16_t* xs16 = reinterpret_cast<const uint16_t*>(xr);
        uint32_t w0 = 0u, w1 = 0u, w2 = 0u, w3 = 0u;
        if (n < L) w0 = xs16[n];
        if (n + 1 < L) w0 |= (uint32_t)xs16[n + 1] << 16;
        if (n + 2 < L) w1 = xs16[n + 2];
        if (n + 3 < L) w1 |= (uint32_t)xs16[n + 3] << 16;
        if (n + 4 < L) w2 = xs16[n + 4];
        if (n + 5 < L) w2 |= (uint32_t)xs16[n + 5] << 16;
        if (n + 6 < L) w3 = xs16[n + 6];
        if (n + 7 < L) w3 |= (uint32_t)xs16[n + 7] << 16;
        v[k] = make_uint4(w0, w1, w2, w3);
      }
    }
  }
}
template <int N1, int N2, int RPS, int XPT>
__device__ __forceinline__ void lpkb_gb_store_x(uint16_t* stage, const uint4 (&v)[XPT]) {
  constexpr int XQ = 16 * N2 / 4, SX = 2 * N2 + 8, ROW = (N1 + 16) * SX, DOP = N1 * SX;
#pragma unroll
  for (int k = 0; k < XPT; ++k) {
    const int i = threadIdx.x + 256 * k, rq = i / XQ, cq = i - rq * XQ, row = cq / (N2 / 4), c = 4 * (cq % (N2 / 4));
    if (i < RPS * XQ) {
      uint16_t* d = stage + rq * ROW + DOP + row * SX + c;
      *reinterpret_cast<uint2*>(d) = make_uint2(__byte_perm(v[k].x, v[k].y, 0x5410), __byte_perm(v[k].z, v[k].w, 0x5410));
      *reinterpret_cast<uint2*>(d + N2) = make_uint2(__byte_perm(v[k].x, v[k].y, 0x7632), __byte_perm(v[k].z, v[k].w, 0x7632));
    }
  }
}

// Form-B Gram with one operand the packed real row (dGa = sum pack(dy) X3^H, LX; dFa = sum dB pack(u)^H, !LX), without
// the ins workspace: G[i][j] += sum_k L[i][k] conj(R[j][k]) (k over the N2 columns), learned_tc_bwd.cu lbt_gram's form-B
// MMAs (four real m16n8k16 per complex tile, fp32 accumulators). The packed operand z[m] = x[2m] + i x[2m+1] has 16
// non-zero rows (every covered causal shape: ceil(L / 2) <= 16 N2), so only the output units i0 = 0 (LX) or j0 = 0 (!LX)
// are not zero: U = N1 / 16 live units; the block's 8 warps take RPS = 8 / U rows per step (warp w: unit w % U, row
// w / U). The dump operand (slot of (R, 4, N1, 2 N2)) by cp.async; the packed row through registers (16-byte loads when
// L % 8 == 0, else 2-byte loads; zero past L), deinterleaved into [Re | Im] rows; two stages, the next step's loads in
// flight during the current step's MMAs. part: (gridDim.x, N1, N1) float2 (the dead units written as zero), summed by
// lbt_gram_reduce2. Grid (G), block 256, dynamic smem 2 * RPS * (N1 + 16) * (2 N2 + 8) * 2 bytes.
template <typename IO, bool BF16, int N1, int N2, bool LX>
__device__ void lpkb_gram_b(const IO* __restrict__ x, const uint16_t* __restrict__ dump, int slot, float2* __restrict__ part,
                            int rows, int L) {
  constexpr int SX = 2 * N2 + 8, M = N1 * N2, U = N1 / 16, RPS = 8 / U, KT = N2 / 16;
  constexpr int DOP = N1 * SX, XOP = 16 * SX, ROW = DOP + XOP, STAGE = RPS * ROW;   // 16-bit elements
  constexpr int XQ = 16 * N2 / 4;   // 16-byte (4 complex) chunks of a packed row's live part
  constexpr int XPT = (RPS * XQ + 255) / 256;   // such chunks per thread per step
  extern __shared__ __align__(16) unsigned char smraw[];
  uint16_t* sm = reinterpret_cast<uint16_t*>(smraw);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, lr = lane & 7, lm = lane >> 3;
  const int unit = warp % U, q = warp / U, i0 = LX ? 0 : 16 * unit, j0 = LX ? 16 * unit : 0;
  const int G = gridDim.x, steps = (rows + RPS - 1) / RPS;
  const bool vec = (L & 7) == 0;
  float gr[2][4], gi[2][4];
#pragma unroll
  for (int j = 0; j < 2; ++j)
#pragma unroll
    for (int e = 0; e < 4; ++e) { gr[j][e] = 0.f; gi[j][e] = 0.f; }
  auto load_dump = [&](int st, int stage) {   // cp.async of the step's dump operands
    for (int i = threadIdx.x; i < RPS * N1 * (2 * N2 / 8); i += 256) {
      const int rq = i / (N1 * (2 * N2 / 8)), rem = i - rq * (N1 * (2 * N2 / 8)), row = rem / (2 * N2 / 8), c = 8 * (rem % (2 * N2 / 8));
      const int r = st * RPS + rq;
      if (r < rows)
        asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" :: "r"((uint32_t)__cvta_generic_to_shared(sm + stage * STAGE + rq * ROW + row * SX + c)),
                     "l"(dump + (size_t)r * 8 * M + (size_t)slot * 2 * M + row * 2 * N2 + c) : "memory");
    }
    asm volatile("cp.async.commit_group;\n" ::: "memory");
  };
  uint4 xv[XPT];
  int st = blockIdx.x;
  if (st < steps) {
    load_dump(st, 0);
    lpkb_gb_load_x<IO, N2, RPS, XPT>(x, st, rows, L, vec, xv);
    lpkb_gb_store_x<N1, N2, RPS, XPT>(sm, xv);
  }
  else asm volatile("cp.async.commit_group;\n" ::: "memory");
  for (int it = 0; st < steps; st += G, ++it) {
    const int cur = it & 1, nst = st + G;
    __syncthreads();   // the other stage is free (its MMAs done), this stage's x stores visible after the next barrier
    if (nst < steps) { load_dump(nst, cur ^ 1); lpkb_gb_load_x<IO, N2, RPS, XPT>(x, nst, rows, L, vec, xv); }
    else asm volatile("cp.async.commit_group;\n" ::: "memory");
    asm volatile("cp.async.wait_group 1;\n" ::: "memory");
    __syncthreads();
    if (st * RPS + q < rows) {
      const uint16_t* rowp = sm + cur * STAGE + q * ROW;
      const uint16_t *Lc = LX ? rowp + DOP : rowp, *Rc = LX ? rowp : rowp + DOP;
#pragma unroll
      for (int kk = 0; kk < KT; ++kk) {   // lbt_gram's form B: A = L (stored [i][k]), B = R^H (R stored [j][k])
        uint32_t ar[4], ai[4], br[4], bi[4];
        const uint16_t* pa = Lc + (i0 + (lm & 1) * 8 + lr) * SX + 16 * kk + (lm >> 1) * 8;
        ldsm_x4(ar, pa);
        ldsm_x4(ai, pa + N2);
        const uint16_t* pb = Rc + (j0 + (lm >> 1) * 8 + lr) * SX + 16 * kk + (lm & 1) * 8;
        ldsm_x4(br, pb);
        ldsm_x4(bi, pb + N2);
        const uint32_t nbi[4] = {bi[0] ^ SIGN2, bi[1] ^ SIGN2, bi[2] ^ SIGN2, bi[3] ^ SIGN2};
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          mma16816<BF16>(gr[j], ar, br[2 * j], br[2 * j + 1]);
          mma16816<BF16>(gr[j], ai, bi[2 * j], bi[2 * j + 1]);
          mma16816<BF16>(gi[j], ai, br[2 * j], br[2 * j + 1]);
          mma16816<BF16>(gi[j], ar, nbi[2 * j], nbi[2 * j + 1]);
        }
      }
    }
    if (nst < steps) lpkb_gb_store_x<N1, N2, RPS, XPT>(sm + (cur ^ 1) * STAGE, xv);
  }
  asm volatile("cp.async.wait_all;\n" ::: "memory");
  __syncthreads();
  // the RPS row slots' accumulators of each unit summed through shared memory, then the block's partial
  float* red = reinterpret_cast<float*>(smraw);   // [warp][16 values][32 lanes]
#pragma unroll
  for (int j = 0; j < 2; ++j)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      red[(warp * 16 + 4 * j + e) * 32 + lane] = gr[j][e];
      red[(warp * 16 + 8 + 4 * j + e) * 32 + lane] = gi[j][e];
    }
  __syncthreads();
  float2* p = part + (size_t)blockIdx.x * N1 * N1;
  for (int i = threadIdx.x; i < N1 * N1; i += 256) p[i] = make_float2(0.f, 0.f);   // dead units
  __syncthreads();
  if (q == 0) {
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        float sr = 0.f, si = 0.f;
        for (int qq = 0; qq < RPS; ++qq) {
          sr += red[((qq * U + unit) * 16 + 4 * j + e) * 32 + lane];
          si += red[((qq * U + unit) * 16 + 8 + 4 * j + e) * 32 + lane];
        }
        const int i = i0 + g + 8 * (e >> 1), c = j0 + 8 * j + 2 * t + (e & 1);
        p[i * N1 + c] = make_float2(sr, si);
      }
  }
}

// 16 warps (32 x 32: 8 pairs; 16 x 16: 16 rows), 12 at 16 x 32 (one warp per row: at 16 ptxas spilled 40-72 bytes).
// Suffix f / a: the forward / adjoint chain with 4-byte dump stores; fs / as: staged dumps (ST); ask: as with dP / dQ in
// the chain (KF). Arguments fdump, dpq: KF only (else ignored).
#define LPKB_CHAIN1(SUF, IO, BF, N1, N2, OUT, ST, NAME, MAXT) LPKB_CHAINK(SUF, IO, BF, N1, N2, OUT, ST, false, NAME, MAXT)
#define LPKB_CHAINK(SUF, IO, BF, N1, N2, OUT, ST, KF, NAME, MAXT)                                                        \
  extern "C" __global__ void __launch_bounds__(MAXT, 1) lpkb_chain_##SUF##_##N1##x##N2##_##NAME(const IO* __restrict__ x, \
      const float4* __restrict__ pq, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L, uint16_t* __restrict__ dump, uint16_t* __restrict__ ins, int inslot,                   \
      const uint16_t* __restrict__ fdump, float4* __restrict__ dpq) {                                               \
    lpkb_chain<IO, BF, N1, N2, OUT, ST, KF>(x, pq, D, pb, out, B, H, L, dump, ins, inslot, fdump, dpq);             \
  }
#define LPKB_CHAIN(SUF, IO, BF, N1, N2, OUT, NAME, MAXT)                                                             \
  LPKB_CHAIN1(SUF, IO, BF, N1, N2, OUT, false, NAME, MAXT) LPKB_CHAIN1(SUF, IO, BF, N1, N2, OUT, true, NAME##s, MAXT)
#define LPKB_GRAMB(SUF, IO, BF, N1, N2)                                                                              \
  extern "C" __global__ void __launch_bounds__(256) lpkb_gram_b_##SUF##_##N1##x##N2##_x(const IO* __restrict__ x,       \
      const uint16_t* __restrict__ dump, int slot, float2* __restrict__ part, int rows, int L) {                     \
    lpkb_gram_b<IO, BF, N1, N2, true>(x, dump, slot, part, rows, L);                                                \
  }                                                                                                                  \
  extern "C" __global__ void __launch_bounds__(256) lpkb_gram_b_##SUF##_##N1##x##N2##_d(const IO* __restrict__ x,       \
      const uint16_t* __restrict__ dump, int slot, float2* __restrict__ part, int rows, int L) {                     \
    lpkb_gram_b<IO, BF, N1, N2, false>(x, dump, slot, part, rows, L);                                               \
  }
#define LPKB_TYPE(SUF, IO, BF)                                                                                       \
  LPKB_CHAIN(SUF, IO, BF, 32, 32, false, f, 512) LPKB_CHAIN(SUF, IO, BF, 32, 32, true, a, 512)                       \
  LPKB_CHAIN(SUF, IO, BF, 16, 32, false, f, 384) LPKB_CHAIN(SUF, IO, BF, 16, 32, true, a, 384)                       \
  LPKB_CHAIN(SUF, IO, BF, 16, 16, false, f, 512) LPKB_CHAIN(SUF, IO, BF, 16, 16, true, a, 512)                       \
  LPKB_CHAINK(SUF, IO, BF, 32, 32, true, true, true, ask, 512) LPKB_CHAINK(SUF, IO, BF, 16, 32, true, true, true, ask, 384) \
  LPKB_CHAINK(SUF, IO, BF, 16, 16, true, true, true, ask, 512)                                                     \
  LPKB_GRAMB(SUF, IO, BF, 32, 32) LPKB_GRAMB(SUF, IO, BF, 16, 32) LPKB_GRAMB(SUF, IO, BF, 16, 16)                   \
  extern "C" __global__ void __launch_bounds__(256) lpkb_dk_##SUF(const uint16_t* __restrict__ fd,                  \
      const uint16_t* __restrict__ ad, float2* __restrict__ g, int B, int H, int N1, int N2, float scale,           \
      const float4* __restrict__ dpq, int G) {                                                                       \
    lpkb_dk<IO>(fd, ad, g, B, H, N1, N2, scale, dpq, G);                                                            \
  }
LPKB_TYPE(bf16, __nv_bfloat16, true)
LPKB_TYPE(f16, __half, false)
// Session 13, helper pkbwd4: the N1 = 16 chains with their slot-3 Gram summed in the chain (GR; staged dumps, slot 3 not
// dumped): fsg the forward chain with dGa (xo = dy), asg the adjoint chain with dFa (xo = u); part: lbt_gram_reduce2's
// (gridDim.x, 16, 16) float2 partials. Warps as the other chains (16 at 16 x 16, 12 at 16 x 32).
#define LPKB_CHAING(SUF, IO, BF, N2, OUT, GR, NAME, MAXT)                                                              \
  extern "C" __global__ void __launch_bounds__(MAXT, 1) lpkb_chain_##SUF##_16x##N2##_##NAME(const IO* __restrict__ x,  \
      const float4* __restrict__ pq, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L, uint16_t* __restrict__ dump, const IO* __restrict__ xo, float2* __restrict__ part) {         \
    lpkb_chain<IO, BF, 16, N2, OUT, true, false, 16, GR>(x, pq, D, pb, out, B, H, L, dump, nullptr, 0, nullptr, nullptr, xo, part); \
  }
#define LPKB_CHAINGT(SUF, IO, BF)                                                                                     \
  LPKB_CHAING(SUF, IO, BF, 16, false, 1, fsg, 512) LPKB_CHAING(SUF, IO, BF, 16, true, 2, asg, 512)                   \
  LPKB_CHAING(SUF, IO, BF, 32, false, 1, fsg, 384) LPKB_CHAING(SUF, IO, BF, 32, true, 2, asg, 384)
LPKB_CHAINGT(bf16, __nv_bfloat16, true)
LPKB_CHAINGT(f16, __half, false)
// Session 13, helper pkmode: circular at 32 x 32 (L = N = 2048): the chains with the 32-row x stage (SR = 32; staged
// dumps, no fused dP / dQ), 12 warps (one row per pair, 384 threads: registers for step 1's second k16 block), suffix
// fs32 / as32; PackedLearnedBackward runs them on the ins route (lbt_gram on the ins dumps: lpkb_gram_b takes 16 rows).
#define LPKB_CHAINS32(SUF, IO, BF, OUT, NAME)                                                                           \
  extern "C" __global__ void __launch_bounds__(384, 1) lpkb_chain_##SUF##_32x32_##NAME(const IO* __restrict__ x,        \
      const float4* __restrict__ pq, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L, uint16_t* __restrict__ dump, uint16_t* __restrict__ ins, int inslot,                   \
      const uint16_t* __restrict__ fdump, float4* __restrict__ dpq) {                                               \
    lpkb_chain<IO, BF, 32, 32, OUT, true, false, 32>(x, pq, D, pb, out, B, H, L, dump, ins, inslot, fdump, dpq);    \
  }
LPKB_CHAINS32(bf16, __nv_bfloat16, true, false, fs32) LPKB_CHAINS32(bf16, __nv_bfloat16, true, true, as32)
LPKB_CHAINS32(f16, __half, false, false, fs32) LPKB_CHAINS32(f16, __half, false, true, as32)
