// The og kernels (flashbutterfly_og.cu) with a leaner register unit: the `_ru` variants (helper f4k, session 8;
// -Dlongconv4j.cuda.og.ru=on, OuterGlobal.registerUnit()). Shapes as there: B batch, H channels, L length (L <= N/2),
// N FFT size (8K or 16K); u, y (B, H, L) of IO; kf (H, N) float2 (Monarch order); D (H) fp32.
// Everything but the register unit (the chunk loop between the second and third block barrier of a pair: the last
// two forward stages, the product with Kf + D, the first two inverse stages) is og.cu's staged scheme with computed
// outer twiddles (_twc), included from there. conv256_ru computes what conv256_og<BF16, false, true> computes, with
// fewer instructions (bench-runs/f8k-2, og at 8K: 392 SASS instructions per chunk, 42.5 % of the kernel's):
//  * addresses: every shared-memory access of a chunk is at 264 chunk + off + a compile-time constant, off one of two
//    per-lane offsets (SIDX(256 c + x) = 264 c + SIDX(x) for x < 256; the accesses' x = 32 t + g + const with
//    const >> 5 fixed), so a chunk needs two address registers, not ~45 address instructions;
//  * bank conflicts: lanes t and t + 2 read and wrote the same banks (offsets 33 t + g: words 0-3 and 33-36), every
//    16-bit access replayed once (57M excess wavefronts at 8K). Lanes t >= 2 now take the other row of each row pair
//    (offsets 33 t + g + 16 (t >> 1) and 33 t + g + 16 - 16 (t >> 1): banks 0-3, 16-20, 9-12, 25-29 and 8-11, 24-28,
//    1-4, 17-21): the loads are paired back by a byte permute with a lane-dependent selector (one PRMT, as before), the
//    stores come out of the last MMA already swapped, its B operand taking columns g ^ (g >> 2) (4 <-> 5, 6 <-> 7);
//  * F16 as a B operand from its own registers (make_frag_b) instead of register-pair copies of the A fragment per MMA
//    (39 MOVs per chunk at 8K);
//  * the product's scales folded into the spectrum: (k.re + d) sp = fma(k.re, sp, d sp), k.im conj sp (sp a power of
//    two: the same bits as scaling the operands) instead of 2 multiplies and an add per element.
// The _rua kernels (-Dlongconv4j.cuda.og.ru=all) also lean the outer units (og.cu's TF: first/last-stage twiddles by a
// recurrence over the warp's units, per-unit address registers).
// conv256_ru's results are conv256_og's (the same MMAs on the same 16-bit operands, the same fp32 operations up to exact
// sign flips and power-of-two scalings; ptxas may contract a product in another order: an fp32 ulp can flip a 16-bit
// rounding); a lane-level float64 model of both (one chunk, the PTX fragment layouts) agreed exactly before any GPU run.
// OuterGlobalGpuTest compares the kernels on the same input.
#define OG_RU_MODULE 1
#include "flashbutterfly_og.cu"

namespace og {

// The _rul kernels (og.cu's LF): F16's fragment words from two table values per lane instead of eight. make_frag_a's
// register i (row g + 8a, cols 2t + 8b + {0, 1}; a = i & 1, b = i >> 1) holds W16 at (g + 8a)(2t + 8b) = 2gt + 8gb and
// (g + 8a)(2t + 1 + 8b) = g(2t + 1) + 8(gb + a) (mod 16), and W16(m + 8) = -W16(m): the words are the pair
// (W16(2gt), W16(g(2t + 1))) with the signs of its halves flipped by a lane mask (exact in bf16 / fp16; only the sign
// of a zero part can differ from the table's). make_frag_b's register [j][q] (rows 2t + 8q + {0, 1}, col 8j + g) is
// the same word as make_frag_a's j + 2q (the same products of indices); with col 8j + g' (make_frag_b_swap), g' in
// place of g. words[i] = those of make_frag_a's register i for column index gg (g, or g').
template <bool BF16>
__device__ __forceinline__ void frag16_words(const Tw& T, int gg, int t, uint32_t (&re)[4], uint32_t (&im)[4]) {
  const float2 w0 = w16(T, (2 * t * gg) & 15), w1 = w16(T, ((2 * t + 1) * gg) & 15);
  const uint32_t r = pack2<BF16>(w0.x, w1.x), m = pack2<BF16>(w0.y, w1.y);
  const uint32_t gm = (gg & 1) ? 0x80008000u : 0u, hi = 0x80000000u;
  re[0] = r; re[1] = r ^ hi; re[2] = r ^ gm; re[3] = r ^ gm ^ hi;
  im[0] = m; im[1] = m ^ hi; im[2] = m ^ gm; im[3] = m ^ gm ^ hi;
}
// make_frag_a from frag16_words (neg = 0x80008000: -F16, make_frag_a_neg's; declared in og.cu)
template <bool BF16>
__device__ __forceinline__ void make_frag_a_lean(const Tw& T, FragA& f, uint32_t neg) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  uint32_t re[4], im[4];
  frag16_words<BF16>(T, g, t, re, im);
#pragma unroll
  for (int i = 0; i < 4; ++i) { f.re[i] = re[i] ^ neg; f.im[i] = im[i] ^ neg; f.nim[i] = im[i] ^ neg ^ 0x80008000u; }
}
// make_frag_b (gg = g) or make_frag_b_swap (gg = g ^ (g >> 2)) from frag16_words
template <bool BF16>
__device__ __forceinline__ void make_frag_b_lean(const Tw& T, FragB& f, int gg) {
  const int t = threadIdx.x & 3;
  uint32_t re[4], im[4];
  frag16_words<BF16>(T, gg, t, re, im);
#pragma unroll
  for (int j = 0; j < 2; ++j)
#pragma unroll
    for (int q = 0; q < 2; ++q) {
      f.re[j][q] = re[j + 2 * q]; f.im[j][q] = im[j + 2 * q]; f.nim[j][q] = im[j + 2 * q] ^ 0x80008000u;
    }
}

// F16 as a B operand with the columns of each 8-column tile permuted by g ^ (g >> 2) (4 <-> 5, 6 <-> 7): the MMA's
// output columns 2t, 2t + 1 swap for lanes t >= 2 (make_frag_b's construction, the column index changed).
template <bool BF16>
__device__ __forceinline__ void make_frag_b_swap(const Tw& T, FragB& f) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int j = 0; j < 2; ++j)
#pragma unroll
    for (int q = 0; q < 2; ++q) {
      const int row = 2 * t + 8 * q, col = 8 * j + (g ^ (g >> 2));
      const float2 w0 = w16(T, (row * col) & 15), w1 = w16(T, ((row + 1) * col) & 15);
      f.re[j][q] = pack2<BF16>(w0.x, w1.x);
      f.im[j][q] = pack2<BF16>(w0.y, w1.y);
    }
}

// -F16 as an A operand (make_frag_a's layout, re and im negated): the S = 16 forward stage computes -Y and the product
// takes -(Kf + d) (exact sign flips). With F16 itself the compiler merges make_frag_b's registers into make_frag_a's
// (the same values: the same products of indices) and re-pairs them by 2 MOVs per MMA (39 per chunk at 8K).
template <bool BF16>
__device__ __forceinline__ void make_frag_a_neg(const Tw& T, FragA& f) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int row = g + 8 * (i & 1), col = 2 * t + 8 * (i >> 1);
    const float2 w0 = w16(T, (row * col) & 15), w1 = w16(T, (row * (col + 1)) & 15);
    f.re[i] = pack2<BF16>(-w0.x, -w1.x);
    f.im[i] = pack2<BF16>(-w0.y, -w1.y);
  }
}

// mma_f16 (monarch_pair.cuh) with F16's B operand from a FragB: column tile j of X @ F16 (FWD) or X @ conj(F16).
template <bool BF16, bool FWD>
__device__ __forceinline__ void mma_f16b(const FragB& G, int j, const uint32_t (&xr)[4], const uint32_t (&xi)[4],
                                         const uint32_t (&xn)[4], float (&dr)[4], float (&di)[4]) {
#pragma unroll
  for (int q = 0; q < 4; ++q) { dr[q] = 0.f; di[q] = 0.f; }
  mma16816<BF16>(dr, xr, G.re[j][0], G.re[j][1]);
  mma16816<BF16>(dr, FWD ? xn : xi, G.im[j][0], G.im[j][1]);
  mma16816<BF16>(di, FWD ? xr : xn, G.im[j][0], G.im[j][1]);
  mma16816<BF16>(di, xi, G.re[j][0], G.re[j][1]);
}

__device__ __forceinline__ void st16(unsigned short* p, float v, std::true_type) {
  const __nv_bfloat16 b = __float2bfloat16_rn(v); *p = *reinterpret_cast<const unsigned short*>(&b);
}
__device__ __forceinline__ void st16(unsigned short* p, float v, std::false_type) {
  const __half h = __float2half_rn(v); *p = *reinterpret_cast<const unsigned short*>(&h);
}

// The register unit of the staged scheme (conv256_og<BF16, false, true>: the skip term d on the spectrum), see the top.
template <bool BF16, bool LF, typename ST>
__device__ void conv256_ru(const Tw& T, const float2* tw256, ST* zr, ST* zi, int N, float scale,
                           const float2* __restrict__ k, float conj, float d) {
  static_assert(sizeof(ST) == 2 && (BF16 == std::is_same<ST, __nv_bfloat16>::value), "16-bit planes of the compute type");
  constexpr uint32_t NEG2 = 0x80008000u;
  constexpr bool FOLD = BF16;   // as conv256_og with DSKIP: bf16 moves the S = 16 stage's scale onto the product's
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  FragA F; FragB G, S;
  if constexpr (LF) {   // _rul: the same words from 4 table values instead of 24 (frag16_words above)
    make_frag_a_lean<BF16>(T, F, NEG2); make_frag_b_lean<BF16>(T, G, g); make_frag_b_lean<BF16>(T, S, g ^ (g >> 2));
  } else {
    make_frag_a_neg<BF16>(T, F);   // the S = 16 forward stage: -F16 @ X (A operand)
    make_frag_b<BF16>(T, G);       // X @ F16 and X @ conj(F16) (B operand)
    make_frag_b_swap<BF16>(T, S);  // the last inverse stage, its output columns swapped for lanes t >= 2
  }
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  const float2* tl = tw256 + lane;
  const float2* kl = k + g * 16 + 2 * t;
  const int s = t >> 1, offA = 33 * t + g + 16 * s, offB = 33 * t + g + 16 - 16 * s;
  const uint32_t sel = s ? 0x1054u : 0x5410u;   // (A, B) -> (row 2t, row 2t + 1) as (lo, hi)
  const float sp = FOLD ? scale * scale : scale, nsp = -sp, ndsp = -(d * sp), ncsp = -(conj * sp);
  unsigned short* const r16 = reinterpret_cast<unsigned short*>(zr);
  unsigned short* const i16 = reinterpret_cast<unsigned short*>(zi);
  using IsBf = std::integral_constant<bool, BF16>;
  for (int chunk = warp; chunk < (N >> 8); chunk += nw) {
    const int cb = 264 * chunk;   // SIDX(256 chunk)
    unsigned short* const ra = r16 + cb + offA; unsigned short* const rb = r16 + cb + offB;
    unsigned short* const ia = i16 + cb + offA; unsigned short* const ib = i16 + cb + offB;
    float4 kv[2][2];   // [j][hh]: the lane's spectrum values kl[256 chunk + 128 hh + 8 j + {0, 1}]
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) kv[j][hh] = *reinterpret_cast<const float4*>(kl + (chunk << 8) + 128 * hh + 8 * j);
    // S = 16 forward stage: X's B operand of column tile j (rows 2t + 8h + {0,1}, col 8j + g) at SIDX offsets
    // 33t + g + 132h + 8j (+ 16 for the odd row)
    uint32_t xr[2][2], xi[2][2];
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int c = 132 * h + 8 * j;
        xr[j][h] = __byte_perm(ra[c], rb[c], sel);
        xi[j][h] = __byte_perm(ia[c], ib[c], sel);
      }
    uint32_t yr[4], yi[4];   // -Y
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float dr[4] = {0.f, 0.f, 0.f, 0.f}, di[4] = {0.f, 0.f, 0.f, 0.f};
      mma16816<BF16>(dr, F.re, xr[j][0], xr[j][1]);
      mma16816<BF16>(dr, F.im, xi[j][0] ^ NEG2, xi[j][1] ^ NEG2);
      mma16816<BF16>(di, F.re, xi[j][0], xi[j][1]);
      mma16816<BF16>(di, F.im, xr[j][0], xr[j][1]);
      float a[4], b[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const float2 w = tl[(4 * j + q) * 32];
        a[q] = dr[q] * w.x - di[q] * w.y;
        b[q] = dr[q] * w.y + di[q] * w.x;
        if (!FOLD) { a[q] *= scale; b[q] *= scale; }
      }
      yr[2 * j] = pack2<BF16>(a[0], a[1]); yr[2 * j + 1] = pack2<BF16>(a[2], a[3]);
      yi[2 * j] = pack2<BF16>(b[0], b[1]); yi[2 * j + 1] = pack2<BF16>(b[2], b[3]);
    }
    // S = 1 forward stage (of -Y) and the product with -(Kf + d) sp
    uint32_t yn[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) yn[i] = yi[i] ^ NEG2;
    uint32_t pr[4], pi[4];
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float kx[4], ky[4];
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) {
        kx[2 * hh] = fmaf(kv[j][hh].x, nsp, ndsp); ky[2 * hh] = kv[j][hh].y * ncsp;
        kx[2 * hh + 1] = fmaf(kv[j][hh].z, nsp, ndsp); ky[2 * hh + 1] = kv[j][hh].w * ncsp;
      }
      float dr[4], di[4];
      mma_f16b<BF16, true>(G, j, yr, yi, yn, dr, di);
      float a[4], b[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        a[q] = dr[q] * kx[q] - di[q] * ky[q];
        b[q] = dr[q] * ky[q] + di[q] * kx[q];
      }
      pr[2 * j] = pack2<BF16>(a[0], a[1]); pr[2 * j + 1] = pack2<BF16>(a[2], a[3]);
      pi[2 * j] = pack2<BF16>(b[0], b[1]); pi[2 * j + 1] = pack2<BF16>(b[2], b[3]);
    }
    // inverse S = 1 stage (pair_inv_stages' arithmetic): W = P @ conj(F16), conj(w256), W^T by movmatrix
    uint32_t pn[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) pn[i] = pr[i] ^ NEG2;
    uint32_t wr[4], wi[4];
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float dr[4], di[4];
      mma_f16b<BF16, false>(G, j, pr, pi, pn, dr, di);
      float a[4], b[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const float2 w = tl[(4 * j + q) * 32];
        a[q] = dr[q] * w.x + di[q] * w.y;
        b[q] = di[q] * w.x - dr[q] * w.y;
      }
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        wr[2 * h + j] = trans8x8(pack2<BF16>(a[2 * h], a[2 * h + 1]));
        wi[2 * h + j] = trans8x8(pack2<BF16>(b[2 * h], b[2 * h + 1]));
      }
    }
    uint32_t wn[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) wn[i] = wr[i] ^ NEG2;
    __syncwarp();   // every lane's loads of this chunk are done before any lane stores into it
    // inverse S = 16 stage: V^T = W^T @ conj(F16); V^T[g + 8 (q >> 1)][8j + 2t + (q & 1)] at SIDX offset
    // 33t + g + 132j + 16 (q & 1) + 8 (q >> 1); lanes t >= 2 hold column 8j + 2t + 1 - (q & 1) (S's swap)
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float dr[4], di[4];
      mma_f16b<BF16, false>(S, j, wr, wi, wn, dr, di);
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const int c = 132 * j + 8 * (q >> 1);
        st16(((q & 1) ? rb : ra) + c, dr[q], IsBf{});
        st16(((q & 1) ? ib : ia) + c, di[q], IsBf{});
      }
    }
  }
}

// The _rup kernels' staging (og.cu's StageBuf; og_forward's PF with 16-bit I/O and 16-byte rows): stage_in's loop
// waited on one HBM round trip per 16-byte load and thread before its stores (bench-runs/final-s8b's ncu at 4K: 15 % of
// the stall samples, half of them long scoreboard on the first store), 4 in a row at 8K. Here a thread's loads of a
// group (4 vectors of 8 values) are all in flight before the first store, and the block's first pair's first group is
// loaded before the twiddle tables are built (og_forward), under tw_init / tw256_init. The stores are stage_in<RAW>'s.
template <typename IO>
__device__ __forceinline__ void StageBuf<IO>::load(const IO* __restrict__ u0, const IO* __restrict__ u1, int L, int half,
                                                   int grp) {
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    const int n = 8 * (threadIdx.x + (4 * grp + k) * blockDim.x);
    a[k] = b[k] = make_uint4(0u, 0u, 0u, 0u);
    if (n < half && n < L) {   // L % 8 == 0 (vec): a vector is all in or all out
      a[k] = *reinterpret_cast<const uint4*>(u0 + n);
      if (u1 != nullptr) b[k] = *reinterpret_cast<const uint4*>(u1 + n);
    }
  }
}
// LOADED: group 0's stores from the loads already made (og_forward, after the tables); else groups g0, g0 + 1, ...,
// each loaded and stored (og_forward's pairs; g0 = 1 for the block's first pair).
template <typename IO>
template <bool LOADED, typename ST>
__device__ __forceinline__ void StageBuf<IO>::stage(ST* zr, ST* zi, const IO* __restrict__ u0, const IO* __restrict__ u1,
                                                    int L, int half, int g0) {
  static_assert(sizeof(IO) == 2 && sizeof(ST) == 2, "the 16-bit input's bits into the 16-bit planes");
  unsigned short* const r16 = reinterpret_cast<unsigned short*>(zr);
  unsigned short* const i16 = reinterpret_cast<unsigned short*>(zi);
  for (int grp = LOADED ? 0 : g0; 32 * grp * (int)blockDim.x < half && (!LOADED || grp == 0); ++grp) {
    if (!LOADED) load(u0, u1, L, half, grp);
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const int n = 8 * (threadIdx.x + (4 * grp + k) * blockDim.x);
      if (n >= half) continue;
      unsigned short* const pr = r16 + SIDX(n);   // SIDX(n + i) = SIDX(n) + i for i < 8 (n a multiple of 8)
      unsigned short* const pi = i16 + SIDX(n);
      const uint32_t wa[4] = {a[k].x, a[k].y, a[k].z, a[k].w}, wb[4] = {b[k].x, b[k].y, b[k].z, b[k].w};
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        pr[2 * i] = (unsigned short)wa[i]; pr[2 * i + 1] = (unsigned short)(wa[i] >> 16);
        pi[2 * i] = (unsigned short)wb[i]; pi[2 * i + 1] = (unsigned short)(wb[i] >> 16);
      }
    }
  }
}

}  // namespace og

#define OG_FWD_RU(NAME, R, IO, CM, ST, MAXT, MINB, TF, LF, PF, SY)                                             \
  extern "C" __global__ void __launch_bounds__(MAXT, MINB) NAME(                                          \
      const IO* __restrict__ u, const float2* __restrict__ kf,                                          \
      const float* __restrict__ D, IO* __restrict__ y, int B, int H, int L, int log2N, int flags) {    \
    og_forward<R, IO, CM, ST, true, true, TF, LF, PF, SY>(u, kf, D, y, B, H, L, flags);           \
  }
// name: fbog_fwd_<io>_<compute>_r<R1>_ru (the staged scheme, computed outer twiddles, conv256_ru; flags bit 5 ignored);
// _rua: also the first and last stage's twiddles by recurrence (og.cu's TwFirst, TF) instead of table lookups;
// _rul: _rua with F16's fragments from 2 table values per lane and set (frag16_words, LF) and the forward outer
// units' stores as 16-bit pairs on every other unit (u / 4 even: 4-byte aligned), and with 16-bit I/O the staged input's
// bits stored as they are (og.cu's stage_in RAW: no fp32 round trip, one address per 8 values)
// _rup: _rul with 16-bit I/O's staging loads all in flight, the first pair's before the tables (StageBuf above), and no
// d 0 + y in og_inv (the staged scheme's skip term rides on the spectrum). fp32 I/O: _rul's code but for the latter.
// _rus (N = 8K only; helper f4k4): _rup with the outer units' first/last-stage twiddles of positions m + 2048 rotated from
// those of m (og.cu's TwFirst::sym: w_N(m + N/4) = -i w_N(m)), two recurrence products per unit instead of four.
#define OG_FWD_RU_IO(IO_T, CM_T, IO, CM, ST)                                                                     \
  OG_FWD_RU(fbog_fwd_##IO_T##_##CM_T##_r2_ru, 2, IO, CM, ST, 128, 5, false, false, false, false)                                 \
  OG_FWD_RU(fbog_fwd_##IO_T##_##CM_T##_r4_ru, 4, IO, CM, ST, 128, 3, false, false, false, false)                                 \
  OG_FWD_RU(fbog_fwd_##IO_T##_##CM_T##_r2_rua, 2, IO, CM, ST, 128, 5, true, false, false, false)                                 \
  OG_FWD_RU(fbog_fwd_##IO_T##_##CM_T##_r4_rua, 4, IO, CM, ST, 128, 3, true, false, false, false)                          \
  OG_FWD_RU(fbog_fwd_##IO_T##_##CM_T##_r2_rul, 2, IO, CM, ST, 128, 5, true, true, false, false)                           \
  OG_FWD_RU(fbog_fwd_##IO_T##_##CM_T##_r4_rul, 4, IO, CM, ST, 128, 3, true, true, false, false)                           \
  OG_FWD_RU(fbog_fwd_##IO_T##_##CM_T##_r2_rup, 2, IO, CM, ST, 128, 5, true, true, true, false)                     \
  OG_FWD_RU(fbog_fwd_##IO_T##_##CM_T##_r4_rup, 4, IO, CM, ST, 128, 3, true, true, true, false)                    \
  OG_FWD_RU(fbog_fwd_##IO_T##_##CM_T##_r2_rus, 2, IO, CM, ST, 128, 5, true, true, true, true)
OG_FWD_RU_IO(bf16, bf16, __nv_bfloat16, 2, __nv_bfloat16)
OG_FWD_RU_IO(f16, f16, __half, 1, __half)
OG_FWD_RU_IO(f32, bf16, float, 2, __nv_bfloat16)
OG_FWD_RU_IO(f32, f16, float, 1, __half)
