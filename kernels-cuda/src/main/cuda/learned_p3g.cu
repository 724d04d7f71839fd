// Shapes: as learned_p3b.cu (B batch, H channels, L length; M = N1 * 8192; a chunk's slot c is channel h0 + c / B, batch
// c % B; mats: the 10 left-form blocks; pq (H, M) float4), plus
//   SC, SG : two 16-bit scratches (rows of one chunk, N1, 8192) SC = (re, im) of the I/O type; after lp3g_midA a row holds
//            the pair map's input at position p = k1 8192 + p_in (lib's position order): C of u (forward mats), or g of dy
//            (the adjoint's mats: the gradient at the forward pair map's OUTPUT, lpj_pair_grad's g).
//   gpq    : (H, M) float4 {Re dP_p, Im dP_p, Re dQ_p, Im dQ_p} at position p (PackedLearnedChain.taps' input).
//
// The three-pass packed learned butterfly's backward on tensor cores (helper p3, session 17; PackedThreePassBackward.java;
// slow twin: the fp32 chain, PackedLearnedChain.backward). Backward and forward side by side: the forward (learned_p3b.cu)
// is pass 1, lp3_mid16 (chain, pair map, inverse chain), pass 3; the backward splits lp3_mid16 at its pair map so that both
// operands of the pair map's gradient reach global memory:
//   u : pass 1 (forward mats) -> SC; lp3g_midA (forward mats): SC = C = the forward chain's output / M (the three-pass
//       scaling: 1/N1 in pass 1, 1/8192 over the inner stages).
//   dy: pass 1 (adjoint mats) -> SG; lp3g_midA (adjoint mats): SG = g (the adjoint's forward-structured half carries the
//       1/M: g = dL/dC' of lib's unscaled chain, as lpj_pair_grad's);
//       lp3g_pq_grad: dP_p = M sum_b g_p conj(C_p), dQ_p = M sum_b g_p C_s(p) (M undoes C's 1/M);
//       lp3g_midB (adjoint mats, adjoint pair map {conj P_p, Q_s(p)}): the pair map's adjoint and the adjoint inverse chain;
//       pass 3 (adjoint mats) -> du (+ D dy). lp3g_midA then lp3g_midB is lp3_mid16 bit for bit: the row between them is
//       the 16-bit planes' content, exact in SC.
#define LP3B_HELPERS_ONLY
#include "learned_p3b.cu"

// dP / dQ of positions of a chunk: thread i < hc M is channel h0 + i / M, position p = i % M (partner s(p): (0,
// pos((8192 - k_in) mod 8192)) at k1 = 0, else (N1 - k1, pos(8191 - k_in)), PackedThreePass.kernelPartner); sums over the
// channel's B rows (slots (i / M) B .. + B - 1, adjacent) in fp32, times scale (M).
template <typename SC>
__device__ void p3g_pq_grad(const SC* __restrict__ C, const SC* __restrict__ G, float4* __restrict__ gpq, int h0, int hc, int B,
                            int lN1, float scale) {
  const long long M = (long long)P3_IN << lN1, total = (long long)hc * M;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
    const int cc = (int)(i >> (P3_LIN + lN1)), p = (int)(i & (M - 1)), k1 = p >> P3_LIN, f = p3_freq(p & (P3_IN - 1));
    const int s = k1 == 0 ? p3_pos((P3_IN - f) & (P3_IN - 1)) : (((1 << lN1) - k1) << P3_LIN) + p3_pos(P3_IN - 1 - f);
    float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
    for (int b = 0; b < B; ++b) {
      const size_t row = ((size_t)cc * B + b) * (size_t)M;
      const float2 g = ldc(G + row + p), c = ldc(C + row + p), cs = ldc(C + row + s);
      acc.x += g.x * c.x + g.y * c.y;    // g conj(c)
      acc.y += g.y * c.x - g.x * c.y;
      acc.z += g.x * cs.x - g.y * cs.y;  // g c_s
      acc.w += g.x * cs.y + g.y * cs.x;
    }
    gpq[(size_t)h0 * M + i] = make_float4(scale * acc.x, scale * acc.y, scale * acc.z, scale * acc.w);
  }
}

// names: lp3g_midA_<io> / lp3g_midB_<io> (lp3_mid16's halves: grid (N1 / 2, rows of the chunk), block 256, dynamic shared
// memory p3_smem(2), as lp3_mid16), lp3g_pq_grad_<io> (grid-stride, block 256)
#define LP3G_KERNELS(TAG, IO)                                                                                           \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_midA_##TAG(P3Io<IO>::SC* __restrict__ S,                    \
      const float2* __restrict__ mats, const float4* __restrict__ pq, int h0, int B, int H, int lN1) {                   \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 1>(S, mats, pq, h0, B, H, lN1);                                          \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_midB_##TAG(P3Io<IO>::SC* __restrict__ S,                    \
      const float2* __restrict__ mats, const float4* __restrict__ pq, int h0, int B, int H, int lN1) {                   \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 2>(S, mats, pq, h0, B, H, lN1);                                          \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256) lp3g_pq_grad_##TAG(const P3Io<IO>::SC* __restrict__ C,               \
      const P3Io<IO>::SC* __restrict__ G, float4* __restrict__ gpq, int h0, int hc, int B, int lN1, float scale) {      \
    p3g_pq_grad<P3Io<IO>::SC>(C, G, gpq, h0, hc, B, lN1, scale);                                                        \
  }
LP3G_KERNELS(bf16, __nv_bfloat16)
LP3G_KERNELS(f16, __half)
