// Shapes: as learned_p3g.cu (B batch, H channels, L length; a chunk's rows, channel h0 + c / B, batch c % B): M = 16384 = 4 x
// 4096 (a middle block: one row's four inner rows in pair order) and M = 2048 = 8 x 256 (a middle block: eight rows, each with its
// eight inner rows of 256 in pair order); F_1 / G_1 the outer blocks (left form, N1 x N1 complex); part2 the outer Grams' partials
// (blocks, N1, N1) float2. Session 28: the middles doing pass 1 in their loads and (-Dlongconv4j.p3.bwd.outerfuse) pass 3 and the
// outer blocks' Grams in their loads / stores. Split out of learned_p3g_x.cuh (included right after it by learned_p3g.cu: one
// translation unit, the same machine code).
#pragma once

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
      for (int n = 0; n < N1; ++n) p3g_macc(ar[N1 * j + n], ai[N1 * j + n], a[j], b[n]);
  }
  __device__ __forceinline__ void flush(float* red, float2* __restrict__ part) {
    constexpr int E = N1 * N1;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
#pragma unroll
    for (int e = 0; e < KR * N1; ++e) {
      p3g_lane_sum<KS>(ar[e], ai[e]);
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
  // Session 32: NZ = 2 where L <= M = 16384 (the packed entries n >= 2 are the zero padding), as P3gXOuter8's.
  template <typename ST>
  __device__ __forceinline__ void xload(ST* zr, ST* zi, long long rowc) const {
    if (L <= 4 * 4096) xload_nz<2>(zr, zi, rowc);
    else xload_nz<4>(zr, zi, rowc);
  }
  template <int NZ, typename ST>
  __device__ __forceinline__ void xload_nz(ST* zr, ST* zi, long long rowc) const {
    const float4 (&f4)[8] = *reinterpret_cast<const float4 (*)[8]>(p3g_xsm());
    int h;
    const IO* xr = x + p3_row((int)rowc, h0, B, H, h) * (long long)L;
    SC* o = xo + rowc * 16384;
    P3gOg<4, 1> og;
    if constexpr (OG) og.zero();
    for (int q = threadIdx.x; q < 4096; q += blockDim.x) {
      float ar[4], ai[4];
      p3_outer_fwd_load<4, 4096, IO, NZ>(xr, L, q, ar, ai);
      p3_outer_fwd_col<4, 4096, NZ>(f4, ar, ai, q, [&](int k, float yr, float yi) {
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
  // Session 32: where L <= M = 2048 (causal / bidirectional) a column's packed entries n >= 4 are the zero padding: pass 1
  // with NZ = 4 (p3_outer_fwd_col's: those loads and products left out, the same values); NZ = 8 otherwise (circular).
  template <typename ST>
  __device__ __forceinline__ void xload(ST* zr, ST* zi, long long rowc) const {
    if (L <= 8 * 256) xload_nz<4>(zr, zi, rowc);
    else xload_nz<8>(zr, zi, rowc);
  }
  template <int NZ, typename ST>
  __device__ __forceinline__ void xload_nz(ST* zr, ST* zi, long long rowc) const {
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
        p3_outer_fwd_load<8, 256, IO, NZ>(x + p3_row(c, h0, B, H, h) * (long long)L, L, q, ar, ai);
        p3_outer_fwd_col<8, 256, NZ>(f4, ar, ai, q, put);
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
