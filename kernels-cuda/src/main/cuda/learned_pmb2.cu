// Shapes: as learned_pmb.cu (B batch, H channels, L length; M = N / 2 = R1 16^(J-1), J factors, one pass M = 2048 .. 32768),
// plus G row groups per channel (grid (H, G), G <= B): CTA (h, g) runs the rows b = g, g + G, .. of channel h; its index
// cta = g H + h.
//   u, dy, du : (B, H, L) bf16 / fp16.      mats, madj, pq, pqAdj, D: as learned_pmb.cu.
//   dpqw      : (G, H, M) float4: per CTA the sum over its rows of {dP_p, dQ_p} (G = 1: the (H, M) result itself;
//               G > 1: partials, summed by lpmb2_dpq_reduce into (H, M)).
//   scratch   : (G H, 2J, 2, M) of the I/O type (per CTA, as learned_pmb.cu's per channel).   cs: (G H, M) float2.
//   part      : (G H, 2J, 16, 16) float2: per CTA the 2J stage Grams (lpmb_reduce sums them over its "H" = G H entries).
//
// Helper pkbwdopt (session 15): variants of learned_pmb.cu's backward (lpmb_bwd_*, their slow twin; PackedMonarchConv.
// bwdFast / bwdRegCap / bwdGroups select them). Same decomposition, same stage code (learned_pm.cu's unfused stages), so
// du is the twin's up to the fp32 summation order of dP / dQ and the Grams. Changes:
//   - G row groups per channel (grid (H, G)): more CTAs where H CTAs leave resident slots empty or a short last wave
//     (slots = SMs x CTAs per SM, set by registers and shared memory);
//   - register caps (kernel suffix _r0 = __launch_bounds__(512, 1) as the twin, _r80 = __maxnreg__(80): 3 CTAs of 256
//     threads or 6 of 128 per SM by registers where the twin's 116-119 registers give 2 / 4), 0 spills (ptxas report);
//   - the dumps with one 16-byte global store per 8 positions and plane (pmb2_dump; the twin: one 2-byte store each);
//   - the Grams' operands as raw 16-bit pairs where no twiddle applies (pmb2_gram: the scratch operand by one 32-bit load
//     per pair when the pair is adjacent, S >= 2; the shared-memory operand by monarch.cuh's ld_pack2) — the same bits as
//     the twin's pack2(ld, ld), since the stored values are already 16-bit of the operand type;
//   - flags PMB2_FUSE (a variant, correct): 5 of the 8J + 7 block-wide passes per row fewer: X_1's dump folded into u's
//     pack, C's save and W_J's dump into the pair map, dP / dQ into the adjoint pair map (pmb2_pack_dump, pmb2_pair_c,
//     pmb2_dpq_pair; the same values bit for bit), and the recompute's last inverse stage (s = 1: its output E = y is
//     not used, only W_1, dumped before it) left out;
//   - flags for timing only (a set bit gives WRONG gradients): PMB2_NO_GRAM skips the 2J Grams, PMB2_NO_DUMP the 2J dumps,
//     PMB2_NO_DPQ the C save and the dP / dQ update: the time of each piece by difference (PackedMonarchBwdBench).
// Helper pmb (session 18): PMB2_SG (template; kernels _sg, PackedMonarchBackward.stageGram): the Grams of the stages on
// tensor cores taken inside those stages from the tile operands they load anyway (pmb3_stage_a / pmb3_stage_b, see there):
// of the 2J Gram passes per row (each a block-wide pass over the planes plus a barrier) only stage 1's two stay at R1 < 16;
// flag PMB2_PRETW (SG kernels only): V_s dumped with its twiddle (pmb3_dump_tw), section B's Grams on raw operands.
#define LPMB_TEMPLATES_ONLY
#include "learned_pmb.cu"

constexpr int PMB2_NO_GRAM = 1, PMB2_NO_DUMP = 2, PMB2_NO_DPQ = 4, PMB2_FUSE = 8, PMB2_PRETW = 16;

// ---- PMB2_FUSE: three block-wide passes per row folded into their neighbours (the same values, bit for bit) ----------
// pack u with X_1's dump (x1r, x1i: scratch slot 0; the packed values are already 16-bit). Ends with a barrier.
template <typename IO, typename ST>
__device__ __forceinline__ void pmb2_pack_dump(const IO* __restrict__ x, ST* zr, ST* zi, IO* x1r, IO* x1i, int L, int M) {
  for (int m = threadIdx.x; m < M; m += blockDim.x) {
    const float vr = 2 * m < L ? ld(x + 2 * m) : 0.f, vi = 2 * m + 1 < L ? ld(x + 2 * m + 1) : 0.f;
    st(zr + SIDX(m), vr); st(zi + SIDX(m), vi);
    if (x1r != nullptr) { st(x1r + m, vr); st(x1i + m, vi); }
  }
  __syncthreads();
}

// The pair map with C's save (c: C x M, fp32, or nullptr) and W_J's dump (wr, wi: scratch slot 2J - 1, or nullptr): the
// thread of position p does the pair {p, s(p)} when p <= s(p), as pmb_pair. Ends with a barrier.
template <typename IO, typename ST>
__device__ __forceinline__ void pmb2_pair_c(const float4* __restrict__ cf, ST* zr, ST* zi, float2* c, IO* wr, IO* wi, float fM, int M,
                                            int lR1, int J) {
  for (int p = threadIdx.x; p < M; p += blockDim.x) {
    const int q = pm_pos((M - pm_freq(p, lR1, J)) & (M - 1), lR1, J);
    if (q < p) continue;
    const float4 cp = cf[p], cq = cf[q];
    const float ar = ld(zr + SIDX(p)), ai = ld(zi + SIDX(p)), br = ld(zr + SIDX(q)), bi = ld(zi + SIDX(q));
    if (c != nullptr) { c[p] = make_float2(ar * fM, ai * fM); c[q] = make_float2(br * fM, bi * fM); }
    const float pr = cp.x * ar - cp.y * ai + cp.z * br + cp.w * bi, pi = cp.x * ai + cp.y * ar - cp.z * bi + cp.w * br;
    const float qr = cq.x * br - cq.y * bi + cq.z * ar + cq.w * ai, qi = cq.x * bi + cq.y * br - cq.z * ai + cq.w * ar;
    st(zr + SIDX(p), pr); st(zi + SIDX(p), pi);
    if (q != p) { st(zr + SIDX(q), qr); st(zi + SIDX(q), qi); }
    if (wr != nullptr) {   // W_J = C' as the plane holds it (a 16-bit plane rounded it already: the same bits either way)
      st(wr + p, ld(zr + SIDX(p))); st(wi + p, ld(zi + SIDX(p)));
      if (q != p) { st(wr + q, ld(zr + SIDX(q))); st(wi + q, ld(zi + SIDX(q))); }
    }
  }
  __syncthreads();
}

// {dP, dQ} of the pair {p, s(p)} (gpq: += unless first; skipped when gpq is nullptr), then the adjoint pair map on it.
// Ends with a barrier.
template <typename ST>
__device__ __forceinline__ void pmb2_dpq_pair(const float4* __restrict__ ca, ST* zr, ST* zi, const float2* c, float4* gpq, bool first,
                                              int M, int lR1, int J) {
  for (int p = threadIdx.x; p < M; p += blockDim.x) {
    const int q = pm_pos((M - pm_freq(p, lR1, J)) & (M - 1), lR1, J);
    if (q < p) continue;
    if (gpq != nullptr) {
      const float2 a = c[p], sq = c[q];
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        if (e == 1 && q == p) break;
        const int x = e ? q : p;
        const float2 cx = e ? sq : a, cy = e ? a : sq;   // C at x and at s(x)
        const float gr = ld(zr + SIDX(x)), gi = ld(zi + SIDX(x));
        const float4 d = make_float4(gr * cx.x + gi * cx.y, gi * cx.x - gr * cx.y, gr * cy.x - gi * cy.y, gr * cy.y + gi * cy.x);
        if (first) gpq[x] = d;
        else { const float4 o = gpq[x]; gpq[x] = make_float4(o.x + d.x, o.y + d.y, o.z + d.z, o.w + d.w); }
      }
    }
    pm_pair_at(ca[p], ca[q], zr, zi, p, q);
  }
  __syncthreads();
}

// The shared planes to a scratch slot: 8 positions per thread, one 16-byte store per plane (XT 16-bit, M a multiple of 8,
// the slot 16-byte aligned). The same values as pmb_dump (st rounds once from the fp32 or 16-bit plane value). No barrier.
template <typename ST, typename XT>
__device__ __forceinline__ void pmb2_dump(const ST* zr, const ST* zi, XT* xr, XT* xi, int M) {
  static_assert(sizeof(XT) == 2, "16-bit scratch");
  for (int v = threadIdx.x; v < (M >> 3); v += blockDim.x) {
    const int p0 = v << 3;
    uint4 wr, wi;
    XT* er = reinterpret_cast<XT*>(&wr);
    XT* ei = reinterpret_cast<XT*>(&wi);
#pragma unroll
    for (int e = 0; e < 8; ++e) { st(er + e, ld(zr + SIDX(p0 + e))); st(ei + e, ld(zi + SIDX(p0 + e))); }
    *reinterpret_cast<uint4*>(xr + p0) = wr;
    *reinterpret_cast<uint4*>(xi + p0) = wi;
  }
}

// pmb_gram (learned_pmb.cu: the same Gram, layout, tiles and atomics) with raw 16-bit operand pairs where no twiddle
// applies: G (shared) by ld_pack2 when !twG; X (scratch, XT the operand type) by one 32-bit load per pair when !twX and
// S >= 2 (col even, so the pair's positions p, p + 1 are adjacent and p is even); -X's imaginary part by flipping the
// two sign bits (pack2(-a, -b) of 16-bit a, b). Ends without a barrier.
template <bool BF16, typename ST, typename XT>
__device__ void pmb2_gram(const Tw& T, const ST* zr, const ST* zi, const XT* xr, const XT* xi, int lR, int lS, int log2M, bool twG,
                          bool twX, float* acc) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  const int R = 1 << lR, S = 1 << lS, lMs = lR + lS, tiles = 1 << (log2M - lR - 4), nj = R > 8 ? 2 : 1;
  constexpr uint32_t NEG2 = 0x80008000u;
  if (warp >= tiles) return;
  float dr[2][4], di[2][4];
  pmb_gram_zero(dr, di);
  for (int tile = warp; tile < tiles; tile += nw) {
    const int col0 = tile << 4;
    uint32_t ar[4], ai[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int k = g + 8 * (i & 1);
      ar[i] = 0u; ai[i] = 0u;
      if (k < R) {
        const int col = col0 + 2 * t + 8 * (i >> 1), c = col & (S - 1);
        const int p0 = ((col >> lS) << lMs) + k * S + c, p1 = (((col + 1) >> lS) << lMs) + k * S + ((col + 1) & (S - 1));
        if (!twG) {
          ar[i] = ld_pack2<BF16>(zr + SIDX(p0), zr + SIDX(p1));
          ai[i] = ld_pack2<BF16>(zi + SIDX(p0), zi + SIDX(p1));
        } else {
          float re[2], im[2];
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const int p = e ? p1 : p0, ce = (col + e) & (S - 1);
            float vr = ld(zr + SIDX(p)), vi = ld(zi + SIDX(p));
            pmb_twc(T, (k * ce) & ((1 << lMs) - 1), lMs, vr, vi);
            re[e] = vr; im[e] = vi;
          }
          ar[i] = pack2<BF16>(re[0], re[1]);
          ai[i] = pack2<BF16>(im[0], im[1]);
        }
      }
    }
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      if (j >= nj) break;
      uint32_t br[2], bi[2], bn[2];
      const int n = 8 * j + g;
#pragma unroll
      for (int q = 0; q < 2; ++q) {
        br[q] = 0u; bi[q] = 0u;
        if (n < R) {
          const int col = col0 + 2 * t + 8 * q, c = col & (S - 1), p = ((col >> lS) << lMs) + n * S + c;
          if (!twX && S >= 2) {
            br[q] = *reinterpret_cast<const uint32_t*>(xr + p);
            bi[q] = *reinterpret_cast<const uint32_t*>(xi + p);
          } else {
            float re[2], im[2];
#pragma unroll
            for (int e = 0; e < 2; ++e) {
              const int ce = (col + e) & (S - 1), pe = (((col + e) >> lS) << lMs) + n * S + ce;
              float vr = ld(xr + pe), vi = ld(xi + pe);
              if (twX) pmb_twc(T, (n * ce) & ((1 << lMs) - 1), lMs, vr, vi);
              re[e] = vr; im[e] = vi;
            }
            br[q] = pack2<BF16>(re[0], re[1]);
            bi[q] = pack2<BF16>(im[0], im[1]);
          }
        }
        bn[q] = bi[q] ^ NEG2;
      }
      mma16816<BF16>(dr[j], ar, br[0], br[1]);
      mma16816<BF16>(dr[j], ai, bi[0], bi[1]);
      mma16816<BF16>(di[j], ai, br[0], br[1]);
      mma16816<BF16>(di[j], ar, bn[0], bn[1]);
    }
  }
  pmb_gram_out(dr, di, g, t, R, acc);
}

// ---- helper pmb (session 18): the Grams inside the stages (PMB2_SG, kernels lpmb2_bwd_*_r80_sg) ----------------------
// A stage s >= 2 (or s = 1 at R1 = 16) loads its input tile into mma.sync operands anyway — raw in the dy chain's
// forward-structured stages (section B, where the Gram's G is the raw stage input) and times conj(T_s) in the adjoint
// inverse stages (section C, where G is conj(T_s) o the stage input): the same 16-bit values pmb2_gram builds from a
// second pass over the planes (same loads, same twiddle expression, same rounding). These stages take the Gram of each
// tile they hold: the tile's operand registers, transposed per 8 x 8 block (movmatrix), are G's A operand; X comes from
// the scratch as in pmb2_gram. The stage's products and stores are those of lm_stage_a / lm_stage_b (one tile in flight
// per warp), so du and the planes are the twin's bit for bit; a Gram sums the same 16-bit products in another fp32 order.
// Stage J (lm_stage_b, the contiguous axis) and stages 1 .. J-1 (lm_stage_a) are fused; stage 1 at R1 < 16 (pm_first on
// CUDA cores) keeps pmb2_gram.

// d += a (16 x 8, row: regs {row g, row g + 8}, cols 2t + {0, 1}) * b (8 x 8, col: rows 2t + {0, 1}, col g), fp32.
template <bool BF16>
__device__ __forceinline__ void mma1688(float (&d)[4], uint32_t a0, uint32_t a1, uint32_t b) {
  if constexpr (BF16) {
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]) : "r"(a0), "r"(a1), "r"(b));
  } else {
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]) : "r"(a0), "r"(a1), "r"(b));
  }
}

// (vr, vi) times w_(2^lM)^num scale (twiddle<true>, sign -1, the factor scaled first): tiles_a's forward store.
__device__ __forceinline__ void pmb3_tws(const Tw& T, int num, int lM, float scale, float& vr, float& vi) {
  float tc, ts; twiddle<true>(T, num, lM, -1.0f, tc, ts);
  tc *= scale; ts *= scale;
  const float a = vr * tc - vi * ts; vi = vr * ts + vi * tc; vr = a;
}

// d += A conj(B) for one column half: Re += Ar Br + Ai Bi, Im += Ai Br - Ar Bi (bn = -Bi), pmb2_gram's four products.
template <bool BF16>
__device__ __forceinline__ void pmb3_cmma(float (&dr)[4], float (&di)[4], const uint32_t (&ar)[4], const uint32_t (&ai)[4], const uint32_t (&br)[2],
                                          const uint32_t (&bi)[2], const uint32_t (&bn)[2]) {
  mma16816<BF16>(dr, ar, br[0], br[1]);
  mma16816<BF16>(dr, ai, bi[0], bi[1]);
  mma16816<BF16>(di, ai, br[0], br[1]);
  mma16816<BF16>(di, ar, bn[0], bn[1]);
}

// The Gram accumulators of one warp set to zero.
__device__ __forceinline__ void pmb3_zero(float (&dr)[2][4], float (&di)[2][4]) {
#pragma unroll
  for (int j = 0; j < 8; ++j) { dr[j >> 2][j & 3] = 0.f; di[j >> 2][j & 3] = 0.f; }
}

// The 2 x 2 x 4 Gram accumulators of one warp (row k = g + 8 (q >> 1), column n = 8 j + 2 t + (q & 1)) added to acc
// (shared 16 x 16 float2) by shared-memory atomics, as pmb_gram's end.
__device__ __forceinline__ void pmb3_gram_out(const float (&dr)[2][4], const float (&di)[2][4], float* acc) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int j = 0; j < 2; ++j)
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int k = g + 8 * (q >> 1), n = 8 * j + 2 * t + (q & 1);
      atomicAdd(acc + 2 * (k * 16 + n), dr[j][q]); atomicAdd(acc + 2 * (k * 16 + n) + 1, di[j][q]);
    }
}

// The two scratch values X[n][c], X[n][c + 1] (c even) of the axis-n row at base + n S + c as a 16-bit pair of each plane,
// times conj(w_(Ms)^(n c')) first (c' = c, c + 1) when TWX: pmb2_gram's B operand (raw 32-bit loads when !TWX, S >= 2).
template <bool BF16, bool TWX, typename XT>
__device__ __forceinline__ void pmb3_x_pair(const Tw& T, const XT* xr, const XT* xi, int p, int n, int c, int lMs, uint32_t& br,
                                            uint32_t& bi) {
  if constexpr (!TWX) {
    br = *reinterpret_cast<const uint32_t*>(xr + p);
    bi = *reinterpret_cast<const uint32_t*>(xi + p);
  } else {
    float re[2], im[2];
#pragma unroll
    for (int e = 0; e < 2; ++e) {
      float vr = ld(xr + p + e), vi = ld(xi + p + e);
      pmb_twc(T, (n * (c + e)) & ((1 << lMs) - 1), lMs, vr, vi);
      re[e] = vr; im[e] = vi;
    }
    br = pack2<BF16>(re[0], re[1]);
    bi = pack2<BF16>(im[0], im[1]);
  }
}

// lm_stage_a<BF16, FWD> (left-form 16 x 16 matrix a along the axis of stride S = 2^lS >= 16, O outer blocks, * scale) with
// the Gram of its input (G = the tile operands: raw when FWD, times conj(T_s) when not) against the scratch planes
// (xr, xi) of the same layout (TWX: times conj(T_s) at load, section B) into acc. The stage's values and order of
// operations per element are monarch.cuh tiles_a's (one tile of 16 x 8 per warp at a time). Ends without a barrier.
template <bool BF16, bool FWD, bool TWX, typename ST, typename XT>
__device__ __noinline__ void pmb3_stage_a(const Tw& T, const float2* __restrict__ a, ST* zr, ST* zi, int lS, int O, float scale, const XT* xr,
                             const XT* xi, float* acc) {
  FragA F; lm_frag_a<BF16>(a, !FWD, F);
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  const int S = 1 << lS, Ms = 16 * S, cols = S >> 3, ntiles = O * cols;
  constexpr uint32_t NEG2 = 0x80008000u;
  float gr[2][4], gi[2][4];
  pmb3_zero(gr, gi);
  for (int tile = warp; tile < ntiles; tile += nw) {
    const int o = tile >> (lS - 3), c0 = (tile & (cols - 1)) * 8, base = o * Ms;
    uint32_t x[2][2];   // scratch B operands {re, im} of column half j: X[8j + g][c0 + 2t + {0, 1}]
#pragma unroll
    for (int j = 0; j < 2; ++j) pmb3_x_pair<BF16, TWX, XT>(T, xr, xi, base + (8 * j + g) * S + c0 + 2 * t, 8 * j + g, c0 + 2 * t, lS + 4,
                                                         x[j][0], x[j][1]);
    float br[4], bi[4];
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int r = 2 * t + (q & 1) + 8 * (q >> 1), idx = SIDX(base + r * S + c0 + g);
      br[q] = ld(zr + idx); bi[q] = ld(zi + idx);
      if (!FWD) pmb_twc(T, (r * (c0 + g)) & (Ms - 1), lS + 4, br[q], bi[q]);   // the inverse stage's conj(T_s) at load
    }
    const uint32_t xr0 = pack2<BF16>(br[0], br[1]), xr1 = pack2<BF16>(br[2], br[3]);
    const uint32_t xi0 = pack2<BF16>(bi[0], bi[1]), xi1 = pack2<BF16>(bi[2], bi[3]);
    // G's A operand (rows: axis index k, cols: the tile's 8 columns) = the tile's B operand transposed per 8 x 8 block
    const uint32_t gr0 = trans8x8(xr0), gr1 = trans8x8(xr1), gi0 = trans8x8(xi0), gi1 = trans8x8(xi1);
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      mma1688<BF16>(gr[j], gr0, gr1, x[j][0]);
      mma1688<BF16>(gr[j], gi0, gi1, x[j][1]);
      mma1688<BF16>(gi[j], gi0, gi1, x[j][0]);
      mma1688<BF16>(gi[j], gr0, gr1, x[j][1] ^ NEG2);
    }
    float yr[4], yi[4];
#pragma unroll
    for (int q = 0; q < 4; ++q) { yr[q] = 0.f; yi[q] = 0.f; }
    // tiles_a's products in its order, F.nim x v as F.im x (-v) (the same products: no nim kept live)
    mma16816<BF16>(yr, F.re, xr0, xr1);
    if (FWD) mma16816<BF16>(yr, F.im, xi0 ^ NEG2, xi1 ^ NEG2);
    else     mma16816<BF16>(yr, F.im, xi0, xi1);
    mma16816<BF16>(yi, F.re, xi0, xi1);
    if (FWD) mma16816<BF16>(yi, F.im, xr0, xr1);
    else     mma16816<BF16>(yi, F.im, xr0 ^ NEG2, xr1 ^ NEG2);
    __syncwarp();
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int k = g + 8 * (q >> 1), c = c0 + 2 * t + (q & 1), idx = SIDX(base + k * S + c);
      float vr = yr[q], vi = yi[q];
      if (FWD) pmb3_tws(T, (k * c) & (Ms - 1), lS + 4, scale, vr, vi);   // the forward stage's T_s and 1 / R_s at the store
      st(zr + idx, vr); st(zi + idx, vi);
    }
    __syncwarp();
  }
  if (warp < ntiles) pmb3_gram_out(gr, gi, acc);
}

// lm_stage_b (the contiguous axis, S = 1: X @ a^T per 16 x 16 tile of 16 contiguous rows, * scale) with the Gram of its
// input (no twiddle at S = 1) against the scratch planes into acc: G's A operand (rows: axis index k, cols: the tile's 16
// rows) is the tile's A operand transposed (blocks (0,1) and (1,0) swapped); X[n][m] at base + 16 m + n, two 16-bit loads
// per pair (pmb2_gram's S = 1 path). Ends without a barrier.
template <bool BF16, typename ST, typename XT>
__device__ __noinline__ void pmb3_stage_b(const float2* __restrict__ a, ST* zr, ST* zi, int n, float scale, const XT* xr, const XT* xi, float* acc) {
  PmB F; lm_frag_b<BF16, false>(a, F);   // without nim: pm_mma_b takes -xi (mma_b's products in its order)
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  constexpr uint32_t NEG2 = 0x80008000u;
  float gr[2][4], gi[2][4];
  pmb3_zero(gr, gi);
  for (int tile = warp; tile < (n >> 8); tile += nw) {
    const int base = tile << 8;
    uint32_t tr[4], ti[4];
    load_tile_b<BF16>(zr, zi, base, g, t, tr, ti);
    __syncwarp();
    {
      const uint32_t ar[4] = {trans8x8(tr[0]), trans8x8(tr[2]), trans8x8(tr[1]), trans8x8(tr[3])};
      const uint32_t ai[4] = {trans8x8(ti[0]), trans8x8(ti[2]), trans8x8(ti[1]), trans8x8(ti[3])};
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        uint32_t br[2], bi[2], bn[2];
#pragma unroll
        for (int q = 0; q < 2; ++q) {
          const int p = base + (2 * t + 8 * q) * 16 + 8 * j + g;
          br[q] = pack2<BF16>(ld(xr + p), ld(xr + p + 16));   // the stored 16-bit values: exact
          bi[q] = pack2<BF16>(ld(xi + p), ld(xi + p + 16));
          bn[q] = bi[q] ^ NEG2;
        }
        pmb3_cmma<BF16>(gr[j], gi[j], ar, ai, br, bi, bn);
      }
    }
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float dr[4], di[4];
      const uint32_t tn[4] = {ti[0] ^ NEG2, ti[1] ^ NEG2, ti[2] ^ NEG2, ti[3] ^ NEG2};
      pm_mma_b<BF16>(F, j, tr, ti, tn, dr, di);
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const int idx = SIDX(base + (g + 8 * (q >> 1)) * 16 + 8 * j + 2 * t + (q & 1));
        st(zr + idx, dr[q] * scale); st(zi + idx, di[q] * scale);
      }
    }
    __syncwarp();
  }
  if (warp < (n >> 8)) pmb3_gram_out(gr, gi, acc);
}

// PMB2_PRETW (SG kernels): W_s's dump (s < J: R = 2^lR along the axis of stride S = 2^lS >= 16) stored as V_s = W_s o
// conj(T_s), the operand section B's Gram of stage s takes: the 16-bit dump value (pmb2_dump's rounding) times
// conj(w_(M_s)^(k c)) in fp32 (pmb2_gram's twX expression), rounded once more — the values pmb2_gram builds at every
// load, built once here, so section B's Grams load raw pairs (TWX off). 8 positions per thread (one k, c .. c + 7), 16-byte
// stores. No barrier.
template <typename ST, typename XT>
__device__ __forceinline__ void pmb3_dump_tw(const Tw& T, const ST* zr, const ST* zi, XT* xr, XT* xi, int M, int lR, int lS) {
  static_assert(sizeof(XT) == 2, "16-bit scratch");
  const int lMs = lR + lS;
  for (int v = threadIdx.x; v < (M >> 3); v += blockDim.x) {
    const int p0 = v << 3, k = (p0 >> lS) & ((1 << lR) - 1), c0 = p0 & ((1 << lS) - 1);
    uint4 wr, wi;
    XT* er = reinterpret_cast<XT*>(&wr);
    XT* ei = reinterpret_cast<XT*>(&wi);
#pragma unroll
    for (int e = 0; e < 8; ++e) {
      XT r16, i16;
      st(&r16, ld(zr + SIDX(p0 + e))); st(&i16, ld(zi + SIDX(p0 + e)));
      float vr = ld(&r16), vi = ld(&i16);
      pmb_twc(T, (k * (c0 + e)) & ((1 << lMs) - 1), lMs, vr, vi);
      st(er + e, vr); st(ei + e, vi);
    }
    *reinterpret_cast<uint4*>(xr + p0) = wr;
    *reinterpret_cast<uint4*>(xi + p0) = wi;
  }
}

// Section B's stage s (the dy chain, forward-structured, madj's blocks) with its Gram (slot J + s - 1; G = the stage input,
// X = V_s: W_s times conj(T_s) below J, at load when TWX, else dumped so by pmb3_dump_tw) in the stage: pmb3_stage_b at
// s = J, else pmb3_stage_a (s = 1 only at R1 = 16).
template <bool BF16, bool TWX, typename ST, typename IO>
__device__ __forceinline__ void pmb3_fwd_gram(const Tw& tw, const float2* __restrict__ m, ST* zr, ST* zi, int s, int log2M, int lR1,
                                              int J, const IO* w, float* acc) {
  const int q1 = 1 << (2 * lR1), M = 1 << log2M;
  if (s == J) pmb3_stage_b<BF16, ST, IO>(m + q1 + 256 * (J - 2), zr, zi, M, 1.0f / 16.0f, w, w + M, acc);
  else if (s == 1) pmb3_stage_a<BF16, true, TWX, ST, IO>(tw, m, zr, zi, log2M - 4, 1, 1.0f / 16.0f, w, w + M, acc);
  else pmb3_stage_a<BF16, true, TWX, ST, IO>(tw, m + q1 + 256 * (s - 2), zr, zi, 4 * (J - s), 1 << (4 * (s - 1) - 4 + lR1), 1.0f / 16.0f,
                                             w, w + M, acc);
}

// Section C's stage s (the adjoint inverse stage, im: madj's second half) with its Gram (slot s - 1; G = conj(T_s) o the
// stage input below J, X = X_s) in the stage.
template <bool BF16, typename ST, typename IO>
__device__ __forceinline__ void pmb3_inv_gram(const Tw& tw, const float2* __restrict__ im, ST* zr, ST* zi, int s, int log2M, int lR1,
                                              int J, const IO* x, float* acc) {
  const int q1 = 1 << (2 * lR1), M = 1 << log2M;
  if (s == J) pmb3_stage_b<BF16, ST, IO>(im + q1 + 256 * (J - 2), zr, zi, M, 1.0f, x, x + M, acc);
  else if (s == 1) pmb3_stage_a<BF16, false, false, ST, IO>(tw, im, zr, zi, log2M - 4, 1, 1.0f, x, x + M, acc);
  else pmb3_stage_a<BF16, false, false, ST, IO>(tw, im + q1 + 256 * (s - 2), zr, zi, 4 * (J - s), 1 << (4 * (s - 1) - 4 + lR1), 1.0f,
                                                x, x + M, acc);
}

// learned_pmb.cu's pmb_bwd with row groups, pmb2_dump / pmb2_gram and the timing flags (see the top of the file); SG:
// the Grams of the stages lm_stage_a / lm_stage_b would run in those stages (pmb3_fwd_gram / pmb3_inv_gram).
template <bool BF16, typename IO, typename ST, bool SG>
__device__ __forceinline__ void pmb2_bwd(const IO* __restrict__ u, const IO* __restrict__ dy, const float2* __restrict__ mats,
                         const float2* __restrict__ madj, const float4* __restrict__ pq, const float4* __restrict__ pqAdj,
                         const float* __restrict__ D, IO* __restrict__ du, float4* __restrict__ dpqw, IO* scratch, float2* cs,
                         float2* __restrict__ part, int B, int H, int L, int log2M, int flags) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  const int M = 1 << log2M, P = M + (M >> 5), J = (log2M - 1) / 4 + 1, lR1 = log2M - 4 * (J - 1), R1 = 1 << lR1;
  const int h = blockIdx.x, g = blockIdx.y, G = gridDim.y, T = blockDim.x, q1 = R1 * R1, inv = q1 + 256 * (J - 1);
  const size_t cta = (size_t)g * H + h;
  const bool gram = !(flags & PMB2_NO_GRAM), dump = !(flags & PMB2_NO_DUMP), dpqOn = !(flags & PMB2_NO_DPQ), fuse = flags & PMB2_FUSE;
  const bool pretw = SG && (flags & PMB2_PRETW);   // V_s (s < J) dumped with its twiddle (pmb3_dump_tw)
  ST* zr = reinterpret_cast<ST*>(smem_raw);
  ST* zi = zr + P;
  const int twOff = (2 * P * (int)sizeof(ST) + 15) & ~15;
  const Tw tw = tw_init(reinterpret_cast<float2*>(smem_raw + twOff), log2M);
  float2* s1 = reinterpret_cast<float2*>(smem_raw + twOff + 8 * tw_entries(M));
  float* acc = reinterpret_cast<float*>(smem_raw + pm_smem(log2M, (int)sizeof(ST)));
  if (R1 < 16)
    for (int i = threadIdx.x; i < q1; i += T) {
      s1[i] = mats[i]; s1[q1 + i] = mats[inv + i]; s1[2 * q1 + i] = madj[i]; s1[3 * q1 + i] = madj[inv + i];
    }
  for (int i = threadIdx.x; i < 2 * J * 512; i += T) acc[i] = 0.f;
  IO* xs = scratch + cta * 2 * J * 2 * M;
  float2* c = cs + cta * M;
  float4* gpq = dpqw + cta * M;
  const float4* cf = pq + (size_t)h * M;
  const float4* ca = pqAdj + (size_t)h * M;
  const float d = D[h], fM = (float)M;
  __syncthreads();
  for (int b = g; b < B; b += G) {
    const size_t row = ((size_t)b * H + h) * L;
    if (fuse) pmb2_pack_dump(u + row, zr, zi, dump ? xs : nullptr, dump ? xs + M : nullptr, L, M);
    else pmb_pack(u + row, zr, zi, L, M);
    for (int s = 1; s <= J; ++s) {
      if (dump && !(fuse && s == 1)) { pmb2_dump(zr, zi, xs + 2 * (s - 1) * M, xs + 2 * (s - 1) * M + M, M); __syncthreads(); }
      pmb_fwd<BF16, ST>(tw, mats, s1, zr, zi, s, log2M, lR1, J);
      __syncthreads();
    }
    if (fuse) {
      IO* wJ = xs + 2 * (2 * J - 1) * M;
      pmb2_pair_c<IO, ST>(cf, zr, zi, dpqOn ? c : nullptr, dump ? wJ : nullptr, dump ? wJ + M : nullptr, fM, M, lR1, J);
    } else {
      if (dpqOn) {
        for (int p = threadIdx.x; p < M; p += T) c[p] = make_float2(ld(zr + SIDX(p)) * fM, ld(zi + SIDX(p)) * fM);
        __syncthreads();
      }
      pmb_pair(cf, zr, zi, M, lR1, J);
    }
    for (int s = J; s >= 1; --s) {
      if (dump && !(fuse && s == J)) {
        IO* v = xs + 2 * (J + s - 1) * M;
        if (pretw && s < J) pmb3_dump_tw(tw, zr, zi, v, v + M, M, s == 1 ? lR1 : 4, 4 * (J - s));
        else pmb2_dump(zr, zi, v, v + M, M);
        __syncthreads();
      }
      if (fuse && s == 1) break;   // W_0 = E (the forward's output) is not needed: only the stage inputs are
      pmb_inv<BF16, ST>(tw, mats + inv, s1 + q1, zr, zi, s, log2M, lR1, J);
      __syncthreads();
    }
    pmb_pack(dy + row, zr, zi, L, M);
    for (int s = 1; s <= J; ++s) {
      const int lR = s == 1 ? lR1 : 4, lS = 4 * (J - s);
      const IO* w = xs + 2 * (J + s - 1) * M;
      if (SG && gram && (s > 1 || lR1 == 4)) {
        if (pretw) pmb3_fwd_gram<BF16, false, ST, IO>(tw, madj, zr, zi, s, log2M, lR1, J, w, acc + 512 * (J + s - 1));
        else pmb3_fwd_gram<BF16, true, ST, IO>(tw, madj, zr, zi, s, log2M, lR1, J, w, acc + 512 * (J + s - 1));
      } else {
        if (gram) { pmb2_gram<BF16, ST, IO>(tw, zr, zi, w, w + M, lR, lS, log2M, false, s < J && !pretw, acc + 512 * (J + s - 1)); __syncthreads(); }
        pmb_fwd<BF16, ST>(tw, madj, s1 + 2 * q1, zr, zi, s, log2M, lR1, J);
      }
      __syncthreads();
    }
    if (fuse) pmb2_dpq_pair(ca, zr, zi, c, dpqOn ? gpq : nullptr, b == g, M, lR1, J);
    else {
    if (dpqOn) {
      pmb_dpq(zr, zi, c, gpq, b == g, M, lR1, J);
      __syncthreads();
    }
    pmb_pair(ca, zr, zi, M, lR1, J);
    }
    for (int s = J; s >= 1; --s) {
      const int lR = s == 1 ? lR1 : 4, lS = 4 * (J - s);
      const IO* x = xs + 2 * (s - 1) * M;
      if (SG && gram && (s > 1 || lR1 == 4)) pmb3_inv_gram<BF16, ST, IO>(tw, madj + inv, zr, zi, s, log2M, lR1, J, x, acc + 512 * (s - 1));
      else {
        if (gram) { pmb2_gram<BF16, ST, IO>(tw, zr, zi, x, x + M, lR, lS, log2M, s < J, false, acc + 512 * (s - 1)); __syncthreads(); }
        pmb_inv<BF16, ST>(tw, madj + inv, s1 + 3 * q1, zr, zi, s, log2M, lR1, J);
      }
      __syncthreads();
    }
    pmb_unpack_du(dy + row, du + row, zr, zi, d, L);
    __syncthreads();
  }
  float2* pp = part + cta * 2 * J * 256;
  for (int i = threadIdx.x; i < 2 * J * 256; i += T) pp[i] = make_float2(acc[2 * i], acc[2 * i + 1]);
}

// Grid (H, G), G <= B; block 128 / 256 / 512 threads; dynamic shared memory pmb_smem(log2M, sizeof(ST), J) (learned_pmb.cu).
#define LPMB2(NAME, QUAL, BF, IO, ST, SG)                                                                            \
  extern "C" __global__ void QUAL NAME(const IO* __restrict__ u, const IO* __restrict__ dy,                           \
      const float2* __restrict__ mats, const float2* __restrict__ madj, const float4* __restrict__ pq,                 \
      const float4* __restrict__ pqAdj, const float* __restrict__ D, IO* __restrict__ du, float4* __restrict__ dpqw,  \
      IO* scratch, float2* cs, float2* __restrict__ part, int B, int H, int L, int log2M, int flags) {                \
    pmb2_bwd<BF, IO, ST, SG>(u, dy, mats, madj, pq, pqAdj, D, du, dpqw, scratch, cs, part, B, H, L, log2M, flags);  \
  }
// The cap: 80 registers on sm_90a; sm_80 builds the same source with 96 (learned_pm2.cu's rule: sm_80's code may need more).
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#define PMB2_R80 __maxnreg__(96)
#else
#define PMB2_R80 __maxnreg__(80)
#endif
#define PMB2_LB __launch_bounds__(512, 1)
// name: lpmb2_bwd_<io>_<s32|s16>_r<0|80>, and with the Grams in the stages (PMB2_SG; helper pmb, session 18) _sg
LPMB2(lpmb2_bwd_bf16_s32_r0, PMB2_LB, true, __nv_bfloat16, float, false)
LPMB2(lpmb2_bwd_f16_s32_r0, PMB2_LB, false, __half, float, false)
LPMB2(lpmb2_bwd_bf16_s16_r0, PMB2_LB, true, __nv_bfloat16, __nv_bfloat16, false)
LPMB2(lpmb2_bwd_f16_s16_r0, PMB2_LB, false, __half, __half, false)
LPMB2(lpmb2_bwd_bf16_s32_r80, PMB2_R80, true, __nv_bfloat16, float, false)
LPMB2(lpmb2_bwd_f16_s32_r80, PMB2_R80, false, __half, float, false)
LPMB2(lpmb2_bwd_bf16_s16_r80, PMB2_R80, true, __nv_bfloat16, __nv_bfloat16, false)
LPMB2(lpmb2_bwd_f16_s16_r80, PMB2_R80, false, __half, __half, false)
LPMB2(lpmb2_bwd_bf16_s32_r0_sg, PMB2_LB, true, __nv_bfloat16, float, true)
LPMB2(lpmb2_bwd_f16_s32_r0_sg, PMB2_LB, false, __half, float, true)
LPMB2(lpmb2_bwd_bf16_s16_r0_sg, PMB2_LB, true, __nv_bfloat16, __nv_bfloat16, true)
LPMB2(lpmb2_bwd_f16_s16_r0_sg, PMB2_LB, false, __half, __half, true)
LPMB2(lpmb2_bwd_bf16_s32_r80_sg, PMB2_R80, true, __nv_bfloat16, float, true)
LPMB2(lpmb2_bwd_f16_s32_r80_sg, PMB2_R80, false, __half, float, true)
LPMB2(lpmb2_bwd_bf16_s16_r80_sg, PMB2_R80, true, __nv_bfloat16, __nv_bfloat16, true)
LPMB2(lpmb2_bwd_f16_s16_r80_sg, PMB2_R80, false, __half, __half, true)

// dpq[i] = sum over g < G of w[g HM + i] (in order), i < HM = H M: the row groups' dP / dQ partials. Grid ceil(HM / 256), 256.
extern "C" __global__ void __launch_bounds__(256) lpmb2_dpq_reduce(const float4* __restrict__ w, float4* __restrict__ dpq, int G,
                                                                    int HM) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= HM) return;
  const float4* p = w + i;
  float4 a = *p;
#pragma unroll 1
  for (int g = 1; g < G; ++g) {
    p += HM;
    const float4 v = *p;
    a.x += v.x; a.y += v.y; a.z += v.z; a.w += v.w;
  }
  dpq[i] = a;
}
