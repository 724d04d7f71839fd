// Shapes: as learned_p3g.cu (B batch, H channels, L length; a chunk's rows, channel h0 + c / B, batch c % B): the inner-only
// plans with N1 = 8 outer rows, M = 2048 = 8 x 256 (LIN = 8) and M = 32768 = 8 x 4096 (LIN = 12, inner rows in pair order);
// a block's 256 columns q of one chunk row at a time; part2 the outer Grams' partials (blocks, N1, N1) float2.
// Session 31: the outer blocks' Grams in the outer passes that already hold one of their operands (-Dlongconv4j.p3.bwd.passgram;
// twin: the passes and lp3g_ogram2k / lp3g_ogramq, which read those operands again from global memory):
//   lp3g_*_invg (pass 3 + dF_1): pass 3's column after its twiddles is MODE 0's A = S o conj(w_M^(k q)) (the same running
//     product the pass computes its output from); B = pack(u), read here.
//   lp3g_outerq_fwdg (pass 1 of dy + dG_1, M = 32768 only; at 2048 pass 1 of dy runs in the middle's load): pass 1's loaded
//     column is MODE 1's A = pack(dy); B = O o conj(w_M^(n q)) (O the forward middle's output, read here, twiddles by a
//     running product as pass 3's).
// The block stages both operands of its 256 columns in shared memory, then sums them as P3gOg<N1, 4> (learned_p3g_xo.cuh:
// thread t the Gram rows 2 (t & 3), + 1, columns t / 4 + 64 j, fp32 products as lp3g_ogramc / the fused middles') over the
// rows rc = by, by + gy, .. it takes; one partial a block at part2[(bx gy + by)] (lp3g_rseg / lp3g_rfin sum them in order).
// Not the twin's bits: fp32 products of unrounded operands (the twin's tensor-core tiles round them to 16 bits), other
// twiddles (a running product vs sincospif) and another order; du / gW_1 are the passes' own expressions (the same bits).
#pragma once

constexpr int PG_S = 258;   // a staged row's stride in float2 (rows 2 kp apart start 4 banks apart)
template <int N1>
struct P3gPgSmem {
  float2 a[N1][PG_S], b[N1][PG_S];   // the Gram's A / B operands of the block's 256 columns
  float red[8 * 2 * N1 * N1];         // P3gOg::flush's warp sums
};

// The staged columns into the thread's sums (between two block barriers; blockDim.x = 256).
template <int N1>
__device__ __forceinline__ void p3g_pg_add(const P3gPgSmem<N1>& sm, P3gOg<N1, 4>& og) {
  constexpr int KR = N1 / 4;
  const int kp = threadIdx.x & 3;
#pragma unroll
  for (int c = threadIdx.x >> 2; c < 256; c += 64) {
    float2 a[KR], b[N1];
#pragma unroll
    for (int j = 0; j < KR; ++j) a[j] = sm.a[kp * KR + j][c];
#pragma unroll
    for (int n = 0; n < N1; ++n) b[n] = sm.b[n][c];
    og.add(a, b);
  }
}

// Pass 3 (p3_outer_inv's column: du = D dy + G_1 V) and dF_1 = sum V[k] conj(pack(u)[n]) over the block's rows and columns.
// Grid (IN / 256, gy), block 256.
template <int N1, typename IO, typename SC, int LIN>
__device__ void p3g_outer_invg(const SC* __restrict__ S, const float2* __restrict__ mats, const IO* __restrict__ x,
                               const float* __restrict__ D, IO* __restrict__ out, const IO* __restrict__ u,
                               float2* __restrict__ part2, int L, int h0, int B, int H, int rows) {
  constexpr int IN = 1 << LIN;
  __shared__ float4 g4[N1 * N1 / 2];
  __shared__ P3gPgSmem<N1> sm;
  p3_stage_block<N1>(g4, mats + (N1 * N1 + 4 + 768));
  const int q = blockIdx.x * blockDim.x + threadIdx.x;
  P3gOg<N1, 4> og;
  og.zero();
  for (int rc = blockIdx.y; rc < rows; rc += gridDim.y) {
    int h; const long long row = p3_row(rc, h0, B, H, h);
    const SC* s = S + rc * (long long)(N1 * IN) + q;
    const IO* ur = u + row * (long long)L;
    float vr[N1], vi[N1];
#pragma unroll
    for (int k = 0; k < N1; ++k) {
      const float2 v = ldc(s + p3_oslot<LIN>(k, N1) * IN);
      vr[k] = v.x; vi[k] = v.y;
    }
    p3_outer_inv_tw<N1, IN>(q, vr, vi);
#pragma unroll
    for (int k = 0; k < N1; ++k) {
      const int i = 2 * (k * IN + q);
      sm.a[k][threadIdx.x] = make_float2(vr[k], vi[k]);
      sm.b[k][threadIdx.x] = make_float2(i < L ? ld(ur + i) : 0.f, i + 1 < L ? ld(ur + i + 1) : 0.f);
    }
    p3_outer_inv_out<N1, IN, IO>(g4, vr, vi, x + row * (long long)L, out + row * (long long)L, D[h], L, q);
    __syncthreads();
    p3g_pg_add<N1>(sm, og);
    __syncthreads();
  }
  og.flush(sm.red, part2 + (size_t)blockIdx.x * gridDim.y * (N1 * N1));
}

// Pass 1 of dy (p3_outer_fwd's column: gW_1 -> S) and dG_1 = sum pack(dy)[k] conj(V_1[n]), V_1[n] = O[n] conj(w_M^(n q)).
// Grid (IN / 256, gy), block 256.
template <int N1, typename IO, typename SC, int LIN>
__device__ void p3g_outer_fwdg(const IO* __restrict__ x, const float2* __restrict__ mats, SC* __restrict__ S,
                               const SC* __restrict__ O, float2* __restrict__ part2, int L, int h0, int B, int H, int rows) {
  constexpr int IN = 1 << LIN;
  __shared__ float4 f4[N1 * N1 / 2];
  __shared__ P3gPgSmem<N1> sm;
  p3_stage_block<N1>(f4, mats);
  const int q = blockIdx.x * blockDim.x + threadIdx.x;
  float ws, wc; sincospif(2.0f * (float)q / (float)(N1 * IN), &ws, &wc);   // conj(w_M^q), as pass 3's
  P3gOg<N1, 4> og;
  og.zero();
  for (int rc = blockIdx.y; rc < rows; rc += gridDim.y) {
    int h; const long long row = p3_row(rc, h0, B, H, h);
    float ar[N1], ai[N1];
    p3_outer_fwd_load<N1, IN, IO>(x + row * (long long)L, L, q, ar, ai);
    const SC* o = O + rc * (long long)(N1 * IN) + q;
    float tr = 1.0f, ti = 0.f;
#pragma unroll
    for (int n = 0; n < N1; ++n) {
      const float2 v = ldc(o + p3_oslot<LIN>(n, N1) * IN);
      sm.a[n][threadIdx.x] = make_float2(ar[n], ai[n]);
      sm.b[n][threadIdx.x] = make_float2(v.x * tr - v.y * ti, v.x * ti + v.y * tr);
      const float nr = tr * wc - ti * ws, ni = tr * ws + ti * wc;
      tr = nr; ti = ni;
    }
    SC* so = S + rc * (long long)(N1 * IN) + q;
    p3_outer_fwd_col<N1, IN>(f4, ar, ai, q, [&](int k, float yr, float yi) { stc(so + p3_oslot<LIN>(k, N1) * IN, yr, yi); });
    __syncthreads();
    p3g_pg_add<N1>(sm, og);
    __syncthreads();
  }
  og.flush(sm.red, part2 + (size_t)blockIdx.x * gridDim.y * (N1 * N1));
}

// names: lp3g_outer2k_invg_<io> (M = 2048; pass 3's arguments, then u, part2, rows), lp3g_outerq_invg8_<io> and
// lp3g_outerq_fwdg8_<io> (M = 32768; pass 1's arguments, then O, part2, rows); grid (IN / 256, gy), block 256.
// __launch_bounds__(256, 2): up to 128 registers, no spills (115-124 used on sm_90a; caps of 64 / 85 spilled 40-300 bytes).
#define LP3G_PG(TAG, IO)                                                                                                \
  extern "C" __global__ void __launch_bounds__(256, 2) lp3g_outer2k_invg_##TAG(const P3Io<IO>::SC* __restrict__ S,       \
      const float2* __restrict__ mats, const IO* __restrict__ x, const float* __restrict__ D, IO* __restrict__ out,      \
      int L, int h0, int B, int H, const IO* __restrict__ u, float2* __restrict__ part2, int rows) {                     \
    p3g_outer_invg<8, IO, P3Io<IO>::SC, 8>(S, mats, x, D, out, u, part2, L, h0, B, H, rows);                            \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256, 2) lp3g_outerq_invg8_##TAG(const P3Io<IO>::SC* __restrict__ S,       \
      const float2* __restrict__ mats, const IO* __restrict__ x, const float* __restrict__ D, IO* __restrict__ out,      \
      int L, int h0, int B, int H, const IO* __restrict__ u, float2* __restrict__ part2, int rows) {                     \
    p3g_outer_invg<8, IO, P3Io<IO>::SC, 12>(S, mats, x, D, out, u, part2, L, h0, B, H, rows);                           \
  }                                                                                                                     \
  extern "C" __global__ void __launch_bounds__(256, 2) lp3g_outerq_fwdg8_##TAG(const IO* __restrict__ x,                 \
      const float2* __restrict__ mats, P3Io<IO>::SC* __restrict__ S, int L, int h0, int B, int H,                       \
      const P3Io<IO>::SC* __restrict__ O, float2* __restrict__ part2, int rows) {                                       \
    p3g_outer_fwdg<8, IO, P3Io<IO>::SC, 12>(x, mats, S, O, part2, L, h0, B, H, rows);                                   \
  }
LP3G_PG(bf16, __nv_bfloat16)
LP3G_PG(f16, __half)
