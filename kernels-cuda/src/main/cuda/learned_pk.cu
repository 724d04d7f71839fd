// The PACKED learned butterfly's forward and input gradient on tensor cores (engine LEARNED_PACKED; prompts' packed spec,
// PackedLearnedConv). The input gradient du (dy -> du) is the same kernel on the adjoint blocks {Ga^H, Gb^H, Fb^H, Fa^H}
// (lpk_prep adjoint) and the adjoint pair map {conj(P_k), Q_s(k)} (lpk_pq adj): the adjoint chain has the forward's
// structure (pack(dy) -> Ga^H, T / M, Gb^H -> pair map adjoint -> Fb^H, conj(T) -> Fa^H -> unpack; the 1/M kept in step 3).
// Shapes: B batch, H channels, L length, N the real FFT size (causal: the power of two >= L + Lk - 1; bidirectional:
// >= L + Lk; circular: N = L), M = N / 2 = N1 x N2 the learned complex transform: 32 x 32 (a pair of warps per row),
// 16 x 32 or 16 x 16 (one warp per row); the packed row ceil(L / 2) <= SR N2 (host-checked through M): the causal /
// bidirectional row's non-zero half (SR = 16), or every row of A (circular, N = L: no zero half; every row of E is
// output): at N1 = 16 the 16 staged rows, at 32 x 32 the SR = 32 kernel. The modes differ only in P / Q (lpk_pq: taps at
// [t]; lpk_pq_bi: k1 also at [N - 1 - t]) and circular 32 x 32's stage.
//   x, out: (B, H, L) bf16 / fp16; pq: (H, M) float4 {Re P, Im P, Re Q, Im Q} in the kernel's tile-row order
//   (lpk_pq); D: (H) fp32; pb: the prepared 16-bit blocks (lpk_prep), learned_tc.cu's planes a1r a1i | b2r b2i | b3r b3i |
//   a4r a4i with the permutations below.
// Per row (z[m] = x[2m] + i x[2m+1], A[n1][n2] = z[n1 N2 + n2], T[k1][n2] = w_M^(k1 n2)):
//   C = ((Fa @ A) o T) @ Fb;  C'[k] = P_k C[k] + Q_k conj(C[(M - k) mod M]) (k = k1 + N1 k2);
//   E = Ga @ ((C' @ Gb) o conj(T) / M);  out[2m] = Re E[m] + D x[2m], out[2m+1] = Im E[m] + D x[2m+1].
// Derived from pc2p (learned_tc_chain2.cuh: a pair of warps per row, warp half w owns a 16-row tile in steps 1-3 chained
// in registers, half the columns in step 4; NB rows of one channel per pair; persistent blocks). The differences:
// - Tile-row order rho: tile row i = 16 w + g + 8 h (lane group g, accumulator half h) holds k1 = rho(i), chosen so
//   that the rows g and g + 8 of a lane are partners (k1, N1 - k1): w = 0: (0, 16), (g, 32 - g); w = 1: (8 + g, 24 - g).
//   Fa's rows (a1) and Ga's columns (a4) are permuted by rho in lpk_prep; the twiddles use k1 = rho(i).
// - Step 1 reads the x stage as a real matrix of 2 N2 interleaved columns (Re, Im of z): an n8 tile of it is 4 complex
//   columns, and the MMA's accumulator pair (2t, 2t + 1) of a lane is (Re, Im) of complex column 4 it + t, so
//   Re B = (Fa_r Z)[2t] - (Fa_i Z)[2t + 1], Im B = (Fa_i Z)[2t] + (Fa_r Z)[2t + 1]: two MMAs per n8 tile, 4 real products
//   per complex element. Rounded to 16 bits these are step 2's A fragments when k position p of a 16-block holds complex
//   column sigma(p) = 8 (p >> 3) + 4 (p & 1) + ((p >> 1) & 3): Fb's rows (b2) are permuted by sigma in lpk_prep.
// - The pair map on step 2's fp32 accumulators: the partner of (i, c) is (i +- 8, N2 - 1 - c), i.e. lane ^ 3, the
//   mirrored n8 tile, the other element of the pair, the other h; on the k1 = 0 row (w = 0, g = 0, h = 0) the partner
//   column is (N2 - c) mod N2: lane (4 - t) & 3 (lane 0: its own tile (NT - n) mod NT). bench-runs/pk/model.py checks
//   this index scheme against the spec in float64.
// - Step 4 computes Re and Im (4 MMAs per n8 tile) and stores out[2m .. 2m + 3] as one 8-byte store (L % 4 == 0).
// The x stage holds 16 rows of 2 N2 + 8 values (the causal row's non-zero half: ceil(L / 2) <= 16 N2; host-checked).
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

// P, Q of one channel (block h) from its fp32 taps k (H, Lk; causal: taps < Lk placed at 0..taps-1 of N = 2 M points),
// K = DFT_N(k_pad) in fp32 for j = 0 .. M, then for tile position (i, c): k = rho(i) + N1 c,
//   P_k = c_k K[k] a_k + d_k conj(K[M-k]) conj(b_{M-k}),  Q_k = c_k K[k] b_k + d_k conj(K[M-k]) conj(a_{M-k}),
//   a_j = (1 - i w^j) / 2, b_j = (1 + i w^j) / 2, c_k = (1 + i w^-k) / 2, d_k = (1 - i w^-k) / 2, w = e^(-2 pi i / N).
// out: (H, M) float4 {P, Q} at i N2 + c. adj != nullptr: also the adjoint pair map's coefficients (du), same layout:
// dC[k] = conj(P_k) dC'[k] + Q_s(k) conj(dC'[s(k)]), s(k) = (M - k) mod M: {conj(P_k), Q_s(k)}.
// Block 256, dynamic smem 8 N + 8 (M + 1) bytes.
__device__ __forceinline__ float2 lpk_cmulf(float2 a, float2 b) { return make_float2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }
__device__ __forceinline__ float4 lpk_pq_at(const float2* sw, const float2* K, int f, int M) {   // {P_f, Q_f}, f in 0 .. M-1
  const int g = M - f;   // 1 .. M
  const float2 wf = sw[f], wg = sw[g];
  const float2 af = make_float2(0.5f * (1.f + wf.y), -0.5f * wf.x), bf = make_float2(0.5f * (1.f - wf.y), 0.5f * wf.x);   // (1 -+ i w) / 2
  const float2 ag = make_float2(0.5f * (1.f + wg.y), -0.5f * wg.x), bg = make_float2(0.5f * (1.f - wg.y), 0.5f * wg.x);
  const float2 cf = make_float2(0.5f * (1.f + wf.y), 0.5f * wf.x), df = make_float2(0.5f * (1.f - wf.y), -0.5f * wf.x);   // (1 +- i conj(w)) / 2
  const float2 x = lpk_cmulf(cf, K[f]), y = lpk_cmulf(df, make_float2(K[g].x, -K[g].y));                                   // c K[k], d conj K[M-k]
  const float2 p0 = lpk_cmulf(x, af), p1 = lpk_cmulf(y, make_float2(bg.x, -bg.y));
  const float2 q0 = lpk_cmulf(x, bf), q1 = lpk_cmulf(y, make_float2(ag.x, -ag.y));
  return make_float4(p0.x + p1.x, p0.y + p1.y, q0.x + q1.x, q0.y + q1.y);
}
extern "C" __global__ void __launch_bounds__(256) lpk_pq(const float* __restrict__ k, float4* __restrict__ out, float4* __restrict__ adj,
                                                        int Lk, int taps, int N1, int N2) {
  extern __shared__ __align__(16) float2 sw[];
  const int M = N1 * N2, N = 2 * M, h = blockIdx.x;
  float2* K = sw + N;
  for (int j = threadIdx.x; j < N; j += blockDim.x) { float s, c; sincospif(-2.0f * (float)j / (float)N, &s, &c); sw[j] = make_float2(c, s); }
  __syncthreads();
  const float* kh = k + (size_t)h * Lk;
  for (int j = threadIdx.x; j <= M; j += blockDim.x) {
    float xr = 0.f, xi = 0.f;
    for (int t = 0; t < taps; ++t) { const float v = kh[t]; const float2 e = sw[(j * t) & (N - 1)]; xr += v * e.x; xi += v * e.y; }
    K[j] = make_float2(xr, xi);
  }
  __syncthreads();
  for (int p = threadIdx.x; p < M; p += blockDim.x) {
    const int i = p / N2, c = p - i * N2, f = lpk_rho(i, N1) + N1 * c;
    const float4 v = lpk_pq_at(sw, K, f, M);
    out[(size_t)h * M + p] = v;
    if (adj != nullptr) {
      const float4 w = lpk_pq_at(sw, K, (M - f) & (M - 1), M);
      adj[(size_t)h * M + p] = make_float4(v.x, -v.y, w.z, w.w);
    }
  }
}

#ifndef LPK_NO_INSTANCES
// Session 13, helper pkmode: lpk_pq for BIDIRECTIONAL (the same P, Q and adjoint coefficients, the same layout and
// launch): K = DFT_N of the two-sided placed taps as lib's SpectralConv.placeTaps places them, k0 (H, Lk) at [t] for
// t < taps0, k1 (H, Lk) at [N - 1 - t] for t < taps1 (N >= L + Lk: the sides never overlap). lpk_pq itself (causal,
// and CIRCULAR with N = L: its taps at [t] are lib's circular placement, Lk <= L) is unchanged.
// Block 256, dynamic smem 8 N + 8 (M + 1) bytes.
extern "C" __global__ void __launch_bounds__(256) lpk_pq_bi(const float* __restrict__ k0, const float* __restrict__ k1,
                                                           float4* __restrict__ out, float4* __restrict__ adj, int Lk, int taps0,
                                                           int taps1, int N1, int N2) {
  extern __shared__ __align__(16) float2 sw[];
  const int M = N1 * N2, N = 2 * M, h = blockIdx.x;
  float2* K = sw + N;
  for (int j = threadIdx.x; j < N; j += blockDim.x) { float s, c; sincospif(-2.0f * (float)j / (float)N, &s, &c); sw[j] = make_float2(c, s); }
  __syncthreads();
  const float *kh0 = k0 + (size_t)h * Lk, *kh1 = k1 + (size_t)h * Lk;
  for (int j = threadIdx.x; j <= M; j += blockDim.x) {
    float xr = 0.f, xi = 0.f;
    for (int t = 0; t < taps0; ++t) { const float v = kh0[t]; const float2 e = sw[(j * t) & (N - 1)]; xr += v * e.x; xi += v * e.y; }
    for (int t = 0; t < taps1; ++t) { const float v = kh1[t]; const float2 e = sw[(j * (N - 1 - t)) & (N - 1)]; xr += v * e.x; xi += v * e.y; }
    K[j] = make_float2(xr, xi);
  }
  __syncthreads();
  for (int p = threadIdx.x; p < M; p += blockDim.x) {
    const int i = p / N2, c = p - i * N2, f = lpk_rho(i, N1) + N1 * c;
    const float4 v = lpk_pq_at(sw, K, f, M);
    out[(size_t)h * M + p] = v;
    if (adj != nullptr) {
      const float4 w = lpk_pq_at(sw, K, (M - f) & (M - 1), M);
      adj[(size_t)h * M + p] = make_float4(v.x, -v.y, w.z, w.w);
    }
  }
}
#endif

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

// Channel h's rows (lbc2_rows' loop): WPR = 2 (N1 = 32: a pair of warps per row, pair barriers) or 1 (N1 = 16: one warp
// per row); unit p (a pair or a warp) takes rows b .. b + NB - 1 from b = NB p, striding NB R. A row b + q >= B (odd B)
// runs on row b's x and writes nothing. OPT & 2: twi is the twiddle table (lpk_forward), 16 float4 x 32 lanes per half.
template <typename IO, bool BF16, int N1, int N2, int NB, int OPT = 0, int SR = 16>
__device__ void lpk_rows(const IO* __restrict__ x, IO* __restrict__ out, const float* __restrict__ D, int B, int H, int L,
                         uint16_t* bufs, const uint16_t* sb, const float4* pq, const float2* twi, int h) {
  using Lo = LbtLayout<N1, N2>;
  using Lp = LpkLayout<N1, N2, SR>;
  constexpr int WPR = N1 / 16, XST = Lp::XST, XB = Lp::XB, XS = Lp::XS;
  const int R = blockDim.x / (32 * WPR), pair = threadIdx.x / (32 * WPR), half = WPR == 2 ? (threadIdx.x >> 5) & 1 : 0,
            lane = threadIdx.x & 31;
  uint16_t *X = bufs + pair * (NB * (XB + 2 * XST)), *S0 = X + NB * XB, *S1 = S0 + NB * XST;
  const int rows = ((L + 1) / 2 + N2 - 1) / N2, kt = (rows + 15) >> 4, stride = NB * R;
  const bool vec = (L & 7) == 0;
  int b = NB * pair;
  if (vec && b < B)
#pragma unroll
    for (int q = 0; q < NB; ++q) lpk_stage_async<N2, WPR, IO>(x + ((size_t)(b + q < B ? b + q : b) * H + h) * L, S0 + q * XST, L, kt, half);
  const uint16_t* a4r = sb + 2 * Lo::A_EL + 4 * Lo::B_EL;
  for (int it = 0; b < B; b += stride, ++it) {
    uint16_t *Sc = (it & 1) ? S1 : S0, *Sn = (it & 1) ? S0 : S1;
    if (vec) asm volatile("cp.async.wait_all;\n" ::: "memory");
    else
#pragma unroll
      for (int q = 0; q < NB; ++q) {
        const IO* xq = x + ((size_t)(b + q < B ? b + q : b) * H + h) * L;
        for (int i = 32 * half + lane; i < 16 * kt * 2 * N2; i += 32 * WPR) {
          const int r = i / (2 * N2), c = i - r * 2 * N2;
          st(reinterpret_cast<IO*>(Sc + q * XST) + r * XS + c, i < L ? ld(xq + i) : 0.f);
        }
      }
    if constexpr (WPR == 2) asm volatile("bar.sync %0, 64;\n" :: "r"(1 + pair) : "memory");
    else __syncwarp();
    const int bn = b + stride;
    if (vec && bn < B)
#pragma unroll
      for (int q = 0; q < NB; ++q) lpk_stage_async<N2, WPR, IO>(x + ((size_t)(bn + q < B ? bn + q : bn) * H + h) * L, Sn + q * XST, L, kt, half);
    lpk_steps<BF16, N1, N2, NB, OPT, SR>(Sc, half, sb, pq, (OPT & 2) ? twi + half * 16 * 32 * 2 + 2 * lane : twi + half * 10 * 32 + lane,
                                     X + 16 * half * Lo::SX);
    if constexpr (WPR == 2) asm volatile("bar.sync %0, 64;\n" :: "r"(1 + pair) : "memory");
    else __syncwarp();
    const IO* xr[NB];
    IO* orr[NB];
#pragma unroll
    for (int q = 0; q < NB; ++q) {
      const size_t off = ((size_t)(b + q < B ? b + q : b) * H + h) * L;
      xr[q] = x + off;
      orr[q] = b + q < B ? out + off : nullptr;
    }
    lpk_out<IO, BF16, N1, N2, NB, N2 / WPR, OPT, SR>(xr, orr, D[h], L, X, a4r, a4r + Lo::A_EL, kt, half * (N2 / WPR), Sc);
  }
}

constexpr int LPK_GROUP = 3;   // OPT & 8: channels per group (PackedLearnedConv.smem: LPK_GROUP - 1 more P / Q buffers)

// Session 12, helper pkopt2, OPT & 8 ("channel groups"): lpk_rows over a group of ng <= G channels whose P / Q are
// all staged (channel j of the group: h0 + j gridDim.x, its P / Q at pq0 for j = 0, else pqx + (j - 1) N1 SQ). The group's units (NB rows of one
// channel: ceil(B / NB) per channel, unit u of channel u / UPC) are dealt to the R pairs round-robin across the channel
// boundaries, so the pairs idle only in the group's last round (B = 64, NB = 2 at 6 pairs: one channel is 32 units,
// 5.33 rounds, i.e. 6 with four of six pairs idle in the last; a group of 3 channels is 96 units, 16 full rounds). Each
// row runs exactly lpk_rows' code (lpk_steps, lpk_out, the same staging), so the outputs are lpk_rows' bit for bit.
template <typename IO, bool BF16, int N1, int N2, int NB, int OPT>
__device__ void lpk_rows_grp(const IO* __restrict__ x, IO* __restrict__ out, const float* __restrict__ D, int B, int H, int L,
                             uint16_t* bufs, const uint16_t* sb, const float4* pq0, const float4* pqx, const float2* twi, int h0,
                             int ng) {
  using Lo = LbtLayout<N1, N2>;
  using Lp = LpkLayout<N1, N2>;
  constexpr int WPR = N1 / 16, XST = Lp::XST, XB = Lp::XB, PQS = N1 * Lp::SQ;
  const int R = blockDim.x / (32 * WPR), pair = threadIdx.x / (32 * WPR), half = WPR == 2 ? (threadIdx.x >> 5) & 1 : 0,
            lane = threadIdx.x & 31;
  uint16_t *X = bufs + pair * (NB * (XB + 2 * XST)), *S0 = X + NB * XB, *S1 = S0 + NB * XST;
  const int rows = ((L + 1) / 2 + N2 - 1) / N2, kt = (rows + 15) >> 4, upc = (B + NB - 1) / NB, U = ng * upc;
  const bool vec = (L & 7) == 0;
  int u = pair;
  // unit u -> channel index c (0 .. ng - 1) and first row b
  auto chan = [&](int uu) { return uu / upc; };
  if (vec && u < U) {
    const int c = chan(u), b = NB * (u - c * upc), h = h0 + c * gridDim.x;
#pragma unroll
    for (int q = 0; q < NB; ++q) lpk_stage_async<N2, WPR, IO>(x + ((size_t)(b + q < B ? b + q : b) * H + h) * L, S0 + q * XST, L, kt, half);
  }
  const uint16_t* a4r = sb + 2 * Lo::A_EL + 4 * Lo::B_EL;
  for (int it = 0; u < U; u += R, ++it) {
    const int c = chan(u), b = NB * (u - c * upc), h = h0 + c * gridDim.x;
    uint16_t *Sc = (it & 1) ? S1 : S0, *Sn = (it & 1) ? S0 : S1;
    if (vec) asm volatile("cp.async.wait_all;\n" ::: "memory");
    else
#pragma unroll
      for (int q = 0; q < NB; ++q) {
        const IO* xq = x + ((size_t)(b + q < B ? b + q : b) * H + h) * L;
        for (int i = 32 * half + lane; i < 16 * kt * 2 * N2; i += 32 * WPR) {
          const int r = i / (2 * N2), cc = i - r * 2 * N2;
          st(reinterpret_cast<IO*>(Sc + q * XST) + r * Lp::XS + cc, i < L ? ld(xq + i) : 0.f);
        }
      }
    if constexpr (WPR == 2) asm volatile("bar.sync %0, 64;\n" :: "r"(1 + pair) : "memory");
    else __syncwarp();
    const int un = u + R;
    if (vec && un < U) {
      const int cn = chan(un), bn = NB * (un - cn * upc), hn = h0 + cn * gridDim.x;
#pragma unroll
      for (int q = 0; q < NB; ++q) lpk_stage_async<N2, WPR, IO>(x + ((size_t)(bn + q < B ? bn + q : bn) * H + hn) * L, Sn + q * XST, L, kt, half);
    }
    lpk_steps<BF16, N1, N2, NB, OPT & 7>(Sc, half, sb, c == 0 ? pq0 : pqx + (c - 1) * PQS,
                                         (OPT & 2) ? twi + half * 16 * 32 * 2 + 2 * lane : twi + half * 10 * 32 + lane, X + 16 * half * Lo::SX);
    if constexpr (WPR == 2) asm volatile("bar.sync %0, 64;\n" :: "r"(1 + pair) : "memory");
    else __syncwarp();
    const IO* xr[NB];
    IO* orr[NB];
#pragma unroll
    for (int q = 0; q < NB; ++q) {
      const size_t off = ((size_t)(b + q < B ? b + q : b) * H + h) * L;
      xr[q] = x + off;
      orr[q] = b + q < B ? out + off : nullptr;
    }
    lpk_out<IO, BF16, N1, N2, NB, N2 / WPR, OPT & 7>(xr, orr, D[h], L, X, a4r, a4r + Lo::A_EL, kt, half * (N2 / WPR), Sc);
  }
}

// Persistent: grid (<= SMs, 1), block 32 W (N1 = 32: W even), dynamic smem LpkLayout::FIXED_BYTES + W / (N1 / 16) *
// NB * 2 (XB + 2 XST) bytes. The blocks and the twiddle start values once per block, then channel after channel (P / Q
// staged per channel). OPT (lpk_kappa's comment): & 1 b2's rows, b3's columns and P / Q's columns permuted by kappa as
// they are staged; & 2 the twiddle table (LpkLayout::TT_BYTES more, after the row buffers).
template <typename IO, bool BF16, int N1, int N2, int NB, int OPT = 0, int SR = 16>
__device__ void lpk_forward(const IO* __restrict__ x, const float4* __restrict__ pq, const float* __restrict__ D,
                            const uint16_t* __restrict__ pb, IO* __restrict__ out, int B, int H, int L) {
  using Lo = LbtLayout<N1, N2>;
  using Lp = LpkLayout<N1, N2, SR>;
  static_assert(SR == 16 || (OPT & 8) == 0, "channel groups (lpk_rows_grp) stage 16 rows");
  constexpr int M = Lp::M;
  extern __shared__ __align__(16) unsigned char smraw[];
  uint16_t* sb = reinterpret_cast<uint16_t*>(smraw);
  float4* spq = reinterpret_cast<float4*>(smraw + Lo::BLK_BYTES);
  float2* twi = reinterpret_cast<float2*>(smraw + Lo::BLK_BYTES + Lp::PQ_BYTES);
  uint16_t* bufs = reinterpret_cast<uint16_t*>(smraw + Lp::FIXED_BYTES + ((OPT & 4) != 0 ? Lp::NEG_BYTES : 0));
  {   // blocks: 8 planes into padded rows (learned_tc.cu's layout)
    const int n[8] = {N1, N1, N2, N2, N2, N2, N1, N1};
    int src = 0, dst = 0;
#pragma unroll
    for (int pl = 0; pl < 8; ++pl) {
      const int w = n[pl], cpr = w / 8, s = w + 8;
      if ((OPT & 17) == 17 && (pl == 4 || pl == 5)) {   // pkopt2, OPT & 16: a thread per row, its 16-byte loads in flight, then
        for (int r = threadIdx.x; r < N2; r += blockDim.x) {   // the row's 32-bit pairs {b3[r][kappa(c)], b3[r][kappa(c + 1)]}
          uint4 v[N2 / 8];
#pragma unroll
          for (int k = 0; k < N2 / 8; ++k) v[k] = *reinterpret_cast<const uint4*>(pb + src + r * N2 + 8 * k);
          const uint32_t* e = reinterpret_cast<const uint32_t*>(v);
          auto el = [&](int c) { const int kc = lpk_kappa<N2>(c); return (e[kc >> 1] >> (16 * (kc & 1))) & 0xffffu; };
#pragma unroll
          for (int c = 0; c < N2; c += 2) *reinterpret_cast<uint32_t*>(sb + dst + r * s + c) = el(c) | (el(c + 1) << 16);
        }
      } else if ((OPT & 1) != 0 && (pl == 4 || pl == 5)) {   // kappa: b3[n][k] <- b3[n][kappa(k)], element by element
        for (int i = threadIdx.x; i < w * w; i += blockDim.x) {
          const int r = i / w, c = i - r * w;
          sb[dst + r * s + c] = pb[src + r * w + lpk_kappa<N2>(c)];
        }
      } else {
        for (int i = threadIdx.x; i < w * cpr; i += blockDim.x) {
          const int r = i / cpr, c = i - r * cpr, rs = (OPT & 1) != 0 && (pl == 2 || pl == 3) ? lpk_kappa<N2>(r) : r;   // kappa: b2's rows
          *reinterpret_cast<uint4*>(sb + dst + r * s + 8 * c) = *reinterpret_cast<const uint4*>(pb + src + rs * w + 8 * c);
        }
      }
      src += w * w; dst += w * s;
    }
  }
  if constexpr ((OPT & 4) != 0) {   // -b2i, -b3i, -a4i from the staged planes (after a barrier: the same threads need not have staged them)
    __syncthreads();
    uint16_t* neg = sb + Lp::FIXED_BYTES / 2;
    const uint16_t* srcp[3] = {sb + 2 * Lo::A_EL + Lo::B_EL, sb + 2 * Lo::A_EL + 3 * Lo::B_EL, sb + 3 * Lo::A_EL + 4 * Lo::B_EL};
    const int cnt[3] = {Lo::B_EL, Lo::B_EL, Lo::A_EL};
    for (int pl = 0, off = 0; pl < 3; off += cnt[pl], ++pl)
      for (int i = threadIdx.x; i < cnt[pl]; i += blockDim.x) neg[off + i] = srcp[pl][i] ^ 0x8000u;
  }
  // twiddle start values [half][v][lane]: v 0, 1 step 1's w^(k1_h t); 2, 3 its steps w^(4 k1_h); 4..7 step 3's
  // w^(k1_h (2t + e)) / M (v = 4 + 2h + e); 8, 9 its steps w^(8 k1_h); k1_h = rho(16 half + g + 8 h); w = e^(-2 pi i / M)
  for (int i = threadIdx.x; i < 2 * 10 * 32; i += blockDim.x) {
    const int half = i / 320, v = (i / 32) % 10, ln = i & 31, g = ln >> 2, t = ln & 3;
    int e, hh;
    double scale = 1.0;
    if (v < 2) { hh = v; e = t; }
    else if (v < 4) { hh = v - 2; e = 4; }
    else if (v < 8) { hh = (v - 4) >> 1; e = 2 * t + ((v - 4) & 1); scale = 1.0 / M; }
    else { hh = v - 8; e = 8; }
    const int k1 = lpk_rho(16 * half + g + 8 * hh, N1), a = (k1 * e) % M;
    double s, c;
    sincospi(-2.0 * a / M, &s, &c);
    twi[i] = make_float2((float)(c * scale), (float)(s * scale));
  }
  float2* twt = reinterpret_cast<float2*>(bufs) + (blockDim.x / (32 * (N1 / 16))) * NB * (Lp::XB + 2 * Lp::XST) / 4;
  if constexpr ((OPT & 2) != 0) {   // the twiddle table: thread (half, lane) runs lpk_steps' recurrences on the same start values
    __syncthreads();
    if (threadIdx.x < 64) {
      const int half = threadIdx.x >> 5, ln = threadIdx.x & 31;
      const float2* tws = twi + half * 10 * 32 + ln;
      float4* tt = reinterpret_cast<float4*>(twt) + half * 16 * 32 + ln;
      float2 cur[4] = {tws[0], tws[32]}, stp[2] = {tws[64], tws[96]};
      for (int s = 0; s < 8; ++s) {   // step 1: chunk s = {w_h0, w_h1}, s = 2 jp + j
        float2 w[2];
        for (int h = 0; h < 2; ++h) { w[h] = cur[h]; cur[h] = cmul(w[h], stp[h]); }
        tt[32 * s] = make_float4(w[0].x, w[0].y, w[1].x, w[1].y);
      }
      cur[0] = tws[128]; cur[1] = tws[160]; cur[2] = tws[192]; cur[3] = tws[224]; stp[0] = tws[256]; stp[1] = tws[288];
      for (int s = 0; s < 2 * (N2 / 16); ++s)   // step 3: chunk 8 + 2 s + h = {w_e0, w_e1}, s = 2 jp + j
        for (int h = 0; h < 2; ++h) {
          float2 w[2];
          for (int e = 0; e < 2; ++e) { w[e] = cur[2 * h + e]; cur[2 * h + e] = cmul(w[e], stp[h]); }
          tt[32 * (8 + 2 * s + h)] = make_float4(w[0].x, w[0].y, w[1].x, w[1].y);
        }
    }
  }
  if constexpr ((OPT & 8) != 0) {   // pkopt2: channel groups of LPK_GROUP (lpk_rows_grp); P / Q of channel j >= 1 after the base layout
    static_assert((OPT & 16) == 0 || (OPT & 8) != 0, "OPT & 16 needs OPT & 8");
    constexpr int G = LPK_GROUP, PQS = N1 * Lp::SQ;
    float4* spqx = reinterpret_cast<float4*>(reinterpret_cast<unsigned char*>(twt) + ((OPT & 2) != 0 ? Lp::TT_BYTES : 0));
#pragma unroll 1
    for (int hh = blockIdx.x; hh < H; hh += G * gridDim.x) {
      const int ng = min(G, (H - hh + (int)gridDim.x - 1) / (int)gridDim.x);   // channels hh + j gridDim.x < H
      __syncthreads();   // every pair done with the previous group's P / Q (and, the first time, the tables complete)
      for (int j = 0; j < ng; ++j) {
        const float4* src = pq + (size_t)(hh + j * gridDim.x) * M;
        float4* dst = j == 0 ? spq : spqx + (j - 1) * PQS;
        for (int i = threadIdx.x; i < M; i += blockDim.x) {
          const int r = i / N2, c = i - r * N2;
          const float4* sp = src + ((OPT & 1) != 0 ? r * N2 + lpk_kappa<N2>(c) : i);
          if constexpr ((OPT & 16) != 0)   // OPT & 16: cp.async, every load of the group in flight before one wait (same bytes)
            asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" :: "r"((uint32_t)__cvta_generic_to_shared(dst + r * Lp::SQ + c)),
                         "l"(sp) : "memory");
          else dst[r * Lp::SQ + c] = *sp;
        }
      }
      if constexpr ((OPT & 16) != 0) asm volatile("cp.async.commit_group;\ncp.async.wait_all;\n" ::: "memory");
      __syncthreads();
      lpk_rows_grp<IO, BF16, N1, N2, NB, OPT>(x, out, D, B, H, L, bufs, sb, spq, spqx, (OPT & 2) ? twt : twi, hh, ng);
    }
  } else {
#pragma unroll 1
  for (int hh = blockIdx.x; hh < H; hh += gridDim.x) {
    __syncthreads();   // every pair done with the previous channel's P / Q (and, the first time, the tables complete)
    const float4* src = pq + (size_t)hh * M;
    for (int i = threadIdx.x; i < M; i += blockDim.x) {
      const int r = i / N2, c = i - r * N2;
      spq[r * Lp::SQ + c] = src[(OPT & 1) != 0 ? r * N2 + lpk_kappa<N2>(c) : i];   // kappa: position c holds column kappa(c)
    }
    __syncthreads();
    lpk_rows<IO, BF16, N1, N2, NB, OPT, SR>(x, out, D, B, H, L, bufs, sb, spq, (OPT & 2) ? twt : twi, hh);
  }
  }
}

// r1w16: one row per pair, 16 warps (pcp's shape); r2w12 / r2w10: two rows of a channel per pair (pc2p's), 12 / 10 warps
// (r2 at 16 warps spilled ~100 bytes at 128 registers).
#define LPK_CFG(SUF, IO, BF, N1, N2, NB, MAXT, NAME)                                                                   \
  extern "C" __global__ void __launch_bounds__(MAXT, 1) lpk_forward_##SUF##_##NAME(const IO* __restrict__ x,         \
      const float4* __restrict__ pq, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L) {                                                                                           \
    lpk_forward<IO, BF, N1, N2, NB>(x, pq, D, pb, out, B, H, L);                                                       \
  }
#define LPK_TYPE(SUF, IO, BF)                                                                                          \
  LPK_CFG(SUF, IO, BF, 32, 32, 2, 384, 32x32r2w12) LPK_CFG(SUF, IO, BF, 32, 32, 2, 320, 32x32r2w10)                      \
  LPK_CFG(SUF, IO, BF, 32, 32, 1, 512, 32x32r1w16)                                                                     \
  LPK_CFG(SUF, IO, BF, 16, 32, 1, 512, 16x32r1w16) LPK_CFG(SUF, IO, BF, 16, 32, 2, 384, 16x32r2w12)                     \
  LPK_CFG(SUF, IO, BF, 16, 16, 1, 512, 16x16r1w16) LPK_CFG(SUF, IO, BF, 16, 16, 2, 384, 16x16r2w12)                     \
  extern "C" __global__ void __launch_bounds__(256) lpk_prep_##SUF(const float2* __restrict__ blocks, IO* __restrict__ out, \
      int N1, int N2, int adjoint) { lpk_prep<IO>(blocks, out, N1, N2, adjoint); }
#ifndef LPK_NO_INSTANCES   // learned_pk_bwd.cu includes this file for its device code only
LPK_TYPE(bf16, __nv_bfloat16, true)
LPK_TYPE(f16, __half, false)

// Session 12, helper pkopt: the variants OPT = 1 (kappa), 2 (twiddle table), 3 (both), named <kernel>o<OPT>; dynamic smem
// + LpkLayout::TT_BYTES when OPT & 2 (PackedLearnedConv.smem).
#define LPK_CFGO(SUF, IO, BF, N1, N2, NB, MAXT, NAME, OPT)                                                             \
  extern "C" __global__ void __launch_bounds__(MAXT, 1) lpk_forward_##SUF##_##NAME##o##OPT(const IO* __restrict__ x,  \
      const float4* __restrict__ pq, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L) {                                                                                           \
    lpk_forward<IO, BF, N1, N2, NB, OPT>(x, pq, D, pb, out, B, H, L);                                                  \
  }
#define LPK_CFGO3(SUF, IO, BF, N1, N2, NB, MAXT, NAME)                                                                 \
  LPK_CFGO(SUF, IO, BF, N1, N2, NB, MAXT, NAME, 1) LPK_CFGO(SUF, IO, BF, N1, N2, NB, MAXT, NAME, 2)                     \
  LPK_CFGO(SUF, IO, BF, N1, N2, NB, MAXT, NAME, 3)
#define LPK_TYPEO(SUF, IO, BF)                                                                                         \
  LPK_CFGO3(SUF, IO, BF, 32, 32, 1, 512, 32x32r1w16) LPK_CFGO3(SUF, IO, BF, 32, 32, 2, 384, 32x32r2w12)                  \
  LPK_CFGO3(SUF, IO, BF, 16, 32, 1, 512, 16x32r1w16) LPK_CFGO3(SUF, IO, BF, 16, 32, 2, 384, 16x32r2w12)                  \
  LPK_CFGO3(SUF, IO, BF, 16, 16, 1, 512, 16x16r1w16) LPK_CFGO3(SUF, IO, BF, 16, 16, 2, 384, 16x16r2w12)
// r1w20: one row per unit at 20 warps (10 pairs at 32 x 32), variant 3 only (its twiddle table keeps it at <= 96
// registers without spilling; variant 1 spills at 20 warps).
#define LPK_TYPEO20(SUF, IO, BF)                                                                                       \
  LPK_CFGO(SUF, IO, BF, 32, 32, 1, 640, 32x32r1w20, 3) LPK_CFGO(SUF, IO, BF, 16, 32, 1, 640, 16x32r1w20, 3)              \
  LPK_CFGO(SUF, IO, BF, 16, 16, 1, 640, 16x16r1w20, 3)
LPK_TYPEO(bf16, __nv_bfloat16, true)
LPK_TYPEO(f16, __half, false)
LPK_TYPEO20(bf16, __nv_bfloat16, true)
LPK_TYPEO20(f16, __half, false)
// OPT & 4 (the negated imaginary planes): 32 x 32 only, o5 / o7 of r1w16 and r2w12, o7 of r1w20.
#define LPK_TYPEO4(SUF, IO, BF)                                                                                        \
  LPK_CFGO(SUF, IO, BF, 32, 32, 1, 512, 32x32r1w16, 5) LPK_CFGO(SUF, IO, BF, 32, 32, 1, 512, 32x32r1w16, 7)              \
  LPK_CFGO(SUF, IO, BF, 32, 32, 2, 384, 32x32r2w12, 5) LPK_CFGO(SUF, IO, BF, 32, 32, 2, 384, 32x32r2w12, 7)              \
  LPK_CFGO(SUF, IO, BF, 32, 32, 1, 640, 32x32r1w20, 7)
LPK_TYPEO4(bf16, __nv_bfloat16, true)
LPK_TYPEO4(f16, __half, false)
// Session 12, helper pkopt2: OPT & 8 (channel groups, lpk_rows_grp) for r2w12: o8 (N1 = 16's default variant 0 + groups)
// and o11 (the 32 x 32 default variant 3 + groups) at every M, o15 at 32 x 32; dynamic smem + (LPK_GROUP - 1) PQ_BYTES.
#define LPK_TYPEO8(SUF, IO, BF)                                                                                        \
  LPK_CFGO(SUF, IO, BF, 32, 32, 2, 384, 32x32r2w12, 8) LPK_CFGO(SUF, IO, BF, 32, 32, 2, 384, 32x32r2w12, 11)             \
  LPK_CFGO(SUF, IO, BF, 32, 32, 2, 384, 32x32r2w12, 15)                                                                  \
  LPK_CFGO(SUF, IO, BF, 16, 32, 2, 384, 16x32r2w12, 8) LPK_CFGO(SUF, IO, BF, 16, 32, 2, 384, 16x32r2w12, 11)             \
  LPK_CFGO(SUF, IO, BF, 16, 16, 2, 384, 16x16r2w12, 8) LPK_CFGO(SUF, IO, BF, 16, 16, 2, 384, 16x16r2w12, 11)
LPK_TYPEO8(bf16, __nv_bfloat16, true)
LPK_TYPEO8(f16, __half, false)
// OPT & 16 (with & 8): the group's P / Q staged by cp.async (all loads in flight, one wait) instead of load / store pairs:
// r2w12 o27 (= 11 + 16) at every M.
#define LPK_TYPEO16(SUF, IO, BF)                                                                                       \
  LPK_CFGO(SUF, IO, BF, 32, 32, 2, 384, 32x32r2w12, 27) LPK_CFGO(SUF, IO, BF, 16, 32, 2, 384, 16x32r2w12, 27)            \
  LPK_CFGO(SUF, IO, BF, 16, 16, 2, 384, 16x16r2w12, 27)
LPK_TYPEO16(bf16, __nv_bfloat16, true)
LPK_TYPEO16(f16, __half, false)
// Session 13, helper pkmode: circular at 32 x 32 (L = N = 2048): the x stage holds all 32 rows of A (SR = 32), step 1
// multiplies both k16 blocks; one row per pair at 12 warps (r1w12s32: the 32-row stages of r2w12 would pass 227 KB, and
// 384 threads leave ptxas 168 registers for the second block's fragments), variant 0; dynamic smem
// PackedLearnedConv.smem(32, 32, 12, 1, 0, 32).
#define LPK_TYPES32(SUF, IO, BF)                                                                                       \
  extern "C" __global__ void __launch_bounds__(384, 1) lpk_forward_##SUF##_32x32r1w12s32(const IO* __restrict__ x,     \
      const float4* __restrict__ pq, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L) {                                                                                           \
    lpk_forward<IO, BF, 32, 32, 1, 0, 32>(x, pq, D, pb, out, B, H, L);                                                 \
  }
LPK_TYPES32(bf16, __nv_bfloat16, true)
LPK_TYPES32(f16, __half, false)
#endif
