// FlashButterfly forward at N = 8K and 16K (J = 3, R1 = N / 4096 in {2, 4}), the successor of fb_conv_forward_w3's
// J = 3 path (flashbutterfly.cu; the slow twin): the inverse outer stages write y straight to global memory (no store
// phase), a block runs several batch pairs of one channel (the twiddle tables built once), N is a compile-time constant.
// Shapes: B batch, H channels, L sequence length (L <= N/2: causal or bidirectional padding), N FFT size.
//   u, y : (B, H, L) row-major, element type IO (fp32, bf16 or fp16); y must not alias u.
//   kf   : (H, N) float2, the kernel spectrum in the Monarch order of monarch.cuh (shared with the other kernels).
//   D    : (H) fp32.
// z = u[b] + i u[b+1] per batch pair, as in flashbutterfly.cu. Two schemes (flags bit 5):
//  * staged (og2, the default): the block stages z's nonzero half in the 16-bit planes (16-byte loads, all of a thread's
//    in flight); barrier; og2_fwd: per column unit the first stage (radix R1) and the type-A stage at S = 256 as one
//    (R1 x 16)-point column FFT per warp (outer_pair_fwd_r's arithmetic; bf16: the 1/R1 and 1/16 scales folded into
//    one, exact); barrier; conv256_og: the last two stages, the product with (Kf + D) and two inverse stages (the skip
//    term D z rides on the spectrum: IFFT(FFT(z) D) = D z with the forward stages carrying 1/N); barrier; og_inv: the
//    inverse column units write y at n < N/2 without reading u. 4 barriers per pair (one before the next pair's
//    staging), 5 element passes of shared memory, u read once.
//  * global (og): og_fwd reads u per column unit from global memory, og_inv adds D u in fp32 (u re-read from L2); 2
//    barriers per pair; slower with 16-bit I/O (bench-runs/f8k-1, f8k-2: unit loads wait on HBM); kept, tested.
// The _twc kernels (TWC, helper f8k2; -Dlongconv4j.cuda.og.tw=compute): the staged scheme with the outer units' S = 256
// stage twiddles (forward wo, inverse w) by a per-lane product recurrence over the warp's units (TwcFwd, TwcInv) instead
// of two table lookups each (their lane-dependent indices replayed up to 7 wavefronts per lookup, bench-runs/f8k-2).
// The _ru.. kernels live in flashbutterfly_ogr.cu (which includes this file; OG_RU_MODULE drops the kernels below
// there): RU its register unit (conv256_ru), TF (_rua) the outer units' first/last-stage twiddles by recurrence (TwFirst)
// and per-unit address registers, LF (_rul) lean fragments, PF (_rup) the staging, SY (_rus), GT (_rut) the tables.
// A warp's column units are the same in the forward and inverse outer stages, and a unit's forward stores go exactly
// where its inverse loads come from, so the global scheme's next pair needs no barrier after og_inv (a __syncwarp).
#include "monarch.cuh"
#include "monarch_outer.cuh"
#include "pair_io.cuh"
namespace og {

__device__ __forceinline__ int tw_offset(int P, int stBytes) { return (2 * P * stBytes + 15) & ~15; }

// Two adjacent IO elements as floats / from floats (n even, the row 2-element aligned: L even, base aligned).
__device__ __forceinline__ float2 ld2(const float* p) { return *reinterpret_cast<const float2*>(p); }
__device__ __forceinline__ float2 ld2(const __nv_bfloat16* p) { return __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(p)); }
__device__ __forceinline__ float2 ld2(const __half* p) { return __half22float2(*reinterpret_cast<const __half2*>(p)); }
__device__ __forceinline__ void st2(float* p, float a, float b) { *reinterpret_cast<float2*>(p) = make_float2(a, b); }
__device__ __forceinline__ void st2(__nv_bfloat16* p, float a, float b) { *reinterpret_cast<__nv_bfloat162*>(p) = __floats2bfloat162_rn(a, b); }
__device__ __forceinline__ void st2(__half* p, float a, float b) { *reinterpret_cast<__half2*>(p) = __floats2half2_rn(a, b); }

__device__ __forceinline__ float2 cmul(float2 a, float2 b) { return make_float2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }

// Computed twiddles (the TWC kernels, "_twc"): the S = 256 stage's twiddles w4096(e) = exp(-2 pi i e / 4096) of a lane
// (g, t) at column unit u have e = a (8u + b) with lane constants a, b, so w4096(a (8u + b)) = w4096(a b) w512(a u):
// the value at the warp's first unit (u = warp) from the table, the next unit's (u + nw) the current one times
// w512(a nw). Each step adds a few fp32 roundings; a warp takes 32 / nw units (8 at 128 threads): within ~1e-6 of the
// table's, far below the 16-bit operands' rounding (2^-9 bf16, 2^-12 fp16).
// Forward (fwd_unit's wo[q]): a = g + 8 (q >> 1), b = 2t + (q & 1), the stage's scale so folded in (a power of two).
struct TwcFwd {
  float2 w[4], s[2];
  __device__ __forceinline__ void init(const Tw& T, int u0, int nw, int g, int t, int sh, float so) {
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const float2 v = tw_at(T, (((g + 8 * (q >> 1)) * (8 * u0 + 2 * t + (q & 1))) & 4095) << sh);
      w[q] = make_float2(v.x * so, v.y * so);
    }
#pragma unroll
    for (int j = 0; j < 2; ++j) s[j] = tw_at(T, ((8 * nw * (g + 8 * j)) & 4095) << sh);
  }
  __device__ __forceinline__ void next() {
#pragma unroll
    for (int q = 0; q < 4; ++q) w[q] = cmul(w[q], s[q >> 1]);
  }
};
// Inverse (og_inv's w[p] of half h, before the conjugation): a = 2t + 8h + p, b = g.
struct TwcInv {
  float2 w[2][2], s[2][2];
  __device__ __forceinline__ void init(const Tw& T, int u0, int nw, int g, int t, int sh) {
#pragma unroll
    for (int h = 0; h < 2; ++h)
#pragma unroll
      for (int p = 0; p < 2; ++p) {
        const int a = 2 * t + 8 * h + p;
        w[h][p] = tw_at(T, ((a * (8 * u0 + g)) & 4095) << sh);
        s[h][p] = tw_at(T, ((8 * nw * a) & 4095) << sh);
      }
  }
  __device__ __forceinline__ void next() {
#pragma unroll
    for (int h = 0; h < 2; ++h)
#pragma unroll
      for (int p = 0; p < 2; ++p) w[h][p] = cmul(w[h][p], s[h][p]);
  }
};

// The _rua kernels (TF): the first stage's (forward) and last stage's (inverse) twiddles w_N(m) of a lane's four
// positions i = 2h + p at unit u, m = 256 a_i + 8u + b (forward a = 2t + 8h + p, b = g; inverse a = g + 8h, b = 2t + p),
// advanced per unit by w_N(8 nw) instead of a table lookup each (two loads, a product and the index math): the same
// recurrence as TwcFwd / TwcInv (at most 31 steps, ~1e-6 from the table). SY (_rus, N = 8K: m2, m3 = m0, m1 + 2048):
// w_N(m + N/4) = -i w_N(m) = (w.y, -w.x), so sym() rotates w[0], w[1] into w[2], w[3] at each unit (half the products).
struct TwFirst {
  float2 w[4], s;
  __device__ __forceinline__ void init(const Tw& T, int nw, int m0, int m1, int m2, int m3) {   // m_i at the first unit
    w[0] = tw_at(T, m0); w[1] = tw_at(T, m1); w[2] = tw_at(T, m2); w[3] = tw_at(T, m3);
    s = tw_at(T, 8 * nw);
  }
  template <bool SY = false> __device__ __forceinline__ void next() {
#pragma unroll
    for (int i = 0; i < (SY ? 2 : 4); ++i) w[i] = cmul(w[i], s);
  }
  template <bool SY> __device__ __forceinline__ void sym() { if (SY) { w[2] = make_float2(w[0].y, -w[0].x); w[3] = make_float2(w[1].y, -w[1].x); } }
};

// The _rul kernels (LF): F16's fragments from 2 table values per lane (make_frag_a_lean: flashbutterfly_ogr.cu)
template <bool BF16> __device__ __forceinline__ void make_frag_a_lean(const Tw& T, FragA& f, uint32_t neg = 0u);

// The inputs of one column unit: rows b0 (xr) and b1 (xi) at n = r * 4096 + (2t + 8h + p) * 256 + 8u + g, r < R/2
// (the upper half of the radix-R1 axis is the zero padding), [h][p][r].
template <int R> struct UnitIn { float xr[2][2][R / 2], xi[2][2][R / 2]; };

template <int R, typename IO>
__device__ __forceinline__ void load_unit(UnitIn<R>& x, const IO* __restrict__ u0, const IO* __restrict__ u1, int L, int u,
                                          int g, int t) {
#pragma unroll
  for (int h = 0; h < 2; ++h)
#pragma unroll
    for (int p = 0; p < 2; ++p)
#pragma unroll
      for (int r = 0; r < R / 2; ++r) {
        const int n = r * 4096 + (2 * t + 8 * h + p) * 256 + 8 * u + g;
        x.xr[h][p][r] = n < L ? ld(u0 + n) : 0.f;
        x.xi[h][p][r] = (u1 != nullptr && n < L) ? ld(u1 + n) : 0.f;
      }
}

// The same inputs from the staged planes (og2): z at r * 4096 + m, r < R/2 (outer_pair_fwd_r's loads with HALF).
// LEAN (_rua): SIDX(256 a + 8u + b) = 264 a + b + 8u + (u >> 2) for b < 8: a lane offset, a per-unit one and a
// constant, so that a unit's accesses share one address register (the same for fwd_unit's stores, og_inv's loads).
template <int R, bool LEAN = false, typename ST>
__device__ __forceinline__ void load_unit_smem(UnitIn<R>& x, const ST* zr, const ST* zi, int u, int g, int t) {
#pragma unroll
  for (int h = 0; h < 2; ++h)
#pragma unroll
    for (int p = 0; p < 2; ++p)
#pragma unroll
      for (int r = 0; r < R / 2; ++r) {
        const int idx = (LEAN ? 528 * t + g + 264 * (8 * h + p) + 8 * u + (u >> 2) : SIDX((2 * t + 8 * h + p) * 256 + 8 * u + g))
                        + r * SK;
        x.xr[h][p][r] = ld(zr + idx); x.xi[h][p][r] = ld(zi + idx);
      }
}

// The _ruh kernels (H2): the outer units' first-stage (forward) / S = 256 (inverse) twiddle products on packed 16-bit
// pairs, loads included (flashbutterfly_ogr.cu)
template <int R, bool BF16, typename ST> __device__ __forceinline__ void fwd_first_h2(const ST* zr, const ST* zi,
    const float2 (&wf)[4], uint32_t (&br)[R][2], uint32_t (&bi)[R][2], int u, int g, int t);
template <int R, bool BF16, typename ST> __device__ __forceinline__ void inv_first_h2(const ST* zr, const ST* zi,
    const float2 (&w)[2][2], uint32_t (&br)[R][2], uint32_t (&bi)[R][2], int u, int g, int t);

// og_fwd of one unit from its loaded inputs (outer_pair_fwd_r with HALF, the loads replaced; H2: loaded there).
template <int R, bool BF16, bool TWC = false, bool TF = false, bool LF = false, bool H2 = false, typename ST>
__device__ __forceinline__ void fwd_unit(const Tw& T, const FragA& F, const UnitIn<R>& x, ST* zr, ST* zi, int u, int g,
                                         int t, int sh, const float2 (&wc)[4] = {}, const float2 (&wf)[4] = {}) {
  constexpr uint32_t NEG2 = 0x80008000u;
  uint32_t br[R][2], bi[R][2];
  if constexpr (H2) fwd_first_h2<R, BF16>(zr, zi, wf, br, bi, u, g, t);
  else
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    float pr[2][R], pi[2][R];
#pragma unroll
    for (int p = 0; p < 2; ++p) {
#pragma unroll
      for (int r = 0; r < R; ++r) {
        pr[p][r] = r < R / 2 ? x.xr[h][p][r < R / 2 ? r : 0] : 0.f;
        pi[p][r] = r < R / 2 ? x.xi[h][p][r < R / 2 ? r : 0] : 0.f;
      }
      const int m = (2 * t + 8 * h + p) * 256 + 8 * u + g;
      dft_c<R, false, true>(pr[p], pi[p]);
      twiddle_pow<R, false>(pr[p], pi[p], TF ? wf[2 * h + p] : tw_at(T, m), BF16 ? 1.0f : 1.0f / R);   // bf16: 1/R on wo
    }
#pragma unroll
    for (int k = 0; k < R; ++k) { br[k][h] = pack2<BF16>(pr[0][k], pr[1][k]); bi[k][h] = pack2<BF16>(pi[0][k], pi[1][k]); }
  }
  float2 wo[4];   // the S = 256 stage's output twiddles with its 1/16 (bf16: and the first stage's 1/R)
  constexpr float so = BF16 ? 1.0f / (16 * R) : 1.0f / 16;
#pragma unroll
  for (int q = 0; q < 4; ++q) {
    if (TWC) { wo[q] = wc[q]; continue; }   // computed (TwcFwd: the scale included)
    const float2 w = tw_at(T, (((g + 8 * (q >> 1)) * (8 * u + 2 * t + (q & 1))) & 4095) << sh);
    wo[q] = make_float2(w.x * so, w.y * so);
  }
  __syncwarp();   // every lane's og_inv loads of this unit (previous pair) are done before any lane stores into it
#pragma unroll
  for (int k = 0; k < R; ++k) {
    float dr[4] = {0.f, 0.f, 0.f, 0.f}, di[4] = {0.f, 0.f, 0.f, 0.f};
    mma16816<BF16>(dr, F.re, br[k][0], br[k][1]);
    mma16816<BF16>(dr, F.im, bi[k][0] ^ NEG2, bi[k][1] ^ NEG2);
    mma16816<BF16>(di, F.re, bi[k][0], bi[k][1]);
    mma16816<BF16>(di, F.im, br[k][0], br[k][1]);
    if (LF && TF && ((u >> 2) & 1) == 0) {   // _rul: the positions q, q + 1 are adjacent and 4-byte aligned (idx even)
#pragma unroll
      for (int q = 0; q < 4; q += 2) {
        const int idx = 264 * g + 2 * t + 2112 * (q >> 1) + 8 * u + (u >> 2) + k * SK;
        *reinterpret_cast<uint32_t*>(zr + idx) = pack2<BF16>(dr[q] * wo[q].x - di[q] * wo[q].y,
                                                            dr[q + 1] * wo[q + 1].x - di[q + 1] * wo[q + 1].y);
        *reinterpret_cast<uint32_t*>(zi + idx) = pack2<BF16>(dr[q] * wo[q].y + di[q] * wo[q].x,
                                                            dr[q + 1] * wo[q + 1].y + di[q + 1] * wo[q + 1].x);
      }
      continue;
    }
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int idx = (TF ? 264 * g + 2 * t + 2112 * (q >> 1) + (q & 1) + 8 * u + (u >> 2)
                          : SIDX((g + 8 * (q >> 1)) * 256 + 8 * u + 2 * t + (q & 1))) + k * SK;
      st(zr + idx, dr[q] * wo[q].x - di[q] * wo[q].y);
      st(zi + idx, dr[q] * wo[q].y + di[q] * wo[q].x);
    }
  }
}

// og_fwd of the warp's units (u = warp, warp + nw, ...), the next unit's loads in flight while one is computed.
template <int R, bool BF16, typename IO, typename ST>
__device__ __forceinline__ void og_fwd(const Tw& T, ST* zr, ST* zi, const IO* __restrict__ u0, const IO* __restrict__ u1,
                                       int L, int log2N) {
  FragA F; make_frag_a<BF16>(T, F);
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5, sh = log2N - 12;
  UnitIn<R> cur;
  load_unit<R>(cur, u0, u1, L, warp, g, t);
#pragma unroll 1
  for (int u = warp; u < 32; u += nw) {
    UnitIn<R> nxt;
    if (u + nw < 32) load_unit<R>(nxt, u0, u1, L, u + nw, g, t);
    fwd_unit<R, BF16>(T, F, cur, zr, zi, u, g, t, sh);
    cur = nxt;
  }
}

// The staged scheme's first stages: per unit the inputs from the planes (staged at n < N/2), fwd_unit (in place: the
// unit's loads precede its __syncwarp and stores, and no other warp touches the unit's positions). TWC: TwcFwd's
// twiddles (per-lane values advanced by one complex product per unit) instead of the table.
template <int R, bool BF16, bool TWC = false, bool TF = false, bool LF = false, bool SY = false, bool H2 = false, typename ST>
__device__ __forceinline__ void og2_fwd(const Tw& T, ST* zr, ST* zi, int log2N) {
  FragA F;
  if constexpr (LF) make_frag_a_lean<BF16>(T, F); else make_frag_a<BF16>(T, F);
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5, sh = log2N - 12;
  TwcFwd W;
  if (TWC) W.init(T, warp, nw, g, t, sh, BF16 ? 1.0f / (16 * R) : 1.0f / 16);
  TwFirst Wf;
  const int m0 = 256 * 2 * t + 8 * warp + g;   // i = 2h + p: m = 256 (2t + 8h + p) + 8u + g
  if (TF) Wf.init(T, nw, m0, m0 + 256, m0 + 256 * 8, m0 + 256 * 9);
#pragma unroll 1
  for (int u = warp; u < 32; u += nw) {
    UnitIn<R> x;
    if constexpr (!H2) load_unit_smem<R, TF>(x, zr, zi, u, g, t);
    Wf.sym<TF && SY && R == 2>(); fwd_unit<R, BF16, TWC, TF, LF, H2>(T, F, x, zr, zi, u, g, t, sh, W.w, Wf.w);
    if (TWC) W.next();
    if (TF) Wf.next<SY && R == 2>();
  }
}

// og_inv: per unit outer_pair_inv_r's arithmetic (HALF: outputs r < R/2), then y = z + d u at n = r * 4096 + m,
// m = (g + 8 hq) * 256 + 8u + 2t + p. PAIRS: the two p as one 2-element access (L even, rows aligned).
template <int R, bool BF16, bool PAIRS, bool SKIP, bool TWC = false, bool TF = false, bool LF = false, bool PF = false, bool SY = false,
          bool GT = false, bool H2 = false, typename IO, typename ST>
__device__ __forceinline__ void og_inv(const Tw& T, const ST* zr, const ST* zi, IO* __restrict__ y0, IO* __restrict__ y1,
                                       const IO* __restrict__ u0, const IO* __restrict__ u1, float d, int L, int log2N) {
  constexpr uint32_t NEG2 = 0x80008000u;
  FragA F;
  if constexpr (LF) make_frag_a_lean<BF16>(T, F); else make_frag_a<BF16>(T, F);
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5, sh = log2N - 12;
  const bool two = u1 != nullptr;
  TwcInv W;
  if (TWC) W.init(T, warp, nw, g, t, sh);
  TwFirst Wf;
  const int m0 = 256 * g + 8 * warp + 2 * t;   // i = 2hq + p: m = 256 (g + 8hq) + 8u + 2t + p
  if (TF) Wf.init(T, nw, m0, m0 + 1, m0 + 256 * 8, m0 + 256 * 8 + 1);
#pragma unroll 1
  for (int u = warp; u < 32; u += nw) {
    const int c = 8 * u + g;
    float sa[2][R / 2][2], sb[2][R / 2][2];   // the skip term's inputs [hq][r][p], loaded first (!SKIP: zero, not read)
#pragma unroll
    for (int hq = 0; hq < 2 && SKIP; ++hq)
#pragma unroll
      for (int r = 0; r < R / 2; ++r) {
        const int n = r * 4096 + (g + 8 * hq) * 256 + 8 * u + 2 * t;
        if (PAIRS) {
          const float2 a = n < L ? ld2(u0 + n) : make_float2(0.f, 0.f);
          const float2 b = (two && n < L) ? ld2(u1 + n) : make_float2(0.f, 0.f);
          sa[hq][r][0] = a.x; sa[hq][r][1] = a.y; sb[hq][r][0] = b.x; sb[hq][r][1] = b.y;
        } else {
#pragma unroll
          for (int p = 0; p < 2; ++p) {
            sa[hq][r][p] = n + p < L ? ld(u0 + n + p) : 0.f;
            sb[hq][r][p] = (two && n + p < L) ? ld(u1 + n + p) : 0.f;
          }
        }
      }
    uint32_t br[R][2], bi[R][2];
    if constexpr (H2) inv_first_h2<R, BF16>(zr, zi, W.w, br, bi, u, g, t);
    else
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      float2 w[2];
#pragma unroll
      for (int p = 0; p < 2; ++p) {
        const float2 v = TWC ? W.w[h][p] : tw_at(T, (((2 * t + 8 * h + p) * c) & 4095) << sh);
        w[p] = make_float2(v.x, -v.y);
      }
#pragma unroll
      for (int k = 0; k < R; ++k) {
        float a[2], b[2];
#pragma unroll
        for (int p = 0; p < 2; ++p) {
          const int idx = (TF ? 528 * t + g + 264 * (8 * h + p) + 8 * u + (u >> 2) : SIDX((2 * t + 8 * h + p) * 256 + c))
                          + k * SK;
          const float xr = ld(zr + idx), xi = ld(zi + idx);
          a[p] = xr * w[p].x - xi * w[p].y;
          b[p] = xr * w[p].y + xi * w[p].x;
        }
        br[k][h] = pack2<BF16>(a[0], a[1]); bi[k][h] = pack2<BF16>(b[0], b[1]);
      }
    }
    if (TWC) W.next();
    Wf.sym<TF && SY && R == 2>();
#pragma unroll
    for (int hq = 0; hq < 2; ++hq) {
      float yr[2][R], yi[2][R];
#pragma unroll
      for (int k = 0; k < R; ++k) {
        float dr[4] = {0.f, 0.f, 0.f, 0.f}, di[4] = {0.f, 0.f, 0.f, 0.f};
        mma16816<BF16>(dr, F.re, br[k][0], br[k][1]);
        mma16816<BF16>(dr, F.im, bi[k][0], bi[k][1]);
        mma16816<BF16>(di, F.re, bi[k][0], bi[k][1]);
        mma16816<BF16>(di, F.im, br[k][0] ^ NEG2, br[k][1] ^ NEG2);
#pragma unroll
        for (int p = 0; p < 2; ++p) { yr[p][k] = dr[2 * hq + p]; yi[p][k] = di[2 * hq + p]; }
      }
#pragma unroll
      for (int p = 0; p < 2; ++p) {
        const int m = (g + 8 * hq) * 256 + 8 * u + 2 * t + p;
        if constexpr (GT && TF && R == 2) {   // _rut: y_0 = x_0 + conj(w) x_1 (y_1 unused) as 4 FMAs, not 2 FMUL 2 FFMA 2 FADD
          const float2 w = Wf.w[2 * hq + p]; const float a = yr[p][1], b = yi[p][1];
          yr[p][0] = fmaf(a, w.x, fmaf(b, w.y, yr[p][0])); yi[p][0] = fmaf(b, w.x, fmaf(-a, w.y, yi[p][0]));
          continue;
        }
        twiddle_pow<R, true>(yr[p], yi[p], TF ? Wf.w[2 * hq + p] : tw_at(T, m), 1.0f);
        dft_c<R, true, false>(yr[p], yi[p]);
      }
#pragma unroll
      for (int r = 0; r < R / 2; ++r) {
        const int n = r * 4096 + (g + 8 * hq) * 256 + 8 * u + 2 * t;
        if (!SKIP) { sa[hq][r][0] = sa[hq][r][1] = sb[hq][r][0] = sb[hq][r][1] = 0.f; }
        const auto yo = [d](float s, float v) { return PF && !SKIP ? v : fmaf(d, s, v); };   // _rup: y, not d 0 + y
        if (PAIRS) {
          if (n < L) {
            st2(y0 + n, yo(sa[hq][r][0], yr[0][r]), yo(sa[hq][r][1], yr[1][r]));
            if (two) st2(y1 + n, yo(sb[hq][r][0], yi[0][r]), yo(sb[hq][r][1], yi[1][r]));
          }
        } else {
#pragma unroll
          for (int p = 0; p < 2; ++p)
            if (n + p < L) {
              st(y0 + n + p, yo(sa[hq][r][p], yr[p][r]));
              if (two) st(y1 + n + p, yo(sb[hq][r][p], yi[p][r]));
            }
        }
      }
    }
    if (TF) Wf.next<SY && R == 2>();
  }
}

// conv256_warp_v4 (monarch_outer.cuh) with the next chunk's spectrum loads (4 per lane, 16 bytes) issued a chunk ahead.
// DSKIP: the spectrum's real part plus d (the skip term d z through the inverse stages: IFFT(FFT(z) d) = d z, since
// the forward stages carry 1/N and the inverse none), so that no stage after the product needs u.
template <bool BF16, bool PF, bool DSKIP, typename ST>
__device__ __forceinline__ void conv256_og(const Tw& T, const float2* tw256, ST* zr, ST* zi, int N, float scale,
                                           const float2* __restrict__ k, float conj, float d) {
  FragA F; make_frag_a<BF16>(T, F);
  constexpr uint32_t NEG2 = 0x80008000u;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  const float2* tl = tw256 + lane;
  const float2* kl = k + g * 16 + 2 * t;   // the lane's spectrum values of a chunk: kl[base + 128 hh + 8 j + {0, 1}]
  float4 kv[2][2];                          // [j][hh]
  auto fetch = [&](int chunk, float4 (&v)[2][2]) {
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) v[j][hh] = *reinterpret_cast<const float4*>(kl + (chunk << 8) + 128 * hh + 8 * j);
  };
  if (PF && warp < (N >> 8)) fetch(warp, kv);
  for (int chunk = warp; chunk < (N >> 8); chunk += nw) {
    const int base = chunk << 8;
    float4 kn[2][2];
    if (!PF) fetch(chunk, kv);
    else if (chunk + nw < (N >> 8)) fetch(chunk + nw, kn);
    uint32_t yr[4], yi[4];
    // DSKIP and bf16: the S = 16 stage's scale moves to the product's (powers of two on bf16 operands: exact, the same
    // bits; fp16 keeps every stage scaled, its operands would grow 16x)
    constexpr bool FOLD = DSKIP && BF16;
    pair_stage16_fwd<BF16>(F, tl, zr, zi, base, g, t, FOLD ? 1.0f : scale, yr, yi);
    const float sp = FOLD ? scale * scale : scale;
    uint32_t yn[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) yn[i] = yi[i] ^ NEG2;
    uint32_t pr[4], pi[4];
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float2 kw[4];
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) {
        kw[2 * hh] = make_float2(DSKIP ? kv[j][hh].x + d : kv[j][hh].x, kv[j][hh].y * conj);
        kw[2 * hh + 1] = make_float2(DSKIP ? kv[j][hh].z + d : kv[j][hh].z, kv[j][hh].w * conj);
      }
      float dr[4], di[4];
      mma_f16<BF16, true>(F, j, yr, yi, yn, dr, di);
      float a[4], b[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const float x = dr[q] * sp, y = di[q] * sp;
        a[q] = x * kw[q].x - y * kw[q].y;
        b[q] = x * kw[q].y + y * kw[q].x;
      }
      pr[2 * j] = pack2<BF16>(a[0], a[1]); pr[2 * j + 1] = pack2<BF16>(a[2], a[3]);
      pi[2 * j] = pack2<BF16>(b[0], b[1]); pi[2 * j + 1] = pack2<BF16>(b[2], b[3]);
    }
    pair_inv_stages<BF16>(F, tl, pr, pi, zr, zi, base, g, t);
    if (PF) {
#pragma unroll
      for (int j = 0; j < 2; ++j)
#pragma unroll
        for (int hh = 0; hh < 2; ++hh) kv[j][hh] = kn[j][hh];
    }
  }
}

// The staged input (og2) of a pair: rows u0, u1 (u1 null: zero) into the planes at n < N/2 (the zero half is never
// read), 16-byte loads when vec (L % (16 / sizeof(IO)) == 0, rows 16-byte aligned), all of a thread's loads in flight.
// RAW (_rul) with IO the 16-bit compute type itself: the input's bits stored as they are (ld / st's fp32 round trip is
// exact but for NaN payloads) at SIDX(n) + i (n a multiple of 8: SIDX(n + i) = SIDX(n) + i for i < 8), one address and
// a shift per two values instead of an address, an unpack, a conversion and a byte move per value.
template <bool RAW = false, typename IO, typename ST>
__device__ __forceinline__ void stage_in(ST* zr, ST* zi, const IO* __restrict__ u0, const IO* __restrict__ u1, int L, int half,
                                         bool vec) {
  constexpr int V = 16 / sizeof(IO);
  if (!vec) { load_pair(zr, zi, u0, u1, L < half ? L : half, half); return; }
  for (int v = threadIdx.x; v < half / V; v += blockDim.x) {
    const int n = v * V;
    uint4 a = make_uint4(0u, 0u, 0u, 0u), b = a;
    if (n < L) {
      a = *reinterpret_cast<const uint4*>(u0 + n);
      if (u1 != nullptr) b = *reinterpret_cast<const uint4*>(u1 + n);
    }
    if constexpr (RAW && std::is_same<IO, ST>::value) {
      unsigned short* const pr = reinterpret_cast<unsigned short*>(zr) + SIDX(n);
      unsigned short* const pi = reinterpret_cast<unsigned short*>(zi) + SIDX(n);
      const uint32_t wa[4] = {a.x, a.y, a.z, a.w}, wb[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        pr[2 * i] = (unsigned short)wa[i]; pr[2 * i + 1] = (unsigned short)(wa[i] >> 16);
        pi[2 * i] = (unsigned short)wb[i]; pi[2 * i + 1] = (unsigned short)(wb[i] >> 16);
      }
      continue;
    }
    const IO* pa = reinterpret_cast<const IO*>(&a);
    const IO* pb = reinterpret_cast<const IO*>(&b);
#pragma unroll
    for (int i = 0; i < V; ++i) { st(zr + SIDX(n + i), ld(pa + i)); st(zi + SIDX(n + i), ld(pb + i)); }
  }
}

}  // namespace og

// Grid (ceil(ceil(B/2) / per), H), block a multiple of 32 (at most 128), dynamic smem as the _w3 kernels: two planes of
// N + N/32 elements of ST, the twiddle table, the per-lane table. N = 4096 R (R = 2: 8K, 4: 16K; log2N must match),
// L <= N/2. flags bit 1: conj(Kf) (the adjoint, backwardInput); bit 4 (R = 4 only): the spectrum loads one chunk
// ahead; bit 5: the staged scheme (og2, the top's); bits 8-15: batch pairs per block (0: 1), one after the other.
namespace og {   // the _ru variants' register unit (flashbutterfly_ogr.cu, which includes this file)
template <bool BF16, bool LF, bool NM, bool PT, typename ST>
__device__ void conv256_ru(const Tw& T, const float2* tw256, ST* zr, ST* zi, int N, float scale,
                           const float2* __restrict__ k, float conj, float d);
template <bool GT> struct TabCopy {   // the _rut kernels' tables from global memory (GT, N = 8K; defined there)
  uint4 v[3]; __device__ __forceinline__ void load(); __device__ __forceinline__ Tw store(float2* t); };
template <typename IO> struct StageBuf {   // the _rup kernels' staging (PF, 16-bit I/O, vec; defined there)
  uint4 a[4], b[4];   // a thread's 16-byte loads of u0 / u1 (group grp: vectors threadIdx.x + (4 grp + k) blockDim.x)
  __device__ __forceinline__ void load(const IO* __restrict__ u0, const IO* __restrict__ u1, int L, int half, int grp);
  template <bool LOADED, typename ST> __device__ __forceinline__ void stage(ST* zr, ST* zi, const IO* __restrict__ u0,
                                                                            const IO* __restrict__ u1, int L, int half, int g0);
};
}
template <int R, typename IO, int CM, typename ST, bool TWC, bool RU = false, bool TF = false, bool LF = false, bool PF = false,
          bool SY = false, bool GT = false, bool H2 = false, bool NM = false, bool PT = false>
__device__ void og_forward(const IO* __restrict__ u, const float2* __restrict__ kf, const float* __restrict__ D,
                           IO* __restrict__ y, int B, int H, int L, int flags) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  constexpr bool BF = CM == 2;
  constexpr int LOG2N = R == 2 ? 13 : 14, N = 1 << LOG2N, P = N + (N >> 5);
  const int h = blockIdx.y;
  ST* zr = reinterpret_cast<ST*>(smem_raw); ST* zi = zr + P;
  const int per = max(1, (flags >> 8) & 255);
  const bool vec = L % (16 / sizeof(IO)) == 0 && (reinterpret_cast<uintptr_t>(u) & 15) == 0;
  constexpr bool PFX = PF && sizeof(IO) == 2;   // _rup: the block's first pair's loads in flight while the tables are built
  og::StageBuf<IO> sb;
  const int p0 = 2 * blockIdx.x * per; const bool pf = PFX && vec && p0 < B;
  og::TabCopy<GT> tc; if constexpr (GT) tc.load();   // _rut: the tables' image from global memory (L2), not sincospif
  if constexpr (PFX) if (pf) sb.load(u + ((size_t)p0 * H + h) * L, p0 + 1 < B ? u + ((size_t)(p0 + 1) * H + h) * L : nullptr, L, N / 2, 0);
  float2* const twp = reinterpret_cast<float2*>(smem_raw + og::tw_offset(P, sizeof(ST)));
  const Tw tw = [&] { if constexpr (GT) return tc.store(twp); else return tw_init(twp, LOG2N); }();
  float2* tw256 = twp + tw_entries(N);
  if (!GT) tw256_init(tw256);
  if constexpr (PFX) if (pf) sb.template stage<true>(zr, zi, u, u, L, N / 2, 0);   // the first group, its loads done
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
  const bool staged = true;   // (TWC: always)   // sm_80 and the compute_80 PTX: the global scheme spilled 8 bytes at 96 registers there
#else
  const bool staged = TWC || (flags & 32);   // the TWC kernels: the staged scheme only
#endif
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
  constexpr bool RU_ARCH = false;   // sm_80 (never routed: OuterGlobal.applies needs sm_90): conv256_ru spilled there
#else
  constexpr bool RU_ARCH = RU;
#endif
  if (!staged) __syncthreads();
  const bool pairs = L % 2 == 0 && (reinterpret_cast<uintptr_t>(u) & 7) == 0 && (reinterpret_cast<uintptr_t>(y) & 7) == 0;
  const float conj = (flags & 2) ? -1.0f : 1.0f, d = D[h];
  const float2* k = kf + (size_t)h * N;
  for (int pp = 0; pp < per; ++pp) {
    const int b0 = 2 * (blockIdx.x * per + pp);
    if (b0 >= B) break;   // the same for the whole block
    const bool two = b0 + 1 < B;
    const IO* u0 = u + ((size_t)b0 * H + h) * L;
    const IO* u1 = two ? u0 + (size_t)H * L : nullptr;
    IO* y0 = y + ((size_t)b0 * H + h) * L;
    IO* y1 = two ? y0 + (size_t)H * L : nullptr;
    if (staged) {
      if (pp > 0) __syncthreads();   // the previous pair's og_inv has read the planes
      if constexpr (PFX) { if (pf) sb.template stage<false>(zr, zi, u0, u1, L, N / 2, pp == 0); else og::stage_in<LF>(zr, zi, u0, u1, L, N / 2, vec); }
      else og::stage_in<LF>(zr, zi, u0, u1, L, N / 2, vec);
      __syncthreads();
      og::og2_fwd<R, BF, TWC, TF, LF, SY, H2>(tw, zr, zi, LOG2N);
      __syncthreads();
      if constexpr (RU_ARCH) og::conv256_ru<BF, LF, NM, PT>(tw, tw256, zr, zi, N, 1.0f / 16.0f, k, conj, d);
      else og::conv256_og<BF, false, true>(tw, tw256, zr, zi, N, 1.0f / 16.0f, k, conj, d);
      __syncthreads();
      if (pairs) og::og_inv<R, BF, true, false, TWC, TF, LF, PF, SY, GT, H2>(tw, zr, zi, y0, y1, u0, u1, d, L, LOG2N);
      else og::og_inv<R, BF, false, false, TWC, TF, LF, PF, SY, GT, H2>(tw, zr, zi, y0, y1, u0, u1, d, L, LOG2N);
      continue;
    }
    og::og_fwd<R, BF>(tw, zr, zi, u0, u1, L, LOG2N);
    __syncthreads();
    if (R == 4 && (flags & 16)) { if constexpr (R == 4) og::conv256_og<BF, true, false>(tw, tw256, zr, zi, N, 1.0f / 16.0f, k, conj, d); }
    else conv256_warp_v4<BF>(tw, tw256, zr, zi, N, 1.0f / 16.0f, k, conj);
    __syncthreads();
    if (pairs) og::og_inv<R, BF, true, true>(tw, zr, zi, y0, y1, u0, u1, d, L, LOG2N);
    else og::og_inv<R, BF, false, true>(tw, zr, zi, y0, y1, u0, u1, d, L, LOG2N);
  }
}

#define OG_FWD(NAME, R, IO, CM, ST, MAXT, MINB, TWC)                                                             \
  extern "C" __global__ void __launch_bounds__(MAXT, MINB) NAME(                                            \
      const IO* __restrict__ u, const float2* __restrict__ kf,                                            \
      const float* __restrict__ D, IO* __restrict__ y, int B, int H, int L, int log2N, int flags) {      \
    og_forward<R, IO, CM, ST, TWC>(u, kf, D, y, B, H, L, flags);                                  \
  }
#ifndef OG_RU_MODULE   // flashbutterfly_ogr.cu: the _ru kernels only
// name: fbog_fwd_<io>_<compute>_r<R1> (16-bit shared memory of the compute type; N = 4096 R1)
OG_FWD(fbog_fwd_bf16_bf16_r2, 2, __nv_bfloat16, 2, __nv_bfloat16, 128, 5, false)
OG_FWD(fbog_fwd_f16_f16_r2, 2, __half, 1, __half, 128, 5, false)
OG_FWD(fbog_fwd_f32_bf16_r2, 2, float, 2, __nv_bfloat16, 128, 5, false)
OG_FWD(fbog_fwd_f32_f16_r2, 2, float, 1, __half, 128, 5, false)
OG_FWD(fbog_fwd_bf16_bf16_r4, 4, __nv_bfloat16, 2, __nv_bfloat16, 128, 3, false)
OG_FWD(fbog_fwd_f16_f16_r4, 4, __half, 1, __half, 128, 3, false)
OG_FWD(fbog_fwd_f32_bf16_r4, 4, float, 2, __nv_bfloat16, 128, 3, false)
OG_FWD(fbog_fwd_f32_f16_r4, 4, float, 1, __half, 128, 3, false)
// the same with the computed outer twiddles (TwcFwd, TwcInv; the staged scheme only, flags bit 5 ignored)
OG_FWD(fbog_fwd_bf16_bf16_r2_twc, 2, __nv_bfloat16, 2, __nv_bfloat16, 128, 5, true)
OG_FWD(fbog_fwd_f16_f16_r2_twc, 2, __half, 1, __half, 128, 5, true)
OG_FWD(fbog_fwd_f32_bf16_r2_twc, 2, float, 2, __nv_bfloat16, 128, 5, true)
OG_FWD(fbog_fwd_f32_f16_r2_twc, 2, float, 1, __half, 128, 5, true)
OG_FWD(fbog_fwd_bf16_bf16_r4_twc, 4, __nv_bfloat16, 2, __nv_bfloat16, 128, 3, true)
OG_FWD(fbog_fwd_f16_f16_r4_twc, 4, __half, 1, __half, 128, 3, true)
OG_FWD(fbog_fwd_f32_bf16_r4_twc, 4, float, 2, __nv_bfloat16, 128, 3, true)
OG_FWD(fbog_fwd_f32_f16_r4_twc, 4, float, 1, __half, 128, 3, true)

#endif  // OG_RU_MODULE
