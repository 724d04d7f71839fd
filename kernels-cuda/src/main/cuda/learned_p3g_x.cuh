// Shapes: as learned_p3g.cu (B batch, H channels, L length; the one-pass plans' chunk rows c of 2^lM (re, im) pairs, channel
// h0 + c / B, batch c % B). The row I/O of the one-pass M = 4096 / 8192 plans: passes 1 / 3 (p3g_pack1, p3g_unpack1) and, session
// 27, the M = 4096 middles reading dy / writing du themselves. Included by learned_p3g.cu after the hooks (one translation unit).
#pragma once

// lp3g_pack1_<io>: chunk rows c < rowsPad of S (rowsPad x 2^lM pairs; lM 13, or 12 for the four-row route) from x (channels h0 .., rows c < rows; zeros beyond
// L / 2 points and for c >= rows). The packing is the identity on x's bytes (a row's (x[2q], x[2q + 1]) is the pair q), so
// a thread moves 4 points (16 bytes) at once where the rows are 16-byte aligned (vec: L a multiple of 8 and x 16-byte
// aligned, the caller's check) and the 8 values lie inside the row, else point by point with the bounds. Grid-stride over
// rowsPad x 2048 groups, block 256.
template <typename IO, typename SC>
__device__ void p3g_pack1(const IO* __restrict__ x, SC* __restrict__ S, int L, int h0, int B, int H, int rows, int rowsPad, int vec,
                          int lM) {
  const long long total = (long long)rowsPad << (lM - 2);
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
    const int c = (int)(i >> (lM - 2)), q0 = 4 * (int)(i & ((1 << (lM - 2)) - 1));
    union { uint4 u; SC e[4]; } v;
    v.u = make_uint4(0u, 0u, 0u, 0u);
    if (c < rows) {
      int h;
      const IO* r = x + p3_row(c, h0, B, H, h) * (long long)L;
      if (vec && 2 * q0 + 8 <= L) {
        v.u = *reinterpret_cast<const uint4*>(r + 2 * q0);
      } else {
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          const int q = q0 + j;
          stc(&v.e[j], 2 * q < L ? ld(r + 2 * q) : 0.f, 2 * q + 1 < L ? ld(r + 2 * q + 1) : 0.f);
        }
      }
    }
    *reinterpret_cast<uint4*>(S + ((long long)c << lM) + q0) = v.u;
  }
}
// lp3g_unpack1_<io>: out[2m] = Re S[m] + D x[2m], out[2m + 1] = Im S[m] + D x[2m + 1] (indices < L) for chunk rows c < rows
// (p3_outer_inv at N1 = 1: G_1 = [1], twiddle 1, the same fmaf). A thread writes 8 outputs (16 bytes) where the rows are
// 16-byte aligned (vec: L a multiple of 8, x and out 16-byte aligned, the caller's check), else element by element.
// Grid-stride over rows x ceil(L / 8) groups, block 256.
template <typename IO, typename SC>
__device__ void p3g_unpack1(const SC* __restrict__ S, const IO* __restrict__ x, const float* __restrict__ D, IO* __restrict__ out,
                            int L, int h0, int B, int H, int rows, int vec, int lM) {
  const int G = (L + 7) / 8;
  const long long total = (long long)rows * G;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
    const int c = (int)(i / G), m0 = 8 * (int)(i % G);
    int h;
    const long long g = p3_row(c, h0, B, H, h) * (long long)L + m0;
    const float d = D[h];
    const SC* sr = S + ((long long)c << lM) + m0 / 2;
    if (vec) {   // m0 + 8 <= L
      union { uint4 u; SC e[4]; } sv;
      union { uint4 u; IO e[8]; } xv, ov;
      sv.u = *reinterpret_cast<const uint4*>(sr);
      xv.u = *reinterpret_cast<const uint4*>(x + g);
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const float2 v = ldc(&sv.e[j]);
        st(&ov.e[2 * j], fmaf(d, ld(&xv.e[2 * j]), v.x));
        st(&ov.e[2 * j + 1], fmaf(d, ld(&xv.e[2 * j + 1]), v.y));
      }
      *reinterpret_cast<uint4*>(out + g) = ov.u;
    } else {
      for (int j = 0; j < 8 && m0 + j < L; ++j) {
        const float2 v = ldc(sr + j / 2);
        st(out + g + j, fmaf(d, ld(x + g + j), j & 1 ? v.y : v.x));
      }
    }
  }
}

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

// Session 27: lp3g_qbmid2x_<io> (M = 4096): qbmid2 writing du = its rows + D dy itself (no pass 3, i.e. no rows stored to S and
// read back by lp3g_unpack1): each output as p3g_unpack1 computes it, fmaf(d, dy, v) with v the 16-bit value the store would
// have put in S (the plane's own bits), 8 outputs (16 bytes) at a time where vec and inside the row, else one by one: the same bits.
template <typename IO, typename ST>
__device__ __forceinline__ void p3g_store_y4(const ST* zr, const ST* zi, const IO* __restrict__ x, const float* __restrict__ D,
                                             IO* __restrict__ out, int L, int h0, int B, int H, int rows, int vec, long long rowc) {
  const int G = (L + 7) / 8;
  for (int gi = threadIdx.x; gi < 4 * G; gi += blockDim.x) {
    const int k = gi / G, m0 = 8 * (gi % G), c = (int)(4 * rowc) + k;
    if (c >= rows) continue;
    int h;
    const long long g = p3_row(c, h0, B, H, h) * (long long)L + m0;
    const float d = D[h];
    const int p = k * (P3_IN / 2) + m0 / 2;   // the plane index of pair m0 / 2 of row k
    if (vec && m0 + 8 <= L) {
      union { uint4 u; IO e[8]; } xv, ov;
      xv.u = *reinterpret_cast<const uint4*>(x + g);
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        st(&ov.e[2 * j], fmaf(d, ld(&xv.e[2 * j]), ld(zr + SIDX(p + j))));
        st(&ov.e[2 * j + 1], fmaf(d, ld(&xv.e[2 * j + 1]), ld(zi + SIDX(p + j))));
      }
      *reinterpret_cast<uint4*>(out + g) = ov.u;
    } else {
      for (int j = 0; j < 8 && m0 + j < L; ++j)
        st(out + g + j, fmaf(d, ld(x + g + j), ld((j & 1 ? zi : zr) + SIDX(p + j / 2))));
    }
  }
}
template <bool BF16, typename SC, typename IO>
struct P3gGramY : P3gGram<BF16, SC, 2, 4> {
  const IO* x; const float* Dw; IO* out; int L, rows, vec, h0, B, H;
  static constexpr bool XSTORE = true;
  template <typename ST>
  __device__ __forceinline__ void xstore(const ST* zr, const ST* zi, long long rowc) const {
    p3g_store_y4<IO, ST>(zr, zi, x, Dw, out, L, h0, B, H, rows, vec, rowc);
  }
};
#define LP3G_QY(TAG, IO)                                                                                               \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_qbmid2x_##TAG(P3Io<IO>::SC* __restrict__ S,                 \
      const P3Io<IO>::SC* __restrict__ X2, const P3Io<IO>::SC* __restrict__ D, float2* __restrict__ part,                 \
      const float2* __restrict__ mats, const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot,      \
      const IO* __restrict__ x, const float* __restrict__ Dw, IO* __restrict__ out, int L, int rows, int vec) {            \
    P3gGramY<P3Io<IO>::BF16, P3Io<IO>::SC, IO> hk;                                                                      \
    static_cast<P3gGram<P3Io<IO>::BF16, P3Io<IO>::SC, 2, 4>&>(hk) = p3g_hook<P3Io<IO>::BF16, 2, P3Io<IO>::SC, 4>(D, X2, slot, part); \
    hk.x = x; hk.Dw = Dw; hk.out = out; hk.L = L; hk.rows = rows; hk.vec = vec; hk.h0 = h0; hk.B = B; hk.H = H;         \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 2>(S, mats, pq, h0, B, H, lN1, hk);                                      \
  }
LP3G_QY(bf16, __nv_bfloat16)
LP3G_QY(f16, __half)
