// Shapes: as learned_p3.cu (B batch, H channels, L length; M = N1 * 8192; rows r = b H + h; a chunk's slot c is channel
// h0 + c / B, batch c % B; mats: the 10 left-form blocks, Q = N1^2 + 4 + 768 float2 per chain; pq (H, M) float4; D (H)),
// except the scratch:
//   S : (rows of one chunk, N1, 8192) complex as 16-bit pairs SC = (re, im) of the I/O type (bf16x2 / half2): 4 bytes a
//       point, half of learned_p3.cu's fp32 scratch.
//
// The three-pass packed learned butterfly's faster kernels (helper pk3fast, session 15; PackedThreePass.scratch16 /
// outerTc; learned_p3.cu's kernels are the twins and stay as they were):
//   lp3_mid16_<io>      pass 2 with 16-bit shared planes AND a 16-bit scratch, the radix-2 stage (stage 2) done at the
//                       row's load (forward) and at its store (inverse): two passes over shared memory and two barriers
//                       fewer than lp3_middle_<io>_s16, half the scratch bytes. Bit for bit lp3_middle_<io>_s16 with the
//                       fp32 scratch: that kernel rounds its input to 16 bits on entry (the same round-to-nearest of the
//                       same fp32 value pass 1 rounds here) and its output is read from 16-bit planes (exact in SC); the
//                       stage-2 arithmetic is that kernel's (learned_p3.cu's p3_bfly2, same twiddle table).
//   lp3_outer16_{fwd,inv}<N1>_<io>  passes 1 / 3 on CUDA cores: learned_p3.cu's p3_outer_fwd / p3_outer_inv (fp32
//                       arithmetic) with the 16-bit scratch element SC.
//   lp3_outertc_{fwd,inv}<N1>_<io>  passes 1 / 3 on tensor cores: the learned N1 x N1 block (F_1, or G_1) as the A operand
//                       of mma.sync m16n8k16 (16-bit operands, fp32 accumulation; N1 = 8 zero-padded to one 16 x 16
//                       tile), the columns as B operands, 8 columns per warp; the block's fragments and the twiddles
//                       of the thread's points are made once per block and reused over its rows (grid.y strides the
//                       chunk's rows). Pass 1's B operand is u itself (16-bit: exact); pass 3's is S o conj(w_M^(k1 q))
//                       rounded to 16 bits, as every radix-16 stage of the middle rounds its operands.
#define LP3_HELPERS_ONLY
#include "learned_p3.cu"
#include "learned_p3_pairs.cuh"   // session 30: the inner-only middles' pair maps, enumerated (twins: learned_p3.cu's)
#define LPM_TEMPLATES_ONLY
#include "learned_pm.cu"   // pm_chunk_fwd / pm_chunk_inv / pm_pair_at (lp3_mid16w's per-warp chunk middle)
#include "scratch_io.cuh"

template <typename IO> struct P3Io;
template <> struct P3Io<__nv_bfloat16> { using SC = __nv_bfloat162; static constexpr bool BF16 = true; };
template <> struct P3Io<__half> { using SC = __half2; static constexpr bool BF16 = false; };

// p3_mid16's hook points (helper p3tc, session 18: learned_p3g.cu's backward hooks dump the stage inputs or sum their
// Grams there): at(id, ..) between two block barriers before stage id (P3H_*; the hook ends with a barrier when it does
// anything), load2 / store2 per radix-2 column (o: the element offset of its first point in the chunk buffer, e = o mod 4 its
// place in the thread's work item of 4 columns (a compile-time constant); x0, x1 the column as stage 2 reads it, (tc, ts)
// the twiddle that stage uses), end() after the store loop; OUT: the inverse stage 2
// stores to hk.out(o) (o: the element offset in a chunk buffer) instead of S + o; STORE false (session 23): no store at all. P3NoHook (every kernel of this file) does nothing: the same machine code as without hooks.
// ONE (session 21, learned_p3g.cu's lp3g_obmid* / lp3g_qbmid*: one-pass backwards on these middles, N1 = 1): the rows of a
// block. 2: M = 8192, the block's two halves are chunk rows 2 y and 2 y + 1 (y = blockIdx.y; each a whole one-pass row,
// X_1 = pack(u) with lib's factors {2, 16, 16, 16} = the middle's), each paired within itself as inner row 0 is
// (p3_pairs1), with its own channel's P / Q. 4: M = 4096 = 16 x 16 x 16, chunk rows 4 y .. 4 y + 3 (the plane's
// [4][4096] as the radix-2 stage leaves it at M = 8192: the radix-16 stages treat the 4 as a batch), no radix-2 stage (the
// rows loaded and stored as they are), each row paired within itself (p3_pairs4). 5 (session 22): M = 16384 / 32768 =
// N1 x 4096 after an outer pass (N1 = 4 / 8, grid (N1 / 4, rows)): block (x, y) takes slots 4 x .. 4 x + 3 of chunk row y
// (two row pairs in learned_p3.cu's pair order), loaded and stored as at 4, paired by p3_pairsq with the channel's P / Q.
// 6 (session 22): M = 2048 = 8 x 256 after an outer pass: block y takes chunk rows 8 y .. 8 y + 7 (contiguous, each
// row's 8 inner rows of 256 in pair order), loaded and stored as at 4, stage 3 and its inverse skipped (the inner 256 is
// stages 4 and 5), paired by p3_pairs2k. 0: the three-pass middles.
enum { P3H_F3 = 3, P3H_F4, P3H_F5, P3H_C, P3H_I5, P3H_I4, P3H_I3, P3H_I2 };
struct P3NoHook {
  __device__ __forceinline__ void begin() {}
  template <typename ST>
  __device__ __forceinline__ void at(int, const TwP&, ST*, ST*, long long, long long) {}
  __device__ __forceinline__ void load2(long long, int, float2, float2, float, float) {}
  __device__ __forceinline__ void store2(long long, int, float2, float2, float, float) {}
  __device__ __forceinline__ void end() {}
  static constexpr bool OUT = false;
  static constexpr bool STORE = true;
  static constexpr int ONE = 0;
  static constexpr bool XLOAD = false;   // session 27: the hook loads the rows itself (learned_p3g.cu's P3gGramX)
  static constexpr bool XSTORE = false;  // and stores the output itself (P3gGramY)
};

// Pass 2's load of rows a, b (SC scratch at ra, rb: element offsets oa, ob) with the forward stage 2 (* 1/2) into the
// planes (lp3_mid16, lp3_mid16w): work items v < 2 x 1024, row v >> 10, points c0 = 4 (v & 1023) .. c0 + 3 and their
// partners + 4096 (two 16-byte accesses), U items' loads in flight per thread; hk.load2 sees each column (P3NoHook: none).
template <typename ST, typename SC, typename HK>
__device__ __forceinline__ void p3_load_fwd2(const P3Mid<ST>& b, const SC* ra, const SC* rb, HK& hk) {
  constexpr int NV = 2 * (P3_IN / 2) / 4, U = HK::XLOAD ? 2 : 4;   // (XLOAD: 2 in flight, registers)
  const int T = b.T;
  ST* zr = b.zr;
  ST* zi = b.zi;
  for (int v0 = threadIdx.x; v0 < NV; v0 += U * T) {
    uint4 lo[U], hi[U];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int v = v0 + u * T;
      if (v < NV) {
        if constexpr (HK::XLOAD) {   // session 28: the hook's rows (learned_p3g_x.cuh's P3gXIn2: x's pairs as pass 1 packs them)
          lo[u] = hk.xq4(v >> 10, 4 * (v & 1023));
          hi[u] = hk.xq4(v >> 10, 4 * (v & 1023) + P3_IN / 2);
        } else {
          const SC* r = ((v >> 10) ? rb : ra) + 4 * (v & 1023);
          lo[u] = *reinterpret_cast<const uint4*>(r);
          hi[u] = *reinterpret_cast<const uint4*>(r + P3_IN / 2);
        }
      }
    }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int v = v0 + u * T;
      if (v >= NV) continue;
      const int base = (v >> 10) << P3_LIN, c0 = 4 * (v & 1023);
      const SC* el = reinterpret_cast<const SC*>(&lo[u]);
      const SC* eh = reinterpret_cast<const SC*>(&hi[u]);
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int c = c0 + e;
        float2 x0 = ldc(el + e), x1 = ldc(eh + e);
        float tc, ts; twiddle<true>(b.tw, c, P3_LIN, -1.0f, tc, ts);
        hk.load2(((v >> 10) ? b.ob : b.oa) + c, e, x0, x1, tc, ts);
        p3_bfly2<true>(b.s2, tc, ts, x0.x, x0.y, x1.x, x1.y, 0.5f);
        const int i0 = SIDX(base + c), i1 = SIDX(base + c + P3_IN / 2);
        st(zr + i0, x0.x); st(zi + i0, x0.y); st(zr + i1, x1.x); st(zi + i1, x1.y);
      }
    }
  }
}

// Pass 2's inverse stage 2 + store of rows a, b (the work items of p3_load_fwd2, one in flight per thread); hk.store2 sees
// each column, and HK::OUT sends the row to hk.out(offset) instead of ra / rb.
template <typename ST, typename SC, typename HK>
__device__ __forceinline__ void p3_store_inv2(const P3Mid<ST>& b, SC* ra, SC* rb, HK& hk) {
  constexpr int NV = 2 * (P3_IN / 2) / 4;
  const int T = b.T;
  ST* zr = b.zr;
  ST* zi = b.zi;
  for (int v = threadIdx.x; v < NV; v += T) {
    const int base = (v >> 10) << P3_LIN, c0 = 4 * (v & 1023);
    SC* r = ((v >> 10) ? rb : ra) + c0;
    if constexpr (HK::OUT) r = hk.out(((v >> 10) ? b.ob : b.oa) + c0);
    union Pack { uint4 u; SC e[4]; } lo, hi;
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int c = c0 + e, i0 = SIDX(base + c), i1 = SIDX(base + c + P3_IN / 2);
      float xr0 = ld(zr + i0), xi0 = ld(zi + i0), xr1 = ld(zr + i1), xi1 = ld(zi + i1);
      float tc, ts; twiddle<true>(b.tw, c, P3_LIN, 1.0f, tc, ts);
      hk.store2(((v >> 10) ? b.ob : b.oa) + c, e, make_float2(xr0, xi0), make_float2(xr1, xi1), tc, ts);
      p3_bfly2<false>(b.s2 + 4, tc, ts, xr0, xi0, xr1, xi1, 1.0f);
      stc(&lo.e[e], xr0, xi0); stc(&hi.e[e], xr1, xi1);
    }
    if constexpr (HK::XSTORE) {   // session 28: the hook writes the rows' output itself (P3gXOut2: du + D dy)
      hk.xstore4(v >> 10, c0, lo.u);
      hk.xstore4(v >> 10, c0 + P3_IN / 2, hi.u);
    } else {
      *reinterpret_cast<uint4*>(r) = lo.u;
      *reinterpret_cast<uint4*>(r + P3_IN / 2) = hi.u;
    }
  }
}

// Pass 2, 16-bit planes (ST = the I/O type) and 16-bit scratch SC; grid (N1 / 2, rows of the chunk), block 256, dynamic
// shared memory p3_smem(2) (lp3_middle's layout). Work items of the fused stage 2: v < 2 x 1024, row v >> 10, points
// c0 = 4 (v & 1023) .. c0 + 3 and their partners + 4096 (two 16-byte accesses). PART 0: the whole middle; 1 (learned_p3g.cu):
// the forward chain only, its output (the pair map's input, 16-bit planes: exact in SC) stored to the rows; 2: the rest,
// from rows holding such an output (loaded as is), through the pair map and the inverse chain (PART 1 then 2 = PART 0).
// hk: the hook points above (P3NoHook: none).
template <bool BF16, typename ST, typename SC, int PART = 0, typename HK = P3NoHook>
__device__ void p3_mid16(SC* __restrict__ S, const float2* __restrict__ mats, const float4* __restrict__ pq, int h0, int B,
                         int H, int lN1, HK hk = HK()) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  P3Mid<ST> b(smem_raw, h0, B, H, lN1);
  const int q1 = b.q1, Q = b.Q;
  ST* zr = b.zr;
  ST* zi = b.zi;
  const TwP& tw = b.tw;
  b.start(mats);
  if constexpr (HK::ONE == 5) {   // slots 4 x .. 4 x + 3 of chunk row rowc (pair order), contiguous
    b.oa = (b.rowc << (lN1 + 12)) + ((long long)blockIdx.x << 14); b.ob = b.oa + P3_IN;
  } else if constexpr (HK::ONE != 0) { b.oa = 2 * b.rowc * P3_IN; b.ob = b.oa + P3_IN; }   // two (four) one-pass rows, contiguous
  const long long oa = b.oa, ob = b.ob;
  SC* ra = S + oa;
  SC* rb = S + ob;
  hk.begin();
  __syncthreads();   // twiddle table and stage-2 matrices
  if constexpr (HK::XLOAD && HK::ONE >= 4) {   // (ONE = 2: through p3_load_fwd2's hk.xq4)
    hk.template xload<ST>(zr, zi, b.rowc);
  } else if constexpr (PART == 2 || HK::ONE >= 4) {
    load_row16<SC, ST>(zr, zi, ra, P3_IN);
    load_row16<SC, ST>(zr + SIDX(P3_IN), zi + SIDX(P3_IN), rb, P3_IN);
  } else {
    p3_load_fwd2<ST, SC, HK>(b, ra, rb, hk);   // load + forward stage 2 (* 1/2)
  }
  __syncthreads();
  if constexpr (PART != 2) {
    if constexpr (HK::ONE != 6) {   // ONE = 6: the inner 256 starts at stage 4
      hk.at(P3H_F3, tw, zr, zi, oa, ob);
      lm_stage_a<BF16, true, ST, TwP, true>(tw, mats + q1 + 4, zr, zi, 8, 4, 1.0f / 16.0f);
      __syncthreads();
    }
    hk.at(P3H_F4, tw, zr, zi, oa, ob);
    lm_stage_a<BF16, true, ST, TwP, true>(tw, mats + q1 + 260, zr, zi, 4, 64, 1.0f / 16.0f);
    __syncthreads();
    hk.at(P3H_F5, tw, zr, zi, oa, ob);
    lm_stage_b<BF16, ST>(mats + q1 + 516, zr, zi, 2 * P3_IN, 1.0f / 16.0f);
    __syncthreads();
  }
  if constexpr (PART == 1) {
    store_row16<SC, ST>(ra, zr, zi, P3_IN);
    store_row16<SC, ST>(rb, zr + SIDX(P3_IN), zi + SIDX(P3_IN), P3_IN);
    return;
  }
  hk.at(P3H_C, tw, zr, zi, oa, ob);
  if constexpr (HK::ONE == 6) {
    p3_pairs2k<ST>(zr, zi, pq, h0, B, H, 8 * (int)b.rowc);
  } else if constexpr (HK::ONE == 5) {
    p3_pairsq<ST>(zr, zi, pq + ((size_t)b.h << (lN1 + 12)), b.N1, (int)blockIdx.x);
  } else if constexpr (HK::ONE == 4) {
    p3_pairs4<ST>(zr, zi, pq, h0, B, H, 4 * (int)b.rowc);
  } else if constexpr (HK::ONE == 2) {
    const int ha = min(h0 + (int)(2 * b.rowc) / B, H - 1), hb = min(h0 + (int)(2 * b.rowc + 1) / B, H - 1);
    p3_pairs1<ST>(zr, zi, pq + ((size_t)ha << P3_LIN), pq + ((size_t)hb << P3_LIN));
  } else {
    p3_pairmap<ST>(zr, zi, pq + (size_t)b.h * ((size_t)b.N1 << P3_LIN), b.j, b.ka, b.kb, b.N1);
  }
  __syncthreads();
  const float2* im = mats + Q;
  hk.at(P3H_I5, tw, zr, zi, oa, ob);
  lm_stage_b<BF16, ST>(im + q1 + 516, zr, zi, 2 * P3_IN, 1.0f);
  __syncthreads();
  hk.at(P3H_I4, tw, zr, zi, oa, ob);
  lm_stage_a<BF16, false, ST, TwP, true>(tw, im + q1 + 260, zr, zi, 4, 64, 1.0f);
  __syncthreads();
  if constexpr (HK::ONE != 6) {
    hk.at(P3H_I3, tw, zr, zi, oa, ob);
    lm_stage_a<BF16, false, ST, TwP, true>(tw, im + q1 + 4, zr, zi, 8, 4, 1.0f);
    __syncthreads();
  }
  hk.at(P3H_I2, tw, zr, zi, oa, ob);
  if constexpr (!HK::STORE) {     // the output is nobody's (learned_p3g.cu's P3gDump at N1 = 1)
  } else if constexpr (HK::ONE >= 4) {   // no radix-2 stage: the rows as they are
    __syncthreads();
    SC* wa = ra;
    SC* wb = rb;
    if constexpr (HK::OUT) { wa = hk.out(oa); wb = hk.out(ob); }
    if constexpr (HK::XSTORE) {   // session 27: the hook writes the output itself (learned_p3g.cu's P3gGramY: du + D dy)
      hk.template xstore<ST>(zr, zi, b.rowc);
    } else {
      store_row16<SC, ST>(wa, zr, zi, P3_IN);
      store_row16<SC, ST>(wb, zr + SIDX(P3_IN), zi + SIDX(P3_IN), P3_IN);
    }
  } else {
    p3_store_inv2<ST, SC, HK>(b, ra, rb, hk);   // inverse stage 2 + store
  }
  hk.end();
}

// The partner (plane index) of plane index p (row a = [0, 8192), row b = [8192, 16384)) in block j's pair map: j != 0:
// (ka, p_in) <-> (kb, 8191 - p_in) (every digit complemented); j = 0: row 0 with pos((8192 - k_in) mod 8192), row N1 / 2
// with its own 8191 - p_in.
__device__ __forceinline__ int p3_partner_plane(int p, int j) {
  if (j != 0) return 2 * P3_IN - 1 - p;   // both directions: 8192 + (8191 - p_in), or 8191 - (p - 8192)
  return p < P3_IN ? p3_pos((P3_IN - p3_freq(p)) & (P3_IN - 1)) : 3 * P3_IN - 1 - p;   // row b: 8192 + (8191 - p_in)
}

// The partner chunk (256 points: the plane's chunk index c < 64, fixed (row, k2, k3)) of chunk c: the chunk holding the
// partners of c's positions (p3_partner_plane maps chunks onto chunks).
__device__ __forceinline__ int p3_partner_chunk(int c, int j) { return p3_partner_plane(c << 8, j) >> 8; }

// Pass 2 with the last two inner stages per warp (lp3_mid16w): as p3_mid16 up to stage 3, then per unit {c, c2} of
// partner chunks one warp does stages 4 and 5 of both chunks in registers (learned_pm.cu's pm_chunk_fwd: stage 4's
// product as an A operand, w256 twiddles, stage 5 as X @ B), the pair map of the unit, the inverse stages 5 and 4
// (pm_chunk_inv), with no block barrier in between (5 fewer than p3_mid16); then inverse stage 3, inverse stage 2 at the
// store. Dynamic shared memory p3_smem(2) + 4096 (the w256 table, monarch_pair.cuh's tw256_init).
// RP (lp3_mid16x, session 26): the pair map in registers where a unit's partner of position i is 255 - i of the other
// chunk (j != 0, and row b of j = 0), as learned_pm3.cu's middle_rp does it (the same values in the same order: the same
// bits); row a of j = 0 (the frequency rule) keeps the shared-memory pair map.
template <bool BF16, typename ST, typename SC, bool RP = false>
__device__ void p3_mid16w(SC* __restrict__ S, const float2* __restrict__ mats, const float4* __restrict__ pq, int h0,
                          int B, int H, int lN1) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  P3Mid<ST> b(smem_raw, h0, B, H, lN1);
  const int N1 = b.N1, j = b.j, T = b.T, h = b.h, ka = b.ka, kb = b.kb, q1 = b.q1, Q = b.Q;
  ST* zr = b.zr;
  ST* zi = b.zi;
  const TwP& tw = b.tw;
  float2* tw256 = reinterpret_cast<float2*>(smem_raw + p3_smem((int)sizeof(ST)));
  tw256_init(tw256);
  b.start(mats);
  SC* ra = S + b.oa;
  SC* rb = S + b.ob;
  P3NoHook hk;
  __syncthreads();
  p3_load_fwd2<ST, SC, P3NoHook>(b, ra, rb, hk);   // load + forward stage 2 (* 1/2), as p3_mid16
  __syncthreads();
  lm_stage_a<BF16, true, ST, TwP, true>(tw, mats + q1 + 4, zr, zi, 8, 4, 1.0f / 16.0f);
  __syncthreads();
  {
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, warp = threadIdx.x >> 5, nw = T >> 5;
    const float2* tl = tw256 + lane;
    const float4* cf = pq + (size_t)h * ((size_t)N1 << P3_LIN);
    const float2* im = mats + Q;
    if constexpr (RP) {   // the units with partners (c2, 255 - i), in a loop of their own (one loop with both paths spilled)
      int r = 0;   // unit u goes to warp u mod nw (the numbering of the loop below), r = u mod nw kept without a division
      for (int c = 0; c < 2 * P3_IN / 256; ++c) {
        const int c2 = p3_partner_chunk(c, j);
        if (c2 < c) continue;
        const int owner = r;
        r = r + 1 == nw ? 0 : r + 1;
        if (owner != warp || !(j != 0 || c >= P3_IN / 256)) continue;
        const float4* cfa = cf + ((c >= P3_IN / 256 ? kb : ka) << P3_LIN) + ((c & (P3_IN / 256 - 1)) << 8);
        const float4* cfb = cf + ((c2 >= P3_IN / 256 ? kb : ka) << P3_LIN) + ((c2 & (P3_IN / 256 - 1)) << 8);
        pm_pair_units<BF16>(mats + q1 + 260, mats + q1 + 516, im + q1 + 516, im + q1 + 260, tl, cfa, cfb, zr, zi, c, c2, g, t);
      }
    }
    int u = 0;   // units so far: unit u goes to warp u mod nw
    for (int c = 0; c < 2 * P3_IN / 256; ++c) {
      const int c2 = p3_partner_chunk(c, j);
      if (c2 < c) continue;
      if (u++ % nw != warp) continue;
      if (RP && (j != 0 || c >= P3_IN / 256)) continue;   // done above
      pm_chunk_fwd<BF16>(mats + q1 + 260, mats + q1 + 516, tl, zr, zi, c << 8, g, t, 1.0f / 16.0f);
      if (c2 != c) pm_chunk_fwd<BF16>(mats + q1 + 260, mats + q1 + 516, tl, zr, zi, c2 << 8, g, t, 1.0f / 16.0f);
      __syncwarp();
      for (int i = lane; i < 256; i += 32) {
        const int p = (c << 8) + i, q = p3_partner_plane(p, j);
        if (q < p) continue;
        const float4 cp = cf[((p >> P3_LIN ? kb : ka) << P3_LIN) + (p & (P3_IN - 1))];
        const float4 cq = cf[((q >> P3_LIN ? kb : ka) << P3_LIN) + (q & (P3_IN - 1))];
        pm_pair_at(cp, cq, zr, zi, p, q);
      }
      __syncwarp();
      pm_chunk_inv<BF16>(im + q1 + 516, im + q1 + 260, tl, zr, zi, c << 8, g, t);
      if (c2 != c) pm_chunk_inv<BF16>(im + q1 + 516, im + q1 + 260, tl, zr, zi, c2 << 8, g, t);
      __syncwarp();
    }
  }
  __syncthreads();
  lm_stage_a<BF16, false, ST, TwP, true>(tw, mats + Q + q1 + 4, zr, zi, 8, 4, 1.0f);
  __syncthreads();
  p3_store_inv2<ST, SC, P3NoHook>(b, ra, rb, hk);   // inverse stage 2 + store, as p3_mid16
}

// ---- the outer passes on tensor cores ----
// A operand (monarch.cuh's FragA layout, re and im; -im is made by negating the B operand) of tile (i, j) of the N1 x N1
// left-form block a: reg r holds row 16 i + g + 8 (r & 1), cols 16 j + 2 t + 8 (r >> 1) + {0, 1}; zero outside N1 x N1.
template <bool BF16, int N1>
__device__ __forceinline__ void p3_frag_outer(const float2* __restrict__ a, int i, int j, uint32_t (&re)[4],
                                              uint32_t (&im)[4]) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int r = 0; r < 4; ++r) {
    const int row = 16 * i + g + 8 * (r & 1), col = 16 * j + 2 * t + 8 * (r >> 1);
    float2 w0 = make_float2(0.f, 0.f), w1 = w0;
    if (row < N1 && col < N1) { w0 = __ldg(a + row * N1 + col); w1 = __ldg(a + row * N1 + col + 1); }
    re[r] = pack2<BF16>(w0.x, w1.x); im[r] = pack2<BF16>(w0.y, w1.y);
  }
}

// Y (16 x 8 tile i, fp32 accumulators yr / yi) = sum_j A(i, j) X(j) for complex A = (fr, fi), X = (xr, xi) per k-tile j
// as B-operand pairs {b0, b1}: yr = fr xr + fi (-xi), yi = fr xi + fi xr (four real products per k-tile).
template <bool BF16, int MT, int KT>
__device__ __forceinline__ void p3_cmma(const uint32_t (&fr)[MT][KT][4], const uint32_t (&fi)[MT][KT][4], int i,
                                        const uint32_t (&xr)[KT][2], const uint32_t (&xi)[KT][2], float (&yr)[4],
                                        float (&yi)[4]) {
#pragma unroll
  for (int q = 0; q < 4; ++q) { yr[q] = 0.f; yi[q] = 0.f; }
#pragma unroll
  for (int j = 0; j < KT; ++j) {
    mma16816<BF16>(yr, fr[i][j], xr[j][0], xr[j][1]);
    mma16816<BF16>(yr, fi[i][j], xi[j][0] ^ 0x80008000u, xi[j][1] ^ 0x80008000u);   // -xi: the sign bits of both halves
    mma16816<BF16>(yi, fr[i][j], xi[j][0], xi[j][1]);
    mma16816<BF16>(yi, fi[i][j], xr[j][0], xr[j][1]);
  }
}

// Raw 16-bit bits of x[i] (0 past L).
template <typename IO>
__device__ __forceinline__ uint32_t p3_bits(const IO* p, int i, int L) {
  return i < L ? (uint32_t)*reinterpret_cast<const unsigned short*>(p + i) : 0u;
}

// Pass 1 on tensor cores. Grid (8192 / (8 warps x 8), gy), block 256; block (bx, by) takes columns 64 bx .. + 63 of chunk
// rows by, by + gy, ..; warp w columns q0 = 64 bx + 8 w .. + 7. Thread (g, t) loads X[n1][q0 + g], n1 = 16 j + 2 t +
// {0, 1, 8, 9} (one 4-byte (re, im) word each; 32-byte runs per warp access), and writes Y[k1][q0 + 2 t + {0, 1}] w_M^(k1 q)
// / N1, k1 = 16 i + g + {0, 8} (one 8-byte store each).
template <int N1, bool BF16, typename IO, typename SC>
__device__ void p3_outertc_fwd(const IO* __restrict__ x, const float2* __restrict__ mats, SC* __restrict__ S, int L,
                               int h0, int B, int H, int rows) {
  constexpr int MT = N1 >= 16 ? N1 / 16 : 1, KT = MT, M = N1 * P3_IN;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int q0 = (blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5)) * 8;
  uint32_t fr[MT][KT][4], fi[MT][KT][4];
#pragma unroll
  for (int i = 0; i < MT; ++i)
#pragma unroll
    for (int j = 0; j < KT; ++j) p3_frag_outer<BF16, N1>(mats, i, j, fr[i][j], fi[i][j]);
  float2 w[MT][2][2];   // w_M^(k1 q) / N1 (k1 q < 2^18 exact in fp32, reduced mod M; sincospif: ~1 ulp)
#pragma unroll
  for (int i = 0; i < MT; ++i)
#pragma unroll
    for (int hh = 0; hh < 2; ++hh)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int k1 = 16 * i + g + 8 * hh, q = q0 + 2 * t + e;
        float s, c; sincospif(-2.0f * (float)((k1 * q) & (M - 1)) / (float)M, &s, &c);
        w[i][hh][e] = make_float2(c / (float)N1, s / (float)N1);
      }
  const bool vec = (L & 1) == 0;   // every (re, im) word 4-byte aligned
  for (int rc = blockIdx.y; rc < rows; rc += gridDim.y) {
    int h; const long long row = p3_row(rc, h0, B, H, h);
    const IO* xr = x + row * (long long)L;
    uint32_t wv[KT][4];
#pragma unroll
    for (int j = 0; j < KT; ++j)
#pragma unroll
      for (int s = 0; s < 4; ++s) {
        const int n1 = 16 * j + 2 * t + (s & 1) + 8 * (s >> 1), i2 = 2 * (n1 * P3_IN + q0 + g);
        wv[j][s] = 0u;
        if (n1 < N1) {
          if (vec && i2 < L) wv[j][s] = *reinterpret_cast<const uint32_t*>(xr + i2);
          else if (!vec) wv[j][s] = p3_bits(xr, i2, L) | (p3_bits(xr, i2 + 1, L) << 16);
        }
      }
    uint32_t br[KT][2], bi[KT][2];
#pragma unroll
    for (int j = 0; j < KT; ++j) {   // low half: the lower n1 (k index) of the pair; (re, im) words: re low, im high
      br[j][0] = __byte_perm(wv[j][0], wv[j][1], 0x5410); bi[j][0] = __byte_perm(wv[j][0], wv[j][1], 0x7632);
      br[j][1] = __byte_perm(wv[j][2], wv[j][3], 0x5410); bi[j][1] = __byte_perm(wv[j][2], wv[j][3], 0x7632);
    }
    SC* so = S + rc * (long long)(N1 * P3_IN) + q0 + 2 * t;
#pragma unroll
    for (int i = 0; i < MT; ++i) {
      float yr[4], yi[4];
      p3_cmma<BF16, MT, KT>(fr, fi, i, br, bi, yr, yi);
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) {
        const int k1 = 16 * i + g + 8 * hh;
        if (k1 >= N1) continue;
        const float2 a = w[i][hh][0], b = w[i][hh][1];
        const float r0 = yr[2 * hh], i0 = yi[2 * hh], r1 = yr[2 * hh + 1], i1 = yi[2 * hh + 1];
        stc2(so + k1 * P3_IN, r0 * a.x - i0 * a.y, r0 * a.y + i0 * a.x, r1 * b.x - i1 * b.y, r1 * b.y + i1 * b.x);
      }
    }
  }
}

// Pass 3 on tensor cores (grid, block, columns as pass 1). Thread (g, t): V[k1][q0 + g] = S[k1][q0 + g] conj(w_M^(k1 q)),
// k1 = 16 j + 2 t + {0, 1, 8, 9}, rounded to the 16-bit operand; E[n1][q0 + 2 t + {0, 1}] = sum_k1 G_1[n1][k1] V[k1],
// n1 = 16 i + g + {0, 8}; out[2m .. 2m + 3] = (Re E, Im E) of the two columns + D x (m = 8192 n1 + q0 + 2 t; indices < L).
template <int N1, bool BF16, typename IO, typename SC>
__device__ void p3_outertc_inv(const SC* __restrict__ S, const float2* __restrict__ mats, const IO* __restrict__ x,
                               const float* __restrict__ D, IO* __restrict__ out, int L, int h0, int B, int H, int rows) {
  constexpr int MT = N1 >= 16 ? N1 / 16 : 1, KT = MT, M = N1 * P3_IN;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int q0 = (blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5)) * 8;
  uint32_t fr[MT][KT][4], fi[MT][KT][4];
  const float2* gm = mats + (N1 * N1 + 4 + 768);
#pragma unroll
  for (int i = 0; i < MT; ++i)
#pragma unroll
    for (int j = 0; j < KT; ++j) p3_frag_outer<BF16, N1>(gm, i, j, fr[i][j], fi[i][j]);
  float2 w[KT][4];   // conj(w_M^(k1 q)), q = q0 + g
#pragma unroll
  for (int j = 0; j < KT; ++j)
#pragma unroll
    for (int s = 0; s < 4; ++s) {
      const int k1 = 16 * j + 2 * t + (s & 1) + 8 * (s >> 1), q = q0 + g;
      float sn, cs; sincospif(2.0f * (float)((k1 * q) & (M - 1)) / (float)M, &sn, &cs);
      w[j][s] = make_float2(cs, sn);
    }
  const bool vec = (L & 3) == 0;   // 8-byte x / out accesses
  for (int rc = blockIdx.y; rc < rows; rc += gridDim.y) {
    int h; const long long row = p3_row(rc, h0, B, H, h);
    const SC* sr = S + rc * (long long)(N1 * P3_IN) + q0 + g;
    uint32_t sv[KT][4];
#pragma unroll
    for (int j = 0; j < KT; ++j)
#pragma unroll
      for (int s = 0; s < 4; ++s) {
        const int k1 = 16 * j + 2 * t + (s & 1) + 8 * (s >> 1);
        sv[j][s] = k1 < N1 ? *reinterpret_cast<const uint32_t*>(sr + k1 * P3_IN) : 0u;
      }
    const IO* xr = x + row * (long long)L;
    IO* orow = out + row * (long long)L;
    uint2 xv[MT][2];
#pragma unroll
    for (int i = 0; i < MT; ++i)
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) {
        const int n1 = 16 * i + g + 8 * hh, e0 = 2 * (n1 * P3_IN + q0 + 2 * t);
        xv[i][hh] = make_uint2(0u, 0u);
        if (vec && n1 < N1 && e0 < L) xv[i][hh] = *reinterpret_cast<const uint2*>(xr + e0);
      }
    uint32_t br[KT][2], bi[KT][2];
#pragma unroll
    for (int j = 0; j < KT; ++j) {
      float vr[4], vi[4];
#pragma unroll
      for (int s = 0; s < 4; ++s) {
        const float2 z = ldc(reinterpret_cast<const SC*>(&sv[j][s])), c = w[j][s];
        vr[s] = z.x * c.x - z.y * c.y; vi[s] = z.x * c.y + z.y * c.x;
      }
      br[j][0] = pack2<BF16>(vr[0], vr[1]); br[j][1] = pack2<BF16>(vr[2], vr[3]);
      bi[j][0] = pack2<BF16>(vi[0], vi[1]); bi[j][1] = pack2<BF16>(vi[2], vi[3]);
    }
    const float d = D[h];
#pragma unroll
    for (int i = 0; i < MT; ++i) {
      float er[4], ei[4];
      p3_cmma<BF16, MT, KT>(fr, fi, i, br, bi, er, ei);
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) {
        const int n1 = 16 * i + g + 8 * hh, e0 = 2 * (n1 * P3_IN + q0 + 2 * t);
        if (n1 >= N1) continue;
        const float v[4] = {er[2 * hh], ei[2 * hh], er[2 * hh + 1], ei[2 * hh + 1]};
        if (vec && e0 < L) {   // L % 4 == 0 and e0 % 4 == 0: e0 + 3 < L
          const IO* xe = reinterpret_cast<const IO*>(&xv[i][hh]);
          union { uint2 u; IO e[4]; } o;
#pragma unroll
          for (int k = 0; k < 4; ++k) st(&o.e[k], fmaf(d, ld(xe + k), v[k]));
          *reinterpret_cast<uint2*>(orow + e0) = o.u;
        } else if (!vec) {
#pragma unroll
          for (int k = 0; k < 4; ++k)
            if (e0 + k < L) st(orow + e0 + k, fmaf(d, ld(xr + e0 + k), v[k]));
        }
      }
    }
  }
}

#ifndef LP3B_HELPERS_ONLY   // learned_p3g.cu includes this file for its device code only
#define LP3B_OUTER(N1, TAG, IO)                                                                                         \
  extern "C" __global__ void __launch_bounds__(256) lp3_outer16_fwd##N1##_##TAG(const IO* __restrict__ x,                \
      const float2* __restrict__ mats, P3Io<IO>::SC* __restrict__ S, int L, int h0, int B, int H) {                      \
    p3_outer_fwd<N1, IO, P3Io<IO>::SC>(x, mats, S, L, h0, B, H);                                                        \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256) lp3_outer16_inv##N1##_##TAG(const P3Io<IO>::SC* __restrict__ S,      \
      const float2* __restrict__ mats, const IO* __restrict__ x, const float* __restrict__ D, IO* __restrict__ out,      \
      int L, int h0, int B, int H) {                                                                                    \
    p3_outer_inv<N1, IO, P3Io<IO>::SC>(S, mats, x, D, out, L, h0, B, H);                                                \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256, 2) lp3_outertc_fwd##N1##_##TAG(const IO* __restrict__ x,             \
      const float2* __restrict__ mats, P3Io<IO>::SC* __restrict__ S, int L, int h0, int B, int H, int rows) {            \
    p3_outertc_fwd<N1, P3Io<IO>::BF16, IO, P3Io<IO>::SC>(x, mats, S, L, h0, B, H, rows);                                \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256, 2) lp3_outertc_inv##N1##_##TAG(const P3Io<IO>::SC* __restrict__ S,   \
      const float2* __restrict__ mats, const IO* __restrict__ x, const float* __restrict__ D, IO* __restrict__ out,      \
      int L, int h0, int B, int H, int rows) {                                                                          \
    p3_outertc_inv<N1, P3Io<IO>::BF16, IO, P3Io<IO>::SC>(S, mats, x, D, out, L, h0, B, H, rows);                        \
  }
// names: lp3_outer16_{fwd,inv}<N1>_<io> (CUDA cores), lp3_outertc_{fwd,inv}<N1>_<io> (tensor cores); scratch 16-bit
LP3B_OUTER(8, bf16, __nv_bfloat16)
LP3B_OUTER(16, bf16, __nv_bfloat16)
LP3B_OUTER(32, bf16, __nv_bfloat16)
LP3B_OUTER(8, f16, __half)
LP3B_OUTER(16, f16, __half)
LP3B_OUTER(32, f16, __half)

// names: lp3_mid16_<io>: 16-bit planes and scratch, block 256, three per SM
// lp3_mid16w_<io>: the last two inner stages per warp; dynamic shared memory p3_smem(2) + 4096
#define LP3B_MID(NAME, FN, IO)                                                                                          \
  extern "C" __global__ void __launch_bounds__(256, 3) NAME(P3Io<IO>::SC* __restrict__ S, const float2* __restrict__ mats, \
      const float4* __restrict__ pq, int h0, int B, int H, int lN1) {                                                   \
    FN<P3Io<IO>::BF16, IO, P3Io<IO>::SC>(S, mats, pq, h0, B, H, lN1);                                                   \
  }
LP3B_MID(lp3_mid16_bf16, p3_mid16, __nv_bfloat16)
LP3B_MID(lp3_mid16_f16, p3_mid16, __half)
LP3B_MID(lp3_mid16w_bf16, p3_mid16w, __nv_bfloat16)
LP3B_MID(lp3_mid16w_f16, p3_mid16w, __half)
// lp3_mid16x_<io> (session 26): lp3_mid16w with the pair map in registers (RP)
#define LP3B_MIDX(NAME, IO)                                                                                             \
  extern "C" __global__ void __launch_bounds__(256, 3) NAME(P3Io<IO>::SC* __restrict__ S, const float2* __restrict__ mats, \
      const float4* __restrict__ pq, int h0, int B, int H, int lN1) {                                                   \
    p3_mid16w<P3Io<IO>::BF16, IO, P3Io<IO>::SC, true>(S, mats, pq, h0, B, H, lN1);                                      \
  }
LP3B_MIDX(lp3_mid16x_bf16, __nv_bfloat16)
LP3B_MIDX(lp3_mid16x_f16, __half)
#endif   // LP3B_HELPERS_ONLY
