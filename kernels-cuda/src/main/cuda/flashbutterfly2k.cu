// FlashButterfly causal forward for N = 512, 1K, 2K (L <= N/2) with every stage on tensor cores, one warp per batch pair.
// Shapes: B batch, H channels, L length (causal: 2L <= N), N = R1 * 256 FFT size (R1 in {2, 4, 8}).
//   u, y : (B, H, L) row-major, 16-bit (bf16 or fp16, the compute type); y must not alias u.
//   kf   : (H, N) float2, the kernel spectrum in the Monarch order of monarch.cuh (position 256 k1 + 16 k2 + k3 holds
//          K[k1 + R1 (k2 + 16 k3)]): the plan's spectrum, shared with the other kernels.
//   D    : (H) fp32.   tab: the tables of fbk_tables (per N and compute type, built once per plan).
// The math is monarch.cuh's (z = u[b] + i u[b+1], forward carrying 1/N, product, unscaled inverse), with n = 256 r1 + m,
// m = 16 r2 + r3 and the twiddles regrouped (w = exp(-2 pi i / N)):
//   S1   y1[k1][m] = sum_{r1 < R1/2} z[256 r1 + m] w_R1^(r1 k1) w^(16 k1 r2) / R1  -- one 16 x 16 x 8 MMA per 8 columns m
//        (same r2): w^(16 k1 r2) goes into the MMA's matrix (16 per N, split hi + lo over K: about fp32-exact);
//   S2   Y = F16 @ X per chunk k1 (X[r2][r3] = y1[k1][16 r2 + r3]), then Y[k2][r3] *= w^(r3 (R1 k2 + k1)) / 16 -- monarch's
//        S = 256 stage twiddle w_256^(k2 r3) times the part w^(k1 r3) of the first stage's that S2 does not touch;
//   S3   Z = Y @ F16, P = Z * (Kf + D) / 16 (the skip term D u as the kernel's lag-0 tap: no second read of u; conj for
//        the adjoint, flags bit 1: conj(Kf) + D), then the inverse of S3 as W^T = conj(F16) @ P^T
//        (P's A-operand registers are P^T's B operands: no transpose), W^T *= conj of S2's twiddle (unscaled), then
//        V^T = W^T @ conj(F16) (the inverse of S2);
//   S1^-1 y[256 r1 + m] = sum_k1 conj(w_R1^(r1 k1) w^(16 k1 r2)) V[k1][m] -- one MMA per 8 columns, hi + lo rows.
// Shared memory: per warp two 16-bit planes (re, im) of R1 chunks of 256 (+8 pad: chunks 4 banks apart), 16-byte
// segments of a chunk swizzled (segment s at s ^ ((s >> 3) & 1)), so that ldmatrix / stmatrix (sm_90) move whole MMA
// fragments without bank conflicts. u is staged (cp.async, 16 bytes) into the re plane in place of S1's output: S1's
// tile reads a segment of every staged row before it writes that segment of every chunk. A block's warps take
// consecutive batch pairs of one channel: its spectrum is staged in shared memory once per block (the only block
// barrier); the tables (49 KB at N = 2K, the same for every block) come from L1. Each step's operands are loaded one
// step ahead, and the next pair's u is staged while the inverse first stage frees the planes. The _hp kernels (TW_HP,
// session 8) copy the half2 twiddles into shared memory next to the spectrum and load every table operand further
// ahead (see pair()); ncu showed the default kernels' table loads sunk next to their use by the compiler.
// sm_80 has no stmatrix: the sm_80 code is empty (the plans route sm_80 to the monarch.cuh kernels, FlashButterfly2K).
#ifdef FBK_EMU
#include "fbk_emu.h"   // host emulation of the warp primitives (kernels-cuda/src/test/cuda, not part of the build)
#else
#include "monarch.cuh"
#endif

namespace fbk {

constexpr int CS = 264;   // chunk stride in 16-bit elements (528 bytes: consecutive chunks start 4 banks apart)
constexpr uint32_t NEG2 = 0x80008000u;

// element offset of 16-byte segment s (8 elements m = 8 s .. 8 s + 7) inside a chunk
__device__ __forceinline__ int seg(int s) { return (s ^ ((s >> 3) & 1)) << 3; }

// Table layout (32-bit words): A1[16 r2][32 lane][4] (S1's A fragments), A2[16][32][4] (S1^-1's), TF[R1][32][8] float2
// (S2's output twiddles in accumulator order), TI[R1][32][8] float2 (the inverse's, in W^T's accumulator order),
// FR[32 lane][8] (F16 as an A operand: re[4], im[4]).
__host__ __device__ constexpr int tab_f16(int r1) { return 4096 + 1024 * r1; }
// TH[R1][32 lane][2 (fwd, inv)][8]: the same twiddles as half2 (re, im) (flags bit 16: half the L1 footprint).
__host__ __device__ constexpr int tab_th(int r1) { return tab_f16(r1) + 256; }
__host__ __device__ constexpr int tab_words(int r1) { return tab_th(r1) + 512 * r1; }

#ifndef FBK_EMU
__device__ __forceinline__ uint32_t saddr(const void* p) { return (uint32_t)__cvta_generic_to_shared(p); }
__device__ __forceinline__ void ldsm_x4_t(uint32_t (&r)[4], const uint16_t* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(saddr(p)));
}
template <bool TRANS>
__device__ __forceinline__ void stsm_x4(uint16_t* p, uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if (TRANS) asm volatile("stmatrix.sync.aligned.m8n8.x4.trans.shared.b16 [%0], {%1,%2,%3,%4};\n"
                          :: "r"(saddr(p)), "r"(a), "r"(b), "r"(c), "r"(d) : "memory");
  else asm volatile("stmatrix.sync.aligned.m8n8.x4.shared.b16 [%0], {%1,%2,%3,%4};\n"
                    :: "r"(saddr(p)), "r"(a), "r"(b), "r"(c), "r"(d) : "memory");
#endif
}
__device__ __forceinline__ void cp16(void* dst, const void* src, int bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" :: "r"(saddr(dst)), "l"(src), "r"(bytes) : "memory");
}
__device__ __forceinline__ void cp_wait() { asm volatile("cp.async.wait_all;\n" ::: "memory"); }
__device__ __forceinline__ uint4 ldg4(const void* p) { return __ldg(reinterpret_cast<const uint4*>(p)); }
__device__ __forceinline__ float4 ldgf4(const void* p) { return __ldg(reinterpret_cast<const float4*>(p)); }
__device__ __forceinline__ float4 ldcgf4(const void* p) { return __ldcg(reinterpret_cast<const float4*>(p)); }   // L2 only
// a read-only 16-byte load that stays where it is written (volatile asm: not sunk toward its use past the MMAs)
__device__ __forceinline__ uint4 ldg4v(const void* p) {
  uint4 r; asm volatile("ld.global.nc.v4.u32 {%0,%1,%2,%3}, [%4];\n" : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w) : "l"(p)); return r;
}
#endif

// The spectrum staged in shared memory per block: 16-byte unit u (float2 2u, 2u + 1) of a 256-point chunk at
// u ^ (((u >> 3) & 1) << 2): a warp's float4 reads (rows k2 = g + 8 hh, cols 8j + 2t) then hit 8 bank groups per phase.
__device__ __forceinline__ int kswz(int u) { return u ^ (((u >> 3) & 1) << 2); }

template <bool BF16> __device__ __forceinline__ float lo16(uint32_t v);
template <> __device__ __forceinline__ float lo16<true>(uint32_t v) { return __uint_as_float(v << 16); }
template <> __device__ __forceinline__ float lo16<false>(uint32_t v) { return __half2float(__ushort_as_half((unsigned short)(v & 0xffff))); }
template <bool BF16> __device__ __forceinline__ float hi16(uint32_t v);
template <> __device__ __forceinline__ float hi16<true>(uint32_t v) { return __uint_as_float(v & 0xffff0000u); }
template <> __device__ __forceinline__ float hi16<false>(uint32_t v) { return __half2float(__ushort_as_half((unsigned short)(v >> 16))); }
template <bool BF16> __device__ __forceinline__ uint16_t bits16(float v) { return (uint16_t)(pack2<BF16>(v, 0.f) & 0xffff); }

// hi + lo 16-bit split of v; which: 0 hi, 1 lo
template <bool BF16>
__device__ __forceinline__ float split16(double v, int which) {
  const float hi = lo16<BF16>(bits16<BF16>((float)v));
  return which == 0 ? hi : lo16<BF16>(bits16<BF16>((float)(v - (double)hi)));
}

// S1's matrix for r2: rows rho = part * 8 + k1 (part 0: Re, 1: Im of the output), columns kappa = hl * 8 + b * 4 + r
// (hl: hi / lo half of the coefficient, input row u[b], r = r1): c = w_R1^(r k1) w^(16 k1 r2) / R1 on z = u0 + i u1.
template <bool BF16>
__device__ float s1_coef(int R1, int r2, int rho, int kappa) {
  const int part = rho >> 3, k1 = rho & 7, hl = kappa >> 3, b = (kappa >> 2) & 1, r = kappa & 3, N = 256 * R1;
  if (k1 >= R1 || r >= R1 / 2) return 0.f;
  double s, c;
  sincospi(-2.0 * (double)((k1 * (256 * r + 16 * r2)) % N) / N, &s, &c);
  c /= R1; s /= R1;
  const double v = part == 0 ? (b == 0 ? c : -s) : (b == 0 ? s : c);   // (c + i s)(u0 + i u1)
  return split16<BF16>(v, hl);
}
// S1^-1's matrix for r2: rows rho = hl * 8 + b * 4 + r1 (output y[b] at 256 r1 + m, hi / lo half), columns
// kappa = part * 8 + k1 (Re / Im of V[k1]): c = conj(w_R1^(r1 k1) w^(16 k1 r2)), unscaled.
template <bool BF16>
__device__ float s1i_coef(int R1, int r2, int rho, int kappa) {
  const int hl = rho >> 3, b = (rho >> 2) & 1, r1 = rho & 3, part = kappa >> 3, k1 = kappa & 7, N = 256 * R1;
  if (k1 >= R1 || r1 >= R1 / 2) return 0.f;
  double s, c;
  sincospi(2.0 * (double)((k1 * (256 * r1 + 16 * r2)) % N) / N, &s, &c);
  const double v = b == 0 ? (part == 0 ? c : -s) : (part == 0 ? s : c);   // Re / Im of (c + i s)(Vr + i Vi)
  return split16<BF16>(v, hl);
}

// The tables for one N and compute type: tab_words(R1) words; any grid and block (grid-stride loop).
template <bool BF16>
__device__ void tables(uint32_t* tab, int log2N) {
  const int R1 = 1 << (log2N - 8), N = 1 << log2N, total = tab_words(R1);
  for (int w = blockIdx.x * blockDim.x + threadIdx.x; w < total; w += gridDim.x * blockDim.x) {
    if (w < 4096) {   // A fragments: reg i of lane (g, t) = rows g + 8 (i & 1), cols 2t + 8 (i >> 1) + {0, 1}
      const int inv = w >> 11, r2 = (w >> 7) & 15, lane = (w >> 2) & 31, i = w & 3, g = lane >> 2, t = lane & 3;
      const int row = g + 8 * (i & 1), col = 2 * t + 8 * (i >> 1);
      const float a = inv ? s1i_coef<BF16>(R1, r2, row, col) : s1_coef<BF16>(R1, r2, row, col);
      const float b = inv ? s1i_coef<BF16>(R1, r2, row, col + 1) : s1_coef<BF16>(R1, r2, row, col + 1);
      tab[w] = pack2<BF16>(a, b);
    } else if (w >= tab_th(R1)) {   // half2 twiddles: (k1, lane, direction, e)
      const int x = w - tab_th(R1), k1 = x >> 9, lane = (x >> 4) & 31, inv = (x >> 3) & 1, e = x & 7;
      const int g = lane >> 2, t = lane & 3, j = e >> 2, q = e & 3;
      const int a = g + 8 * (q >> 1), b = 8 * j + 2 * t + (q & 1), k2 = inv ? b : a, r3 = inv ? a : b;
      double s, c;
      sincospi((inv ? 2.0 : -2.0) * (double)((r3 * (R1 * k2 + k1)) % N) / N, &s, &c);
      const double sc = inv ? 1.0 : 1.0 / 16.0;
      tab[w] = pack2<false>((float)(c * sc), (float)(s * sc));
    } else if (w >= tab_f16(R1)) {   // F16[k][r] = exp(-2 pi i k r / 16): reg i = rows g + 8 (i & 1), cols 2t + 8 (i >> 1)
      const int x = w - tab_f16(R1), lane = x >> 3, i = x & 3, im = (x >> 2) & 1, g = lane >> 2, t = lane & 3;
      const int row = g + 8 * (i & 1), col = 2 * t + 8 * (i >> 1);
      double s0, c0, s1, c1;
      sincospi(-(double)((row * col) & 15) / 8.0, &s0, &c0);
      sincospi(-(double)((row * (col + 1)) & 15) / 8.0, &s1, &c1);
      tab[w] = im ? pack2<BF16>((float)s0, (float)s1) : pack2<BF16>((float)c0, (float)c1);
    } else {   // twiddles, element e = 4 j + q of lane (g, t) for chunk k1
      const int v = w - 4096, inv = v >= 512 * R1, x = inv ? v - 512 * R1 : v;
      const int k1 = x >> 9, lane = (x >> 4) & 31, e = (x >> 1) & 7, comp = x & 1, g = lane >> 2, t = lane & 3;
      const int j = e >> 2, q = e & 3;
      const int a = g + 8 * (q >> 1), b = 8 * j + 2 * t + (q & 1);   // (k2, r3) forward, (r3, k2) inverse
      const int k2 = inv ? b : a, r3 = inv ? a : b;
      double s, c;
      sincospi((inv ? 2.0 : -2.0) * (double)((r3 * (R1 * k2 + k1)) % N) / N, &s, &c);
      const double sc = inv ? 1.0 : 1.0 / 16.0;
      tab[w] = __float_as_uint((float)((comp ? s : c) * sc));
    }
  }
}

// The S = 256 twiddles (template TW): TW_TABLE an fp32 table (4 float4 per lane, chunk and direction), TW_HALF a half2
// table (_ht), TW_HP the half2 table copied to shared memory, every load pipelined (_hp, pair()). (Session 7's _rt
// kernels, the twiddles computed in registers, measured slower: 0.241 vs 0.212 ms at L = 1K; removed in session 8.)
// TW_HW: _hp with 16-byte y stores (a quad transpose of two steps' outputs) and the next pair staged by all 32 lanes.
constexpr int TW_TABLE = 0, TW_HALF = 1, TW_HP = 3, TW_HW = 4;

// HT: a lane's 8 twiddles for one chunk and direction (e = 4 j + q) as half2 (2 uint4, converted on use); p: its row.
struct TwRow {
  uint4 v[2];
  __device__ __forceinline__ void load(const uint32_t* p) { v[0] = ldg4(p); v[1] = ldg4(p + 4); }
  __device__ __forceinline__ void lds(const uint4* p) { v[0] = p[0]; v[1] = p[32]; }   // PF: from the block's copy
  __device__ __forceinline__ float2 at(int e) const {
    const uint4 w = v[e >> 2];
    const uint32_t x = (e & 3) == 0 ? w.x : (e & 3) == 1 ? w.y : (e & 3) == 2 ? w.z : w.w;
    return __half22float2(*reinterpret_cast<const __half2*>(&x));
  }
};

// Lane t of each quad holds w[m] = row words at columns 8 m + 2t (m = 0..3); returns the 8 columns 8 t .. 8 t + 7 of the
// row: word t' of lane t is w[t] of lane t'. Round j: lane t sends w[(t + j) & 3] and receives from lane t - j (3 shuffles).
__device__ __forceinline__ uint4 quad_transpose(const uint32_t (&w)[4], int t) {
  const uint32_t a0 = t & 1 ? w[1] : w[0], a1 = t & 1 ? w[2] : w[1], a2 = t & 1 ? w[3] : w[2], a3 = t & 1 ? w[0] : w[3];
  const uint32_t s1 = t & 2 ? a3 : a1, s2 = t & 2 ? a0 : a2, s3 = t & 2 ? a1 : a3, s0 = t & 2 ? a2 : a0;   // s[j] = w[(t + j) & 3]
  const int q = (threadIdx.x & 31) & ~3;
  const uint32_t r1 = __shfl_sync(0xffffffffu, s1, q | ((t - 1) & 3)), r2 = __shfl_sync(0xffffffffu, s2, q | ((t - 2) & 3)),
                 r3 = __shfl_sync(0xffffffffu, s3, q | ((t - 3) & 3));   // r[j]: word t of lane t - j
  // out[t'] = r[(t - t') & 3]: p = (r0, r3, r2, r1) rotated right by t
  const uint32_t p0 = s0, p1 = r3, p2 = r2, p3 = r1;
  const uint32_t b0 = t & 1 ? p3 : p0, b1 = t & 1 ? p0 : p1, b2 = t & 1 ? p1 : p2, b3 = t & 1 ? p2 : p3;
  return t & 2 ? make_uint4(b2, b3, b0, b1) : make_uint4(b0, b1, b2, b3);
}

// Stage a pair's rows (p1 == nullptr: zero) into the re plane with cp.async: staged row s = b * RH + r holds
// u[b][256 r .. 256 r + 255] in chunk s (VEC only: L % 8 == 0, 16-byte aligned rows).
template <int RH, typename IO>
__device__ __forceinline__ void stage_rows(uint16_t* re, const IO* p0, const IO* p1, int L) {
#pragma unroll
  for (int s = 0; s < 2 * RH; ++s) {
    const int n = 256 * (s % RH) + 8 * (threadIdx.x & 31);
    const IO* src = s < RH ? p0 : p1;
    const bool ok = n < L && src != nullptr;
    cp16(re + s * CS + seg(threadIdx.x & 31), ok ? (const void*)(src + n) : (const void*)p0, ok ? 16 : 0);
  }
}

// One batch pair: rows p0 = u[b0], p1 = u[b0 + 1] (nullptr: B odd, the last pair), outputs q0, q1. VEC: L % 8 == 0
// and 16-byte aligned rows (cp.async staging, 4-byte output stores); else element-wise. ks: the block's spectrum
// (K + D) / 16 (conjugated for the adjoint), so the skip term D u rides through the FFTs: no second read of u.
// The next step's operands (ldmatrix, table fragments, twiddles) are loaded one step ahead; with VEC the next pair's
// rows n0, n1 (n0 == nullptr: none) are staged during S1^-1 as its segments free up, and staged says that this pair's were.
// TW_HP (PF): the twiddle rows come from the block's shared copy (a chunk ahead), S1's and S1^-1's A fragments from L1
// 2 / 4 MMA steps ahead (a register set per step), all unconditional (clamped at the end) and the global ones as
// volatile asm: the profiles showed the compiler's loads sunk next to their use or copied by a predicated MOV.
template <bool BF16, int R1, bool VEC, int TW, typename IO>
__device__ __forceinline__ void pair(const FragA& F, uint16_t* re, uint16_t* im, uint16_t* junk,
                                     const IO* p0, const IO* p1, IO* q0, IO* q1, int L, const float4* ks,
                                     const uint32_t* __restrict__ tab, const IO* n0, const IO* n1, bool staged) {
  constexpr int RH = R1 / 2;
  constexpr bool PF = TW == TW_HP || TW == TW_HW, HT = TW == TW_HALF || PF, WIDE = TW == TW_HW && VEC;
  constexpr int SH = PF ? 2 : 1, SH2 = PF ? 4 : 1;   // PF: S1's / S1^-1's MMA steps per trip, each with its own A registers
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, mi = lane >> 3;
  // ---- stage u into the re plane: staged row s = b * RH + r holds u[b][256 r .. 256 r + 255] in chunk s ----------
  if (VEC) {
    if (!staged) stage_rows<RH>(re, p0, p1, L);
    cp_wait();
  } else {
    for (int idx = lane; idx < 2 * RH * 256; idx += 32) {
      const int s = idx >> 8, m = idx & 255, b = s / RH, r = s % RH, n = 256 * r + m;
      const IO* src = b == 0 ? p0 : p1;
      re[s * CS + seg(m >> 3) + (m & 7)] = (n < L && src != nullptr) ? *reinterpret_cast<const uint16_t*>(src + n) : 0;
    }
  }
  __syncwarp();
  // ---- S1: 4 tiles of 8 columns per ldmatrix ------------------------------------------------------------------------
  {
    const int rr = lane & 7, rb = rr >> 2, rx = rr & 3;
    const uint16_t* src = re + (rb * RH + (rx < RH ? rx : 0)) * CS;   // rows r >= R1/2: zero coefficients, any finite row
    const int k1w = lane & 7;                                          // the chunk this lane's stmatrix row goes to
    uint16_t* dre = re + k1w * CS;   // rows k1 >= R1 (zero) go to the junk row
    uint16_t* dim = im + k1w * CS;
    const uint4* A1 = reinterpret_cast<const uint4*>(tab) + lane;
    uint32_t bx[4];
    ldsm_x4_t(bx, src + seg(mi));
    uint4 ab[SH][2];   // ab[hh]: the A fragments of step hh of a trip (PF: loaded a trip ahead)
    ab[0][0] = ldg4(A1); ab[0][1] = ldg4(A1 + 32);
    if constexpr (PF) { ab[SH - 1][0] = ldg4(A1 + 64); ab[SH - 1][1] = ldg4(A1 + 96); }
#pragma unroll 1
    for (int tq0 = 0; tq0 < 32; tq0 += 4 * SH)
#pragma unroll
    for (int hh = 0; hh < SH; ++hh) {
      const int tq = tq0 + 4 * hh;
      uint4 (&a4)[2] = ab[hh];
      uint32_t pr[4], pi[4];
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const uint32_t a[4] = {a4[h].x, a4[h].y, a4[h].z, a4[h].w};
#pragma unroll
        for (int i = 0; i < 2; ++i) {
          float acc[4] = {0.f, 0.f, 0.f, 0.f};
          mma16816<BF16>(acc, a, bx[2 * h + i], bx[2 * h + i]);   // K = (hi, lo) x (b, r): the same inputs twice
          pr[2 * h + i] = pack2<BF16>(acc[0], acc[1]);
          pi[2 * h + i] = pack2<BF16>(acc[2], acc[3]);
        }
      }
      if constexpr (PF) {   // the next 4 tiles' inputs (the last trip: its own again, unused); A two steps ahead
        ldsm_x4_t(bx, src + seg((tq + 4 < 32 ? tq + 4 : tq) + mi));
        const int na = tq + 8 < 32 ? tq / 2 + 4 : tq / 2;
        a4[0] = ldg4v(A1 + 32 * na); a4[1] = ldg4v(A1 + 32 * (na + 1));
      } else if (tq + 4 < 32) {   // the next 4 tiles' inputs: segments not written yet
        ldsm_x4_t(bx, src + seg(tq + 4 + mi));
        a4[0] = ldg4(A1 + 32 * (tq / 2 + 2)); a4[1] = ldg4(A1 + 32 * (tq / 2 + 3));
      }
      __syncwarp();   // every lane's reads of these segments are done before any lane overwrites them
#pragma unroll
      for (int h = 0; h < 2; ++h) {   // matrices (re tau, im tau, re tau + 1, im tau + 1), tau = tq + 2h
        const int tau = tq + 2 * h + (mi >> 1);
        stsm_x4<false>(k1w < R1 ? ((mi & 1) ? dim : dre) + seg(tau) : junk, pr[2 * h], pi[2 * h], pr[2 * h + 1], pi[2 * h + 1]);
      }
    }
  }
  __syncwarp();
  // ---- S2, S3, product, their inverses: one chunk at a time in registers ------------------------------------------
  const float4* TF = reinterpret_cast<const float4*>(tab + 4096) + lane * 4;
  const float4* TI = reinterpret_cast<const float4*>(tab + 4096 + 512 * R1) + lane * 4;
  const uint32_t* TH = tab + tab_th(R1) + 16 * lane;   // HT: the lane's half2 rows (forward, inverse) of chunk k1 at 512 k1
  const int xoff = seg(2 * (8 * (mi & 1) + (lane & 7)) + (mi >> 1));    // ldmatrix row: r2 = 8 (mi & 1) + (lane & 7), j = mi >> 1
  const int voff = seg(2 * (8 * (mi >> 1) + (lane & 7)) + (mi & 1));    // stmatrix.trans row: r2 = 8j + (lane & 7), h = mi & 1
  const int ko[4] = {kswz(8 * g + t), kswz(8 * g + 4 + t), kswz(8 * (g + 8) + t), kswz(8 * (g + 8) + 4 + t)};   // (hh, j)
  uint32_t xr[4], xi[4];   // B operands: reg 2j + h = rows r2 8h .. 8h + 7 of column tile j
  ldsm_x4_t(xr, re + xoff);
  ldsm_x4_t(xi, im + xoff);
  float4 tf[4];
  const uint4* THs = reinterpret_cast<const uint4*>(ks + 128 * R1) + lane;   // PF: the block's copy, chunk k1 at 128 k1
  TwRow tfh, tih;   // PF: tih lives across chunks too (loaded a chunk ahead)
  if constexpr (PF) { tfh.lds(THs); tih.lds(THs + 64); }
  else if constexpr (TW == TW_HALF) tfh.load(TH);
  else if constexpr (TW == TW_TABLE) {
#pragma unroll
    for (int v = 0; v < 4; ++v) tf[v] = ldgf4(TF + v);
  }
#pragma unroll 1
  for (int k1 = 0; k1 < R1; ++k1) {
    float4 ti[4];
    if constexpr (TW == TW_HALF) tih.load(TH + 512 * k1 + 8);
    else {
#pragma unroll
      for (int v = 0; v < 4; ++v) ti[v] = ldgf4(TI + k1 * 128 + v);
    }
    float sr[2][4], si[2][4];   // S2: Y = F16 @ X, column tiles j
#pragma unroll
    for (int j = 0; j < 2; ++j) {
#pragma unroll
      for (int q = 0; q < 4; ++q) { sr[j][q] = 0.f; si[j][q] = 0.f; }
      mma16816<BF16>(sr[j], F.re, xr[2 * j], xr[2 * j + 1]);
      mma16816<BF16>(sr[j], F.im, xi[2 * j] ^ NEG2, xi[2 * j + 1] ^ NEG2);
      mma16816<BF16>(si[j], F.re, xi[2 * j], xi[2 * j + 1]);
      mma16816<BF16>(si[j], F.im, xr[2 * j], xr[2 * j + 1]);
    }
    const int kn = k1 + 1 < R1 ? k1 + 1 : k1;   // PF: the next chunk (the last: its own again, unused)
    if (PF) {
      ldsm_x4_t(xr, re + kn * CS + xoff);
      ldsm_x4_t(xi, im + kn * CS + xoff);
    } else if (k1 + 1 < R1) {   // the next chunk's X (written by S1; this chunk's V goes elsewhere)
      ldsm_x4_t(xr, re + (k1 + 1) * CS + xoff);
      ldsm_x4_t(xi, im + (k1 + 1) * CS + xoff);
    }
    uint32_t yr[4], yi[4];
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float a[4], b[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        float wx, wy;
        if constexpr (HT) { const float2 w = tfh.at(4 * j + q); wx = w.x; wy = w.y; }
        else { const float4 w4 = tf[2 * j + (q >> 1)]; wx = (q & 1) ? w4.z : w4.x; wy = (q & 1) ? w4.w : w4.y; }
        a[q] = sr[j][q] * wx - si[j][q] * wy;
        b[q] = sr[j][q] * wy + si[j][q] * wx;
      }
      yr[2 * j] = pack2<BF16>(a[0], a[1]); yr[2 * j + 1] = pack2<BF16>(a[2], a[3]);
      yi[2 * j] = pack2<BF16>(b[0], b[1]); yi[2 * j + 1] = pack2<BF16>(b[2], b[3]);
    }
    if constexpr (PF) tfh.lds(THs + 128 * kn);
    else if (k1 + 1 < R1) {
      if constexpr (TW == TW_HALF) tfh.load(TH + 512 * (k1 + 1));
      else if constexpr (TW == TW_TABLE) {
#pragma unroll
        for (int v = 0; v < 4; ++v) tf[v] = ldgf4(TF + (k1 + 1) * 128 + v);
      }
    }
    uint32_t pr[4], pi[4];   // P = Z (K + D) / 16 as an A operand (rows k2, cols k3)
    {
      uint32_t yn[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) yn[i] = yi[i] ^ NEG2;
      const float4* kc = ks + k1 * 128;
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        const float4 v0 = kc[ko[j]], v1 = kc[ko[2 + j]];
        const float2 kw[4] = {make_float2(v0.x, v0.y), make_float2(v0.z, v0.w), make_float2(v1.x, v1.y), make_float2(v1.z, v1.w)};
        float dr[4], di[4];
        mma_f16<BF16, true>(F, j, yr, yi, yn, dr, di);
        float a[4], b[4];
#pragma unroll
        for (int q = 0; q < 4; ++q) {
          a[q] = dr[q] * kw[q].x - di[q] * kw[q].y;
          b[q] = dr[q] * kw[q].y + di[q] * kw[q].x;
        }
        pr[2 * j] = pack2<BF16>(a[0], a[1]); pr[2 * j + 1] = pack2<BF16>(a[2], a[3]);
        pi[2 * j] = pack2<BF16>(b[0], b[1]); pi[2 * j + 1] = pack2<BF16>(b[2], b[3]);
      }
    }
    uint32_t wr[4], wi[4];   // W^T = conj(F16) @ P^T, twiddled: A operand rows r3, cols k2
#pragma unroll
    for (int j = 0; j < 2; ++j) {   // column tile j: k2 = 8j .. 8j + 7; B = P^T: (P reg j, P reg j + 2)
      float dr[4] = {0.f, 0.f, 0.f, 0.f}, di[4] = {0.f, 0.f, 0.f, 0.f};
      mma16816<BF16>(dr, F.re, pr[j], pr[j + 2]);
      mma16816<BF16>(dr, F.im, pi[j], pi[j + 2]);
      mma16816<BF16>(di, F.re, pi[j], pi[j + 2]);
      mma16816<BF16>(di, F.im, pr[j] ^ NEG2, pr[j + 2] ^ NEG2);
      float a[4], b[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        float wx, wy;
        if constexpr (HT) { const float2 w = tih.at(4 * j + q); wx = w.x; wy = w.y; }
        else { const float4 w4 = ti[2 * j + (q >> 1)]; wx = (q & 1) ? w4.z : w4.x; wy = (q & 1) ? w4.w : w4.y; }
        a[q] = dr[q] * wx - di[q] * wy;
        b[q] = dr[q] * wy + di[q] * wx;
      }
      wr[2 * j] = pack2<BF16>(a[0], a[1]); wr[2 * j + 1] = pack2<BF16>(a[2], a[3]);
      wi[2 * j] = pack2<BF16>(b[0], b[1]); wi[2 * j + 1] = pack2<BF16>(b[2], b[3]);
    }
    if constexpr (PF) tih.lds(THs + 128 * kn + 64);   // the next chunk's inverse twiddles
    {   // V^T = W^T @ conj(F16): rows r3, cols r2; stored as V (rows r2) in place of X
      uint32_t wn[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) wn[i] = wr[i] ^ NEG2;
      uint32_t vr[4], vi[4];
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        float dr[4], di[4];
        mma_f16<BF16, false>(F, j, wr, wi, wn, dr, di);
        vr[2 * j] = pack2<BF16>(dr[0], dr[1]); vr[2 * j + 1] = pack2<BF16>(dr[2], dr[3]);
        vi[2 * j] = pack2<BF16>(di[0], di[1]); vi[2 * j + 1] = pack2<BF16>(di[2], di[3]);
      }
      // matrix 2j + h: rows r3 8h.., cols r2 8j..; transposed: stored row r2 = 8j + (lane & 7), segment 2 r2 + h
      stsm_x4<true>(re + k1 * CS + voff, vr[0], vr[1], vr[2], vr[3]);
      stsm_x4<true>(im + k1 * CS + voff, vi[0], vi[1], vi[2], vi[3]);
    }
  }
  __syncwarp();
  // ---- S1^-1, 2 tiles per ldmatrix -------------------------------------------------------------------------------
  const int ob = (g >> 2) & 1, orow = g & 3;   // this lane's output row: y[ob] at 256 orow + m (hi row g, lo row g + 8)
  IO* yrow = ob == 0 ? q0 : q1;
  const bool live = orow < RH && yrow != nullptr;
  const uint16_t* vsrc = ((mi & 1) ? im : re) + ((lane & 7) < R1 ? (lane & 7) : 0) * CS;   // row: chunk k1 (k1 >= R1: zero)
  const uint4* A2 = reinterpret_cast<const uint4*>(tab + 2048) + lane;
  uint32_t bv[4];   // (re tp, im tp, re tp + 1, im tp + 1)
  ldsm_x4_t(bv, vsrc + seg(mi >> 1));
  uint4 ab2[SH2];   // ab2[hh]: the A fragment of step hh of a trip (PF: loaded a trip ahead)
  uint32_t yw[4];   // WIDE: the outputs of two steps (words m = 2 (hh & 1) + i: columns 8 (tp + i) + 2t)
#pragma unroll
  for (int hh = 0; hh < SH2; ++hh) ab2[hh] = ldg4(A2 + 32 * hh);
#pragma unroll 1
  for (int tp0 = 0; tp0 < 32; tp0 += 2 * SH2)
#pragma unroll
  for (int hh = 0; hh < SH2; ++hh) {
    const int tp = tp0 + 2 * hh;
    uint4& a4 = ab2[hh];
    const uint32_t a[4] = {a4.x, a4.y, a4.z, a4.w};
    float acc[2][4];
#pragma unroll
    for (int i = 0; i < 2; ++i) {
#pragma unroll
      for (int q = 0; q < 4; ++q) acc[i][q] = 0.f;
      mma16816<BF16>(acc[i], a, bv[2 * i], bv[2 * i + 1]);
    }
    if constexpr (PF) {   // the next 2 tiles (the last step: its own again, unused); A four steps ahead
      ldsm_x4_t(bv, vsrc + seg((tp + 2 < 32 ? tp + 2 : tp) + (mi >> 1)));
      a4 = ldg4v(A2 + 32 * (tp + 8 < 32 ? tp / 2 + 4 : tp / 2));
    } else if (tp + 2 < 32) {
      ldsm_x4_t(bv, vsrc + seg(tp + 2 + (mi >> 1)));
      a4 = ldg4(A2 + 32 * (tp / 2 + 1));
    }
    if (WIDE && (hh & 1) && n0 != nullptr && lane < 8 * RH) {   // WIDE: segments tp - 2 .. tp + 1, every lane
      const int s = lane >> 2, sg = tp - 2 + (lane & 3), n = 256 * (s % RH) + 8 * sg;
      const IO* src = s < RH ? n0 : n1;
      const bool ok = n < L && src != nullptr;
      cp16(re + s * CS + seg(sg), ok ? (const void*)(src + n) : (const void*)n0, ok ? 16 : 0);
    }
    if (!WIDE && VEC && n0 != nullptr && lane < 4 * RH) {   // segments tp, tp + 1 are read (the MMAs above used them): stage the
      const int s = lane >> 1, sg = tp + (lane & 1), b = s / RH, n = 256 * (s % RH) + 8 * sg;   // next pair's there
      const IO* src = b == 0 ? n0 : n1;
      const bool ok = n < L && src != nullptr;
      cp16(re + s * CS + seg(sg), ok ? (const void*)(src + n) : (const void*)n0, ok ? 16 : 0);
    }
    if constexpr (WIDE) {   // after two steps lane t stores columns 8 (tp - 2 + t) .. + 7 of its row (L % 8 == 0)
#pragma unroll
      for (int i = 0; i < 2; ++i) yw[2 * (hh & 1) + i] = pack2<BF16>(acc[i][0] + acc[i][2], acc[i][1] + acc[i][3]);
      const int n = 256 * orow + 8 * (tp - 2 + t);
      if (hh & 1) {
        const uint4 o = quad_transpose(yw, t);
        if (live && n < L) *reinterpret_cast<uint4*>(yrow + n) = o;
      }
    }
#pragma unroll
    for (int i = 0; i < 2 && !WIDE; ++i) {
      const float v0 = acc[i][0] + acc[i][2], v1 = acc[i][1] + acc[i][3];
      const int n = 256 * orow + 8 * (tp + i) + 2 * t;
      if (!live) continue;
      if (VEC) {
        if (n < L) *reinterpret_cast<uint32_t*>(yrow + n) = pack2<BF16>(v0, v1);
      } else {
        if (n < L) reinterpret_cast<uint16_t*>(yrow)[n] = bits16<BF16>(v0);
        if (n + 1 < L) reinterpret_cast<uint16_t*>(yrow)[n + 1] = bits16<BF16>(v1);
      }
    }
  }
  __syncwarp();   // the planes are free for the next pair
}

__device__ __forceinline__ int warp_smem(int R1) { return 2 * R1 * CS + 8; }   // 16-bit elements per warp (+ junk row)

// Grid (ceil(pairs / (warps * per)), H), block = warps * 32 threads, dynamic smem 8 N + warps * warp_smem(R1) * 2 bytes
// (the channel's spectrum, staged once per block behind the block's only barrier, then the warps' planes).
// flags bit 1: conj(Kf) (the adjoint, du = K^T dy + D dy); bits 8-15: batch pairs per warp (0: 1), one after the other.
// TW: where the S = 256 twiddles come from (TW_TABLE, TW_HALF _ht, TW_HP _hp: 8 N bytes more smem; FlashButterfly2K picks).
template <bool BF16, typename IO, int TW = TW_TABLE>
__device__ void forward(const IO* __restrict__ u, const float2* __restrict__ kf, const float* __restrict__ D,
                        IO* __restrict__ y, const uint32_t* __restrict__ tab, int B, int H, int L, int log2N, int flags) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
#ifdef FBK_EMU
  uint16_t* fbk_smem = fbk_emu_smem();
#else
  extern __shared__ __align__(16) uint16_t fbk_smem[];
#endif
  const int R1 = 1 << (log2N - 8), warp = threadIdx.x >> 5, nw = blockDim.x >> 5, h = blockIdx.y;
  const int per = ((flags >> 8) & 255) > 0 ? (flags >> 8) & 255 : 1;
  constexpr bool PF = TW == TW_HP || TW == TW_HW;
  float4* ks = reinterpret_cast<float4*>(fbk_smem);   // N / 2 units of 16 bytes: (K + D) / 16, conj for the adjoint
  uint4* ths = reinterpret_cast<uint4*>(ks + 128 * R1);   // PF: the half2 twiddles, uint4 (k1, part, lane) (8 N bytes)
  uint16_t* re = fbk_smem + 4 * 256 * R1 * (PF ? 2 : 1) + warp * warp_smem(R1);
  uint16_t* im = re + R1 * CS;
  uint16_t* junk = im + R1 * CS;
  const bool vec = L % 8 == 0 && (reinterpret_cast<uintptr_t>(u) & 15) == 0 && (reinterpret_cast<uintptr_t>(y) & 15) == 0;
  const int bw = 2 * (blockIdx.x * nw + warp) * per;   // the warp's first batch row
  if (PF && vec && bw < B) {   // PF: the first pair's u in flight while the spectrum is staged
    const IO *p0 = u + ((size_t)bw * H + h) * L, *p1 = bw + 1 < B ? p0 + (size_t)H * L : nullptr;
    if (R1 == 2) stage_rows<1>(re, p0, p1, L); else if (R1 == 4) stage_rows<2>(re, p0, p1, L); else stage_rows<4>(re, p0, p1, L);
  }
  {
    const float d = D[h], cs = (flags & 2) ? -1.0f / 16.0f : 1.0f / 16.0f;
    const float2* kh = kf + (size_t)h * (256 * R1);
    constexpr int U = PF ? 4 : 1;   // PF: a thread's U loads in flight before its first store
    for (int i0 = threadIdx.x; i0 < 128 * R1; i0 += U * blockDim.x) {
      float4 v[U];
      uint4 w[U];
#pragma unroll
      for (int k = 0, i = i0; k < U; ++k, i += blockDim.x) {   // PF: the spectrum not through L1 (it would evict the tables)
        v[k] = i >= 128 * R1 ? float4{} : PF ? ldcgf4(kh + 2 * i) : ldgf4(kh + 2 * i);
        if (PF) w[k] = i >= 128 * R1 ? uint4{} : ldg4(tab + tab_th(R1) + 4 * i);   // (k1, lane, part) in the table
      }
#pragma unroll
      for (int k = 0, i = i0; k < U; ++k, i += blockDim.x) {
        if (i >= 128 * R1) continue;
        ks[(i & ~127) | kswz(i & 127)] = make_float4((v[k].x + d) / 16, v[k].y * cs, (v[k].z + d) / 16, v[k].w * cs);
        if (PF) ths[(i & ~127) | (i & 3) << 5 | (i >> 2 & 31)] = w[k];
      }
    }
  }
  __syncthreads();
  FragA F;
  {
    const uint4* fr = reinterpret_cast<const uint4*>(tab + tab_f16(R1)) + 2 * (threadIdx.x & 31);
    const uint4 a = ldg4(fr), b = ldg4(fr + 1);
    F.re[0] = a.x; F.re[1] = a.y; F.re[2] = a.z; F.re[3] = a.w;
    F.im[0] = b.x; F.im[1] = b.y; F.im[2] = b.z; F.im[3] = b.w;
  }
  for (int pp = 0; pp < per; ++pp) {
    const int b0 = 2 * ((blockIdx.x * nw + warp) * per + pp), b2 = b0 + 2;
    if (b0 >= B) break;
    const IO* p0 = u + ((size_t)b0 * H + h) * L;
    const IO* p1 = b0 + 1 < B ? p0 + (size_t)H * L : nullptr;
    IO* q0 = y + ((size_t)b0 * H + h) * L;
    IO* q1 = b0 + 1 < B ? q0 + (size_t)H * L : nullptr;
    const IO* n0 = pp + 1 < per && b2 < B ? u + ((size_t)b2 * H + h) * L : nullptr;   // the next pair's rows
    const IO* n1 = n0 != nullptr && b2 + 1 < B ? n0 + (size_t)H * L : nullptr;
    const bool staged = pp > 0 || (PF && vec);
#define FBK_PAIR(R, V, T) pair<BF16, R, V, T, IO>(F, re, im, junk, p0, p1, q0, q1, L, ks, tab, n0, n1, staged)
    switch (R1) {
      case 2: if (vec) FBK_PAIR(2, true, TW); else FBK_PAIR(2, false, TW); break;
      case 4: if (vec) FBK_PAIR(4, true, TW); else FBK_PAIR(4, false, TW); break;
      default: if (vec) FBK_PAIR(8, true, TW); else FBK_PAIR(8, false, TW);
    }
#undef FBK_PAIR
  }
#endif
}

}  // namespace fbk

#ifndef FBK_EMU
// name: fbk_tables_<compute>: grid any (e.g. 24 x 256 threads), no smem
extern "C" __global__ void fbk_tables_bf16(uint32_t* tab, int log2N) { fbk::tables<true>(tab, log2N); }
extern "C" __global__ void fbk_tables_f16(uint32_t* tab, int log2N) { fbk::tables<false>(tab, log2N); }
// name: fbk_fwd_<io = compute>[_ht | _hp | _hw]: the fp32 twiddle table, the half2 table, the half2 table with pipelined
// loads, the same with 16-byte y stores
#define FBK_FWD(NAME, IO, BF16, TW)                                                                                   \
  extern "C" __global__ void __launch_bounds__(256) NAME(const IO* __restrict__ u, const float2* __restrict__ kf,      \
      const float* __restrict__ D, IO* __restrict__ y, const uint32_t* __restrict__ tab, int B, int H, int L,         \
      int log2N, int flags) {                                                                                         \
    fbk::forward<BF16, IO, TW>(u, kf, D, y, tab, B, H, L, log2N, flags);                                              \
  }
FBK_FWD(fbk_fwd_bf16, __nv_bfloat16, true, fbk::TW_TABLE)
FBK_FWD(fbk_fwd_f16, __half, false, fbk::TW_TABLE)
FBK_FWD(fbk_fwd_bf16_ht, __nv_bfloat16, true, fbk::TW_HALF)
FBK_FWD(fbk_fwd_f16_ht, __half, false, fbk::TW_HALF)
FBK_FWD(fbk_fwd_bf16_hp, __nv_bfloat16, true, fbk::TW_HP)
FBK_FWD(fbk_fwd_f16_hp, __half, false, fbk::TW_HP)
FBK_FWD(fbk_fwd_bf16_hw, __nv_bfloat16, true, fbk::TW_HW)
FBK_FWD(fbk_fwd_f16_hw, __half, false, fbk::TW_HW)
#undef FBK_FWD
#endif
