// CB, the chained pair kernels on NB batch rows at once (suffix pc2; LearnedButterflyConv.batchRows,
// -Dlongconv4j.learned.rows2): included by learned_tc.cu only, after learned_tc_chain.cuh (uses lbc_stage_async,
// lbp_tw_load, lbp_twi_build). Shapes: N1 = 32, N2 = 32 (N = 1024, L = 512 causal), NB = 2 rows b, b + 1 of one channel h.
//
// The chained pair kernel (lbc_row) gives each warp of a pair one 16-row tile of ONE row in steps 1-3; every block
// fragment (a1 in step 1, b2 / b3 in steps 2 / 3, a4 in step 4), every Kp value and every epilogue twiddle (the
// recurrence's state) is loaded / advanced once per warp and row (lbf4-2's ncu at 1K: ~56 % of the shared loads are the
// b2 / b3 fragments). Here the pair holds NB rows of the same channel: the warp of half w owns row tile w of both rows,
// so each fragment, Kp value and twiddle step is used NB times (the rows share h: the same Kp; the same (row, col):
// the same twiddles), and each warp has NB independent accumulator chains in flight per fragment. Per row and warp the
// products, their order, the roundings and the twiddle values are lbc_row's: the output should equal pc's bit for bit
// (ptxas may contract fp32 operations differently; the GPU test bounds it). Registers: the X1 and P fragments of NB
// rows (NB * 2 * 16 * N2 / 32 32-bit registers each): NB = 2 fits at N2 = 32 only (at N2 = 64 that is 128 for X1 and P).
// Per pair: NB row buffers (32 rows of 2 N2 + 8) and two sets of NB x stages (32 rows of N2 + 8); two pair barriers per
// NB rows. A row b + q >= B (odd B) runs on row b's x and writes nothing.
#pragma once

template <int N2, int NB>   // 16-bit elements per pair: NB row buffers, then two sets of NB x stages
__host__ __device__ constexpr int lbc2_pair_el() { return NB * LbtLayout<32, N2>::WARP_BYTES / 2 + 2 * NB * 32 * (N2 + 8); }

__device__ __forceinline__ void ldsm_x2(uint32_t (&r)[2], const void* p) {   // lanes 0-15 address the two 8 x 8 tiles' rows
  const uint32_t a = (uint32_t)__cvta_generic_to_shared(p);
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n" : "=r"(r[0]), "=r"(r[1]) : "r"(a) : "memory");
}

// One n8 tile j of the 16-column tile jp of a chained right product for NB rows: Cr += Ar Mr + Ai (-Mi), Ci += Ar Mi +
// Ai Mr in lbc_mma_tile's k order, M's Re / Im planes stored transposed (rows of SB). The fragments of (kk, j) by
// ldmatrix x2 (the halves lbc_mma_tile's x4 gives as f[2j], f[2j + 1]): 16 NB accumulators and 8 fragment registers
// live per n8 tile instead of 32 NB and 12 (the registers of NB = 2 at 16 warps).
template <bool BF16, int JP, int NB, int SB>
__device__ __forceinline__ void lbc2_mma_j(const uint32_t (&ar)[NB][JP][4], const uint32_t (&ai)[NB][JP][4], const uint16_t* mr,
                                           const uint16_t* mi, int jp, int j, float (&cr)[NB][4], float (&ci)[NB][4]) {
  const int lane = threadIdx.x & 31, lr = lane & 7, lm = lane >> 3;
#pragma unroll
  for (int q = 0; q < NB; ++q)
#pragma unroll
    for (int e = 0; e < 4; ++e) { cr[q][e] = 0.f; ci[q][e] = 0.f; }
#pragma unroll
  for (int kk = 0; kk < JP; ++kk) {
    uint32_t fr[2], fi[2];
    const int boff = (16 * jp + 8 * j + lr) * SB + 16 * kk + (lm & 1) * 8;
    ldsm_x2(fr, mr + boff);
    ldsm_x2(fi, mi + boff);
#pragma unroll
    for (int q = 0; q < NB; ++q) {
      mma16816<BF16>(cr[q], ar[q][kk], fr[0], fr[1]);
      mma16816<BF16>(cr[q], ai[q][kk], fi[0] ^ SIGN2, fi[1] ^ SIGN2);
      mma16816<BF16>(ci[q], ar[q][kk], fi[0], fi[1]);
      mma16816<BF16>(ci[q], ai[q][kk], fr[0], fr[1]);
    }
  }
}

// lbc_steps (no dumps) for NB rows: the own 16-row tile r0 of each row through steps 1 to 3. xs: row q's x stage at
// xs + q * 32 (N2 + 8); X3 of row q into Xh + q * 32 SX (the tile's rows of row q's buffer). Other arguments as lbc_steps.
template <bool BF16, int N2, int NB, int RESTART>
__device__ __forceinline__ void lbc2_steps(const uint16_t* xs, int kt, int r0, bool conjK, const uint16_t* sb, const float2* kp,
                                           const float2* tw0, const float2* tw1, const float2* tw3, uint16_t* Xh) {
  using Lo = LbtLayout<32, N2>;
  constexpr int N = 32 * N2, JP = N2 / 16, KT1 = 2, XS = N2 + 8, XST = 32 * XS, XB = 32 * Lo::SX;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, lr = lane & 7, lm = lane >> 3;
  const uint16_t *a1r = sb, *a1i = a1r + Lo::A_EL, *b2r = a1i + Lo::A_EL, *b2i = b2r + Lo::B_EL, *b3r = b2i + Lo::B_EL,
                 *b3i = b3r + Lo::B_EL;
  // ---- step 1 (own rows, all columns): X1 = (a1 @ X) * T as step 2's A fragments; a1 fragments and twiddles shared
  uint32_t ar[NB][JP][4], ai[NB][JP][4];
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
      uint32_t xb[NB][KT1][4];
#pragma unroll
      for (int q = 0; q < NB; ++q)
#pragma unroll
        for (int kk = 0; kk < KT1; ++kk)
          if (kk < kt) ldsm_x4_t(xb[q][kk], xs + q * XST + (16 * kk + (lm & 1) * 8 + lr) * XS + 16 * jp + (lm >> 1) * 8);
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        float cr[NB][4], ci[NB][4];
#pragma unroll
        for (int q = 0; q < NB; ++q) {
#pragma unroll
          for (int e = 0; e < 4; ++e) { cr[q][e] = 0.f; ci[q][e] = 0.f; }
#pragma unroll
          for (int kk = 0; kk < KT1; ++kk)
            if (kk < kt) {
              mma16816<BF16>(cr[q], fr[kk], xb[q][kk][2 * j], xb[q][kk][2 * j + 1]);
              mma16816<BF16>(ci[q], fi[kk], xb[q][kk][2 * j], xb[q][kk][2 * j + 1]);
            }
        }
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const float2 w0 = cur[2 * h], w1 = cur[2 * h + 1];
          cur[2 * h] = cmul(w0, stp[h]); cur[2 * h + 1] = cmul(w1, stp[h]);
#pragma unroll
          for (int q = 0; q < NB; ++q) {
            const float2 v0 = cmul(make_float2(cr[q][2 * h], ci[q][2 * h]), w0), v1 = cmul(make_float2(cr[q][2 * h + 1], ci[q][2 * h + 1]), w1);
            ar[q][jp][2 * j + h] = pack2<BF16>(v0.x, v1.x);
            ai[q][jp][2 * j + h] = pack2<BF16>(v0.y, v1.y);
          }
        }
      }
    }
  }
  // ---- step 2 (own rows): P = (X1 @ b2) * Kp as step 3's A fragments; b2 fragments and Kp shared
  uint32_t pr[NB][JP][4], pi[NB][JP][4];
#pragma unroll
  for (int jp = 0; jp < JP; ++jp) {
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float cr[NB][4], ci[NB][4];
      lbc2_mma_j<BF16, JP, NB, Lo::SB>(ar, ai, b2r, b2i, jp, j, cr, ci);
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = g + 8 * h, col = 16 * jp + 8 * j + 2 * t;   // row in the own tile
        const float4 kv = *reinterpret_cast<const float4*>(kp + (r0 + row) * Lo::SK + col);   // Kp of col, col + 1
        float2 k0 = make_float2(kv.x, kv.y), k1 = make_float2(kv.z, kv.w);
        if (conjK) { k0.y = -k0.y; k1.y = -k1.y; }
#pragma unroll
        for (int q = 0; q < NB; ++q) {
          const float2 v0 = cmul(make_float2(cr[q][2 * h], ci[q][2 * h]), k0), v1 = cmul(make_float2(cr[q][2 * h + 1], ci[q][2 * h + 1]), k1);
          pr[q][jp][2 * j + h] = pack2<BF16>(v0.x, v1.x);
          pi[q][jp][2 * j + h] = pack2<BF16>(v0.y, v1.y);
        }
      }
    }
  }
  // ---- step 3 (own rows): X3 = (P @ b3) * conj(T) / N into the buffers; b3 fragments and twiddles shared
  const float invN = 1.0f / (float)N;
  float2 cur[4], stp[2];
  lbp_tw_load(tw3, cur, stp);
#pragma unroll
  for (int e = 0; e < 4; ++e) cur[e] = make_float2(cur[e].x * invN, cur[e].y * invN);
#pragma unroll
  for (int jp = 0; jp < JP; ++jp) {
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float cr[NB][4], ci[NB][4];
      lbc2_mma_j<BF16, JP, NB, Lo::SB>(pr, pi, b3r, b3i, jp, j, cr, ci);
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = g + 8 * h, col = 16 * jp + 8 * j + 2 * t;
        float2 w[2];
#pragma unroll
        for (int qq = 0; qq < 2; ++qq) {
          const int e = 2 * h + qq;
          w[qq] = cur[e];
          cur[e] = cmul(w[qq], stp[h]);
        }
#pragma unroll
        for (int q = 0; q < NB; ++q) {
          float2 v[2];
#pragma unroll
          for (int qq = 0; qq < 2; ++qq) {
            const float c_r = cr[q][2 * h + qq], c_i = ci[q][2 * h + qq];
            v[qq] = make_float2(c_r * w[qq].x + c_i * w[qq].y, c_i * w[qq].x - c_r * w[qq].y);
          }
          st_pair<BF16>(Xh + q * XB + row * Lo::SX + col, v[0].x, v[1].x);
          st_pair<BF16>(Xh + q * XB + row * Lo::SX + N2 + col, v[0].y, v[1].y);
        }
      }
    }
  }
  __syncwarp();
}

// Step 4 of NB pair rows (lbp_out with each a4 fragment used NB times): own columns c0 + [0, N2/2), output rows < 16 kt;
// X: row q's buffer at X + q * 32 SX (X3, all 32 rows, synced by the caller); xs: row q's x stage at xs + q * 32 (N2 + 8)
// (the skip term, L even); orow[q] == nullptr: row q is not written.
template <typename IO, bool BF16, int N2, int NB>
__device__ __forceinline__ void lbc2_out(const IO* const (&xrow)[NB], IO* const (&orow)[NB], float d, int L, const uint16_t* X,
                                         const uint16_t* a4r, const uint16_t* a4i, int kt, int c0, int jp0, const uint16_t* xs) {
  using Lo = LbtLayout<32, N2>;
  constexpr int JPW = N2 / 32, XST = 32 * (N2 + 8), XB = 32 * Lo::SX;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, lr = lane & 7, lm = lane >> 3;
#pragma unroll 1
  for (int m = 0; m < kt; ++m) {
    float e[NB][2 * JPW][4];
    uint32_t xv[NB][2 * JPW][2];   // x pairs of the skip term (L even), loaded before the MMAs
#pragma unroll
    for (int q = 0; q < NB; ++q)
#pragma unroll
      for (int j = 0; j < 2 * JPW; ++j)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int n = (16 * m + g + 8 * h) * N2 + c0 + 8 * j + 2 * t;
          const int xo = (16 * m + g + 8 * h) * (N2 + 8) + c0 + 8 * j + 2 * t;
          xv[q][j][h] = ((L & 1) == 0 && n < L) ? *reinterpret_cast<const uint32_t*>(xs + q * XST + xo) : 0u;
          e[q][j][2 * h] = e[q][j][2 * h + 1] = 0.f;
        }
#pragma unroll
    for (int kk = 0; kk < 2; ++kk) {
      uint32_t gr[4], gi[4];
      const int aoff = (16 * m + (lm & 1) * 8 + lr) * Lo::SA + 16 * kk + (lm >> 1) * 8;
      ldsm_x4(gr, a4r + aoff);
      ldsm_x4(gi, a4i + aoff);
#pragma unroll
      for (int qq = 0; qq < 4; ++qq) gi[qq] ^= SIGN2;
#pragma unroll
      for (int jj = 0; jj < JPW; ++jj)
#pragma unroll
        for (int q = 0; q < NB; ++q) {
          uint32_t vr[4], vi[4];
          const uint16_t* p = X + q * XB + (16 * kk + (lm & 1) * 8 + lr) * Lo::SX + 16 * (jp0 + jj) + (lm >> 1) * 8;
          ldsm_x4_t(vr, p);
          ldsm_x4_t(vi, p + N2);
#pragma unroll
          for (int j = 0; j < 2; ++j) {
            mma16816<BF16>(e[q][2 * jj + j], gr, vr[2 * j], vr[2 * j + 1]);
            mma16816<BF16>(e[q][2 * jj + j], gi, vi[2 * j], vi[2 * j + 1]);
          }
        }
    }
#pragma unroll
    for (int q = 0; q < NB; ++q) {
      if (orow[q] == nullptr) continue;
#pragma unroll
      for (int j = 0; j < 2 * JPW; ++j)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int n = (16 * m + g + 8 * h) * N2 + c0 + 8 * j + 2 * t;
          const IO* xp = reinterpret_cast<const IO*>(&xv[q][j][h]);
          if ((L & 1) == 0 && n < L)   // n even, L even: the pair is in or out together; 4-byte aligned
            *reinterpret_cast<uint32_t*>(orow[q] + n) = pack2<BF16>(fmaf(d, ld(xp), e[q][j][2 * h]), fmaf(d, ld(xp + 1), e[q][j][2 * h + 1]));
          if ((L & 1) != 0 && n < L) st(orow[q] + n, fmaf(d, ld(xrow[q] + n), e[q][j][2 * h]));
          if ((L & 1) != 0 && n + 1 < L) st(orow[q] + n + 1, fmaf(d, ld(xrow[q] + n + 1), e[q][j][2 * h + 1]));
        }
    }
  }
  __syncwarp();
}

// Channel h's rows, block part bx of gx (the grid (gx, H), or a persistent block's channel: bx = 0, gx = 1), block 32 W
// (W even); twi: the TI start values (lbp_twi_build). Pair p takes the rows b, ..., b + NB - 1 from b = NB (bx R + p),
// striding NB R gx. D: the skip weights (H), D[h] read at each step 4 (not held across the steps).
template <typename IO, bool BF16, int N2, int NB>
__device__ void lbc2_rows(const IO* __restrict__ x, IO* __restrict__ out, const float* __restrict__ D, int B, int H, int L, int conjK,
                          uint16_t* bufs, const uint16_t* sb, const float2* kp, const float2* twi, int h, int bx, int gx) {
  using Lo = LbtLayout<32, N2>;
  constexpr int JPW = N2 / 32, SS = N2 + 8, XST = 32 * SS, XB = 32 * Lo::SX;
  const int R = blockDim.x >> 6, pair = threadIdx.x >> 6, half = (threadIdx.x >> 5) & 1, lane = threadIdx.x & 31;
  uint16_t *X = bufs + pair * lbc2_pair_el<N2, NB>(), *S0 = X + NB * XB, *S1 = S0 + NB * XST;
  const int kt = ((L + N2 - 1) / N2 + 15) >> 4, stride = NB * R * gx;
  const bool vec = (L & 7) == 0;
  int b = NB * (bx * R + pair);
  if (vec && b < B)
#pragma unroll
    for (int q = 0; q < NB; ++q) lbc_stage_async<N2, IO>(x + ((size_t)(b + q < B ? b + q : b) * H + h) * L, S0 + q * XST, L, kt, half);
  const uint16_t* a4r = sb + 2 * Lo::A_EL + 4 * Lo::B_EL;
  for (int it = 0; b < B; b += stride, ++it) {
    uint16_t *Sc = (it & 1) ? S1 : S0, *Sn = (it & 1) ? S0 : S1;
    if (vec) asm volatile("cp.async.wait_all;\n" ::: "memory");   // these rows' x (own halves), queued during the previous rows
    else
#pragma unroll
      for (int q = 0; q < NB; ++q) {
        const IO* xq = x + ((size_t)(b + q < B ? b + q : b) * H + h) * L;
        for (int i = 32 * half + lane; i < 16 * kt * N2; i += 64) {   // any L: synchronous element loads
          const int r = i / N2, c = i - r * N2;
          st(reinterpret_cast<IO*>(Sc + q * XST) + r * SS + c, i < L ? ld(xq + i) : 0.f);
        }
      }
    asm volatile("bar.sync %0, 64;\n" :: "r"(1 + pair) : "memory");
    const int bn = b + stride;
    if (vec && bn < B)   // the next rows' x, behind steps 1 to 4
#pragma unroll
      for (int q = 0; q < NB; ++q) lbc_stage_async<N2, IO>(x + ((size_t)(bn + q < B ? bn + q : bn) * H + h) * L, Sn + q * XST, L, kt, half);
    // the TI table's start values as lbc_row: step 1 (column half c, row tile m) at (3 c + m) * 192, step 3 at (3 half + 2) * 192
    lbc2_steps<BF16, N2, NB, JPW>(Sc, kt, 16 * half, conjK != 0, sb, kp, twi + half * 6 * 32 + lane, twi + (3 + half) * 6 * 32 + lane,
                                  twi + (half * 3 + 2) * 6 * 32 + lane, X + 16 * half * Lo::SX);
    asm volatile("bar.sync %0, 64;\n" :: "r"(1 + pair) : "memory");
    const IO* xr[NB];   // the rows' pointers after the steps (not live across them)
    IO* orr[NB];
#pragma unroll
    for (int q = 0; q < NB; ++q) {
      const size_t off = ((size_t)(b + q < B ? b + q : b) * H + h) * L;
      xr[q] = x + off;
      orr[q] = b + q < B ? out + off : nullptr;
    }
    lbc2_out<IO, BF16, N2, NB>(xr, orr, D[h], L, X, a4r, a4r + Lo::A_EL, kt, half * (N2 / 2), half * JPW, Sc);
  }
}
