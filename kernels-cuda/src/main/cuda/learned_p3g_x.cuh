// Shapes: as learned_p3g.cu (B batch, H channels, L length; the one-pass M = 4096 plan's chunk rows c of 4096 (re, im) pairs,
// channel h0 + c / B, batch c % B). Included by learned_p3g.cu after p3g_pack1 and the hooks (the same translation unit).
#pragma once

// Session 27: lp3g_qbmid1x_<io> (M = 4096): qbmid1 with its four chunk rows read straight from dy instead of pass 1's packed
// copy SG (no lp3g_pack1 for dy; bmid1 still stores its rows to S = SG for pq_grad and bmid2). Each 4-pair group is the
// uint4 p3g_pack1 would have stored (the same bytes: the packing is the identity on dy's bytes, zeros past L / 2 pairs and for
// rows c >= rows), unpacked into the planes as load_row16 unpacks it: the same plane values, so the same bits downstream.
template <typename IO, typename SC, typename ST>
__device__ __forceinline__ void p3g_load_x4(ST* zr, ST* zi, const IO* __restrict__ x, int L, int h0, int B, int H, int rows, int vec,
                                            long long rowc) {
  constexpr int U = 4, G = P3_IN / 2 / 4;   // 4-pair groups a row (4096 pairs)
  const int T = blockDim.x;
  for (int i = threadIdx.x; i < 4 * G; i += U * T) {
    uint4 a[U];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int gi = i + u * T, k = gi / G, q0 = 4 * (gi % G), c = (int)(4 * rowc) + k;
      union { uint4 u4; SC e[4]; } v;
      v.u4 = make_uint4(0u, 0u, 0u, 0u);
      if (gi < 4 * G && c < rows) {
        int h;
        const IO* r = x + p3_row(c, h0, B, H, h) * (long long)L;
        if (vec && 2 * q0 + 8 <= L) {
          v.u4 = *reinterpret_cast<const uint4*>(r + 2 * q0);
        } else {
#pragma unroll
          for (int j = 0; j < 4; ++j) {
            const int q = q0 + j;
            stc(&v.e[j], 2 * q < L ? ld(r + 2 * q) : 0.f, 2 * q + 1 < L ? ld(r + 2 * q + 1) : 0.f);
          }
        }
      }
      a[u] = v.u4;
    }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int gi = i + u * T;
      if (gi < 4 * G) unpack16<SC>(zr, zi, a[u], (gi / G) * (P3_IN / 2) + 4 * (gi % G));
    }
  }
}
template <bool BF16, typename SC, typename IO>
struct P3gGramX : P3gGram<BF16, SC, 1, 4> {
  const IO* x; int L, rows, vec, h0, B, H;
  static constexpr bool XLOAD = true;
  template <typename ST>
  __device__ __forceinline__ void xload(ST* zr, ST* zi, long long rowc) const { p3g_load_x4<IO, SC>(zr, zi, x, L, h0, B, H, rows, vec, rowc); }
};
#define LP3G_QX(TAG, IO)                                                                                               \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_qbmid1x_##TAG(P3Io<IO>::SC* __restrict__ S,                 \
      const IO* __restrict__ x, int L, int rows, int vec, const P3Io<IO>::SC* __restrict__ D, float2* __restrict__ part,  \
      const float2* __restrict__ mats, const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot) {     \
    P3gGramX<P3Io<IO>::BF16, P3Io<IO>::SC, IO> hk;                                                                      \
    static_cast<P3gGram<P3Io<IO>::BF16, P3Io<IO>::SC, 1, 4>&>(hk) = p3g_hook<P3Io<IO>::BF16, 1, P3Io<IO>::SC, 4>(D, D, slot, part); \
    hk.x = x; hk.L = L; hk.rows = rows; hk.vec = vec; hk.h0 = h0; hk.B = B; hk.H = H;                                  \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 1>(S, mats, pq, h0, B, H, lN1, hk);                                      \
  }
LP3G_QX(bf16, __nv_bfloat16)
LP3G_QX(f16, __half)
