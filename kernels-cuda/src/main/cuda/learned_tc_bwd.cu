// Block gradients, dKp and dD of the tensor-core learned butterfly (learned_tc.cu's backward), from the intermediates
// its two chains dump. Shapes: B batch, H channels, L length, N = N1 * N2, rows R = B * H (row r = b * H + h).
//   dump (R, 4, N1, 2 N2) 16-bit: per row the slots X1, C (before Kp), P, X3 of one chain, [Re | Im] rows.
//   Forward chain (u):  X1 = B2, C, P, X3 = D2.   Adjoint chain (dy): X1 = N gD1, C = N gP, P = N gC, X3 = gB.
// Gradients (learned.cu's header), summed over rows:
//   dGa = sum gE @ D2^H   (gE = dy, real)          dFa = sum gB @ A^H   (A = u, real)       form B, N1 x N1
//   dGb = sum P^H @ gD1                            dFb = sum B2^H @ gC                      form A, N2 x N2
//   dKp[h] = sum_b gP * conj(C),  dD[h] = sum_b dy . u                                      lbt_dkp
//   dk[h] = Re(IDFT(dKp[h] in natural order))[taps]                                          lbt_taps (radix-2 FFT)
// Form A: G[i][j] += sum_k conj(L[k][i]) R[k][j] (k over the N1 rows); form B: G[i][j] += sum_k L[i][k] conj(R[j][k])
// (k over the N2 columns). Real MMAs (m16n8k16, fp32 accumulators), four per complex tile as in learned_tc.cu:
//   A:  Gr += Lr^T Rr + Li^T Ri,  Gi += Lr^T Ri - Li^T Rr;     B:  Gr += Lr Rr^T + Li Ri^T,  Gi += Li Rr^T - Lr Ri^T.
// lbt_gram: a block of 8 warps takes rows r = blockIdx.x, + gridDim.x, ...; each row's L and R go to shared memory
// (padded rows, as the forward's warp buffer), each warp owns up to two 16 x 16 output tiles in registers over all of
// its block's rows and writes them to part (gridDim.x, M, M) float2 at the end; lbt_gram_reduce sums the parts.
#include "learned_tc.cuh"

// Row r of a source into smem rows of SX: a dump slot (16-bit [Re | Im]) or, src == nullptr, the real x row (Im 0).
template <typename IO, int N1, int N2>
__device__ __forceinline__ void load_operand(const uint16_t* __restrict__ src, const IO* __restrict__ x, size_t r, int slot,
                                             int L, uint16_t* S) {
  constexpr int N = N1 * N2, SX = 2 * N2 + 8, CPR = 2 * N2 / 8;
  if (src != nullptr) {
    const uint16_t* g = src + r * 8 * N + (size_t)slot * 2 * N;
    for (int i = threadIdx.x; i < N1 * CPR; i += blockDim.x) {
      const int row = i / CPR, c = 8 * (i - row * CPR);
      *reinterpret_cast<uint4*>(S + row * SX + c) = *reinterpret_cast<const uint4*>(g + row * 2 * N2 + c);
    }
  } else {
    const IO* xr = x + r * L;
    for (int n = threadIdx.x; n < N; n += blockDim.x) {
      const int row = n / N2, c = n - row * N2;
      st(reinterpret_cast<IO*>(S) + row * SX + c, n < L ? ld(xr + n) : 0.f);
      st(reinterpret_cast<IO*>(S) + row * SX + N2 + c, 0.f);
    }
  }
}

// As load_operand with cp.async (16-byte chunks, committed by the caller): a dump slot, or the real x row (L % 8 == 0,
// chunks past L zero-filled) into the Re half of each row (the Im half was zeroed once).
template <typename IO, int N1, int N2>
__device__ __forceinline__ void load_operand_async(const uint16_t* __restrict__ src, const IO* __restrict__ x, size_t r,
                                                   int slot, int L, uint16_t* S) {
  constexpr int N = N1 * N2, SX = 2 * N2 + 8;
  const int CPR = (src == nullptr ? 1 : 2) * N2 / 8;
  const uint16_t* g = src != nullptr ? src + r * 8 * N + (size_t)slot * 2 * N : reinterpret_cast<const uint16_t*>(x + r * L);
  for (int i = threadIdx.x; i < N1 * CPR; i += blockDim.x) {
    const int row = i / CPR, c = 8 * (i - row * CPR), n = src != nullptr ? row * 2 * N2 + c : row * N2 + c;
    const bool in = src != nullptr || n < L;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" :: "r"((uint32_t)__cvta_generic_to_shared(S + row * SX + c)),
                 "l"(g + (in ? n : 0)), "r"(in ? 16 : 0) : "memory");
  }
}

// load_operand_async with the chunks per row a compile-time constant in each branch (FI, lbf9): the same copies. In
// load_operand_async CPR depends on src at run time, so row = i / CPR is a signed division by a variable, a
// few dozen instructions per 16-byte chunk (lbf9-2 ncu of lbt_gram_bf16_32x64_a_async: 3,113 instructions per row per
// block for 256 MMAs, issue slots 61 % busy, the top stalls wait / not selected / math pipe).
template <typename IO, int N1, int N2>
__device__ __forceinline__ void load_operand_async_fi(const uint16_t* __restrict__ src, const IO* __restrict__ x, size_t r,
                                                      int slot, int L, uint16_t* S) {
  constexpr int N = N1 * N2, SX = 2 * N2 + 8;
  if (src != nullptr) {
    constexpr int CPR = 2 * N2 / 8;
    const uint16_t* g = src + r * 8 * N + (size_t)slot * 2 * N;
    for (int i = threadIdx.x; i < N1 * CPR; i += blockDim.x) {
      const int row = i / CPR, c = 8 * (i % CPR);
      asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" :: "r"((uint32_t)__cvta_generic_to_shared(S + row * SX + c)),
                   "l"(g + row * 2 * N2 + c) : "memory");
    }
  } else {
    constexpr int CPR = N2 / 8;
    const uint16_t* g = reinterpret_cast<const uint16_t*>(x + r * L);
    for (int i = threadIdx.x; i < N1 * CPR; i += blockDim.x) {
      const int row = i / CPR, c = 8 * (i % CPR), n = row * N2 + c;
      const bool in = n < L;
      asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" :: "r"((uint32_t)__cvta_generic_to_shared(S + row * SX + c)),
                   "l"(g + (in ? n : 0)), "r"(in ? 16 : 0) : "memory");
    }
  }
}

template <typename IO, int N1, int N2, bool FI>
__device__ __forceinline__ void lbt_gram_load(const uint16_t* __restrict__ src, const IO* __restrict__ x, size_t r, int slot,
                                              int L, uint16_t* S) {
  if constexpr (FI) load_operand_async_fi<IO, N1, N2>(src, x, r, slot, L, S);
  else load_operand_async<IO, N1, N2>(src, x, r, slot, L, S);
}

// Grid (G), block 256, dynamic smem 2 * 2 * N1 * (2 N2 + 8) bytes (ASYNC: S times that, S buffers: the next S - 1 rows'
// operands are copied by cp.async while the current row's products run; real x operands need L % 8 == 0, else
// synchronous). part: (G, M, M) float2, M = FORM_A ? N2 : N1.
// S > 2 (suffix _async3 / _async4; LearnedButterflyConv.gramStages, lbf9): a deeper cp.async pipeline, S - 1 rows in
// flight per block instead of one (lbf7 / lbf8 ncu: the 1K _a Grams at 61 % of DRAM peak with 4 blocks of 2 buffers per
// SM); the same rows per block in the same order and the same MMAs: the partials are bitwise those of S = 2.
// FI (suffix s: _asyncs, _async3s, _async4s; LearnedButterflyConv.gramIndexing, lbf9): load_operand_async_fi.
template <typename IO, bool BF16, int N1, int N2, bool FORM_A, bool ASYNC, int S = 2, bool FI = false>
__device__ void lbt_gram(const uint16_t* __restrict__ lsrc, int lslot, const IO* __restrict__ lx,
                         const uint16_t* __restrict__ rsrc, int rslot, const IO* __restrict__ rx, float2* __restrict__ part,
                         int rows, int L) {
  constexpr int SX = 2 * N2 + 8, M = FORM_A ? N2 : N1, MTo = M / 16, UNITS = MTo * MTo, UPW = (UNITS + 7) / 8;
  constexpr int KT = FORM_A ? N1 / 16 : N2 / 16;
  extern __shared__ __align__(16) unsigned char smraw[];
  uint16_t* Ls = reinterpret_cast<uint16_t*>(smraw);   // buffer b: Ls + 2 b N1 SX, Rs + 2 b N1 SX (Rs = Ls + N1 SX)
  uint16_t* Rs = Ls + N1 * SX;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, lr = lane & 7, lm = lane >> 3;
  float gr[UPW][2][4], gi[UPW][2][4];
#pragma unroll
  for (int u = 0; u < UPW; ++u)
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int q = 0; q < 4; ++q) { gr[u][j][q] = 0.f; gi[u][j][q] = 0.f; }
  const bool async = ASYNC && (L & 7) == 0;
  static_assert(S >= 2 && (S == 2 || ASYNC), "S buffers: async only");
  if (async)   // the Im halves of real operands stay zero in every buffer
    for (int i = threadIdx.x; i < S * N1 * N2; i += blockDim.x) {
      const int buf = i / (N1 * N2), row = (i / N2) % N1, c = i % N2;
      if (lsrc == nullptr) Ls[2 * buf * N1 * SX + row * SX + N2 + c] = 0;
      if (rsrc == nullptr) Rs[2 * buf * N1 * SX + row * SX + N2 + c] = 0;
    }
  if constexpr (S == 2) {
    if (async && blockIdx.x < rows) {   // the first row
      lbt_gram_load<IO, N1, N2, FI>(lsrc, lx, (size_t)blockIdx.x, lslot, L, Ls);
      lbt_gram_load<IO, N1, N2, FI>(rsrc, rx, (size_t)blockIdx.x, rslot, L, Rs);
    }
    asm volatile("cp.async.commit_group;\n" ::: "memory");
  } else {   // the first S - 1 rows into buffers 0 .. S - 2, one group each
#pragma unroll
    for (int q = 0; q < S - 1; ++q) {
      const int rq = blockIdx.x + q * gridDim.x;
      if (async && rq < rows) {
        lbt_gram_load<IO, N1, N2, FI>(lsrc, lx, (size_t)rq, lslot, L, Ls + 2 * q * N1 * SX);
        lbt_gram_load<IO, N1, N2, FI>(rsrc, rx, (size_t)rq, rslot, L, Rs + 2 * q * N1 * SX);
      }
      asm volatile("cp.async.commit_group;\n" ::: "memory");
    }
  }
  int cb = 0;   // S > 2: the buffer of row r
  for (int r = blockIdx.x, it = 0; r < rows; r += gridDim.x, ++it) {
    __syncthreads();
    if (async && S > 2) {   // buffer cb holds row r; queue row r + (S - 1) G into the previous row's buffer (free after
      const int nb = cb == 0 ? S - 1 : cb - 1;   // the barrier above), then wait for all groups but the newest S - 1
      const int rn = r + (S - 1) * (int)gridDim.x;
      if (rn < rows) {
        lbt_gram_load<IO, N1, N2, FI>(lsrc, lx, (size_t)rn, lslot, L, Ls + 2 * nb * N1 * SX);
        lbt_gram_load<IO, N1, N2, FI>(rsrc, rx, (size_t)rn, rslot, L, Rs + 2 * nb * N1 * SX);
      }
      asm volatile("cp.async.commit_group;\n" ::: "memory");
      asm volatile("cp.async.wait_group %0;\n" :: "n"(S - 1) : "memory");
    } else if (async) {   // buffer it & 1 holds row r (in flight); queue row r + G into the other, then wait for all but that
      uint16_t *Ln = Ls + 2 * ((it + 1) & 1) * N1 * SX, *Rn = Rs + 2 * ((it + 1) & 1) * N1 * SX;
      if (r + (int)gridDim.x < rows) {
        lbt_gram_load<IO, N1, N2, FI>(lsrc, lx, (size_t)(r + gridDim.x), lslot, L, Ln);
        lbt_gram_load<IO, N1, N2, FI>(rsrc, rx, (size_t)(r + gridDim.x), rslot, L, Rn);
      }
      asm volatile("cp.async.commit_group;\n" ::: "memory");
      asm volatile("cp.async.wait_group 1;\n" ::: "memory");
    } else {
      load_operand<IO, N1, N2>(lsrc, lx, (size_t)r, lslot, L, Ls);
      load_operand<IO, N1, N2>(rsrc, rx, (size_t)r, rslot, L, Rs);
    }
    __syncthreads();
    const int cur = S == 2 ? (it & 1) : cb;
    if constexpr (S > 2) cb = cb == S - 1 ? 0 : cb + 1;
    const uint16_t *Lc = Ls + (async ? 2 * cur * N1 * SX : 0), *Rc = Rs + (async ? 2 * cur * N1 * SX : 0);
#pragma unroll
    for (int u = 0; u < UPW; ++u) {
      const int unit = warp + 8 * u;
      if (unit >= UNITS) break;
      const int i0 = 16 * (unit / MTo), j0 = 16 * (unit % MTo);
#pragma unroll
      for (int kk = 0; kk < KT; ++kk) {
        uint32_t ar[4], ai[4], br[4], bi[4];
        if constexpr (FORM_A) {   // A = L^H (L stored [k][i]: trans), B = R (stored [k][j]: trans)
          const uint16_t* pa = Lc + (16 * kk + (lm >> 1) * 8 + lr) * SX + i0 + (lm & 1) * 8;
          ldsm_x4_t(ar, pa);
          ldsm_x4_t(ai, pa + N2);
          const uint16_t* pb = Rc + (16 * kk + (lm & 1) * 8 + lr) * SX + j0 + (lm >> 1) * 8;
          ldsm_x4_t(br, pb);
          ldsm_x4_t(bi, pb + N2);
          const uint32_t nai[4] = {ai[0] ^ SIGN2, ai[1] ^ SIGN2, ai[2] ^ SIGN2, ai[3] ^ SIGN2};
#pragma unroll
          for (int j = 0; j < 2; ++j) {
            mma16816<BF16>(gr[u][j], ar, br[2 * j], br[2 * j + 1]);
            mma16816<BF16>(gr[u][j], ai, bi[2 * j], bi[2 * j + 1]);
            mma16816<BF16>(gi[u][j], ar, bi[2 * j], bi[2 * j + 1]);
            mma16816<BF16>(gi[u][j], nai, br[2 * j], br[2 * j + 1]);
          }
        } else {                  // A = L (stored [i][k]), B = R^H (R stored [j][k]): both non-trans
          const uint16_t* pa = Lc + (i0 + (lm & 1) * 8 + lr) * SX + 16 * kk + (lm >> 1) * 8;
          ldsm_x4(ar, pa);
          ldsm_x4(ai, pa + N2);
          const uint16_t* pb = Rc + (j0 + (lm >> 1) * 8 + lr) * SX + 16 * kk + (lm & 1) * 8;
          ldsm_x4(br, pb);
          ldsm_x4(bi, pb + N2);
          const uint32_t nbi[4] = {bi[0] ^ SIGN2, bi[1] ^ SIGN2, bi[2] ^ SIGN2, bi[3] ^ SIGN2};
#pragma unroll
          for (int j = 0; j < 2; ++j) {
            mma16816<BF16>(gr[u][j], ar, br[2 * j], br[2 * j + 1]);
            mma16816<BF16>(gr[u][j], ai, bi[2 * j], bi[2 * j + 1]);
            mma16816<BF16>(gi[u][j], ai, br[2 * j], br[2 * j + 1]);
            mma16816<BF16>(gi[u][j], ar, nbi[2 * j], nbi[2 * j + 1]);
          }
        }
      }
    }
  }
  float2* p = part + (size_t)blockIdx.x * M * M;
#pragma unroll
  for (int u = 0; u < UPW; ++u) {
    const int unit = warp + 8 * u;
    if (unit >= UNITS) break;
    const int i0 = 16 * (unit / MTo), j0 = 16 * (unit % MTo);
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const int i = i0 + g + 8 * (q >> 1), c = j0 + 8 * j + 2 * t + (q & 1);
        p[i * M + c] = make_float2(gr[u][j][q], gi[u][j][q]);
      }
  }
}

// out[off + e] = scale * sum_p part[p, e], e < E. Grid ceil(E / 256), block 256.
extern "C" __global__ void __launch_bounds__(256) lbt_gram_reduce(const float2* __restrict__ part, int parts, int E,
                                                                  float scale, float2* __restrict__ out, int off) {
  const int e = blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= E) return;
  float sx = 0.f, sy = 0.f;
  for (int q = 0; q < parts; ++q) { const float2 v = part[(size_t)q * E + e]; sx += v.x; sy += v.y; }
  out[off + e] = make_float2(sx * scale, sy * scale);
}

// lbt_gram_reduce2 (LearnedButterflyConv.fastReductions, lbf7): the same sums with the parts split over the 8 warps of a
// block (warp w: parts w, w + 8, ...; lane: one of 32 consecutive elements, 256-byte rows), then the 8 partials summed
// in warp order: another fp32 association than lbt_gram_reduce (which ran 528 parts serially per thread on 4-16 blocks:
// 35 us each at 1K in lbf7-1's ncu). Grid ceil(E / 32), block 256.
extern "C" __global__ void __launch_bounds__(256) lbt_gram_reduce2(const float2* __restrict__ part, int parts, int E,
                                                                   float scale, float2* __restrict__ out, int off) {
  __shared__ float2 red[8][32];
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, e = blockIdx.x * 32 + lane;
  float sx = 0.f, sy = 0.f;
  if (e < E) {
#pragma unroll 4
    for (int q = w; q < parts; q += 8) { const float2 v = part[(size_t)q * E + e]; sx += v.x; sy += v.y; }
  }
  red[w][lane] = make_float2(sx, sy);
  __syncthreads();
  if (w == 0 && e < E) {
    float tx = 0.f, ty = 0.f;
#pragma unroll
    for (int i = 0; i < 8; ++i) { tx += red[i][lane].x; ty += red[i][lane].y; }
    out[off + e] = make_float2(tx * scale, ty * scale);
  }
}

// lbt_dkp's dKp positions [p0, pEnd) of channel h (FAST: the batch loop unrolled by 8), 4 per thread and step.
template <typename IO, bool FAST>
__device__ __forceinline__ void lbt_dkp_span(const uint16_t* __restrict__ fwd, const uint16_t* __restrict__ adj,
                                             float2* __restrict__ dkp, int B, int H, int h, int N, int N2, int p0,
                                             int pEnd, float scale) {
  for (int p = p0 + 4 * threadIdx.x; p < pEnd; p += 4 * blockDim.x) {   // 4 consecutive k2 (N2 % 4 == 0): 8-byte loads
    const int k1 = p / N2, k2 = p - k1 * N2, re = k1 * 2 * N2 + k2, im = re + N2;
    float sx[4] = {0.f, 0.f, 0.f, 0.f}, sy[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll (FAST ? 8 : 1)
    for (int b = 0; b < B; ++b) {
      const size_t base = ((size_t)b * H + h) * 8 * N + 2 * N;   // slot 1
      const uint2 fr4 = *reinterpret_cast<const uint2*>(fwd + base + re), fi4 = *reinterpret_cast<const uint2*>(fwd + base + im);
      const uint2 ar4 = *reinterpret_cast<const uint2*>(adj + base + re), ai4 = *reinterpret_cast<const uint2*>(adj + base + im);
      const IO *fr = reinterpret_cast<const IO*>(&fr4), *fi = reinterpret_cast<const IO*>(&fi4);
      const IO *ar = reinterpret_cast<const IO*>(&ar4), *ai = reinterpret_cast<const IO*>(&ai4);
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        sx[q] += ld(ar + q) * ld(fr + q) + ld(ai + q) * ld(fi + q);
        sy[q] += ld(ai + q) * ld(fr + q) - ld(ar + q) * ld(fi + q);
      }
    }
#pragma unroll
    for (int q = 0; q < 4; ++q) dkp[(size_t)h * N + p + q] = make_float2(sx[q] * scale, sy[q] * scale);
  }
}

// dD[h] = the block's sum of the threads' partial sums s (a warp shuffle tree, then warp 0's thread 0 over red[]).
__device__ __forceinline__ void lbt_dd_store(float s, float* red, float* __restrict__ dD, int h) {
  for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
  if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = s;
  __syncthreads();
  if (threadIdx.x == 0) {
    float t = 0.f;
    for (int w = 0; w < (int)(blockDim.x >> 5); ++w) t += red[w];
    dD[h] = t;
  }
}

// dkp[h, p] = scale * sum_b adjC[b, h](p) * conj(fwdC[b, h](p)) (p = k1 * N2 + k2 at row k1, column k2 of slot 1);
// dD[h] = sum_b sum_n dy[b, h, n] u[b, h, n]. Grid (H), block 256.
// FAST (lbt_dkp2_*, LearnedButterflyConv.fastReductions, lbf7): grid (H, ceil(N / 1024)), y-slice s taking positions
// [1024 s, 1024 (s + 1)), dD in slice 0 only; the batch loops unrolled by 8 (8 rows' loads in flight per thread: the
// plain kernel ran at 45 % of DRAM bandwidth, 421 us at 1K in lbf7-1). The same sums in the same order per position.
template <typename IO, bool FAST = false>
__device__ void lbt_dkp(const uint16_t* __restrict__ fwd, const uint16_t* __restrict__ adj, const IO* __restrict__ u,
                        const IO* __restrict__ dy, float2* __restrict__ dkp, float* __restrict__ dD, int B, int H, int L,
                        int N1, int N2, float scale) {
  __shared__ float red[8];
  const int h = blockIdx.x, N = N1 * N2;
  const int p0 = FAST ? 1024 * blockIdx.y : 0, pEnd = FAST ? min(N, p0 + 1024) : N;
  lbt_dkp_span<IO, FAST>(fwd, adj, dkp, B, H, h, N, N2, p0, pEnd, scale);
  if (FAST && blockIdx.y != 0) return;
  float s = 0.f;
#pragma unroll (FAST ? 8 : 1)
  for (int b = 0; b < B; ++b) {
    const size_t off = ((size_t)b * H + h) * L;
    for (int n = threadIdx.x; n < L; n += blockDim.x) s += ld(dy + off + n) * ld(u + off + n);
  }
  lbt_dd_store(s, red, dD, h);
}

// lbt_dkp3_* (LearnedButterflyConv.vectorDd, lbf8): lbt_dkp2's dKp slices (the same loop: the same sums in the same order)
// on grid rows y < gridDim.y - 1, and dD on its own last grid row with 16-byte loads of dy and u (L % 8 == 0; else the
// element loop): 8 products per thread and load pair, the (b, chunk) pairs of the channel flattened over the block's
// threads, 4 in flight. lbt_dkp2 summed dD in slice 0 after its dKp positions with 2-byte loads (~1 TB/s, lbf7-1).
// Another fp32 association of dD than lbt_dkp / lbt_dkp2. Grid (H, NS + 1), NS = ceil(N / 1024) (N1 = 0: NS = 0).
template <typename IO>
__device__ void lbt_dkp3(const uint16_t* __restrict__ fwd, const uint16_t* __restrict__ adj, const IO* __restrict__ u,
                         const IO* __restrict__ dy, float2* __restrict__ dkp, float* __restrict__ dD, int B, int H, int L,
                         int N1, int N2, float scale) {
  __shared__ float red[8];
  const int h = blockIdx.x, N = N1 * N2;
  if (blockIdx.y + 1 < gridDim.y) {   // dKp: lbt_dkp<IO, true>'s slice
    const int p0 = 1024 * blockIdx.y;
    lbt_dkp_span<IO, true>(fwd, adj, dkp, B, H, h, N, N2, p0, min(N, p0 + 1024), scale);
    return;
  }
  float s = 0.f;
  if ((L & 7) == 0) {
    const int C = L >> 3;   // 16-byte chunks per row
#pragma unroll 4
    for (int i = threadIdx.x; i < B * C; i += blockDim.x) {
      const int b = i / C, c = i - b * C;
      const size_t off = ((size_t)b * H + h) * L + 8 * c;
      const uint4 a4 = __ldg(reinterpret_cast<const uint4*>(dy + off)), w4 = __ldg(reinterpret_cast<const uint4*>(u + off));
      const IO *a = reinterpret_cast<const IO*>(&a4), *w = reinterpret_cast<const IO*>(&w4);
#pragma unroll
      for (int q = 0; q < 8; ++q) s += ld(a + q) * ld(w + q);
    }
  } else {
    for (int b = 0; b < B; ++b) {
      const size_t off = ((size_t)b * H + h) * L;
      for (int n = threadIdx.x; n < L; n += blockDim.x) s += ld(dy + off + n) * ld(u + off + n);
    }
  }
  lbt_dd_store(s, red, dD, h);
}

// dk[h, t] = Re(sum_f g[f] w_N^(-f t)) for the kept taps t (t < taps0; two-sided also t = N-1-j, j < taps1, into the
// second (H, Lk) half): learned.cu's lb_taps (a direct DFT, N^2 per channel) as an in-place radix-2 inverse FFT in shared
// memory. g: dKp (H, N) with position p = k1*N2 + k2 holding frequency f = k1 + N1*k2, scattered to bit-reversed order.
// Grid (H), block 256, dynamic smem 12 N bytes (x: N float2, twiddles w^(-j): N/2 float2).
extern "C" __global__ void __launch_bounds__(256) lbt_taps(const float2* __restrict__ g, float* __restrict__ dk, int H,
    int Lk, int taps0, int taps1, int twoSided, int N1, int N2) {
  extern __shared__ __align__(16) float2 sm[];
  const int N = N1 * N2, h = blockIdx.x, lg = 31 - __clz(N);
  float2 *x = sm, *w = sm + N;
  for (int j = threadIdx.x; j < N / 2; j += blockDim.x) { float s, c; sincospif(2.0f * (float)j / (float)N, &s, &c); w[j] = make_float2(c, s); }
  for (int p = threadIdx.x; p < N; p += blockDim.x) {
    const int q1 = p / N2, f = q1 + N1 * (p - q1 * N2);
    x[__brev(f) >> (32 - lg)] = g[(size_t)h * N + p];
  }
  __syncthreads();
  for (int half = 1; half < N; half <<= 1) {   // butterflies of span 2 half: x[a], x[a + half] with w^(k N / (2 half))
    for (int i = threadIdx.x; i < N / 2; i += blockDim.x) {
      const int k = i & (half - 1), a = 2 * (i - k) + k;
      const float2 u = x[a], v = x[a + half], e = w[k * (N / (2 * half))];
      const float2 ve = make_float2(v.x * e.x - v.y * e.y, v.x * e.y + v.y * e.x);
      x[a] = make_float2(u.x + ve.x, u.y + ve.y);
      x[a + half] = make_float2(u.x - ve.x, u.y - ve.y);
    }
    __syncthreads();
  }
  const int total = taps0 + (twoSided ? taps1 : 0);
  for (int i = threadIdx.x; i < total; i += blockDim.x) {
    if (i < taps0) dk[(size_t)h * Lk + i] = x[i].x;
    else dk[(size_t)H * Lk + (size_t)h * Lk + (i - taps0)] = x[N - 1 - (i - taps0)].x;
  }
}

// lbt_gram_rp (suffix _a_asyncp; LearnedButterflyConv.gramRowPairs, lbf9): form A at N2 = 32 (dGb, dFb at 16 x 32 and
// 32 x 32: M = 32, four 16 x 16 output units, so lbt_gram's warps 4-7 wait at every row while warps 0-3 multiply) on
// two rows per step: warps 0-3 take row r, warps 4-7 row r + G (unit = warp & 3), each with its own accumulators; rows
// r += 2 G; at the end warps 4-7 hand theirs over through shared memory and warps 0-3 add them (group 0 + group 1) and
// write the block's partial. Operands: dump slots only (form A has no real operand: no L % 8 restriction); loads as
// load_operand_async_fi, two stages of two rows each by cp.async. The same products, summed in another order (per warp
// group over every other row, then the two groups): fp32 re-association only.
// Grid (G), block 256, dynamic smem 2 stages * 2 rows * 2 operands * N1 * (2 N2 + 8) * 2 bytes.
template <typename IO, bool BF16, int N1, int N2>
__device__ void lbt_gram_rp(const uint16_t* __restrict__ lsrc, int lslot, const uint16_t* __restrict__ rsrc, int rslot,
                            float2* __restrict__ part, int rows) {
  static_assert(N2 == 32, "row pairs: M = 32 (four output units)");
  constexpr int SX = 2 * N2 + 8, M = N2, MTo = M / 16, KT = N1 / 16, OP = N1 * SX;   // OP: one operand row's elements
  extern __shared__ __align__(16) unsigned char smraw[];
  uint16_t* sm = reinterpret_cast<uint16_t*>(smraw);   // row slot k = 2 stage + q: L at sm + 2 k OP, R at sm + (2 k + 1) OP
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, lr = lane & 7, lm = lane >> 3;
  const int q = warp >> 2, unit = warp & 3, i0 = 16 * (unit / MTo), j0 = 16 * (unit % MTo);
  const int G = gridDim.x;
  float gr[2][4], gi[2][4];
#pragma unroll
  for (int j = 0; j < 2; ++j)
#pragma unroll
    for (int e = 0; e < 4; ++e) { gr[j][e] = 0.f; gi[j][e] = 0.f; }
  auto load2 = [&](int r0, int stage) {   // rows r0 and r0 + G (those below rows) into the stage's two row slots
#pragma unroll
    for (int qq = 0; qq < 2; ++qq) {
      const int rr = r0 + qq * G;
      if (rr < rows) {
        uint16_t* d = sm + 2 * (2 * stage + qq) * OP;
        load_operand_async_fi<IO, N1, N2>(lsrc, nullptr, (size_t)rr, lslot, 0, d);
        load_operand_async_fi<IO, N1, N2>(rsrc, nullptr, (size_t)rr, rslot, 0, d + OP);
      }
    }
    asm volatile("cp.async.commit_group;\n" ::: "memory");
  };
  load2(blockIdx.x, 0);
  for (int r = blockIdx.x, it = 0; r < rows; r += 2 * G, ++it) {
    __syncthreads();   // every warp done with the stage about to be refilled
    load2(r + 2 * G, (it + 1) & 1);
    asm volatile("cp.async.wait_group 1;\n" ::: "memory");
    __syncthreads();
    if (r + q * G < rows) {
      const uint16_t *Lc = sm + 2 * (2 * (it & 1) + q) * OP, *Rc = Lc + OP;
#pragma unroll
      for (int kk = 0; kk < KT; ++kk) {   // as lbt_gram's form A
        uint32_t ar[4], ai[4], br[4], bi[4];
        const uint16_t* pa = Lc + (16 * kk + (lm >> 1) * 8 + lr) * SX + i0 + (lm & 1) * 8;
        ldsm_x4_t(ar, pa);
        ldsm_x4_t(ai, pa + N2);
        const uint16_t* pb = Rc + (16 * kk + (lm & 1) * 8 + lr) * SX + j0 + (lm >> 1) * 8;
        ldsm_x4_t(br, pb);
        ldsm_x4_t(bi, pb + N2);
        const uint32_t nai[4] = {ai[0] ^ SIGN2, ai[1] ^ SIGN2, ai[2] ^ SIGN2, ai[3] ^ SIGN2};
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          mma16816<BF16>(gr[j], ar, br[2 * j], br[2 * j + 1]);
          mma16816<BF16>(gr[j], ai, bi[2 * j], bi[2 * j + 1]);
          mma16816<BF16>(gi[j], ar, bi[2 * j], bi[2 * j + 1]);
          mma16816<BF16>(gi[j], nai, br[2 * j], br[2 * j + 1]);
        }
      }
    }
  }
  asm volatile("cp.async.wait_all;\n" ::: "memory");
  __syncthreads();   // the buffers are free: group 1's accumulators through them
  float* hand = reinterpret_cast<float*>(smraw);   // 4 units x 16 values x 32 lanes
  if (q == 1)
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        hand[((unit * 16 + 8 * j + e) * 32) + lane] = gr[j][e];
        hand[((unit * 16 + 8 * j + 4 + e) * 32) + lane] = gi[j][e];
      }
  __syncthreads();
  if (q == 0) {
    float2* p = part + (size_t)blockIdx.x * M * M;
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int i = i0 + g + 8 * (e >> 1), c = j0 + 8 * j + 2 * t + (e & 1);
        p[i * M + c] = make_float2(gr[j][e] + hand[((unit * 16 + 8 * j + e) * 32) + lane],
                                   gi[j][e] + hand[((unit * 16 + 8 * j + 4 + e) * 32) + lane]);
      }
  }
}

#define LBT_GRAMS(SUF, IO, BF, N1, N2, FORM, FA, ASYNC, TAIL, S) LBT_GRAMF(SUF, IO, BF, N1, N2, FORM, FA, ASYNC, TAIL, S, false)
#define LBT_GRAMF(SUF, IO, BF, N1, N2, FORM, FA, ASYNC, TAIL, S, FI)                                              \
  extern "C" __global__ void __launch_bounds__(256) lbt_gram_##SUF##_##N1##x##N2##_##FORM##TAIL(                  \
      const uint16_t* __restrict__ ls, int lslot, const IO* __restrict__ lx, const uint16_t* __restrict__ rs, int rslot, \
      const IO* __restrict__ rx, float2* __restrict__ part, int rows, int L) {                                    \
    lbt_gram<IO, BF, N1, N2, FA, ASYNC, S, FI>(ls, lslot, lx, rs, rslot, rx, part, rows, L);                       \
  }
#define LBT_GRAM1(SUF, IO, BF, N1, N2, FORM, FA, ASYNC, TAIL) LBT_GRAMS(SUF, IO, BF, N1, N2, FORM, FA, ASYNC, TAIL, 2)
#define LBT_GRAM(SUF, IO, BF, N1, N2)                                                                              \
  LBT_GRAM1(SUF, IO, BF, N1, N2, a, true, false, ) LBT_GRAM1(SUF, IO, BF, N1, N2, b, false, false, )              \
  LBT_GRAM1(SUF, IO, BF, N1, N2, a, true, true, _async) LBT_GRAM1(SUF, IO, BF, N1, N2, b, false, true, _async)     \
  LBT_GRAMS(SUF, IO, BF, N1, N2, a, true, true, _async3, 3) LBT_GRAMS(SUF, IO, BF, N1, N2, a, true, true, _async4, 4)     \
  LBT_GRAMF(SUF, IO, BF, N1, N2, a, true, true, _asyncs, 2, true) LBT_GRAMF(SUF, IO, BF, N1, N2, b, false, true, _asyncs, 2, true) \
  LBT_GRAMF(SUF, IO, BF, N1, N2, a, true, true, _async3s, 3, true) LBT_GRAMF(SUF, IO, BF, N1, N2, a, true, true, _async4s, 4, true)
#define LBT_GRAMP(SUF, IO, BF, N1, N2)                                                                             \
  extern "C" __global__ void __launch_bounds__(256) lbt_gram_##SUF##_##N1##x##N2##_a_asyncp(                       \
      const uint16_t* __restrict__ ls, int lslot, const IO* __restrict__ lx, const uint16_t* __restrict__ rs, int rslot, \
      const IO* __restrict__ rx, float2* __restrict__ part, int rows, int L) {                                    \
    lbt_gram_rp<IO, BF, N1, N2>(ls, lslot, rs, rslot, part, rows);                                                \
  }
#define LBT_BWD_TYPE(SUF, IO, BF)                                                                                  \
  LBT_GRAM(SUF, IO, BF, 16, 16) LBT_GRAM(SUF, IO, BF, 16, 32) LBT_GRAM(SUF, IO, BF, 32, 32) LBT_GRAM(SUF, IO, BF, 32, 64) \
  LBT_GRAMP(SUF, IO, BF, 16, 32) LBT_GRAMP(SUF, IO, BF, 32, 32)                                                   \
  extern "C" __global__ void __launch_bounds__(256) lbt_dkp_##SUF(const uint16_t* __restrict__ fwd,               \
      const uint16_t* __restrict__ adj, const IO* __restrict__ u, const IO* __restrict__ dy, float2* __restrict__ dkp, \
      float* __restrict__ dD, int B, int H, int L, int N1, int N2, float scale) {                                 \
    lbt_dkp<IO>(fwd, adj, u, dy, dkp, dD, B, H, L, N1, N2, scale);                                                \
  }                                                                                                                \
  extern "C" __global__ void __launch_bounds__(256) lbt_dkp2_##SUF(const uint16_t* __restrict__ fwd,              \
      const uint16_t* __restrict__ adj, const IO* __restrict__ u, const IO* __restrict__ dy, float2* __restrict__ dkp, \
      float* __restrict__ dD, int B, int H, int L, int N1, int N2, float scale) {                                 \
    lbt_dkp<IO, true>(fwd, adj, u, dy, dkp, dD, B, H, L, N1, N2, scale);                                          \
  }                                                                                                                \
  extern "C" __global__ void __launch_bounds__(256) lbt_dkp3_##SUF(const uint16_t* __restrict__ fwd,              \
      const uint16_t* __restrict__ adj, const IO* __restrict__ u, const IO* __restrict__ dy, float2* __restrict__ dkp, \
      float* __restrict__ dD, int B, int H, int L, int N1, int N2, float scale) {                                 \
    lbt_dkp3<IO>(fwd, adj, u, dy, dkp, dD, B, H, L, N1, N2, scale);                                               \
  }
LBT_BWD_TYPE(bf16, __nv_bfloat16, true)
LBT_BWD_TYPE(f16, __half, false)
