// Device code of the PACKED learned butterfly's forward (learned_pk.cu, whose header states the math and the layouts):
// tile-row order rho / sigma / kappa, LpkLayout, block preparation (lpk_prep), the pair map and steps 1-3 (lpk_steps),
// step 4 and the store (lpk_out), the x stage (lpk_stage_async). learned_pk_rows.cuh adds the row loops; the backward
// (learned_pk_bwd.cuh) reuses both.
// Shapes: B batch, H channels, L length, M = N / 2 = N1 x N2 the learned complex transform (learned_pk.cu).
#pragma once
#include "learned_tc_ops.cuh"

// tile row i -> k1. N1 = 32: i = 16 w + g + 8 h, rows (0, 16), (g, 32 - g) in warp half 0, (8 + g, 24 - g) in half 1;
// N1 = 16 (one warp per row): i = g + 8 h, rows (0, 8), (g, 16 - g).
__host__ __device__ constexpr int lpk_rho(int i, int N1) {
  const int w = i >> 4, g = i & 7, h = (i >> 3) & 1;
  return N1 == 16 ? (g == 0 ? 8 * h : (h ? 16 - g : g)) : w == 0 ? (g == 0 ? 16 * h : (h ? 32 - g : g)) : (h ? 24 - g : 8 + g);
}
__host__ __device__ constexpr int lpk_sigma(int p) { return 16 * (p >> 4) + 8 * ((p >> 3) & 1) + 4 * (p & 1) + ((p >> 1) & 3); }

// Variants (template parameter OPT of lpk_steps / lpk_rows / lpk_forward; 0 = the kernels above, unchanged):
// OPT & 1, "kappa": step 2's output columns in the order kappa (position p = 8 n + 2 t + e of n8 tile n, lane t, element e
//   holds column kappa(p)): n < NT / 2: (N2 / 8) t + 2 n + e, else N2 - 1 - ((N2 / 8) t + 2 (n - NT / 2) + e). The general
//   partner (i +- 8, N2 - 1 - c) is then the SAME lane's tile n ^ NT / 2 (NT = N2 / 8; n + NT / 2 mod NT), same element,
//   other h: no shuffle. Rows k1 = N1 / 2 (w = 0, g = 0, h = 1; partner (N1 / 2, N2 - 1 - c)): the same tile, same h. Row
//   k1 = 0 (w = 0, g = 0, h = 0; partner column (N2 - c) mod N2): in-lane except two values a lane (tile 0 element 0 from
//   lane t - 1, tile NT - 1 element 1 from lane t + 1; two shuffles per part, warp half 0 only). Step 3's k order is
//   kappa too (the tile -> A fragment mapping is the identity), so b2's rows (output positions) and b3's columns (k) are
//   permuted by kappa when the block loads them, and P / Q's columns when a channel's are staged: the prepared blocks
//   and lpk_pq's layout are unchanged. The column sets of step 3's two k16 halves stay {0..N2/2-1}, {N2/2..N2-1}.
// OPT & 2, "twiddle table": the twiddle values of steps 1 and 3 read from a per-block table (16 float4 per lane and warp
//   half: step 1's {w_h0, w_h1} per column step s = 2 jp + j, step 3's {w_e0, w_e1} per (s, h)) filled once per block by
//   exactly the rows' recurrences (same start values, same cmul order): bitwise the same values, 16 LDS.128 per lane and
//   row instead of 32 cmul (128 FMUL / FFMA).
template <int N2>
__host__ __device__ constexpr int lpk_kappa(int p) {
  constexpr int C = N2 / 8, HT = N2 / 16;   // C: columns per lane and half; HT: tiles per half (NT / 2)
  const int n = p >> 3, t = (p >> 1) & 3, e = p & 1;
  return n < HT ? C * t + 2 * n + e : N2 - 1 - (C * t + 2 * (n - HT) + e);
}

// SR: rows of the x stage (16: the packed row's non-zero half, every causal / bidirectional shape and circular at
// N1 = 16; 32: circular at 32 x 32, N = L: all N1 rows of A are data; session 13, helper pkmode).
template <int N1, int N2, int SR = 16>
struct LpkLayout {
  using Lo = LbtLayout<N1, N2>;
  static constexpr int M = N1 * N2, XS = 2 * N2 + 8, XST = SR * XS, XB = N1 * Lo::SX, SQ = N2 + 1;
  static constexpr int PQ_BYTES = 16 * N1 * SQ, TWI_BYTES = 8 * 2 * 10 * 32;
  static constexpr int FIXED_BYTES = Lo::BLK_BYTES + PQ_BYTES + TWI_BYTES;
  static constexpr int TT_BYTES = 2 * 16 * 32 * 16;   // OPT & 2: the twiddle table, 16 float4 per lane and warp half
  // OPT & 4: the negated imaginary planes -b2i, -b3i, -a4i (padded as the others) between the twiddle start values and
  // the row buffers: NEG_EL 16-bit values from element FIXED_BYTES / 2 of the block area (sb).
  static constexpr int NEG_EL = 2 * Lo::B_EL + Lo::A_EL, NEG_BYTES = 2 * NEG_EL;
  // per pair: NB row buffers (XB) and two sets of NB x stages (XST): NB (XB + 2 XST) 16-bit values
};

// Prepared blocks from the fp32 complex blocks {Fa, Fb, Gb, Ga}: a1 = Fa[rho(i)][c], b2 stored transposed with rows
// sigma: b2[n][p] = Fb[sigma(p)][n], b3[n][k] = Gb[k][n], a4[r][i] = Ga[r][rho(i)]. adjoint (du, the input gradient):
// the same with {Ga^H, Gb^H, Fb^H, Fa^H} in place of {Fa, Fb, Gb, Ga}. Grid ceil(2 (N1^2 + N2^2) / 256), block 256.
template <typename T16>
__device__ void lpk_prep(const float2* __restrict__ blocks, T16* __restrict__ out, int N1, int N2, int adjoint) {
  const int e = blockIdx.x * blockDim.x + threadIdx.x, a = N1 * N1, b = N2 * N2;
  if (e >= 2 * (a + b)) return;
  const float2 *fa = blocks, *fb = blocks + a, *gb = fb + b, *ga = gb + b;
  float2 v;
  int off, size, i;
  // X^H[r][c] = conj(X[c][r])
  auto adj = [](float2 z) { return make_float2(z.x, -z.y); };
  if (e < a) {                       // a1 = Fa, rows rho (adjoint: Ga^H)
    i = e; const int r = i / N1, c = i - r * N1, kr = lpk_rho(r, N1);
    v = adjoint ? adj(ga[c * N1 + kr]) : fa[kr * N1 + c]; off = 0; size = a;
  } else if (e >= a + 2 * b) {       // a4 = Ga, columns rho (adjoint: Fa^H)
    i = e - a - 2 * b; const int r = i / N1, c = i - r * N1, kc = lpk_rho(c, N1);
    v = adjoint ? adj(fa[kc * N1 + r]) : ga[r * N1 + kc]; off = 2 * a + 4 * b; size = a;
  } else {                           // b2 / b3 transposed: out[n][k] = M[k][n] (b2: M = Fb rows sigma, adjoint Gb^H; b3: Gb, adjoint Fb^H)
    const bool second = e < a + b;
    i = second ? e - a : e - a - b;
    const int n = i / N2, k = i - n * N2, ks = second ? lpk_sigma(k) : k;
    const float2* src = second ? (adjoint ? gb : fb) : (adjoint ? fb : gb);
    v = adjoint ? adj(src[n * N2 + ks]) : src[ks * N2 + n];
    off = second ? 2 * a : 2 * a + 2 * b; size = b;
  }
  st(out + off + i, v.x); st(out + off + size + i, v.y);
}

// OPT & 1: the pair map C' = P C + Q conj(partner) with step 2's columns in the order kappa (see lpk_kappa), rounded into
// step 3's A fragments. W0: warp half 0 (its lane group g = 0 holds the rows k1 = 0 and N1 / 2); the other half (and
// the other lane groups) take the general partner: the same lane's tile (n + NT / 2) mod NT, same element, other h.
// pq: P / Q staged in position order (column kappa(p) at position p).
template <bool BF16, int N1, int N2, int NB, bool W0>
__device__ __forceinline__ void lpk_pairmap_kappa(const float (&cc)[NB][N2 / 8][2][4], const float4* pq, int g, int t,
                                                  uint32_t (&pr)[NB][N2 / 16][4], uint32_t (&pi)[NB][N2 / 16][4]) {
  using Lp = LpkLayout<N1, N2>;
  constexpr int NT = N2 / 8, HT = NT / 2, r0 = W0 ? 0 : 16;
  constexpr unsigned FULL = 0xffffffffu;
  const int lane = threadIdx.x & 31;
  // row k1 = 0's two cross-lane partners per part p: tile 0 element 0 (column C t) <- lane t - 1's tile NT - 1 element 1
  // (t = 0: column 0, its own partner); tile NT - 1 element 1 (column N2 - C (t + 1)) <- lane t + 1's tile 0 element 0
  // (t = 3: column N2 / 2, its own partner). C = N2 / 8.
  float xlo[NB][2], xhi[NB][2];
  if constexpr (W0) {
#pragma unroll
    for (int q = 0; q < NB; ++q)
#pragma unroll
      for (int p = 0; p < 2; ++p) {
        const float a = __shfl_sync(FULL, cc[q][NT - 1][p][1], (lane & ~3) | ((t - 1) & 3));
        const float b = __shfl_sync(FULL, cc[q][0][p][0], (lane & ~3) | ((t + 1) & 3));
        xlo[q][p] = t == 0 ? cc[q][0][p][0] : a;
        xhi[q][p] = t == 3 ? cc[q][NT - 1][p][1] : b;
      }
  }
  const bool special = W0 && g == 0;
#pragma unroll
  for (int n = 0; n < NT; ++n) {
    const int nm = (n + HT) % NT;
#pragma unroll
    for (int q = 0; q < NB; ++q) {
      float z[2][4];   // partner values [Re / Im][2h + e]
#pragma unroll
      for (int p = 0; p < 2; ++p)
#pragma unroll
        for (int h = 0; h < 2; ++h)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const float gen = cc[q][nm][p][2 * (h ^ 1) + e];
            if constexpr (W0) {
              float sp;
              if (h == 1) sp = cc[q][nm][p][2 + e];   // row N1 / 2: its own row, column N2 - 1 - c
              else if (n < HT) sp = e == 1 ? cc[q][n + HT][p][0] : n > 0 ? cc[q][n - 1 + HT][p][1] : xlo[q][p];   // row 0, c = C t + 2 n + e
              else sp = e == 0 ? cc[q][n - HT][p][1] : n - HT < HT - 1 ? cc[q][n - HT + 1][p][0] : xhi[q][p];     // c = N2 - 1 - (C t + 2 (n - HT) + e)
              z[p][2 * h + e] = special ? sp : gen;
            } else {
              z[p][2 * h + e] = gen;
            }
          }
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const float4* pp = pq + (r0 + g + 8 * h) * Lp::SQ + 8 * n + 2 * t;
        float o[2][2];
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const float4 kv = pp[e];
          const float cr = cc[q][n][0][2 * h + e], ci = cc[q][n][1][2 * h + e], zr = z[0][2 * h + e], zi = z[1][2 * h + e];
          o[e][0] = kv.x * cr - kv.y * ci + kv.z * zr + kv.w * zi;
          o[e][1] = kv.x * ci + kv.y * cr + kv.w * zr - kv.z * zi;
        }
        pr[q][n >> 1][2 * (n & 1) + h] = pack2<BF16>(o[0][0], o[1][0]);
        pi[q][n >> 1][2 * (n & 1) + h] = pack2<BF16>(o[0][1], o[1][1]);
      }
    }
  }
}

// Steps 1 to 3 of NB rows, the own 16-row tile r0 = 16 half. xs: row q's stage at xs + q XST; sb: the blocks; pq: the
// channel's P / Q (rows of SQ float4); tws: the lane's twiddle start values (lpk_forward's table at half, lane);
// X3 of row q into Xh + q XB (the tile's rows of row q's buffer). OPT & 2: tws is the lane's first float4 of the twiddle
// table (chunk c at tws + 64 c).
template <bool BF16, int N1, int N2, int NB, int OPT = 0, int SR = 16>
__device__ __forceinline__ void lpk_steps(const uint16_t* xs, int half, const uint16_t* sb, const float4* pq, const float2* tws,
                                          uint16_t* Xh) {
  using Lo = LbtLayout<N1, N2>;
  using Lp = LpkLayout<N1, N2, SR>;
  constexpr int JP = N2 / 16, NT = N2 / 8, XS = Lp::XS, XST = Lp::XST, XB = Lp::XB;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, lr = lane & 7, lm = lane >> 3, r0 = 16 * half;
  const uint16_t *a1r = sb, *a1i = a1r + Lo::A_EL, *b2r = a1i + Lo::A_EL, *b2i = b2r + Lo::B_EL, *b3r = b2i + Lo::B_EL,
                 *b3i = b3r + Lo::B_EL;
  // ---- step 1: X1 = (a1 @ Z) o T, Z complex (interleaved stage); as step 2's A fragments in sigma order
  uint32_t ar[NB][JP][4], ai[NB][JP][4];
  {
    uint32_t fr[4], fi[4];
    const int aoff = (r0 + (lm & 1) * 8 + lr) * Lo::SA + (lm >> 1) * 8;   // input rows 0..15 (the stage's; SR = 32: + 16..31)
    ldsm_x4(fr, a1r + aoff);
    ldsm_x4(fi, a1i + aoff);
    float2 cur[2], stp[2];
    if constexpr (!(OPT & 2)) { cur[0] = tws[0]; cur[1] = tws[32]; stp[0] = tws[64]; stp[1] = tws[96]; }
#pragma unroll
    for (int jp = 0; jp < 2 * N2 / 16; ++jp) {   // 16 interleaved columns: n8 tiles it = 2 jp + j, complex columns 4 it + t
      uint32_t xb[NB][4];
#pragma unroll
      for (int q = 0; q < NB; ++q) ldsm_x4_t(xb[q], xs + q * XST + ((lm & 1) * 8 + lr) * XS + 16 * jp + (lm >> 1) * 8);
      uint32_t xc[NB][4];   // SR = 32: the stage's rows 16 .. 31 (A's second k16 block)
      if constexpr (SR == 32) {
#pragma unroll
        for (int q = 0; q < NB; ++q) ldsm_x4_t(xc[q], xs + q * XST + (16 + (lm & 1) * 8 + lr) * XS + 16 * jp + (lm >> 1) * 8);
      }
      float2 v[NB][2][2];
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        float cr[NB][4], ci[NB][4];
#pragma unroll
        for (int q = 0; q < NB; ++q) {
#pragma unroll
          for (int e = 0; e < 4; ++e) { cr[q][e] = 0.f; ci[q][e] = 0.f; }
          mma16816<BF16>(cr[q], fr, xb[q][2 * j], xb[q][2 * j + 1]);
          mma16816<BF16>(ci[q], fi, xb[q][2 * j], xb[q][2 * j + 1]);
        }
        if constexpr (SR == 32) {   // + Fa's columns 16 .. 31 times rows 16 .. 31 (fragments reloaded: registers)
          uint32_t gr[4], gi[4];
          ldsm_x4(gr, a1r + aoff + 16);
          ldsm_x4(gi, a1i + aoff + 16);
#pragma unroll
          for (int q = 0; q < NB; ++q) {
            mma16816<BF16>(cr[q], gr, xc[q][2 * j], xc[q][2 * j + 1]);
            mma16816<BF16>(ci[q], gi, xc[q][2 * j], xc[q][2 * j + 1]);
          }
        }
        float4 tw4;
        if constexpr ((OPT & 2) != 0) tw4 = *reinterpret_cast<const float4*>(tws + 64 * (2 * jp + j));
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          float2 w;
          if constexpr ((OPT & 2) != 0) w = h == 0 ? make_float2(tw4.x, tw4.y) : make_float2(tw4.z, tw4.w);
          else { w = cur[h]; cur[h] = cmul(w, stp[h]); }
#pragma unroll
          for (int q = 0; q < NB; ++q)
            v[q][j][h] = cmul(make_float2(cr[q][2 * h] - ci[q][2 * h + 1], ci[q][2 * h] + cr[q][2 * h + 1]), w);
        }
      }
#pragma unroll
      for (int q = 0; q < NB; ++q)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          ar[q][jp >> 1][2 * (jp & 1) + h] = pack2<BF16>(v[q][0][h].x, v[q][1][h].x);
          ai[q][jp >> 1][2 * (jp & 1) + h] = pack2<BF16>(v[q][0][h].y, v[q][1][h].y);
        }
    }
  }
  // ---- step 2: C = X1 @ b2, all n8 tiles of the own rows in fp32 (the pair map needs the mirrored tile)
  float cc[NB][NT][2][4];
#pragma unroll
  for (int jp = 0; jp < JP; ++jp) {
#pragma unroll
    for (int q = 0; q < NB; ++q)
#pragma unroll
      for (int j = 0; j < 2; ++j)
#pragma unroll
        for (int e = 0; e < 4; ++e) { cc[q][2 * jp + j][0][e] = 0.f; cc[q][2 * jp + j][1][e] = 0.f; }
#pragma unroll
    for (int kk = 0; kk < JP; ++kk) {
      uint32_t fr[4], fi[4];
      const int boff = (16 * jp + (lm >> 1) * 8 + lr) * Lo::SB + 16 * kk + (lm & 1) * 8;
      ldsm_x4(fr, b2r + boff);
      ldsm_x4(fi, b2i + boff);
      uint32_t nf[4];
      if constexpr ((OPT & 4) != 0) ldsm_x4(nf, sb + Lp::FIXED_BYTES / 2 + boff);   // -b2i
      else { nf[0] = fi[0] ^ SIGN2; nf[1] = fi[1] ^ SIGN2; nf[2] = fi[2] ^ SIGN2; nf[3] = fi[3] ^ SIGN2; }
#pragma unroll
      for (int q = 0; q < NB; ++q)
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          float (&c0)[4] = cc[q][2 * jp + j][0];
          float (&c1)[4] = cc[q][2 * jp + j][1];
          mma16816<BF16>(c0, ar[q][kk], fr[2 * j], fr[2 * j + 1]);
          mma16816<BF16>(c0, ai[q][kk], nf[2 * j], nf[2 * j + 1]);
          mma16816<BF16>(c1, ar[q][kk], fi[2 * j], fi[2 * j + 1]);
          mma16816<BF16>(c1, ai[q][kk], fr[2 * j], fr[2 * j + 1]);
        }
    }
  }
  // ---- the pair map: C' = P C + Q conj(partner), rounded into step 3's A fragments
  uint32_t pr[NB][JP][4], pi[NB][JP][4];
  if constexpr ((OPT & 1) != 0) {
    if (half == 0) lpk_pairmap_kappa<BF16, N1, N2, NB, true>(cc, pq, g, t, pr, pi);   // warp-uniform
    else lpk_pairmap_kappa<BF16, N1, N2, NB, false>(cc, pq, g, t, pr, pi);
  } else {
    const bool special = half == 0 && g == 0;            // rows k1 = 0 (h = 0) and k1 = N1 / 2 (h = 1)
    const int src2 = (lane & ~3) | ((4 - t) & 3);        // the k1 = 0 row's even elements
#pragma unroll
    for (int n = 0; n < NT; ++n) {
      constexpr int FULL = -1;
      const int m = NT - 1 - n, nn = (NT - n) % NT;
#pragma unroll
      for (int q = 0; q < NB; ++q) {
        float z[2][4];   // partner values [Re / Im][2h + e]
#pragma unroll
        for (int p = 0; p < 2; ++p) {
#pragma unroll
          for (int he = 0; he < 4; ++he) {
            const int h = he >> 1, e = he & 1;
            const float sv = special ? (h == 1 ? cc[q][m][p][2 + (e ^ 1)] : cc[q][m][p][1]) : cc[q][m][p][2 * (h ^ 1) + (e ^ 1)];
            z[p][he] = __shfl_xor_sync((unsigned)FULL, sv, 3);
          }
          if (half == 0) {   // warp-uniform
            const float sv = t == 0 ? cc[q][nn][p][0] : cc[q][m][p][0];
            const float r = __shfl_sync((unsigned)FULL, sv, src2);
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
            const float cr = cc[q][n][0][2 * h + e], ci = cc[q][n][1][2 * h + e], zr = z[0][2 * h + e], zi = z[1][2 * h + e];
            o[e][0] = kv.x * cr - kv.y * ci + kv.z * zr + kv.w * zi;
            o[e][1] = kv.x * ci + kv.y * cr + kv.w * zr - kv.z * zi;
          }
          pr[q][n >> 1][2 * (n & 1) + h] = pack2<BF16>(o[0][0], o[1][0]);
          pi[q][n >> 1][2 * (n & 1) + h] = pack2<BF16>(o[0][1], o[1][1]);
        }
      }
    }
  }
  // ---- step 3: X3 = (C' @ b3) o conj(T) / M into the buffers (1/M rides on the start values)
  float2 cur[4], stp[2];
  if constexpr (!(OPT & 2)) {
    cur[0] = tws[128]; cur[1] = tws[160]; cur[2] = tws[192]; cur[3] = tws[224]; stp[0] = tws[256]; stp[1] = tws[288];
  }
#pragma unroll
  for (int jp = 0; jp < JP; ++jp) {
    float cr[NB][2][4], ci[NB][2][4];
#pragma unroll
    for (int q = 0; q < NB; ++q)
#pragma unroll
      for (int j = 0; j < 2; ++j)
#pragma unroll
        for (int e = 0; e < 4; ++e) { cr[q][j][e] = 0.f; ci[q][j][e] = 0.f; }
#pragma unroll
    for (int kk = 0; kk < JP; ++kk) {
      uint32_t fr[4], fi[4];
      const int boff = (16 * jp + (lm >> 1) * 8 + lr) * Lo::SB + 16 * kk + (lm & 1) * 8;
      ldsm_x4(fr, b3r + boff);
      ldsm_x4(fi, b3i + boff);
      uint32_t nf[4];
      if constexpr ((OPT & 4) != 0) ldsm_x4(nf, sb + Lp::FIXED_BYTES / 2 + Lo::B_EL + boff);   // -b3i
      else { nf[0] = fi[0] ^ SIGN2; nf[1] = fi[1] ^ SIGN2; nf[2] = fi[2] ^ SIGN2; nf[3] = fi[3] ^ SIGN2; }
#pragma unroll
      for (int q = 0; q < NB; ++q)
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          mma16816<BF16>(cr[q][j], pr[q][kk], fr[2 * j], fr[2 * j + 1]);
          mma16816<BF16>(cr[q][j], pi[q][kk], nf[2 * j], nf[2 * j + 1]);
          mma16816<BF16>(ci[q][j], pr[q][kk], fi[2 * j], fi[2 * j + 1]);
          mma16816<BF16>(ci[q][j], pi[q][kk], fr[2 * j], fr[2 * j + 1]);
        }
    }
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = g + 8 * h, col = 16 * jp + 8 * j + 2 * t;
        float2 w[2];
        if constexpr ((OPT & 2) != 0) {
          const float4 tw4 = *reinterpret_cast<const float4*>(tws + 64 * (8 + 2 * (2 * jp + j) + h));
          w[0] = make_float2(tw4.x, tw4.y); w[1] = make_float2(tw4.z, tw4.w);
        } else {
#pragma unroll
          for (int e = 0; e < 2; ++e) { w[e] = cur[2 * h + e]; cur[2 * h + e] = cmul(w[e], stp[h]); }
        }
#pragma unroll
        for (int q = 0; q < NB; ++q) {
          float2 v[2];
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const float c_r = cr[q][j][2 * h + e], c_i = ci[q][j][2 * h + e];
            v[e] = make_float2(c_r * w[e].x + c_i * w[e].y, c_i * w[e].x - c_r * w[e].y);
          }
          st_pair<BF16>(Xh + q * XB + row * Lo::SX + col, v[0].x, v[1].x);
          st_pair<BF16>(Xh + q * XB + row * Lo::SX + N2 + col, v[0].y, v[1].y);
        }
      }
  }
  __syncwarp();
}

// Step 4 of NB rows: E = a4 @ X3 (Re and Im) for the own columns c0 + [0, COLS) of the output rows < 16 kt, out[2m ..] =
// (Re, Im) + D x from the stage xs (row q at xs + q XST). X: row q's buffer at X + q XB (synced by the caller).
// OPT & 4: -a4i from the negated planes (a4i must then be the block area's a4i: sb + 3 A_EL + 4 B_EL).
template <typename IO, bool BF16, int N1, int N2, int NB, int COLS, int OPT = 0, int SR = 16>
__device__ __forceinline__ void lpk_out(const IO* const (&xrow)[NB], IO* const (&orow)[NB], float d, int L, const uint16_t* X,
                                        const uint16_t* a4r, const uint16_t* a4i, int kt, int c0, const uint16_t* xs) {
  using Lo = LbtLayout<N1, N2>;
  using Lp = LpkLayout<N1, N2, SR>;
  constexpr int JPW = COLS / 16, XS = Lp::XS, XST = Lp::XST, XB = Lp::XB;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, lr = lane & 7, lm = lane >> 3;
#pragma unroll 1
  for (int m = 0; m < kt; ++m) {
    float er[NB][2 * JPW][4], ei[NB][2 * JPW][4];
    uint2 xv[NB][2 * JPW][2];   // x[2 mz .. 2 mz + 3] of the lane's two complex outputs (zero past L: the stage's)
#pragma unroll
    for (int q = 0; q < NB; ++q)
#pragma unroll
      for (int j = 0; j < 2 * JPW; ++j)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          xv[q][j][h] = *reinterpret_cast<const uint2*>(xs + q * XST + (16 * m + g + 8 * h) * XS + 2 * (c0 + 8 * j + 2 * t));
#pragma unroll
          for (int e = 0; e < 2; ++e) { er[q][j][2 * h + e] = 0.f; ei[q][j][2 * h + e] = 0.f; }
        }
#pragma unroll
    for (int kk = 0; kk < N1 / 16; ++kk) {
      uint32_t gr[4], gi[4], ng[4];
      const int aoff = (16 * m + (lm & 1) * 8 + lr) * Lo::SA + 16 * kk + (lm >> 1) * 8;
      ldsm_x4(gr, a4r + aoff);
      ldsm_x4(gi, a4i + aoff);
      if constexpr ((OPT & 4) != 0)   // -a4i: NEG_EL area at (block area) + FIXED_BYTES / 2, a4 after -b2i, -b3i
        ldsm_x4(ng, a4i - (3 * Lo::A_EL + 4 * Lo::B_EL) + Lp::FIXED_BYTES / 2 + 2 * Lo::B_EL + aoff);
      else
#pragma unroll
        for (int e = 0; e < 4; ++e) ng[e] = gi[e] ^ SIGN2;
#pragma unroll
      for (int jj = 0; jj < JPW; ++jj)
#pragma unroll
        for (int q = 0; q < NB; ++q) {
          uint32_t vr[4], vi[4];
          const uint16_t* p = X + q * XB + (16 * kk + (lm & 1) * 8 + lr) * Lo::SX + c0 + 16 * jj + (lm >> 1) * 8;
          ldsm_x4_t(vr, p);
          ldsm_x4_t(vi, p + N2);
#pragma unroll
          for (int j = 0; j < 2; ++j) {
            mma16816<BF16>(er[q][2 * jj + j], gr, vr[2 * j], vr[2 * j + 1]);
            mma16816<BF16>(er[q][2 * jj + j], ng, vi[2 * j], vi[2 * j + 1]);
            mma16816<BF16>(ei[q][2 * jj + j], gr, vi[2 * j], vi[2 * j + 1]);
            mma16816<BF16>(ei[q][2 * jj + j], gi, vr[2 * j], vr[2 * j + 1]);
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
          const int n = 2 * ((16 * m + g + 8 * h) * N2 + c0 + 8 * j + 2 * t);   // out index of Re E[mz]; n % 4 == 0
          const IO* xp = reinterpret_cast<const IO*>(&xv[q][j][h]);
          const float y0 = fmaf(d, ld(xp), er[q][j][2 * h]), y1 = fmaf(d, ld(xp + 1), ei[q][j][2 * h]),
                      y2 = fmaf(d, ld(xp + 2), er[q][j][2 * h + 1]), y3 = fmaf(d, ld(xp + 3), ei[q][j][2 * h + 1]);
          if ((L & 3) == 0) {   // the four outputs are in or out together; 8-byte aligned
            if (n < L) *reinterpret_cast<uint2*>(orow[q] + n) = make_uint2(pack2<BF16>(y0, y1), pack2<BF16>(y2, y3));
          } else {
            if (n < L) st(orow[q] + n, y0);
            if (n + 1 < L) st(orow[q] + n + 1, y1);
            if (n + 2 < L) st(orow[q] + n + 2, y2);
            if (n + 3 < L) st(orow[q] + n + 3, y3);
          }
        }
    }
  }
  __syncwarp();
}

// The row's x (16 kt rows of 2 N2 values, zero past L) into the stage S by cp.async (L % 8 == 0); warp half takes every
// other group of 32 chunks.
template <int N2, int WPR, typename IO>
__device__ __forceinline__ void lpk_stage_async(const IO* xrow, uint16_t* S, int L, int kt, int half) {
  constexpr int CPR = 2 * N2 / 8, XS = 2 * N2 + 8;
  for (int i = 32 * half + (threadIdx.x & 31); i < 16 * kt * CPR; i += 32 * WPR) {
    const int r = i / CPR, c = 8 * (i - r * CPR), n = r * 2 * N2 + c;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" :: "r"((uint32_t)__cvta_generic_to_shared(S + r * XS + c)),
                 "l"(xrow + (n < L ? n : 0)), "r"(n < L ? 16 : 0) : "memory");
  }
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}
