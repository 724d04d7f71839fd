// Monarch FFT stages in shared memory (the FlashButterfly building blocks).
// N FFT size = R1 * 16^J (N a power of two, 32 .. 32768; R1 in {2,4,8,16}, J >= 1).
//
// The array z[0..N) (two planes zr, zi of fp32, addressed through SIDX to spread banks) is read as the
// row-major tensor [n1][n2]...[nJ+1] with extents R1, 16, ..., 16. Forward stage s takes the DFT along
// axis s for every other index fixed, then multiplies by the twiddle exp(-2*pi*i * k_s * c / M_s), where
// c is the flattened index of the axes after s (extent S_s) and M_s = R_s * S_s. After all stages the
// spectrum X[k] lies at the digit-reversed position of k = k1 + R1*(k2 + 16*(k3 + ...)): we never undo
// that permutation; the kernel spectrum is produced by the same stages, so it is already in this order.
// The inverse runs the stages backwards with conjugate twiddles (applied before each conjugate DFT).
//
// Two ways to do one radix-16 stage:
//  * stage_cc:  CUDA cores, fp32 FMA, one thread per DFT column (slow twin, fp32 accuracy);
//  * stage_mma: tensor cores, mma.sync m16n8k16 with bf16/fp16 operands and fp32 accumulation:
//      type A (S >= 8):  Y = F16 @ X   with X a 16 x S slab (rows = axis s), tiles of 16 x 8 columns;
//      type B (S == 1):  Y = X @ F16   with X the (N/16) x 16 matrix of contiguous rows, tiles of 16 rows.
//    A complex product is four real MMAs: Yr = Fr Xr - Fi Xi, Yi = Fr Xi + Fi Xr (conjugate: signs flip).
// And the last two radix-16 stages at once, per warp in registers (monarch_pair.cuh: conv256_warp, the default).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>
#include <type_traits>

#ifndef SIDX   // a file may lay its planes out otherwise (learned_p3.cu, LP3_PAIRS); FlashButterfly's files use this one
#define SIDX(i) ((i) + ((i) >> 5))
#endif
// SIDX_PAIRS: the layout keeps elements 2 m, 2 m + 1 in one 32-bit word (a pad of 2 elements per 64), so the 16-bit planes'
// helpers below move two adjacent elements of a lane with one access (st_pair / ld_pair; session 24, learned_p3.cu).
#ifndef SIDX_PAIRS
#define SIDX_PAIRS 0
#endif

// Element access for fp32 / bf16 / fp16 arrays (shared or global); arithmetic is always fp32.
__device__ __forceinline__ float ld(const float* p) { return *p; }
__device__ __forceinline__ float ld(const __nv_bfloat16* p) { return __bfloat162float(*p); }
__device__ __forceinline__ float ld(const __half* p) { return __half2float(*p); }
__device__ __forceinline__ void st(float* p, float v) { *p = v; }
__device__ __forceinline__ void st(__nv_bfloat16* p, float v) { *p = __float2bfloat16_rn(v); }
__device__ __forceinline__ void st(__half* p, float v) { *p = __float2half_rn(v); }   // one pad word every 32: rows with stride 32k land in different banks
// Two adjacent elements p[0], p[1] (16-bit: one 32-bit word, p 4-byte aligned under SIDX_PAIRS), rounded as st / ld round.
__device__ __forceinline__ void st_pair(float* p, float a, float b) { p[0] = a; p[1] = b; }
__device__ __forceinline__ void st_pair(__nv_bfloat16* p, float a, float b) { *reinterpret_cast<__nv_bfloat162*>(p) = __floats2bfloat162_rn(a, b); }
__device__ __forceinline__ void st_pair(__half* p, float a, float b) { *reinterpret_cast<__half2*>(p) = __floats2half2_rn(a, b); }
__device__ __forceinline__ float2 ld_pair(const float* p) { return make_float2(p[0], p[1]); }
__device__ __forceinline__ float2 ld_pair(const __nv_bfloat16* p) { return __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(p)); }
__device__ __forceinline__ float2 ld_pair(const __half* p) { return __half22float2(*reinterpret_cast<const __half2*>(p)); }
// Whether planes of ST move in pairs: SIDX_PAIRS and 16-bit storage.
template <typename ST> __host__ __device__ constexpr bool pairs16() { return SIDX_PAIRS && sizeof(ST) == 2; }

// W16[m] = exp(-2*pi*i*m/16)
__constant__ float W16R[16] = {1.000000000f, 0.923879533f, 0.707106781f, 0.382683432f, 0.000000000f,
    -0.382683432f, -0.707106781f, -0.923879533f, -1.000000000f, -0.923879533f, -0.707106781f,
    -0.382683432f, 0.000000000f, 0.382683432f, 0.707106781f, 0.923879533f};
__constant__ float W16I[16] = {0.000000000f, -0.382683432f, -0.707106781f, -0.923879533f, -1.000000000f,
    -0.923879533f, -0.707106781f, -0.382683432f, 0.000000000f, 0.382683432f, 0.707106781f,
    0.923879533f, 1.000000000f, 0.923879533f, 0.707106781f, 0.382683432f};

// Twiddle table in shared memory (tensor-core paths): w(j) = exp(-2*pi*i*j/N) = hi[j >> 7] * lo[j & 127],
// lo[b] = w(b) (128 entries), hi[a] = w(128 a) (max(1, N/128) entries): 3 KB at N = 32K, built once per block
// with sincospif. It replaces a __sincosf and an IEEE division per element per stage, and the lane-divergent
// constant-memory reads that built the DFT fragments.
struct Tw { const float2* lo; const float2* hi; int log2N; };
constexpr int TW_LO = 128;
__host__ __device__ constexpr int tw_entries(int N) { return TW_LO + (N >= TW_LO ? N / TW_LO : 1); }

__device__ __forceinline__ Tw tw_init(float2* t, int log2N) {
  const int N = 1 << log2N;
  const float inv = 2.0f / (float)N;   // exact (N a power of two)
  for (int i = threadIdx.x; i < tw_entries(N); i += blockDim.x) {
    const int j = i < TW_LO ? i : (i - TW_LO) * TW_LO;
    float s, c; sincospif(-(float)j * inv, &s, &c);
    t[i] = make_float2(c, s);
  }
  return Tw{t, t + TW_LO, log2N};
}

// w(j) for 0 <= j < N
__device__ __forceinline__ float2 tw_at(const Tw& T, int j) {
  const float2 a = T.hi[j >> 7], b = T.lo[j & (TW_LO - 1)];
  return make_float2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

// The same table with each part padded (session 23; the learned three-pass middles, learned_p3.cu's P3Mid): entry i of lo
// and of hi at i + (i >> 4). A warp's lookups in tiles_a and the Gram hooks hit entries 16 (128 bytes: one bank) apart;
// unpadded they cost ~5.4 wavefronts a request in those stages against 2 ideal (ncu: 35-50 % of the middles' shared
// wavefronts, the pipe that bounds them), padded ~3.3 (kernels-cuda/bench-runs/s23/banks.py). The same values: the same results.
struct TwP { const float2* lo; const float2* hi; int log2N; };
__host__ __device__ constexpr int twp_entries(int N) {
  return TW_LO + TW_LO / 16 + (N >= TW_LO ? N / TW_LO + N / TW_LO / 16 : 1);   // the last entries: 127 + 7, n - 1 + (n - 1) / 16
}
// TWP_SFU (session 24, the default): w(j) from the special-function unit instead of the table: __sincosf of the angle
// -2 pi j' / N with j' = j or j - N in [-N/2, N/2) (|x| <= pi, where its absolute error is below 2^-21.4: ~4e-7 against the
// 16-bit operands' 2^-9 / 2^-12 rounding). The middles are bound by the shared-memory pipe (ncu, bench-runs/s23/s2: Mem Busy
// 87-92 %, the table's LDS.64 24-37 % of the shared wavefronts); the SFU pipe is idle there. TWP_SFU=0: the padded table.
#ifndef TWP_SFU
#define TWP_SFU 1
#endif
__device__ __forceinline__ TwP twp_init(float2* t, int log2N) {
  const int N = 1 << log2N, nh = N >= TW_LO ? N / TW_LO : 1;
  const float inv = 2.0f / (float)N;   // exact (N a power of two)
#if !TWP_SFU   // under TWP_SFU tw_at never reads the table (its space stays reserved: the same layout, s2 where it was)
  for (int i = threadIdx.x; i < TW_LO + nh; i += blockDim.x) {
    const int j = i < TW_LO ? i : (i - TW_LO) * TW_LO, a = i - TW_LO;
    float s, c; sincospif(-(float)j * inv, &s, &c);
    t[i < TW_LO ? i + (i >> 4) : TW_LO + TW_LO / 16 + a + (a >> 4)] = make_float2(c, s);
  }
#else
  (void)t; (void)nh; (void)inv;
#endif
  return TwP{t, t + TW_LO + TW_LO / 16, log2N};
}
__device__ __forceinline__ float2 tw_at(const TwP& T, int j) {
#if TWP_SFU
  const int sh = 32 - T.log2N, js = (j << sh) >> sh;   // j - N when j >= N / 2 (arithmetic shift)
  float s, c; __sincosf((float)js * (-6.28318530717958648f / (float)(1 << T.log2N)), &s, &c);
  return make_float2(c, s);
#else
  const int h = j >> 7, l = j & (TW_LO - 1);
  const float2 a = T.hi[h + (h >> 4)], b = T.lo[l + (l >> 4)];
  return make_float2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
#endif
}

// (c, s) = exp(sign * 2*pi*i * num / M), M = 2^lM <= N, 0 <= num < M. FAST: from the table T (Tw or TwP); else sincospif
// (fp32 twin).
template <bool FAST, typename TT>
__device__ __forceinline__ void twiddle(const TT& T, int num, int lM, float sign, float& c, float& s) {
  if (FAST) {
    const float2 w = tw_at(T, num << (T.log2N - lM));
    c = w.x; s = -sign * w.y;   // the table holds exp(-...): sign +1 conjugates it
  } else {
    sincospif(sign * 2.0f * (float)num / (float)(1 << lM), &s, &c);
  }
}

// W64[j] = exp(-2*pi*i*j/64), j < 32: the twiddles of the in-register radix-2 FFTs (compile-time indices).
__constant__ float2 W64[32] = {{1.000000000f, 0.000000000f}, {0.995184727f, -0.098017140f}, {0.980785280f, -0.195090322f},
    {0.956940336f, -0.290284677f}, {0.923879533f, -0.382683432f}, {0.881921264f, -0.471396737f},
    {0.831469612f, -0.555570233f}, {0.773010453f, -0.634393284f}, {0.707106781f, -0.707106781f},
    {0.634393284f, -0.773010453f}, {0.555570233f, -0.831469612f}, {0.471396737f, -0.881921264f},
    {0.382683432f, -0.923879533f}, {0.290284677f, -0.956940336f}, {0.195090322f, -0.980785280f},
    {0.098017140f, -0.995184727f}, {0.000000000f, -1.000000000f}, {-0.098017140f, -0.995184727f},
    {-0.195090322f, -0.980785280f}, {-0.290284677f, -0.956940336f}, {-0.382683432f, -0.923879533f},
    {-0.471396737f, -0.881921264f}, {-0.555570233f, -0.831469612f}, {-0.634393284f, -0.773010453f},
    {-0.707106781f, -0.707106781f}, {-0.773010453f, -0.634393284f}, {-0.831469612f, -0.555570233f},
    {-0.881921264f, -0.471396737f}, {-0.923879533f, -0.382683432f}, {-0.956940336f, -0.290284677f},
    {-0.980785280f, -0.195090322f}, {-0.995184727f, -0.098017140f}};

__host__ __device__ constexpr int bitrev(int i, int bits) {
  int r = 0;
  for (int b = 0; b < bits; ++b) r |= ((i >> b) & 1) << (bits - 1 - b);
  return r;
}

// In place, natural order in and out: x <- DFT_R(x) (INV: conjugate DFT, unscaled). Radix 2, fully unrolled by
// template recursion (every register index a compile-time constant: no local-memory arrays).
template <int R, int I>
struct BitrevSwap {
  static __device__ __forceinline__ void run(float (&xr)[R], float (&xi)[R]) {
    constexpr int lR = R == 2 ? 1 : R == 4 ? 2 : R == 8 ? 3 : R == 16 ? 4 : 5;
    constexpr int J = bitrev(I, lR);
    if constexpr (J > I) { float t = xr[I]; xr[I] = xr[J]; xr[J] = t; t = xi[I]; xi[I] = xi[J]; xi[J] = t; }
    BitrevSwap<R, I + 1>::run(xr, xi);
  }
};
template <int R>
struct BitrevSwap<R, R> { static __device__ __forceinline__ void run(float (&)[R], float (&)[R]) {} };

template <int R, bool INV, int LEN>
struct Radix2Stages {
  static __device__ __forceinline__ void run(float (&xr)[R], float (&xi)[R]) {
#pragma unroll
    for (int i = 0; i < R; i += LEN) {
#pragma unroll
      for (int j = 0; j < LEN / 2; ++j) {
        const float2 w = W64[j * (64 / LEN)];
        const float wr = w.x, wi = INV ? -w.y : w.y;
        const int a = i + j, b = i + j + LEN / 2;
        const float vr = xr[b] * wr - xi[b] * wi, vi = xr[b] * wi + xi[b] * wr;
        xr[b] = xr[a] - vr; xi[b] = xi[a] - vi;
        xr[a] += vr; xi[a] += vi;
      }
    }
    if constexpr (2 * LEN <= R) Radix2Stages<R, INV, 2 * LEN>::run(xr, xi);
  }
};

template <int R, bool INV>
__device__ __forceinline__ void dft_reg(float (&xr)[R], float (&xi)[R]) {
  BitrevSwap<R, 0>::run(xr, xi);
  Radix2Stages<R, INV, 2>::run(xr, xi);
}

// One stage on CUDA cores: DFT of size R along an axis with stride S, O outer blocks (N = O * R * S).
// LOWREG (64-register kernels): the outputs one at a time (no full unroll of the k loop).
template <int R, bool FWD, bool FAST, typename ST, bool LOWREG = false>
__device__ void stage_cc(const Tw& T, ST* zr, ST* zi, int lS, int O, float scale) {
  constexpr int lR = R == 2 ? 1 : R == 4 ? 2 : R == 8 ? 3 : 4;
  const int S = 1 << lS, M = R * S, lM = lR + lS;
  const float sg = FWD ? 1.0f : -1.0f;   // conjugate the DFT matrix for the inverse
  for (int it = threadIdx.x; it < O * S; it += blockDim.x) {
    const int o = it >> lS, c = it & (S - 1), base = o * M + c;
    float xr[R], xi[R];
#pragma unroll
    for (int r = 0; r < R; ++r) { xr[r] = ld(zr + SIDX(base + r * S)); xi[r] = ld(zi + SIDX(base + r * S)); }
    if (!FWD && c != 0) {
#pragma unroll
      for (int r = 1; r < R; ++r) {
        float tc, ts; twiddle<FAST>(T, (r * c) & (M - 1), lM, 1.0f, tc, ts);
        const float a = xr[r] * tc - xi[r] * ts, b = xr[r] * ts + xi[r] * tc;
        xr[r] = a; xi[r] = b;
      }
    }
    // The R-point DFT: an in-register radix-2 FFT (R/2 log2 R butterflies instead of R^2 complex products) in the
    // fp32 kernels; the tensor-core kernels (64-register cap, LOWREG) keep the direct product, which they need only
    // for the first stage (R1 < 16) and for N < 256 (R = 16, one output at a time): the FFT's temporaries spill there.
    constexpr bool DIRECT = LOWREG;
    if constexpr (!DIRECT) dft_reg<R, !FWD>(xr, xi);
#pragma unroll (DIRECT && R == 16 ? 1 : R)
    for (int k = 0; k < R; ++k) {
      float ar = 0.f, ai = 0.f;
      if constexpr (DIRECT) {
#pragma unroll
        for (int r = 0; r < R; ++r) {
          const int m = ((k * r) % R) * (16 / R);
          const float wr = W16R[m], wi = sg * W16I[m];
          ar = fmaf(xr[r], wr, fmaf(-xi[r], wi, ar));
          ai = fmaf(xr[r], wi, fmaf(xi[r], wr, ai));
        }
      } else {
        ar = xr[k]; ai = xi[k];
      }
      if (FWD) {
        float tc = 1.f, ts = 0.f;
        if (c != 0 && k != 0) twiddle<FAST>(T, (k * c) & (M - 1), lM, -1.0f, tc, ts);
        tc *= scale; ts *= scale;
        const float a = ar * tc - ai * ts, b = ar * ts + ai * tc;
        ar = a; ai = b;
      }
      st(zr + SIDX(base + k * S), ar); st(zi + SIDX(base + k * S), ai);
    }
  }
}

#include "monarch_mma.cuh"   // the tensor-core helpers and stages (session 28: split out)

#include "monarch_pair.cuh"   // two radix-16 stages per warp in registers, and their first stage

// ---- whole transforms ------------------------------------------------------------------------
// CM: compute mode. 0 = fp32 on CUDA cores, 1 = fp16 tensor cores, 2 = bf16 tensor cores.
// Forward: if SCALED, each stage multiplies by 1/R_s, so the transform carries 1/N (keeps 16-bit operands in range).
template <int R, bool FWD, bool FAST, typename ST, bool LOWREG>
__device__ __forceinline__ void stage_first_cc(const Tw& T, ST* zr, ST* zi, int N, float scale) {
  stage_cc<R, FWD, FAST, ST, LOWREG>(T, zr, zi, __ffs(N / R) - 1, 1, scale);
}

// skipB: leave out the type-B stage (S = 1) because stage_b_conv does it fused with the product.
// PAIR: leave out the last two stages (S = 16 and S = 1; N >= 256): conv256_warp does both (at N = 256 the stage at
// S = 16 is the first). A template parameter so that the other kernels compile exactly as before.
// T: the twiddle table (tensor-core modes; ignored by the fp32 mode CM = 0).
// TABLE: twiddles from T (default for tensor cores; the fp32 kernels that allocate a table pass true too: the
// table's entries are products of two correctly rounded sincospif values, ~2 ulp, and save a sincospif per element).
template <int CM, bool FWD, typename ST, bool TABLE = (CM != 0), bool PAIR = false>
__device__ void monarch_fft(const Tw& T, ST* zr, ST* zi, int log2N, bool scaled, bool skipB = false, bool half = false) {
  constexpr bool TC = CM != 0, BF = CM == 2, FAST = TABLE;
  const int N = 1 << log2N, J = (log2N - 1) / 4, r1log = log2N - 4 * J, R1 = 1 << r1log;
  const float s16 = scaled ? 1.0f / 16.0f : 1.0f, s1 = scaled ? 1.0f / R1 : 1.0f;
  // stages 2..J+1 are radix 16 with stride S = 16^(J+1-s)
  auto radix16 = [&](int s) {
    const int lS = 4 * (J + 1 - s), S = 1 << lS, O = N / (16 * S);
    if (TC && S >= 8) stage_mma_a<BF, FWD, ST>(T, zr, zi, lS, O, s16);
    else if (TC && S == 1 && N >= 256) { if (!skipB) stage_mma_b<BF, FWD, ST>(T, zr, zi, N, s16); }
    else stage_cc<16, FWD, FAST, ST, TC>(T, zr, zi, lS, O, s16);
  };
  // the first stage (R1 < 16) on CUDA cores: the PAIR kernels (80 registers) take stage_first_pair (in-register FFT,
  // recurrence twiddles, the zero half skipped), the others stage_cc (the 64-register ones the direct product)
  auto first = [&]() {
    switch (R1) {
      case 2: if constexpr (PAIR) stage_first_pair<2, FWD, ST>(T, zr, zi, log2N, s1, half);
              else stage_first_cc<2, FWD, FAST, ST, TC>(T, zr, zi, N, s1);
              break;
      case 4: if constexpr (PAIR) stage_first_pair<4, FWD, ST>(T, zr, zi, log2N, s1, half);
              else stage_first_cc<4, FWD, FAST, ST, TC>(T, zr, zi, N, s1);
              break;
      case 8: if constexpr (PAIR) stage_first_pair<8, FWD, ST>(T, zr, zi, log2N, s1, half);
              else stage_first_cc<8, FWD, FAST, ST, TC>(T, zr, zi, N, s1);
              break;
      default:
        if (TC) stage_mma_a<BF, FWD, ST>(T, zr, zi, log2N - 4, 1, s1);
        else stage_first_cc<16, FWD, FAST, ST, TC>(T, zr, zi, N, s1);
    }
  };
  if constexpr (PAIR) {   // stages first (unless J == 1), 2 .. J - 1
    if (FWD) {
      if (J > 1) { first(); __syncthreads(); }
      for (int s = 2; s <= J - 1; ++s) { radix16(s); __syncthreads(); }
    } else {
      for (int s = J - 1; s >= 2; --s) { radix16(s); __syncthreads(); }
      if (J > 1) { first(); __syncthreads(); }
    }
  } else if (FWD) {
    first(); __syncthreads();
    for (int s = 2; s <= J + 1; ++s) { radix16(s); __syncthreads(); }
  } else {
    for (int s = J + 1; s >= 2; --s) { radix16(s); __syncthreads(); }
    first(); __syncthreads();
  }
}

// The whole convolution of one complex row held in shared memory (planes zr, zi of N = 2^log2N points, after a
// barrier): forward FFT carrying 1/N, product with the kernel spectrum k (N complex, Monarch order; conj = -1
// uses conj(k)), inverse. FUSE (tensor cores, N >= 256): the last forward stage, the product and the first
// inverse stage in one pass (stage_b_conv); else the product is its own pass (the unfused twin). Ends with the
// inverse's last barrier.
// PAIR (tensor cores, N >= 256; tw256 from tw256_init): the last two forward stages, the product and the first two
// inverse stages per warp in registers (conv256_warp), two block barriers fewer; fuse is then ignored.
// half (PAIR): L <= N/2 zero-padded input, outputs used below N/2 only (see stage_first_pair; the caller need not
// zero z[N/2, N) when N is not a power of 16, i.e. when pair_half_load(log2N)).
template <int CM, typename ST, bool PAIR = false>
__device__ void conv_smem(const Tw& tw, ST* zr, ST* zi, int log2N, const float2* __restrict__ k, float conj, bool fuse,
                          const float2* tw256 = nullptr, bool half = false) {
  constexpr int U = 8;
  const int N = 1 << log2N, T = blockDim.x;
  if constexpr (PAIR && CM != 0) {
    if (N >= 256) {
      monarch_fft<CM, true, ST, true, true>(tw, zr, zi, log2N, true, false, half);
      conv256_warp<CM == 2>(tw, tw256, zr, zi, N, 1.0f / 16.0f, k, conj);
      __syncthreads();
      monarch_fft<CM, false, ST, true, true>(tw, zr, zi, log2N, false, false, half);
      return;
    }
  }
  const bool fused = fuse && CM != 0 && N >= 256;
  monarch_fft<CM, true, ST, true>(tw, zr, zi, log2N, true, fused);
  if (fused) {
    if constexpr (CM != 0) stage_b_conv<CM == 2>(tw, zr, zi, N, 1.0f / 16.0f, k, conj);
  } else {
    for (int n0 = threadIdx.x; n0 < N; n0 += U * T) {
      float2 w[U];
#pragma unroll
      for (int j = 0; j < U; ++j) {
        const int n = n0 + j * T;
        w[j] = n < N ? k[n] : make_float2(0.f, 0.f);
        w[j].y *= conj;
      }
#pragma unroll
      for (int j = 0; j < U; ++j) {
        const int n = n0 + j * T;
        if (n < N) {
          const float a = ld(zr + SIDX(n)), b = ld(zi + SIDX(n));
          st(zr + SIDX(n), a * w[j].x - b * w[j].y);
          st(zi + SIDX(n), a * w[j].y + b * w[j].x);
        }
      }
    }
  }
  __syncthreads();
  monarch_fft<CM, false, ST, true>(tw, zr, zi, log2N, false, fused);
}
