// Shapes: B batch, H channels, L length; N the real FFT size, M = N / 2 = N1 * 8192 complex points of the packed learned
// transform with the five factors {N1, 2, 16, 16, 16} of s14-jspec.md (three passes: M = 65536 {8, ..}, 131072 {16, ..},
// 262144 {32, ..}); rows r = b H + h; a row z[m] = u_pad[2m] + i u_pad[2m+1] read as X[n1][q] = z[8192 n1 + q].
//   x, out : (B, H, L) bf16 / fp16 (x = u for the forward, dy for the input gradient; out = y / du), out must not alias x.
//   mats   : 10 complex matrices (float2, row-major) in LEFT form A (a stage computes Y[k] = sum_n A[k][n] X[n] along its
//            axis): forward stages 1 .. 5, then inverse stages 1 .. 5; sizes N1, 2, 16, 16, 16; back to back, Q = N1^2 + 4 +
//            768 float2 per half (lp3_prep builds them from lib's {F_1 .. F_5, G_5 .. G_1}).
//   pq     : (H, M) float4 {Re P, Im P, Re Q, Im Q} at position p = k1 8192 + p_in (p_in = k2 4096 + k3 256 + k4 16 + k5;
//            frequency k = k1 + N1 k_in, k_in = k2 + 2 (k3 + 16 (k4 + 16 k5))): C'[p] = P_p C[p] + Q_p conj(C[s(p)]).
//   D      : (H) fp32 skip weights.
//   S      : scratch (rows of one chunk, N1, 8192) float2 (fp32). A chunk holds whole channels h0, h0 + 1, ..: its slot c is
//            channel h0 + c / B, batch c % B, i.e. global row (c % B) H + h0 + c / B (p3_row).
//
// The packed learned butterfly beyond one pass (PackedThreePass.java; float64 twin: lib's PackedLearnedButterfly with a
// five-factor plan), FlashButterfly's three-pass structure (flashbutterfly3.cu) with learned blocks:
//   lp3_outer_fwd (pass 1, CUDA cores, fp32): per row and column q, Y[k1] = sum_n1 F_1[k1][n1] X[n1][q] (F_1 the learned
//     N1 x N1 block, LEFT), times w_M^(k1 q) / N1 -> S[k1][q].
//   lp3_middle (pass 2, tensor cores): one block per row and pair of inner rows {k1, N1 - k1} (block 0: {0, N1 / 2}, each
//     paired with itself): both 8192-point rows in shared memory (16-bit planes, three blocks per SM, the default; or fp32
//     planes, one block per SM, the twin), the inner forward chain (stage 2 (R = 2) on
//     CUDA cores in fp32, stages 3 .. 5 as learned 16 x 16 complex products on mma.sync m16n8k16, bf16 / fp16 operands,
//     fp32 accumulation, monarch.cuh's tiles; each stage * 1/R_s), THE PAIR MAP (the partner of (k1, k_in) is
//     (0, (8192 - k_in) mod 8192) at k1 = 0, else (N1 - k1, 8191 - k_in): within the block), the inner inverse chain
//     (G_5 .. G_2 with conj twiddles) -> back to S.
//   lp3_outer_inv (pass 3, CUDA cores, fp32): per column q, V[k1] = S[k1][q] w_M^(-k1 q), E[n1] = sum_k1 G_1[n1][k1] V[k1]
//     (LEFT), out[2m] = Re E + D x[2m], out[2m+1] = Im E + D x[2m+1] (m = 8192 n1 + q; indices < L).
// The 1/M of the inverse goes with the forward stages (1/N1 in pass 1, 1/8192 over the inner stages): the chain is
// real-linear, and 16-bit MMA operands stay in the input's range. The kernels do not know whether they run y or du: the
// Java side passes the forward's mats and (P, Q), or the adjoint's (lp3_prep's adj, {conj P_p, Q_s(p)}).
// Scratch in fp32 (8 bytes a point, not 16-bit): each pass's output is rounded once more at 16 bits otherwise (2^-9 in
// bf16 on top of the MMA operand rounding) and the learned blocks are not unitary, so fp32 keeps the error budget to the
// operand rounding; the cost is twice the scratch traffic (PackedThreePass chunks rows to a scratch budget).
// The fragment builders and the stage loops of pass 2 are learned_mon.cuh's, shared with pkjtc's
// learned_pm.cu (helper pkjdedup folded the two copies into it, machine code unchanged). Helper dd1 (session 18) made
// this file's pass-2 prologue (P3Mid), pair map (p3_pairmap) and outer passes (p3_outer_fwd / p3_outer_inv, scratch
// element SC) the ones learned_p3b.cu's kernels use too (machine code of every kernel unchanged).
// LP3_PAIRS (written in session 24, run and made the default in session 25, BENCH-RESULTS round 37-s25): this file's planes
// (and those of the files that include it: learned_p3b.cu, learned_p3g.cu) padded 2 elements per 64 instead of 1 per 32 (the same size: 2 (n / 64) = n / 32), so elements 2 m, 2 m + 1
// share a 32-bit word and the 16-bit middles move them in pairs (monarch.cuh st_pair / ld_pair: tiles_a's stores, the type-B
// loads and stores, the row loads and stores, the Grams' plane reads); the bank model bench-runs/s23/planes.py predicted -45 % of
// the middles' 16-bit shared wavefronts, ncu measured -44 % (lp3g_q3bmid0, 16K: 310 -> 173 M). LP3_PAIRS=0: SIDX as FlashButterfly's.
#ifndef LP3_PAIRS
#define LP3_PAIRS 1
#endif
#if LP3_PAIRS
#define SIDX(i) ((i) + 2 * ((i) >> 6))
#define SIDX_PAIRS 1
#endif
#include "learned_mon.cuh"
#include "scratch_io.cuh"   // ldc / stc: the outer passes' scratch elements (float2 here, 16-bit pairs in learned_p3b.cu)

constexpr int P3_IN = 8192, P3_LIN = 13;   // the inner (middle) transform size and its log2

// One radix-2 pair (x0, x1) = points (c, c + 4096) of a row, in place (p3_stage2, learned_p3b.cu's fused stage 2; a the
// 2 x 2 left-form matrix): FWD y = a x, y1 *= (tc, ts) (k = 0: twiddle 1; k = 1: w^c), both * scale; inverse x1 *= (tc, ts)
// first (the caller passes conj(w^c)), then y = a x.
template <bool FWD>
__device__ __forceinline__ void p3_bfly2(const float2* a, float tc, float ts, float& xr0, float& xi0, float& xr1,
                                         float& xi1, float scale) {
  if (!FWD) { const float p = xr1 * tc - xi1 * ts, q = xr1 * ts + xi1 * tc; xr1 = p; xi1 = q; }
  float yr[2], yi[2];
#pragma unroll
  for (int k = 0; k < 2; ++k) {
    const float2 w0 = a[2 * k], w1 = a[2 * k + 1];
    yr[k] = fmaf(w0.x, xr0, fmaf(-w0.y, xi0, fmaf(w1.x, xr1, -w1.y * xi1)));
    yi[k] = fmaf(w0.x, xi0, fmaf(w0.y, xr0, fmaf(w1.x, xi1, w1.y * xr1)));
  }
  if (FWD) {
    const float p = yr[1] * tc - yi[1] * ts, q = yr[1] * ts + yi[1] * tc;
    yr[1] = p; yi[1] = q;
    yr[0] *= scale; yi[0] *= scale; yr[1] *= scale; yi[1] *= scale;
  }
  xr0 = yr[0]; xi0 = yi[0]; xr1 = yr[1]; xi1 = yi[1];
}

// Inner stage 2 (R = 2, stride 4096, M_2 = 8192) of both rows in fp32 on CUDA cores; a the 2 x 2 left-form matrix
// (shared). FWD: y[k] = sum_r a[k][r] x[r], then * w_8192^(k c) * scale; inverse: x[1] *= conj(w_8192^c) first.
template <bool FWD, typename ST>
__device__ void p3_stage2(const TwP& T, const float2* a, ST* zr, ST* zi, float scale) {
  for (int i = threadIdx.x; i < 2 * (P3_IN / 2); i += blockDim.x) {
    const int c = i & (P3_IN / 2 - 1), base = (i >> (P3_LIN - 1)) << P3_LIN;
    const int i0 = SIDX(base + c), i1 = SIDX(base + c + P3_IN / 2);
    float xr0 = ld(zr + i0), xi0 = ld(zi + i0), xr1 = ld(zr + i1), xi1 = ld(zi + i1);
    float tc, ts; twiddle<true>(T, c, P3_LIN, FWD ? -1.0f : 1.0f, tc, ts);
    p3_bfly2<FWD>(a, tc, ts, xr0, xi0, xr1, xi1, scale);
    st(zr + i0, xr0); st(zi + i0, xi0); st(zr + i1, xr1); st(zi + i1, xi1);
  }
}

// Inner position of inner frequency k (digits k2 = k mod 2, then base 16) and its inverse.
__host__ __device__ __forceinline__ int p3_pos(int k) {
  return ((k & 1) << 12) | (((k >> 1) & 15) << 8) | (((k >> 5) & 15) << 4) | ((k >> 9) & 15);
}
__host__ __device__ __forceinline__ int p3_freq(int p) {
  return (p >> 12) | (((p >> 8) & 15) << 1) | (((p >> 4) & 15) << 5) | ((p & 15) << 9);
}

// Dynamic shared memory of lp3_middle: two planes of 2 x 8192 + pads of ST, the twiddle table of 8192, two 2 x 2 matrices.
constexpr int P3_PLANE = 2 * P3_IN + (2 * P3_IN) / 32;
__host__ __device__ constexpr int p3_smem(int stBytes) { return 2 * P3_PLANE * stBytes + 8 * twp_entries(P3_IN) + 8 * 8; }

// out = P C[p] + Q conj(C[partner]) for one position (c = {Re P, Im P, Re Q, Im Q}).
__device__ __forceinline__ float2 p3_pair(float4 c, float ar, float ai, float br, float bi) {
  return make_float2(c.x * ar - c.y * ai + c.z * br + c.w * bi, c.x * ai + c.y * ar - c.z * bi + c.w * br);
}

// One pair of plane indices a, b in place (a == b: a fixed point, stored once): each gets p3_pair of its own coefficients
// (ca of a, cb of b), itself and its partner.
template <typename ST>
__device__ __forceinline__ void p3_pair_ab(ST* zr, ST* zi, int a, int b, float4 ca, float4 cb) {
  const int ia = SIDX(a), ib = SIDX(b);
  const float ar = ld(zr + ia), ai = ld(zi + ia), br = ld(zr + ib), bi = ld(zi + ib);
  const float2 na = p3_pair(ca, ar, ai, br, bi), nb = p3_pair(cb, br, bi, ar, ai);
  st(zr + ia, na.x); st(zi + ia, na.y);
  if (b != a) { st(zr + ib, nb.x); st(zi + ib, nb.y); }
}

// Chunk slot c (blockIdx.y) of a chunk of channels h0 .. : channel h0 + c / B, batch c % B (the B rows of one channel
// adjacent in launch order: its P / Q come from HBM once, then from L2); global row b H + h.
__device__ __forceinline__ long long p3_row(int c, int h0, int B, int H, int& h) {
  h = h0 + c / B;
  return (long long)(c % B) * H + h;
}

// Pass 2's block setup (lp3_middle, learned_p3b.cu's lp3_mid16 / lp3_mid16w): block (j, chunk slot rowc) of grid (N1 / 2,
// rows of the chunk) takes inner rows ka = j, kb = N1 - j (j = 0: 0 and N1 / 2) of channel h; their scratch offsets oa, ob
// (elements, set by start); the planes zr, zi (ST) at the start of dynamic shared memory smem, then the twiddle table tw
// of 8192, then s2: the forward and inverse stage-2 matrices (2 x 2 each), which start copies from mats (Q = N1^2 + 4 +
// 768 float2 a chain).
template <typename ST>
struct P3Mid {
  int N1, j, T, h, ka, kb, q1, Q;
  long long rowc, oa, ob;
  ST* zr;
  ST* zi;
  TwP tw;   // monarch.cuh's padded table (session 23)
  float2* s2;
  __device__ __forceinline__ P3Mid(unsigned char* smem, int h0, int B, int H, int lN1) {
    N1 = 1 << lN1; j = blockIdx.x; T = blockDim.x;
    rowc = blockIdx.y;
    p3_row(blockIdx.y, h0, B, H, h);
    ka = j == 0 ? 0 : j; kb = j == 0 ? N1 / 2 : N1 - j;
    zr = reinterpret_cast<ST*>(smem);
    zi = zr + P3_PLANE;
    constexpr int PB = 2 * P3_PLANE * (int)sizeof(ST);   // a multiple of 16
    tw = twp_init(reinterpret_cast<float2*>(smem + PB), P3_LIN);
    s2 = reinterpret_cast<float2*>(smem + PB + 8 * twp_entries(P3_IN));
    q1 = N1 * N1; Q = q1 + 4 + 768;
  }
  // the stage-2 matrices from mats to s2, then the rows' offsets oa, ob (in this order: the kernels' machine code)
  __device__ __forceinline__ void start(const float2* __restrict__ mats) {
    if (threadIdx.x < 8) s2[threadIdx.x] = mats[(threadIdx.x < 4 ? q1 : Q + q1 - 4) + threadIdx.x];
    oa = (rowc * N1 + ka) * P3_IN; ob = (rowc * N1 + kb) * P3_IN;
  }
};

// The pair map in place (lp3_middle, lp3_mid16): row a = planes [0, 8192) (inner row ka), row b = [8192, 16384) (kb);
// c: the channel's (P, Q). V pairs per thread with their coefficients loaded first (in flight together).
template <typename ST>
__device__ __forceinline__ void p3_pairmap(ST* zr, ST* zi, const float4* __restrict__ c, int j, int ka, int kb, int N1) {
  const int T = blockDim.x;
  constexpr int V = 4;
  if (j != 0) {   // (ka, p) <-> (kb, 8191 - k_in): each position of row a once, its partner in row b
    for (int p0 = threadIdx.x; p0 < P3_IN; p0 += V * T) {
      float4 ca[V], cb[V];
      int qq[V];
#pragma unroll
      for (int u = 0; u < V; ++u) {
        const int p = p0 + u * T;
        qq[u] = p3_pos(P3_IN - 1 - p3_freq(p & (P3_IN - 1)));
        if (p < P3_IN) { ca[u] = c[(ka << P3_LIN) + p]; cb[u] = c[(kb << P3_LIN) + qq[u]]; }
      }
#pragma unroll
      for (int u = 0; u < V; ++u) {
        const int p = p0 + u * T;
        if (p >= P3_IN) continue;
        const int ia = SIDX(p), ib = SIDX(P3_IN + qq[u]);
        const float ar = ld(zr + ia), ai = ld(zi + ia), br = ld(zr + ib), bi = ld(zi + ib);
        const float2 na = p3_pair(ca[u], ar, ai, br, bi), nb = p3_pair(cb[u], br, bi, ar, ai);
        st(zr + ia, na.x); st(zi + ia, na.y); st(zr + ib, nb.x); st(zi + ib, nb.y);
      }
    }
  } else {        // rows 0 and N1 / 2 pair within themselves: the thread of the lower inner position does the pair
    for (int i = threadIdx.x; i < 2 * P3_IN; i += T) {
      const int r = i >> P3_LIN, p = i & (P3_IN - 1), f = p3_freq(p);
      const int q = p3_pos(r == 0 ? (P3_IN - f) & (P3_IN - 1) : P3_IN - 1 - f);
      if (q < p) continue;
      const int k1 = r == 0 ? 0 : N1 / 2;
      const float4 ca = c[(k1 << P3_LIN) + p], cb = c[(k1 << P3_LIN) + q];
      p3_pair_ab(zr, zi, r * P3_IN + p, r * P3_IN + q, ca, cb);
    }
  }
}

// Session 30: the middles call learned_p3_pairs.cuh's enumerated forms of p3_pairmap1 / 4 / q / 2k (below); these stay as
// their twins (learned_p3pm.cu's check kernel, PackedPairMapGpuTest: the same planes bit for bit).
// The pair map of two one-pass rows of M = 8192 (learned_p3b.cu's ONE hooks; session 21): row a = planes [0, 8192) with
// channel coefficients ca, row b = [8192, 16384) with cb, each paired within itself as inner row 0 (partner pos((8192 -
// k) mod 8192)); the thread of the lower position does the pair, as p3_pairmap's j = 0 branch.
template <typename ST>
__device__ __forceinline__ void p3_pairmap1(ST* zr, ST* zi, const float4* __restrict__ ca, const float4* __restrict__ cb) {
  for (int i = threadIdx.x; i < 2 * P3_IN; i += blockDim.x) {
    const int r = i >> P3_LIN, p = i & (P3_IN - 1), q = p3_pos((P3_IN - p3_freq(p)) & (P3_IN - 1));
    if (q < p) continue;
    const float4* c = r == 0 ? ca : cb;
    const float4 cp = c[p], cq = c[q];
    p3_pair_ab(zr, zi, r * P3_IN + p, r * P3_IN + q, cp, cq);
  }
}

// Lib's position / frequency maps of M = 4096 = 16 x 16 x 16 (p = k1 256 + k2 16 + k3, k = k1 + 16 (k2 + 16 k3)).
__host__ __device__ __forceinline__ int p3_pos4(int k) { return ((k & 15) << 8) | (((k >> 4) & 15) << 4) | (k >> 8); }
__host__ __device__ __forceinline__ int p3_freq4(int p) { return (p >> 8) | (((p >> 4) & 15) << 4) | ((p & 15) << 8); }

// The pair map of four one-pass rows of M = 4096 (learned_p3b.cu's ONE = 4 hooks; session 21): plane row r = [4096 r,
// 4096 (r + 1)) is chunk row c0 + r of channel min(h0 + (c0 + r) / B, H - 1) (a padding row past the chunk holds zeros),
// each paired within itself (partner pos4((4096 - k) mod 4096)); the thread of the lower position does the pair.
template <typename ST>
__device__ __forceinline__ void p3_pairmap4(ST* zr, ST* zi, const float4* __restrict__ pq, int h0, int B, int H, int c0) {
  for (int i = threadIdx.x; i < 4 * 4096; i += blockDim.x) {
    const int r = i >> 12, p = i & 4095, q = p3_pos4((4096 - p3_freq4(p)) & 4095);
    if (q < p) continue;
    const float4* c = pq + ((size_t)min(h0 + (c0 + r) / B, H - 1) << 12);
    const float4 cp = c[p], cq = c[q];
    p3_pair_ab(zr, zi, r * 4096 + p, r * 4096 + q, cp, cq);
  }
}

// ---- session 22: the one-pass M = 16384 / 32768 backwards as three passes with N1 = 4 / 8 and an inner 4096 ----------
// Lib's one-pass factors there are {N1, 16, 16, 16}: the outer N1 x N1 block, then the 4096-point inner transform of the
// middle's radix-16 stages (M = 4096's, p3_pos4). A row's N1 inner rows of 4096 sit in the scratch in PAIR ORDER: slot
// 2 j holds inner row j and slot 2 j + 1 row N1 - j (j = 0: rows 0 and N1 / 2), so that a middle block's four slots
// 4 x .. 4 x + 3 (x = blockIdx.x) are two whole row pairs, contiguous (learned_p3b.cu's ONE = 5 hooks).
// p3_qslot: the slot of inner row k1; p3_qrow: the inner row of slot t (its inverse).
__host__ __device__ __forceinline__ int p3_qslot(int k1, int N1) {
  if (k1 == 0) return 0;
  if (2 * k1 == N1) return 1;
  return 2 * min(k1, N1 - k1) + (2 * k1 > N1 ? 1 : 0);
}
__host__ __device__ __forceinline__ int p3_qrow(int t, int N1) {
  const int j = t >> 1;
  return j == 0 ? ((t & 1) ? N1 / 2 : 0) : ((t & 1) ? N1 - j : j);
}

// The pair map of one such block (planes [4][4096]: slot 4 x + s at [4096 s, 4096 (s + 1))) in place; c: the channel's
// (P, Q) at positions k1 4096 + p. The partner of (k1, p) is (0, pos4((4096 - k) mod 4096)) at k1 = 0, else (N1 - k1,
// 4095 - p) (every digit complemented): slot 0 and slot 1 (row N1 / 2) of block 0 pair within themselves, every other
// slot with its neighbour t ^ 1. The thread of the lower plane index does the pair, as p3_pairmap4.
template <typename ST>
__device__ __forceinline__ void p3_pairmapq(ST* zr, ST* zi, const float4* __restrict__ c, int N1, int x) {
  for (int i = threadIdx.x; i < 4 * 4096; i += blockDim.x) {
    const int s = i >> 12, p = i & 4095, t = 4 * x + s, self = (t >> 1) == 0;
    const int ps = self ? s : s ^ 1, q = self && s == 0 ? p3_pos4((4096 - p3_freq4(p)) & 4095) : 4095 - p;
    const int ib0 = (ps << 12) + q;
    if (ib0 < i) continue;
    const float4 cp = c[(p3_qrow(t, N1) << 12) + p], cq = c[(p3_qrow(4 * x + ps, N1) << 12) + q];
    p3_pair_ab(zr, zi, i, ib0, cp, cq);
  }
}

// ---- session 22: the one-pass M = 2048 backward (lib's {8, 16, 16}) as three passes with N1 = 8 and an inner 256 -------
// The inner 256 = 16 x 16 is the middle's stages 4 and 5 (stage 3 skipped: each 256-point piece of the plane transforms on
// its own, twiddles w_256); a middle block takes 8 chunk rows (8 x 2048 points), each row's 8 inner rows of 256 in pair
// order (p3_qslot with N1 = 8). p3_pos2 / p3_freq2: lib's position / frequency maps of 256 = 16 x 16 (an involution).
__host__ __device__ __forceinline__ int p3_pos2(int k) { return ((k & 15) << 4) | (k >> 4); }

// The pair map of such a block in place: plane index i = r 2048 + t 256 + p is chunk row c0 + r (channel min(h0 + (c0 + r)
// / B, H - 1); a padding row past the chunk holds zeros), slot t (inner row p3_qrow(t, 8)), position p. The partner of
// (k1, p) is (0, pos2((256 - k) mod 256)) at k1 = 0, else (8 - k1, 255 - p): slots 0 and 1 (rows 0 and 4) pair within
// themselves, the others with t ^ 1, all within the row. The thread of the lower plane index does the pair.
template <typename ST>
__device__ __forceinline__ void p3_pairmap2k(ST* zr, ST* zi, const float4* __restrict__ pq, int h0, int B, int H, int c0) {
  for (int i = threadIdx.x; i < 8 * 2048; i += blockDim.x) {
    const int r = i >> 11, t = (i >> 8) & 7, p = i & 255, self = (t >> 1) == 0;
    const int ps = self ? t : t ^ 1, q = self && t == 0 ? p3_pos2((256 - p3_pos2(p)) & 255) : 255 - p;
    const int ib0 = (r << 11) + (ps << 8) + q;
    if (ib0 < i) continue;
    const float4* c = pq + ((size_t)min(h0 + (c0 + r) / B, H - 1) << 11);
    const float4 cp = c[(p3_qrow(t, 8) << 8) + p], cq = c[(p3_qrow(ps, 8) << 8) + q];
    p3_pair_ab(zr, zi, i, ib0, cp, cq);
  }
}

// Grid (N1 / 2, rows of the chunk), block T threads (a multiple of 32, <= 512), dynamic shared memory p3_smem(sizeof(ST)).
// ST: float (fp32 planes, one block per SM) or the operand type (16-bit planes: each stage's output rounded to 16 bits
// once more, three blocks per SM).
template <bool BF16, typename ST>
__device__ void p3_middle(float2* __restrict__ S, const float2* __restrict__ mats, const float4* __restrict__ pq, int h0,
                          int B, int H, int lN1) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  P3Mid<ST> b(smem_raw, h0, B, H, lN1);
  const int T = b.T, q1 = b.q1;
  ST* zr = b.zr;
  ST* zi = b.zi;
  const TwP& tw = b.tw;
  b.start(mats);
  float2* ra = S + b.oa;
  float2* rb = S + b.ob;
  // load: two points (16 bytes) per access, rows a (v < 4096) and b; U accesses in flight per thread
  constexpr int U = 8;
  for (int v0 = threadIdx.x; v0 < P3_IN; v0 += U * T) {
    float4 w[U];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int v = v0 + u * T;
      if (v < P3_IN) w[u] = *reinterpret_cast<const float4*>(((v >> (P3_LIN - 1)) ? rb : ra) + 2 * (v & (P3_IN / 2 - 1)));
    }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int v = v0 + u * T;
      if (v < P3_IN) {
        const int o = (v >> (P3_LIN - 1)) * P3_IN + 2 * (v & (P3_IN / 2 - 1));
        st(zr + SIDX(o), w[u].x); st(zi + SIDX(o), w[u].y); st(zr + SIDX(o + 1), w[u].z); st(zi + SIDX(o + 1), w[u].w);
      }
    }
  }
  __syncthreads();
  // inner forward chain: stage 2 (R = 2, CUDA cores), stages 3, 4 (strided), stage 5 (contiguous); each * 1/R_s
  p3_stage2<true, ST>(tw, b.s2, zr, zi, 0.5f);
  __syncthreads();
  lm_stage_a<BF16, true, ST, TwP, true>(tw, mats + q1 + 4, zr, zi, 8, 4, 1.0f / 16.0f);
  __syncthreads();
  lm_stage_a<BF16, true, ST, TwP, true>(tw, mats + q1 + 260, zr, zi, 4, 64, 1.0f / 16.0f);
  __syncthreads();
  lm_stage_b<BF16, ST>(mats + q1 + 516, zr, zi, 2 * P3_IN, 1.0f / 16.0f);
  __syncthreads();
  p3_pairmap<ST>(zr, zi, pq + (size_t)b.h * ((size_t)b.N1 << P3_LIN), b.j, b.ka, b.kb, b.N1);
  __syncthreads();
  // inner inverse chain: stage 5 (contiguous, no twiddle), stages 4, 3 (conj twiddle, then the matrix), stage 2
  const float2* im = mats + b.Q;
  lm_stage_b<BF16, ST>(im + q1 + 516, zr, zi, 2 * P3_IN, 1.0f);
  __syncthreads();
  lm_stage_a<BF16, false, ST, TwP, true>(tw, im + q1 + 260, zr, zi, 4, 64, 1.0f);
  __syncthreads();
  lm_stage_a<BF16, false, ST, TwP, true>(tw, im + q1 + 4, zr, zi, 8, 4, 1.0f);
  __syncthreads();
  p3_stage2<false, ST>(tw, b.s2 + 4, zr, zi, 1.0f);
  __syncthreads();
  for (int v = threadIdx.x; v < P3_IN; v += T) {
    const int half = v >> (P3_LIN - 1), m = 2 * (v & (P3_IN / 2 - 1)), o = half * P3_IN + m;
    *reinterpret_cast<float4*>((half ? rb : ra) + m) =
        make_float4(ld(zr + SIDX(o)), ld(zi + SIDX(o)), ld(zr + SIDX(o + 1)), ld(zi + SIDX(o + 1)));
  }
}

// The N1 x N1 left-form block at m (F_1 or G_1) to shared memory (g4: two entries, 16 bytes, per float4). Ends with a
// barrier.
template <int N1>
__device__ __forceinline__ void p3_stage_block(float4 (&g4)[N1 * N1 / 2], const float2* __restrict__ m) {
  for (int i = threadIdx.x; i < N1 * N1; i += blockDim.x) reinterpret_cast<float2*>(g4)[i] = m[i];
  __syncthreads();
}

// Row k of the block times the vector (vr, vi): (yr, yi) = sum_n A[k][n] (vr[n], vi[n]), two entries (one broadcast
// float4) a step. NZ (session 32, even): only n < NZ, for a vector whose entries n >= NZ are zero (the causal padding): the
// same fmaf chain cut where only zero products would follow, so the same value (x + (+-0) = x; at most the sign of an exact 0).
template <int N1, int NZ = N1>
__device__ __forceinline__ void p3_block_row(const float4 (&g4)[N1 * N1 / 2], int k, const float (&vr)[N1],
                                             const float (&vi)[N1], float& yr, float& yi) {
  static_assert(NZ % 2 == 0 && NZ <= N1, "NZ: an even count of leading entries");
  yr = 0.f; yi = 0.f;
#pragma unroll
  for (int n = 0; n < NZ; n += 2) {
    const float4 w = g4[(k * N1 + n) >> 1];   // A[k][n], A[k][n + 1]
    yr = fmaf(w.x, vr[n], fmaf(-w.y, vi[n], fmaf(w.z, vr[n + 1], fmaf(-w.w, vi[n + 1], yr))));
    yi = fmaf(w.x, vi[n], fmaf(w.y, vr[n], fmaf(w.z, vi[n + 1], fmaf(w.w, vr[n + 1], yi))));
  }
}

// Pass 1's column q (of IN) of row xr (L values): y[k] = w_M^(k q) / N1 sum_n F_1[k][n] pack(x)[n IN + q], M = N1 IN (session
// 28: split out of p3_outer_fwd for learned_p3g_x.cuh's M = 16384 middles loading through pass 1; the same expressions).
// p3_outer_fwd_load: the column's N1 packed values pack(x)[n IN + q] (zeros past L); p3_outer_fwd_col: the outputs from them,
// each given to put(k, re, im) as it is computed.
// NZ (session 32): where L <= NZ IN 2 (causal / bidirectional rows at M = N1 IN with NZ = N1 / 2) the entries n >= NZ are
// the zero padding: not loaded (zeros) and left out of the products (p3_block_row's NZ): the same values as NZ = N1.
template <int N1, int IN, typename IO, int NZ = N1>
__device__ __forceinline__ void p3_outer_fwd_load(const IO* __restrict__ xr, int L, int q, float (&ar)[N1], float (&ai)[N1]) {
#pragma unroll
  for (int n = 0; n < N1; ++n) {
    const int i = 2 * (n * IN + q);
    ar[n] = n < NZ && i < L ? ld(xr + i) : 0.f;
    ai[n] = n < NZ && i + 1 < L ? ld(xr + i + 1) : 0.f;
  }
}
template <int N1, int IN, int NZ = N1, typename Put>
__device__ __forceinline__ void p3_outer_fwd_col(const float4 (&f4)[N1 * N1 / 2], const float (&ar)[N1], const float (&ai)[N1], int q,
                                                 Put put) {
  // w_M^q, M = N1 8192; the k1-th twiddle w_M^(k1 q) by a running product (fp32: ~k1 ulp)
  float ws, wc; sincospif(-2.0f * (float)q / (float)(N1 * IN), &ws, &wc);
  float tr = 1.0f / (float)N1, ti = 0.f;
#pragma unroll
  for (int k = 0; k < N1; ++k) {
    float a, b;
    p3_block_row<N1, NZ>(f4, k, ar, ai, a, b);
    put(k, a * tr - b * ti, a * ti + b * tr);   // output k (re, im)
    const float nr = tr * wc - ti * ws, ni = tr * ws + ti * wc;
    tr = nr; ti = ni;
  }
}

// Pass 1: grid (8192 / 256, rows of the chunk), block 256; F_1 (N1 x N1, left form) at mats[0], staged in shared memory
// and read two entries (16 bytes, a broadcast) at a time. SC: the scratch element (float2 here; learned_p3b.cu's
// lp3_outer16_*: 16-bit pairs, each value rounded once at the store). LIN (session 22): log2 of the inner size; 12: the
// one-pass M = 16384 / 32768 backward's (grid (4096 / 256, rows), inner row k1 stored at slot p3_qslot(k1), pair order).
template <int LIN>
__device__ __forceinline__ int p3_oslot(int k1, int N1) { return LIN == P3_LIN ? k1 : p3_qslot(k1, N1); }
// CZ (session 32; learned_p3g.cu's lp3g_outerq_fwd8, M = 32768): where L <= M the column's entries n >= N1 / 2 are the zero
// padding, so NZ = N1 / 2 (p3_outer_fwd_col's; the same values). The others keep NZ = N1: they are the twins of the M = 2048 /
// 16384 middles that load through pass 1 with NZ = N1 / 2 (PackedInnerBwdGpuTest: the same bits).
template <int N1, typename IO, typename SC, int LIN = P3_LIN, bool CZ = false>
__device__ void p3_outer_fwd(const IO* __restrict__ x, const float2* __restrict__ mats, SC* __restrict__ S, int L,
                             int h0, int B, int H) {
  constexpr int IN = 1 << LIN;
  __shared__ float4 f4[N1 * N1 / 2];
  p3_stage_block<N1>(f4, mats);
  const int q = blockIdx.x * blockDim.x + threadIdx.x;
  const long long rowc = blockIdx.y;
  int h; const long long row = p3_row(blockIdx.y, h0, B, H, h);
  float ar[N1], ai[N1];
  SC* o = S + rowc * (N1 * IN) + q;
  auto put = [&](int k, float yr, float yi) { stc(o + p3_oslot<LIN>(k, N1) * IN, yr, yi); };
  if (CZ && L <= N1 * IN) {
    p3_outer_fwd_load<N1, IN, IO, N1 / 2>(x + row * (long long)L, L, q, ar, ai);
    p3_outer_fwd_col<N1, IN, N1 / 2>(f4, ar, ai, q, put);
  } else {
    p3_outer_fwd_load<N1, IN, IO>(x + row * (long long)L, L, q, ar, ai);
    p3_outer_fwd_col<N1, IN>(f4, ar, ai, q, put);
  }
}

// Pass 3's column q (session 28: split out for learned_p3g_x.cuh's M = 16384 last middle writing du itself; the same
// expressions): p3_outer_inv_tw, the slots' values v[k] times conj(w_M^(k q)) in place (a running product); p3_outer_inv_out,
// out[2 (n IN + q) (+1)] = D x + (G_1 v)[n] (re, im; indices < L).
template <int N1, int IN>
__device__ __forceinline__ void p3_outer_inv_tw(int q, float (&vr)[N1], float (&vi)[N1]) {
  float ws, wc; sincospif(2.0f * (float)q / (float)(N1 * IN), &ws, &wc);   // conj(w_M^q)
  float tr = 1.0f, ti = 0.f;
#pragma unroll
  for (int k = 0; k < N1; ++k) {
    const float xr = vr[k], xi = vi[k];
    vr[k] = xr * tr - xi * ti; vi[k] = xr * ti + xi * tr;
    const float nr = tr * wc - ti * ws, ni = tr * ws + ti * wc;
    tr = nr; ti = ni;
  }
}
template <int N1, int IN, typename IO>
__device__ __forceinline__ void p3_outer_inv_out(const float4 (&g4)[N1 * N1 / 2], const float (&vr)[N1], const float (&vi)[N1],
                                                 const IO* __restrict__ xr, IO* __restrict__ orow, float d, int L, int q) {
#pragma unroll
  for (int n = 0; n < N1; ++n) {
    if (2 * n * IN >= L) break;   // session 32: rows wholly past L (the causal crop) not computed: nothing of theirs is stored
    float er, ei;
    p3_block_row<N1>(g4, n, vr, vi, er, ei);
    const int i = 2 * (n * IN + q);
    if (i < L) st(orow + i, fmaf(d, ld(xr + i), er));
    if (i + 1 < L) st(orow + i + 1, fmaf(d, ld(xr + i + 1), ei));
  }
}

// Pass 3: grid (8192 / 256, rows of the chunk), block 256; G_1 (N1 x N1, left form) at mats[Q], read as pass 1 reads F_1;
// LIN as pass 1's (inner row k1 read from slot p3_qslot(k1) at 12).
template <int N1, typename IO, typename SC, int LIN = P3_LIN>
__device__ void p3_outer_inv(const SC* __restrict__ S, const float2* __restrict__ mats, const IO* __restrict__ x,
                             const float* __restrict__ D, IO* __restrict__ out, int L, int h0, int B, int H) {
  constexpr int IN = 1 << LIN;
  __shared__ float4 g4[N1 * N1 / 2];
  const int Q = N1 * N1 + 4 + 768;
  p3_stage_block<N1>(g4, mats + Q);
  const int q = blockIdx.x * blockDim.x + threadIdx.x;
  const long long rowc = blockIdx.y;
  int h; const long long row = p3_row(blockIdx.y, h0, B, H, h);
  const SC* s = S + rowc * (N1 * IN) + q;
  float vr[N1], vi[N1];
#pragma unroll
  for (int k = 0; k < N1; ++k) {
    const float2 v = ldc(s + p3_oslot<LIN>(k, N1) * IN);
    vr[k] = v.x; vi[k] = v.y;
  }
  p3_outer_inv_tw<N1, IN>(q, vr, vi);
  p3_outer_inv_out<N1, IN, IO>(g4, vr, vi, x + row * (long long)L, out + row * (long long)L, D[h], L, q);
}

#ifndef LP3_HELPERS_ONLY   // learned_p3b.cu includes this file for its device code only (no kernels twice)
// The left forms of lib's 10 blocks (blk: {F_1 .. F_5, G_5 .. G_1}, fp32 complex (R_s, R_s) row-major back to back;
// R = N1, 2, 16, 16, 16): mats = {F_1, F_2^T .. F_5^T, G_1, G_2^T .. G_5^T} (stage 1 multiplies on the left, stages s >= 2
// on the right: X F = (F^T X^T)^T); adj = the adjoint's {G_1^H, conj(G_2) .. conj(G_5), F_1^H, conj(F_2) .. conj(F_5)}
// (blocks G_s^H in the forward-structured chain, F_s^H in the inverse-structured one; (B^H)^T = conj(B)).
// Grid ceil(2 Q / 256), block 256; Q = N1^2 + 4 + 768 elements per chain. LEFT: the stage that multiplies on the left
// (1; 3 for lp3_prep3, the inner-only plan at M = 4096, session 21: lib's first of {16, 16, 16} sits in the middle's stage 3).
template <int LEFT>
__device__ __forceinline__ void p3_prep(const float2* __restrict__ blk, float2* __restrict__ mats, float2* __restrict__ adj, int lN1) {
  const int q1 = 1 << (2 * lN1), Q = q1 + 4 + 768;
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= 2 * Q) return;
  const int half = i >= Q, e0 = i - half * Q;
  const int s = e0 < q1 ? 1 : e0 < q1 + 4 ? 2 : 3 + (e0 - q1 - 4) / 256;
  const int lR = s == 1 ? lN1 : s == 2 ? 1 : 4;
  const int off = s == 1 ? 0 : s == 2 ? q1 : q1 + 4 + 256 * (s - 3), e = e0 - off;
  const int k = e >> lR, n = e & ((1 << lR) - 1);
  const int offF = off, offG = Q + (Q - off - (1 << (2 * lR)));   // F_s, G_s in blk
  const int kn = (k << lR) + n, nk = (n << lR) + k;
  // forward: half 0 from F_s, half 1 from G_s; adjoint: half 0 from G_s, half 1 from F_s
  const float2 a = blk[(half ? offG : offF) + (s == LEFT ? kn : nk)];
  const float2 b = blk[(half ? offF : offG) + (s == LEFT ? nk : kn)];
  mats[i] = a;
  adj[i] = make_float2(b.x, -b.y);
}
extern "C" __global__ void __launch_bounds__(256) lp3_prep(const float2* __restrict__ blk, float2* __restrict__ mats,
                                                           float2* __restrict__ adj, int lN1) {
  p3_prep<1>(blk, mats, adj, lN1);
}
extern "C" __global__ void __launch_bounds__(256) lp3_prep3(const float2* __restrict__ blk, float2* __restrict__ mats,
                                                            float2* __restrict__ adj, int lN1) {
  p3_prep<3>(blk, mats, adj, lN1);
}

#define LP3_OUTER(N1, TAG, IO)                                                                                          \
  extern "C" __global__ void __launch_bounds__(256) lp3_outer_fwd##N1##_##TAG(const IO* __restrict__ x,                  \
      const float2* __restrict__ mats, float2* __restrict__ S, int L, int h0, int B, int H) {                           \
    p3_outer_fwd<N1, IO, float2>(x, mats, S, L, h0, B, H);                                                                      \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256) lp3_outer_inv##N1##_##TAG(const float2* __restrict__ S,              \
      const float2* __restrict__ mats, const IO* __restrict__ x, const float* __restrict__ D, IO* __restrict__ out,      \
      int L, int h0, int B, int H) {                                                                                    \
    p3_outer_inv<N1, IO, float2>(S, mats, x, D, out, L, h0, B, H);                                                              \
  }
// names: lp3_outer_{fwd,inv}<N1>_<io>
LP3_OUTER(8, bf16, __nv_bfloat16)
LP3_OUTER(16, bf16, __nv_bfloat16)
LP3_OUTER(32, bf16, __nv_bfloat16)
LP3_OUTER(8, f16, __half)
LP3_OUTER(16, f16, __half)
LP3_OUTER(32, f16, __half)

// names: lp3_middle_<operand type>_<shared planes: s32 fp32 (block 512, one per SM), s16 16-bit (block 256, three per SM)>
#define LP3_MIDDLE(NAME, BF, ST, NT, MINB)                                                                              \
  extern "C" __global__ void __launch_bounds__(NT, MINB) NAME(float2* __restrict__ S, const float2* __restrict__ mats,  \
      const float4* __restrict__ pq, int h0, int B, int H, int lN1) {                                                   \
    p3_middle<BF, ST>(S, mats, pq, h0, B, H, lN1);                                                                      \
  }
LP3_MIDDLE(lp3_middle_bf16_s32, true, float, 512, 1)
LP3_MIDDLE(lp3_middle_f16_s32, false, float, 512, 1)
LP3_MIDDLE(lp3_middle_bf16_s16, true, __nv_bfloat16, 256, 3)
LP3_MIDDLE(lp3_middle_f16_s16, false, __half, 256, 3)
#endif   // LP3_HELPERS_ONLY
