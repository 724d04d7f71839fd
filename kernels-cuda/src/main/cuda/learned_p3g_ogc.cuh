// Shapes: as learned_p3g.cu (a chunk's rows rc, channel h0 + rc / B, batch rc % B; S the chunk rows (M = N1 2^LIN points, 16-bit
// pairs), x the I/O rows (L values), part the blocks' N1 x N1 float2 partials [k][n]). The outer blocks' Grams on CUDA cores in
// fp32: p3g_ogramv (session 32, N1 = 8, a column a thread) and p3g_ogramc (session 22, KS threads a column); their twin is
// learned_p3g.cu's p3g_ogram (16-bit tensor-core tiles). Included by learned_p3g.cu after p3g_ogram (one translation unit; split
// out in session 32).
#pragma once

// The N1 = 8 outer Grams a column a thread (session 32; lp3g_ogramv<MODE>_8_<io>_<lin>, M = 2048 and 32768): p3g_ogram's sums
// (MODE 0 dF_1[k][n] = sum S[k][q] conj(w_M^(k q)) conj(pack(u)[n][q]); MODE 1 dG_1[k][n] = sum pack(dy)[k][q]
// conj(S[k'=n][q] conj(w_M^(n q)))) in fp32 on CUDA cores, operands not rounded to 16 bits (p3g_ogramc's products). Thread
// q of a 256-column block takes every twiddled entry (its N1 twiddles, sincospif as p3g_ogram's table, once) and G = 4 of the
// packed side (entries p0 .. p0 + 3, p0 = 4 (blockIdx.x / (IN / 256))): where L <= M the packed side's entries >= N1 / 2
// are the zero padding and the host launches only p0 = 0 (grid x IN / 256), else both halves (2 IN / 256). Each load of a
// warp is 128 contiguous bytes (p3g_ogram builds its 16 x 8 tiles lane by lane; p3g_ogramc splits a column over 4
// threads). Rows rc = by, by + gy, .. (two at a time); then in a fixed order (xor shuffles in a warp, the warps in turn)
// into the block's partial (N1 x N1 float2 [k][n], zeros outside its packed entries) at part[by gx + bx]. Grid
// (IN / 256 x halves, gy), block 256. Twin: p3g_ogram (-Dlongconv4j.p3.ogramv=false): the same sums up to fp32 rounding
// and the twin's 16-bit operands.
template <typename IO, typename SC, int MODE, int LIN>
__device__ void p3g_ogramv(const SC* __restrict__ S, const IO* __restrict__ x, float2* __restrict__ part, int L, int h0, int B,
                           int H, int rows) {
  constexpr int N1 = 8, G = 4, IN = 1 << LIN, M = N1 * IN, CB = IN / 256;
  __shared__ float red[8][2 * N1 * G];
  const int q = (blockIdx.x % CB) * 256 + threadIdx.x, p0 = G * (blockIdx.x / CB);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  float2 tw[N1];
#pragma unroll
  for (int k = 0; k < N1; ++k) {
    float sn, cs; sincospif(2.0f * (float)((k * q) & (M - 1)) / (float)M, &sn, &cs);
    tw[k] = make_float2(cs, sn);
  }
  float ar[N1][G], ai[N1][G];   // [twiddled entry][packed entry p0 + g]
#pragma unroll
  for (int k = 0; k < N1; ++k)
#pragma unroll
    for (int g = 0; g < G; ++g) { ar[k][g] = 0.f; ai[k][g] = 0.f; }
#pragma unroll 2
  for (int rc = blockIdx.y; rc < rows; rc += gridDim.y) {
    int h; const long long row = p3_row(rc, h0, B, H, h);
    const IO* xr = x + row * (long long)L;
    const SC* sr = S + rc * (long long)M + q;
    float2 t[N1], pk[G];
#pragma unroll
    for (int k = 0; k < N1; ++k) t[k] = p3g_mul(ldc(sr + p3_oslot<LIN>(k, N1) * IN), tw[k]);
#pragma unroll
    for (int g = 0; g < G; ++g) {
      const int i = 2 * ((p0 + g) * IN + q);
      pk[g] = make_float2(i < L ? ld(xr + i) : 0.f, i + 1 < L ? ld(xr + i + 1) : 0.f);
    }
#pragma unroll
    for (int k = 0; k < N1; ++k)
#pragma unroll
      for (int g = 0; g < G; ++g) {
        if constexpr (MODE == 0) p3g_macc(ar[k][g], ai[k][g], t[k], pk[g]);   // t[k] conj(pk[g])
        else p3g_macc(ar[k][g], ai[k][g], pk[g], t[k]);                        // pk[g] conj(t[k])
      }
  }
#pragma unroll
  for (int k = 0; k < N1; ++k)
#pragma unroll
    for (int g = 0; g < G; ++g) {
      p3g_lane_sum<1>(ar[k][g], ai[k][g]);
      if (lane == 0) { red[warp][2 * (k * G + g)] = ar[k][g]; red[warp][2 * (k * G + g) + 1] = ai[k][g]; }
    }
  __syncthreads();
  float2* pp = part + ((size_t)blockIdx.y * gridDim.x + blockIdx.x) * N1 * N1;
  for (int e = threadIdx.x; e < N1 * N1; e += blockDim.x) {
    const int k = e / N1, n = e % N1;             // entry [k][n]: MODE 0 k twiddled, n packed; MODE 1 the other way round
    const int tk = MODE == 0 ? k : n, pe = MODE == 0 ? n : k;
    float re = 0.f, im = 0.f;
    if (pe >= p0 && pe < p0 + G) {
      const int idx = 2 * (tk * G + pe - p0);
      for (int w = 0; w < (int)(blockDim.x >> 5); ++w) { re += red[w][idx]; im += red[w][idx + 1]; }
    }
    pp[e] = make_float2(re, im);
  }
}

// The outer Grams on CUDA cores in fp32 (session 22; lp3g_ogramc<MODE>_<N1>_<io>_<lin>) for the small outer blocks of the
// inner-only plans (N1 = 4 / 8 at an inner 4096, N1 = 8 at 256): p3g_ogram's tiles use 1/8 (N1 = 4) or 1/2 (N1 = 8) of
// each 16 x 8 tile and build their operands lane by lane (s2 s22: 11 ms a backward at 16K, B = 64). Here KS threads share
// a column q (1 at N1 = 4, 4 at N1 = 8 (s5's 2 took 113-118 registers); thread kp of them takes rows k = kp N1 / KS .. of the
// Gram, 16 complex sums either way), each with its own fp32 sums
// acc[k][n] += A[k][q] conj(B[n][q]) over the chunk rows rc = by, by + gy, .. (MODE 0: A = S o conj(w_M^(k q)), B =
// pack(x); MODE 1: A = pack(x), B = S o conj(w_M^(n q)); the twiddles once per thread, sincospif as p3g_ogram's); then
// in a fixed order (xor shuffles within a warp, then the warps in turn) into the block's partial (N1 x N1 float2, [k][n])
// at part[by gx + bx]. Grid (IN KS / 256, gy), block 256. Operands are not rounded to 16 bits (p3g_ogram's are): the
// same sums up to fp32 rounding. Twin: p3g_ogram (-Dlongconv4j.p3.ogramc=false).
template <int N1, typename IO, typename SC, int MODE, int LIN>
__device__ void p3g_ogramc(const SC* __restrict__ S, const IO* __restrict__ x, float2* __restrict__ part, int L, int h0, int B,
                           int H, int rows) {
  constexpr int KS = N1 == 4 ? 1 : N1 / 2, KR = N1 / KS, IN = 1 << LIN, M = N1 * IN;
  __shared__ float red[8][2 * N1 * N1];
  const int q = (blockIdx.x * blockDim.x + threadIdx.x) / KS, kp = threadIdx.x % KS, lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  constexpr int NT = MODE == 0 ? KR : N1;   // the twiddled operand's rows this thread reads: its own k (MODE 0) or every n
  float2 tw[NT];   // conj(w_M^(k q)) of those rows (a fixed-index array: no local memory)
#pragma unroll
  for (int i = 0; i < NT; ++i) {
    const int k = MODE == 0 ? kp * KR + i : i;
    float sn, cs; sincospif(2.0f * (float)((k * q) & (M - 1)) / (float)M, &sn, &cs);
    tw[i] = make_float2(cs, sn);
  }
  float ar[KR][N1], ai[KR][N1];
#pragma unroll
  for (int k = 0; k < KR; ++k)
#pragma unroll
    for (int n = 0; n < N1; ++n) { ar[k][n] = 0.f; ai[k][n] = 0.f; }
  for (int rc = blockIdx.y; rc < rows; rc += gridDim.y) {
    int h; const long long row = p3_row(rc, h0, B, H, h);
    const IO* xr = x + row * (long long)L;
    const SC* sr = S + rc * (long long)M + q;
    auto scr = [&](int k, int i) { return p3g_mul(ldc(sr + p3_oslot<LIN>(k, N1) * IN), tw[i]); };
    auto packed = [&](int k) {
      const int i = 2 * (k * IN + q);
      return make_float2(i < L ? ld(xr + i) : 0.f, i + 1 < L ? ld(xr + i + 1) : 0.f);
    };
    float2 a[KR], b[N1];
#pragma unroll
    for (int k = 0; k < KR; ++k) a[k] = MODE == 0 ? scr(kp * KR + k, k) : packed(kp * KR + k);
#pragma unroll
    for (int n = 0; n < N1; ++n) b[n] = MODE == 0 ? packed(n) : scr(n, MODE == 0 ? 0 : n);
#pragma unroll
    for (int k = 0; k < KR; ++k)
#pragma unroll
      for (int n = 0; n < N1; ++n) p3g_macc(ar[k][n], ai[k][n], a[k], b[n]);
  }
#pragma unroll
  for (int k = 0; k < KR; ++k)
#pragma unroll
    for (int n = 0; n < N1; ++n) {
      p3g_lane_sum<KS>(ar[k][n], ai[k][n]);
      if (lane < KS) {   // lane == kp here
        const int e = (kp * KR + k) * N1 + n;
        red[warp][2 * e] = ar[k][n]; red[warp][2 * e + 1] = ai[k][n];
      }
    }
  __syncthreads();
  float2* pp = part + ((size_t)blockIdx.y * gridDim.x + blockIdx.x) * N1 * N1;
  for (int e = threadIdx.x; e < N1 * N1; e += blockDim.x) {
    float re = 0.f, im = 0.f;
    for (int w = 0; w < (int)(blockDim.x >> 5); ++w) { re += red[w][2 * e]; im += red[w][2 * e + 1]; }
    pp[e] = make_float2(re, im);
  }
}
