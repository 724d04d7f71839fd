// Shapes: B batch, H channels, L length; N the real FFT size, M = N / 2 = R1 * 16^(J-1) complex points of the packed
// learned transform with J factors {R1, 16, .., 16} (s14-jspec.md: M = 2048 {8,16,16}, 4096 {16,16,16}, 8192 {2,16,16,16},
// 16384 {4,16,16,16}, 32768 {8,16,16,16}); S_s = 16^(J-s), M_s = R_s S_s.
//   x, out : (B, H, L) bf16 / fp16 (x = u for the forward, dy for the input gradient; out = y / du), out must not alias x.
//   mats   : 2J complex matrices (float2, row-major) in LEFT form A (a stage computes Y[k] = sum_n A[k][n] X[n] along its
//            axis): forward stages 1 .. J, then inverse stages 1 .. J; R_s x R_s each, back to back in that order.
//   pq     : (H, M) float4 {Re P, Im P, Re Q, Im Q} at position p (row-major index of the digits (k_1 .. k_J), frequency
//            k = k_1 + R_1 (k_2 + 16 (k_3 + ..))): C'[p] = P_p C[p] + Q_p conj(C[s(p)]), s(p) the position of (M - k) mod M.
//   D      : (H) fp32 skip weights.
//
// The packed learned butterfly with J factors on tensor cores (PackedMonarchConv.java; float64 twin: lib's
// PackedLearnedButterfly with a J-factor plan, and PackedMonarchReference in the tests): one block per row (b, h), the row
// in shared memory (fp32 planes, or 16-bit planes for M = 32768), FlashButterfly's (monarch.cuh) stages with LEARNED
// matrices: radix-16 stages as 16 x 16 complex products on mma.sync m16n8k16 (bf16 / fp16 operands, fp32 accumulation:
// monarch.cuh's tiles_a for the strided axes, load_tile_b / mma_b for the last, contiguous, axis), the first stage at
// R1 < 16 on CUDA cores in fp32 (R1 x R1 matrix in shared memory). Steps (every stage followed by a block barrier):
//   pack z[m] = x_pad[2m] + i x_pad[2m+1]  ->  forward chain: stage s = block A_s along axis s, then o T_s and * 1/R_s
//   (the product of the scales is 1/M, the inverse's 1/M moved forward: the chain is real-linear and keeps 16-bit
//   operands in range)  ->  the pair map (each pair {p, s(p)} by the thread of its lower position, in place)  ->
//   inverse chain s = J .. 1: o conj(T_s), then block A'_s along axis s  ->  out[i] = E_flat[i] + D x[i], i < L.
// The kernel does not know whether it runs the forward or the adjoint: the Java side passes {F_1, F_2^T .. F_J^T,
// G_1, G_2^T .. G_J^T} and (P, Q) for y, and {G_1^H, (G_s^H)^T .., F_1^H, (F_s^H)^T ..} and {conj P_p, Q_s(p)} for du.
#include "learned_mon.cuh"   // lm_frag_a / lm_frag_b, lm_stage_a / lm_stage_b (shared with learned_p3.cu)

// The first stage at R = R1 < 16 on CUDA cores (fp32): one column c < S_1 = M / R per thread, a (R x R, shared) the
// left-form matrix. FWD: y[k] = sum_r a[k][r] x[r], then * w_M^(k c) * scale; inverse: x[r] *= conj(w_M^(r c)) first.
template <int R, bool FWD, typename ST>
__device__ void pm_stage_first(const Tw& T, const float2* a, ST* zr, ST* zi, int log2M, float scale) {
  constexpr int lR = R == 2 ? 1 : R == 4 ? 2 : 3;
  const int lS = log2M - lR, S = 1 << lS, M = 1 << log2M;
  for (int c = threadIdx.x; c < S; c += blockDim.x) {
    float xr[R], xi[R];
#pragma unroll
    for (int r = 0; r < R; ++r) { xr[r] = ld(zr + SIDX(c + r * S)); xi[r] = ld(zi + SIDX(c + r * S)); }
    if (!FWD) {
#pragma unroll
      for (int r = 1; r < R; ++r) {
        float tc, ts; twiddle<true>(T, (r * c) & (M - 1), log2M, 1.0f, tc, ts);
        const float p = xr[r] * tc - xi[r] * ts, q = xr[r] * ts + xi[r] * tc;
        xr[r] = p; xi[r] = q;
      }
    }
#pragma unroll
    for (int k = 0; k < R; ++k) {
      float ar = 0.f, ai = 0.f;
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const float2 w = a[k * R + r];
        ar = fmaf(w.x, xr[r], fmaf(-w.y, xi[r], ar));
        ai = fmaf(w.x, xi[r], fmaf(w.y, xr[r], ai));
      }
      if (FWD) {
        float tc, ts; twiddle<true>(T, (k * c) & (M - 1), log2M, -1.0f, tc, ts);
        tc *= scale; ts *= scale;
        const float p = ar * tc - ai * ts, q = ar * ts + ai * tc;
        ar = p; ai = q;
      }
      st(zr + SIDX(c + k * S), ar); st(zi + SIDX(c + k * S), ai);
    }
  }
}

template <bool BF16, bool FWD, typename ST>
__device__ __forceinline__ void pm_first(const Tw& T, const float2* __restrict__ g1, const float2* s1, ST* zr, ST* zi,
                                         int log2M, int lR1, float scale) {
  switch (lR1) {
    case 1: pm_stage_first<2, FWD, ST>(T, s1, zr, zi, log2M, scale); break;
    case 2: pm_stage_first<4, FWD, ST>(T, s1, zr, zi, log2M, scale); break;
    case 3: pm_stage_first<8, FWD, ST>(T, s1, zr, zi, log2M, scale); break;
    default: lm_stage_a<BF16, FWD, ST>(T, g1, zr, zi, log2M - 4, 1, scale);
  }
}

// Position of frequency k (digits k_1 = k mod R1, then base 16): p = k_1 S_1 + k_2 S_2 + .. + k_J.
__device__ __forceinline__ int pm_pos(int k, int lR1, int J) {
  int p = (k & ((1 << lR1) - 1)) << (4 * (J - 1)), r = k >> lR1;
  for (int s = J - 2; s >= 0; --s) { p |= (r & 15) << (4 * s); r >>= 4; }
  return p;
}

// Frequency held by position p (pm_pos's inverse).
__device__ __forceinline__ int pm_freq(int p, int lR1, int J) {
  int k = p >> (4 * (J - 1)), sh = lR1;
  for (int s = J - 2; s >= 0; --s) { k |= ((p >> (4 * s)) & 15) << sh; sh += 4; }
  return k;
}

// ---- the fused middle (FUSE): stages J-1 (S = 16) and J (S = 1) forward, the pair map and the same two stages inverse,
// per warp on a 256-point chunk (positions [256 c, 256 c + 256): the chunk is the 16 x 16 matrix of the last two digits).
// The pair map's partner of chunk c is chunk c' (prefix frequency (P - a) mod P, P = M / 256 chunks, a = c's prefix
// frequency), and within it the position (15 - k_(J-1), 15 - k_J), or (256 - b) mod 256 for a = 0: a warp takes c and c'
// together (c <= c'), runs both forward through registers (monarch_pair.cuh's pair_stage16_fwd with the learned stage
// J-1 fragment, then the stage-J product), stores C to the chunks, does the pair map on them (warp-local shared memory,
// __syncwarp, no block barrier) and runs both inverse through registers (stage J, conj(w256) twiddles, the transposed
// stage J-1 as pair_inv_stages does it, with the learned blocks as B operands). 2 x 2 block-wide passes fewer than the
// unfused kernel.
struct PmB { uint32_t re[2][2], im[2][2]; };   // a^T as a B operand without nim (lm_frag_b<BF16, false>)

// Column tile j of X @ Bm (X = (xr, xi) an A operand, xn = -xi), accumulator layout.
template <bool BF16>
__device__ __forceinline__ void pm_mma_b(const PmB& F, int j, const uint32_t (&xr)[4], const uint32_t (&xi)[4],
                                         const uint32_t (&xn)[4], float (&dr)[4], float (&di)[4]) {
#pragma unroll
  for (int q = 0; q < 4; ++q) { dr[q] = 0.f; di[q] = 0.f; }
  mma16816<BF16>(dr, xr, F.re[j][0], F.re[j][1]);
  mma16816<BF16>(dr, xn, F.im[j][0], F.im[j][1]);
  mma16816<BF16>(di, xr, F.im[j][0], F.im[j][1]);
  mma16816<BF16>(di, xi, F.re[j][0], F.re[j][1]);
}

// Fragment sources of the chunk helpers: a fragment built beforehand (pm_middle: built once per unit, live across both
// chunks) is copied; from a matrix pointer (pm_middle2) the fragment is read (L1) and built right at its point of use, so
// that no two are live at once (the fused middle's register peak is the forward with both fragments and the w256
// twiddles live). Both give the same fragment values; the machine code of each caller is the one before the fold.
template <bool BF16>
__device__ __forceinline__ void pm_src(const FragA& s, FragA& f) { f = s; }
template <bool BF16>
__device__ __forceinline__ void pm_src(const PmB& s, PmB& f) { f = s; }
template <bool BF16>
__device__ __forceinline__ void pm_src(const float2* __restrict__ a, FragA& f) { lm_frag_a<BF16>(a, false, f); }
template <bool BF16>
__device__ __forceinline__ void pm_src(const float2* __restrict__ a, PmB& f) { lm_frag_b<BF16, false>(a, f); }

// Forward stages J-1 and J of the chunk at base, C (scaled by scale^2) stored back in place. SA / SB: the fragment
// sources (pm_src) of the stage J-1 matrix (A operand) and the stage J matrix (B operand). STORE = false
// (learned_pm3.cu's middle_rp): C is not stored but returned in (cr, ci), rounded to the 16-bit compute type as the
// store rounds it, in load_tile_b's A-operand layout (reg 2j + h = row g + 8h, columns 8j + 2t + {0, 1}).
template <bool BF16, bool STORE, typename SA, typename SB, typename ST>
__device__ __forceinline__ void pm_chunk_fwd_t(const SA& fa, const SB& fb, const float2* tl, ST* zr, ST* zi, int base, int g,
                                               int t, float scale, uint32_t (&cr)[4], uint32_t (&ci)[4]) {
  constexpr uint32_t NEG2 = 0x80008000u;
  uint32_t yr[4], yi[4], yn[4];
  {
    FragA Fa; pm_src<BF16>(fa, Fa);
    pair_stage16_fwd<BF16>(Fa, tl, zr, zi, base, g, t, scale, yr, yi);
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) yn[i] = yi[i] ^ NEG2;
  PmB Fb; pm_src<BF16>(fb, Fb);
  if constexpr (STORE) __syncwarp();   // every lane's loads of this chunk are done before any lane stores into it
#pragma unroll
  for (int j = 0; j < 2; ++j) {
    float dr[4], di[4];
    pm_mma_b<BF16>(Fb, j, yr, yi, yn, dr, di);
    if constexpr (STORE) {
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const int idx = SIDX(base + (g + 8 * (q >> 1)) * 16 + 8 * j + 2 * t + (q & 1));
        st(zr + idx, dr[q] * scale); st(zi + idx, di[q] * scale);
      }
    } else {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        cr[2 * j + h] = pack2<BF16>(dr[2 * h] * scale, dr[2 * h + 1] * scale);
        ci[2 * j + h] = pack2<BF16>(di[2 * h] * scale, di[2 * h + 1] * scale);
      }
    }
  }
}
template <bool BF16, typename SA, typename SB, typename ST>
__device__ __forceinline__ void pm_chunk_fwd(const SA& fa, const SB& fb, const float2* tl, ST* zr, ST* zi, int base, int g, int t,
                                             float scale) {
  uint32_t unused_r[4], unused_i[4];
  pm_chunk_fwd_t<BF16, true>(fa, fb, tl, zr, zi, base, g, t, scale, unused_r, unused_i);
}

// Inverse stages J and J-1 of the chunk at base (C' in place -> W_(J-2) in place): W = C' @ Bj (Bj = A'_J^T), then
// conj(w256^(r c)), then V = A'_(J-1) @ W as V^T = W^T @ A'_(J-1)^T (movmatrix.trans of W's 8 x 8 blocks). SJ / SK: the
// fragment sources (pm_src, B operands) of the inverse stage J and J-1 matrices.
// pm_chunk_inv_x: the same from C' already in registers (xr, xi: load_tile_b's layout; learned_pm3.cu's middle_rp).
template <bool BF16, typename SJ, typename SK, typename ST>
__device__ __forceinline__ void pm_chunk_inv_x(const SJ& ib, const SK& ia, const float2* tl, const uint32_t (&xr)[4],
                                               const uint32_t (&xi)[4], ST* zr, ST* zi, int base, int g, int t) {
  constexpr uint32_t NEG2 = 0x80008000u;
  uint32_t wr[4], wi[4], wn[4];
  {
    uint32_t xn[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) xn[i] = xi[i] ^ NEG2;
    PmB Bj; pm_src<BF16>(ib, Bj);
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float dr[4], di[4];
      pm_mma_b<BF16>(Bj, j, xr, xi, xn, dr, di);
      float a[4], b[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const float2 w = tl[(4 * j + q) * 32];
        a[q] = dr[q] * w.x + di[q] * w.y;
        b[q] = di[q] * w.x - dr[q] * w.y;
      }
#pragma unroll
      for (int h = 0; h < 2; ++h) {   // W's block (h, j) -> W^T's block (j, h) = A register 2h + j
        wr[2 * h + j] = trans8x8(pack2<BF16>(a[2 * h], a[2 * h + 1]));
        wi[2 * h + j] = trans8x8(pack2<BF16>(b[2 * h], b[2 * h + 1]));
      }
    }
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) wn[i] = wi[i] ^ NEG2;
  PmB Bk; pm_src<BF16>(ia, Bk);
  __syncwarp();   // every lane's loads of this chunk are done before any lane stores into it
#pragma unroll
  for (int j = 0; j < 2; ++j) {
    float dr[4], di[4];
    pm_mma_b<BF16>(Bk, j, wr, wi, wn, dr, di);
#pragma unroll
    for (int q = 0; q < 4; ++q) {   // V^T[c = g + 8 (q >> 1)][k = 8j + 2t + (q & 1)] -> V[k][c]
      const int idx = SIDX(base + (8 * j + 2 * t + (q & 1)) * 16 + g + 8 * (q >> 1));
      st(zr + idx, dr[q]); st(zi + idx, di[q]);
    }
  }
}

template <bool BF16, typename SJ, typename SK, typename ST>
__device__ __forceinline__ void pm_chunk_inv(const SJ& ib, const SK& ia, const float2* tl, ST* zr, ST* zi, int base, int g, int t) {
  uint32_t xr[4], xi[4];
  load_tile_b<BF16, ST, false>(zr, zi, base, g, t, xr, xi);   // not in pairs: lp3_mid16w spilled with them (monarch.cuh)
  pm_chunk_inv_x<BF16>(ib, ia, tl, xr, xi, zr, zi, base, g, t);
}

// One side of the pair: P C[own] + Q conj(C[partner]) with {P, Q} = c (the real and imaginary parts apart).
__device__ __forceinline__ float pm_pair_re(float4 c, float ar, float ai, float br, float bi) { return c.x * ar - c.y * ai + c.z * br + c.w * bi; }
__device__ __forceinline__ float pm_pair_im(float4 c, float ar, float ai, float br, float bi) { return c.x * ai + c.y * ar - c.z * bi + c.w * br; }

// The pair {p, q} (q >= p) in place with its coefficients cp, cq: C'[p] = P_p C[p] + Q_p conj(C[q]),
// C'[q] = P_q C[q] + Q_q conj(C[p]) (C'[q] not stored when q = p). Used by the unfused pass, pm_pair_chunk and pm_pair_chunk2.
template <typename ST>
__device__ __forceinline__ void pm_pair_at(float4 cp, float4 cq, ST* zr, ST* zi, int p, int q) {
  const float ar = ld(zr + SIDX(p)), ai = ld(zi + SIDX(p)), br = ld(zr + SIDX(q)), bi = ld(zi + SIDX(q));
  // C'[p] = P_p C[p] + Q_p conj(C[q]);  C'[q] = P_q C[q] + Q_q conj(C[p])
  const float pr = pm_pair_re(cp, ar, ai, br, bi), pi = pm_pair_im(cp, ar, ai, br, bi);
  const float qr = pm_pair_re(cq, br, bi, ar, ai), qi = pm_pair_im(cq, br, bi, ar, ai);
  st(zr + SIDX(p), pr); st(zi + SIDX(p), pi);
  if (q != p) { st(zr + SIDX(q), qr); st(zi + SIDX(q), qi); }
}

// ---- the pair map in registers (session 26: learned_pm3.cu's middle_rp, learned_p3b.cu's lp3_mid16x) ----
// Where the partner of position i of chunk c is 255 - i of chunk c2 (learned_pm3.cu's middle for a != 0, learned_p3b.cu's
// lp3_mid16w for j != 0), in the A-operand layout of a lane's C (load_tile_b's: register 2j + h = row g + 8h, columns
// 8j + 2t + e, e = 0, 1) position (g + 8h) 16 + 8j + 2t + e of lane l = 4g + t has its partner at lane 31 - l, register
// 3 - (2j + h), half 1 - e. So both chunks go forward into registers (pm_chunk_fwd_t without the store: C rounded to the
// 16-bit compute type as the store rounds it), each lane fetches its partners with one __shfl_xor_sync(.., 31) a word,
// computes C' = P C + Q conj(partner) for its own positions (pm_pair_re / pm_pair_im: pm_pair_at's arithmetic on the same
// values), rounds it as the store would, and runs the inverse from registers (pm_chunk_inv_x). The stores of C, the pair
// map's loads and stores and the inverse's loads go: per chunk 32 of the 56 16-bit accesses a lane makes to each plane.
// The same values in the same order as the shared-memory pair map: the same bits.
template <bool BF16>
__device__ __forceinline__ float2 unpack2(uint32_t w) {
  if constexpr (BF16) return __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&w));
  else return __half22float2(*reinterpret_cast<const __half2*>(&w));
}

// C' of a lane's two positions in word i of a chunk whose coefficients start at cf (own: C; pr / pi: the partners' word as
// fetched: element 0's partner is its half 1, element 1's its half 0), in place.
template <bool BF16>
__device__ __forceinline__ void pm_pair_word(const float4* __restrict__ cf, int g, int t, int i, uint32_t& cr, uint32_t& ci,
                                             uint32_t pr, uint32_t pi) {
  const int p = (g + 8 * (i & 1)) * 16 + 8 * (i >> 1) + 2 * t;
  const float4 c0 = cf[p], c1 = cf[p + 1];
  const float2 ar = unpack2<BF16>(cr), ai = unpack2<BF16>(ci), br = unpack2<BF16>(pr), bi = unpack2<BF16>(pi);
  const float r0 = pm_pair_re(c0, ar.x, ai.x, br.y, bi.y), i0 = pm_pair_im(c0, ar.x, ai.x, br.y, bi.y);
  const float r1 = pm_pair_re(c1, ar.y, ai.y, br.x, bi.x), i1 = pm_pair_im(c1, ar.y, ai.y, br.x, bi.x);
  cr = pack2<BF16>(r0, r1); ci = pack2<BF16>(i0, i1);
}

// The unit {c, c2} (c2 = c: the chunk alone, its partners within it) by one warp: forward stages J-1, J (fragment sources
// fa, fb; C scaled by scale^2: 1/16^2, or 1 where the tables carry it), the pair map with the chunks' coefficients at cfa / cfb, inverse stages J, J-1 (ib, ia).
template <bool BF16, typename SA, typename SB, typename SJ, typename SK, typename ST>
__device__ __forceinline__ void pm_pair_units(const SA& fa, const SB& fb, const SJ& ib, const SK& ia, const float2* tl,
                                              const float4* __restrict__ cfa, const float4* __restrict__ cfb, ST* zr, ST* zi,
                                              int c, int c2, int g, int t, float scale = 1.0f / 16.0f) {
  static_assert(sizeof(ST) == 2 && std::is_same<ST, __half>::value != BF16, "pm_pair_units: 16-bit planes of the compute type");
  constexpr unsigned ALL = 0xffffffffu;
  uint32_t ar[4], ai[4], br[4], bi[4];
  pm_chunk_fwd_t<BF16, false>(fa, fb, tl, zr, zi, c << 8, g, t, scale, ar, ai);
  if (c2 != c) pm_chunk_fwd_t<BF16, false>(fa, fb, tl, zr, zi, c2 << 8, g, t, scale, br, bi);
  __syncwarp();   // every lane's loads of both chunks are done before any lane's inverse stores into them
#pragma unroll
  for (int i = 0; i < 2; ++i) {   // words i and 3 - i (each the other's partner word), both chunks, all fetched first
    if (c2 != c) {
      const uint32_t pr0 = __shfl_xor_sync(ALL, br[3 - i], 31), pi0 = __shfl_xor_sync(ALL, bi[3 - i], 31);
      const uint32_t pr1 = __shfl_xor_sync(ALL, br[i], 31), pi1 = __shfl_xor_sync(ALL, bi[i], 31);
      const uint32_t qr0 = __shfl_xor_sync(ALL, ar[3 - i], 31), qi0 = __shfl_xor_sync(ALL, ai[3 - i], 31);
      const uint32_t qr1 = __shfl_xor_sync(ALL, ar[i], 31), qi1 = __shfl_xor_sync(ALL, ai[i], 31);
      pm_pair_word<BF16>(cfa, g, t, i, ar[i], ai[i], pr0, pi0);
      pm_pair_word<BF16>(cfa, g, t, 3 - i, ar[3 - i], ai[3 - i], pr1, pi1);
      pm_pair_word<BF16>(cfb, g, t, i, br[i], bi[i], qr0, qi0);
      pm_pair_word<BF16>(cfb, g, t, 3 - i, br[3 - i], bi[3 - i], qr1, qi1);
    } else {
      const uint32_t pr0 = __shfl_xor_sync(ALL, ar[3 - i], 31), pi0 = __shfl_xor_sync(ALL, ai[3 - i], 31);
      const uint32_t pr1 = __shfl_xor_sync(ALL, ar[i], 31), pi1 = __shfl_xor_sync(ALL, ai[i], 31);
      pm_pair_word<BF16>(cfa, g, t, i, ar[i], ai[i], pr0, pi0);
      pm_pair_word<BF16>(cfa, g, t, 3 - i, ar[3 - i], ai[3 - i], pr1, pi1);
    }
  }
  pm_chunk_inv_x<BF16>(ib, ia, tl, ar, ai, zr, zi, c << 8, g, t);
  if (c2 != c) pm_chunk_inv_x<BF16>(ib, ia, tl, br, bi, zr, zi, c2 << 8, g, t);
  __syncwarp();
}

// The pair map on the 256 positions of chunk c (each with its partner, in chunk c' >= c or in c itself), by one warp.
template <typename ST>
__device__ __forceinline__ void pm_pair_chunk(const float4* __restrict__ cf, ST* zr, ST* zi, int c, int lR1, int J, int M) {
  for (int i = threadIdx.x & 31; i < 256; i += 32) {
    const int p = (c << 8) + i;
    const int q = pm_pos((M - pm_freq(p, lR1, J)) & (M - 1), lR1, J);
    if (q < p) continue;
    const float4 cp = cf[p], cq = cf[q];
    pm_pair_at(cp, cq, zr, zi, p, q);
  }
}

// The fused middle for the whole row (after a block barrier; ends without one). fa: forward stage J-1 (left form),
// fb: forward stage J; ia, ib: inverse stages J-1, J; tw256 from tw256_init.
template <bool BF16, typename ST>
__device__ void pm_middle(const float2* __restrict__ fa, const float2* __restrict__ fb, const float2* __restrict__ ia,
                          const float2* __restrict__ ib, const float2* tw256, const float4* __restrict__ cf, ST* zr, ST* zi,
                          int lR1, int J, int M) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5, P = M >> 8;
  const float2* tl = tw256 + lane;
  for (int c = warp; c < P; c += nw) {
    // the partner chunk: prefix frequency (P - a) mod P over the J - 2 leading digits
    const int a = pm_freq(c, lR1, J - 2), c2 = pm_pos((P - a) & (P - 1), lR1, J - 2);
    if (c2 < c) continue;
    {
      FragA Fa; lm_frag_a<BF16>(fa, false, Fa);
      PmB Fb; lm_frag_b<BF16, false>(fb, Fb);
      pm_chunk_fwd<BF16>(Fa, Fb, tl, zr, zi, c << 8, g, t, 1.0f / 16.0f);
      if (c2 != c) pm_chunk_fwd<BF16>(Fa, Fb, tl, zr, zi, c2 << 8, g, t, 1.0f / 16.0f);
    }
    __syncwarp();
    pm_pair_chunk(cf, zr, zi, c, lR1, J, M);
    __syncwarp();
    PmB Bj, Bk; lm_frag_b<BF16, false>(ib, Bj); lm_frag_b<BF16, false>(ia, Bk);
    pm_chunk_inv<BF16>(Bj, Bk, tl, zr, zi, c << 8, g, t);
    if (c2 != c) pm_chunk_inv<BF16>(Bj, Bk, tl, zr, zi, c2 << 8, g, t);
    __syncwarp();
  }
}

// pkjopt's balanced middle (MID = 1), pm_middle's faster twin: declared here, defined in learned_pm2.cu (its only user).
template <bool BF16, typename ST>
__device__ void pm_middle2(const float2* __restrict__ fa, const float2* __restrict__ fb, const float2* __restrict__ ia,
                           const float2* __restrict__ ib, const float2* tw256, const float4* __restrict__ cf, ST* zr, ST* zi,
                           int lR1, int J, int M);

// Bytes of dynamic shared memory: two planes of M + M/32 ST, the twiddle table (16-byte aligned), the first stage's two
// R1 x R1 matrices (R1 < 16), the fused middle's w256 table (512 float2; allocated by every kernel).
__host__ __device__ constexpr int pm_smem(int log2M, int stBytes) {
  return ((2 * ((1 << log2M) + (1 << log2M) / 32) * stBytes + 15) & ~15) + 8 * tw_entries(1 << log2M) + 2 * 8 * 64 + 8 * 512;
}

// MID (FUSE only): 0 pm_middle, 1 pm_middle2 (pkjopt's balanced middle).
template <bool BF16, typename IO, typename ST, bool FUSE, int MID = 0>
__device__ void pm_conv(const IO* __restrict__ x, const float2* __restrict__ mats, const float4* __restrict__ pq,
                        const float* __restrict__ D, IO* __restrict__ out, int H, int L, int log2M) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  const int M = 1 << log2M, P = M + (M >> 5), J = (log2M - 1) / 4 + 1, lR1 = log2M - 4 * (J - 1), R1 = 1 << lR1;
  const int b = blockIdx.x, h = blockIdx.y, T = blockDim.x;
  ST* zr = reinterpret_cast<ST*>(smem_raw);
  ST* zi = zr + P;
  const int twOff = (2 * P * (int)sizeof(ST) + 15) & ~15;
  const Tw tw = tw_init(reinterpret_cast<float2*>(smem_raw + twOff), log2M);
  float2* s1 = reinterpret_cast<float2*>(smem_raw + twOff + 8 * tw_entries(M));   // first-stage matrices (R1 < 16)
  // matrix offsets (float2): forward stage s at fo(s), inverse stage s at io + fo(s)
  const int q1 = R1 * R1, inv = q1 + 256 * (J - 1);
  if (R1 < 16)
    for (int i = threadIdx.x; i < 2 * q1; i += T) s1[i] = mats[i < q1 ? i : inv + i - q1];
  float2* tw256 = s1 + 2 * 64;
  if (FUSE) tw256_init(tw256);
  const size_t row = ((size_t)b * H + h) * L;
  const IO* xr = x + row;
  // pack: z[m] = x[2m] + i x[2m+1] (zero past L)
  const bool vec = (L & 7) == 0 && (reinterpret_cast<uintptr_t>(x) & 15) == 0 && (reinterpret_cast<uintptr_t>(out) & 15) == 0;
  if (vec) {
    for (int v = threadIdx.x; v < M / 4; v += T) {   // 4 points = 8 values = 16 bytes
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
    for (int m = threadIdx.x; m < M; m += T) {
      st(zr + SIDX(m), 2 * m < L ? ld(xr + 2 * m) : 0.f);
      st(zi + SIDX(m), 2 * m + 1 < L ? ld(xr + 2 * m + 1) : 0.f);
    }
  }
  __syncthreads();
  // forward chain: stage 1, radix-16 stages 2 .. J-1 (strided), stage J (contiguous); each carries 1/R_s
  pm_first<BF16, true, ST>(tw, mats, s1, zr, zi, log2M, lR1, 1.0f / (float)R1);
  __syncthreads();
  for (int s = 2; s < (FUSE ? J - 1 : J); ++s) {
    lm_stage_a<BF16, true, ST>(tw, mats + q1 + 256 * (s - 2), zr, zi, 4 * (J - s), 1 << (4 * (s - 1) - 4 + lR1), 1.0f / 16.0f);
    __syncthreads();
  }
  const float4* c = pq + (size_t)h * M;
  const float2* im = mats + inv;
  if constexpr (FUSE) {   // stages J-1, J, the pair map, inverse J, J-1 per warp (pm_middle)
    if constexpr (MID == 0)
      pm_middle<BF16, ST>(mats + q1 + 256 * (J - 3), mats + q1 + 256 * (J - 2), im + q1 + 256 * (J - 3), im + q1 + 256 * (J - 2),
                          tw256, c, zr, zi, lR1, J, M);
    else
      pm_middle2<BF16, ST>(mats + q1 + 256 * (J - 3), mats + q1 + 256 * (J - 2), im + q1 + 256 * (J - 3), im + q1 + 256 * (J - 2),
                           tw256, c, zr, zi, lR1, J, M);
    __syncthreads();
  } else {
  lm_stage_b<BF16, ST>(mats + q1 + 256 * (J - 2), zr, zi, M, 1.0f / 16.0f);
  __syncthreads();
  // the pair map, in place: the thread of position p does the pair {p, s(p)} when p <= s(p)
  for (int p = threadIdx.x; p < M; p += T) {
    const int q = pm_pos((M - pm_freq(p, lR1, J)) & (M - 1), lR1, J);
    if (q < p) continue;
    const float4 cp = c[p], cq = c[q];
    pm_pair_at(cp, cq, zr, zi, p, q);
  }
  __syncthreads();
  // inverse chain: stage J (contiguous, T_J = 1), stages J-1 .. 2 (conj twiddle, then the matrix), stage 1
  lm_stage_b<BF16, ST>(im + q1 + 256 * (J - 2), zr, zi, M, 1.0f);
  __syncthreads();
  }
  for (int s = FUSE ? J - 2 : J - 1; s >= 2; --s) {
    lm_stage_a<BF16, false, ST>(tw, im + q1 + 256 * (s - 2), zr, zi, 4 * (J - s), 1 << (4 * (s - 1) - 4 + lR1), 1.0f);
    __syncthreads();
  }
  pm_first<BF16, false, ST>(tw, im, s1 + q1, zr, zi, log2M, lR1, 1.0f);
  __syncthreads();
  // unpack + skip: out[2m] = Re E[m] + D x[2m], out[2m+1] = Im E[m] + D x[2m+1], indices < L
  const float d = D[h];
  IO* o = out + row;
  if (vec) {
    for (int v = threadIdx.x; v < L / 8; v += T) {
      const int m = 4 * v;
      const uint4 w = *reinterpret_cast<const uint4*>(xr + 2 * m);
      const IO* e = reinterpret_cast<const IO*>(&w);
      uint4 r;
      IO* f = reinterpret_cast<IO*>(&r);
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        st(f + 2 * i, fmaf(d, ld(e + 2 * i), ld(zr + SIDX(m + i))));
        st(f + 2 * i + 1, fmaf(d, ld(e + 2 * i + 1), ld(zi + SIDX(m + i))));
      }
      *reinterpret_cast<uint4*>(o + 2 * m) = r;
    }
  } else {
    for (int i = threadIdx.x; i < L; i += T) {
      const int m = i >> 1;
      st(o + i, fmaf(d, ld(xr + i), (i & 1) ? ld(zi + SIDX(m)) : ld(zr + SIDX(m))));
    }
  }
}

#ifndef LPM_TEMPLATES_ONLY   // learned_pm2.cu includes this file for its templates only
// The left forms of lib's 2J blocks (blk: {F_1 .. F_J, G_J .. G_1}, fp32 complex (R_s, R_s) row-major, back to back;
// R_1 = 2^lR1, R_s = 16): mats = {F_1, F_2^T .. F_J^T, G_1, G_2^T .. G_J^T} (stage 1 multiplies on the left, stages
// s >= 2 on the right: X F = (F^T X^T)^T), adj = the adjoint's {G_1^H, conj(G_2) .. conj(G_J), F_1^H, conj(F_2) ..
// conj(F_J)} (blocks G_s^H in the forward-structured chain, F_s^H in the inverse-structured one; (B^H)^T = conj(B)).
// Grid ceil(2 Q / 256), block 256; Q = R_1^2 + 256 (J - 1) elements per chain.
extern "C" __global__ void __launch_bounds__(256) lpm_prep(const float2* __restrict__ blk, float2* __restrict__ mats,
                                                           float2* __restrict__ adj, int lR1, int J) {
  const int q1 = 1 << (2 * lR1), Q = q1 + 256 * (J - 1);
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= 2 * Q) return;
  const int half = i >= Q, e0 = i - half * Q;
  const int s = e0 < q1 ? 1 : 2 + (e0 - q1) / 256;
  const int lR = s == 1 ? lR1 : 4, e = s == 1 ? e0 : (e0 - q1) & 255;
  const int k = e >> lR, n = e & ((1 << lR) - 1);
  const int offF = s == 1 ? 0 : q1 + 256 * (s - 2), offG = Q + 256 * (J - s);   // F_s, G_s in blk
  const int kn = (k << lR) + n, nk = (n << lR) + k;
  // forward: half 0 from F_s, half 1 from G_s; adjoint: half 0 from G_s, half 1 from F_s
  const float2 a = blk[(half ? offG : offF) + (s == 1 ? kn : nk)];
  const float2 b = blk[(half ? offF : offG) + (s == 1 ? nk : kn)];
  mats[i] = a;
  adj[i] = make_float2(b.x, -b.y);
}

// Grid (B, H): blocks of one channel adjacent in launch order (its P / Q read from HBM once, then from L2); block
// 256 .. 512 threads (a multiple of 32); dynamic shared memory pm_smem(log2M, sizeof(ST)).
#define LPM(NAME, BF, IO, ST, FUSE)                                                                                  \
  extern "C" __global__ void __launch_bounds__(512, 1) NAME(const IO* __restrict__ x, const float2* __restrict__ mats, \
      const float4* __restrict__ pq, const float* __restrict__ D, IO* __restrict__ out, int H, int L, int log2M) {    \
    pm_conv<BF, IO, ST, FUSE>(x, mats, pq, D, out, H, L, log2M);                                                     \
  }
// name: lpm_forward_<io>_<shared-memory storage: s32 fp32 planes (M <= 16384), s16 16-bit planes (M <= 32768)>
// (the unfused kernels: every stage and the pair map a block-wide pass; the slow twin of the fused ones)
LPM(lpm_forward_bf16_s32, true, __nv_bfloat16, float, false)
LPM(lpm_forward_f16_s32, false, __half, float, false)
LPM(lpm_forward_bf16_s16, true, __nv_bfloat16, __nv_bfloat16, false)
LPM(lpm_forward_f16_s16, false, __half, __half, false)
// name: lpm_fused_<io>_<s32|s16>: stages J-1 and J, the pair map and their inverses per warp (pm_middle)
LPM(lpm_fused_bf16_s32, true, __nv_bfloat16, float, true)
LPM(lpm_fused_f16_s32, false, __half, float, true)
LPM(lpm_fused_bf16_s16, true, __nv_bfloat16, __nv_bfloat16, true)
LPM(lpm_fused_f16_s16, false, __half, __half, true)
#endif

// ---- the pair map's coefficient gradients (helper pkjtc; the first backward piece) ----------------------------------
// dpq[h][p] = {dP_p, dQ_p} = sum over the batch rows b of {gC'[p] conj(C[p]), gC'[p] C[s(p)]} (lib's convention (dl/dRe,
// dl/dIm)), C = the forward chain of u's row (blocks F_s), gC' = the gradient w.r.t. C' = the adjoint of the inverse chain
// applied to dy's row (a forward-structured chain with blocks G_s^H and 1/M: mats_adj's first half). Both half chains are
// the unfused kernel's stages; each forward stage carries 1/R_s, so the u chain gives C / M (multiplied back by M here) and
// the dy chain gives gC' with its 1/M. Grid (H): one block per channel runs its B rows one after the other and accumulates
// in place (each thread its own positions, no atomics); cs (H, M) float2: the current row's C (the partner s(p) is another
// thread's). Block 256 .. 512 threads; dynamic shared memory pm_smem(log2M, sizeof(ST)) (its w256 slot holds the adjoint's
// first-stage matrix).
template <bool BF16, typename IO, typename ST>
__device__ void pm_half_chain(const Tw& tw, const IO* __restrict__ xr, const float2* __restrict__ mats, const float2* s1, ST* zr,
                              ST* zi, int L, int log2M, int lR1, int J) {
  const int M = 1 << log2M, q1 = 1 << (2 * lR1);
  for (int m = threadIdx.x; m < M; m += blockDim.x) {
    st(zr + SIDX(m), 2 * m < L ? ld(xr + 2 * m) : 0.f);
    st(zi + SIDX(m), 2 * m + 1 < L ? ld(xr + 2 * m + 1) : 0.f);
  }
  __syncthreads();
  pm_first<BF16, true, ST>(tw, mats, s1, zr, zi, log2M, lR1, 1.0f / (float)(1 << lR1));
  __syncthreads();
  for (int s = 2; s < J; ++s) {
    lm_stage_a<BF16, true, ST>(tw, mats + q1 + 256 * (s - 2), zr, zi, 4 * (J - s), 1 << (4 * (s - 1) - 4 + lR1), 1.0f / 16.0f);
    __syncthreads();
  }
  lm_stage_b<BF16, ST>(mats + q1 + 256 * (J - 2), zr, zi, M, 1.0f / 16.0f);
  __syncthreads();
}

template <bool BF16, typename IO, typename ST>
__device__ void pm_dpq(const IO* __restrict__ u, const IO* __restrict__ dy, const float2* __restrict__ mats,
                       const float2* __restrict__ madj, float4* __restrict__ dpq, float2* __restrict__ cs, int B, int H, int L,
                       int log2M) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  const int M = 1 << log2M, P = M + (M >> 5), J = (log2M - 1) / 4 + 1, lR1 = log2M - 4 * (J - 1), R1 = 1 << lR1;
  const int h = blockIdx.x, T = blockDim.x, q1 = R1 * R1;
  ST* zr = reinterpret_cast<ST*>(smem_raw);
  ST* zi = zr + P;
  const int twOff = (2 * P * (int)sizeof(ST) + 15) & ~15;
  const Tw tw = tw_init(reinterpret_cast<float2*>(smem_raw + twOff), log2M);
  float2* s1 = reinterpret_cast<float2*>(smem_raw + twOff + 8 * tw_entries(M));   // u chain's first-stage matrix
  float2* s1a = s1 + 2 * 64;                                                        // dy chain's (the w256 slot)
  if (R1 < 16)
    for (int i = threadIdx.x; i < q1; i += T) { s1[i] = mats[i]; s1a[i] = madj[i]; }
  float4* acc = dpq + (size_t)h * M;
  float2* c = cs + (size_t)h * M;
  const float fM = (float)M;
  for (int b = 0; b < B; ++b) {
    const size_t row = ((size_t)b * H + h) * L;
    pm_half_chain<BF16, IO, ST>(tw, u + row, mats, s1, zr, zi, L, log2M, lR1, J);
    for (int p = threadIdx.x; p < M; p += T) c[p] = make_float2(ld(zr + SIDX(p)) * fM, ld(zi + SIDX(p)) * fM);
    __syncthreads();   // the planes are read before the dy chain overwrites them
    pm_half_chain<BF16, IO, ST>(tw, dy + row, madj, s1a, zr, zi, L, log2M, lR1, J);   // ends with a barrier: c complete
    for (int p = threadIdx.x; p < M; p += T) {
      const int q = pm_pos((M - pm_freq(p, lR1, J)) & (M - 1), lR1, J);
      const float2 a = c[p], s = c[q];
      const float gr = ld(zr + SIDX(p)), gi = ld(zi + SIDX(p));
      // dP += g conj(C[p]);  dQ += g C[s(p)]
      const float4 d = make_float4(gr * a.x + gi * a.y, gi * a.x - gr * a.y, gr * s.x - gi * s.y, gr * s.y + gi * s.x);
      if (b == 0) acc[p] = d;
      else { const float4 o = acc[p]; acc[p] = make_float4(o.x + d.x, o.y + d.y, o.z + d.z, o.w + d.w); }
    }
    __syncthreads();   // c and the planes are read before the next row writes them
  }
}

#ifndef LPM_TEMPLATES_ONLY
#define LPM_DPQ(NAME, BF, IO, ST)                                                                                     \
  extern "C" __global__ void __launch_bounds__(512, 1) NAME(const IO* __restrict__ u, const IO* __restrict__ dy,      \
      const float2* __restrict__ mats, const float2* __restrict__ madj, float4* __restrict__ dpq, float2* __restrict__ cs, \
      int B, int H, int L, int log2M) {                                                                                \
    pm_dpq<BF, IO, ST>(u, dy, mats, madj, dpq, cs, B, H, L, log2M);                                                  \
  }
// name: lpm_dpq_<io>_<s32|s16> (storage as the forward's)
LPM_DPQ(lpm_dpq_bf16_s32, true, __nv_bfloat16, float)
LPM_DPQ(lpm_dpq_f16_s32, false, __half, float)
LPM_DPQ(lpm_dpq_bf16_s16, true, __nv_bfloat16, __nv_bfloat16)
LPM_DPQ(lpm_dpq_f16_s16, false, __half, __half)
#endif
