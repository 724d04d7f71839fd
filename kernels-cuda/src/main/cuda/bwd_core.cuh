// The fused backward's shared pieces (moved from flashbutterfly_bwd.cu unchanged; also used by flashbutterfly3_bwd.cu).
// Shapes: N FFT size (power of two), P = N + N/32 (one plane in the SIDX layout); acc (N) float2 spectral accumulator.
#pragma once
#include "monarch.cuh"

// Byte offset of the twiddle table behind the four planes (two complex spectra of P = N + N/32 elements).
__device__ __forceinline__ int tw_offset4(int P, int stBytes) { return (4 * P * stBytes + 15) & ~15; }

// acc[0] += (a, b), acc[1] += (c, d); acc 16-byte aligned (an even index of a float2 array).
__device__ __forceinline__ void acc_add4(float2* acc, float a, float b, float c, float d) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  atomicAdd(reinterpret_cast<float4*>(acc), make_float4(a, b, c, d));
#else
  atomicAdd(&acc[0].x, a); atomicAdd(&acc[0].y, b); atomicAdd(&acc[1].x, c); atomicAdd(&acc[1].y, d);
#endif
}

// Both forward FFTs at once: the u and dy spectra lie back to back, re = [ur | dr], im = [ui | di], each plane of
// P = N + N/32 elements, so SIDX(N + i) = P + SIDX(i) and the pair is one array of 2N points: every stage of
// monarch.cuh runs over two outer blocks (one barrier per stage for both transforms, twice the tiles per barrier).
// Scaled (each stage 1/R_s: the transforms carry 1/N). skipB: leave out the last (type-B) stage of both halves
// (stage_b_bwd does it in registers).
template <int CM, typename ST>
__device__ void fft_fwd_two(const Tw& T, ST* re, ST* im, int log2N, bool skipB) {
  constexpr bool TC = CM != 0, BF = CM == 2;
  const int N = 1 << log2N, J = (log2N - 1) / 4, R1 = 1 << (log2N - 4 * J);
  const float s16 = 1.0f / 16.0f, s1 = 1.0f / R1;
  switch (R1) {   // the first stage: DFT of R1 points along axis 1 (stride N / R1), two outer blocks
    case 2: stage_cc<2, true, true, ST, TC>(T, re, im, log2N - 1, 2, s1); break;
    case 4: stage_cc<4, true, true, ST, TC>(T, re, im, log2N - 2, 2, s1); break;
    case 8: stage_cc<8, true, true, ST, TC>(T, re, im, log2N - 3, 2, s1); break;
    default:
      if (TC) stage_mma_a<BF, true, ST>(T, re, im, log2N - 4, 2, s1);
      else stage_cc<16, true, true, ST, TC>(T, re, im, log2N - 4, 2, s1);
  }
  __syncthreads();
  for (int s = 2; s <= J + 1; ++s) {   // radix 16 with stride S = 16^(J+1-s)
    const int lS = 4 * (J + 1 - s), S = 1 << lS, O = 2 * N / (16 * S);
    if (TC && S >= 8) stage_mma_a<BF, true, ST>(T, re, im, lS, O, s16);
    else if (TC && S == 1 && N >= 256) { if (!skipB) stage_mma_b<BF, true, ST>(T, re, im, 2 * N, s16); }
    else stage_cc<16, true, true, ST, TC>(T, re, im, lS, O, s16);
    __syncthreads();
  }
}

// acc[0], acc[1] += conj(Zu) Zd at two adjacent positions (acc 16-byte aligned): Zd = (a0, b0), (a1, b1), Zu = (u0r,
// u0i), (u1r, u1i).
__device__ __forceinline__ void acc_conj_product(float2* acc, float a0, float b0, float a1, float b1, float u0r, float u0i,
                                                 float u1r, float u1i) {
  acc_add4(acc, u0r * a0 + u0i * b0, u0r * b0 - u0i * a0, u1r * a1 + u1i * b1, u1r * b1 - u1i * a1);
}

// Zd * conj(k) at two adjacent positions (Zd = (a0, b0), (a1, b1); k[0], k[1]) as one A-operand register of each part.
template <bool BF16>
__device__ __forceinline__ void conj_k_pack(const float2* k, float a0, float b0, float a1, float b1, uint32_t& ar,
                                            uint32_t& ai) {
  const float2 k0 = k[0], k1 = k[1];   // conj(k): (kr, -ki)
  ar = pack2<BF16>(a0 * k0.x + b0 * k0.y, a1 * k1.x + b1 * k1.y);
  ai = pack2<BF16>(b0 * k0.x - a0 * k0.y, b1 * k1.x - a1 * k1.y);
}

// The last forward stage of both FFTs (type B, N >= 256), in registers: per 16 x 16 tile the u and dy tiles are
// transformed by the same MMAs into the same accumulator layout, so conj(Zu) * Zd is added to acc straight from
// registers (Zu never goes back to shared memory), and Zd * conj(k) feeds the first inverse stage of du (as
// monarch.cuh's stage_b_conv: the accumulator layout is the inverse MMA's A-operand layout). scale: the stage's 1/16.
template <bool BF16, typename ST>
__device__ void stage_b_bwd(const Tw& T, ST* zr, ST* zi, const ST* ur, const ST* ui, int N, float scale,
                            const float2* __restrict__ k, float2* __restrict__ acc, bool du) {
  FragB F; make_frag_b<BF16>(T, F);
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  for (int tile = warp; tile < (N >> 8); tile += nw) {
    const int base = tile << 8;
    uint32_t xr[4], xi[4], vr[4], vi[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {   // u's and dy's tiles, loads interleaved
      const int row = g + 8 * (i & 1), col = 2 * t + 8 * (i >> 1), p = base + row * 16 + col;
      xr[i] = pack2<BF16>(ld(zr + SIDX(p)), ld(zr + SIDX(p + 1)));
      xi[i] = pack2<BF16>(ld(zi + SIDX(p)), ld(zi + SIDX(p + 1)));
      vr[i] = pack2<BF16>(ld(ur + SIDX(p)), ld(ur + SIDX(p + 1)));
      vi[i] = pack2<BF16>(ld(ui + SIDX(p)), ld(ui + SIDX(p + 1)));
    }
    __syncwarp();
    uint32_t ar[4], ai[4];   // the du product in A-operand layout: reg 2j+h = rows g+8h, cols 8j+2t+{0,1}
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float dr[4], di[4], er[4], ei[4];
      mma_b<BF16, true>(F, j, xr, xi, dr, di);
      mma_b<BF16, true>(F, j, vr, vi, er, ei);
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) {   // q = 2hh, 2hh+1: two adjacent positions (16-byte aligned in acc)
        const int p = base + (g + 8 * hh) * 16 + 8 * j + 2 * t, q0 = 2 * hh, q1 = 2 * hh + 1;
        const float a0 = dr[q0] * scale, b0 = di[q0] * scale, a1 = dr[q1] * scale, b1 = di[q1] * scale;
        const float u0r = er[q0] * scale, u0i = ei[q0] * scale, u1r = er[q1] * scale, u1i = ei[q1] * scale;
        acc_conj_product(acc + p, a0, b0, a1, b1, u0r, u0i, u1r, u1i);
        if (du) conj_k_pack<BF16>(k + p, a0, b0, a1, b1, ar[2 * j + hh], ai[2 * j + hh]);
      }
    }
    if (du) {
      inverse_b_store<BF16>(F, ar, ai, zr, zi, base, g, t);   // inverse: Y = X @ conj(F16)
    }
    __syncwarp();
  }
}
