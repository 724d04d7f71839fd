// Shapes: as learned_p3b.cu (B batch, H channels, L length; M = N1 * 8192; a chunk's slot c is channel h0 + c / B, batch
// c % B; mats: the 10 left-form blocks; pq (H, M) float4), plus
//   SC, SG : two 16-bit scratches (rows of one chunk, N1, 8192) SC = (re, im) of the I/O type: SC = X_2 (u after pass 1),
//            SG = dy's rows through the backward (gW_1 after pass 1, gC' after lp3g_bmid1, pass 3's input after lp3g_bmid2);
//            rows at position p = k1 8192 + p_in (lib's position order).
//   DMP, O : 8 dump slots and the forward middle's output, chunk buffers as SC (helper p3tc, below).
//   gpq    : (H, M) float4 {Re dP_p, Im dP_p, Re dQ_p, Im dQ_p} at position p (PackedLearnedChain.taps' input).
//
// The three-pass packed learned butterfly's backward on tensor cores (helper p3, session 17; helper p3tc, session 18: the
// block gradients; PackedThreePassBackward.java; slow twin: the fp32 chain, PackedLearnedChain.backward). Backward and
// forward side by side: the forward (learned_p3b.cu) is pass 1, lp3_mid16 (chain, pair map, inverse chain), pass 3; the
// backward runs lp3_mid16's function split at its pair map (PART 1 / 2) so that both operands of the pair map's gradient
// reach global memory:
//   u : pass 1 (forward mats) -> SC; lp3g_bmid0 (the whole forward middle, its stage inputs dumped): DMP slot 3 = C = the
//       forward chain's output / M (the three-pass scaling: 1/N1 in pass 1, 1/8192 over the inner stages).
//   dy: pass 1 (adjoint mats) -> SG; lp3g_bmid1 (PART 1, adjoint mats): SG = g (the adjoint's forward-structured half
//       carries the 1/M: g = dL/dC' of lib's unscaled chain, as lpj_pair_grad's);
//       lp3g_pq_grad: dP_p = M sum_b g_p conj(C_p), dQ_p = M sum_b g_p C_s(p) (M undoes C's 1/M);
//       lp3g_bmid2 (PART 2, adjoint mats, adjoint pair map {conj P_p, Q_s(p)}): the pair map's adjoint and the adjoint
//       inverse chain; pass 3 (adjoint mats) -> du (+ D dy). PART 1 then PART 2 is lp3_mid16 bit for bit: the row between
//       them is the 16-bit planes' content, exact in SG.
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

// dP / dQ of a chunk at M = 2^lI << lN1 with the inner rows of 2^lI in pair order, read from slot p3_qslot(k1) of the
// rows: lI = 12 (lN1 = 0: the inner-only plan's four-row route at M = 4096, session 21; 2 / 3: M = 16384 / 32768 = N1 x
// 4096, session 22) or lI = 8 (lN1 = 3: M = 2048 = 8 x 256, session 22). As p3g_pq_grad with lib's N1 x 16 x .. x 16
// positions p = k1 2^lI + p_in (partner (0, pos((2^lI - k_in) mod 2^lI)) at k1 = 0, else (N1 - k1, 2^lI - 1 - p_in)).
template <typename SC>
__device__ void p3g_pq_grad4(const SC* __restrict__ C, const SC* __restrict__ G, float4* __restrict__ gpq, int h0, int hc, int B,
                             int lN1, int lI, float scale) {
  const int N1 = 1 << lN1, IN = 1 << lI;
  const long long M = (long long)IN << lN1, total = (long long)hc * M;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
    const int cc = (int)(i >> (lI + lN1)), p = (int)(i & (M - 1)), k1 = p >> lI, pi = p & (IN - 1);
    const int self = lI == 12 ? p3_pos4((4096 - p3_freq4(pi)) & 4095) : p3_pos2((256 - p3_pos2(pi)) & 255);
    const int kp = k1 == 0 ? 0 : N1 - k1, qi = k1 == 0 ? self : IN - 1 - pi;
    const int a = (p3_qslot(k1, N1) << lI) + pi, s = (p3_qslot(kp, N1) << lI) + qi;
    float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
    for (int b = 0; b < B; ++b) {
      const size_t row = ((size_t)cc * B + b) * (size_t)M;
      const float2 g = ldc(G + row + a), c = ldc(C + row + a), cs = ldc(C + row + s);
      acc.x += g.x * c.x + g.y * c.y;
      acc.y += g.y * c.x - g.x * c.y;
      acc.z += g.x * cs.x - g.y * cs.y;
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
// The middles are learned_p3b.cu's p3_mid16 with hooks at its stage boundaries (machine code of its own kernels unchanged):
//   lp3g_bmid0_<io> (PART 0 on u, forward mats / pq; P3gDump): the forward middle from X2, every inner stage input from
//                  stage 3 on dumped, the output to O.
//   lp3g_bmid1_<io> (PART 1 on dy after the adjoint's pass 1, adjoint mats; P3gGram): the forward-structured chain with the Grams
//                  dG_2 .. dG_5 (gradient operand: the planes before each adjoint stage s, gW_(s-1); the other W_s / V_5
//                  from DMP); S = gC'.
//   lp3g_bmid2_<io> (PART 2 on S = gC', adjoint mats and pair map; P3gGram): the rest, with the Grams dF_5 .. dF_2
//                  (gradient operand: the planes before each adjoint inverse stage s times conj(T_s), gY_s; the other X_s
//                  from DMP / X2); S = pass 3's input.
// The hooks only read the planes and the rows: bmid1 then bmid2 give lp3_mid16's du bit for bit (session 17's lp3g_midA /
// lp3g_midB, the same PART 1 / PART 2 without hooks, are gone: their machine code is bmid1 / bmid2's minus the Grams).
// Gram operands are rounded to the I/O type (the planes and dumps are 16-bit already; twiddled ones once more) as the
// one-pass backward's (learned_pmb.cu pmb_gram); mma.sync m16n8k16 with fp32 accumulation; stage 2 (R = 2) in fp32 on
// CUDA cores in the loads / stores that do that stage. Every sum is in a fixed order (warps in turn, blocks in order,
// chunks in order; no atomics): two runs give the same bits.

#include "learned_p3g_gram.cuh"   // p3g_tile, p3g_acc, P3gGa / P3gGb, p3g_gram16, p3g_flush

#include "learned_p3g_hooks.cuh"   // p3g_gram2, the middles' backward hooks P3gDump / P3gGram, p3g_hook

// The outer stage's Gram (R = N1): MODE 0 dF_1 = sum gY_1[k] conj(X_1[n]), gY_1[k][q] = S[k][q] conj(w_M^(k q)) (S: pass
// 3's input of the adjoint), X_1 = pack(x) (x = u); MODE 1 dG_1 = sum gW_0[k] conj(V_1[n]), gW_0 = pack(x) (x = dy),
// V_1[n][q] = S[n][q] conj(w_M^(n q)) (S: the forward middle's output O). Grid (8192 / 128, gy), block 256: warp w of
// block bx takes columns q = 128 bx + 16 w .. + 15 of chunk rows by, by + gy, ..; the block's partial (N1 x N1 float2,
// [k][n]) to part[by gx + bx].
// TAB (session 20; -Dlongconv4j.p3.ogram=table, lp3g_ogramt*): the twiddles conj(w_M^(k q)) of the block's 128 columns,
// which do not depend on the row, computed once per block into shared memory (rows of OTW_S float2: 2-way bank conflicts at
// most) instead of per row and element (sincospif on every operand load): the same sincospif values, so the same bits.
// LIN (session 22): log2 of the inner size; 12: M = N1 x 4096 (N1 = 4 / 8, grid (4096 / 128, gy); S's inner rows in pair
// order, learned_p3.cu's p3_qslot).
// UNR = 2 (lp3g_ogramu*, -Dlongconv4j.p3.ogram=table2): the table and the row loop unrolled by 2 (more loads in flight per
// warp, more registers: fewer blocks per SM at N1 = 32); the same sums in the same order, so the same bits.
constexpr int OTW_S = 132;
template <int N1, bool BF16, typename IO, typename SC, int MODE, bool TAB = false, int UNR = 1, int LIN = P3_LIN>
__device__ void p3g_ogram(const SC* __restrict__ S, const IO* __restrict__ x, float2* __restrict__ part, int L, int h0, int B,
                          int H, int rows) {
  constexpr int KT = (N1 + 15) / 16, NJ = N1 >= 8 ? N1 / 8 : 1, IN = 1 << LIN, M = N1 * IN;
  __shared__ float acc[2 * N1 * N1];
  __shared__ float2 tws[TAB ? N1 * OTW_S : 1];
  for (int i = threadIdx.x; i < 2 * N1 * N1; i += blockDim.x) acc[i] = 0.f;
  if constexpr (TAB)
    for (int i = threadIdx.x; i < N1 * 128; i += blockDim.x) {
      const int k = i >> 7, q = 128 * blockIdx.x + (i & 127);
      float sn, cs; sincospif(2.0f * (float)((k * q) & (M - 1)) / (float)M, &sn, &cs);
      tws[k * OTW_S + (i & 127)] = make_float2(cs, sn);
    }
  __syncthreads();
  const int col0 = (blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5)) * 16;
  float dr[KT][NJ][4] = {}, di[KT][NJ][4] = {};
  auto one = [&](int rc) {
    int h; const long long row = p3_row(rc, h0, B, H, h);
    const IO* xr = x + row * (long long)L;
    const SC* sr = S + rc * (long long)M;
    auto packed = [&](int k, int q) {   // pack(x)[k IN + q], 0 past L and for k >= N1
      const int i = 2 * (k * IN + q);
      return k < N1 ? make_float2(i < L ? ld(xr + i) : 0.f, i + 1 < L ? ld(xr + i + 1) : 0.f) : make_float2(0.f, 0.f);
    };
    auto scr = [&](int k, int q) {      // S[k][q] conj(w_M^(k q)), 0 for k >= N1
      if (k >= N1) return make_float2(0.f, 0.f);
      if constexpr (TAB) return p3g_mul(ldc(sr + p3_oslot<LIN>(k, N1) * IN + q), tws[k * OTW_S + q - 128 * (int)blockIdx.x]);
      float sn, cs; sincospif(2.0f * (float)((k * q) & (M - 1)) / (float)M, &sn, &cs);
      return p3g_mul(ldc(sr + p3_oslot<LIN>(k, N1) * IN + q), make_float2(cs, sn));
    };
    if constexpr (MODE == 0) p3g_tile<BF16, KT, NJ>(scr, packed, col0, dr, di);
    else p3g_tile<BF16, KT, NJ>(packed, scr, col0, dr, di);
  };
  if constexpr (UNR == 2) {
#pragma unroll 2
    for (int rc = blockIdx.y; rc < rows; rc += gridDim.y) one(rc);
  } else {
    for (int rc = blockIdx.y; rc < rows; rc += gridDim.y) one(rc);
  }
  p3g_acc<KT, NJ>(acc, N1, dr, di);
  __syncthreads();
  float2* pp = part + ((size_t)blockIdx.y * gridDim.x + blockIdx.x) * N1 * N1;
  for (int i = threadIdx.x; i < N1 * N1; i += blockDim.x) pp[i] = make_float2(acc[2 * i], acc[2 * i + 1]);
}

#include "learned_p3g_ogc.cuh"   // the outer Grams on CUDA cores: p3g_ogramv (session 32), p3g_ogramc (session 22)

// Where entry e of a launch's partials goes in lib's block gradients blk ({dF_1 .. dF_5, dG_5 .. dG_1} back to back: sizes
// N1, 2, 16, 16, 16, 16, 16, 16, 2, N1) and the factor R_1 .. R_(s-1) that undoes the stages' 1/R_s; false for an entry
// that is no gradient's (k or n >= R). kind 0: lp3g_bmid MODE 1 (dG_2 .. dG_5, partial slots s - 2 of 256: e = slot 256 +
// k 16 + n), 1: MODE 2 (dF_2 .. dF_5), 2: outer dF_1, 3: outer dG_1 (partials of N1 N1: e = k N1 + n).
__device__ __forceinline__ bool p3g_dest(int e, int lN1, int kind, int& dst, double& sc) {
  const int N1 = 1 << lN1, q1 = N1 * N1;
  int s, R, k, n;
  if (kind < 2) {
    const int sl = e >> 8;
    s = sl + 2; R = s == 2 ? 2 : 16; k = (e >> 4) & 15; n = e & 15;
    if (sl >= 4 || k >= R || n >= R) return false;   // the kernels' 16 x 16 layout (stage 2's four entries at k 16 + n too)
  } else {
    s = 1; R = N1; k = e / N1; n = e % N1;
    if (e >= q1) return false;
  }
  sc = s == 1 ? 1.0 : s == 2 ? N1 : s == 3 ? 2.0 * N1 : s == 4 ? 32.0 * N1 : 512.0 * N1;
  // lib's offsets of F_s / G_s: F_1 0, F_2 q1, F_3.. q1 + 4 + 256 (s - 3); G_5 .. G_3 q1 + 772 + 256 (5 - s), G_2 q1 + 1540,
  // G_1 q1 + 1544
  const bool gside = kind == 0 || kind == 3;
  const int fo = s == 1 ? 0 : s == 2 ? q1 : q1 + 4 + 256 * (s - 3);
  const int go = s == 1 ? q1 + 1544 : s == 2 ? q1 + 1540 : q1 + 772 + 256 * (5 - s);
  dst = (gside ? go : fo) + (s == 1 ? k * R + n : n * R + k);
  return true;
}

// The sum (re, im) of an entry, times sc, written to blk[dst] (first chunk) or added to it (later chunks).
__device__ __forceinline__ void p3g_put(float2* __restrict__ blk, int dst, double re, double im, double sc, int first) {
  const float2 add = make_float2((float)(re * sc), (float)(im * sc));
  if (first) blk[dst] = add;
  else { const float2 o = blk[dst]; blk[dst] = make_float2(o.x + add.x, o.y + add.y); }
}

// re, im += v[y stride + e] for y = y0 .. y1 - 1 in that order (double). Session 31: eight loads issued before their adds (a
// thread's loads had been one round trip each; lp3g_rfin 11.5 -> 8.9 us a launch at 2K, BENCH-RESULTS round 43-s31); the same
// adds in the same order, so the same bits.
template <typename V>
__device__ __forceinline__ void p3g_sum_in_order(const V* __restrict__ v, int y0, int y1, int stride, int e, double& re, double& im) {
  int y = y0;
  for (; y + 8 <= y1; y += 8) {
    V x[8];
#pragma unroll
    for (int j = 0; j < 8; ++j) x[j] = v[(size_t)(y + j) * stride + e];
#pragma unroll
    for (int j = 0; j < 8; ++j) { re += x[j].x; im += x[j].y; }
  }
  for (; y < y1; ++y) { const V x = v[(size_t)y * stride + e]; re += x.x; im += x.y; }
}

// Entry e of a launch (thread e of the grid): the n values v[y stride + e] (float2 partials or double2 segment sums) summed
// in order in double, then p3g_put where p3g_dest places it.
template <typename V>
__device__ __forceinline__ void p3g_sum_put(const V* __restrict__ v, int n, float2* __restrict__ blk, int lN1, int kind, int first) {
  const int e = blockIdx.x * blockDim.x + threadIdx.x, stride = kind < 2 ? 1024 : 1 << (2 * lN1);
  int dst; double sc;
  if (!p3g_dest(e, lN1, kind, dst, sc)) return;
  double re = 0.0, im = 0.0;
  p3g_sum_in_order(v, 0, n, stride, e, re, im);
  p3g_put(blk, dst, re, im, sc, first);
}

// The slow twin of lp3g_rseg + lp3g_rfin (-Dlongconv4j.p3.reduce=serial): the partials of one launch summed over the nb
// blocks in order (double) by one thread per entry, then p3g_put. Grid ceil(1024 / 256), block 256: thread e (p3g_dest).
extern "C" __global__ void __launch_bounds__(256) lp3g_reduce(const float2* __restrict__ part, float2* __restrict__ blk, int nb,
                                                              int lN1, int kind, int first) {
  p3g_sum_put(part, nb, blk, lN1, kind, first);
}

// The partials' sum in two fixed-order steps (session 20; lp3g_reduce's 1024 threads, each reading nb partials 8 KB apart,
// took ~29 ms of the 64K backward's ~88): lp3g_rseg sums segment y (blocks y seg .. min(nb, (y + 1) seg) - 1, in order) of
// every entry into a double2 (grid (ceil(stride / 256), ceil(nb / seg)), block 256: consecutive threads read consecutive
// entries); lp3g_rfin sums a launch's nsg segments in order (double) and puts the entry (grid ceil(stride / 256)). The
// segmentation depends only on nb and seg, so two runs give the same bits (no atomics).
extern "C" __global__ void __launch_bounds__(256) lp3g_rseg(const float2* __restrict__ part, double2* __restrict__ sg, int nb,
                                                            int stride, int seg) {
  const int e = blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= stride) return;
  const int b0 = blockIdx.y * seg, b1 = min(nb, b0 + seg);
  double re = 0.0, im = 0.0;
  p3g_sum_in_order(part, b0, b1, stride, e, re, im);
  sg[(size_t)blockIdx.y * stride + e] = make_double2(re, im);
}
extern "C" __global__ void __launch_bounds__(256) lp3g_rfin(const double2* __restrict__ sg, float2* __restrict__ blk, int nsg,
                                                            int lN1, int kind, int first) {
  p3g_sum_put(sg, nsg, blk, lN1, kind, first);
}

// names: lp3g_pq_grad_<io> (grid-stride, block 256)
#define LP3G_PQ(TAG, IO)                                                                                                \
  extern "C" __global__ void __launch_bounds__(256) lp3g_pq_grad_##TAG(const P3Io<IO>::SC* __restrict__ C,               \
      const P3Io<IO>::SC* __restrict__ G, float4* __restrict__ gpq, int h0, int hc, int B, int lN1, float scale) {      \
    p3g_pq_grad<P3Io<IO>::SC>(C, G, gpq, h0, hc, B, lN1, scale);                                                        \
  }
LP3G_PQ(bf16, __nv_bfloat16)
LP3G_PQ(f16, __half)

// names: lp3g_bmid<MODE>_<io> (grid (N1 / 2, rows of the chunk), block 256, dynamic shared memory p3_smem(2) + 6144):
// S the rows (MODE 0: X_2, read; 1: gW_1 -> gC'; 2: gC' -> pass 3's input), X2 (MODE 2) X_2, D the dumps (`slot` elements
// apart), O (MODE 0) the output, part (MODE 1 / 2) the partials.
#define LP3G_BMID(TAG, IO)                                                                                              \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_bmid0_##TAG(P3Io<IO>::SC* __restrict__ S,                  \
      P3Io<IO>::SC* __restrict__ D, P3Io<IO>::SC* __restrict__ O, const float2* __restrict__ mats,                      \
      const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot) {                                   \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 0>(S, mats, pq, h0, B, H, lN1, P3gDump<P3Io<IO>::SC>{D, O, slot});       \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_bmid1_##TAG(P3Io<IO>::SC* __restrict__ S,                  \
      const P3Io<IO>::SC* __restrict__ D, float2* __restrict__ part, const float2* __restrict__ mats,                   \
      const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot) {                                   \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 1>(S, mats, pq, h0, B, H, lN1, p3g_hook<P3Io<IO>::BF16, 1>(D, D, slot, part)); \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_bmid2_##TAG(P3Io<IO>::SC* __restrict__ S,                  \
      const P3Io<IO>::SC* __restrict__ X2, const P3Io<IO>::SC* __restrict__ D, float2* __restrict__ part,               \
      const float2* __restrict__ mats, const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot) {  \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 2>(S, mats, pq, h0, B, H, lN1, p3g_hook<P3Io<IO>::BF16, 2>(D, X2, slot, part)); \
  }
LP3G_BMID(bf16, __nv_bfloat16)
LP3G_BMID(f16, __half)

// ---- session 21: the one-pass M = 8192 backward on these middles (PackedThreePassBackward with N1 = 1) ----------------
// Lib's one-pass factors at M = 8192 are {2, 16, 16, 16}: the middle's stages 2 .. 5 with the same positions, twiddles
// (w_8192) and pair map (inner row 0's), so one such row is a middle of a plan with N1 = 1 (F_1 = G_1 = [1]: pass 1 is the
// packing X_1 = u[0::2] + i u[1::2] zero-padded to 8192 points, pass 3 the unpacking + D dy). A chunk's rows are taken two
// at a time (lp3g_obmid<MODE>: grid (1, rows / 2), the ONE hooks of learned_p3b.cu; the chunk buffers hold an even number
// of rows, a missing last row packed as zeros, so it adds nothing to the Grams and is never unpacked).
#include "learned_p3g_x.cuh"   // the one-pass plans' row I/O: p3g_pack1 / p3g_unpack1 (passes 1 / 3) and, sessions 27-28, the
                               // M = 4096 / 8192 middles reading u / dy and writing du themselves (lp3g_qbmid*x, lp3g_obmid*x)
#include "learned_p3g_xo.cuh"  // session 28: the M = 16384 / 2048 middles doing the outer passes (and Grams) themselves

// names: lp3g_obmid<MODE>_<io> (M = 8192: grid (1, rows / 2)) and lp3g_qbmid<MODE>_<io> (M = 4096 = 16 x 16 x 16, four rows a
// block, no radix-2 stage: grid (1, rows / 4)), block 256, dynamic shared memory p3_smem(2) + 6144, arguments as
// lp3g_bmid<MODE>_<io> with lN1 = 0; lp3g_q3bmid<MODE>_<io> (session 22: M = N1 x 4096, N1 = 4 / 8, after an outer pass,
// grid (N1 / 4, rows), lN1 = log2 N1: learned_p3b.cu's ONE = 5); lp3g_2kbmid<MODE>_<io> (M = 2048 = 8 x 256: grid (1,
// rows / 8), ONE = 6); lp3g_pack1_<io>, lp3g_unpack1_<io> (lM: log2 of the row's
// points, 13 or 12)
#define LP3G_ONEMID(NAME, ROWS, TAG, IO)                                                                               \
  extern "C" __global__ void __launch_bounds__(256, 3) NAME##0_##TAG(P3Io<IO>::SC* __restrict__ S,                      \
      P3Io<IO>::SC* __restrict__ D, P3Io<IO>::SC* __restrict__ O, const float2* __restrict__ mats,                      \
      const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot) {                                   \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 0>(S, mats, pq, h0, B, H, lN1, P3gDump<P3Io<IO>::SC, ROWS>{D, O, slot}); \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256, 3) NAME##1_##TAG(P3Io<IO>::SC* __restrict__ S,                      \
      const P3Io<IO>::SC* __restrict__ D, float2* __restrict__ part, const float2* __restrict__ mats,                   \
      const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot) {                                   \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 1>(S, mats, pq, h0, B, H, lN1,                                           \
                                                   p3g_hook<P3Io<IO>::BF16, 1, P3Io<IO>::SC, ROWS>(D, D, slot, part));    \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256, 3) NAME##2_##TAG(P3Io<IO>::SC* __restrict__ S,                      \
      const P3Io<IO>::SC* __restrict__ X2, const P3Io<IO>::SC* __restrict__ D, float2* __restrict__ part,               \
      const float2* __restrict__ mats, const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot) {  \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 2>(S, mats, pq, h0, B, H, lN1,                                           \
                                                   p3g_hook<P3Io<IO>::BF16, 2, P3Io<IO>::SC, ROWS>(D, X2, slot, part));   \
  }
#define LP3G_ONE(TAG, IO)                                                                                               \
  LP3G_ONEMID(lp3g_obmid, 2, TAG, IO)                                                                                   \
  LP3G_ONEMID(lp3g_qbmid, 4, TAG, IO)                                                                                   \
  LP3G_ONEMID(lp3g_q3bmid, 5, TAG, IO)                                                                                  \
  LP3G_ONEMID(lp3g_2kbmid, 6, TAG, IO)                                                                                  \
  extern "C" __global__ void __launch_bounds__(256) lp3g_pack1_##TAG(const IO* __restrict__ x, P3Io<IO>::SC* __restrict__ S, \
      int L, int h0, int B, int H, int rows, int rowsPad, int vec, int lM) {                                            \
    p3g_pack1<IO, P3Io<IO>::SC>(x, S, L, h0, B, H, rows, rowsPad, vec, lM);                                             \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256) lp3g_unpack1_##TAG(const P3Io<IO>::SC* __restrict__ S,               \
      const IO* __restrict__ x, const float* __restrict__ D, IO* __restrict__ out, int L, int h0, int B, int H, int rows, \
      int vec, int lM) {                                                                                                \
    p3g_unpack1<IO, P3Io<IO>::SC>(S, x, D, out, L, h0, B, H, rows, vec, lM);                                            \
  }
LP3G_ONE(bf16, __nv_bfloat16)
LP3G_ONE(f16, __half)
// names: lp3g_pq_grad4_<io> (grid-stride, block 256; the inner-only routes' dP / dQ but M = 8192's, M = 2^lI << lN1)
#define LP3G_PQ4(TAG, IO)                                                                                               \
  extern "C" __global__ void __launch_bounds__(256) lp3g_pq_grad4_##TAG(const P3Io<IO>::SC* __restrict__ C,              \
      const P3Io<IO>::SC* __restrict__ G, float4* __restrict__ gpq, int h0, int hc, int B, int lN1, int lI, float scale) { \
    p3g_pq_grad4<P3Io<IO>::SC>(C, G, gpq, h0, hc, B, lN1, lI, scale);                                                   \
  }
LP3G_PQ4(bf16, __nv_bfloat16)
LP3G_PQ4(f16, __half)

// names: lp3g_ogram<MODE>_<N1>_<io>, lp3g_ogramt<MODE>_<N1>_<io> (the twiddle table), lp3g_ogramu<MODE>_<N1>_<io> (the
// table, rows unrolled by 2) (grid (64, gy), block 256)
#define LP3G_OGRAM(MODE, N1, TAG, IO)                                                                                   \
  extern "C" __global__ void __launch_bounds__(256) lp3g_ogram##MODE##_##N1##_##TAG(const P3Io<IO>::SC* __restrict__ S,  \
      const IO* __restrict__ x, float2* __restrict__ part, int L, int h0, int B, int H, int rows) {                      \
    p3g_ogram<N1, P3Io<IO>::BF16, IO, P3Io<IO>::SC, MODE>(S, x, part, L, h0, B, H, rows);                               \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256) lp3g_ogramt##MODE##_##N1##_##TAG(const P3Io<IO>::SC* __restrict__ S, \
      const IO* __restrict__ x, float2* __restrict__ part, int L, int h0, int B, int H, int rows) {                      \
    p3g_ogram<N1, P3Io<IO>::BF16, IO, P3Io<IO>::SC, MODE, true>(S, x, part, L, h0, B, H, rows);                         \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256) lp3g_ogramu##MODE##_##N1##_##TAG(const P3Io<IO>::SC* __restrict__ S, \
      const IO* __restrict__ x, float2* __restrict__ part, int L, int h0, int B, int H, int rows) {                      \
    p3g_ogram<N1, P3Io<IO>::BF16, IO, P3Io<IO>::SC, MODE, true, 2>(S, x, part, L, h0, B, H, rows);                      \
  }
#define LP3G_OGRAMS(TAG, IO) \
  LP3G_OGRAM(0, 8, TAG, IO) LP3G_OGRAM(0, 16, TAG, IO) LP3G_OGRAM(0, 32, TAG, IO) \
  LP3G_OGRAM(1, 8, TAG, IO) LP3G_OGRAM(1, 16, TAG, IO) LP3G_OGRAM(1, 32, TAG, IO)
LP3G_OGRAMS(bf16, __nv_bfloat16)
LP3G_OGRAMS(f16, __half)

// ---- session 22: the one-pass M = 16384 / 32768 backwards (lib's {N1, 16, 16, 16}, N1 = 4 / 8) as three passes ----------
// Pass 1 / 3 are learned_p3.cu's CUDA-core outer passes at an inner 4096 (LIN = 12: the inner rows in pair order), the
// middles lp3g_q3bmid*, dP / dQ lp3g_pq_grad4 with lN1, the outer Grams p3g_ogram at LIN = 12 (the twiddle table).
// names: lp3g_outerq_{fwd,inv}<N1>_<io> (grid (4096 / 256, rows of the chunk), block 256; arguments as lp3_outer16_*),
// lp3g_ogramq<MODE>_<N1>_<io> (grid (4096 / 128, gy), block 256; arguments as lp3g_ogramt*). Session 32: outerq_fwd8 leaves
// the zero padding's entries out where L <= M (p3_outer_fwd's CZ); outerq_fwd4 keeps them (the 16K middles' pass-1 twin).
#define LP3G_QUAD(N1, TAG, IO)                                                                                          \
  extern "C" __global__ void __launch_bounds__(256) lp3g_outerq_fwd##N1##_##TAG(const IO* __restrict__ x,                \
      const float2* __restrict__ mats, P3Io<IO>::SC* __restrict__ S, int L, int h0, int B, int H) {                     \
    p3_outer_fwd<N1, IO, P3Io<IO>::SC, 12, N1 == 8>(x, mats, S, L, h0, B, H);                                           \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256) lp3g_outerq_inv##N1##_##TAG(const P3Io<IO>::SC* __restrict__ S,      \
      const float2* __restrict__ mats, const IO* __restrict__ x, const float* __restrict__ D, IO* __restrict__ out,      \
      int L, int h0, int B, int H) {                                                                                    \
    p3_outer_inv<N1, IO, P3Io<IO>::SC, 12>(S, mats, x, D, out, L, h0, B, H);                                            \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256) lp3g_ogramq0_##N1##_##TAG(const P3Io<IO>::SC* __restrict__ S,        \
      const IO* __restrict__ x, float2* __restrict__ part, int L, int h0, int B, int H, int rows) {                      \
    p3g_ogram<N1, P3Io<IO>::BF16, IO, P3Io<IO>::SC, 0, true, 1, 12>(S, x, part, L, h0, B, H, rows);                     \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256) lp3g_ogramq1_##N1##_##TAG(const P3Io<IO>::SC* __restrict__ S,        \
      const IO* __restrict__ x, float2* __restrict__ part, int L, int h0, int B, int H, int rows) {                      \
    p3g_ogram<N1, P3Io<IO>::BF16, IO, P3Io<IO>::SC, 1, true, 1, 12>(S, x, part, L, h0, B, H, rows);                     \
  }
LP3G_QUAD(4, bf16, __nv_bfloat16)
LP3G_QUAD(8, bf16, __nv_bfloat16)
LP3G_QUAD(4, f16, __half)
LP3G_QUAD(8, f16, __half)
// names: lp3g_ogramv<MODE>_8_<io>_<LIN> (p3g_ogramv: LIN 8 (M = 2048) or 12 (M = 32768); grid (2^LIN / 256 x halves, gy), block
// 256; arguments as lp3g_ogramt*)
#define LP3G_OGRAMV(LIN, TAG, IO)                                                                                       \
  extern "C" __global__ void __launch_bounds__(256, 2) lp3g_ogramv0_8_##TAG##_##LIN(const P3Io<IO>::SC* __restrict__ S, \
      const IO* __restrict__ x, float2* __restrict__ part, int L, int h0, int B, int H, int rows) {                      \
    p3g_ogramv<IO, P3Io<IO>::SC, 0, LIN>(S, x, part, L, h0, B, H, rows);                                                 \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256, 2) lp3g_ogramv1_8_##TAG##_##LIN(const P3Io<IO>::SC* __restrict__ S, \
      const IO* __restrict__ x, float2* __restrict__ part, int L, int h0, int B, int H, int rows) {                      \
    p3g_ogramv<IO, P3Io<IO>::SC, 1, LIN>(S, x, part, L, h0, B, H, rows);                                                 \
  }
LP3G_OGRAMV(8, bf16, __nv_bfloat16)
LP3G_OGRAMV(12, bf16, __nv_bfloat16)
LP3G_OGRAMV(8, f16, __half)
LP3G_OGRAMV(12, f16, __half)
// names: lp3g_ogramc<MODE>_<N1>_<io>_<LIN> (p3g_ogramc: grid (2^LIN KS / 256, gy), block 256; arguments as lp3g_ogramt*;
// __launch_bounds__(256, 2): without the minimum ptxas held N1 = 4's MODE 1 (bf16) to 64 registers with a 4-byte spill)
#define LP3G_OGRAMC(N1, LIN, TAG, IO)                                                                                   \
  extern "C" __global__ void __launch_bounds__(256, 2) lp3g_ogramc0_##N1##_##TAG##_##LIN(const P3Io<IO>::SC* __restrict__ S, \
      const IO* __restrict__ x, float2* __restrict__ part, int L, int h0, int B, int H, int rows) {                      \
    p3g_ogramc<N1, IO, P3Io<IO>::SC, 0, LIN>(S, x, part, L, h0, B, H, rows);                                            \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256, 2) lp3g_ogramc1_##N1##_##TAG##_##LIN(const P3Io<IO>::SC* __restrict__ S, \
      const IO* __restrict__ x, float2* __restrict__ part, int L, int h0, int B, int H, int rows) {                      \
    p3g_ogramc<N1, IO, P3Io<IO>::SC, 1, LIN>(S, x, part, L, h0, B, H, rows);                                            \
  }
#define LP3G_OGRAMCS(TAG, IO) LP3G_OGRAMC(4, 12, TAG, IO) LP3G_OGRAMC(8, 12, TAG, IO) LP3G_OGRAMC(8, 8, TAG, IO)
LP3G_OGRAMCS(bf16, __nv_bfloat16)
LP3G_OGRAMCS(f16, __half)

// ---- session 22: the one-pass M = 2048 backward (lib's {8, 16, 16}) as three passes: outer passes and outer Grams at an
// inner 256 (LIN = 8, inner rows in pair order), the middles lp3g_2kbmid* (8 chunk rows a block, stage 3 skipped).
// names: lp3g_outer2k_{fwd,inv}_<io> (grid (1, rows of the chunk), block 256), lp3g_ogram2k<MODE>_<io> (grid (2, gy), block 256;
// since session 32 the twin of lp3g_ogramv*_8_<io>_8)
#define LP3G_2K(TAG, IO)                                                                                                \
  extern "C" __global__ void __launch_bounds__(256) lp3g_outer2k_fwd_##TAG(const IO* __restrict__ x,                     \
      const float2* __restrict__ mats, P3Io<IO>::SC* __restrict__ S, int L, int h0, int B, int H) {                     \
    p3_outer_fwd<8, IO, P3Io<IO>::SC, 8>(x, mats, S, L, h0, B, H);                                                      \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256) lp3g_outer2k_inv_##TAG(const P3Io<IO>::SC* __restrict__ S,           \
      const float2* __restrict__ mats, const IO* __restrict__ x, const float* __restrict__ D, IO* __restrict__ out,      \
      int L, int h0, int B, int H) {                                                                                    \
    p3_outer_inv<8, IO, P3Io<IO>::SC, 8>(S, mats, x, D, out, L, h0, B, H);                                              \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256) lp3g_ogram2k0_##TAG(const P3Io<IO>::SC* __restrict__ S,              \
      const IO* __restrict__ x, float2* __restrict__ part, int L, int h0, int B, int H, int rows) {                      \
    p3g_ogram<8, P3Io<IO>::BF16, IO, P3Io<IO>::SC, 0, true, 1, 8>(S, x, part, L, h0, B, H, rows);                       \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256) lp3g_ogram2k1_##TAG(const P3Io<IO>::SC* __restrict__ S,              \
      const IO* __restrict__ x, float2* __restrict__ part, int L, int h0, int B, int H, int rows) {                      \
    p3g_ogram<8, P3Io<IO>::BF16, IO, P3Io<IO>::SC, 1, true, 1, 8>(S, x, part, L, h0, B, H, rows);                       \
  }
LP3G_2K(bf16, __nv_bfloat16)
LP3G_2K(f16, __half)

// ---- session 22: the M = 16384 / 32768 forward (and du) on the same three passes: lp3g_outerq_fwd, this middle (the whole
// of p3_mid16 with the ONE = 5 layout and pair map, no hooks), lp3g_outerq_inv; the forward's mats and P / Q, or the
// adjoint's. names: lp3g_q3mid_<io> (grid (N1 / 4, rows of the chunk), block 256, dynamic shared memory p3_smem(2)).
struct P3gQuadNoHook : P3NoHook { static constexpr int ONE = 5; };
#define LP3G_Q3MID(TAG, IO)                                                                                             \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_q3mid_##TAG(P3Io<IO>::SC* __restrict__ S,                  \
      const float2* __restrict__ mats, const float4* __restrict__ pq, int h0, int B, int H, int lN1) {                   \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 0, P3gQuadNoHook>(S, mats, pq, h0, B, H, lN1);                           \
  }
LP3G_Q3MID(bf16, __nv_bfloat16)
LP3G_Q3MID(f16, __half)
