// Learned-butterfly long convolution on tensor cores (the fast twin of learned.cu's lb_forward; bf16 / fp16 blocks and
// I/O, fp32 accumulation). Shapes: B batch, H channels, L length, N complex FFT size = N1 * N2 with
// (N1, N2) in {(16, 16), (16, 32), (32, 32), (32, 64)} (N = 256 .. 2048, lib's LEARNED factors).
//   x, out: (B, H, L) bf16 / fp16; kp: (H, N) float2 (position p = k1*N2 + k2, as learned.cu); D: (H) fp32;
//   pb: the prepared 16-bit blocks (lbt_prep): a1r, a1i (N1, N1) row-major; b2r, b2i (N2, N2) stored TRANSPOSED
//   ([n][k]); b3r, b3i likewise; a4r, a4i (N1, N1) row-major: 4 * (N1^2 + N2^2) values.
// Per row (x real, zero-padded to N, as an N1 x N2 matrix X[n1][n2] = x[n1*N2 + n2]), T[k1][n2] = w_N^(k1*n2):
//   X1 = (a1 @ X) * T;  C = X1 @ b2;  P = C * Kp (conjK: conj(Kp));  X3 = (P @ b3) * conj(T) / N;
//   out = Re(a4 @ X3)[:L] + D * x.
// Forward (y):  a1 = Fa, b2 = Fb, b3 = Gb, a4 = Ga, Kp: exactly learned.cu's forward.
// Adjoint (du): a1 = Ga^H, b2 = Gb^H, b3 = Fb^H, a4 = Fa^H, conj(Kp), x = dy: learned.cu's adjoint chain
//   du = Re(Fa^H @ ((((Ga^H @ dy) * T/N) @ Gb^H * conj(Kp)) @ Fb^H * conj(T))) + D * dy (the 1/N moved to one place).
//
// Complex products on real MMAs (mma.sync m16n8k16, 16-bit operands, fp32 accumulators): Cr += Xr Br + Xi (-Bi),
// Ci += Xr Bi + Xi Br, each Br / Bi fragment loaded once (ldmatrix) and used twice, -Bi a sign-bit xor of Bi. The first
// product has a real input (Xi = 0) and the last needs only Re: two real products each. Causal rows are half zero: step 1
// runs over the ceil(L / N2) non-zero input rows only (rounded up to 16), step 4 computes only the output rows below L.
// Work (N = 2048 = 32 x 64, L = 1K causal): 576 MMAs per row (32 + 256 + 256 + 32), 116 GFLOP at B = 64, H = 768;
// bounded by shared memory (fragments, epilogue lookups), not the MMAs: see BENCH-RESULTS.md (lbf-2, lbf3).
//
// Organization: one warp per row; a CTA holds W warps (16; 12 at 32 x 32 and 8 at 32 x 64: 148 / 218 registers) of one
// channel h (Kp shared) and the four blocks in shared memory (the 16-bit array lbt_prep makes per weight update).
// Each warp keeps its row in a private buffer of N1 x (2 N2 + 8) 16-bit values ([Re | Im] per row, padded so that
// ldmatrix rows fall on distinct banks); each product loads all of its data fragments into registers first, then
// overwrites the buffer with its output (fp32 epilogue: twiddle, Kp, scale, then one rounding to 16 bits).
// The last product's fp32 output is staged in the same buffer for a coalesced write of y (SPLIT: written from the
// accumulators). dump != nullptr (the backward, learned_tc_bwd.cu): per row X1, C (before Kp), P and X3 are also
// stored to dump[(b*H + h), slot] in 16 bits. PAIR kernels (suffix p, pd with dumps): two warps per row, see lbp_row.
// Variants (session 8, lbf2; LearnedButterflyConv.n16Kernel / pairTwiddleTable): suffix f / f2 (N1 = 16, FE: the pair
// kernels' epilogues; f2 at 10 warps, two blocks per SM), pt / pdt (pair, TI: the recurrences' start values by lane,
// the x stage filled in a bank-conflict-free lane order). Session 9 (lbf4; chainRows, n16Kernel 3): suffix pc / pdc
// (pair) and f2c (N1 = 16), steps 1 -> 2 -> 3 chained in registers (learned_tc_chain.cuh). Row I/O: learned_tc_out.cuh.
// Files: the device code in learned_tc_rows.cuh; here the kernel instances (LBT_CFG ... LBT_TYPE) and the MMA rate probe.
#include "learned_tc_rows.cuh"

#define LBT_CFG(SUF, IO, BF, N1, N2, MAXT, SPLIT, NAME)                                                             \
  extern "C" __global__ void __launch_bounds__(MAXT, 1) lbt_forward_##SUF##_##NAME(const IO* __restrict__ x,       \
      const float2* __restrict__ kp, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L, int conjK, uint16_t* __restrict__ dump) {                                               \
    lbt_forward<IO, BF, N1, N2, SPLIT>(x, kp, D, pb, out, B, H, L, conjK, dump);                                   \
  }
// FE kernels (N1 = 16, suffix f): the pair kernels' epilogues; MINB blocks per SM (the launch bound's second value).
#define LBF_CFG(SUF, IO, BF, N2, MAXT, MINB, NAME)                                                                  \
  extern "C" __global__ void __launch_bounds__(MAXT, MINB) lbt_forward_##SUF##_##NAME(const IO* __restrict__ x,    \
      const float2* __restrict__ kp, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L, int conjK, uint16_t* __restrict__ dump) {                                               \
    lbt_forward<IO, BF, 16, N2, false, 0, true>(x, kp, D, pb, out, B, H, L, conjK, dump);                          \
  }
#define LBP_CFG(SUF, IO, BF, N2, MAXT, DUMP, NAME, TI)                                                              \
  extern "C" __global__ void __launch_bounds__(MAXT, 1) lbt_forward_##SUF##_##NAME(const IO* __restrict__ x,       \
      const float2* __restrict__ kp, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L, int conjK, uint16_t* __restrict__ dump) {                                               \
    lbt_forward<IO, BF, 32, N2, false, DUMP ? 2 : 1, false, TI>(x, kp, D, pb, out, B, H, L, conjK, dump);          \
  }
// CH kernels (suffix pc, pdc with dumps; learned_tc_chain.cuh): smem FIXED_BYTES + W/2 * 2 lbc_pair_el + 192 * 6 * 8.
// pdcw: the 32 x 64 dumping kernel at 16 warps (127 registers; pdc 12 warps, 144).
#define LBC_CFG(SUF, IO, BF, N2, MAXT, DUMP, NAME)                                                                  \
  extern "C" __global__ void __launch_bounds__(MAXT, 1) lbt_forward_##SUF##_##NAME(const IO* __restrict__ x,       \
      const float2* __restrict__ kp, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L, int conjK, uint16_t* __restrict__ dump) {                                               \
    lbt_forward<IO, BF, 32, N2, false, DUMP ? 2 : 1, false, true, true>(x, kp, D, pb, out, B, H, L, conjK, dump);  \
  }
// CB kernels (suffix pc2; learned_tc_chain2.cuh): NB = 2 rows per pair, forward / adjoint without dumps, N2 = 32 only;
// smem FIXED_BYTES + W/2 * 2 lbc2_pair_el + 192 * 6 * 8. pc2p: persistent, grid (<= SMs, 1), each block channel after
// channel (blocks, twiddle tables and start values built once per block instead of once per (channel, part)). pcp: the
// same persistent loop on one row per pair (lbc2_rows with NB = 1: pc's products per row; 32 x 32 and 32 x 64).
#define LBC2_CFG(SUF, IO, BF, N2, MAXT, NB, PERS, NAME)                                                                     \
  extern "C" __global__ void __launch_bounds__(MAXT, 1) lbt_forward_##SUF##_##NAME(const IO* __restrict__ x,       \
      const float2* __restrict__ kp, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L, int conjK, uint16_t* __restrict__ dump) {                                               \
    lbt_forward<IO, BF, 32, N2, false, 1, false, true, true, NB, PERS>(x, kp, D, pb, out, B, H, L, conjK, dump);   \
  }
// WG kernels (suffix pw; learned_tc_wg.cuh): pc with steps 2 and 3 on wgmma (sm_90a; elsewhere a trap), W a multiple of 4;
// smem FIXED_BYTES + W/2 * 2 lbc_pair_el + 192 * 6 * 8 + lbw_wgb_bytes (16 warps at 32 x 32, 12 at 32 x 64).
// WGV: 1 pw, 3 pwd (lbf10: the same kernel with the wgmma descriptors precomputed once per block, lbw_product_d),
// 4 pwo (lbf10: pwd with 16-column passes, one in flight during the previous one's epilogue, lbw_steps_ov).
// 5 pwt (lbf11: pwd with step 3's twiddles from a block table, lbw_tw3_build; 32 x 64 only; smem + 8 * 24 * N2 bytes).
#define LBW_CFG(SUF, IO, BF, N2, MAXT, NAME, WGV)                                                                   \
  extern "C" __global__ void __launch_bounds__(MAXT, 1) lbt_forward_##SUF##_##NAME(const IO* __restrict__ x,       \
      const float2* __restrict__ kp, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L, int conjK, uint16_t* __restrict__ dump) {                                               \
    lbt_forward<IO, BF, 32, N2, false, 1, false, true, true, 0, false, WGV>(x, kp, D, pb, out, B, H, L, conjK, dump); \
  }
// pw2p (learned_tc_wg.cuh lbw2_rows): pc2p with steps 2 and 3 on wgmma (sm_90a), persistent, 12 warps; smem
// FIXED_BYTES + W/2 * 2 lbc2_pair_el<32, 2> + 192 * 6 * 8 + lbw_wgb_bytes.
#define LBW2_CFG(SUF, IO, BF, MAXT, NAME)                                                                              \
  extern "C" __global__ void __launch_bounds__(MAXT, 1) lbt_forward_##SUF##_##NAME(const IO* __restrict__ x,       \
      const float2* __restrict__ kp, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L, int conjK, uint16_t* __restrict__ dump) {                                               \
    lbt_forward<IO, BF, 32, 32, false, 1, false, true, true, 2, true, 2>(x, kp, D, pb, out, B, H, L, conjK, dump); \
  }
#define LBFC_CFG(SUF, IO, BF, N2, NAME)   /* chained N1 = 16 (f2c): lbc_row16, f2's launch (10 warps, two blocks per SM) */ \
  extern "C" __global__ void __launch_bounds__(320, 2) lbt_forward_##SUF##_##NAME(const IO* __restrict__ x,        \
      const float2* __restrict__ kp, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L, int conjK, uint16_t* __restrict__ dump) {                                               \
    lbt_forward<IO, BF, 16, N2, false, 0, true, false, true>(x, kp, D, pb, out, B, H, L, conjK, dump);             \
  }
// KF kernels (suffix pdck / f2ck): the adjoint dumping chains with dKp's products (lbc_steps KF); fdump: the forward
// chain's dump, gk: dKp (H, N) float2, zeroed when gridDim.x > 1; smem + 8 N1 (N2 + 8) bytes (the accumulator).
#define LBCK_CFG(SUF, IO, BF, N2, MAXT, NAME)                                                                       \
  extern "C" __global__ void __launch_bounds__(MAXT, 1) lbt_forward_##SUF##_##NAME(const IO* __restrict__ x,       \
      const float2* __restrict__ kp, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L, int conjK, uint16_t* __restrict__ dump, const uint16_t* __restrict__ fdump,            \
      float2* __restrict__ gk, float kscale) {                                                                     \
    lbt_forward<IO, BF, 32, N2, false, 2, false, true, true, 0, false, 0, true>(x, kp, D, pb, out, B, H, L, conjK, dump, \
                                                                               fdump, gk, kscale);               \
  }
#define LBFCK_CFG(SUF, IO, BF, N2, NAME)                                                                            \
  extern "C" __global__ void __launch_bounds__(320, 2) lbt_forward_##SUF##_##NAME(const IO* __restrict__ x,        \
      const float2* __restrict__ kp, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L, int conjK, uint16_t* __restrict__ dump, const uint16_t* __restrict__ fdump,            \
      float2* __restrict__ gk, float kscale) {                                                                     \
    lbt_forward<IO, BF, 16, N2, false, 0, true, false, true, 0, false, 0, true>(x, kp, D, pb, out, B, H, L, conjK, dump, \
                                                                               fdump, gk, kscale);               \
  }
#define LBT_TYPE(SUF, IO, BF)                                                                                      \
  LBT_CFG(SUF, IO, BF, 16, 16, 512, false, 16x16) LBT_CFG(SUF, IO, BF, 16, 32, 512, false, 16x32)                 \
  LBT_CFG(SUF, IO, BF, 32, 32, 384, false, 32x32) LBT_CFG(SUF, IO, BF, 32, 64, 256, false, 32x64)                 \
  LBT_CFG(SUF, IO, BF, 32, 32, 512, true, 32x32s) LBT_CFG(SUF, IO, BF, 32, 64, 384, true, 32x64s)                 \
  LBP_CFG(SUF, IO, BF, 32, 512, false, 32x32p, false) LBP_CFG(SUF, IO, BF, 64, 512, false, 32x64p, false)         \
  LBP_CFG(SUF, IO, BF, 32, 512, true, 32x32pd, false) LBP_CFG(SUF, IO, BF, 64, 384, true, 32x64pd, false)          \
  LBP_CFG(SUF, IO, BF, 32, 512, false, 32x32pt, true) LBP_CFG(SUF, IO, BF, 64, 512, false, 32x64pt, true)          \
  LBP_CFG(SUF, IO, BF, 32, 512, true, 32x32pdt, true) LBP_CFG(SUF, IO, BF, 64, 384, true, 32x64pdt, true)          \
  LBF_CFG(SUF, IO, BF, 16, 512, 1, 16x16f) LBF_CFG(SUF, IO, BF, 32, 512, 1, 16x32f)                                \
  LBF_CFG(SUF, IO, BF, 16, 320, 2, 16x16f2) LBF_CFG(SUF, IO, BF, 32, 320, 2, 16x32f2)                              \
  LBC_CFG(SUF, IO, BF, 32, 512, false, 32x32pc) LBC_CFG(SUF, IO, BF, 64, 512, false, 32x64pc)                      \
  LBC_CFG(SUF, IO, BF, 32, 512, true, 32x32pdc) LBC_CFG(SUF, IO, BF, 64, 384, true, 32x64pdc)                      \
  LBC_CFG(SUF, IO, BF, 64, 512, true, 32x64pdcw) LBC2_CFG(SUF, IO, BF, 32, 512, 2, false, 32x32pc2)           \
  LBC2_CFG(SUF, IO, BF, 32, 512, 2, true, 32x32pc2p) LBC2_CFG(SUF, IO, BF, 32, 512, 1, true, 32x32pcp)              \
  LBC2_CFG(SUF, IO, BF, 64, 512, 1, true, 32x64pcp)                         \
  LBW_CFG(SUF, IO, BF, 32, 512, 32x32pw, 1) LBW_CFG(SUF, IO, BF, 64, 384, 32x64pw, 1)                           \
  LBW_CFG(SUF, IO, BF, 32, 512, 32x32pwd, 3) LBW_CFG(SUF, IO, BF, 64, 384, 32x64pwd, 3)                         \
  LBW_CFG(SUF, IO, BF, 32, 512, 32x32pwo, 4) LBW_CFG(SUF, IO, BF, 64, 384, 32x64pwo, 4)                         \
  LBW_CFG(SUF, IO, BF, 64, 384, 32x64pwt, 5)                                                                       \
  LBW2_CFG(SUF, IO, BF, 384, 32x32pw2p)                                                                        \
  LBFC_CFG(SUF, IO, BF, 16, 16x16f2c) LBFC_CFG(SUF, IO, BF, 32, 16x32f2c)                                          \
  LBCK_CFG(SUF, IO, BF, 32, 512, 32x32pdck) LBCK_CFG(SUF, IO, BF, 64, 384, 32x64pdck)                              \
  LBFCK_CFG(SUF, IO, BF, 16, 16x16f2ck) LBFCK_CFG(SUF, IO, BF, 32, 16x32f2ck)                                      \
  extern "C" __global__ void __launch_bounds__(256) lbt_prep_##SUF(const float2* __restrict__ blocks,              \
      IO* __restrict__ out, int N1, int N2, int adjoint) { lbt_prep<IO>(blocks, out, N1, N2, adjoint); }
#ifndef LBT_NO_INSTANCES   // learned_tc_gram.cu includes this file for its own kernels only
LBT_TYPE(bf16, __nv_bfloat16, true)
LBT_TYPE(f16, __half, false)
#endif

// The mma.sync rate of this GPU (LearnedBench mma; the floor in BENCH-RESULTS.md, round 13-lbf5): each warp runs `iters`
// rounds of 8 independent m16n8k16 16-bit MMAs with fp32 accumulators (no shared memory, no epilogue), then stores its
// sums (out: gridDim.x * blockDim.x floats) so that nothing is dead code. FLOP = 2 * 16 * 8 * 16 * 8 * iters per warp.
template <bool BF16>
__device__ void lbt_mma_rate(float* __restrict__ out, int iters) {
  const uint32_t s = threadIdx.x * 0x9e3779b9u;
  const uint32_t a[4] = {(s & 0x3f803f80u) | 0x3c003c00u, 0x3c003c00u, 0x3c003c00u ^ (s & 0x00100010u), 0x3c003c00u};
  const uint32_t b0 = 0x3c003c00u | (s >> 16 & 0x000f000fu), b1 = 0x3c003c00u;
  float c[8][4];
#pragma unroll
  for (int i = 0; i < 8; ++i)
#pragma unroll
    for (int q = 0; q < 4; ++q) c[i][q] = 0.f;
#pragma unroll 1
  for (int it = 0; it < iters; ++it)
#pragma unroll
    for (int i = 0; i < 8; ++i) mma16816<BF16>(c[i], a, b0 + i, b1);
  float sum = 0.f;
#pragma unroll
  for (int i = 0; i < 8; ++i) sum += c[i][0] + c[i][1] + c[i][2] + c[i][3];
  out[blockIdx.x * blockDim.x + threadIdx.x] = sum;
}
#ifndef LBT_NO_INSTANCES
extern "C" __global__ void __launch_bounds__(512) lbt_mma_rate_bf16(float* __restrict__ out, int iters) { lbt_mma_rate<true>(out, iters); }
extern "C" __global__ void __launch_bounds__(512) lbt_mma_rate_f16(float* __restrict__ out, int iters) { lbt_mma_rate<false>(out, iters); }
#endif

// The wgmma rate of this GPU (LearnedBench mma; round 14-lbf6): each warpgroup (block of 128 threads) runs `iters` rounds
// of 8 m64n64k16 16-bit wgmmas with A from registers (the pw kernels' form) and B from 8 KB of shared memory (no swizzle,
// lbw_desc), alternating two fp32 accumulator sets, one commit / wait per round; then stores its sums. FLOP = 2 * 64 *
// 64 * 16 * 8 * iters per block. sm_90a only (elsewhere a trap).
template <bool BF16>
__device__ void lbt_wgmma_rate(float* __restrict__ out, int iters) {
  __shared__ __align__(128) uint16_t bs[64 * 64];
  for (int i = threadIdx.x; i < 64 * 64; i += blockDim.x) bs[i] = (uint16_t)(0x3c00u + (i & 7));
#if LBW_WGMMA
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
  __syncthreads();
  const uint32_t s = threadIdx.x * 0x9e3779b9u, base = (uint32_t)__cvta_generic_to_shared(bs);
  const uint32_t a[4] = {(s & 0x3f803f80u) | 0x3c003c00u, 0x3c003c00u, 0x3c003c00u ^ (s & 0x00100010u), 0x3c003c00u};
  float c0[32], c1[32];
#pragma unroll
  for (int i = 0; i < 32; ++i) { c0[i] = 0.f; c1[i] = 0.f; }
#pragma unroll 1
  for (int it = 0; it < iters; ++it) {
#if LBW_WGMMA
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      lbw_mma<BF16>(c0, a, lbw_desc(base + 256 * (q & 1), 128, 512), 1);
      lbw_mma<BF16>(c1, a, lbw_desc(base + 256 * (q >> 1), 128, 512), 1);
    }
#if LBW_WGMMA
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
    asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
#endif
  }
  float sum = 0.f;
#pragma unroll
  for (int i = 0; i < 32; ++i) sum += c0[i] + c1[i];
  out[blockIdx.x * blockDim.x + threadIdx.x] = sum;
}
#ifndef LBT_NO_INSTANCES
extern "C" __global__ void __launch_bounds__(128) lbt_wgmma_rate_bf16(float* __restrict__ out, int iters) { lbt_wgmma_rate<true>(out, iters); }
extern "C" __global__ void __launch_bounds__(128) lbt_wgmma_rate_f16(float* __restrict__ out, int iters) { lbt_wgmma_rate<false>(out, iters); }
#endif
