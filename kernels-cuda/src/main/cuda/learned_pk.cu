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
// Files: the device code in learned_pk.cuh (layouts, block preparation, steps 1-4) and learned_pk_rows.cuh (the row
// loops, lpk_forward); here the kernels: P / Q (lpk_pq, lpk_pq_bi), lpk_prep_* and the lpk_forward_* instances.
#include "learned_pk_rows.cuh"

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
