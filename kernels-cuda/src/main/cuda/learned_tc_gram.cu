// The learned butterfly backward's dumping chains with the dGa / dFa Gram inside (suffix pdcg1 / pdcg2; lbf8,
// LearnedButterflyConv.chainGrams): learned_tc.cu's pdc kernels (lbt_forward with CH, PAIR 2) plus learned_tc_chain.cuh
// lbg_*: per row the N1 x N1 Gram M = X3 V^T of the chain's X3 with the other input v, accumulated per pair in shared
// memory, one partial per block into part; slot 3 (X3) is not dumped. A module of its own so that these few kernels
// compile without learned_tc.cu's 156 others (which it includes with LBT_NO_INSTANCES).
// Shapes: x, out, v (B, H, L) bf16 / fp16; N1 = 32, N2 in {32, 64}; part (gridDim.x * H, 32, 32) float2 (f2cg: N1 = 16,
// N2 in {16, 32}, part (gridDim.x * H, 16, 16), one warp per row as f2c, V staged per warp, GV = 1 always);
// 32x64pdcg1r (lbf9, LearnedButterflyConv.registerGrams): pdcg1 with the accumulators in registers (lbc_rows' GR);
// at 32 x 32 the same kernel at 12 warps (pdcg1 runs 16, where 128 registers cannot hold them) was slower in lbf9-1
// (ncu 270-273 us against pdcg1's 264-268), so it is not built.
// GV = ceil(ceil(L / N2) / 16) V row tiles (1: L <= 16 N2, every causal shape; 2: longer rows, 32 x 32 only: at 32 x 64
// the accumulators of 6 pairs (60 KB) do not fit beside pdc's 183 KB of shared memory).
// Warps: pdc's (16 at 32 x 32, 12 at 32 x 64), except pdcg2: 12 (at 16 ptxas spilled 4 bytes for sm_80).
// herm = 1 (the forward chain, v = dy): the partial is M^H = dGa's; herm = 0 (the adjoint chain, v = u): M = dFa's.
// Shared memory: pdc's (LearnedLaunch.tensorCoreSmem) + LearnedLaunch.chainGramSmem (accumulators; V stages).
#define LBT_NO_INSTANCES
#include "learned_tc.cu"

#define LBG_CFG(SUF, IO, BF, N2, MAXT, GV, NAME, GR)                                                                    \
  extern "C" __global__ void __launch_bounds__(MAXT, 1) lbt_forward_##SUF##_##NAME(const IO* __restrict__ x,       \
      const float2* __restrict__ kp, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L, int conjK, uint16_t* __restrict__ dump, const IO* __restrict__ v, float2* __restrict__ part, \
      int herm) {                                                                                                  \
    lbt_forward<IO, BF, 32, N2, false, 2, false, true, true, 0, false, 0, false, GV, GR>(x, kp, D, pb, out, B, H, L, conjK, \
                                                                                    dump, nullptr, nullptr, 0.f, v, part, herm); \
  }
// f2cg (N1 = 16): f2c's launch (10 warps, two blocks per SM) with lbc_row16's GV path; part (gridDim.x * H, 16, 16).
#define LBFG_CFG(SUF, IO, BF, N2, NAME)                                                                            \
  extern "C" __global__ void __launch_bounds__(320, 2) lbt_forward_##SUF##_##NAME(const IO* __restrict__ x,        \
      const float2* __restrict__ kp, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L, int conjK, uint16_t* __restrict__ dump, const IO* __restrict__ v, float2* __restrict__ part, \
      int herm) {                                                                                                  \
    lbt_forward<IO, BF, 16, N2, false, 0, true, false, true, 0, false, 0, false, 1>(x, kp, D, pb, out, B, H, L, conjK, \
                                                                                   dump, nullptr, nullptr, 0.f, v, part, herm); \
  }
#define LBG_TYPE(SUF, IO, BF)                                                                                      \
  LBG_CFG(SUF, IO, BF, 32, 512, 1, 32x32pdcg1, false) LBG_CFG(SUF, IO, BF, 32, 384, 2, 32x32pdcg2, false)         \
  LBG_CFG(SUF, IO, BF, 64, 384, 1, 32x64pdcg1, false) LBG_CFG(SUF, IO, BF, 64, 384, 1, 32x64pdcg1r, true)         \
  LBFG_CFG(SUF, IO, BF, 16, 16x16f2cg) LBFG_CFG(SUF, IO, BF, 32, 16x32f2cg)
LBG_TYPE(bf16, __nv_bfloat16, true)
LBG_TYPE(f16, __half, false)
