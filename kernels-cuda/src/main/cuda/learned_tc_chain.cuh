// CH, the chained pair kernels of the tensor-core learned butterfly (suffix pc / pdc; LearnedButterflyConv.chainRows,
// -Dlongconv4j.learned.chain): included by learned_tc.cu only, after lbp_tw_load / lbp_twi_build / lbp_out (uses them).
// Shapes: N1 = 32, N2 in {32, 64}, N = 32 N2; the row as a 32 x N2 complex matrix, warp half = w & 1 of a pair.
//
// The pair kernels (lbp_row) pass a row through shared memory four times (X1, P, X3 written; X, X1, P, X3 read). Here
// the two warps split steps 1-3 by ROWS (own 16-row tile) and step 4 by columns, so steps 1 -> 2 -> 3 chain in
// registers: the m16n8k16 accumulators of two neighbouring n8 tiles, rounded to 16 bits (pack2, the same rounding as
// st_pair), are exactly the next product's A fragment of one 16-column k-tile (rows g / g + 8, columns 2t, 2t + 1
// (+ 8)), what ldmatrix of the stored matrix would give. Only X3 goes through the row buffer (step 4 needs all rows).
// Step 1 (row split) reads the whole x row: per pair two x stages of 32 rows of N2 + 8 values (double buffered, each
// warp fills half of the next one by cp.async). Same products, same order, same roundings and the same twiddle start
// values (the recurrence of step 1 restarts at column N2/2 from the TI table, as the column-split kernel's second warp)
// as the pt kernels: the output should equal theirs bit for bit. Per row and warp (1K causal): ~430 instead of ~560
// shared-memory wavefronts, two pair barriers (start of a row: both stage halves landed and the previous step 4 done;
// after step 3: X3 complete).
#pragma once

template <int N2>   // 16-bit elements per pair: the row buffer (32 rows of 2 N2 + 8) and two x stages (32 rows of N2 + 8)
__host__ __device__ constexpr int lbc_pair_el() { return LbtLayout<32, N2>::WARP_BYTES / 2 + 2 * 32 * (N2 + 8); }

// The row's x (16 kt rows, zero past L) into the stage S by cp.async; warp half takes every other group of 32 chunks.
template <int N2, typename IO>
__device__ __forceinline__ void lbc_stage_async(const IO* xrow, uint16_t* S, int L, int kt, int half) {
  constexpr int CPR = N2 / 8;
  for (int i = 32 * half + (threadIdx.x & 31); i < 16 * kt * CPR; i += 64) {
    const int r = i / CPR, c = 8 * (i - r * CPR), n = r * N2 + c;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" :: "r"((uint32_t)__cvta_generic_to_shared(S + r * (N2 + 8) + c)),
                 "l"(xrow + (n < L ? n : 0)), "r"(n < L ? 16 : 0) : "memory");
  }
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}

// One 16-column tile jp of a chained right product: C (16 x 16 complex, two n8 tiles) = A (registers, k-tiles of the own
// rows) @ M, M's Re / Im planes stored transposed (rows of SB): Cr += Ar Mr + Ai (-Mi), Ci += Ar Mi + Ai Mr (as right_product).
template <bool BF16, int JP, int SB>
__device__ __forceinline__ void lbc_mma_tile(const uint32_t (&ar)[JP][4], const uint32_t (&ai)[JP][4], const uint16_t* mr,
                                             const uint16_t* mi, int jp, float (&cr)[2][4], float (&ci)[2][4]) {
  const int lane = threadIdx.x & 31, lr = lane & 7, lm = lane >> 3;
#pragma unroll
  for (int j = 0; j < 2; ++j)
#pragma unroll
    for (int q = 0; q < 4; ++q) { cr[j][q] = 0.f; ci[j][q] = 0.f; }
#pragma unroll
  for (int kk = 0; kk < JP; ++kk) {
    uint32_t fr[4], fi[4];
    const int boff = (16 * jp + (lm >> 1) * 8 + lr) * SB + 16 * kk + (lm & 1) * 8;
    ldsm_x4(fr, mr + boff);
    ldsm_x4(fi, mi + boff);
    const uint32_t nf[4] = {fi[0] ^ SIGN2, fi[1] ^ SIGN2, fi[2] ^ SIGN2, fi[3] ^ SIGN2};
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      mma16816<BF16>(cr[j], ar[kk], fr[2 * j], fr[2 * j + 1]);
      mma16816<BF16>(cr[j], ai[kk], nf[2 * j], nf[2 * j + 1]);
      mma16816<BF16>(ci[j], ar[kk], fi[2 * j], fi[2 * j + 1]);
      mma16816<BF16>(ci[j], ai[kk], fr[2 * j], fr[2 * j + 1]);
    }
  }
}

// The own 16-row tile (rows r0 + [0, 16) of the N1 x N2 row) through steps 1 to 3, X1 and P in registers. xs: x as the
// real matrix (rows of XS 16-bit values, rows < 16 kt); a1r / a1i, b2*, b3*: the blocks (LbtLayout<N1, N2>); tw0 / tw1:
// the lane's start values of step 1's twiddle recurrence (lbp_tw_load layout) for columns < RESTART * 16 / from there
// (the TI table restarts at column N2/2 as the column-split pair kernels do), tw3: step 3's. kp: Kp (padded rows of SK).
// X3 goes to Xh (the tile's rows of the row buffer). dh != nullptr (the backward): X1, C, P, X3 staged in Xh (free until
// step 3) and dumped in 16-byte rows (dump_rows); 4-byte stores straight from the fragments ran 2x slower (lbf4-1).
// KF (the adjoint chain of the backward, suffix pdck / f2ck, LearnedButterflyConv.fusedDkp): dKp's products in the chain.
// fc: the forward chain's dumped C (slot 1) at the own tile's first row; ka: the block's fp32 accumulator, Re plane then
// Im plane (N1 rows of N2 + 8 floats each: the 8 lane groups' rows fall 8 banks apart, at most 2-way conflicts). Per
// element ka += C_adj * conj(C_fwd) by shared-memory atomics (the pairs of a block share it), C_adj in fp32 (the current
// route rounds it to 16 bits in the dump first); the adjoint's slot 1 is not dumped (nobody reads it).
template <int N2>
__host__ __device__ constexpr int lbk_stride() { return N2 + 8; }

template <bool BF16>
__device__ __forceinline__ float2 unpack2(uint32_t w) {   // the two 16-bit values of a pair (low = first) as fp32
  if constexpr (BF16) return make_float2(__uint_as_float(w << 16), __uint_as_float(w & 0xffff0000u));
  else {
    const __half2 hv = *reinterpret_cast<const __half2*>(&w);
    return __half22float2(hv);
  }
}

// D3 = false (the chain-Gram kernels, suffix pdcg): slot 3 (X3) is not dumped (its only reader, the dGa / dFa Gram,
// runs inside the chain: lbg_row).
template <bool BF16, int N1, int N2, int XS, int RESTART, bool KF = false, bool D3 = true>
__device__ __forceinline__ void lbc_steps(const uint16_t* xs, int kt, int r0, bool conjK, const uint16_t* sb, const float2* kp,
                                          const float2* tw0, const float2* tw1, const float2* tw3, uint16_t* Xh, uint16_t* dh,
                                          const uint16_t* __restrict__ fc = nullptr, float* ka = nullptr) {
  using Lo = LbtLayout<N1, N2>;
  constexpr int N = N1 * N2, JP = N2 / 16, KT1 = N1 / 16, SLOT = 2 * N;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, lr = lane & 7, lm = lane >> 3;
  const uint16_t *a1r = sb, *a1i = a1r + Lo::A_EL, *b2r = a1i + Lo::A_EL, *b2i = b2r + Lo::B_EL, *b3r = b2i + Lo::B_EL,
                 *b3i = b3r + Lo::B_EL;
  // ---- step 1 (own rows, all columns): X1 = (a1 @ X) * T, kept as step 2's A fragments (k-tile jp)
  uint32_t ar[JP][4], ai[JP][4];
  {
    uint32_t fr[KT1][4], fi[KT1][4];
#pragma unroll
    for (int kk = 0; kk < KT1; ++kk)
      if (kk < kt) {
        const int aoff = (r0 + (lm & 1) * 8 + lr) * Lo::SA + 16 * kk + (lm >> 1) * 8;
        ldsm_x4(fr[kk], a1r + aoff);
        ldsm_x4(fi[kk], a1i + aoff);
      }
    float2 cur[4], stp[2];
#pragma unroll
    for (int jp = 0; jp < JP; ++jp) {
      if (jp == 0 || jp == RESTART) lbp_tw_load(jp == 0 ? tw0 : tw1, cur, stp);
      uint32_t xb[KT1][4];
#pragma unroll
      for (int kk = 0; kk < KT1; ++kk)
        if (kk < kt) ldsm_x4_t(xb[kk], xs + (16 * kk + (lm & 1) * 8 + lr) * XS + 16 * jp + (lm >> 1) * 8);
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        float cr[4] = {0.f, 0.f, 0.f, 0.f}, ci[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
        for (int kk = 0; kk < KT1; ++kk)
          if (kk < kt) {
            mma16816<BF16>(cr, fr[kk], xb[kk][2 * j], xb[kk][2 * j + 1]);
            mma16816<BF16>(ci, fi[kk], xb[kk][2 * j], xb[kk][2 * j + 1]);
          }
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const float2 w0 = cur[2 * h], w1 = cur[2 * h + 1];
          cur[2 * h] = cmul(w0, stp[h]); cur[2 * h + 1] = cmul(w1, stp[h]);
          const float2 v0 = cmul(make_float2(cr[2 * h], ci[2 * h]), w0), v1 = cmul(make_float2(cr[2 * h + 1], ci[2 * h + 1]), w1);
          ar[jp][2 * j + h] = pack2<BF16>(v0.x, v1.x);
          ai[jp][2 * j + h] = pack2<BF16>(v0.y, v1.y);
        }
      }
    }
  }
  __syncwarp();   // x read before Xh is written (one-warp rows keep x in the row buffer)
  if (dh != nullptr) {   // slot 0: X1
#pragma unroll
    for (int jp = 0; jp < JP; ++jp)
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        uint16_t* p = Xh + (g + 8 * (q & 1)) * Lo::SX + 16 * jp + 8 * (q >> 1) + 2 * t;
        *reinterpret_cast<uint32_t*>(p) = ar[jp][q];
        *reinterpret_cast<uint32_t*>(p + N2) = ai[jp][q];
      }
    __syncwarp();
    dump_rows<16, N2>(Xh, dh);
    __syncwarp();
  }
  // ---- step 2 (own rows): P = (X1 @ b2) * Kp, kept as step 3's A fragments
  uint32_t pr[JP][4], pi[JP][4];
#pragma unroll
  for (int jp = 0; jp < JP; ++jp) {
    float cr[2][4], ci[2][4];
    uint32_t fcv[2][2][2];   // KF: the forward C of the lane's pairs (j, h, Re / Im), loaded before the products
    if constexpr (KF) {
#pragma unroll
      for (int j = 0; j < 2; ++j)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const uint16_t* q = fc + (g + 8 * h) * 2 * N2 + 16 * jp + 8 * j + 2 * t;
          fcv[j][h][0] = __ldg(reinterpret_cast<const unsigned int*>(q));
          fcv[j][h][1] = __ldg(reinterpret_cast<const unsigned int*>(q + N2));
        }
    }
    lbc_mma_tile<BF16, JP, Lo::SB>(ar, ai, b2r, b2i, jp, cr, ci);
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = g + 8 * h, col = 16 * jp + 8 * j + 2 * t;   // row in the own tile
        if constexpr (KF) {   // dKp += C_adj conj(C_fwd) for col, col + 1
          const float2 fr = unpack2<BF16>(fcv[j][h][0]), fi = unpack2<BF16>(fcv[j][h][1]);
          float* kr = ka + (r0 + row) * lbk_stride<N2>() + col;
          float* ki = kr + N1 * lbk_stride<N2>();
          const float a0 = cr[j][2 * h], b0 = ci[j][2 * h], a1 = cr[j][2 * h + 1], b1 = ci[j][2 * h + 1];
          atomicAdd(kr, a0 * fr.x + b0 * fi.x);
          atomicAdd(kr + 1, a1 * fr.y + b1 * fi.y);
          atomicAdd(ki, b0 * fr.x - a0 * fi.x);
          atomicAdd(ki + 1, b1 * fr.y - a1 * fi.y);
        }
        const float4 kv = *reinterpret_cast<const float4*>(kp + (r0 + row) * Lo::SK + col);   // Kp of col, col + 1
        float2 k0 = make_float2(kv.x, kv.y), k1 = make_float2(kv.z, kv.w);
        if (conjK) { k0.y = -k0.y; k1.y = -k1.y; }
        const float2 v0 = cmul(make_float2(cr[j][2 * h], ci[j][2 * h]), k0), v1 = cmul(make_float2(cr[j][2 * h + 1], ci[j][2 * h + 1]), k1);
        pr[jp][2 * j + h] = pack2<BF16>(v0.x, v1.x);
        pi[jp][2 * j + h] = pack2<BF16>(v0.y, v1.y);
        if (!KF && dh != nullptr) {   // slot 1: C (before Kp), staged in Xh
          st_pair<BF16>(Xh + row * Lo::SX + col, cr[j][2 * h], cr[j][2 * h + 1]);
          st_pair<BF16>(Xh + row * Lo::SX + N2 + col, ci[j][2 * h], ci[j][2 * h + 1]);
        }
      }
  }
  if (dh != nullptr) {   // slot 1: C (not KF); slot 2: P from the fragments, staged in Xh
    __syncwarp();
    if constexpr (!KF) {
      dump_rows<16, N2>(Xh, dh + SLOT);
      __syncwarp();
    }
#pragma unroll
    for (int jp = 0; jp < JP; ++jp)
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        uint16_t* p = Xh + (g + 8 * (q & 1)) * Lo::SX + 16 * jp + 8 * (q >> 1) + 2 * t;
        *reinterpret_cast<uint32_t*>(p) = pr[jp][q];
        *reinterpret_cast<uint32_t*>(p + N2) = pi[jp][q];
      }
    __syncwarp();
    dump_rows<16, N2>(Xh, dh + 2 * SLOT);
    __syncwarp();
  }
  // ---- step 3 (own rows): X3 = (P @ b3) * conj(T) / N into Xh; the 1/N (a power of two: exact) rides on the twiddles
  const float invN = 1.0f / (float)N;
  float2 cur[4], stp[2];   // w^(row col) / N of the lane's next columns (slot e = 2h + q), and the step w^(8 row)
  lbp_tw_load(tw3, cur, stp);
#pragma unroll
  for (int e = 0; e < 4; ++e) cur[e] = make_float2(cur[e].x * invN, cur[e].y * invN);
#pragma unroll
  for (int jp = 0; jp < JP; ++jp) {
    float cr[2][4], ci[2][4];
    lbc_mma_tile<BF16, JP, Lo::SB>(pr, pi, b3r, b3i, jp, cr, ci);
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = g + 8 * h, col = 16 * jp + 8 * j + 2 * t;
        float2 v[2];
#pragma unroll
        for (int q = 0; q < 2; ++q) {
          const int e = 2 * h + q;
          const float2 w = cur[e];
          cur[e] = cmul(w, stp[h]);
          const float c_r = cr[j][e], c_i = ci[j][e];
          v[q] = make_float2(c_r * w.x + c_i * w.y, c_i * w.x - c_r * w.y);
        }
        st_pair<BF16>(Xh + row * Lo::SX + col, v[0].x, v[1].x);
        st_pair<BF16>(Xh + row * Lo::SX + N2 + col, v[0].y, v[1].y);
      }
  }
  __syncwarp();
  if (D3 && dh != nullptr) dump_rows<16, N2>(Xh, dh + 3 * SLOT);   // slot 3: X3
}

// GV (the chain-Gram kernels, suffix pdcg1 / pdcg2; LearnedButterflyConv.chainGrams, lbf8): the N1 x N1 Gram of X3 with
// the OTHER input v of the same row (the forward chain: v = dy, gives dGa = M^H; the adjoint chain: v = u, gives dFa = M),
//   M[i][j] = sum_k X3[i][k] V[j][k],  V[j][k] = v[j N2 + k] (zero past L), real,
// summed over the rows a pair processes into the pair's fp32 accumulator in shared memory (Re plane, Im plane; 32 rows of
// SJ floats, j < 16 GV: V's rows past ceil(L / N2), rounded up to 16, are zero and skipped), one partial per block at
// the end (lbg_flush). The products are learned_tc_bwd.cu lbt_gram's form B on the same 16-bit X3 (the value slot 3
// dumps) and the same V; only the fp32 summation order differs. Per row and warp, after step 4: the own 16 X3 rows
// (ldmatrix from the row buffer) times V^T, V's B fragments by ldmatrix from the pair's V stage, which is filled one row
// ahead by cp.async beside the x stage (double buffered; L % 8 != 0: element loads at the row's start, as x).
// Per pair (lbg_pair_el): the row buffer, two x stages of XR = (GV == 1 ? 16 : 32) rows (GV = 1 needs only kt = 1 row
// tile of x: the same bytes as pdc's two 32-row stages hold the x and the V stages), two V stages of 16 GV rows; rows
// of N2 + 8 values. (The first version, lbf8-1, loaded V's fragments from global memory before step 4: the chain took
// 645-649 us at 1K against pdc's 569, DRAM 46 %: latency-bound on those loads.)
template <int GV>
__host__ __device__ constexpr int lbg_sj() { return 16 * GV + 8; }   // 64-bit accesses of 16 lanes hit distinct banks
template <int GV>
__host__ __device__ constexpr int lbg_pair_floats() { return 2 * 32 * lbg_sj<GV>(); }
template <int GV>
__host__ __device__ constexpr int lbg_xrows() { return GV == 1 ? 16 : 32; }
template <int N2, int GV>
__host__ __device__ constexpr int lbg_pair_el() {
  return LbtLayout<32, N2>::WARP_BYTES / 2 + 2 * lbg_xrows<GV>() * (N2 + 8) + 2 * 16 * GV * (N2 + 8);
}

// acc: the pair's accumulator at the warp's first row (Re at acc, Im at acc + PR SJ; PR rows per plane: 32, or 16 for
// the one-warp rows of f2cg); Xh: the warp's 16 rows of X3; Vs: the row's V stage (16 GV rows of N2 + 8 values).
template <bool BF16, int N2, int GV, int PR = 32>
__device__ __forceinline__ void lbg_mma(const uint16_t* Xh, const uint16_t* Vs, float* acc) {
  constexpr int SX = 2 * N2 + 8, SS = N2 + 8, SJ = lbg_sj<GV>();
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, lr = lane & 7, lm = lane >> 3;
  float cr[2 * GV][4], ci[2 * GV][4];
#pragma unroll
  for (int nt = 0; nt < 2 * GV; ++nt)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const float2 a = *reinterpret_cast<const float2*>(acc + (g + 8 * h) * SJ + 8 * nt + 2 * t);
      const float2 b = *reinterpret_cast<const float2*>(acc + PR * SJ + (g + 8 * h) * SJ + 8 * nt + 2 * t);
      cr[nt][2 * h] = a.x; cr[nt][2 * h + 1] = a.y; ci[nt][2 * h] = b.x; ci[nt][2 * h + 1] = b.y;
    }
#pragma unroll
  for (int kk = 0; kk < N2 / 16; ++kk) {
    uint32_t ar[4], ai[4];
    const uint16_t* p = Xh + ((lm & 1) * 8 + lr) * SX + 16 * kk + (lm >> 1) * 8;
    ldsm_x4(ar, p);
    ldsm_x4(ai, p + N2);
#pragma unroll
    for (int jt = 0; jt < GV; ++jt) {   // V^T's B fragments of n-tiles 2 jt, 2 jt + 1 (V stored [j][k]: as the b2 planes)
      uint32_t f[4];
      ldsm_x4(f, Vs + (16 * jt + (lm >> 1) * 8 + lr) * SS + 16 * kk + (lm & 1) * 8);
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        mma16816<BF16>(cr[2 * jt + j], ar, f[2 * j], f[2 * j + 1]);
        mma16816<BF16>(ci[2 * jt + j], ai, f[2 * j], f[2 * j + 1]);
      }
    }
  }
#pragma unroll
  for (int nt = 0; nt < 2 * GV; ++nt)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      *reinterpret_cast<float2*>(acc + (g + 8 * h) * SJ + 8 * nt + 2 * t) = make_float2(cr[nt][2 * h], cr[nt][2 * h + 1]);
      *reinterpret_cast<float2*>(acc + PR * SJ + (g + 8 * h) * SJ + 8 * nt + 2 * t) = make_float2(ci[nt][2 * h], ci[nt][2 * h + 1]);
    }
}

// GR (suffix pdcg1r; LearnedButterflyConv.registerGrams, lbf9): GV = 1's accumulators in registers instead of shared
// memory. Each warp of a pair owns its 16 rows of the pair's accumulator (lbg_mma reads and writes only acc + 16 half SJ
// at the warp's fragment positions), so the 16 fp32 per lane (2 n-tiles x 4, Re and Im) can stay in the lane's
// registers across the rows of lbc_rows' loop: no shared-memory read-modify-write per row (lbf8-3 ncu: the 1K chain's
// short-scoreboard stall grew 0.65 -> 0.89 per instruction with it). The same MMAs in the same order per lane as
// lbg_mma<.., 1>, so the sums are bitwise those of pdcg1; lbg_store writes them once to the pair's shared-memory
// accumulator (the layout lbg_flush reads) after the loop.
struct LbgAcc { float r[2][4], i[2][4]; };
template <bool BF16, int N2>
__device__ __forceinline__ void lbg_mma_reg(const uint16_t* Xh, const uint16_t* Vs, LbgAcc& a) {
  constexpr int SX = 2 * N2 + 8, SS = N2 + 8;
  const int lane = threadIdx.x & 31, lr = lane & 7, lm = lane >> 3;
#pragma unroll
  for (int kk = 0; kk < N2 / 16; ++kk) {
    uint32_t ar[4], ai[4], f[4];
    const uint16_t* p = Xh + ((lm & 1) * 8 + lr) * SX + 16 * kk + (lm >> 1) * 8;
    ldsm_x4(ar, p);
    ldsm_x4(ai, p + N2);
    ldsm_x4(f, Vs + ((lm >> 1) * 8 + lr) * SS + 16 * kk + (lm & 1) * 8);
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      mma16816<BF16>(a.r[j], ar, f[2 * j], f[2 * j + 1]);
      mma16816<BF16>(a.i[j], ai, f[2 * j], f[2 * j + 1]);
    }
  }
}
// acc: the pair's accumulator at the warp's first row (Re plane, Im plane 32 SJ floats later), lbg_mma's layout (GV = 1).
__device__ __forceinline__ void lbg_store(const LbgAcc& a, float* acc) {
  constexpr int SJ = lbg_sj<1>();
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int nt = 0; nt < 2; ++nt)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      *reinterpret_cast<float2*>(acc + (g + 8 * h) * SJ + 8 * nt + 2 * t) = make_float2(a.r[nt][2 * h], a.r[nt][2 * h + 1]);
      *reinterpret_cast<float2*>(acc + 32 * SJ + (g + 8 * h) * SJ + 8 * nt + 2 * t) = make_float2(a.i[nt][2 * h], a.i[nt][2 * h + 1]);
    }
}

// The block's partial Gram (M x M float2, row-major; M = N1) from its units' accumulators (units: the pairs at N1 = 32,
// the warps at N1 = 16; unit u's planes at gacc + u UF), summed in unit order: M, or with herm M^H (the forward
// chain's dGa). part: this block's slot, (blockIdx.y gridDim.x + blockIdx.x) M^2 float2.
template <int M, int GV>
__device__ __forceinline__ void lbg_flush(const float* gacc, float2* __restrict__ part, int herm, int units, int UF) {
  constexpr int SJ = lbg_sj<GV>();
  __syncthreads();
  for (int e = threadIdx.x; e < M * M; e += blockDim.x) {
    const int i = e / M, j = e - i * M;
    float re = 0.f, im = 0.f;
    if (j < 16 * GV)
      for (int p = 0; p < units; ++p) { re += gacc[p * UF + i * SJ + j]; im += gacc[p * UF + M * SJ + i * SJ + j]; }
    if (herm) part[j * M + i] = make_float2(re, -im);
    else part[e] = make_float2(re, im);
  }
}

// f2cg (N1 = 16, one warp per row): the row's V (16 rows, kt = 1 always) into the warp's V stage Vs, by cp.async
// (L % 8 == 0, committed; zero past L) or element loads (then __syncwarp).
template <typename IO, int N2>
__device__ __forceinline__ void lbg_stage16(const IO* __restrict__ v, uint16_t* Vs, int L) {
  constexpr int SS = N2 + 8, CPR = N2 / 8;
  const int lane = threadIdx.x & 31;
  if ((L & 7) == 0) {
    for (int i = lane; i < 16 * CPR; i += 32) {
      const int r = i / CPR, c = 8 * (i - r * CPR), n = r * N2 + c;
      asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" :: "r"((uint32_t)__cvta_generic_to_shared(Vs + r * SS + c)),
                   "l"(v + (n < L ? n : 0)), "r"(n < L ? 16 : 0) : "memory");
    }
    asm volatile("cp.async.commit_group;\n" ::: "memory");
  } else {
    for (int i = lane; i < 16 * N2; i += 32) {
      const int r = i / N2, c = i - r * N2;
      st(reinterpret_cast<IO*>(Vs) + r * SS + c, i < L ? ld(v + i) : 0.f);
    }
    __syncwarp();
  }
}

// GV > 0: the Gram of X3 with vrow (its stage Vc, the next row's vnext into Vn) into the pair's accumulator gacc
// (lbg_mma); slot 3 not dumped.
template <typename IO, bool BF16, int N2, bool DUMP, bool KF = false, int GV = 0, bool GR = false>
__device__ __forceinline__ void lbc_row(const IO* __restrict__ xrow, IO* __restrict__ orow, float d, int L, bool conjK,
                                        uint16_t* X, const uint16_t* sb, const float2* kp, const float2* twi, uint16_t* dump,
                                        const IO* __restrict__ xnext, uint16_t* Sc, uint16_t* Sn, int bar,
                                        const uint16_t* __restrict__ fc = nullptr, float* ka = nullptr,
                                        const IO* __restrict__ vrow = nullptr, float* gacc = nullptr,
                                        const IO* __restrict__ vnext = nullptr, uint16_t* Vc = nullptr, uint16_t* Vn = nullptr,
                                        LbgAcc* racc = nullptr) {
  using Lo = LbtLayout<32, N2>;
  constexpr int JPW = N2 / 32, SS = N2 + 8;
  const int lane = threadIdx.x & 31, half = (threadIdx.x >> 5) & 1;
  const int kt = ((L + N2 - 1) / N2 + 15) >> 4;   // non-zero input / needed output rows, in tiles
  const bool vec = (L & 7) == 0;
  if (vec) asm volatile("cp.async.wait_all;\n" ::: "memory");   // this row's x (own half), queued during the previous row
  else for (int i = 32 * half + lane; i < 16 * kt * N2; i += 64) {   // any L: synchronous element loads
    const int r = i / N2, c = i - r * N2;
    st(reinterpret_cast<IO*>(Sc) + r * SS + c, i < L ? ld(xrow + i) : 0.f);
    if constexpr (GV > 0) st(reinterpret_cast<IO*>(Vc) + r * SS + c, i < L ? ld(vrow + i) : 0.f);
  }
  asm volatile("bar.sync %0, 64;\n" :: "r"(bar) : "memory");
  if (vec && xnext != nullptr) lbc_stage_async<N2, IO>(xnext, Sn, L, kt, half);   // the next row's x, behind steps 1 to 4
  if constexpr (GV > 0)
    if (vec && xnext != nullptr) lbc_stage_async<N2, IO>(vnext, Vn, L, kt, half);   // and its V
  // the TI table's start values: (column half c, row tile m) at (3 c + m) * 192, step 3 of the own rows at (3 half + 2) * 192
  lbc_steps<BF16, 32, N2, SS, JPW, KF, GV == 0>(Sc, kt, 16 * half, conjK, sb, kp, twi + half * 6 * 32 + lane, twi + (3 + half) * 6 * 32 + lane,
                                       twi + (half * 3 + 2) * 6 * 32 + lane, X + 16 * half * Lo::SX,
                                       DUMP ? dump + 16 * half * 2 * N2 : nullptr, KF ? fc + 16 * half * 2 * N2 : nullptr, ka);
  asm volatile("bar.sync %0, 64;\n" :: "r"(bar) : "memory");
  const uint16_t* a4r = sb + 2 * Lo::A_EL + 4 * Lo::B_EL;
  lbp_out<IO, BF16, N2>(xrow, orow, d, L, X, a4r, a4r + Lo::A_EL, kt, half * (N2 / 2), half * JPW, Sc);   // x of the skip term from Sc
  if constexpr (GR) lbg_mma_reg<BF16, N2>(X + 16 * half * Lo::SX, Vc, *racc);   // GR: GV = 1 in registers
  else if constexpr (GV > 0) lbg_mma<BF16, N2, GV>(X + 16 * half * Lo::SX, Vc, gacc + 16 * half * lbg_sj<GV>());
}

// A one-warp row at N1 = 16 (the f2c kernels): x into the warp's buffer X, lbc_steps (X3 back into X), step 4 (lbt_out).
// tw: the full twiddle table, then the lanes' start values (FE: lbp_tw_init(tw, g, 2t), one row tile: steps 1 and 3 alike).
// GV (f2cg, lbf8): the row's V staged into Vs at the start (cp.async, behind x's load and steps 1-3), the Gram of X3
// (16 rows, in X after step 3) with it into the warp's accumulator gacc before step 4 (which overwrites X); slot 3 not
// dumped.
template <typename IO, bool BF16, int N2, bool KF = false, int GV = 0>
__device__ __forceinline__ void lbc_row16(const IO* __restrict__ xrow, IO* __restrict__ orow, float d, int L, bool conjK,
                                          uint16_t* X, const uint16_t* sb, const float2* kp, const float2* tw, uint16_t* dump,
                                          const uint16_t* __restrict__ fc = nullptr, float* ka = nullptr,
                                          const IO* __restrict__ vrow = nullptr, float* gacc = nullptr, uint16_t* Vs = nullptr) {
  using Lo = LbtLayout<16, N2>;
  constexpr int N = 16 * N2;
  const int kt = ((L + N2 - 1) / N2 + 15) >> 4;
  if constexpr (GV > 0) lbg_stage16<IO, N2>(vrow, Vs, L);
  lbt_load_x<IO, 16, N2>(xrow, X, L, kt);
  const float2* t0 = tw + N + (threadIdx.x & 31);
  lbc_steps<BF16, 16, N2, Lo::SX, N2 / 16, KF, GV == 0>(X, kt, 0, conjK, sb, kp, t0, t0, t0, X, dump, fc, ka);
  if constexpr (GV > 0) {
    asm volatile("cp.async.wait_all;\n" ::: "memory");
    __syncwarp();
    lbg_mma<BF16, N2, 1, 16>(X, Vs, gacc);
  }
  const uint16_t* a4r = sb + 2 * Lo::A_EL + 4 * Lo::B_EL;
  lbt_out<IO, BF16, 16, N2>(xrow, orow, d, L, X, a4r, a4r + Lo::A_EL, kt);
}

// Grid (ceil(B / (W / 2)), H) at most, block 32 W (W even); twi: the TI start values (lbp_twi_build).
// GV > 0: v (B, H, L), the other input (lbc_row's vrow), ka the pairs' Gram accumulators (lbg_pair_floats each).
// GR (GV = 1 only): the Gram accumulators in registers (LbgAcc), stored to ka once after the loop.
template <typename IO, bool BF16, int N2, bool DUMP, bool KF = false, int GV = 0, bool GR = false>
__device__ void lbc_rows(const IO* __restrict__ x, IO* __restrict__ out, float d, int B, int H, int L, int conjK,
                         uint16_t* bufs, const uint16_t* sb, const float2* skp, const float2* twi, uint16_t* __restrict__ dump,
                         const uint16_t* __restrict__ fdump = nullptr, float* ka = nullptr, const IO* __restrict__ v = nullptr) {
  constexpr int N = 32 * N2;
  const int h = blockIdx.y, R = blockDim.x >> 6, pair = threadIdx.x >> 6, half = (threadIdx.x >> 5) & 1;
  constexpr int XR = GV > 0 ? lbg_xrows<GV>() : 32;   // x stage rows (GV: lbg_pair_el's layout, V stages after the x stages)
  uint16_t *X = bufs + pair * (GV > 0 ? lbg_pair_el<N2, (GV > 0 ? GV : 1)>() : lbc_pair_el<N2>()),
           *S0 = X + LbtLayout<32, N2>::WARP_BYTES / 2, *S1 = S0 + XR * (N2 + 8), *V0 = S1 + XR * (N2 + 8),
           *V1 = V0 + 16 * GV * (N2 + 8);
  int b = blockIdx.x * R + pair;
  const int kt = ((L + N2 - 1) / N2 + 15) >> 4;
  if ((L & 7) == 0 && b < B) lbc_stage_async<N2, IO>(x + ((size_t)b * H + h) * L, S0, L, kt, half);   // the first row
  if (GV > 0 && (L & 7) == 0 && b < B) lbc_stage_async<N2, IO>(v + ((size_t)b * H + h) * L, V0, L, kt, half);
  static_assert(!GR || GV == 1, "register Gram accumulators: GV = 1 only");
  LbgAcc racc;
  if constexpr (GR) {
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) { racc.r[j][e] = 0.f; racc.i[j][e] = 0.f; }
  }
  for (int it = 0; b < B; b += gridDim.x * R, ++it) {
    const size_t off = ((size_t)b * H + h) * L;
    const int bn = b + gridDim.x * R;
    lbc_row<IO, BF16, N2, DUMP, KF, GV, GR>(x + off, out + off, d, L, conjK != 0, X, sb, skp, twi,
                                        DUMP ? dump + ((size_t)b * H + h) * 8 * N : nullptr, bn < B ? x + ((size_t)bn * H + h) * L : nullptr,
                                        (it & 1) ? S1 : S0, (it & 1) ? S0 : S1, 1 + pair,
                                        KF ? fdump + ((size_t)b * H + h) * 8 * N + 2 * N : nullptr, ka,
                                        GV > 0 ? v + off : nullptr, GV > 0 ? ka + pair * lbg_pair_floats<(GV > 0 ? GV : 1)>() : nullptr,
                                        GV > 0 && bn < B ? v + ((size_t)bn * H + h) * L : nullptr, (it & 1) ? V1 : V0, (it & 1) ? V0 : V1,
                                        &racc);
  }
  if constexpr (GR) lbg_store(racc, ka + pair * lbg_pair_floats<1>() + 16 * half * lbg_sj<1>());   // lbg_flush syncs
}
