// WG2, pw2p: the chained two-rows-per-pair kernels (learned_tc_chain2.cuh) with steps 2 and 3 on Hopper's wgmma
// (learned_tc_wg.cuh states the warpgroup mapping and the B layouts this builds on). Included at the end of
// learned_tc_wg.cuh, so learned_tc.cu (and learned_tc_gram.cu through it) sees the same code in the same order.
// Shapes: N1 = 32, N2 = 32; sm_90a only (LBW_WGMMA), as learned_tc_wg.cuh.
#pragma once

// Pass jp (16 columns) of a wgmma right product for the NB row slots, issued and waited for: acc[q] = sum_kk
// ar[q][kk] @ [Mr | Mi]_jp,kk + ai[q][kk] @ [-Mi | Mr]_jp,kk, the B layouts (lbw_build_b<N2, 16>) at descriptor d.
// Steps 2 (X1, b2's layouts) and 3 (P, b3's) of lbw2_steps.
template <bool BF16, int N2, int NB>
__device__ __forceinline__ void lbw2_pass(float (&acc)[NB][16], const uint32_t (&ar)[NB][N2 / 16][4],
                                          const uint32_t (&ai)[NB][N2 / 16][4], uint64_t d, int jp) {
  constexpr int JP = N2 / 16, MAT = 64 * N2;   // MAT: bytes of one matrix
#if LBW_WGMMA
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
#pragma unroll
  for (int q = 0; q < NB; ++q)
#pragma unroll
    for (int kk = 0; kk < JP; ++kk) {
      lbw_mma32<BF16>(acc[q], ar[q][kk], d + (uint64_t)((2 * jp * MAT + 256 * kk) >> 4), kk > 0);
      lbw_mma32<BF16>(acc[q], ai[q][kk], d + (uint64_t)(((2 * jp + 1) * MAT + 256 * kk) >> 4), 1);
    }
#if LBW_WGMMA
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
  asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
#endif
}

// ---- pw2p (32 x 32): lbc2's two rows per pair (learned_tc_chain2.cuh) with steps 2 and 3 on wgmma, persistent blocks,
// 12 warps (150 registers; at 16 warps, 128 registers, ptxas spilled 12-36 bytes: not built).
// A warpgroup = two pairs = four rows: pair 2w holds rows b, b + 1, pair 2w + 1 rows b + 2, b + 3 (as pc2's pairs); the
// warp of half h owns row tile h of both its rows. Per row slot q in {0, 1} the warpgroup's M = 64 is [row tile 0, 1 of
// pair 2w's row q; of pair 2w + 1's row q], one wgmma accumulator set per q, so every twiddle step, Kp value and a1 / a4
// fragment serves two rows (pc2's sharing) and the blocks are read by the tensor cores once per 64 rows. Passes of 16
// columns (m64n32k16, matrices [Mr | Mi] of 16 columns each, lbw_build_b<32, 16>): 2 x 16 accumulators per pass.
// Same products (k order per element), roundings, twiddles and Kp per row as pc2 / pc.
template <bool BF16, int N2, int NB, int RESTART>
__device__ __forceinline__ void lbw2_steps(const uint16_t* xs, int kt, int r0, bool conjK, const uint16_t* sb, const float2* kp,
                                           const float2* tw0, const float2* tw1, const float2* tw3, uint16_t* Xh, uint64_t d2,
                                           uint64_t d3) {
  using Lo = LbtLayout<32, N2>;
  constexpr int N = 32 * N2, JP = N2 / 16, KT1 = 2, XS = N2 + 8, XST = 32 * XS, XB = 32 * Lo::SX;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, lr = lane & 7, lm = lane >> 3;
  const uint16_t *a1r = sb, *a1i = a1r + Lo::A_EL;
  // ---- step 1: lbc2_steps's (a1 fragments and twiddles shared by the NB rows)
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
  // ---- step 2 (wgmma, 16-column passes jp): P = (X1 @ b2) * Kp; Cr of n8 tile j at acc[q][4 j..], Ci at acc[q][8 + 4 j..]
  uint32_t pr[NB][JP][4], pi[NB][JP][4];
#pragma unroll
  for (int jp = 0; jp < JP; ++jp) {
    float acc[NB][16];
    lbw2_pass<BF16, N2, NB>(acc, ar, ai, d2, jp);
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = g + 8 * h, col = 16 * jp + 8 * j + 2 * t;
        const float4 kv = *reinterpret_cast<const float4*>(kp + (r0 + row) * Lo::SK + col);
        float2 k0 = make_float2(kv.x, kv.y), k1 = make_float2(kv.z, kv.w);
        if (conjK) { k0.y = -k0.y; k1.y = -k1.y; }
#pragma unroll
        for (int q = 0; q < NB; ++q) {
          const float2 v0 = cmul(make_float2(acc[q][4 * j + 2 * h], acc[q][8 + 4 * j + 2 * h]), k0),
                       v1 = cmul(make_float2(acc[q][4 * j + 2 * h + 1], acc[q][8 + 4 * j + 2 * h + 1]), k1);
          pr[q][jp][2 * j + h] = pack2<BF16>(v0.x, v1.x);
          pi[q][jp][2 * j + h] = pack2<BF16>(v0.y, v1.y);
        }
      }
  }
  // ---- step 3 (wgmma): X3 = (P @ b3) * conj(T) / N into the rows' buffers (twiddles shared, lbc2's order)
  const float invN = 1.0f / (float)N;
  float2 cur[4], stp[2];
  lbp_tw_load(tw3, cur, stp);
#pragma unroll
  for (int e = 0; e < 4; ++e) cur[e] = make_float2(cur[e].x * invN, cur[e].y * invN);
#pragma unroll
  for (int jp = 0; jp < JP; ++jp) {
    float acc[NB][16];
    lbw2_pass<BF16, N2, NB>(acc, pr, pi, d3, jp);
#pragma unroll
    for (int j = 0; j < 2; ++j)
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
            const float c_r = acc[q][4 * j + 2 * h + qq], c_i = acc[q][8 + 4 * j + 2 * h + qq];
            v[qq] = make_float2(c_r * w[qq].x + c_i * w[qq].y, c_i * w[qq].x - c_r * w[qq].y);
          }
          st_pair<BF16>(Xh + q * XB + row * Lo::SX + col, v[0].x, v[1].x);
          st_pair<BF16>(Xh + q * XB + row * Lo::SX + N2 + col, v[0].y, v[1].y);
        }
      }
  }
  __syncwarp();
}

// lbc2_rows with lbw2_steps: channel h, block part bx of gx; pair p takes rows b = NB (bx R + p) + i NB R gx, the loop
// runs while the warpgroup's first row bw = NB (bx R + (p & ~1)) is below B (wgmma needs all 4 warps); rows >= B compute
// on row bw's x and write nothing. w2 / w3: the B layouts (lbw_build_b<N2, 16>).
template <typename IO, bool BF16, int N2, int NB>
__device__ void lbw2_rows(const IO* __restrict__ x, IO* __restrict__ out, const float* __restrict__ D, int B, int H, int L, int conjK,
                          uint16_t* bufs, const uint16_t* sb, const float2* kp, const float2* twi, const unsigned char* w2,
                          const unsigned char* w3, int h, int bx, int gx) {
  using Lo = LbtLayout<32, N2>;
  constexpr int JPW = N2 / 32, SS = N2 + 8, XST = 32 * SS, XB = 32 * Lo::SX;
  const int R = blockDim.x >> 6, pair = threadIdx.x >> 6, half = (threadIdx.x >> 5) & 1, lane = threadIdx.x & 31;
  uint16_t *X = bufs + pair * lbc2_pair_el<N2, NB>(), *S0 = X + NB * XB, *S1 = S0 + NB * XST;
  const uint64_t d2 = lbw_desc((uint32_t)__cvta_generic_to_shared(w2), 128, 16 * N2),
                 d3 = lbw_desc((uint32_t)__cvta_generic_to_shared(w3), 128, 16 * N2);
  const int kt = ((L + N2 - 1) / N2 + 15) >> 4, stride = NB * R * gx;
  const bool vec = (L & 7) == 0;
  int bw = NB * (bx * R + (pair & ~1));
  auto rowOf = [&](int b0, int q) { const int r = b0 + NB * (pair & 1) + q; return r < B ? r : b0; };
  if (vec && bw < B)
#pragma unroll
    for (int q = 0; q < NB; ++q) lbc_stage_async<N2, IO>(x + ((size_t)rowOf(bw, q) * H + h) * L, S0 + q * XST, L, kt, half);
  const uint16_t* a4r = sb + 2 * Lo::A_EL + 4 * Lo::B_EL;
#pragma unroll 1
  for (int it = 0; bw < B; bw += stride, ++it) {
    uint16_t *Sc = (it & 1) ? S1 : S0, *Sn = (it & 1) ? S0 : S1;
    if (vec) asm volatile("cp.async.wait_all;\n" ::: "memory");
    else
#pragma unroll
      for (int q = 0; q < NB; ++q) {
        const IO* xq = x + ((size_t)rowOf(bw, q) * H + h) * L;
        for (int i = 32 * half + lane; i < 16 * kt * N2; i += 64) {
          const int r = i / N2, c = i - r * N2;
          st(reinterpret_cast<IO*>(Sc + q * XST) + r * SS + c, i < L ? ld(xq + i) : 0.f);
        }
      }
    asm volatile("bar.sync %0, 64;\n" :: "r"(1 + pair) : "memory");
    if (vec && bw + stride < B)
#pragma unroll
      for (int q = 0; q < NB; ++q) lbc_stage_async<N2, IO>(x + ((size_t)rowOf(bw + stride, q) * H + h) * L, Sn + q * XST, L, kt, half);
    lbw2_steps<BF16, N2, NB, JPW>(Sc, kt, 16 * half, conjK != 0, sb, kp, twi + half * 6 * 32 + lane, twi + (3 + half) * 6 * 32 + lane,
                                  twi + (half * 3 + 2) * 6 * 32 + lane, X + 16 * half * Lo::SX, d2, d3);
    asm volatile("bar.sync %0, 64;\n" :: "r"(1 + pair) : "memory");
    const IO* xr[NB];
    IO* orr[NB];
#pragma unroll
    for (int q = 0; q < NB; ++q) {
      const int r = bw + NB * (pair & 1) + q;
      const size_t off = ((size_t)rowOf(bw, q) * H + h) * L;
      xr[q] = x + off;
      orr[q] = r < B ? out + off : nullptr;
    }
    lbc2_out<IO, BF16, N2, NB>(xr, orr, D[h], L, X, a4r, a4r + Lo::A_EL, kt, half * (N2 / 2), half * JPW, Sc);
  }
}
