// Shapes: as learned_p3b.cu (B batch, H channels, L length; M = N1 * 8192; a chunk's slot c is channel h0 + c / B, batch
// c % B; mats: the 10 left-form blocks; pq (H, M) float4), plus
//   SC, SG : two 16-bit scratches (rows of one chunk, N1, 8192) SC = (re, im) of the I/O type; after lp3g_midA a row holds
//            the pair map's input at position p = k1 8192 + p_in (lib's position order): C of u (forward mats), or g of dy
//            (the adjoint's mats: the gradient at the forward pair map's OUTPUT, lpj_pair_grad's g).
//   gpq    : (H, M) float4 {Re dP_p, Im dP_p, Re dQ_p, Im dQ_p} at position p (PackedLearnedChain.taps' input).
//
// The three-pass packed learned butterfly's backward on tensor cores (helper p3, session 17; PackedThreePassBackward.java;
// slow twin: the fp32 chain, PackedLearnedChain.backward). Backward and forward side by side: the forward (learned_p3b.cu)
// is pass 1, lp3_mid16 (chain, pair map, inverse chain), pass 3; the backward splits lp3_mid16 at its pair map so that both
// operands of the pair map's gradient reach global memory:
//   u : pass 1 (forward mats) -> SC; lp3g_midA (forward mats): SC = C = the forward chain's output / M (the three-pass
//       scaling: 1/N1 in pass 1, 1/8192 over the inner stages).
//   dy: pass 1 (adjoint mats) -> SG; lp3g_midA (adjoint mats): SG = g (the adjoint's forward-structured half carries the
//       1/M: g = dL/dC' of lib's unscaled chain, as lpj_pair_grad's);
//       lp3g_pq_grad: dP_p = M sum_b g_p conj(C_p), dQ_p = M sum_b g_p C_s(p) (M undoes C's 1/M);
//       lp3g_midB (adjoint mats, adjoint pair map {conj P_p, Q_s(p)}): the pair map's adjoint and the adjoint inverse chain;
//       pass 3 (adjoint mats) -> du (+ D dy). lp3g_midA then lp3g_midB is lp3_mid16 bit for bit: the row between them is
//       the 16-bit planes' content, exact in SC.
#define LP3B_HELPERS_ONLY
#include "learned_p3b.cu"

// dP / dQ of positions of a chunk: thread i < hc M is channel h0 + i / M, position p = i % M (partner s(p): (0,
// pos((8192 - k_in) mod 8192)) at k1 = 0, else (N1 - k1, pos(8191 - k_in)), PackedThreePass.kernelPartner); sums over the
// channel's B rows (slots (i / M) B .. + B - 1, adjacent) in fp32, times scale (M).
template <typename SC>
__device__ void p3g_pq_grad(const SC* __restrict__ C, const SC* __restrict__ G, float4* __restrict__ gpq, int h0, int hc, int B,
                            int lN1, float scale) {
  const long long M = (long long)P3_IN << lN1, total = (long long)hc * M;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
    const int cc = (int)(i >> (P3_LIN + lN1)), p = (int)(i & (M - 1)), k1 = p >> P3_LIN, f = p3_freq(p & (P3_IN - 1));
    const int s = k1 == 0 ? p3_pos((P3_IN - f) & (P3_IN - 1)) : (((1 << lN1) - k1) << P3_LIN) + p3_pos(P3_IN - 1 - f);
    float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
    for (int b = 0; b < B; ++b) {
      const size_t row = ((size_t)cc * B + b) * (size_t)M;
      const float2 g = ldc(G + row + p), c = ldc(C + row + p), cs = ldc(C + row + s);
      acc.x += g.x * c.x + g.y * c.y;    // g conj(c)
      acc.y += g.y * c.x - g.x * c.y;
      acc.z += g.x * cs.x - g.y * cs.y;  // g c_s
      acc.w += g.x * cs.y + g.y * cs.x;
    }
    gpq[(size_t)h0 * M + i] = make_float4(scale * acc.x, scale * acc.y, scale * acc.z, scale * acc.w);
  }
}

// ---- helper p3tc (session 18): the 2J block gradients on the three-pass route ----------------------------------------
// Per chunk (each buffer (rows of the chunk, N1, 8192) SC, a chunk's row slot c at c N1 8192, as SC / SG above):
//   X2  : u after pass 1 = X_2, the middle's input (kept: stage 2's Gram reads it);
//   DMP : 8 slots of `slot` elements: 0..2 X_3, X_4, X_5 (the forward stages' inputs), 3 C, 4 C' = V_5, 5..7 W_4, W_3, W_2
//         (the inverse stages' inputs before their conj twiddle: V_s = W_s o conj(T_s));
//   O   : the forward middle's output (pass 3's input: V_1 = O o conj(w_M^(k1 q)));
//   part: (blocks of a launch, 4, 16, 16) float2 per-block Gram partials of the inner stages s = 2 .. 5 (slot s - 2,
//         acc[k][n] = sum G[k][col] conj(X[n][col]), entries k, n < R_s); outer: (blocks, N1, N1) float2.
// Lib's block gradients (PackedLearnedChain.blockGrads): dF_s = sum gY_s[k] conj(X_s[n]), dG_s = sum gW_(s-1)[k] conj(V_s[n])
// over rows and the other indices, stored [k][n] for s = 1 (left products), [n][k] for s >= 2 (right products). The
// kernels' stages carry 1/R_s forward (the three-pass scaling): the X_s here are lib's / (R_1 .. R_(s-1)), the V_s (s >= 2)
// lib's / M and the gW_(s-1) lib's times M / (R_1 .. R_(s-1)); gY_s, gW_0, X_1, V_1 are lib's: every Gram is lib's divided
// by R_1 .. R_(s-1) (1 at s = 1), multiplied back in lp3g_reduce (as learned_pmb.cu's lpmb_reduce).
//   lp3g_bmid_<io> MODE 0 (u, forward mats / pq): the forward middle of lp3_mid16 from X2, each stage input dumped, output to O.
//                  MODE 1 (dy after the adjoint's pass 1, adjoint mats): lp3g_midA's chain with the Grams dG_2 .. dG_5
//                  (gradient operand: the planes before each adjoint stage s, gW_(s-1); the other: W_s / V_5 from DMP);
//                  S = gC' (as lp3g_midA).
//                  MODE 2 (S = gC', adjoint mats and pair map): lp3g_midB's adjoint with the Grams dF_5 .. dF_2 (gradient
//                  operand: the planes before each adjoint inverse stage s times conj(T_s), gY_s; the other X_s from DMP /
//                  X2); S = pass 3's input (as lp3g_midB).
// MODE 1 then MODE 2 on one row is lp3g_midA then lp3g_midB (the same stage code, loads and stores): du is unchanged.
// Gram operands are rounded to the I/O type (the planes and dumps are 16-bit already; twiddled ones once more) as the
// one-pass backward's (learned_pmb.cu pmb_gram); mma.sync m16n8k16 with fp32 accumulation; stage 2 (R = 2) in fp32 on
// CUDA cores in the loads / stores that do that stage.

// One 16-column tile at col0 of a complex Gram on mma.sync: acc[kt][j] += A[k][col] conj(B[n][col]) over the tile, for
// rows k = 16 kt + (g, g + 8) of KT row tiles and columns n = 8 j + g of NJ column halves: A from ga(k, col), B from
// gb(n, col) (float2; the callers give 0 outside their R). Re += Ar Br^T + Ai Bi^T, Im += Ai Br^T - Ar Bi^T. Fragment
// layouts as learned_pmb.cu's pmb_gram (monarch.cuh's FragA / FragB).
template <bool BF16, int KT, int NJ, typename GA, typename GB>
__device__ __forceinline__ void p3g_tile(const GA& ga, const GB& gb, int col0, float (&dr)[KT][NJ][4], float (&di)[KT][NJ][4]) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  uint32_t br[NJ][2], bi[NJ][2], bn[NJ][2];
#pragma unroll
  for (int j = 0; j < NJ; ++j)
#pragma unroll
    for (int q = 0; q < 2; ++q) {
      const int col = col0 + 2 * t + 8 * q;
      const float2 v0 = gb(8 * j + g, col), v1 = gb(8 * j + g, col + 1);
      br[j][q] = pack2<BF16>(v0.x, v1.x); bi[j][q] = pack2<BF16>(v0.y, v1.y); bn[j][q] = pack2<BF16>(-v0.y, -v1.y);
    }
#pragma unroll
  for (int kt = 0; kt < KT; ++kt) {
    uint32_t ar[4], ai[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int k = 16 * kt + g + 8 * (i & 1), col = col0 + 2 * t + 8 * (i >> 1);
      const float2 v0 = ga(k, col), v1 = ga(k, col + 1);
      ar[i] = pack2<BF16>(v0.x, v1.x); ai[i] = pack2<BF16>(v0.y, v1.y);
    }
#pragma unroll
    for (int j = 0; j < NJ; ++j) {
      mma16816<BF16>(dr[kt][j], ar, br[j][0], br[j][1]);
      mma16816<BF16>(dr[kt][j], ai, bi[j][0], bi[j][1]);
      mma16816<BF16>(di[kt][j], ai, br[j][0], br[j][1]);
      mma16816<BF16>(di[kt][j], ar, bn[j][0], bn[j][1]);
    }
  }
}

// The warp's accumulators into acc (shared, R x R float2 at [k R + n]) by shared-memory atomics, entries k, n < R.
template <int KT, int NJ>
__device__ __forceinline__ void p3g_acc(float* acc, int R, const float (&dr)[KT][NJ][4], const float (&di)[KT][NJ][4]) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int kt = 0; kt < KT; ++kt)
#pragma unroll
    for (int j = 0; j < NJ; ++j)
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const int k = 16 * kt + g + 8 * (q >> 1), n = 8 * j + 2 * t + (q & 1);
        if (k < R && n < R) { atomicAdd(acc + 2 * (k * R + n), dr[kt][j][q]); atomicAdd(acc + 2 * (k * R + n) + 1, di[kt][j][q]); }
      }
}

// (c, s) of conj(w_m^e) = exp(+2 pi i e / m) from the middle's table (m = 2^lm <= 8192, e < m).
__device__ __forceinline__ float2 p3g_cw(const Tw& T, int e, int lm) {
  float c, s; twiddle<true>(T, e, lm, 1.0f, c, s);
  return make_float2(c, s);
}
__device__ __forceinline__ float2 p3g_mul(float2 a, float2 b) { return make_float2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }

// One inner stage's Gram (R = 16, axis stride S = 2^lS: 3 -> 8, 4 -> 4, 5 -> 0) over the block's two rows (1024 columns):
// acc[k][n] += sum G[k][col] conj(X[n][col]), element (k, col) at plane index p = ((col >> lS) << (lS + 4)) + k S + (col & (S - 1));
// G from the planes (times conj(T_s) when twG), X from the dump rows xa (p < 8192) / xb (times conj(T_s) when twX); T_s
// = w_(16 S)^(k c). Ends without a barrier (the atomics into acc).
template <bool BF16, typename ST, typename SC>
__device__ void p3g_gram16(const Tw& T, const ST* zr, const ST* zi, const SC* xa, const SC* xb, int lS, bool twG, bool twX, float* acc) {
  const int S = 1 << lS, lMs = lS + 4, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  auto pos = [&](int k, int col) { return ((col >> lS) << lMs) + k * S + (col & (S - 1)); };
  auto ga = [&](int k, int col) {
    const int p = pos(k, col);
    float2 v = make_float2(ld(zr + SIDX(p)), ld(zi + SIDX(p)));
    if (twG) v = p3g_mul(v, p3g_cw(T, (k * (col & (S - 1))) & ((1 << lMs) - 1), lMs));
    return v;
  };
  auto gb = [&](int n, int col) {
    const int p = pos(n, col);
    float2 v = ldc((p >> P3_LIN ? xb : xa) + (p & (P3_IN - 1)));
    if (twX) v = p3g_mul(v, p3g_cw(T, (n * (col & (S - 1))) & ((1 << lMs) - 1), lMs));
    return v;
  };
  float dr[1][2][4] = {}, di[1][2][4] = {};
  for (int tile = warp; tile < 2 * P3_IN / 16 / 16; tile += nw) p3g_tile<BF16, 1, 2>(ga, gb, tile << 4, dr, di);
  p3g_acc<1, 2>(acc, 16, dr, di);
}

// Block barrier, acc (float2 in shared memory, n entries) to out and zeroed for the next Gram, block barrier.
__device__ __forceinline__ void p3g_flush(float* acc, float2* __restrict__ out, int n) {
  __syncthreads();
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    out[i] = make_float2(acc[2 * i], acc[2 * i + 1]);
    acc[2 * i] = 0.f; acc[2 * i + 1] = 0.f;
  }
  __syncthreads();
}

// Stage 2's Gram terms of one radix-2 column: acc2 (4 float2 = [k][n], k, n < 2) += a_k conj(b_n).
__device__ __forceinline__ void p3g_gram2(float (&acc2)[8], float2 a0, float2 a1, float2 b0, float2 b1) {
  const float2 a[2] = {a0, a1}, b[2] = {b0, b1};
#pragma unroll
  for (int k = 0; k < 2; ++k)
#pragma unroll
    for (int n = 0; n < 2; ++n) {
      acc2[2 * (2 * k + n)] += a[k].x * b[n].x + a[k].y * b[n].y;
      acc2[2 * (2 * k + n) + 1] += a[k].y * b[n].x - a[k].x * b[n].y;
    }
}

// The three middle variants (see above). Grid (N1 / 2, rows of the chunk), block 256, dynamic shared memory p3_smem(2)
// + 2048 (the Gram accumulator, 16 x 16 float2). S: the row buffer read (MODE 0: X2; 1: gW_1 -> gC'; 2: gC' -> pass 3's
// input); X2: X_2 (MODE 2); D: the dumps (slot stride `slot` elements); O: MODE 0's output; part: MODE 1 / 2's partials.
template <bool BF16, typename ST, typename SC, int MODE>
__device__ void p3g_bmid(SC* __restrict__ S, const SC* __restrict__ X2, SC* __restrict__ D, SC* __restrict__ O,
                         float2* __restrict__ part, const float2* __restrict__ mats, const float4* __restrict__ pq, int h0,
                         int B, int H, int lN1, long long slot) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  const int N1 = 1 << lN1, j = blockIdx.x, T = blockDim.x;
  const long long rowc = blockIdx.y;
  int h; p3_row(blockIdx.y, h0, B, H, h);
  const int ka = j == 0 ? 0 : j, kb = j == 0 ? N1 / 2 : N1 - j;
  ST* zr = reinterpret_cast<ST*>(smem_raw);
  ST* zi = zr + P3_PLANE;
  constexpr int PB = 2 * P3_PLANE * (int)sizeof(ST);
  const Tw tw = tw_init(reinterpret_cast<float2*>(smem_raw + PB), P3_LIN);
  float2* s2 = reinterpret_cast<float2*>(smem_raw + PB + 8 * tw_entries(P3_IN));
  float* acc = reinterpret_cast<float*>(smem_raw + p3_smem((int)sizeof(ST)));
  const int q1 = N1 * N1, Q = q1 + 4 + 768;
  if (threadIdx.x < 8) s2[threadIdx.x] = mats[(threadIdx.x < 4 ? q1 : Q + q1 - 4) + threadIdx.x];
  for (int i = threadIdx.x; i < 512; i += T) acc[i] = 0.f;
  const long long oa = (rowc * N1 + ka) * P3_IN, ob = (rowc * N1 + kb) * P3_IN;
  SC* ra = S + oa;
  SC* rb = S + ob;
  float2* pp = part + ((size_t)blockIdx.y * gridDim.x + blockIdx.x) * 4 * 256;
  auto dump = [&](int q) {   // the planes to dump slot q, then a barrier (the next stage rewrites them)
    store_row16<SC, ST>(D + q * slot + oa, zr, zi, P3_IN);
    store_row16<SC, ST>(D + q * slot + ob, zr + SIDX(P3_IN), zi + SIDX(P3_IN), P3_IN);
    __syncthreads();
  };
  auto gram = [&](int s, int q, bool twG, bool twX) {   // stage s's Gram against dump slot q, flushed to partial slot s - 2
    p3g_gram16<BF16, ST, SC>(tw, zr, zi, D + q * slot + oa, D + q * slot + ob, s == 3 ? 8 : s == 4 ? 4 : 0, twG, twX, acc);
    p3g_flush(acc, pp + (s - 2) * 256, 256);
  };
  constexpr int NV = 2 * (P3_IN / 2) / 4;
  __syncthreads();   // twiddle table, stage-2 matrices, acc zeroed
  if constexpr (MODE != 2) {
    // load + forward stage 2 (* 1/2); MODE 1: + dG_2's terms gW_1[k] conj(V_2[n]) (V_2 = W_2 o conj(w_8192^(n c)), slot 7)
    float acc2[8] = {};
    for (int v = threadIdx.x; v < NV; v += T) {
      const int base = (v >> 10) << P3_LIN, c0 = 4 * (v & 1023);
      const SC* r = ((v >> 10) ? rb : ra) + c0;
      const uint4 lo = *reinterpret_cast<const uint4*>(r), hi = *reinterpret_cast<const uint4*>(r + P3_IN / 2);
      uint4 wlo, whi;
      if constexpr (MODE == 1) {
        const SC* w = D + 7 * slot + ((v >> 10) ? ob : oa) + c0;
        wlo = *reinterpret_cast<const uint4*>(w); whi = *reinterpret_cast<const uint4*>(w + P3_IN / 2);
      }
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int c = c0 + e;
        float2 x0 = ldc(reinterpret_cast<const SC*>(&lo) + e), x1 = ldc(reinterpret_cast<const SC*>(&hi) + e);
        float tc, ts; twiddle<true>(tw, c, P3_LIN, -1.0f, tc, ts);
        if constexpr (MODE == 1)
          p3g_gram2(acc2, x0, x1, ldc(reinterpret_cast<const SC*>(&wlo) + e),
                    p3g_mul(ldc(reinterpret_cast<const SC*>(&whi) + e), make_float2(tc, -ts)));
        p3_bfly2<true>(s2, tc, ts, x0.x, x0.y, x1.x, x1.y, 0.5f);
        const int i0 = SIDX(base + c), i1 = SIDX(base + c + P3_IN / 2);
        st(zr + i0, x0.x); st(zi + i0, x0.y); st(zr + i1, x1.x); st(zi + i1, x1.y);
      }
    }
    if constexpr (MODE == 1) {
#pragma unroll
      for (int i = 0; i < 8; ++i) atomicAdd(acc + ((i >> 2) * 16 + ((i >> 1) & 1)) * 2 + (i & 1), acc2[i]);   // [k][n] at k 16 + n
    }
    if constexpr (MODE == 1) p3g_flush(acc, pp, 256);
    else __syncthreads();
    if constexpr (MODE == 0) dump(0);
    if constexpr (MODE == 1) gram(3, 6, false, true);
    lm_stage_a<BF16, true, ST>(tw, mats + q1 + 4, zr, zi, 8, 4, 1.0f / 16.0f);
    __syncthreads();
    if constexpr (MODE == 0) dump(1);
    if constexpr (MODE == 1) gram(4, 5, false, true);
    lm_stage_a<BF16, true, ST>(tw, mats + q1 + 260, zr, zi, 4, 64, 1.0f / 16.0f);
    __syncthreads();
    if constexpr (MODE == 0) dump(2);
    if constexpr (MODE == 1) gram(5, 4, false, false);
    lm_stage_b<BF16, ST>(mats + q1 + 516, zr, zi, 2 * P3_IN, 1.0f / 16.0f);
    __syncthreads();
    if constexpr (MODE == 1) {   // S = gC' (lp3g_midA's store)
      store_row16<SC, ST>(ra, zr, zi, P3_IN);
      store_row16<SC, ST>(rb, zr + SIDX(P3_IN), zi + SIDX(P3_IN), P3_IN);
      return;
    }
    dump(3);
  } else {
    load_row16<SC, ST>(zr, zi, ra, P3_IN);
    load_row16<SC, ST>(zr + SIDX(P3_IN), zi + SIDX(P3_IN), rb, P3_IN);
    __syncthreads();
  }
  p3_pairmap<ST>(zr, zi, pq + (size_t)h * ((size_t)N1 << P3_LIN), j, ka, kb, N1);
  __syncthreads();
  const float2* im = mats + Q;
  if constexpr (MODE == 0) dump(4);
  if constexpr (MODE == 2) gram(5, 2, false, false);
  lm_stage_b<BF16, ST>(im + q1 + 516, zr, zi, 2 * P3_IN, 1.0f);
  __syncthreads();
  if constexpr (MODE == 0) dump(5);
  if constexpr (MODE == 2) gram(4, 1, true, false);
  lm_stage_a<BF16, false, ST>(tw, im + q1 + 260, zr, zi, 4, 64, 1.0f);
  __syncthreads();
  if constexpr (MODE == 0) dump(6);
  if constexpr (MODE == 2) gram(3, 0, true, false);
  lm_stage_a<BF16, false, ST>(tw, im + q1 + 4, zr, zi, 8, 4, 1.0f);
  __syncthreads();
  if constexpr (MODE == 0) dump(7);
  // inverse stage 2 + store (MODE 0: to O; 2: in place); MODE 2: + dF_2's terms gY_2[k] conj(X_2[n]), gY_2 = the planes o
  // (1, conj(w_8192^c))
  float acc2[8] = {};
  SC* oa_ = (MODE == 0 ? O : S) + oa;
  SC* ob_ = (MODE == 0 ? O : S) + ob;
  for (int v = threadIdx.x; v < NV; v += T) {
    const int base = (v >> 10) << P3_LIN, c0 = 4 * (v & 1023);
    SC* r = ((v >> 10) ? ob_ : oa_) + c0;
    uint4 xlo, xhi;
    if constexpr (MODE == 2) {
      const SC* x = X2 + ((v >> 10) ? ob : oa) + c0;
      xlo = *reinterpret_cast<const uint4*>(x); xhi = *reinterpret_cast<const uint4*>(x + P3_IN / 2);
    }
    union Pack { uint4 u; SC e[4]; } lo, hi;
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int c = c0 + e, i0 = SIDX(base + c), i1 = SIDX(base + c + P3_IN / 2);
      float xr0 = ld(zr + i0), xi0 = ld(zi + i0), xr1 = ld(zr + i1), xi1 = ld(zi + i1);
      float tc, ts; twiddle<true>(tw, c, P3_LIN, 1.0f, tc, ts);
      if constexpr (MODE == 2)
        p3g_gram2(acc2, make_float2(xr0, xi0), p3g_mul(make_float2(xr1, xi1), make_float2(tc, ts)),
                  ldc(reinterpret_cast<const SC*>(&xlo) + e), ldc(reinterpret_cast<const SC*>(&xhi) + e));
      p3_bfly2<false>(s2 + 4, tc, ts, xr0, xi0, xr1, xi1, 1.0f);
      stc(&lo.e[e], xr0, xi0); stc(&hi.e[e], xr1, xi1);
    }
    *reinterpret_cast<uint4*>(r) = lo.u;
    *reinterpret_cast<uint4*>(r + P3_IN / 2) = hi.u;
  }
  if constexpr (MODE == 2) {
#pragma unroll
    for (int i = 0; i < 8; ++i) atomicAdd(acc + ((i >> 2) * 16 + ((i >> 1) & 1)) * 2 + (i & 1), acc2[i]);
    p3g_flush(acc, pp, 256);
  }
}

// The outer stage's Gram (R = N1): MODE 0 dF_1 = sum gY_1[k] conj(X_1[n]), gY_1[k][q] = S[k][q] conj(w_M^(k q)) (S: pass
// 3's input of the adjoint), X_1 = pack(x) (x = u); MODE 1 dG_1 = sum gW_0[k] conj(V_1[n]), gW_0 = pack(x) (x = dy),
// V_1[n][q] = S[n][q] conj(w_M^(n q)) (S: the forward middle's output O). Grid (8192 / 128, gy), block 256: warp w of
// block bx takes columns q = 128 bx + 16 w .. + 15 of chunk rows by, by + gy, ..; the block's partial (N1 x N1 float2,
// [k][n]) to part[by gx + bx].
template <int N1, bool BF16, typename IO, typename SC, int MODE>
__device__ void p3g_ogram(const SC* __restrict__ S, const IO* __restrict__ x, float2* __restrict__ part, int L, int h0, int B,
                          int H, int rows) {
  constexpr int KT = (N1 + 15) / 16, NJ = N1 / 8, M = N1 * P3_IN;
  __shared__ float acc[2 * N1 * N1];
  for (int i = threadIdx.x; i < 2 * N1 * N1; i += blockDim.x) acc[i] = 0.f;
  __syncthreads();
  const int col0 = (blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5)) * 16;
  float dr[KT][NJ][4] = {}, di[KT][NJ][4] = {};
  for (int rc = blockIdx.y; rc < rows; rc += gridDim.y) {
    int h; const long long row = p3_row(rc, h0, B, H, h);
    const IO* xr = x + row * (long long)L;
    const SC* sr = S + rc * (long long)M;
    auto packed = [&](int k, int q) {   // pack(x)[k 8192 + q], 0 past L and for k >= N1
      const int i = 2 * (k * P3_IN + q);
      return k < N1 ? make_float2(i < L ? ld(xr + i) : 0.f, i + 1 < L ? ld(xr + i + 1) : 0.f) : make_float2(0.f, 0.f);
    };
    auto scr = [&](int k, int q) {      // S[k][q] conj(w_M^(k q)), 0 for k >= N1
      if (k >= N1) return make_float2(0.f, 0.f);
      float sn, cs; sincospif(2.0f * (float)((k * q) & (M - 1)) / (float)M, &sn, &cs);
      return p3g_mul(ldc(sr + k * P3_IN + q), make_float2(cs, sn));
    };
    if constexpr (MODE == 0) p3g_tile<BF16, KT, NJ>(scr, packed, col0, dr, di);
    else p3g_tile<BF16, KT, NJ>(packed, scr, col0, dr, di);
  }
  p3g_acc<KT, NJ>(acc, N1, dr, di);
  __syncthreads();
  float2* pp = part + ((size_t)blockIdx.y * gridDim.x + blockIdx.x) * N1 * N1;
  for (int i = threadIdx.x; i < N1 * N1; i += blockDim.x) pp[i] = make_float2(acc[2 * i], acc[2 * i + 1]);
}

// The partials of one launch into lib's block gradients blk ({dF_1 .. dF_5, dG_5 .. dG_1} back to back: sizes N1, 2, 16, 16,
// 16, 16, 16, 16, 2, N1), summed over the nb blocks in order (double), times R_1 .. R_(s-1), then written (first) or added
// (later chunks). kind 0: lp3g_bmid MODE 1 (dG_2 .. dG_5, partial slots s - 2 of 256), 1: MODE 2 (dF_2 .. dF_5), 2: outer
// dF_1, 3: outer dG_1 (partials of N1 N1). Grid ceil(1024 / 256), block 256: thread e = slot 256 + k 16 + n (inner), or
// k N1 + n (outer).
extern "C" __global__ void __launch_bounds__(256) lp3g_reduce(const float2* __restrict__ part, float2* __restrict__ blk, int nb,
                                                              int lN1, int kind, int first) {
  const int N1 = 1 << lN1, q1 = N1 * N1, e = blockIdx.x * blockDim.x + threadIdx.x;
  int s, R, k, n, stride, off;
  if (kind < 2) {
    const int sl = e >> 8;
    s = sl + 2; R = s == 2 ? 2 : 16; k = (e >> 4) & 15; n = e & 15; stride = 1024;
    if (sl >= 4 || k >= R || n >= R) return;
    off = sl * 256 + k * 16 + n;   // the kernels' 16 x 16 layout (stage 2's four entries at k 16 + n too)
  } else {
    s = 1; R = N1; k = e / N1; n = e % N1; stride = q1; off = e;
    if (e >= q1) return;
  }
  double re = 0.0, im = 0.0;
  for (int b = 0; b < nb; ++b) { const float2 v = part[(size_t)b * stride + off]; re += v.x; im += v.y; }
  const double sc = s == 1 ? 1.0 : s == 2 ? N1 : s == 3 ? 2.0 * N1 : s == 4 ? 32.0 * N1 : 512.0 * N1;
  // lib's offsets of F_s / G_s: F_1 0, F_2 q1, F_3.. q1 + 4 + 256 (s - 3); G_5 .. G_3 q1 + 772 + 256 (5 - s), G_2 q1 + 1540,
  // G_1 q1 + 1544
  const bool gside = kind == 0 || kind == 3;
  const int fo = s == 1 ? 0 : s == 2 ? q1 : q1 + 4 + 256 * (s - 3);
  const int go = s == 1 ? q1 + 1544 : s == 2 ? q1 + 1540 : q1 + 772 + 256 * (5 - s);
  const int dst = (gside ? go : fo) + (s == 1 ? k * R + n : n * R + k);
  const float2 add = make_float2((float)(re * sc), (float)(im * sc));
  if (first) blk[dst] = add;
  else { const float2 o = blk[dst]; blk[dst] = make_float2(o.x + add.x, o.y + add.y); }
}

// names: lp3g_midA_<io> / lp3g_midB_<io> (lp3_mid16's halves: grid (N1 / 2, rows of the chunk), block 256, dynamic shared
// memory p3_smem(2), as lp3_mid16), lp3g_pq_grad_<io> (grid-stride, block 256)
#define LP3G_KERNELS(TAG, IO)                                                                                           \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_midA_##TAG(P3Io<IO>::SC* __restrict__ S,                    \
      const float2* __restrict__ mats, const float4* __restrict__ pq, int h0, int B, int H, int lN1) {                   \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 1>(S, mats, pq, h0, B, H, lN1);                                          \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_midB_##TAG(P3Io<IO>::SC* __restrict__ S,                    \
      const float2* __restrict__ mats, const float4* __restrict__ pq, int h0, int B, int H, int lN1) {                   \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 2>(S, mats, pq, h0, B, H, lN1);                                          \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256) lp3g_pq_grad_##TAG(const P3Io<IO>::SC* __restrict__ C,               \
      const P3Io<IO>::SC* __restrict__ G, float4* __restrict__ gpq, int h0, int hc, int B, int lN1, float scale) {      \
    p3g_pq_grad<P3Io<IO>::SC>(C, G, gpq, h0, hc, B, lN1, scale);                                                        \
  }
LP3G_KERNELS(bf16, __nv_bfloat16)
LP3G_KERNELS(f16, __half)

// names: lp3g_bmid<MODE>_<io> (grid (N1 / 2, rows of the chunk), block 256, dynamic shared memory p3_smem(2) + 2048)
#define LP3G_BMID(MODE, TAG, IO)                                                                                        \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_bmid##MODE##_##TAG(P3Io<IO>::SC* __restrict__ S,            \
      const P3Io<IO>::SC* __restrict__ X2, P3Io<IO>::SC* __restrict__ D, P3Io<IO>::SC* __restrict__ O,                  \
      float2* __restrict__ part, const float2* __restrict__ mats, const float4* __restrict__ pq, int h0, int B, int H,  \
      int lN1, long long slot) {                                                                                        \
    p3g_bmid<P3Io<IO>::BF16, IO, P3Io<IO>::SC, MODE>(S, X2, D, O, part, mats, pq, h0, B, H, lN1, slot);                 \
  }
LP3G_BMID(0, bf16, __nv_bfloat16)
LP3G_BMID(1, bf16, __nv_bfloat16)
LP3G_BMID(2, bf16, __nv_bfloat16)
LP3G_BMID(0, f16, __half)
LP3G_BMID(1, f16, __half)
LP3G_BMID(2, f16, __half)

// names: lp3g_ogram<MODE>_<N1>_<io> (grid (64, gy), block 256)
#define LP3G_OGRAM(MODE, N1, TAG, IO)                                                                                   \
  extern "C" __global__ void __launch_bounds__(256) lp3g_ogram##MODE##_##N1##_##TAG(const P3Io<IO>::SC* __restrict__ S,  \
      const IO* __restrict__ x, float2* __restrict__ part, int L, int h0, int B, int H, int rows) {                      \
    p3g_ogram<N1, P3Io<IO>::BF16, IO, P3Io<IO>::SC, MODE>(S, x, part, L, h0, B, H, rows);                               \
  }
#define LP3G_OGRAMS(TAG, IO) \
  LP3G_OGRAM(0, 8, TAG, IO) LP3G_OGRAM(0, 16, TAG, IO) LP3G_OGRAM(0, 32, TAG, IO) \
  LP3G_OGRAM(1, 8, TAG, IO) LP3G_OGRAM(1, 16, TAG, IO) LP3G_OGRAM(1, 32, TAG, IO)
LP3G_OGRAMS(bf16, __nv_bfloat16)
LP3G_OGRAMS(f16, __half)
