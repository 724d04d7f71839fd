// Two radix-16 stages per warp in registers (the FlashButterfly _w2 kernels), included by monarch.cuh after its
// tensor-core helpers. N FFT size = R1 * 16^J as in monarch.cuh (N >= 256 here); a chunk = 256 contiguous points.
#pragma once

// ---- two radix-16 stages per warp in registers ----------------------------------------------
// The last two stages (S = 16 and S = 1) transform each contiguous chunk of 256 points as a 16 x 16 matrix X
// (X[r][c] at chunk + 16 r + c): the stage at S = 16 is Y = F16 @ X, then Y[k][c] *= w256^(k c), then the stage at
// S = 1 is Z = Y @ F16. Y's accumulator layout (rows g, g+8; cols 8j + 2t + {0,1}) is the A-operand layout of the
// second MMA, so one warp does both stages, the product with the spectrum and the two inverse stages for a chunk
// with one shared-memory load and one store and no block barrier in between. The inverse's last stage needs the
// transpose W^T as an A operand (V^T = W^T @ conj(F16), F16 symmetric): movmatrix.trans per 8 x 8 block of the
// 16-bit operand (the operand is rounded to 16 bits anyway: no extra rounding).
// F16 as a B operand (rows 2t + 8q + {0,1}, col 8j + g) is, by symmetry, the A fragment's register j + 2q.

// Whether the PAIR kernels' first stage is stage_first_pair (R1 < 16), which reads only z[0, N/2) when half.
__host__ __device__ constexpr bool pair_half_load(int log2N) { return (log2N - 1) % 4 != 3; }

// Bytes of the per-lane twiddle table of conv256_warp (behind the main table; 0 for N < 256).
__host__ __device__ constexpr int pair_table_bytes(int N) { return N >= 256 ? 16 * 32 * 8 : 0; }

// tw256[(4 j + q) * 32 + lane] = w256^(k c), k = g + 8 (q >> 1), c = 8 j + 2 t + (q & 1): one conflict-free
// 8-byte load per element. Built once per block (the caller syncs before use).
__device__ __forceinline__ void tw256_init(float2* t) {
  for (int i = threadIdx.x; i < 512; i += blockDim.x) {
    const int lane = i & 31, jq = i >> 5, j = jq >> 2, q = jq & 3;
    const int k = (lane >> 2) + 8 * (q >> 1), c = 8 * j + 2 * (lane & 3) + (q & 1);
    float s, co; sincospif(-(float)((k * c) & 255) / 128.0f, &s, &co);
    t[i] = make_float2(co, s);
  }
}

__device__ __forceinline__ uint32_t trans8x8(uint32_t a) {
  uint32_t d;
  asm volatile("movmatrix.sync.aligned.m8n8.trans.b16 %0, %1;\n" : "=r"(d) : "r"(a));
  return d;
}

// Column tile j (cols 8j + 2t + {0,1}) of X @ F16 (FWD) or X @ conj(F16) for X = (xr, xi) an A operand, F16 as a
// B operand (regs j, j + 2 of F, by symmetry); xn = -xi (FWD) or -xr: the -im products negate an operand's sign bits.
template <bool BF16, bool FWD>
__device__ __forceinline__ void mma_f16(const FragA& F, int j, const uint32_t (&xr)[4], const uint32_t (&xi)[4],
                                        const uint32_t (&xn)[4], float (&dr)[4], float (&di)[4]) {
#pragma unroll
  for (int q = 0; q < 4; ++q) { dr[q] = 0.f; di[q] = 0.f; }
  mma16816<BF16>(dr, xr, F.re[j], F.re[j + 2]);
  if (FWD) mma16816<BF16>(dr, xn, F.im[j], F.im[j + 2]);
  else     mma16816<BF16>(dr, xi, F.im[j], F.im[j + 2]);
  if (FWD) mma16816<BF16>(di, xr, F.im[j], F.im[j + 2]);
  else     mma16816<BF16>(di, xn, F.im[j], F.im[j + 2]);
  mma16816<BF16>(di, xi, F.re[j], F.re[j + 2]);
}

// The stage at S = 16 of one 256-point chunk at base: Y = F16 @ X, twiddled by w256^(k c) (tl = tw256 + lane) and
// scaled, as an A operand: reg 2j + h = rows g + 8h, cols 8j + 2t + {0,1}.
template <bool BF16, typename ST>
__device__ __forceinline__ void pair_stage16_fwd(const FragA& F, const float2* tl, const ST* zr, const ST* zi, int base,
                                                 int g, int t, float scale, uint32_t (&yr)[4], uint32_t (&yi)[4]) {
  constexpr uint32_t NEG2 = 0x80008000u;
  uint32_t xr[2][2], xi[2][2];
#pragma unroll
  for (int j = 0; j < 2; ++j)
#pragma unroll
    for (int h = 0; h < 2; ++h) {   // B operand of column tile j: rows 2t + 8h + {0,1}, col 8j + g
      const int i0 = SIDX(base + (2 * t + 8 * h) * 16 + 8 * j + g), i1 = SIDX(base + (2 * t + 8 * h + 1) * 16 + 8 * j + g);
      xr[j][h] = ld_pack2<BF16>(zr + i0, zr + i1);
      xi[j][h] = ld_pack2<BF16>(zi + i0, zi + i1);
    }
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
      a[q] = (dr[q] * w.x - di[q] * w.y) * scale;
      b[q] = (dr[q] * w.y + di[q] * w.x) * scale;
    }
    yr[2 * j] = pack2<BF16>(a[0], a[1]); yr[2 * j + 1] = pack2<BF16>(a[2], a[3]);
    yi[2 * j] = pack2<BF16>(b[0], b[1]); yi[2 * j + 1] = pack2<BF16>(b[2], b[3]);
  }
}

// The two inverse stages of one chunk from the product P (pr, pi: an A operand, as pair_stage16_fwd's Y), stored to
// zr/zi at base after a __syncwarp (every lane's loads of the chunk are done before any lane stores into it).
template <bool BF16, typename ST>
__device__ __forceinline__ void pair_inv_stages(const FragA& F, const float2* tl, const uint32_t (&pr)[4],
                                                const uint32_t (&pi)[4], ST* zr, ST* zi, int base, int g, int t) {
  constexpr uint32_t NEG2 = 0x80008000u;
  uint32_t pn[4];
#pragma unroll
  for (int i = 0; i < 4; ++i) pn[i] = pr[i] ^ NEG2;
  uint32_t wr[4], wi[4];   // W^T as an A operand: reg i = transpose of W's block (rows 8 (i >> 1), cols 8 (i & 1))
#pragma unroll
  for (int j = 0; j < 2; ++j) {   // inverse of the S = 1 stage: W = P @ conj(F16), then conj(w256^(r c))
    float dr[4], di[4];
    mma_f16<BF16, false>(F, j, pr, pi, pn, dr, di);
    float a[4], b[4];
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const float2 w = tl[(4 * j + q) * 32];
      a[q] = dr[q] * w.x + di[q] * w.y;
      b[q] = di[q] * w.x - dr[q] * w.y;
    }
#pragma unroll
    for (int h = 0; h < 2; ++h) {   // W's block (h, j) -> W^T's block (j, h) = A register 2h + j
      wr[2 * h + j] = trans8x8(pack2<BF16>(a[2 * h], a[2 * h + 1]));
      wi[2 * h + j] = trans8x8(pack2<BF16>(b[2 * h], b[2 * h + 1]));
    }
  }
  uint32_t wn[4];
#pragma unroll
  for (int i = 0; i < 4; ++i) wn[i] = wr[i] ^ NEG2;
  __syncwarp();   // every lane's loads of this chunk are done before any lane stores into it
#pragma unroll
  for (int j = 0; j < 2; ++j) {   // inverse of the S = 16 stage: V^T = W^T @ conj(F16); V[r][c] at chunk + 16 r + c
    float dr[4], di[4];
    mma_f16<BF16, false>(F, j, wr, wi, wn, dr, di);
#pragma unroll
    for (int q = 0; q < 4; ++q) {   // V^T[g + 8 (q >> 1)][8j + 2t + (q & 1)]
      const int idx = SIDX(base + (8 * j + 2 * t + (q & 1)) * 16 + g + 8 * (q >> 1));
      st(zr + idx, dr[q]); st(zi + idx, di[q]);
    }
  }
}

// scale: the forward stages' 1/16 each; k: the spectrum (Monarch order), conj = -1 uses conj(k).
template <bool BF16, typename ST>
__device__ void conv256_warp(const Tw& T, const float2* tw256, ST* zr, ST* zi, int N, float scale,
                             const float2* __restrict__ k, float conj) {
  FragA F; make_frag_a<BF16>(T, F);   // re, im only: the -im products negate the other operand (sign bits)
  constexpr uint32_t NEG2 = 0x80008000u;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  const float2* tl = tw256 + lane;
  for (int chunk = warp; chunk < (N >> 8); chunk += nw) {
    const int base = chunk << 8;
    uint32_t yr[4], yi[4];   // Y twiddled and scaled, as an A operand: reg 2j + h = rows g + 8h, cols 8j + 2t + {0,1}
    pair_stage16_fwd<BF16>(F, tl, zr, zi, base, g, t, scale, yr, yi);
    uint32_t yn[4];          // -Y_i (F16's -im part is not kept: 4 registers fewer)
#pragma unroll
    for (int i = 0; i < 4; ++i) yn[i] = yi[i] ^ NEG2;
    uint32_t pr[4], pi[4];   // Z * scale * k, as an A operand
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float2 kw[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        kw[q] = k[base + (g + 8 * (q >> 1)) * 16 + 8 * j + 2 * t + (q & 1)];
        kw[q].y *= conj;
      }
      float dr[4], di[4];
      mma_f16<BF16, true>(F, j, yr, yi, yn, dr, di);
      float a[4], b[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const float x = dr[q] * scale, y = di[q] * scale;
        a[q] = x * kw[q].x - y * kw[q].y;
        b[q] = x * kw[q].y + y * kw[q].x;
      }
      pr[2 * j] = pack2<BF16>(a[0], a[1]); pr[2 * j + 1] = pack2<BF16>(a[2], a[3]);
      pi[2 * j] = pack2<BF16>(b[0], b[1]); pi[2 * j + 1] = pack2<BF16>(b[2], b[3]);
    }
    pair_inv_stages<BF16>(F, tl, pr, pi, zr, zi, base, g, t);
  }
}

// The first stage (R = R1 < 16, stride S = N / R, one column per thread) of the two-stages-per-warp kernels: the
// in-register FFT, and the twiddles w_N^(k c) by a product recurrence from one table lookup per column (R - 1
// complex products instead of R - 1 lookups; the recurrence's few-ulp error is far below the 16-bit operands').
// half: the input is zero from N/2 on and only outputs below N/2 are used (causal and bidirectional padding,
// L <= N/2): the forward skips those loads (the caller need not zero them), the inverse skips those stores.
template <int R, bool FWD, bool HALF, typename ST>
__device__ __forceinline__ void stage_first_pair_h(const Tw& T, ST* zr, ST* zi, int log2N, float scale) {
  constexpr int lR = R == 2 ? 1 : R == 4 ? 2 : 3;
  const int S = 1 << (log2N - lR);
  for (int c = threadIdx.x; c < S; c += blockDim.x) {
    float xr[R], xi[R];
#pragma unroll
    for (int r = 0; r < R; ++r) {
      if (FWD && HALF && r >= R / 2) { xr[r] = 0.f; xi[r] = 0.f; }
      else { xr[r] = ld(zr + SIDX(c + r * S)); xi[r] = ld(zi + SIDX(c + r * S)); }
    }
    const float2 w = tw_at(T, c);   // exp(-2 pi i c / N)
    if (!FWD) {   // x[r] *= exp(+2 pi i r c / N)
      float pr = w.x, pi = -w.y;
#pragma unroll
      for (int r = 1; r < R; ++r) {
        const float a = xr[r] * pr - xi[r] * pi, b = xr[r] * pi + xi[r] * pr;
        xr[r] = a; xi[r] = b;
        const float q = pr * w.x + pi * w.y;
        pi = pi * w.x - pr * w.y; pr = q;
      }
    }
    dft_reg<R, !FWD>(xr, xi);
    if (FWD) {   // x[k] *= scale * exp(-2 pi i k c / N)
      float pr = scale, pi = 0.f;
#pragma unroll
      for (int k = 0; k < R; ++k) {
        const float a = xr[k] * pr - xi[k] * pi, b = xr[k] * pi + xi[k] * pr;
        xr[k] = a; xi[k] = b;
        const float q = pr * w.x - pi * w.y;
        pi = pr * w.y + pi * w.x; pr = q;
      }
    }
#pragma unroll
    for (int k = 0; k < R; ++k)
      if (FWD || !HALF || k < R / 2) { st(zr + SIDX(c + k * S), xr[k]); st(zi + SIDX(c + k * S), xi[k]); }
  }
}

template <int R, bool FWD, typename ST>
__device__ void stage_first_pair(const Tw& T, ST* zr, ST* zi, int log2N, float scale, bool half) {
  if (half) stage_first_pair_h<R, FWD, true, ST>(T, zr, zi, log2N, scale);
  else stage_first_pair_h<R, FWD, false, ST>(T, zr, zi, log2N, scale);
}

