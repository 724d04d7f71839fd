// Shapes: as learned_p3g.cu (the middles' rows: 2 x 8192 points a block, planes zr / zi; dump slots `slot` elements apart; Gram
// partials (blocks of a launch, 4, 16, 16) float2). lp3g_bmid*'s hooks into learned_p3b.cu's p3_mid16: P3gDump (MODE 0, u's
// forward with its stage inputs dumped) and P3gGram (MODES 1 / 2, each inner stage's Gram against its dump). Included by
// learned_p3g.cu after learned_p3g_gram.cuh (one translation unit; split out in session 27).
#pragma once

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

// lp3g_bmid0's hook (p3_mid16 PART 0 on u with the forward mats and pq): the planes before every inner stage from 3 on
// and before the pair map to the dumps (slot = the stage's order), the output to O.
// Session 23, the inner-only middles (ONE >= 4, no radix-2 stage): the first stage's input is the rows as loaded, i.e. X2
// itself bit for bit (16-bit rows into 16-bit planes and back), so it is not dumped (slot 0, or slot 1 at ONE = 6 where
// stage 3 is skipped; P3gGram reads X2 there), and slot 7 (W_2, read only by stage 2's Gram, which these plans lack) is not
// written; at N1 = 1 (ONE = 2 / 4: no outer pass, so no outer Gram reads O) the output is not stored (STORE).
template <typename SC, int ONE_ = 0>
struct P3gDump {
  SC* D; SC* O; long long slot;
  __device__ __forceinline__ void begin() {}
  template <typename ST>
  __device__ __forceinline__ void at(int id, const TwP&, ST* zr, ST* zi, long long oa, long long ob) {
    if constexpr (ONE_ >= 4)
      if (id == (ONE_ == 6 ? P3H_F4 : P3H_F3) || id == P3H_I2) return;
    SC* d = D + (id - P3H_F3) * slot;
    store_row16<SC, ST>(d + oa, zr, zi, P3_IN);
    store_row16<SC, ST>(d + ob, zr + SIDX(P3_IN), zi + SIDX(P3_IN), P3_IN);
    __syncthreads();
  }
  __device__ __forceinline__ void load2(long long, int, float2, float2, float, float) {}
  __device__ __forceinline__ void store2(long long, int, float2, float2, float, float) {}
  __device__ __forceinline__ void end() {}
  static constexpr bool OUT = true;
  static constexpr bool XLOAD = false, XSTORE = false;
  static constexpr bool STORE = ONE_ != 2 && ONE_ != 4;
  static constexpr int ONE = ONE_;
  __device__ __forceinline__ SC* out(long long o) { return O + o; }
};

// lp3g_bmid1 / 2's hook (p3_mid16 PART 1 on gW_1 / PART 2 on gC', the adjoint mats): each inner stage's Gram against the
// matching dump into the block's partial slots (s - 2); stage 2's terms summed per thread in fp32 (acc2, [k][n]) at the
// load (PART 1: gW_1 with V_2 = W_2 o (1, conj(w_8192^c))) or the store (PART 2: gY_2 = the planes o (1, conj(w_8192^c))
// with X_2 from X2), added at the next hook point.
template <bool BF16, typename SC, int PART, int ONE_ = 0>
struct P3gGram {
  const SC* D; const SC* X2; long long slot; float* acc; float2* pp;
  float acc2[8] = {};
  __device__ __forceinline__ void begin() { for (int i = threadIdx.x; i < 512 * P3G_NB; i += blockDim.x) acc[i] = 0.f; }
  __device__ __forceinline__ void add2() {   // acc2 summed over the block in a fixed order into acc ([k][n] at p3g_s16), slot 0 out
#pragma unroll
    for (int i = 0; i < 8; ++i)
#pragma unroll
      for (int o = 16; o > 0; o >>= 1) acc2[i] += __shfl_xor_sync(0xffffffffu, acc2[i], o);
    // session 27: the warps' sums through buffer 1 (zero here, as every buffer between Grams) in one round, then added in
    // warp order by eight threads (the order of the former warp-by-warp rounds: the same bits), 2 barriers instead of nw
    const int nw = blockDim.x >> 5;
    float* ws = acc + 512;
    if ((threadIdx.x & 31) == 0)
#pragma unroll
      for (int i = 0; i < 8; ++i) ws[(threadIdx.x >> 5) * 8 + i] = acc2[i];
    __syncthreads();
    if (threadIdx.x < 8) {
      const int i = threadIdx.x, e = p3g_s16(i >> 2, (i >> 1) & 1) * 2 + (i & 1);
      float v = acc[e];
      for (int w = 0; w < nw; ++w) { v += ws[w * 8 + i]; ws[w * 8 + i] = 0.f; }
      acc[e] = v;
    }
    __syncthreads();
    p3g_flush(acc, pp);
  }
  template <typename ST>
  __device__ __forceinline__ void at(int id, const TwP& tw, ST* zr, ST* zi, long long oa, long long ob) {
    // PART 1: F3 (stage 2's flush first) / F4 / F5: dG_3 .. dG_5 against W_3 (slot 6), W_4 (5) with conj(T_s), V_5 (4);
    // PART 2: I5 / I4 / I3: dF_5 .. dF_3 against X_5 (slot 2), X_4 (1), X_3 (0), the planes with conj(T_s) at s < 5
    if (PART == 1 && id == (ONE_ == 6 ? P3H_F4 : P3H_F3)) add2();   // ONE = 6 has no stage 3 (no F3 hook point)
    const bool g = PART == 1 ? id <= P3H_F5 : id >= P3H_I5 && id <= P3H_I3;
    if (!g) return;
    const int s = PART == 1 ? id : 2 * P3H_C - id, q = PART == 1 ? 9 - s : s - 3;   // F3 -> 3, I5 -> 5, I3 -> 3
    const SC* d = ONE_ >= 4 && q == (ONE_ == 6 ? 1 : 0) ? X2 : D + q * slot;   // the undumped first stage input: X2 (P3gDump)
    const int lS = s == 3 ? 8 : s == 4 ? 4 : 0;   // twiddled: PART 2's G and PART 1's X at s < 5
    if (s < 5) p3g_gram16<BF16, ST, SC, PART == 2, PART == 1>(tw, zr, zi, d + oa, d + ob, lS, acc);
    else p3g_gram16<BF16, ST, SC, false, false>(tw, zr, zi, d + oa, d + ob, lS, acc);
    p3g_flush(acc, pp + (s - 2) * 256);
  }
  uint4 lo, hi;   // the other operand's 4 columns of the current work item (16-byte loads at its first column, e = 0)
  __device__ __forceinline__ void other(const SC* r, int e) {
    if (e == 0) { lo = *reinterpret_cast<const uint4*>(r); hi = *reinterpret_cast<const uint4*>(r + P3_IN / 2); }
  }
  __device__ __forceinline__ float2 at4(const uint4& v, int e) { return ldc(reinterpret_cast<const SC*>(&v) + e); }
  __device__ __forceinline__ void load2(long long o, int e, float2 x0, float2 x1, float tc, float ts) {
    if constexpr (PART == 1) {
      other(D + 7 * slot + o, e);
      p3g_gram2(acc2, x0, x1, at4(lo, e), p3g_mul(at4(hi, e), make_float2(tc, -ts)));
    }
  }
  __device__ __forceinline__ void store2(long long o, int e, float2 x0, float2 x1, float tc, float ts) {
    if constexpr (PART == 2) {
      other(X2 + o, e);
      p3g_gram2(acc2, x0, p3g_mul(x1, make_float2(tc, ts)), at4(lo, e), at4(hi, e));
    }
  }
  __device__ __forceinline__ void end() { if (PART == 2) add2(); }
  static constexpr bool OUT = false;
  static constexpr bool XLOAD = false, XSTORE = false;
  static constexpr bool STORE = true;
  static constexpr int ONE = ONE_;
};

// The Gram hook of a block: acc (P3G_NB buffers) behind p3_mid16's planes (dynamic shared memory p3_smem(2) + 2048 P3G_NB),
// its partials in part.
template <bool BF16, int PART, typename SC, int ONE = 0>
__device__ __forceinline__ P3gGram<BF16, SC, PART, ONE> p3g_hook(const SC* D, const SC* X2, long long slot, float2* part) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  P3gGram<BF16, SC, PART, ONE> k;
  k.D = D; k.X2 = X2; k.slot = slot;
  k.acc = reinterpret_cast<float*>(smem_raw + p3_smem(2));
  k.pp = part + ((size_t)blockIdx.y * gridDim.x + blockIdx.x) * 4 * 256;
  return k;
}
