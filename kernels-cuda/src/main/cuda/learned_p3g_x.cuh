// Shapes: as learned_p3g.cu (B batch, H channels, L length; the one-pass plans' chunk rows c of 2^lM (re, im) pairs, channel
// h0 + c / B, batch c % B). The row I/O of the one-pass M = 4096 / 8192 plans: passes 1 / 3 (p3g_pack1, p3g_unpack1) and, sessions
// 27-28, the M = 4096 / 8192 middles reading u / dy and writing du themselves. Included by learned_p3g.cu after the hooks (one
// translation unit); learned_p3g_xo.cuh (the middles doing the outer passes at M = 16384 / 2048) follows it.
#pragma once

// The x row of chunk row c (nullptr for c >= rows) and the 4-pair groups lp3g_pack1 stores (session 28: one helper for the
// packing, the middles' direct loads at M = 4096 and 8192).
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
    *reinterpret_cast<uint4*>(S + ((long long)c << lM) + q0) = p3g_pairs4<SC, IO>(p3g_xrow(x, c, L, h0, B, H, rows), q0, L, vec);
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
  int cr = -1;   // session 30: the row pointer of the last chunk row met, its division by B done once (the same pointer)
  const IO* xr = nullptr;
  for (int i = threadIdx.x; i < 4 * G; i += U * T) {
    uint4 a[U];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int gi = i + u * T, k = gi / G, q0 = 4 * (gi % G), c = (int)(4 * rowc) + k;
      if (gi < 4 * G && c != cr) { cr = c; xr = p3g_xrow(x, c, L, h0, B, H, rows); }
      a[u] = p3g_pairs4<SC, IO>(gi < 4 * G ? xr : nullptr, q0, L, vec);
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
  int cr = -1, h = 0;   // session 30: the last chunk row met, its row offset and channel (one division by B a row)
  long long g0 = 0;
  for (int gi = threadIdx.x; gi < 4 * G; gi += blockDim.x) {
    const int k = gi / G, m0 = 8 * (gi % G), c = (int)(4 * rowc) + k;
    if (c >= rows) continue;
    if (c != cr) { cr = c; g0 = p3_row(c, h0, B, H, h) * (long long)L; }
    const long long g = g0 + m0;
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
