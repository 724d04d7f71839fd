// Shapes: as learned_pm.cu (B batch, H channels, L length, M = N / 2 = R1 * 16^(J-1) complex points, J factors
// {R1, 16, .., 16}: M = 2048 {8,16,16}, 4096 {16,16,16}, 8192 {2,16,16,16}, 16384 {4,16,16,16}, 32768 {8,16,16,16}):
//   x, out (B, H, L) bf16 / fp16; mats 2J left-form complex matrices (forward 1 .. J, inverse 1 .. J); pq (H, M) float4
//   {P_p, Q_p}; D (H) fp32. The row z[n] = X[n_1][n_2]..[n_J] in shared memory (planes zr, zi of ST, SIDX layout).
//
// Helper pkocc (session 15): learned_pm2.cu's balanced fused kernel (lpm2_b_*, the slow twin; same arguments, grid (B, H),
// block 128 .. 512 threads, dynamic shared memory pm_smem(log2M, 2)) with fewer block-wide passes over the row, the way
// FlashButterfly's fbog kernels (flashbutterfly_og.cu, monarch_outer.cuh) do its outer stages; one kernel per M (2048 ..
// 16384; log2M a compile-time constant), 16-bit planes:
//  * J = 4 (M = 8192, 16384): the first stage (learned R1 x R1 on CUDA cores, stride 4096) and the strided stage 2 (S = 256,
//    learned 16 x 16 on mma.sync) as one (R1 x 16)-point column transform per warp in registers (outer_fwd:
//    monarch_outer.cuh's outer_pair_fwd_r with learned blocks), and the same two inverse stages the other way (outer_inv)
//    writing y = E + D x straight to global memory: the unpack pass goes.
//  * J = 3 (M = 2048, 4096): the inverse first stage writes y straight to global memory (first_inv_cc for R1 = 8 on CUDA
//    cores, first_inv_tc for R1 = 16 on mma.sync); R1 = 8's forward first stage reads x straight from global memory
//    (first_fwd_cc: the pack pass goes).
//  * causal / bidirectional padding (L <= M: z[n] = 0 for n >= M / 2, outputs n >= M / 2 unused): the first stage's zero
//    inputs are neither loaded nor multiplied, its unused outputs neither computed nor stored (HALF).
// Block barriers per row (after the tables): J = 4 3 (pack, outer, middle) instead of lpm2_b's 6; J = 3 3 instead of 4.
// The middle is pm_middle2's (stages J-1, J, the pair map and their inverses per warp on chunk pairs). The first stage's
// twiddles come by a product recurrence from w_M^m (monarch_outer.cuh's twiddle_pow, as FB), stage 2's from the table;
// the arithmetic otherwise is lpm2_b's (the same roundings to 16-bit operands).
#define LPM_TEMPLATES_ONLY
#include "learned_pm.cu"
#include "monarch_outer.cuh"   // dft-free helpers used here: twiddle_pow, SK (SIDX(k 4096 + x) = SIDX(x) + k SK)

namespace pm3 {

#include "learned_pm_rec.cuh"   // session 27: the first / outer stages' twiddle sources (TwTab, the v / w kernels' Rec*)

// Two adjacent IO values (x[i], x[i+1]) as floats (zero at or past L); VEC: 4-byte aligned pair access. The x sources
// of the functions below (template XS): the row in global memory (const IO*), or learned_pm4.cu's copy of it in shared
// memory (Staged: the same values, zero at or past L).
template <typename IO>
__device__ __forceinline__ float2 ld_pair(const IO* __restrict__ x, int i, int L, bool vec) {
  if (vec) {
    if (i >= L) return make_float2(0.f, 0.f);   // i even, L a multiple of 8: i < L implies i + 1 < L
    uint32_t w = *reinterpret_cast<const uint32_t*>(x + i);
    const IO* e = reinterpret_cast<const IO*>(&w);
    return make_float2(ld(e), ld(e + 1));
  }
  return make_float2(i < L ? ld(x + i) : 0.f, i + 1 < L ? ld(x + i + 1) : 0.f);
}

// learned_pm4.cu's copy of the row in shared memory (its s kernels): pair n = (x[2n], x[2n+1]) as one word at
// n + 4 (n >> 8), zero at or past L (16 bytes of padding per KB: see pm4::stage_row).
template <typename IO>
struct Staged { const uint32_t* w; };
template <typename IO>
__device__ __forceinline__ float2 ld_pair(const Staged<IO>& x, int i, int, bool) {
  const int n = i >> 1;
  const uint32_t v = x.w[n + 4 * (n >> 8)];
  const IO* e = reinterpret_cast<const IO*>(&v);
  return make_float2(ld(e), ld(e + 1));
}

// out[i] = a + d x[i], out[i+1] = b + d x[i+1], the indices below L.
template <typename IO, typename XS>
__device__ __forceinline__ void st_pair(IO* __restrict__ o, const XS& x, int i, int L, bool vec, float d, float a, float b) {
  if (i >= L) return;
  const float2 s = ld_pair(x, i, L, vec);
  if (vec) {
    uint32_t w;
    IO* e = reinterpret_cast<IO*>(&w);
    st(e, fmaf(d, s.x, a)); st(e + 1, fmaf(d, s.y, b));
    *reinterpret_cast<uint32_t*>(o + i) = w;
  } else {
    st(o + i, fmaf(d, s.x, a));
    if (i + 1 < L) st(o + i + 1, fmaf(d, s.y, b));
  }
}

// y[k] = sum_{r < RI} a[k][r] x[r] for k < RO (a: R x R left form in shared memory, fp32), in place into (xr, xi).
template <int R, int RI, int RO>
__device__ __forceinline__ void matvec(const float2* a, float (&xr)[R], float (&xi)[R]) {
  float yr[RO], yi[RO];
#pragma unroll
  for (int k = 0; k < RO; ++k) {
    float ar = 0.f, ai = 0.f;
#pragma unroll
    for (int r = 0; r < RI; ++r) {
      const float2 w = a[k * R + r];
      ar = fmaf(w.x, xr[r], fmaf(-w.y, xi[r], ar));
      ai = fmaf(w.x, xi[r], fmaf(w.y, xr[r], ai));
    }
    yr[k] = ar; yi[k] = ai;
  }
#pragma unroll
  for (int k = 0; k < RO; ++k) { xr[k] = yr[k]; xi[k] = yi[k]; }
}

// ---- J = 4: the outer pair (stages 1 and 2) per warp ---------------------------------------------------------------
// Unit u = 8 columns c of [0, 256) (32 units over the warps): lane (g, t) holds the B-operand rows r2 = 2t + 8h + p
// (h, p in {0, 1}), column 8u + g, of the R tiles (one per first-axis digit). Forward: per position m = 256 r2 + c the
// learned first stage y = A_1 x over the R values x[r] = z[r 4096 + m], then o w_M^(k m) / R; per tile k the learned
// stage 2 Y = A_2 X (mma.sync), o w_4096^(k2 c) / 16, stored at k 4096 + 256 k2 + c. HALF: x[r] = 0 for r >= R / 2.
// xs: where z comes from: a pointer (x in global memory) means the row was packed into the planes (zr, zi) and is read
// there; learned_pm4.cu's Staged copy: z[n] = (x[2n], x[2n+1]) read from it (no pack pass; the same values).
template <int R, bool BF16, bool HALF, typename ST, typename A1, typename A2, typename XS, typename TS>
__device__ __forceinline__ void outer_fwd(TS& tws, A1 a1, A2 a2, ST* zr, ST* zi, int log2M, const XS& xs) {
  constexpr uint32_t NEG2 = 0x80008000u;
  constexpr int RI = HALF ? R / 2 : R;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
#pragma unroll 1
  for (int u = warp; u < 32; u += nw) {
    uint32_t br[R][2], bi[R][2];
#pragma unroll
    for (int h = 0; h < 2; ++h)
#pragma unroll
      for (int p = 0; p < 2; ++p) {   // one position at a time, its 16-bit values into the operands' low (p = 0) / high half
        const int m = (2 * t + 8 * h + p) * 256 + 8 * u + g;
        float pr[R], pi[R];
#pragma unroll
        for (int r = 0; r < R; ++r) {
          if (r >= RI) { pr[r] = 0.f; pi[r] = 0.f; }
          else if constexpr (std::is_pointer<XS>::value) { pr[r] = ld(zr + SIDX(m) + r * SK); pi[r] = ld(zi + SIDX(m) + r * SK); }
          else { const float2 v = ld_pair(xs, 2 * (r * 4096 + m), 0, true); pr[r] = v.x; pi[r] = v.y; }
        }
        matvec<R, RI, R>(a1, pr, pi);
        twiddle_pow<R, false>(pr, pi, tws.m(2 * h + p, m), 1.0f / R);
#pragma unroll
        for (int k = 0; k < R; ++k) {   // pack2(lo, hi) = the two halves rounded independently: the same bits as one pack2
          if (p == 0) { br[k][h] = pack2<BF16>(pr[k], 0.f); bi[k][h] = pack2<BF16>(pi[k], 0.f); }
          else {
            br[k][h] = (br[k][h] & 0xffffu) | (pack2<BF16>(0.f, pr[k]) & 0xffff0000u);
            bi[k][h] = (bi[k][h] & 0xffffu) | (pack2<BF16>(0.f, pi[k]) & 0xffff0000u);
          }
        }
      }
    float2 wo[4];   // stage 2's output twiddles (k2 = g + 8 (q >> 1), c = 8u + 2t + (q & 1)) with its 1/16
#pragma unroll
    for (int q = 0; q < 4; ++q) wo[q] = tws.s2(q, g + 8 * (q >> 1), 8 * u + 2 * t + (q & 1));
    tws.next();
    FragA F; pm_src<BF16>(a2, F);   // loaded (L1, or lpm4's table) per unit: not live across the first stage's registers
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
  }
}

// Inverse: per tile k (the first-axis digit) the B operand rows k2 = 2t + 8h + p, column c = 8u + g, o conj(w_4096^(k2 c)),
// then V = A'_2 X (accumulator rows r2 = g + 8 hq, columns 8u + 2t + p); per position m = 256 r2 + c the R values
// o conj(w_M^(k m)), then the learned A'_1 (a1, shared), and y[n] = E[n] + D x[n] at n = r 4096 + m straight to global
// memory (2n, 2n + 1 < L). HALF: only r < R / 2 (n < M / 2) is computed. The MMAs run once per accumulator row half
// (monarch_outer.cuh's outer_pair_inv_r): half of the R tiles' accumulators live at a time.
template <int R, bool BF16, bool HALF, typename IO, typename ST, typename A1, typename A2, typename XS, typename TS>
__device__ __forceinline__ void outer_inv(TS& tws, A1 a1, A2 a2, const ST* zr, const ST* zi,
                                          int log2M, const XS& x, IO* __restrict__ o, int L, bool vec, float d) {
  constexpr uint32_t NEG2 = 0x80008000u;
  constexpr int RO = HALF ? R / 2 : R;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
#pragma unroll 1
  for (int u = warp; u < 32; u += nw) {
    const int c = 8 * u + g;
    uint32_t br[R][2], bi[R][2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      float2 w[2];
#pragma unroll
      for (int p = 0; p < 2; ++p) w[p] = tws.s2i(2 * h + p, 2 * t + 8 * h + p, c);
#pragma unroll
      for (int k = 0; k < R; ++k) {
        float a[2], b[2];
#pragma unroll
        for (int p = 0; p < 2; ++p) {
          const int idx = SIDX((2 * t + 8 * h + p) * 256 + c) + k * SK;
          const float xr = ld(zr + idx), xi = ld(zi + idx);
          a[p] = xr * w[p].x - xi * w[p].y;
          b[p] = xr * w[p].y + xi * w[p].x;
        }
        br[k][h] = pack2<BF16>(a[0], a[1]); bi[k][h] = pack2<BF16>(b[0], b[1]);
      }
    }
    FragA F; pm_src<BF16>(a2, F);
#pragma unroll
    for (int hq = 0; hq < 2; ++hq) {
      float yr[2][R], yi[2][R];
#pragma unroll
      for (int k = 0; k < R; ++k) {
        float dr[4] = {0.f, 0.f, 0.f, 0.f}, di[4] = {0.f, 0.f, 0.f, 0.f};
        mma16816<BF16>(dr, F.re, br[k][0], br[k][1]);   // A X: re = Ar Xr - Ai Xi, im = Ar Xi + Ai Xr
        mma16816<BF16>(dr, F.im, bi[k][0] ^ NEG2, bi[k][1] ^ NEG2);
        mma16816<BF16>(di, F.re, bi[k][0], bi[k][1]);
        mma16816<BF16>(di, F.im, br[k][0], br[k][1]);
#pragma unroll
        for (int p = 0; p < 2; ++p) { yr[p][k] = dr[2 * hq + p]; yi[p][k] = di[2 * hq + p]; }
      }
#pragma unroll
      for (int p = 0; p < 2; ++p) {
        const int m = (g + 8 * hq) * 256 + 8 * u + 2 * t + p;
        twiddle_pow<R, true>(yr[p], yi[p], tws.m(2 * hq + p, m), 1.0f);
        matvec<R, R, RO>(a1, yr[p], yi[p]);
#pragma unroll
        for (int r = 0; r < RO; ++r) {
          const int n = r * 4096 + m;
          st_pair(o, x, 2 * n, L, vec, d, yr[p][r], yi[p][r]);
        }
      }
    }
    tws.next();
  }
}

// ---- J = 3 ------------------------------------------------------------------------------------------------------
// R1 < 16 (M = 256 R): column c < 256 per thread; forward from global memory: x_r = z[c + 256 r] = (x[2n], x[2n+1]),
// y = A_1 x, o w_M^(k c) / R, stored at c + 256 k.
template <int R, bool HALF, typename XS, typename ST, typename A1, typename TT>
__device__ __forceinline__ void first_fwd_cc(const TT& T, A1 a1, ST* zr, ST* zi, const XS& x, int L, bool vec) {
  constexpr int RI = HALF ? R / 2 : R;
#pragma unroll 1
  for (int c = threadIdx.x; c < 256; c += blockDim.x) {
    float xr[R], xi[R];
#pragma unroll
    for (int r = 0; r < R; ++r) {
      if (r < RI) { const float2 v = ld_pair(x, 2 * (c + 256 * r), L, vec); xr[r] = v.x; xi[r] = v.y; }
      else { xr[r] = 0.f; xi[r] = 0.f; }
    }
    matvec<R, RI, R>(a1, xr, xi);
    twiddle_pow<R, false>(xr, xi, tw_at(T, c), 1.0f / R);
#pragma unroll
    for (int k = 0; k < R; ++k) { st(zr + SIDX(c + 256 * k), xr[k]); st(zi + SIDX(c + 256 * k), xi[k]); }
  }
}

// Inverse: x_k = z[c + 256 k] o conj(w_M^(k c)), y = A'_1 x, out at n = c + 256 r (+ D x), r < RO.
template <int R, bool HALF, typename IO, typename ST, typename A1, typename XS, typename TT>
__device__ __forceinline__ void first_inv_cc(const TT& T, A1 a1, const ST* zr, const ST* zi, const XS& x,
                                             IO* __restrict__ o, int L, bool vec, float d) {
  constexpr int RO = HALF ? R / 2 : R;
#pragma unroll 1
  for (int c = threadIdx.x; c < 256; c += blockDim.x) {
    float xr[R], xi[R];
#pragma unroll
    for (int k = 0; k < R; ++k) { xr[k] = ld(zr + SIDX(c + 256 * k)); xi[k] = ld(zi + SIDX(c + 256 * k)); }
    twiddle_pow<R, true>(xr, xi, tw_at(T, c), 1.0f);
    matvec<R, R, RO>(a1, xr, xi);
#pragma unroll
    for (int r = 0; r < RO; ++r) st_pair(o, x, 2 * (c + 256 * r), L, vec, d, xr[r], xi[r]);
  }
}

// R1 = 16 (M = 4096): the inverse first stage on mma.sync (lm_stage_a's tiles, 32 tiles of 16 x 8 at stride 256) with
// its outputs y = E + D x straight to global memory: B operand rows r = 2t + (q & 1) + 8 (q >> 1), column c0 + g, o
// conj(w_4096^(r c)); V = A'_1 X; accumulator rows k = g + 8 (q >> 1), columns c0 + 2t + (q & 1): n = 256 k + c.
// HALF: rows k >= 8 (n >= M / 2) are not stored.
template <bool BF16, bool HALF, typename IO, typename ST, typename A1, typename XS, typename TS>
__device__ __forceinline__ void first_inv_tc(TS& tws, A1 a1, const ST* zr, const ST* zi,
                                             const XS& x, IO* __restrict__ o, int L, bool vec, float d) {
  constexpr uint32_t NEG2 = 0x80008000u;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  FragA F; pm_src<BF16>(a1, F);
#pragma unroll 1
  for (int tile = warp; tile < 32; tile += nw) {
    const int c0 = tile * 8;
    float br[4], bi[4];
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int r = 2 * t + (q & 1) + 8 * (q >> 1), idx = SIDX(r * 256 + c0 + g);
      const float xr = ld(zr + idx), xi = ld(zi + idx);
      const float2 w = tws.inv1(q, r, c0 + g);
      br[q] = xr * w.x - xi * w.y; bi[q] = xr * w.y + xi * w.x;
    }
    tws.next();
    const uint32_t xr0 = pack2<BF16>(br[0], br[1]), xr1 = pack2<BF16>(br[2], br[3]);
    const uint32_t xi0 = pack2<BF16>(bi[0], bi[1]), xi1 = pack2<BF16>(bi[2], bi[3]);
    float dr[4] = {0.f, 0.f, 0.f, 0.f}, di[4] = {0.f, 0.f, 0.f, 0.f};
    mma16816<BF16>(dr, F.re, xr0, xr1);
    mma16816<BF16>(dr, F.im, xi0 ^ NEG2, xi1 ^ NEG2);
    mma16816<BF16>(di, F.re, xi0, xi1);
    mma16816<BF16>(di, F.im, xr0, xr1);
#pragma unroll
    for (int hq = 0; hq < (HALF ? 1 : 2); ++hq) {   // rows g + 8 hq; the two columns 2t, 2t + 1 give n, n + 1
      const int n = (g + 8 * hq) * 256 + c0 + 2 * t;
      st_pair(o, x, 2 * n, L, vec, d, dr[2 * hq], di[2 * hq]);
      st_pair(o, x, 2 * n + 2, L, vec, d, dr[2 * hq + 1], di[2 * hq + 1]);
    }
  }
}

// The balanced middle (learned_pm2.cu's pm_middle2 and pm_pair_chunk2, same arithmetic): chunk units {c, c2} dealt
// round-robin over the warps, the pair partner by the chunk rule (see learned_pm2.cu), fragments loaded at their use.
__device__ __forceinline__ int pair_partner(int c, int c2, int a, int i) {   // the partner position of (c << 8) + i
  if (a != 0) return (c2 << 8) | (255 - i);
  const int b2 = (256 - ((i >> 4) | ((i & 15) << 4))) & 255;
  return (c << 8) | ((b2 & 15) << 4) | (b2 >> 4);
}

// U > 1 (learned_pm4.cu's s kernels): a lane's U positions at a time, all their coefficient loads issued before the
// first pair's arithmetic (one L2 round trip per U positions instead of per position); the pairs are disjoint, so the
// order does not change any value.
template <int U = 1, typename ST>
__device__ __forceinline__ void pair_chunk(const float4* __restrict__ cf, ST* zr, ST* zi, int c, int c2, int a) {
  if constexpr (U == 1) {
    for (int i = threadIdx.x & 31; i < 256; i += 32) {
      const int p = (c << 8) + i, q = pair_partner(c, c2, a, i);
      if (q < p) continue;
      const float4 cp = cf[p], cq = cf[q];
      pm_pair_at(cp, cq, zr, zi, p, q);
    }
  } else {
    static_assert(8 % U == 0, "pair_chunk: U divides a lane's 8 positions");
#pragma unroll 1
    for (int i0 = threadIdx.x & 31; i0 < 256; i0 += 32 * U) {
      int p[U], q[U];
      float4 cp[U], cq[U];
#pragma unroll
      for (int k = 0; k < U; ++k) {
        p[k] = (c << 8) + i0 + 32 * k; q[k] = pair_partner(c, c2, a, i0 + 32 * k);
        if (q[k] >= p[k]) { cp[k] = cf[p[k]]; cq[k] = cf[q[k]]; }
      }
#pragma unroll
      for (int k = 0; k < U; ++k)
        if (q[k] >= p[k]) pm_pair_at(cp[k], cq[k], zr, zi, p[k], q[k]);
    }
  }
}

template <bool BF16, typename ST, int U, typename SA, typename SB, typename SK, typename SJ>
__device__ void middle(SA fa, SB fb, SK ia, SJ ib, const float2* tw256, const float4* __restrict__ cf, ST* zr, ST* zi,
                       int lR1, int J, int M) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5, P = M >> 8;
  const float2* tl = tw256 + lane;
  int u = 0;
  for (int c = 0; c < P; ++c) {
    const int a = pm_freq(c, lR1, J - 2), c2 = pm_pos((P - a) & (P - 1), lR1, J - 2);
    if (c2 < c) continue;
    if (u++ % nw != warp) continue;
    pm_chunk_fwd<BF16>(fa, fb, tl, zr, zi, c << 8, g, t, 1.0f / 16.0f);
    if (c2 != c) pm_chunk_fwd<BF16>(fa, fb, tl, zr, zi, c2 << 8, g, t, 1.0f / 16.0f);
    __syncwarp();
    pair_chunk<U>(cf, zr, zi, c, c2, a);
    __syncwarp();
    pm_chunk_inv<BF16>(ib, ia, tl, zr, zi, c << 8, g, t);
    if (c2 != c) pm_chunk_inv<BF16>(ib, ia, tl, zr, zi, c2 << 8, g, t);
    __syncwarp();
  }
}

// middle_rp (learned_pm4.cu, the x / y kernels' middle: the pair map in registers; declared here for conv, instantiated
// only through learned_pm4.cu's policies).
template <bool BF16, bool C0R, bool FOLD, typename ST, typename SA, typename SB, typename SK, typename SJ>
__device__ void middle_rp(SA fa, SB fb, SK ia, SJ ib, const float2* tw256, const float4* __restrict__ cf, ST* zr, ST* zi,
                          int lR1, int J, int M);

// The pack of learned_pm.cu's pm_conv (z[m] = x[2m] + i x[2m+1]); zeros only where upper (m >= M / 2 is read later).
template <typename IO, typename ST>
__device__ __forceinline__ void pack(const IO* __restrict__ xr, ST* zr, ST* zi, int M, int L, bool vec, bool upper) {
  const int T = blockDim.x, Mz = upper ? M : M / 2;
  if (vec) {
    for (int v = threadIdx.x; v < Mz / 4; v += T) {
      const int m = 4 * v;
      if (2 * m < L) {
        const uint4 w = *reinterpret_cast<const uint4*>(xr + 2 * m);
        const IO* e = reinterpret_cast<const IO*>(&w);
#pragma unroll
        for (int i = 0; i < 4; ++i) { st(zr + SIDX(m + i), ld(e + 2 * i)); st(zi + SIDX(m + i), ld(e + 2 * i + 1)); }
      } else {
#pragma unroll
        for (int i = 0; i < 4; ++i) { st(zr + SIDX(m + i), 0.f); st(zi + SIDX(m + i), 0.f); }
      }
    }
  } else {
    for (int m = threadIdx.x; m < Mz; m += T) {
      st(zr + SIDX(m), 2 * m < L ? ld(xr + 2 * m) : 0.f);
      st(zi + SIDX(m), 2 * m + 1 < L ? ld(xr + 2 * m + 1) : 0.f);
    }
  }
}

// conv's first / outer stages with the policy's twiddle source (K::TW_REC: 0 TwTab on T; 2 the v kernels' recurrences; 1 the
// w kernels', the J = 4 first stage's per unit from rec_w).
template <int REC, int R, bool BF16, bool HALF, typename ST, typename A1, typename A2, typename XS, typename TT>
__device__ __forceinline__ void outer_fwd_k(const TT& T, A1 a1, A2 a2, ST* zr, ST* zi, int log2M, const XS& xs) {
  if constexpr (REC > 0) { RecOuterFwd<REC >= 2> src(log2M); outer_fwd<R, BF16, HALF>(src, a1, a2, zr, zi, log2M, xs); }
  else { TwTab<TT> src{T, log2M - 12}; outer_fwd<R, BF16, HALF>(src, a1, a2, zr, zi, log2M, xs); }
}
template <int REC, int R, bool BF16, bool HALF, typename IO, typename ST, typename A1, typename A2, typename XS, typename TT>
__device__ __forceinline__ void outer_inv_k(const TT& T, A1 a1, A2 a2, const ST* zr, const ST* zi, int log2M, const XS& x,
                                            IO* __restrict__ o, int L, bool vec, float d) {
  if constexpr (REC > 0) { RecOuterInv<REC >= 2> src(log2M); outer_inv<R, BF16, HALF>(src, a1, a2, zr, zi, log2M, x, o, L, vec, d); }
  else { TwTab<TT> src{T, log2M - 12}; outer_inv<R, BF16, HALF>(src, a1, a2, zr, zi, log2M, x, o, L, vec, d); }
}
template <int REC, bool BF16, bool HALF, typename IO, typename ST, typename A1, typename XS, typename TT>
__device__ __forceinline__ void first_inv_k(const TT& T, A1 a1, const ST* zr, const ST* zi, const XS& x, IO* __restrict__ o, int L,
                                            bool vec, float d) {
  if constexpr (REC > 0) { RecFirstInv src; first_inv_tc<BF16, HALF>(src, a1, zr, zi, x, o, L, vec, d); }
  else { TwTab<TT> src{T, 0}; first_inv_tc<BF16, HALF>(src, a1, zr, zi, x, o, L, vec, d); }
}


// The row's shared-memory layout (learned_pm.cu's pm_conv): planes, twiddle table, first-stage matrices, w256.
template <typename ST>
struct Geo {
  int M, J, lR1, R1, q1, inv;
  ST* zr; ST* zi; Tw tw; float2* s1; float2* tw256;
  __device__ __forceinline__ Geo(unsigned char* smem, int log2M) {
    M = 1 << log2M; J = (log2M - 1) / 4 + 1; lR1 = log2M - 4 * (J - 1); R1 = 1 << lR1; q1 = R1 * R1; inv = q1 + 256 * (J - 1);
    const int P = M + (M >> 5), twOff = (2 * P * (int)sizeof(ST) + 15) & ~15;
    zr = reinterpret_cast<ST*>(smem); zi = zr + P;
    tw = Tw{reinterpret_cast<const float2*>(smem + twOff), reinterpret_cast<const float2*>(smem + twOff) + TW_LO, log2M};
    s1 = reinterpret_cast<float2*>(smem + twOff + 8 * tw_entries(M));
    tw256 = s1 + 2 * 64;
  }
};

// The row's I/O: x and out at row (b, h), the vector flag, the zero-half flag (causal / bidirectional padding).
template <typename IO>
struct Io {
  const IO* xr; IO* o; bool vec, half;
  __device__ __forceinline__ Io(const IO* x, IO* out, int H, int L, int M, int b, int h) {
    const size_t row = ((size_t)b * H + h) * L;
    xr = x + row; o = out + row;
    vec = (L & 7) == 0 && (reinterpret_cast<uintptr_t>(x) & 15) == 0 && (reinterpret_cast<uintptr_t>(out) & 15) == 0;
    half = L <= M;   // z[n] = 0 for n >= M / 2 (2n >= M >= L), and y needs only n < M / 2
  }
};

// The matrix sources of conv (K, a policy of static functions): lpm3's are the left-form matrices themselves (global,
// read through L1 where each fragment is built: lm_frag_a / lm_frag_b) and the first stage's R1 x R1 copies s1 in shared
// memory; learned_pm4.cu's kit gives per-block fragment tables instead (same values). f1 / i1: the first stage forward /
// inverse (R1 < 16); f2 / i2: the outer stage 2 (J = 4); i1tc: the inverse first stage at R1 = 16; fa, fb, ia, ib: the
// middle's (stages J-1, J forward; J-1, J inverse). init: once per block before the first barrier. DIRECT16: R1 = 16's
// forward first stage straight from global memory by K::first16 (learned_pm4.cu's g kernels) instead of pack + lm_stage_a.
// The x source (learned_pm4.cu's s kernels): STAGE: K::stage starts copying the row into shared memory before the
// tables (waited for before the first barrier) and K::src gives the copy (Staged) to J = 3's first stage and to the
// inverse's D x; Plain's src is x itself. PAIR_U: pair_chunk's positions per lane at a time. REG_PAIR: middle_rp for middle
// (MID_C0R: its chunk 0 through registers).
// SFU_TW: the first / outer stages' twiddles from the special-function unit (tw_of).
struct Plain {
  static constexpr bool DIRECT16 = false, STAGE = false, REG_PAIR = false, SFU_TW = false, MID_FOLD = false;
  static constexpr int TW_REC = 0;
  static constexpr int PAIR_U = 1;
  static constexpr bool MID_C0R = false;
  template <typename IO> __device__ static __forceinline__ void stage(unsigned char*, const Io<IO>&, int, int) {}
  template <typename IO> __device__ static __forceinline__ const IO* src(unsigned char*, const IO* x) { return x; }
  template <typename G_> __device__ static __forceinline__ void init(unsigned char*, const G_&, const float2* __restrict__) {}
  template <typename G_> __device__ static __forceinline__ float2* f1(unsigned char*, const G_& G) { return G.s1; }
  template <typename G_> __device__ static __forceinline__ float2* i1(unsigned char*, const G_& G) { return G.s1 + G.q1; }
  template <typename G_> __device__ static __forceinline__ const float2* f2(unsigned char*, const G_& G, const float2* m) { return m + G.q1; }
  template <typename G_> __device__ static __forceinline__ const float2* i2(unsigned char*, const G_& G, const float2* im) { return im + G.q1; }
  template <typename G_> __device__ static __forceinline__ const float2* i1tc(unsigned char*, const G_&, const float2* im) { return im; }
  template <typename G_> __device__ static __forceinline__ const float2* fa(unsigned char*, const G_& G, const float2* m) { return m + G.q1 + 256 * (G.J - 3); }
  template <typename G_> __device__ static __forceinline__ const float2* fb(unsigned char*, const G_& G, const float2* m) { return m + G.q1 + 256 * (G.J - 2); }
  template <typename G_> __device__ static __forceinline__ const float2* ia(unsigned char*, const G_& G, const float2* im) { return im + G.q1 + 256 * (G.J - 3); }
  template <typename G_> __device__ static __forceinline__ const float2* ib(unsigned char*, const G_& G, const float2* im) { return im + G.q1 + 256 * (G.J - 2); }
};

// One row (b, h): see the file comment. The inverse part rebuilds its pointers and flags from the arguments after an
// opaque copy of the block indices (asm volatile), so that none of them is held in registers across the middle (under
// the 80-register cap the middle's peak has no room for them). K: the matrix sources (Plain for lpm3).
// The twiddle source of conv's first / outer stages: Geo's table (Tw), or under the policy's SFU_TW (learned_pm4.cu's y
// kernels) monarch.cuh's TwP with TWP_SFU: w(j) by __sincosf of the angle reduced to [-pi, pi) (absolute error below
// 2^-21.4, against the 16-bit operands' 2^-9 / 2^-12), no table built or read. Only the DIRECT16 / R1 = 8 / J = 4 paths take
// T (lm_stage_a's pack path keeps the table).
template <bool SFU, typename G_>
__device__ __forceinline__ auto tw_of(const G_& G, int log2M) {
  if constexpr (SFU) return TwP{nullptr, nullptr, log2M}; else return G.tw;
}

template <bool BF16, typename IO, typename ST, int LM, typename K = Plain>
__device__ void conv(const IO* __restrict__ x, const float2* __restrict__ mats, const float4* __restrict__ pq,
                     const float* __restrict__ D, IO* __restrict__ out, int H, int L, int log2Marg) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  if (log2Marg != LM) __trap();   // the host picks the kernel of its M (PackedMonarchConv.kernelName)
  constexpr int log2M = LM;
  {
    const Geo<ST> G(smem_raw, log2M);
    if constexpr (K::STAGE) K::stage(smem_raw, Io<IO>(x, out, H, L, G.M, blockIdx.x, blockIdx.y), L, G.M);
    const auto T = tw_of<K::SFU_TW>(G, log2M);
    if constexpr (!K::SFU_TW) tw_init(const_cast<float2*>(G.tw.lo), log2M);
    if (G.R1 < 16)
      for (int i = threadIdx.x; i < 2 * G.q1; i += blockDim.x) G.s1[i] = mats[i < G.q1 ? i : G.inv + i - G.q1];
    tw256_init(G.tw256);
    K::init(smem_raw, G, mats);
    if constexpr (K::STAGE) asm volatile("cp.async.wait_all;\n" ::: "memory");   // this thread's copies; the barrier below publishes them
    const Io<IO> X(x, out, H, L, G.M, blockIdx.x, blockIdx.y);
    const auto xs = K::src(smem_raw, X.xr);
    ST* zr = G.zr; ST* zi = G.zi;
    if (G.J == 4) {   // pack (not with a staged row), then the outer pair
      if constexpr (!K::STAGE) pack(X.xr, zr, zi, G.M, L, X.vec, !X.half);
      __syncthreads();
      const auto a1 = K::f1(smem_raw, G);
      const auto a2 = K::f2(smem_raw, G, mats);
      switch (G.lR1) {
        case 1: if (X.half) outer_fwd_k<K::TW_REC, 2, BF16, true>(T, a1, a2, zr, zi, log2M, xs); else outer_fwd_k<K::TW_REC, 2, BF16, false>(T, a1, a2, zr, zi, log2M, xs); break;
        case 2: if (X.half) outer_fwd_k<K::TW_REC, 4, BF16, true>(T, a1, a2, zr, zi, log2M, xs); else outer_fwd_k<K::TW_REC, 4, BF16, false>(T, a1, a2, zr, zi, log2M, xs); break;
        default: if (X.half) outer_fwd_k<K::TW_REC, 8, BF16, true>(T, a1, a2, zr, zi, log2M, xs); else outer_fwd_k<K::TW_REC, 8, BF16, false>(T, a1, a2, zr, zi, log2M, xs);
      }
    } else if (G.R1 == 8) {   // J = 3, M = 2048: the table and s1 are read by the first stage: barrier first
      __syncthreads();
      const auto a1 = K::f1(smem_raw, G);
      if (X.half) first_fwd_cc<8, true>(T, a1, zr, zi, xs, L, X.vec); else first_fwd_cc<8, false>(T, a1, zr, zi, xs, L, X.vec);
    } else if constexpr (K::DIRECT16) {   // J = 3, M = 4096 (R1 = 16) from global memory: the table is read first
      __syncthreads();
      K::template first16<BF16>(G, T, mats, zr, zi, xs, X.half, X.vec, L);
    } else {                  // J = 3, M = 4096 (R1 = 16): pack, then lm_stage_a (learned_pm.cu's pm_first)
      pack(X.xr, zr, zi, G.M, L, X.vec, true);
      __syncthreads();
      lm_stage_a<BF16, true, ST>(G.tw, mats, zr, zi, log2M - 4, 1, 1.0f / 16.0f);
    }
    __syncthreads();
    const float2* im = mats + G.inv;
    if constexpr (K::REG_PAIR)
      middle_rp<BF16, K::MID_C0R, K::MID_FOLD, ST>(K::fa(smem_raw, G, mats), K::fb(smem_raw, G, mats), K::ia(smem_raw, G, im), K::ib(smem_raw, G, im),
                          G.tw256, pq + (size_t)blockIdx.y * G.M, zr, zi, G.lR1, G.J, G.M);
    else
      middle<BF16, ST, K::PAIR_U>(K::fa(smem_raw, G, mats), K::fb(smem_raw, G, mats), K::ia(smem_raw, G, im), K::ib(smem_raw, G, im),
                       G.tw256, pq + (size_t)blockIdx.y * G.M, zr, zi, G.lR1, G.J, G.M);
  }
  __syncthreads();
  int b = blockIdx.x, h = blockIdx.y;
  asm volatile("" : "+r"(b), "+r"(h));
  const Geo<ST> G(smem_raw, log2M);
  const auto T = tw_of<K::SFU_TW>(G, log2M);
  const Io<IO> X(x, out, H, L, G.M, b, h);
  const auto xs = K::src(smem_raw, X.xr);
  const float d = D[h];
  const float2* im = mats + G.inv;
  const auto a1 = K::i1(smem_raw, G);
  if (G.J == 4) {
    const auto a2 = K::i2(smem_raw, G, im);
    switch (G.lR1) {
      case 1: if (X.half) outer_inv_k<K::TW_REC, 2, BF16, true>(T, a1, a2, G.zr, G.zi, log2M, xs, X.o, L, X.vec, d);
              else outer_inv_k<K::TW_REC, 2, BF16, false>(T, a1, a2, G.zr, G.zi, log2M, xs, X.o, L, X.vec, d);
              break;
      case 2: if (X.half) outer_inv_k<K::TW_REC, 4, BF16, true>(T, a1, a2, G.zr, G.zi, log2M, xs, X.o, L, X.vec, d);
              else outer_inv_k<K::TW_REC, 4, BF16, false>(T, a1, a2, G.zr, G.zi, log2M, xs, X.o, L, X.vec, d);
              break;
      default: if (X.half) outer_inv_k<K::TW_REC, 8, BF16, true>(T, a1, a2, G.zr, G.zi, log2M, xs, X.o, L, X.vec, d);
               else outer_inv_k<K::TW_REC, 8, BF16, false>(T, a1, a2, G.zr, G.zi, log2M, xs, X.o, L, X.vec, d);
    }
  } else if (G.R1 == 8) {
    if (X.half) first_inv_cc<8, true>(T, a1, G.zr, G.zi, xs, X.o, L, X.vec, d);
    else first_inv_cc<8, false>(T, a1, G.zr, G.zi, xs, X.o, L, X.vec, d);
  } else {
    const auto t1 = K::i1tc(smem_raw, G, im);
    if (X.half) first_inv_k<K::TW_REC, BF16, true>(T, t1, G.zr, G.zi, xs, X.o, L, X.vec, d);
    else first_inv_k<K::TW_REC, BF16, false>(T, t1, G.zr, G.zi, xs, X.o, L, X.vec, d);
  }
}

}  // namespace pm3

// The caps (also learned_pm4.cu's):
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#define R80 __maxnreg__(96)
#else
#define R80 __maxnreg__(80)
#endif
#define LB __launch_bounds__(512, 1)
#define BF __nv_bfloat16
#ifndef LPM3_TEMPLATES_ONLY   // learned_pm4.cu includes this file for its templates only
#define LPM3(NAME, QUAL, BF, IO, ST, LM)                                                                              \
  extern "C" __global__ void QUAL NAME(const IO* __restrict__ x, const float2* __restrict__ mats,                    \
      const float4* __restrict__ pq, const float* __restrict__ D, IO* __restrict__ out, int H, int L, int log2M) {  \
    pm3::conv<BF, IO, ST, LM>(x, mats, pq, D, out, H, L, log2M);                                                    \
  }
// One kernel per M (log2M a compile-time constant: each holds only its own path). The cap as learned_pm2.cu's: 80
// registers on sm_90a (3 blocks of 256 threads per SM), 96 on sm_80; r0 = __launch_bounds__(512, 1) (at most 128).
// 0 spills everywhere built; not built (sm_90a ptxas, 16-bit planes): M = 16384 under the cap (100 bytes spilled) and
// M = 32768 at all (R1 = 8's outer units: 600 bytes at 128 registers, 3.5 KB at 80). Only 16-bit planes are built (the
// fp32-plane build of the first, one-kernel-for-all-M version spilled 156 bytes at 128 registers).
// name: lpm3_<io>_m<M>_r<0|80> (16-bit planes)
LPM3(lpm3_bf16_m2048_r80, R80, true, BF, BF, 11)
LPM3(lpm3_f16_m2048_r80, R80, false, __half, __half, 11)
LPM3(lpm3_bf16_m4096_r80, R80, true, BF, BF, 12)
LPM3(lpm3_f16_m4096_r80, R80, false, __half, __half, 12)
LPM3(lpm3_bf16_m8192_r80, R80, true, BF, BF, 13)
LPM3(lpm3_f16_m8192_r80, R80, false, __half, __half, 13)
LPM3(lpm3_bf16_m2048_r0, LB, true, BF, BF, 11)
LPM3(lpm3_f16_m2048_r0, LB, false, __half, __half, 11)
LPM3(lpm3_bf16_m4096_r0, LB, true, BF, BF, 12)
LPM3(lpm3_f16_m4096_r0, LB, false, __half, __half, 12)
LPM3(lpm3_bf16_m8192_r0, LB, true, BF, BF, 13)
LPM3(lpm3_f16_m8192_r0, LB, false, __half, __half, 13)
LPM3(lpm3_bf16_m16384_r0, LB, true, BF, BF, 14)
LPM3(lpm3_f16_m16384_r0, LB, false, __half, __half, 14)
#endif
