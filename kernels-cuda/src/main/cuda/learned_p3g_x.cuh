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
// Row outputs m0 .. m0 + 7 (those < L) = D x + the four pairs of s4 (Re, Im of pair j at outputs m0 + 2 j, + 1), 16 bytes at
// a time where vec (L a multiple of 8, x / out 16-byte aligned) and inside the row, else one by one: x, out at the row's start.
template <typename IO, typename SC>
__device__ __forceinline__ void p3g_out8(uint4 s4, const IO* __restrict__ x, IO* __restrict__ out, float d, int L, int m0, int vec) {
  union { uint4 u; SC e[4]; } sv;
  sv.u = s4;
  if (vec && m0 + 8 <= L) {
    union { uint4 u; IO e[8]; } xv, ov;
    xv.u = *reinterpret_cast<const uint4*>(x + m0);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float2 v = ldc(&sv.e[j]);
      st(&ov.e[2 * j], fmaf(d, ld(&xv.e[2 * j]), v.x));
      st(&ov.e[2 * j + 1], fmaf(d, ld(&xv.e[2 * j + 1]), v.y));
    }
    *reinterpret_cast<uint4*>(out + m0) = ov.u;
  } else {
    for (int j = 0; j < 8 && m0 + j < L; ++j) {
      const float2 v = ldc(&sv.e[j / 2]);
      st(out + m0 + j, fmaf(d, ld(x + m0 + j), j & 1 ? v.y : v.x));
    }
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
    const long long g = p3_row(c, h0, B, H, h) * (long long)L;
    // the row's pairs m0 / 2 .. + 3 (16-byte aligned: m0 a multiple of 8; inside the row's 2^lM pairs)
    p3g_out8<IO, SC>(*reinterpret_cast<const uint4*>(S + ((long long)c << lM) + m0 / 2), x + g, out + g, D[h], L, m0, vec);
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
// The rows' source of a hook that loads them itself (XLOAD): x's rows of the block's four chunk rows by p3g_load_x4.
template <typename SC, typename IO>
struct P3gXIn {
  const IO* x; int L, rows, vec, h0, B, H;
  static constexpr bool XLOAD = true;
  template <typename ST>
  __device__ __forceinline__ void xload(ST* zr, ST* zi, long long rowc) const { p3g_load_x4<IO, SC>(zr, zi, x, L, h0, B, H, rows, vec, rowc); }
};
template <bool BF16, typename SC, typename IO>
struct P3gGramX : P3gGram<BF16, SC, 1, 4>, P3gXIn<SC, IO> {
  using P3gXIn<SC, IO>::XLOAD;
};
#define LP3G_QX(TAG, IO)                                                                                               \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_qbmid1x_##TAG(P3Io<IO>::SC* __restrict__ S,                 \
      const IO* __restrict__ x, int L, int rows, int vec, const P3Io<IO>::SC* __restrict__ D, float2* __restrict__ part,  \
      const float2* __restrict__ mats, const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot) {     \
    P3gGramX<P3Io<IO>::BF16, P3Io<IO>::SC, IO> hk;                                                                      \
    static_cast<P3gGram<P3Io<IO>::BF16, P3Io<IO>::SC, 1, 4>&>(hk) = p3g_hook<P3Io<IO>::BF16, 1, P3Io<IO>::SC, 4>(D, D, slot, part); \
    static_cast<P3gXIn<P3Io<IO>::SC, IO>&>(hk) = P3gXIn<P3Io<IO>::SC, IO>{x, L, rows, vec, h0, B, H};                    \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 1>(S, mats, pq, h0, B, H, lN1, hk);                                      \
  }
LP3G_QX(bf16, __nv_bfloat16)
LP3G_QX(f16, __half)

// Session 28: lp3g_qbmid0x_<io> (M = 4096): qbmid0 with its four chunk rows read straight from u (as lp3g_qbmid1x reads dy):
// no pass 1 for u. The same plane values, so the same dumps bit for bit. (X_3 = pack(u) itself is not dumped at M = 4096
// (P3gDump); the stage-3 Gram of lp3g_qbmid2u reads u in its place, P3gGu.)
template <typename SC, typename IO>
struct P3gDumpX : P3gDump<SC, 4>, P3gXIn<SC, IO> {
  using P3gXIn<SC, IO>::XLOAD;
};
#define LP3G_Q0X(TAG, IO)                                                                                              \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_qbmid0x_##TAG(P3Io<IO>::SC* __restrict__ S,                 \
      P3Io<IO>::SC* __restrict__ D, P3Io<IO>::SC* __restrict__ O, const float2* __restrict__ mats,                      \
      const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot, const IO* __restrict__ x, int L,      \
      int rows, int vec) {                                                                                              \
    P3gDumpX<P3Io<IO>::SC, IO> hk;                                                                                      \
    static_cast<P3gDump<P3Io<IO>::SC, 4>&>(hk) = P3gDump<P3Io<IO>::SC, 4>{D, O, slot};                                  \
    static_cast<P3gXIn<P3Io<IO>::SC, IO>&>(hk) = P3gXIn<P3Io<IO>::SC, IO>{x, L, rows, vec, h0, B, H};                    \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 0>(S, mats, pq, h0, B, H, lN1, hk);                                      \
  }
LP3G_Q0X(bf16, __nv_bfloat16)
LP3G_Q0X(f16, __half)

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

// Session 28: lp3g_qbmid2u_<io> (M = 4096): qbmid2x with the stage-3 Gram's X operand (X_3 = pack(u), read from pass 1's
// copy X2 by P3gGb) read straight from u, so that with lp3g_qbmid0x no packed copy of u exists. P3gGu gives the words P3gGb
// would have read from X2: pair a of a row is (u[2a], u[2a + 1]) (+0 past L, and for rows c >= rows), regrouped into the same
// fragment words (the raw path: no twiddle on X at stage 3 of PART 2): the same bits. Stage 3's axis (lS = 8) keeps a
// column's 16 entries in one row: column col of the block's 4 x 4096 points is in row col >> 8, pair n 256 + (col & 255).
template <typename IO>
struct P3gGu {
  const IO* r0; const IO* r1; const IO* r2; const IO* r3;   // the block's rows of u (nullptr: c >= rows)
  int L, vec;
  __device__ __forceinline__ static uint32_t bits(const IO* r, int i, int L) {
    return i < L ? (uint32_t)*reinterpret_cast<const unsigned short*>(r + i) : 0u;
  }
  __device__ __forceinline__ void frag(int n, int col, uint32_t& re, uint32_t& im) const {
    const int k = col >> 8, a = n * 256 + (col & 255);   // a even (col even): pairs a, a + 1 of row k
    const IO* r = k == 0 ? r0 : k == 1 ? r1 : k == 2 ? r2 : r3;
    uint32_t e0 = 0u, e1 = 0u;
    if (r != nullptr) {
      if (vec) {   // L a multiple of 8: pair a + 1 is inside iff pair a is
        if (2 * a + 4 <= L) { const uint2 v = *reinterpret_cast<const uint2*>(r + 2 * a); e0 = v.x; e1 = v.y; }
      } else {
        e0 = bits(r, 2 * a, L) | bits(r, 2 * a + 1, L) << 16;
        e1 = bits(r, 2 * a + 2, L) | bits(r, 2 * a + 3, L) << 16;
      }
    }
    re = __byte_perm(e0, e1, 0x5410); im = __byte_perm(e0, e1, 0x7632);
  }
};
template <bool BF16, typename SC, typename IO>
struct P3gGramYU : P3gGramY<BF16, SC, IO> {
  const IO* u; int vu;
  template <typename ST>
  __device__ __forceinline__ void at(int id, const TwP& tw, ST* zr, ST* zi, long long oa, long long ob) {
    if (id != P3H_I3) { P3gGramY<BF16, SC, IO>::at(id, tw, zr, zi, oa, ob); return; }
    const int c0 = (int)(oa >> 12);   // oa = rowc 16384: the rows 4 rowc .. 4 rowc + 3
    const IO* r[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      int h;
      r[k] = c0 + k < this->rows ? u + p3_row(c0 + k, this->h0, this->B, this->H, h) * (long long)this->L : nullptr;
    }
    p3g_gram16b<BF16, ST, true>(tw, zr, zi, P3gGu<IO>{r[0], r[1], r[2], r[3], this->L, vu}, 8, this->acc);
    p3g_flush(this->acc, this->pp + 256);   // slot s - 2 = 1 (P3gGram::at's)
  }
};
// (X2 unused: the arguments of lp3g_qbmid2x, then u and its vec)
#define LP3G_QU(TAG, IO)                                                                                               \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_qbmid2u_##TAG(P3Io<IO>::SC* __restrict__ S,                 \
      const P3Io<IO>::SC* __restrict__ X2, const P3Io<IO>::SC* __restrict__ D, float2* __restrict__ part, const float2* __restrict__ mats,                   \
      const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot, const IO* __restrict__ x,           \
      const float* __restrict__ Dw, IO* __restrict__ out, int L, int rows, int vec, const IO* __restrict__ u, int vu) {  \
    P3gGramYU<P3Io<IO>::BF16, P3Io<IO>::SC, IO> hk;                                                                     \
    static_cast<P3gGram<P3Io<IO>::BF16, P3Io<IO>::SC, 2, 4>&>(hk) = p3g_hook<P3Io<IO>::BF16, 2, P3Io<IO>::SC, 4>(D, D, slot, part); \
    hk.x = x; hk.Dw = Dw; hk.out = out; hk.L = L; hk.rows = rows; hk.vec = vec; hk.h0 = h0; hk.B = B; hk.H = H;         \
    hk.u = u; hk.vu = vu;                                                                                               \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 2>(S, mats, pq, h0, B, H, lN1, hk);                                      \
  }
LP3G_QU(bf16, __nv_bfloat16)
LP3G_QU(f16, __half)

// ---- session 28: the M = 8192 middles (two rows a block, ONE = 2) reading u / dy and writing du + D dy themselves ----------
// There the rows pass through learned_p3b.cu's p3_load_fwd2 / p3_store_inv2 (the radix-2 stage fused with the row I/O) in
// 4-pair groups (uint4 of SC); these hooks give / take those groups: pair q of a row is (x[2 q], x[2 q + 1]) (+0 past L, and
// for rows c >= rows), as lp3g_pack1 stores it, and an output group is unpacked + D dy as lp3g_unpack1 does it: the same bits.
// The block's two chunk rows are 2 blockIdx.y and 2 blockIdx.y + 1 (their x rows found once, at begin()).
template <typename IO>
__device__ __forceinline__ const IO* p3g_xrow(const IO* x, int c, int L, int h0, int B, int H, int rows) {
  int h;
  return c < rows ? x + p3_row(c, h0, B, H, h) * (long long)L : nullptr;
}
// 4 pairs q0 .. q0 + 3 of row r (nullptr: zeros) as the uint4 lp3g_pack1 would store (vec: L a multiple of 8, 16-byte aligned).
template <typename SC, typename IO>
__device__ __forceinline__ uint4 p3g_pairs4(const IO* r, int q0, int L, int vec) {
  union { uint4 u4; SC e[4]; } v;
  v.u4 = make_uint4(0u, 0u, 0u, 0u);
  if (r == nullptr) return v.u4;
  if (vec && 2 * q0 + 8 <= L) return *reinterpret_cast<const uint4*>(r + 2 * q0);
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const int q = q0 + j;
    stc(&v.e[j], 2 * q < L ? ld(r + 2 * q) : 0.f, 2 * q + 1 < L ? ld(r + 2 * q + 1) : 0.f);
  }
  return v.u4;
}
template <typename SC, typename IO>
struct P3gXIn2 {   // XLOAD at ONE = 2: p3_load_fwd2 takes its groups from x
  const IO* x; int L, rows, vec, h0, B, H;
  const IO* xr0 = nullptr; const IO* xr1 = nullptr;
  static constexpr bool XLOAD = true;
  __device__ __forceinline__ void xrows() {
    xr0 = p3g_xrow(x, 2 * (int)blockIdx.y, L, h0, B, H, rows); xr1 = p3g_xrow(x, 2 * (int)blockIdx.y + 1, L, h0, B, H, rows);
  }
  __device__ __forceinline__ uint4 xq4(int k, int q0) const { return p3g_pairs4<SC, IO>(k ? xr1 : xr0, q0, L, vec); }
};
template <typename SC, typename IO>
struct P3gXOut2 {   // XSTORE at ONE = 2: p3_store_inv2 gives its groups to du = unpack + D dy
  const IO* dy; const float* Dw; IO* out; int L, rows, vec, h0, B, H;
  long long g0 = -1, g1 = -1; float d0 = 0.f, d1 = 0.f;   // the rows' offsets in dy / out (-1: c >= rows) and D
  static constexpr bool XSTORE = true;
  __device__ __forceinline__ void orows() {
    int h;
    const int c = 2 * (int)blockIdx.y;
    if (c < rows) { g0 = p3_row(c, h0, B, H, h) * (long long)L; d0 = Dw[h]; }
    if (c + 1 < rows) { g1 = p3_row(c + 1, h0, B, H, h) * (long long)L; d1 = Dw[h]; }
  }
  __device__ __forceinline__ void xstore4(int k, int q0, uint4 v4) const {
    const long long g = k ? g1 : g0;
    if (g < 0 || 2 * q0 >= L) return;
    p3g_out8<IO, SC>(v4, dy + g, out + g, k ? d1 : d0, L, 2 * q0, vec);
  }
};
// lp3g_obmid0x: u's forward middle reading u (P3gDump<SC, 2> + P3gXIn2).
template <typename SC, typename IO>
struct P3gDumpX2 : P3gDump<SC, 2>, P3gXIn2<SC, IO> {
  using P3gXIn2<SC, IO>::XLOAD;
  __device__ __forceinline__ void begin() { P3gDump<SC, 2>::begin(); this->xrows(); }
};
// lp3g_obmid1x: the dy middle reading dy (P3gGram<PART 1> + P3gXIn2; its stage-2 Gram sees the loaded values in load2 as before).
template <bool BF16, typename SC, typename IO>
struct P3gGramX2 : P3gGram<BF16, SC, 1, 2>, P3gXIn2<SC, IO> {
  using P3gXIn2<SC, IO>::XLOAD;
  __device__ __forceinline__ void begin() { P3gGram<BF16, SC, 1, 2>::begin(); this->xrows(); }
};
// lp3g_obmid2x / lp3g_obmid2u: the last middle writing du + D dy (P3gXOut2); XU (2u): its stage-2 Gram's X_2 = pack(u) read
// from u (P3gXIn2 on u, in store2: the groups P3gGram::other would have read from pass 1's copy X2, the same words).
template <bool BF16, typename SC, typename IO, bool XU>
struct P3gGramY2 : P3gGram<BF16, SC, 2, 2>, P3gXOut2<SC, IO> {
  P3gXIn2<SC, IO> uin;
  using P3gXOut2<SC, IO>::XSTORE;
  __device__ __forceinline__ void begin() {
    P3gGram<BF16, SC, 2, 2>::begin(); this->orows();
    if (XU) uin.xrows();
  }
  __device__ __forceinline__ void store2(long long o, int e, float2 x0, float2 x1, float tc, float ts) {
    if constexpr (!XU) {
      P3gGram<BF16, SC, 2, 2>::store2(o, e, x0, x1, tc, ts);
    } else {
      if (e == 0) {   // o = the row's offset (2 blockIdx.y + k) 8192 + c, c = c0 + e < 4096
        const int k = (int)(o >> P3_LIN) & 1, c0 = (int)(o & (P3_IN - 1));
        this->lo = uin.xq4(k, c0); this->hi = uin.xq4(k, c0 + P3_IN / 2);
      }
      p3g_gram2(this->acc2, x0, p3g_mul(x1, make_float2(tc, ts)), this->at4(this->lo, e), this->at4(this->hi, e));
    }
  }
};
#define LP3G_OX(TAG, IO)                                                                                               \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_obmid0x_##TAG(P3Io<IO>::SC* __restrict__ S,                 \
      P3Io<IO>::SC* __restrict__ D, P3Io<IO>::SC* __restrict__ O, const float2* __restrict__ mats,                      \
      const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot, const IO* __restrict__ x, int L,      \
      int rows, int vec) {                                                                                              \
    P3gDumpX2<P3Io<IO>::SC, IO> hk;                                                                                     \
    static_cast<P3gDump<P3Io<IO>::SC, 2>&>(hk) = P3gDump<P3Io<IO>::SC, 2>{D, O, slot};                                  \
    hk.x = x; hk.L = L; hk.rows = rows; hk.vec = vec; hk.h0 = h0; hk.B = B; hk.H = H;                                  \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 0>(S, mats, pq, h0, B, H, lN1, hk);                                      \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_obmid1x_##TAG(P3Io<IO>::SC* __restrict__ S,                 \
      const IO* __restrict__ x, int L, int rows, int vec, const P3Io<IO>::SC* __restrict__ D, float2* __restrict__ part,  \
      const float2* __restrict__ mats, const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot) {     \
    P3gGramX2<P3Io<IO>::BF16, P3Io<IO>::SC, IO> hk;                                                                     \
    static_cast<P3gGram<P3Io<IO>::BF16, P3Io<IO>::SC, 1, 2>&>(hk) = p3g_hook<P3Io<IO>::BF16, 1, P3Io<IO>::SC, 2>(D, D, slot, part); \
    hk.x = x; hk.L = L; hk.rows = rows; hk.vec = vec; hk.h0 = h0; hk.B = B; hk.H = H;                                  \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 1>(S, mats, pq, h0, B, H, lN1, hk);                                      \
  }                                                                                                                     \
  LP3G_OY(lp3g_obmid2x, false, TAG, IO)                                                                               \
  LP3G_OY(lp3g_obmid2u, true, TAG, IO)
// names: lp3g_obmid2x_<io> (X_2 from X2, as lp3g_qbmid2x's arguments), lp3g_obmid2u_<io> (X2 unused: X_2 from u, vu its vec)
#define LP3G_OY(NAME, XU, TAG, IO)                                                                                     \
  extern "C" __global__ void __launch_bounds__(256, 3) NAME##_##TAG(P3Io<IO>::SC* __restrict__ S,                       \
      const P3Io<IO>::SC* __restrict__ X2, const P3Io<IO>::SC* __restrict__ D, float2* __restrict__ part,               \
      const float2* __restrict__ mats, const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot,    \
      const IO* __restrict__ x, const float* __restrict__ Dw, IO* __restrict__ out, int L, int rows, int vec,           \
      const IO* __restrict__ u, int vu) {                                                                               \
    P3gGramY2<P3Io<IO>::BF16, P3Io<IO>::SC, IO, XU> hk;                                                                 \
    static_cast<P3gGram<P3Io<IO>::BF16, P3Io<IO>::SC, 2, 2>&>(hk) = p3g_hook<P3Io<IO>::BF16, 2, P3Io<IO>::SC, 2>(D, X2, slot, part); \
    hk.dy = x; hk.Dw = Dw; hk.out = out; hk.L = L; hk.rows = rows; hk.vec = vec; hk.h0 = h0; hk.B = B; hk.H = H;        \
    hk.uin.x = u; hk.uin.L = L; hk.uin.rows = rows; hk.uin.vec = vu; hk.uin.h0 = h0; hk.uin.B = B; hk.uin.H = H;       \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 2>(S, mats, pq, h0, B, H, lN1, hk);                                      \
  }
LP3G_OX(bf16, __nv_bfloat16)
LP3G_OX(f16, __half)

// ---- session 28: the M = 16384 middles (N1 = 4: a block's four slots are its row's four inner rows) loading through pass 1 ---
// lp3g_q3bmid0x / lp3g_q3bmid1x: q3bmid0 / q3bmid1 with pass 1 (lp3g_outerq_fwd4: F_1 over the row's four inner rows, the
// twiddles, 1 / N1) done in their load: learned_p3.cu's p3_outer_fwd_col per column q, each value rounded into the 16-bit
// planes as pass 1 rounds it into SC (and load_row16 copies those bits): the same planes, so the same bits downstream.
// F_1 (the forward's at mats for u, the adjoint's for dy) staged at begin() behind the Gram buffers (F1_SMEM bytes more).
// DUMP (q3bmid0x): X2 (pass 1's output, read by q3bmid2's stage-3 Gram and nothing else) stored from registers as pass 1
// stores it; q3bmid1x stores nothing there (pass 1's dy copy was read by q3bmid1 only).
constexpr int F1_SMEM = 128;   // 16 float2
// Session 28, the outer Grams in the middles (M = 16384, -Dlongconv4j.p3.bwd.outerfuse): a thread's 4 x 4 complex sums over its
// columns (fp32, ogramc's products: acc[k][n] += a[k] conj(b[n])), then the block's in a fixed order (xor shuffles in a warp,
// the warps in turn through red: 8 x 32 floats behind F_1 / G_1) into its partial (N1 x N1 float2, [k][n]) at part[blockIdx.y]
// (one block a row: lp3g_rseg / lp3g_reduce sum the rows' partials in order, kinds 2 / 3 as lp3g_ogramc's).
constexpr int OG_SMEM = F1_SMEM + 8 * 32 * 4;
// P3gOg<N1, KS>: KS threads a column, each with the rows k = kp KR .. + KR - 1 (KR = N1 / KS, kp = lane % KS) of the N1 x N1
// sums; flush: the lanes of one kp summed by xor shuffles, the warps in turn through red (warps x 2 N1 N1 floats), then the
// block's partial; ends with a barrier. N1 = 4, KS = 1 (M = 16384); N1 = 8, KS = 4 (M = 2048, lp3g_ogramc's split).
template <int N1, int KS>
struct P3gOg {
  static constexpr int KR = N1 / KS;
  float ar[KR * N1], ai[KR * N1];   // [j][n], k = kp KR + j
  __device__ __forceinline__ void zero() {
#pragma unroll
    for (int e = 0; e < KR * N1; ++e) { ar[e] = 0.f; ai[e] = 0.f; }
  }
  __device__ __forceinline__ void add(const float2 (&a)[KR], const float2 (&b)[N1]) {
#pragma unroll
    for (int j = 0; j < KR; ++j)
#pragma unroll
      for (int n = 0; n < N1; ++n) {
        ar[N1 * j + n] = fmaf(a[j].x, b[n].x, fmaf(a[j].y, b[n].y, ar[N1 * j + n]));
        ai[N1 * j + n] = fmaf(a[j].y, b[n].x, fmaf(-a[j].x, b[n].y, ai[N1 * j + n]));
      }
  }
  __device__ __forceinline__ void flush(float* red, float2* __restrict__ part) {
    constexpr int E = N1 * N1;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
#pragma unroll
    for (int e = 0; e < KR * N1; ++e) {
#pragma unroll
      for (int o = 16; o >= KS; o >>= 1) {
        ar[e] += __shfl_xor_sync(0xffffffffu, ar[e], o);
        ai[e] += __shfl_xor_sync(0xffffffffu, ai[e], o);
      }
      if (lane < KS) {   // lane == kp
        const int idx = (lane * KR + e / N1) * N1 + e % N1;
        red[warp * 2 * E + 2 * idx] = ar[e]; red[warp * 2 * E + 2 * idx + 1] = ai[e];
      }
    }
    __syncthreads();
    if (threadIdx.x < E) {
      float re = 0.f, im = 0.f;
      for (int w = 0; w < nw; ++w) { re += red[w * 2 * E + 2 * threadIdx.x]; im += red[w * 2 * E + 2 * threadIdx.x + 1]; }
      part[(size_t)blockIdx.y * E + threadIdx.x] = make_float2(re, im);
    }
    __syncthreads();
  }
};
__device__ __forceinline__ float* p3g_xsm() {   // F_1 / G_1 (F1_SMEM bytes), then red (OG_SMEM)
  extern __shared__ __align__(16) unsigned char smem_raw[];
  return reinterpret_cast<float*>(smem_raw + p3_smem(2) + 512 * 4 * P3G_NB);
}
// OG (q3bmid1g): with dG_1's Gram (MODE 1 of lp3g_ogramc: a = pack(dy) = the loaded values, b = O o conj(w_M^(n q)), O the
// forward middle's output (bmid0's), its twiddles by pass 3's recurrence) in the same loop, no lp3g_ogramc1.
template <typename SC, typename IO, bool DUMP, bool OG = false>
struct P3gXOuter4 {
  const IO* x; const float2* F; SC* xo; int L, h0, B, H;   // xo: X2 (DUMP)
  const SC* O; float2* part2;                              // OG: the forward middle's output; dG_1's partials
  static constexpr bool XLOAD = true;
  __device__ __forceinline__ void stage() const {
    for (int i = threadIdx.x; i < 16; i += blockDim.x) reinterpret_cast<float2*>(p3g_xsm())[i] = F[i];
  }
  template <typename ST>
  __device__ __forceinline__ void xload(ST* zr, ST* zi, long long rowc) const {
    const float4 (&f4)[8] = *reinterpret_cast<const float4 (*)[8]>(p3g_xsm());
    int h;
    const IO* xr = x + p3_row((int)rowc, h0, B, H, h) * (long long)L;
    SC* o = xo + rowc * 16384;
    P3gOg<4, 1> og;
    if constexpr (OG) og.zero();
    for (int q = threadIdx.x; q < 4096; q += blockDim.x) {
      float ar[4], ai[4];
      p3_outer_fwd_load<4, 4096, IO>(xr, L, q, ar, ai);
      p3_outer_fwd_col<4, 4096>(f4, ar, ai, q, [&](int k, float yr, float yi) {
        const int i = (p3_qslot(k, 4) << 12) + q;
        st(zr + SIDX(i), yr); st(zi + SIDX(i), yi);
        if constexpr (DUMP) stc(o + i, yr, yi);
      });
      if constexpr (OG) {
        float vr[4], vi[4];
#pragma unroll
        for (int n = 0; n < 4; ++n) {
          const float2 v = ldc(O + rowc * 16384 + (p3_qslot(n, 4) << 12) + q);
          vr[n] = v.x; vi[n] = v.y;
        }
        p3_outer_inv_tw<4, 4096>(q, vr, vi);
        float2 a[4], b[4];
#pragma unroll
        for (int k = 0; k < 4; ++k) { a[k] = make_float2(ar[k], ai[k]); b[k] = make_float2(vr[k], vi[k]); }
        og.add(a, b);
      }
    }
    if constexpr (OG) og.flush(p3g_xsm() + F1_SMEM / 4, part2);
  }
};
template <typename SC, typename IO>
struct P3gDumpQ : P3gDump<SC, 5>, P3gXOuter4<SC, IO, true> {
  using P3gXOuter4<SC, IO, true>::XLOAD;
  __device__ __forceinline__ void begin() { P3gDump<SC, 5>::begin(); this->stage(); }
};
template <bool BF16, typename SC, typename IO, bool OG>
struct P3gGramQ : P3gGram<BF16, SC, 1, 5>, P3gXOuter4<SC, IO, false, OG> {
  using P3gXOuter4<SC, IO, false, OG>::XLOAD;
  __device__ __forceinline__ void begin() { P3gGram<BF16, SC, 1, 5>::begin(); this->stage(); }
};
// q3bmid2y: the last middle with pass 3 in its store (XSTORE: p3_outer_inv's column from the planes' 16-bit values, the
// values pass 3 would have read back: the same du bits) and dF_1's Gram (MODE 0 of lp3g_ogramc: a = those values o
// conj(w_M^(k q)) (pass 3's twiddled values), b = pack(u)) in the same loop: no pass 3, no lp3g_ogramc0, and S keeps gC'.
template <bool BF16, typename SC, typename IO>
struct P3gGramQY : P3gGram<BF16, SC, 2, 5> {
  const float2* G; const IO* u; const IO* dy; const float* Dw; IO* out; float2* part2; int L, h0, B, H;
  static constexpr bool XSTORE = true;
  __device__ __forceinline__ void begin() {
    P3gGram<BF16, SC, 2, 5>::begin();
    for (int i = threadIdx.x; i < 16; i += blockDim.x) reinterpret_cast<float2*>(p3g_xsm())[i] = G[i];
  }
  template <typename ST>
  __device__ __forceinline__ void xstore(const ST* zr, const ST* zi, long long rowc) const {
    const float4 (&g4)[8] = *reinterpret_cast<const float4 (*)[8]>(p3g_xsm());
    int h;
    const long long row = p3_row((int)rowc, h0, B, H, h) * (long long)L;
    const float d = Dw[h];
    P3gOg<4, 1> og;
    og.zero();
    for (int q = threadIdx.x; q < 4096; q += blockDim.x) {
      float vr[4], vi[4], xr[4], xi[4];
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        const int i = (p3_qslot(k, 4) << 12) + q;
        vr[k] = ld(zr + SIDX(i)); vi[k] = ld(zi + SIDX(i));
      }
      p3_outer_inv_tw<4, 4096>(q, vr, vi);
      p3_outer_fwd_load<4, 4096, IO>(u + row, L, q, xr, xi);
      float2 a[4], b[4];
#pragma unroll
      for (int k = 0; k < 4; ++k) { a[k] = make_float2(vr[k], vi[k]); b[k] = make_float2(xr[k], xi[k]); }
      og.add(a, b);
      p3_outer_inv_out<4, 4096, IO>(g4, vr, vi, dy + row, out + row, d, L, q);
    }
    og.flush(p3g_xsm() + F1_SMEM / 4, part2);
  }
};
// names: lp3g_q3bmid0x_<io> (lp3g_q3bmid0's arguments, S = X2 written here, then x = u, L), lp3g_q3bmid1x_<io> (lp3g_q3bmid1's,
// S = SG its output gC' as before, then x = dy, L); grid (1, rows), block 256, dynamic shared memory p3_smem(2) + 6144 + F1_SMEM.
// lp3g_q3bmid1g_<io> (q3bmid1x's, then O and part2: dG_1's row partials) and lp3g_q3bmid2y_<io> (lp3g_q3bmid2's, S = gC' read
// and kept, then u, dy, D, du, L, part2: dF_1's row partials), dynamic shared memory p3_smem(2) + 6144 + OG_SMEM.
#define LP3G_Q3X(TAG, IO)                                                                                              \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_q3bmid0x_##TAG(P3Io<IO>::SC* __restrict__ S,                \
      P3Io<IO>::SC* __restrict__ D, P3Io<IO>::SC* __restrict__ O, const float2* __restrict__ mats,                      \
      const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot, const IO* __restrict__ x, int L) {   \
    P3gDumpQ<P3Io<IO>::SC, IO> hk;                                                                                      \
    static_cast<P3gDump<P3Io<IO>::SC, 5>&>(hk) = P3gDump<P3Io<IO>::SC, 5>{D, O, slot};                                  \
    hk.x = x; hk.F = mats; hk.xo = S; hk.L = L; hk.h0 = h0; hk.B = B; hk.H = H;                                        \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 0>(S, mats, pq, h0, B, H, lN1, hk);                                      \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_q3bmid1x_##TAG(P3Io<IO>::SC* __restrict__ S,                \
      const P3Io<IO>::SC* __restrict__ D, float2* __restrict__ part, const float2* __restrict__ mats,                   \
      const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot, const IO* __restrict__ x, int L) {   \
    P3gGramQ<P3Io<IO>::BF16, P3Io<IO>::SC, IO, false> hk;                                                               \
    static_cast<P3gGram<P3Io<IO>::BF16, P3Io<IO>::SC, 1, 5>&>(hk) = p3g_hook<P3Io<IO>::BF16, 1, P3Io<IO>::SC, 5>(D, D, slot, part); \
    hk.x = x; hk.F = mats; hk.xo = nullptr; hk.L = L; hk.h0 = h0; hk.B = B; hk.H = H;                                  \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 1>(S, mats, pq, h0, B, H, lN1, hk);                                      \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_q3bmid1g_##TAG(P3Io<IO>::SC* __restrict__ S,                \
      const P3Io<IO>::SC* __restrict__ D, float2* __restrict__ part, const float2* __restrict__ mats,                   \
      const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot, const IO* __restrict__ x, int L,     \
      const P3Io<IO>::SC* __restrict__ O, float2* __restrict__ part2) {                                                 \
    P3gGramQ<P3Io<IO>::BF16, P3Io<IO>::SC, IO, true> hk;                                                                \
    static_cast<P3gGram<P3Io<IO>::BF16, P3Io<IO>::SC, 1, 5>&>(hk) = p3g_hook<P3Io<IO>::BF16, 1, P3Io<IO>::SC, 5>(D, D, slot, part); \
    hk.x = x; hk.F = mats; hk.xo = nullptr; hk.L = L; hk.h0 = h0; hk.B = B; hk.H = H; hk.O = O; hk.part2 = part2;      \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 1>(S, mats, pq, h0, B, H, lN1, hk);                                      \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_q3bmid2y_##TAG(P3Io<IO>::SC* __restrict__ S,                \
      const P3Io<IO>::SC* __restrict__ X2, const P3Io<IO>::SC* __restrict__ D, float2* __restrict__ part,               \
      const float2* __restrict__ mats, const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot,    \
      const IO* __restrict__ u, const IO* __restrict__ dy, const float* __restrict__ Dw, IO* __restrict__ out, int L,    \
      float2* __restrict__ part2) {                                                                                     \
    P3gGramQY<P3Io<IO>::BF16, P3Io<IO>::SC, IO> hk;                                                                     \
    static_cast<P3gGram<P3Io<IO>::BF16, P3Io<IO>::SC, 2, 5>&>(hk) = p3g_hook<P3Io<IO>::BF16, 2, P3Io<IO>::SC, 5>(D, X2, slot, part); \
    hk.G = mats + 4 * 4 + 4 + 768; hk.u = u; hk.dy = dy; hk.Dw = Dw; hk.out = out; hk.part2 = part2;                  \
    hk.L = L; hk.h0 = h0; hk.B = B; hk.H = H;                                                                           \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 2>(S, mats, pq, h0, B, H, lN1, hk);                                      \
  }
LP3G_Q3X(bf16, __nv_bfloat16)
LP3G_Q3X(f16, __half)

// ---- session 28: the M = 2048 middles (eight chunk rows a block, each row's N1 = 8 inner rows of 256 in pair order) loading
// through pass 1 ----------------------------------------------------------------------------------------------------------------
// lp3g_2kbmid0x / lp3g_2kbmid1x: 2kbmid0 / 2kbmid1 with lp3g_outer2k_fwd (learned_p3.cu's p3_outer_fwd<8, .., 8>) done in
// their load, column by column as P3gXOuter4 does at M = 16384 (the same values rounded the same way: the same bits); rows c >=
// rows (the chunk's padding to whole blocks) zeros, as pass 1's memset leaves them. F_1 (64 float2) behind the Gram buffers
// (F8_SMEM bytes). DUMP (2kbmid0x): X2 written from registers (2kbmid2's stage-4 Gram reads it), its padding rows zeros too.
constexpr int F8_SMEM = 512;
template <typename SC, typename IO, bool DUMP>
struct P3gXOuter8 {
  const IO* x; const float2* F; SC* xo; int L, rows, h0, B, H;   // xo: X2 (DUMP)
  static constexpr bool XLOAD = true;
  __device__ __forceinline__ void stage() const {
    for (int i = threadIdx.x; i < 64; i += blockDim.x) reinterpret_cast<float2*>(p3g_xsm())[i] = F[i];
  }
  template <typename ST>
  __device__ __forceinline__ void xload(ST* zr, ST* zi, long long rowc) const {
    const float4 (&f4)[32] = *reinterpret_cast<const float4 (*)[32]>(p3g_xsm());
    for (int i = threadIdx.x; i < 8 * 256; i += blockDim.x) {
      const int r = i >> 8, q = i & 255, c = 8 * (int)rowc + r;
      auto put = [&](int k, float yr, float yi) {
        const int p = (r << 11) + (p3_qslot(k, 8) << 8) + q;
        st(zr + SIDX(p), yr); st(zi + SIDX(p), yi);
        if constexpr (DUMP) stc(xo + (rowc << 14) + p, yr, yi);
      };
      if (c < rows) {
        int h;
        float ar[8], ai[8];
        p3_outer_fwd_load<8, 256, IO>(x + p3_row(c, h0, B, H, h) * (long long)L, L, q, ar, ai);
        p3_outer_fwd_col<8, 256>(f4, ar, ai, q, put);
      } else {
#pragma unroll
        for (int k = 0; k < 8; ++k) put(k, 0.f, 0.f);
      }
    }
  }
};
template <typename SC, typename IO>
struct P3gDump2k : P3gDump<SC, 6>, P3gXOuter8<SC, IO, true> {
  using P3gXOuter8<SC, IO, true>::XLOAD;
  __device__ __forceinline__ void begin() { P3gDump<SC, 6>::begin(); this->stage(); }
};
template <bool BF16, typename SC, typename IO>
struct P3gGram2k : P3gGram<BF16, SC, 1, 6>, P3gXOuter8<SC, IO, false> {
  using P3gXOuter8<SC, IO, false>::XLOAD;
  __device__ __forceinline__ void begin() { P3gGram<BF16, SC, 1, 6>::begin(); this->stage(); }
};
// names: lp3g_2kbmid0x_<io> (lp3g_2kbmid0's arguments, S = X2 written here, then x = u, L, rows), lp3g_2kbmid1x_<io>
// (lp3g_2kbmid1's, S = SG its output, then x = dy, L, rows); grid (1, rows / 8), block 256, dynamic shared memory p3_smem(2)
// + 6144 + F8_SMEM.
#define LP3G_2KX(TAG, IO)                                                                                              \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_2kbmid0x_##TAG(P3Io<IO>::SC* __restrict__ S,                \
      P3Io<IO>::SC* __restrict__ D, P3Io<IO>::SC* __restrict__ O, const float2* __restrict__ mats,                      \
      const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot, const IO* __restrict__ x, int L,     \
      int rows) {                                                                                                       \
    P3gDump2k<P3Io<IO>::SC, IO> hk;                                                                                     \
    static_cast<P3gDump<P3Io<IO>::SC, 6>&>(hk) = P3gDump<P3Io<IO>::SC, 6>{D, O, slot};                                  \
    hk.x = x; hk.F = mats; hk.xo = S; hk.L = L; hk.rows = rows; hk.h0 = h0; hk.B = B; hk.H = H;                        \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 0>(S, mats, pq, h0, B, H, lN1, hk);                                      \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_2kbmid1x_##TAG(P3Io<IO>::SC* __restrict__ S,                \
      const P3Io<IO>::SC* __restrict__ D, float2* __restrict__ part, const float2* __restrict__ mats,                   \
      const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot, const IO* __restrict__ x, int L,     \
      int rows) {                                                                                                       \
    P3gGram2k<P3Io<IO>::BF16, P3Io<IO>::SC, IO> hk;                                                                     \
    static_cast<P3gGram<P3Io<IO>::BF16, P3Io<IO>::SC, 1, 6>&>(hk) = p3g_hook<P3Io<IO>::BF16, 1, P3Io<IO>::SC, 6>(D, D, slot, part); \
    hk.x = x; hk.F = mats; hk.xo = nullptr; hk.L = L; hk.rows = rows; hk.h0 = h0; hk.B = B; hk.H = H;                  \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 1>(S, mats, pq, h0, B, H, lN1, hk);                                      \
  }
LP3G_2KX(bf16, __nv_bfloat16)
LP3G_2KX(f16, __half)

// ---- session 28: M = 2048's outer Grams and pass 3 in the middles (-Dlongconv4j.p3.bwd.outerfuse, as M = 16384's) ------------
// N1 = 8: P3gOg<8, 4> (lp3g_ogramc's split: thread t the rows k = 2 (t & 3), + 1 and the columns q = (t >> 2) + 64 j of each of
// the block's 8 chunk rows c < rows; red: 8 x 128 floats of shared memory the caller has free), a partial a block.
// lp3g_2kbmid1g: 2kbmid1x with dG_1 (MODE 1: a = pack(dy), b = O o conj(w_2048^(n q)), O the forward middle's output) after
// its load loop (red: the Gram buffers, zero until the first inner Gram: zeroed again after).
template <bool BF16, typename SC, typename IO>
struct P3gGram2kG : P3gGram2k<BF16, SC, IO> {
  const SC* O; float2* part2;
  template <typename ST>
  __device__ __forceinline__ void xload(ST* zr, ST* zi, long long rowc) const {
    P3gGram2k<BF16, SC, IO>::xload(zr, zi, rowc);
    P3gOg<8, 4> og;
    og.zero();
    const int kp = threadIdx.x & 3;
    for (int r = 0; r < 8; ++r) {
      const int c = 8 * (int)rowc + r;
      if (c >= this->rows) break;
      int h;
      const IO* xr = this->x + p3_row(c, this->h0, this->B, this->H, h) * (long long)this->L;
      for (int q = threadIdx.x >> 2; q < 256; q += blockDim.x >> 2) {
        float2 a[2], b[8];
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          const int i = 2 * ((2 * kp + j) * 256 + q);
          a[j] = make_float2(i < this->L ? ld(xr + i) : 0.f, i + 1 < this->L ? ld(xr + i + 1) : 0.f);
        }
        float ws, wc; sincospif(2.0f * (float)q / 2048.0f, &ws, &wc);   // conj(w_2048^q), its powers by a running product
        float tr = 1.0f, ti = 0.f;
#pragma unroll
        for (int n = 0; n < 8; ++n) {
          const float2 v = ldc(O + ((long long)c << 11) + (p3_qslot(n, 8) << 8) + q);
          b[n] = make_float2(v.x * tr - v.y * ti, v.x * ti + v.y * tr);
          const float nr = tr * wc - ti * ws, ni = tr * ws + ti * wc;
          tr = nr; ti = ni;
        }
        og.add(a, b);
      }
    }
    og.flush(this->acc, this->part2);
    for (int i = threadIdx.x; i < 8 * 128; i += blockDim.x) this->acc[i] = 0.f;   // (the caller's barrier follows)
  }
};
// lp3g_2kbmid2y: 2kbmid2 with pass 3 in its store (p3_outer_inv's column from the planes' 16-bit values: the same du bits)
// and dF_1 (MODE 0: a = those values o conj(w_2048^(k q)), b = pack(u)); red: the planes, free by then.
template <bool BF16, typename SC, typename IO>
struct P3gGram2kY : P3gGram<BF16, SC, 2, 6> {
  const float2* G; const IO* u; const IO* dy; const float* Dw; IO* out; float2* part2; int L, rows, h0, B, H;
  static constexpr bool XSTORE = true;
  __device__ __forceinline__ void begin() {
    P3gGram<BF16, SC, 2, 6>::begin();
    for (int i = threadIdx.x; i < 64; i += blockDim.x) reinterpret_cast<float2*>(p3g_xsm())[i] = G[i];
  }
  template <typename ST>
  __device__ __forceinline__ void xstore(const ST* zr, const ST* zi, long long rowc) const {
    const float4 (&g4)[32] = *reinterpret_cast<const float4 (*)[32]>(p3g_xsm());
    for (int i = threadIdx.x; i < 8 * 256; i += blockDim.x) {   // du (pass 3's columns)
      const int r = i >> 8, q = i & 255, c = 8 * (int)rowc + r;
      if (c >= rows) break;   // (rows r only grow with i)
      int h;
      const long long row = p3_row(c, h0, B, H, h) * (long long)L;
      float vr[8], vi[8];
#pragma unroll
      for (int k = 0; k < 8; ++k) {
        const int p = (r << 11) + (p3_qslot(k, 8) << 8) + q;
        vr[k] = ld(zr + SIDX(p)); vi[k] = ld(zi + SIDX(p));
      }
      p3_outer_inv_tw<8, 256>(q, vr, vi);
      p3_outer_inv_out<8, 256, IO>(g4, vr, vi, dy + row, out + row, Dw[h], L, q);
    }
    P3gOg<8, 4> og;
    og.zero();
    const int kp = threadIdx.x & 3;
    for (int r = 0; r < 8; ++r) {   // dF_1
      const int c = 8 * (int)rowc + r;
      if (c >= rows) break;
      int h;
      const IO* xr = u + p3_row(c, h0, B, H, h) * (long long)L;
      for (int q = threadIdx.x >> 2; q < 256; q += blockDim.x >> 2) {
        float2 a[2], b[8];
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          const int k = 2 * kp + j, p = (r << 11) + (p3_qslot(k, 8) << 8) + q;
          float sn, cs; sincospif(2.0f * (float)((k * q) & 2047) / 2048.0f, &sn, &cs);   // conj(w_2048^(k q)), as lp3g_ogramc's
          a[j] = p3g_mul(make_float2(ld(zr + SIDX(p)), ld(zi + SIDX(p))), make_float2(cs, sn));
        }
#pragma unroll
        for (int n = 0; n < 8; ++n) {
          const int i = 2 * (n * 256 + q);
          b[n] = make_float2(i < L ? ld(xr + i) : 0.f, i + 1 < L ? ld(xr + i + 1) : 0.f);
        }
        og.add(a, b);
      }
    }
    __syncthreads();   // every thread's plane reads done: the planes become red
    og.flush(reinterpret_cast<float*>(const_cast<ST*>(zr)), part2);
  }
};
// names: lp3g_2kbmid1g_<io> (2kbmid1x's arguments, then O, part2), lp3g_2kbmid2y_<io> (lp3g_2kbmid2's, S = gC' kept, then u, dy,
// D, du, L, rows, part2); grid (1, rows / 8), block 256, dynamic shared memory p3_smem(2) + 6144 + F8_SMEM.
#define LP3G_2KG(TAG, IO)                                                                                              \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_2kbmid1g_##TAG(P3Io<IO>::SC* __restrict__ S,                \
      const P3Io<IO>::SC* __restrict__ D, float2* __restrict__ part, const float2* __restrict__ mats,                   \
      const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot, const IO* __restrict__ x, int L,     \
      int rows, const P3Io<IO>::SC* __restrict__ O, float2* __restrict__ part2) {                                       \
    P3gGram2kG<P3Io<IO>::BF16, P3Io<IO>::SC, IO> hk;                                                                    \
    static_cast<P3gGram<P3Io<IO>::BF16, P3Io<IO>::SC, 1, 6>&>(hk) = p3g_hook<P3Io<IO>::BF16, 1, P3Io<IO>::SC, 6>(D, D, slot, part); \
    hk.x = x; hk.F = mats; hk.xo = nullptr; hk.L = L; hk.rows = rows; hk.h0 = h0; hk.B = B; hk.H = H;                  \
    hk.O = O; hk.part2 = part2;                                                                                         \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 1>(S, mats, pq, h0, B, H, lN1, hk);                                      \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256, 3) lp3g_2kbmid2y_##TAG(P3Io<IO>::SC* __restrict__ S,                \
      const P3Io<IO>::SC* __restrict__ X2, const P3Io<IO>::SC* __restrict__ D, float2* __restrict__ part,               \
      const float2* __restrict__ mats, const float4* __restrict__ pq, int h0, int B, int H, int lN1, long long slot,    \
      const IO* __restrict__ u, const IO* __restrict__ dy, const float* __restrict__ Dw, IO* __restrict__ out, int L,    \
      int rows, float2* __restrict__ part2) {                                                                           \
    P3gGram2kY<P3Io<IO>::BF16, P3Io<IO>::SC, IO> hk;                                                                    \
    static_cast<P3gGram<P3Io<IO>::BF16, P3Io<IO>::SC, 2, 6>&>(hk) = p3g_hook<P3Io<IO>::BF16, 2, P3Io<IO>::SC, 6>(D, X2, slot, part); \
    hk.G = mats + 8 * 8 + 4 + 768; hk.u = u; hk.dy = dy; hk.Dw = Dw; hk.out = out; hk.part2 = part2;                  \
    hk.L = L; hk.rows = rows; hk.h0 = h0; hk.B = B; hk.H = H;                                                           \
    p3_mid16<P3Io<IO>::BF16, IO, P3Io<IO>::SC, 2>(S, mats, pq, h0, B, H, lN1, hk);                                      \
  }
LP3G_2KG(bf16, __nv_bfloat16)
LP3G_2KG(f16, __half)
