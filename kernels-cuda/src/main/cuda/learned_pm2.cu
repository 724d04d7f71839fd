// Shapes: as learned_pm.cu (B batch, H channels, L length, M = N / 2 complex points, J factors {R1, 16, .., 16}):
//   x, out (B, H, L) bf16 / fp16; mats 2J left-form complex matrices; pq (H, M) float4 {P_p, Q_p}; D (H) fp32.
//
// Helper pkjopt (session 14): variants of learned_pm.cu's fused kernel (lpm_fused_*, their slow twin), same arguments,
// grid (B, H), block 256 .. 512 threads, dynamic shared memory pm_smem(log2M, sizeof(ST)) — PackedMonarchConv.balanced /
// regCap select them:
//   lpm2_b_<io>_<s32|s16>_r<cap>: pm_middle2 (learned_pm.cu: the middle's chunk units dealt round-robin over the warps,
//     the pair map's partner by the chunk rule, each fragment loaded right before its product), cap 0 =
//     __launch_bounds__(512, 1) as lpm_fused_*, 80 = __maxnreg__(80) (3 blocks of 256 threads per SM where shared memory
//     allows, where lpm_fused_* at 93-96 registers gets 2). A 64 cap (4 blocks) spilled 32-156 bytes, and lpm_fused_*'s
//     own middle (pm_middle) under the 80 cap 40-48 bytes: not built (0 spills is the rule).
// The device code is learned_pm.cu's (included for its templates only: pm_conv with MID = 1 calls pm_middle2, declared
// there, defined below).
#define LPM_TEMPLATES_ONLY
#include "learned_pm.cu"

// ---- pkjopt: the balanced middle (MID = 1; this file's lpm2_b_* kernels). The same per-chunk work as pm_middle,
// with (a) the units {c, c2} (c <= c2) dealt round-robin over the warps (pm_middle's warp w takes the chunks c = w (mod
// nw) and skips those with c2 < c, which leaves warps idle: M = 2048 has 8 chunks = 5 units on 8 warps, 3 of them on warps
// 0 .. 2) and (b) the pair map's partner from the chunk rule instead of pm_pos(pm_freq): with a the prefix frequency of
// chunk c (P = M / 256 chunks) and b = k_(J-1) + 16 k_J the frequency's top byte (within-chunk index i = 16 k_(J-1) + k_J),
// -k mod M = (P - a) + P (255 - b) for a != 0 (partner index 255 - i in chunk c2), P ((256 - b) mod 256) for a = 0 (c2 = c).
template <typename ST>
__device__ __forceinline__ void pm_pair_chunk2(const float4* __restrict__ cf, ST* zr, ST* zi, int c, int c2, int a) {
  for (int i = threadIdx.x & 31; i < 256; i += 32) {
    const int p = (c << 8) + i;
    int q;
    if (a != 0) q = (c2 << 8) | (255 - i);
    else {
      const int b2 = (256 - ((i >> 4) | ((i & 15) << 4))) & 255;
      q = (c << 8) | ((b2 & 15) << 4) | (b2 >> 4);
    }
    if (q < p) continue;
    const float4 cp = cf[p], cq = cf[q];
    pm_pair_at(cp, cq, zr, zi, p, q);
  }
}

template <bool BF16, typename ST>
__device__ void pm_middle2(const float2* __restrict__ fa, const float2* __restrict__ fb, const float2* __restrict__ ia,
                           const float2* __restrict__ ib, const float2* tw256, const float4* __restrict__ cf, ST* zr, ST* zi,
                           int lR1, int J, int M) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5, P = M >> 8;
  const float2* tl = tw256 + lane;
  int u = 0;   // units seen so far (every warp walks all chunks; unit u goes to warp u mod nw)
  for (int c = 0; c < P; ++c) {
    const int a = pm_freq(c, lR1, J - 2), c2 = pm_pos((P - a) & (P - 1), lR1, J - 2);
    if (c2 < c) continue;
    if (u++ % nw != warp) continue;
    pm_chunk_fwd<BF16>(fa, fb, tl, zr, zi, c << 8, g, t, 1.0f / 16.0f);
    if (c2 != c) pm_chunk_fwd<BF16>(fa, fb, tl, zr, zi, c2 << 8, g, t, 1.0f / 16.0f);
    __syncwarp();
    pm_pair_chunk2(cf, zr, zi, c, c2, a);
    __syncwarp();
    pm_chunk_inv<BF16>(ib, ia, tl, zr, zi, c << 8, g, t);
    if (c2 != c) pm_chunk_inv<BF16>(ib, ia, tl, zr, zi, c2 << 8, g, t);
    __syncwarp();
  }
}


#define LPM2(NAME, QUAL, BF, IO, ST)                                                                                  \
  extern "C" __global__ void QUAL NAME(const IO* __restrict__ x, const float2* __restrict__ mats,                    \
      const float4* __restrict__ pq, const float* __restrict__ D, IO* __restrict__ out, int H, int L, int log2M) {  \
    pm_conv<BF, IO, ST, true, 1>(x, mats, pq, D, out, H, L, log2M);                                                 \
  }
// The cap: 80 registers for sm_90a (0 spills there); sm_80's code spills 4-8 bytes at 80 (fp32 planes), so its cap is 96
// (no cap in effect: lpm_fused_* uses 86-94 there).
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#define R80 __maxnreg__(96)
#else
#define R80 __maxnreg__(80)
#endif
#define LB __launch_bounds__(512, 1)
#define BF __nv_bfloat16
// name: lpm2_b_<io>_<s32|s16>_r<0|80>
LPM2(lpm2_b_bf16_s32_r0, LB, true, BF, float)
LPM2(lpm2_b_f16_s32_r0, LB, false, __half, float)
LPM2(lpm2_b_bf16_s16_r0, LB, true, BF, BF)
LPM2(lpm2_b_f16_s16_r0, LB, false, __half, __half)
LPM2(lpm2_b_bf16_s32_r80, R80, true, BF, float)
LPM2(lpm2_b_f16_s32_r80, R80, false, __half, float)
LPM2(lpm2_b_bf16_s16_r80, R80, true, BF, BF)
LPM2(lpm2_b_f16_s16_r80, R80, false, __half, __half)
