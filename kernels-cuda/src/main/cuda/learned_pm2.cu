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
// The device code is learned_pm.cu's (included for its templates only).
#define LPM_TEMPLATES_ONLY
#include "learned_pm.cu"

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
