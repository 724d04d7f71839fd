// Shapes: as learned_pm3.cu (B batch, H channels, L length, M = N / 2 = R1 * 16^(J-1) complex points, J factors
// {R1, 16, .., 16}: M = 2048 {8,16,16}, 4096 {16,16,16}, 8192 {2,16,16,16}, 16384 {4,16,16,16}, 32768 {8,16,16,16}
// (the y kernel only, see its line at the end)):
//   x, out (B, H, L) bf16 / fp16; mats 2J left-form complex matrices (forward 1 .. J, inverse 1 .. J); pq (H, M) float4
//   {P_p, Q_p}; D (H) fp32. Grid (B, H), block 128 .. 512 threads, dynamic shared memory pm4_smem(log2M).
//
// Helper pm4 (session 17): learned_pm3.cu's one-pass kernel (lpm3_*, the slow twin; same arguments, same arithmetic,
// the same bits) with the learned matrices read from per-block tables instead of being rebuilt per use:
//  * fragment tables: every 16 x 16 learned block a row's warps multiply with on mma.sync (the outer stage 2 forward and
//    inverse at J = 4, the inverse first stage at R1 = 16, the middle's stages J-1 and J forward and inverse) as the
//    16-bit mma operand each lane holds (FragA re / im, or PmB re / im): 8 words a lane, stored as two uint4 planes
//    tab[lane], tab[32 + lane] (a warp reads 512 contiguous bytes per load: no bank conflicts, 2 vector loads a fragment).
//    Built once per block (lm_frag_a / lm_frag_b on the global matrices, the values lpm3 builds at each use); lpm3
//    rebuilds a fragment per use from global memory: 8 scalar 8-byte loads and 12 conversions per lane, 4 to 8 fragments
//    per middle unit, one per outer unit.
//  * the first stage's R1 x R1 coefficients (R1 < 16, shared memory as lpm3's) read two complex entries per 16-byte load
//    (Co), same products in the same order.
// Forward and inverse run in the one kernel (the inverse half of the row's transform follows the middle), as lpm3's.
// Session 26: the x kernels (lpm4x_*: the s kernels with the middle's pair map in registers, pm3::middle_rp; the same bits) and
// the y kernels (lpm4y_*: x with the first / outer stages' twiddles from the SFU, pm3::tw_of), the default.
#define LPM3_TEMPLATES_ONLY
#include "learned_pm3.cu"

namespace pm3 {

// The register pair map (learned_pm4.cu's x / y kernels, the policy's REG_PAIR): middle with every unit {c, c2} of a != 0
// by learned_pm.cu's pm_pair_units (the partner of (c, i) is (c2, 255 - i); C in registers, partners by warp shuffles),
// the units dealt round-robin as middle deals them (the warp index kept without a division: the modulo's ~20 instructions
// per unit and warp were a tenth of lpm4y's at M = 4096, ncu bench-runs/s26/s2). Chunk 0 (a = 0, its own partner by
// pair_partner's transposed rule) ahead of the loop by warp 0 (inside it, a second path cost registers): C0R (the policy's
// MID_C0R) forward into registers too, C left in the chunk's shared memory for the partner loads, the inverse from
// registers (measured faster at M = 4096 and 16384, slower at 8192: BENCH-RESULTS round 38-s26); else middle's path.
// The same bits as middle either way. (A deal balanced in chunks, warp 0 taking both single chunks, was measured slower.)
template <bool BF16, bool C0R, bool FOLD, typename ST, typename SA, typename SB, typename SK, typename SJ>
__device__ void middle_rp(SA fa, SB fb, SK ia, SJ ib, const float2* tw256, const float4* __restrict__ cf, ST* zr, ST* zi,
                          int lR1, int J, int M) {
  static_assert(sizeof(ST) == 2 && std::is_same<ST, __half>::value != BF16, "middle_rp: 16-bit planes of the compute type");
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5, P = M >> 8;
  const float2* tl = tw256 + lane;
  constexpr float ms = FOLD ? 1.0f : 1.0f / 16.0f;   // FOLD: the 1/16 of stages J-1, J in the fragment tables (pm4::Tabs, v kernels)
  if (!C0R && warp == 0) {   // chunk 0 by middle's path
    pm_chunk_fwd<BF16>(fa, fb, tl, zr, zi, 0, g, t, ms);
    __syncwarp();
    pair_chunk<1>(cf, zr, zi, 0, 0, 0);
    __syncwarp();
    pm_chunk_inv<BF16>(ib, ia, tl, zr, zi, 0, g, t);
    __syncwarp();
  }
  if (C0R && warp == 0) {   // chunk 0 (a = 0: its own partner by pair_partner's transposed rule): C through the chunk's shared memory
    uint32_t ar[4], ai[4];
    pm_chunk_fwd_t<BF16, false>(fa, fb, tl, zr, zi, 0, g, t, ms, ar, ai);
    __syncwarp();   // every lane's loads of the chunk are done before any lane stores into it
    unsigned short* hr = reinterpret_cast<unsigned short*>(zr);
    unsigned short* hi = reinterpret_cast<unsigned short*>(zi);
#pragma unroll
    for (int i = 0; i < 4; ++i) {   // C as the store of middle's path leaves it (the same 16-bit values)
      const int p = (g + 8 * (i & 1)) * 16 + 8 * (i >> 1) + 2 * t;
      hr[SIDX(p)] = (unsigned short)(ar[i] & 0xffffu); hr[SIDX(p + 1)] = (unsigned short)(ar[i] >> 16);
      hi[SIDX(p)] = (unsigned short)(ai[i] & 0xffffu); hi[SIDX(p + 1)] = (unsigned short)(ai[i] >> 16);
    }
    __syncwarp();
#pragma unroll
    for (int i = 0; i < 4; ++i) {   // the partners' words as pm_pair_word takes them (element 0's partner in half 1)
      const int p = (g + 8 * (i & 1)) * 16 + 8 * (i >> 1) + 2 * t;
      const int q0 = pair_partner(0, 0, 0, p), q1 = pair_partner(0, 0, 0, p + 1);
      const uint32_t pr = (uint32_t)hr[SIDX(q1)] | ((uint32_t)hr[SIDX(q0)] << 16);
      const uint32_t pi = (uint32_t)hi[SIDX(q1)] | ((uint32_t)hi[SIDX(q0)] << 16);
      pm_pair_word<BF16>(cf, g, t, i, ar[i], ai[i], pr, pi);
    }
    pm_chunk_inv_x<BF16>(ib, ia, tl, ar, ai, zr, zi, 0, g, t);   // (its __syncwarp orders the partner loads before the stores)
    __syncwarp();
  }
  int r = 1 == nw ? 0 : 1;   // unit u (chunk 0 is unit 0) goes to warp u mod nw: r = that for the next unit, no division
  for (int c = 1; c < P; ++c) {   // a != 0 from here on (pm_freq(c) = 0 only at c = 0)
    const int a = pm_freq(c, lR1, J - 2), c2 = pm_pos((P - a) & (P - 1), lR1, J - 2);
    if (c2 < c) continue;
    const int owner = r;
    r = r + 1 == nw ? 0 : r + 1;
    if (owner != warp) continue;
    pm_pair_units<BF16>(fa, fb, ib, ia, tl, cf + (c << 8), cf + (c2 << 8), zr, zi, c, c2, g, t, ms);
  }
}

}  // namespace pm3

namespace pm4 {

constexpr int NTAB = 6;   // fragment tables per block: f2 | i1tc, i2, fa, fb, ia, ib (1 KB each)

// Bytes of dynamic shared memory: lpm3's (pm_smem with 16-bit planes) and the fragment tables behind it.
__host__ __device__ constexpr int pm4_smem(int log2M) { return pm_smem(log2M, 2) + NTAB * 64 * 16; }

struct TabA { const uint4* p; };   // an A-operand table (FragA re, im)
struct TabB { const uint4* p; };   // a B-operand table (PmB re, im)
struct Co { const float2* p; };    // an R x R left-form matrix in shared memory, 16-byte aligned

// The fragment sources (learned_pm.cu's pm_src, found by argument-dependent lookup from pm3's and learned_pm.cu's
// templates): two conflict-free 16-byte loads. nim (FragA's -im, unused by the callers here) = im with the signs flipped.
template <bool BF16>
__device__ __forceinline__ void pm_src(const TabA& s, FragA& f) {
  const int lane = threadIdx.x & 31;
  const uint4 a = s.p[lane], b = s.p[32 + lane];
  f.re[0] = a.x; f.re[1] = a.y; f.re[2] = a.z; f.re[3] = a.w;
  f.im[0] = b.x; f.im[1] = b.y; f.im[2] = b.z; f.im[3] = b.w;
#pragma unroll
  for (int i = 0; i < 4; ++i) f.nim[i] = f.im[i] ^ 0x80008000u;
}
template <bool BF16>
__device__ __forceinline__ void pm_src(const TabB& s, PmB& f) {
  const int lane = threadIdx.x & 31;
  const uint4 a = s.p[lane], b = s.p[32 + lane];
  f.re[0][0] = a.x; f.re[0][1] = a.y; f.re[1][0] = a.z; f.re[1][1] = a.w;
  f.im[0][0] = b.x; f.im[0][1] = b.y; f.im[1][0] = b.z; f.im[1][1] = b.w;
}

// pm3::matvec with the coefficients of a[k][r], a[k][r+1] in one 16-byte (broadcast) load; RI odd: pm3's.
template <int R, int RI, int RO>
__device__ __forceinline__ void matvec(const Co& c, float (&xr)[R], float (&xi)[R]) {
  if constexpr (RI % 2 != 0) {
    pm3::matvec<R, RI, RO>(c.p, xr, xi);
  } else {
    const float4* a = reinterpret_cast<const float4*>(c.p);
    float yr[RO], yi[RO];
#pragma unroll
    for (int k = 0; k < RO; ++k) {
      float ar = 0.f, ai = 0.f;
#pragma unroll
      for (int r = 0; r < RI; r += 2) {
        const float4 w = a[(k * R + r) / 2];
        ar = fmaf(w.x, xr[r], fmaf(-w.y, xi[r], ar));
        ai = fmaf(w.x, xi[r], fmaf(w.y, xr[r], ai));
        ar = fmaf(w.z, xr[r + 1], fmaf(-w.w, xi[r + 1], ar));
        ai = fmaf(w.z, xi[r + 1], fmaf(w.w, xr[r + 1], ai));
      }
      yr[k] = ar; yi[k] = ai;
    }
#pragma unroll
    for (int k = 0; k < RO; ++k) { xr[k] = yr[k]; xi[k] = yi[k]; }
  }
}

// Variant g (M = 4096, R1 = 16): the forward first stage straight from global memory, without the pack pass and its
// barrier: lm_stage_a's 32 tiles (16 x 8, stride 256; tiles_a's FWD) with the B operand x_r = z[256 r + c] = (x[2n],
// x[2n+1]), n = 256 r + c, loaded from x (zero at or past L; HALF: rows r >= 8, n >= M / 2, not loaded), Y = A_1 X, o
// w_4096^(k c) / 16 stored at 256 k + c. The operands are the values pack + lm_stage_a give (x is 16-bit: exact).
template <bool BF16, bool HALF, typename XS, typename ST, typename TS>
__device__ __forceinline__ void first_fwd_tc(TS& tws, const float2* __restrict__ a1, ST* zr, ST* zi, const XS& x, int L, bool vec) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  FragA F; lm_frag_a<BF16>(a1, false, F);
#pragma unroll 1
  for (int tile = warp; tile < 32; tile += nw) {
    const int c0 = tile * 8;
    float br[4], bi[4];
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int r = 2 * t + (q & 1) + 8 * (q >> 1);
      if (HALF && q >= 2) { br[q] = 0.f; bi[q] = 0.f; }
      else { const float2 v = pm3::ld_pair(x, 2 * (r * 256 + c0 + g), L, vec); br[q] = v.x; bi[q] = v.y; }
    }
    const uint32_t xr0 = pack2<BF16>(br[0], br[1]), xr1 = pack2<BF16>(br[2], br[3]);
    const uint32_t xi0 = pack2<BF16>(bi[0], bi[1]), xi1 = pack2<BF16>(bi[2], bi[3]);
    float ar[4] = {0.f, 0.f, 0.f, 0.f}, ai[4] = {0.f, 0.f, 0.f, 0.f};
    mma16816<BF16>(ar, F.re, xr0, xr1);
    mma16816<BF16>(ar, F.nim, xi0, xi1);
    mma16816<BF16>(ai, F.re, xi0, xi1);
    mma16816<BF16>(ai, F.im, xr0, xr1);
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int k = g + 8 * (q >> 1), c = c0 + 2 * t + (q & 1), idx = SIDX(k * 256 + c);
      const float2 w = tws.fwd16(q, k, c);   // w_4096^(k c) / 16
      const float a = ar[q] * w.x - ai[q] * w.y, b = ar[q] * w.y + ai[q] * w.x;
      st(zr + idx, a); st(zi + idx, b);
    }
    tws.next();
  }
}

// Variant s (every M): the row's x copied into shared memory at the kernel's start by cp.async (16 bytes a thread at a
// time, all in flight while the block builds its tables), read by the first stage (first_fwd_cc at M = 2048,
// first_fwd_tc at 4096, outer_fwd at J = 4: no pack pass) and by the inverse's D x (instead of a global re-read). The
// copy: pair n = (x[2n], x[2n+1]) at word n + 4 (n >> 8), zero at or past L; the 16 bytes of padding per KB put
// first_fwd_tc's 32 lanes (n = 256 r + c0 + g, r = 2t + ..) and outer_fwd's (n = 4096 r + 256 (2t + ..) + 8u + g) in 32
// banks. The elements copied: E = M (2n < M) where the padding's zero half is skipped (causal / bidirectional: L <= M),
// all E = 2M else (circular); stage_bytes(log2M, half) behind pm4_smem.
// Variant sp (M = 4096): s with the pair map's coefficients loaded U = 2 positions a lane at a time (pm3::pair_chunk;
// 8 more registers: not under the 64 cap). Same values in the same order as lpm4g / lpm4: the same bits.
__host__ __device__ constexpr int stage_bytes(int log2M, bool half) { return (half ? 2 : 4) * ((1 << log2M) + (1 << log2M) / 64); }

template <typename IO>
__device__ __forceinline__ void stage_row(uint32_t* w, const IO* __restrict__ x, int L, int M, bool vec, bool half) {
  const int E = half ? M : 2 * M;
  if (vec) {   // x 16-byte aligned, L a multiple of 8: a 16-byte chunk j (pairs 4j .. 4j + 3) is all below L or all past it
    for (int j = threadIdx.x; j < E / 8; j += blockDim.x) {
      uint32_t* d = w + 4 * j + 4 * (j >> 6);
      if (8 * j < L) {
        const unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(d));
        asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" :: "r"(a), "l"(x + 8 * j) : "memory");
      } else {
        *reinterpret_cast<uint4*>(d) = make_uint4(0u, 0u, 0u, 0u);
      }
    }
    asm volatile("cp.async.commit_group;\n" ::: "memory");
  } else {     // odd rows: the 16-bit values one by one (raw bits; 0 = +0.0 past L, as ld_pair's 0.f)
    const unsigned short* e = reinterpret_cast<const unsigned short*>(x);
    for (int n = threadIdx.x; n < E / 2; n += blockDim.x) {
      const uint32_t lo = 2 * n < L ? e[2 * n] : 0u, hi = 2 * n + 1 < L ? e[2 * n + 1] : 0u;
      w[n + 4 * (n >> 8)] = lo | (hi << 16);
    }
  }
}

// pm3::conv's matrix sources (see pm3::Plain) from the tables at smem + pm_smem(LM, 2): table 0 the forward outer stage
// 2 (J = 4) or the inverse first stage (R1 = 16), 1 the inverse outer stage 2 (J = 4), 2 .. 5 the middle's fa, fb, ia, ib.
// G4: the g kernels (R1 = 16's first stage from global memory); S: the s kernels (the staged row, see stage_row); RP: the
// x kernels (pm3::middle_rp, the pair map in registers); SFU: the y kernels (pm3::tw_of, twiddles from the SFU); C0R:
// middle_rp's chunk 0 through registers.
template <int LM, bool BF16, bool G4 = false, bool S = false, int U = 1, bool RP = false, bool SFU = false, bool C0R = false,
          int REC = 0>
struct Tabs {
  static constexpr bool MID_C0R = C0R;
  static constexpr int TW_REC = REC;   // v (2) / w (1) kernels (session 27): learned_pm_rec.cuh
  static constexpr bool MID_FOLD = REC > 0 && BF16;
  static_assert(REC == 0 || (SFU && RP), "Tabs: the v / w kernels are the y kernels with recurrence twiddles");
  static_assert(!SFU || G4 || S, "Tabs: SFU twiddles on the DIRECT16 kernels only (lm_stage_a's pack path reads the table)");
  static constexpr bool DIRECT16 = G4 || S, STAGE = S, REG_PAIR = RP, SFU_TW = SFU;
  static constexpr int PAIR_U = U;
  __device__ static __forceinline__ uint32_t* stage_at(unsigned char* smem) { return reinterpret_cast<uint32_t*>(smem + pm4_smem(LM)); }
  template <typename IO>
  __device__ static __forceinline__ void stage(unsigned char* smem, const pm3::Io<IO>& X, int L, int M) {
    stage_row(stage_at(smem), X.xr, L, M, X.vec, X.half);
  }
  template <typename IO>
  __device__ static __forceinline__ auto src(unsigned char* smem, const IO* x) {
    if constexpr (S) return pm3::Staged<IO>{stage_at(smem)}; else return x;
  }
  template <bool B16, typename G_, typename TT, typename XS, typename ST>
  __device__ static __forceinline__ void first16(const G_&, const TT& T, const float2* __restrict__ mats, ST* zr, ST* zi, const XS& xs,
                                                 bool half, bool vec, int L) {
    if constexpr (REC > 0) {
      pm3::RecFirstFwd src;
      if (half) first_fwd_tc<B16, true>(src, mats, zr, zi, xs, L, vec); else first_fwd_tc<B16, false>(src, mats, zr, zi, xs, L, vec);
    } else {
      pm3::TwTab<TT> src{T, 0};
      if (half) first_fwd_tc<B16, true>(src, mats, zr, zi, xs, L, vec); else first_fwd_tc<B16, false>(src, mats, zr, zi, xs, L, vec);
    }
  }
  __device__ static __forceinline__ uint4* tab(unsigned char* smem, int k) { return reinterpret_cast<uint4*>(smem + pm_smem(LM, 2)) + 64 * k; }
  template <typename G_>
  __device__ static __forceinline__ void init(unsigned char* smem, const G_& G, const float2* __restrict__ mats) {
    const float2* im = mats + G.inv;
    for (int e = threadIdx.x; e < NTAB * 32; e += blockDim.x) {   // one warp a table (lane = e & 31 = threadIdx.x & 31)
      const int k = e >> 5, lane = e & 31;
      if (k == 1 && G.J == 3) continue;
      if (k == 0 && G.J == 3 && G.R1 < 16) continue;
      uint4* t = tab(smem, k);
      if (MID_FOLD && (k == 2 || k == 3)) {   // the middle's forward stages J-1 / J with their 1/16 (learned_pm_rec.cuh)
        if (k == 2) pm3::rec_frag_a<BF16>(mats + G.q1 + 256 * (G.J - 3), 1.0f / 16.0f, t[lane], t[32 + lane]);
        else pm3::rec_frag_b<BF16>(mats + G.q1 + 256 * (G.J - 2), 1.0f / 16.0f, t[lane], t[32 + lane]);
      } else if (k < 3) {
        const float2* a = k == 0 ? (G.J == 4 ? mats + G.q1 : im) : k == 1 ? im + G.q1 : mats + G.q1 + 256 * (G.J - 3);
        FragA F; lm_frag_a<BF16>(a, false, F);
        t[lane] = make_uint4(F.re[0], F.re[1], F.re[2], F.re[3]);
        t[32 + lane] = make_uint4(F.im[0], F.im[1], F.im[2], F.im[3]);
      } else {
        const float2* a = k == 3 ? mats + G.q1 + 256 * (G.J - 2) : k == 4 ? im + G.q1 + 256 * (G.J - 3) : im + G.q1 + 256 * (G.J - 2);
        PmB F; lm_frag_b<BF16, false>(a, F);
        t[lane] = make_uint4(F.re[0][0], F.re[0][1], F.re[1][0], F.re[1][1]);
        t[32 + lane] = make_uint4(F.im[0][0], F.im[0][1], F.im[1][0], F.im[1][1]);
      }
    }
  }
  template <typename G_> __device__ static __forceinline__ Co f1(unsigned char*, const G_& G) { return Co{G.s1}; }
  template <typename G_> __device__ static __forceinline__ Co i1(unsigned char*, const G_& G) { return Co{G.s1 + G.q1}; }
  template <typename G_> __device__ static __forceinline__ TabA f2(unsigned char* s, const G_&, const float2*) { return TabA{tab(s, 0)}; }
  template <typename G_> __device__ static __forceinline__ TabA i1tc(unsigned char* s, const G_&, const float2*) { return TabA{tab(s, 0)}; }
  template <typename G_> __device__ static __forceinline__ TabA i2(unsigned char* s, const G_&, const float2*) { return TabA{tab(s, 1)}; }
  template <typename G_> __device__ static __forceinline__ TabA fa(unsigned char* s, const G_&, const float2*) { return TabA{tab(s, 2)}; }
  template <typename G_> __device__ static __forceinline__ TabB fb(unsigned char* s, const G_&, const float2*) { return TabB{tab(s, 3)}; }
  template <typename G_> __device__ static __forceinline__ TabB ia(unsigned char* s, const G_&, const float2*) { return TabB{tab(s, 4)}; }
  template <typename G_> __device__ static __forceinline__ TabB ib(unsigned char* s, const G_&, const float2*) { return TabB{tab(s, 5)}; }
};

}  // namespace pm4

#define LPM4(NAME, QUAL, BF, IO, ST, LM, G4, S, ...)                                                                      \
  extern "C" __global__ void QUAL NAME(const IO* __restrict__ x, const float2* __restrict__ mats,                    \
      const float4* __restrict__ pq, const float* __restrict__ D, IO* __restrict__ out, int H, int L, int log2M) {  \
    pm3::conv<BF, IO, ST, LM, pm4::Tabs<LM, BF, G4, S __VA_OPT__(,) __VA_ARGS__>>(x, mats, pq, D, out, H, L, log2M);  \
  }
// The caps R80 / LB and BF: learned_pm3.cu's (80 registers on sm_90a, 96 on sm_80; r0 = __launch_bounds__(512, 1)).
// name: lpm4_<io>_m<M>_r<0|80> (16-bit planes)
LPM4(lpm4_bf16_m2048_r80, R80, true, BF, BF, 11, false, false)
LPM4(lpm4_f16_m2048_r80, R80, false, __half, __half, 11, false, false)
LPM4(lpm4_bf16_m4096_r80, R80, true, BF, BF, 12, false, false)
LPM4(lpm4_f16_m4096_r80, R80, false, __half, __half, 12, false, false)
LPM4(lpm4_bf16_m8192_r80, R80, true, BF, BF, 13, false, false)
LPM4(lpm4_f16_m8192_r80, R80, false, __half, __half, 13, false, false)
LPM4(lpm4_bf16_m2048_r0, LB, true, BF, BF, 11, false, false)
LPM4(lpm4_f16_m2048_r0, LB, false, __half, __half, 11, false, false)
LPM4(lpm4_bf16_m4096_r0, LB, true, BF, BF, 12, false, false)
LPM4(lpm4_f16_m4096_r0, LB, false, __half, __half, 12, false, false)
LPM4(lpm4_bf16_m8192_r0, LB, true, BF, BF, 13, false, false)
LPM4(lpm4_f16_m8192_r0, LB, false, __half, __half, 13, false, false)
LPM4(lpm4_bf16_m16384_r0, LB, true, BF, BF, 14, false, false)
LPM4(lpm4_f16_m16384_r0, LB, false, __half, __half, 14, false, false)
// name: lpm4g_<io>_m4096_r<0|80>: variant g (the forward first stage straight from global memory)
LPM4(lpm4g_bf16_m4096_r80, R80, true, BF, BF, 12, true, false)
LPM4(lpm4g_f16_m4096_r80, R80, false, __half, __half, 12, true, false)
LPM4(lpm4g_bf16_m4096_r0, LB, true, BF, BF, 12, true, false)
LPM4(lpm4g_f16_m4096_r0, LB, false, __half, __half, 12, true, false)
// name: lpm4s_<io>_m<M>_r<0|64|80>: variant s (the staged row; dynamic shared memory pm4_smem + stage_bytes), r80 / r0 as
// lpm4's, r64 = __maxnreg__(64) (4 blocks of 256 threads per SM) at M = 4096 only (0 spills there; 20 bytes at 2048);
// lpm4sp_<io>_m4096_r80: variant sp. lpm4g_<io>_m4096_r64: the g kernels under the 64 cap (0 spills).
#define R64 __maxnreg__(64)
LPM4(lpm4s_bf16_m2048_r80, R80, true, BF, BF, 11, false, true)
LPM4(lpm4s_f16_m2048_r80, R80, false, __half, __half, 11, false, true)
LPM4(lpm4s_bf16_m4096_r80, R80, true, BF, BF, 12, false, true)
LPM4(lpm4s_f16_m4096_r80, R80, false, __half, __half, 12, false, true)
LPM4(lpm4s_bf16_m2048_r0, LB, true, BF, BF, 11, false, true)
LPM4(lpm4s_f16_m2048_r0, LB, false, __half, __half, 11, false, true)
LPM4(lpm4s_bf16_m4096_r0, LB, true, BF, BF, 12, false, true)
LPM4(lpm4s_f16_m4096_r0, LB, false, __half, __half, 12, false, true)
LPM4(lpm4s_bf16_m8192_r80, R80, true, BF, BF, 13, false, true)
LPM4(lpm4s_f16_m8192_r80, R80, false, __half, __half, 13, false, true)
LPM4(lpm4s_bf16_m8192_r0, LB, true, BF, BF, 13, false, true)
LPM4(lpm4s_f16_m8192_r0, LB, false, __half, __half, 13, false, true)
LPM4(lpm4s_bf16_m16384_r0, LB, true, BF, BF, 14, false, true)
LPM4(lpm4s_f16_m16384_r0, LB, false, __half, __half, 14, false, true)
LPM4(lpm4s_bf16_m4096_r64, R64, true, BF, BF, 12, false, true)
LPM4(lpm4s_f16_m4096_r64, R64, false, __half, __half, 12, false, true)
LPM4(lpm4sp_bf16_m4096_r80, R80, true, BF, BF, 12, false, true, 2)
LPM4(lpm4sp_f16_m4096_r80, R80, false, __half, __half, 12, false, true, 2)
LPM4(lpm4g_bf16_m4096_r64, R64, true, BF, BF, 12, true, false)
LPM4(lpm4g_f16_m4096_r64, R64, false, __half, __half, 12, true, false)
// name: lpm4x_<io>_m<M>_r<0|80>: variant x (session 26): the s kernels with the middle's pair map in registers
// (pm3::middle_rp; the same bits as lpm4s), r80 to M = 8192 and r0 (at most 128 registers) as the s kernels'.
LPM4(lpm4x_bf16_m2048_r80, R80, true, BF, BF, 11, false, true, 1, true)
LPM4(lpm4x_f16_m2048_r80, R80, false, __half, __half, 11, false, true, 1, true)
LPM4(lpm4x_bf16_m4096_r80, R80, true, BF, BF, 12, false, true, 1, true)
LPM4(lpm4x_f16_m4096_r80, R80, false, __half, __half, 12, false, true, 1, true)
LPM4(lpm4x_bf16_m8192_r80, R80, true, BF, BF, 13, false, true, 1, true)
LPM4(lpm4x_f16_m8192_r80, R80, false, __half, __half, 13, false, true, 1, true)
LPM4(lpm4x_bf16_m2048_r0, LB, true, BF, BF, 11, false, true, 1, true)
LPM4(lpm4x_f16_m2048_r0, LB, false, __half, __half, 11, false, true, 1, true)
LPM4(lpm4x_bf16_m4096_r0, LB, true, BF, BF, 12, false, true, 1, true)
LPM4(lpm4x_f16_m4096_r0, LB, false, __half, __half, 12, false, true, 1, true)
LPM4(lpm4x_bf16_m8192_r0, LB, true, BF, BF, 13, false, true, 1, true)
LPM4(lpm4x_f16_m8192_r0, LB, false, __half, __half, 13, false, true, 1, true)
LPM4(lpm4x_bf16_m16384_r0, LB, true, BF, BF, 14, false, true, 1, true)
LPM4(lpm4x_f16_m16384_r0, LB, false, __half, __half, 14, false, true, 1, true)
// name: lpm4y_<io>_m<M>_r<0|80>: variant y (session 26): x with the first / outer stages' twiddles from the special-function
// unit (pm3::tw_of; no table built or read: its lane-dependent LDS.64 lookups were 56 M of x's 91 M excessive shared
// wavefronts at M = 4096, bench-runs/s26/s1); not the bits of x (the twiddles differ by < 2^-21.4), at x's default caps;
// middle_rp's chunk 0 through registers (C0R) at M = 4096 and 16384, where it measured faster (round 38-s26, s3).
LPM4(lpm4y_bf16_m2048_r80, R80, true, BF, BF, 11, false, true, 1, true, true, false)
LPM4(lpm4y_f16_m2048_r80, R80, false, __half, __half, 11, false, true, 1, true, true, false)
LPM4(lpm4y_bf16_m4096_r80, R80, true, BF, BF, 12, false, true, 1, true, true, true)
LPM4(lpm4y_f16_m4096_r80, R80, false, __half, __half, 12, false, true, 1, true, true, true)
LPM4(lpm4y_bf16_m8192_r80, R80, true, BF, BF, 13, false, true, 1, true, true, false)
LPM4(lpm4y_f16_m8192_r80, R80, false, __half, __half, 13, false, true, 1, true, true, false)
LPM4(lpm4y_bf16_m16384_r0, LB, true, BF, BF, 14, false, true, 1, true, true, true)
LPM4(lpm4y_f16_m16384_r0, LB, false, __half, __half, 14, false, true, 1, true, true, true)
// name: lpm4v_<io>_m<M>_r<0|80>: variant v (session 27): y with the first / outer stages' twiddles by a product recurrence
// (learned_pm_rec.cuh) and, at bf16, the middle's 1/16 in its fragment tables; y's caps and C0R choices. Not the bits of y.
LPM4(lpm4v_bf16_m2048_r80, R80, true, BF, BF, 11, false, true, 1, true, true, false, 2)
LPM4(lpm4v_f16_m2048_r80, R80, false, __half, __half, 11, false, true, 1, true, true, false, 2)
LPM4(lpm4v_bf16_m4096_r80, R80, true, BF, BF, 12, false, true, 1, true, true, true, 2)
LPM4(lpm4v_f16_m4096_r80, R80, false, __half, __half, 12, false, true, 1, true, true, true, 2)
LPM4(lpm4v_bf16_m8192_r80, R80, true, BF, BF, 13, false, true, 1, true, true, false, 2)
LPM4(lpm4v_f16_m8192_r80, R80, false, __half, __half, 13, false, true, 1, true, true, false, 2)
LPM4(lpm4v_bf16_m16384_r0, LB, true, BF, BF, 14, false, true, 1, true, true, true, 2)
LPM4(lpm4v_f16_m16384_r0, LB, false, __half, __half, 14, false, true, 1, true, true, true, 2)
// name: lpm4w_<io>_m<8192|16384>_r<80|0>: variant w (session 27): v with the J = 4 first stage's twiddles from rec_w per
// unit (as y; fewer live registers).
LPM4(lpm4w_bf16_m8192_r80, R80, true, BF, BF, 13, false, true, 1, true, true, false, 1)
LPM4(lpm4w_f16_m8192_r80, R80, false, __half, __half, 13, false, true, 1, true, true, false, 1)
LPM4(lpm4w_bf16_m16384_r0, LB, true, BF, BF, 14, false, true, 1, true, true, true, 1)
LPM4(lpm4w_f16_m16384_r0, LB, false, __half, __half, 14, false, true, 1, true, true, true, 1)
// name: lpm4y_<io>_m32768_t256 (session 29): the y kernel at M = 32768 ({8, 16, 16, 16}: R1 = 8's outer stage and its inverse in
// registers) for causal / bidirectional rows (L <= M: the staged row's M values), 256 threads under __launch_bounds__(256, 1):
// 255 registers and no spill on sm_80 / sm_90a (at 512 threads, 128 registers, it spilled 1.6 KB; at 384, 1 KB). Its shared
// memory, pm4_smem(15) + stage_bytes(15, true) = 215 KB, leaves one block an SM and needs Hopper's 227 KB (PackedMonarchConv
// runs it only where the device allows that much).
#define L256 __launch_bounds__(256, 1)
LPM4(lpm4y_bf16_m32768_t256, L256, true, BF, BF, 15, false, true, 1, true, true, false)
LPM4(lpm4y_f16_m32768_t256, L256, false, __half, __half, 15, false, true, 1, true, true, false)
