// FlashButterfly beyond shared memory: the three-pass long convolution (N = N1 * M, N1 in {2, 4, 8, 16, 32, 64}).
// Shapes: B batch, H channels, L sequence length, N FFT size (power of two), M inner (in-smem) FFT size, N1 = N / M.
// Row z (two batch rows packed, z = u[b] + i u[b+1]) is read as A[n1][m] = z[M*n1 + m] (N1 x M, row-major):
//   pass 1 (fb3_outer_fwd): B[k1][m] = (sum_n1 w_N1^(k1*n1) A[n1][m]) * w_N^(k1*m) * scale, one thread per column m,
//          the N1-point DFT in registers; B goes to a global scratch S (pairs, H, N) complex.
//   pass 2 (fb3_mid):       each row B[k1][:] (M contiguous points) is one in-smem Monarch convolution (monarch.cuh
//          conv_smem) with its slice kf[h][k1*M .. k1*M + M) of the kernel spectrum; back to S (16-byte row accesses
//          with flags bit 3, round 8d; element-wise without, the twin).
//   pass 3 (fb3_outer_inv): per column m, conj twiddles, inverse N1-point DFT, + D*u, crop to L, y written once.
// The spectrum X[k1 + N1*k2] of the full row then lies at S[k1*M + p] with p the inner Monarch position of k2:
// kf must be in that order; fb3_outer_fwd (unscaled, fp32) + fb3_rows_f32 (forward) produce it from kt.
// Scaling: pass 1 carries 1/N1 (scale), the inner forward 1/M; inverses unscaled. Scratch element SC: float2,
// or bf16x2 / half2 (re, im) for the 16-bit shared-memory kernels.
// Weight gradient (fp32 throughout): per batch pair, pass 1 on u -> SA and on dy -> SB; fb3_dk_mid runs the
// inner forward FFTs and accumulates acc += conj(SA) * SB; fb3_rows_f32 (inverse, 1/N) then fb3_outer_inv_dk give
// dkt[j] = sum_b corr(u[b], dy[b])[j] in natural order; dD from fb_dD.
#include "monarch.cuh"
#include "scratch_io.cuh"   // ldc / stc (2), load_row, store_row

// W64, bitrev and dft_reg (the in-register radix-2 FFT) live in monarch.cuh.

// Two adjacent elements (vector access when VEC: the address is 2-element aligned).
__device__ __forceinline__ void ld2(const float* p, bool vec, float& a, float& b) {
  if (vec) { const float2 v = *reinterpret_cast<const float2*>(p); a = v.x; b = v.y; } else { a = p[0]; b = p[1]; }
}
__device__ __forceinline__ void ld2(const __nv_bfloat16* p, bool vec, float& a, float& b) {
  if (vec) { const float2 v = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(p)); a = v.x; b = v.y; }
  else { a = ld(p); b = ld(p + 1); }
}
__device__ __forceinline__ void ld2(const __half* p, bool vec, float& a, float& b) {
  if (vec) { const float2 v = __half22float2(*reinterpret_cast<const __half2*>(p)); a = v.x; b = v.y; }
  else { a = ld(p); b = ld(p + 1); }
}
__device__ __forceinline__ void st2(float* p, bool vec, float a, float b) {
  if (vec) *reinterpret_cast<float2*>(p) = make_float2(a, b); else { p[0] = a; p[1] = b; }
}
__device__ __forceinline__ void st2(__nv_bfloat16* p, bool vec, float a, float b) {
  if (vec) *reinterpret_cast<__nv_bfloat162*>(p) = __floats2bfloat162_rn(a, b); else { st(p, a); st(p + 1, b); }
}
__device__ __forceinline__ void st2(__half* p, bool vec, float a, float b) {
  if (vec) *reinterpret_cast<__half2*>(p) = __floats2half2_rn(a, b); else { st(p, a); st(p + 1, b); }
}

// The 64-point DFT in registers as two levels of 8 (n = 8a + b, k = c + 8d):
//   Y_b[c] = sum_a x[8a + b] w8^(ac);  Y_b[c] *= w64^(bc);  X[c + 8d] = sum_b Y_b[c] w8^(bd).
// Natural order in and out, unscaled (INV: conjugate). Every index a compile-time constant after unrolling.
template <bool INV>
__device__ __forceinline__ void dft64_reg(float (&xr)[64], float (&xi)[64]) {
#pragma unroll
  for (int b = 0; b < 8; ++b) {
    float tr[8], ti[8];
#pragma unroll
    for (int a = 0; a < 8; ++a) { tr[a] = xr[8 * a + b]; ti[a] = xi[8 * a + b]; }
    dft_reg<8, INV>(tr, ti);
#pragma unroll
    for (int c = 0; c < 8; ++c) {   // w64^(bc) = W64[bc] for bc < 32, -W64[bc - 32] beyond (bc <= 49)
      const int j = b * c;
      float wr = 1.f, wi = 0.f;
      if (j != 0) {
        const float2 w = W64[j & 31];
        wr = j < 32 ? w.x : -w.x; wi = j < 32 ? w.y : -w.y;
        if (INV) wi = -wi;
      }
      xr[8 * c + b] = tr[c] * wr - ti[c] * wi; xi[8 * c + b] = tr[c] * wi + ti[c] * wr;
    }
  }
  float yr[64], yi[64];
#pragma unroll
  for (int c = 0; c < 8; ++c) {
    float tr[8], ti[8];
#pragma unroll
    for (int b = 0; b < 8; ++b) { tr[b] = xr[8 * c + b]; ti[b] = xi[8 * c + b]; }
    dft_reg<8, INV>(tr, ti);
#pragma unroll
    for (int d = 0; d < 8; ++d) { yr[c + 8 * d] = tr[d]; yi[c + 8 * d] = ti[d]; }
  }
#pragma unroll
  for (int k = 0; k < 64; ++k) { xr[k] = yr[k]; xi[k] = yi[k]; }
}

// The outer passes' R-point DFT: radix 2 in registers up to R = 32, 8 x 8 at R = 64.
template <int R, bool INV>
__device__ __forceinline__ void outer_dft(float (&xr)[R], float (&xi)[R]) {
  if constexpr (R == 64) dft64_reg<INV>(xr, xi); else dft_reg<R, INV>(xr, xi);
}

// Columns per thread of the outer passes: 2 (vector loads/stores, twice the bytes in flight) up to N1 = 16; 1 at
// N1 = 32 and 64 (64 / 128 registers of data per column).
template <int R> struct OuterCols { static constexpr int C = R <= 16 ? 2 : 1; };

// tw[k] = exp(sign * 2*pi*i * k*m / N), k < R: exact sincospif at k = 0 mod 8, then 7 products with w^1 (each adds
// ~1 ulp: <= 8 ulp ~ 5e-7 relative, below the fp32 FFT's own ~eps*log2(N)); k*m < 2^24 is exact in fp32.
template <int R>
struct OuterTw {
  float2 w1;
  int m;
  float arg;
  __device__ __forceinline__ OuterTw(int m_, int log2N, float sign) : m(m_), arg(sign * 2.0f / (float)(1 << log2N)) {
    sincospif((float)m * arg, &w1.y, &w1.x);
  }
  __device__ __forceinline__ float2 next(int k, float2 prev) const {
    if ((k & 7) == 0) { float2 w; if (k == 0) return make_float2(1.f, 0.f); sincospif((float)(k * m) * arg, &w.y, &w.x); return w; }
    return make_float2(prev.x * w1.x - prev.y * w1.y, prev.x * w1.y + prev.y * w1.x);
  }
};

// Pass 1. Grid (colBlocks * pairs, Hc), colBlocks = ceil(M / (blockDim * C)); thread -> columns m .. m + C - 1,
// block x = cb + colBlocks * p; pair p holds batch rows b0 + 2p, b0 + 2p + 1 (< B). in: (B, H, L) rows of IO (zero
// beyond L); out: S (pairs, Hc, N). A chunk of Hc = gridDim.y <= H channels from h0 on: the caller offsets in (and
// pass 3's u, D, y) by h0 rows; H stays the full row stride.
template <int R, typename IO, typename SC>
__device__ void outer_fwd(const IO* __restrict__ in, SC* __restrict__ out, int B, int H, int L, int b0, int log2N,
                          int log2M, float scale) {
  constexpr int C = OuterCols<R>::C;
  const int M = 1 << log2M, N = 1 << log2N, cols = blockDim.x * C, colBlocks = (M + cols - 1) / cols;
  const int p = blockIdx.x / colBlocks, m = ((blockIdx.x - p * colBlocks) * blockDim.x + threadIdx.x) * C, h = blockIdx.y;
  if (m >= M) return;
  const int b = b0 + 2 * p;
  const bool two = b + 1 < B, vec = (L & 1) == 0;   // even L: every row start and every even n is 2-aligned
  const int Lin = L < N ? L : N;
  const IO* r0 = in + ((size_t)b * H + h) * L;
  const IO* r1 = r0 + (size_t)H * L;
  float xr[C][R], xi[C][R];
#pragma unroll
  for (int n1 = 0; n1 < R; ++n1) {
    const int n = n1 * M + m;
    if constexpr (C == 2) {
      if (n + 1 < Lin) {
        ld2(r0 + n, vec, xr[0][n1], xr[C - 1][n1]);
        if (two) ld2(r1 + n, vec, xi[0][n1], xi[C - 1][n1]); else { xi[0][n1] = 0.f; xi[C - 1][n1] = 0.f; }
      } else {
        xr[0][n1] = n < Lin ? ld(r0 + n) : 0.f; xi[0][n1] = two && n < Lin ? ld(r1 + n) : 0.f;
        xr[C - 1][n1] = 0.f; xi[C - 1][n1] = 0.f;
      }
    } else {
      xr[0][n1] = n < Lin ? ld(r0 + n) : 0.f;
      xi[0][n1] = two && n < Lin ? ld(r1 + n) : 0.f;
    }
  }
#pragma unroll
  for (int c = 0; c < C; ++c) outer_dft<R, false>(xr[c], xi[c]);
  SC* o = out + ((size_t)p * gridDim.y + h) * N + m;   // the scratch holds this launch's gridDim.y channels
  OuterTw<R> t0(m, log2N, -1.0f), t1(m + C - 1, log2N, -1.0f);
  float2 w0 = make_float2(1.f, 0.f), w1 = w0;
#pragma unroll
  for (int k1 = 0; k1 < R; ++k1) {
    w0 = t0.next(k1, w0);
    const float c0 = w0.x * scale, s0 = w0.y * scale;
    const float a0 = xr[0][k1] * c0 - xi[0][k1] * s0, b0v = xr[0][k1] * s0 + xi[0][k1] * c0;
    if constexpr (C == 2) {
      w1 = t1.next(k1, w1);
      const float c1 = w1.x * scale, s1 = w1.y * scale;
      stc2(o + (size_t)k1 * M, a0, b0v, xr[1][k1] * c1 - xi[1][k1] * s1, xr[1][k1] * s1 + xi[1][k1] * c1);
    } else {
      stc(o + (size_t)k1 * M, a0, b0v);
    }
  }
}

// Pass 3. Grid as pass 1. y[b, h, n] = Re/Im z[n] + D[h] u[b, h, n] for n < L.
template <int R, typename IO, typename SC>
__device__ void outer_inv(const SC* __restrict__ in, const IO* __restrict__ u, const float* __restrict__ D,
                          IO* __restrict__ y, int B, int H, int L, int b0, int log2N, int log2M) {
  constexpr int C = OuterCols<R>::C;
  const int M = 1 << log2M, N = 1 << log2N, cols = blockDim.x * C, colBlocks = (M + cols - 1) / cols;
  const int p = blockIdx.x / colBlocks, m = ((blockIdx.x - p * colBlocks) * blockDim.x + threadIdx.x) * C, h = blockIdx.y;
  if (m >= M) return;
  const int b = b0 + 2 * p;
  const bool two = b + 1 < B, vec = (L & 1) == 0;
  const SC* s0 = in + ((size_t)p * gridDim.y + h) * N + m;
  float xr[C][R], xi[C][R];
  OuterTw<R> t0(m, log2N, 1.0f), t1(m + C - 1, log2N, 1.0f);
  float2 w0 = make_float2(1.f, 0.f), w1 = w0;
#pragma unroll
  for (int k1 = 0; k1 < R; ++k1) {
    float2 v[2];
    if constexpr (C == 2) ldc2(s0 + (size_t)k1 * M, v[0], v[1]); else v[0] = ldc(s0 + (size_t)k1 * M);
    w0 = t0.next(k1, w0);
    xr[0][k1] = v[0].x * w0.x - v[0].y * w0.y; xi[0][k1] = v[0].x * w0.y + v[0].y * w0.x;
    if constexpr (C == 2) {
      w1 = t1.next(k1, w1);
      xr[C - 1][k1] = v[1].x * w1.x - v[1].y * w1.y; xi[C - 1][k1] = v[1].x * w1.y + v[1].y * w1.x;
    }
  }
#pragma unroll
  for (int c = 0; c < C; ++c) outer_dft<R, true>(xr[c], xi[c]);
  const float d = D[h];
  const size_t r0 = ((size_t)b * H + h) * L, r1 = r0 + (size_t)H * L;
#pragma unroll
  for (int n1 = 0; n1 < R; ++n1) {
    const int n = n1 * M + m;
    if constexpr (C == 2) {
      if (n + 1 < L) {
        float a, bb;
        ld2(u + r0 + n, vec, a, bb);
        st2(y + r0 + n, vec, fmaf(d, a, xr[0][n1]), fmaf(d, bb, xr[C - 1][n1]));
        if (two) { ld2(u + r1 + n, vec, a, bb); st2(y + r1 + n, vec, fmaf(d, a, xi[0][n1]), fmaf(d, bb, xi[C - 1][n1])); }
        continue;
      }
    }
    if (n < L) {
      st(y + r0 + n, fmaf(d, ld(u + r0 + n), xr[0][n1]));
      if (two) st(y + r1 + n, fmaf(d, ld(u + r1 + n), xi[0][n1]));
    }
  }
}

// Passes 1 and 3 through a shared-memory tile (round 8d, ThreePass.forwardSteps tileOuter; N1 <= 16): a block of
// W = blockDim.x threads (W divides M) takes columns m0 .. m0 + W of one (pair, channel); the tile's R rows move between
// global and shared memory as 16-byte accesses (u, y: VI = 16 / sizeof(IO) elements, L % VI == 0 and 16-byte aligned
// bases; the scratch: VS = 16 / sizeof(SC) elements, aligned base; else element-wise), the thread's column is read
// from the tile and transformed with outer_fwd's / outer_inv's arithmetic, then written back to the tile. Shared
// memory: planes re, im of R x W floats (8 R W bytes); float4 tile accesses keep the row-wise phases conflict-free.
// Grid ((M / W) * pairs, Hc).
template <int R, typename IO, typename SC>
__device__ void outer_fwd_tile(const IO* __restrict__ in, SC* __restrict__ out, int B, int H, int L, int b0, int log2N,
                               int log2M, float scale) {
  extern __shared__ __align__(16) float tile[];
  constexpr int VI = 16 / sizeof(IO), VS = 16 / sizeof(SC);
  const int W = blockDim.x, M = 1 << log2M, N = 1 << log2N, colBlocks = M / W, t = threadIdx.x;
  const int p = blockIdx.x / colBlocks, m0 = (blockIdx.x - p * colBlocks) * W, h = blockIdx.y, b = b0 + 2 * p;
  const bool two = b + 1 < B, vec = L % VI == 0 && (reinterpret_cast<size_t>(in) & 15) == 0;
  const bool vecS = (reinterpret_cast<size_t>(out) & 15) == 0;
  const int Lin = L < N ? L : N, G = W / VI, GS = W / VS;
  float* tr = tile;
  float* ti = tile + R * W;
  const IO* r0 = in + ((size_t)b * H + h) * L;
  const IO* r1 = r0 + (size_t)H * L;
  constexpr int IT = (2 * R + VI - 1) / VI;   // groups per thread (2 R W / VI over W threads), unrolled: loads in flight
#pragma unroll
  for (int it = 0; it < IT; ++it) {   // g -> (plane q: row b or b + 1, tile row n1, group j)
    const int g = t + it * W;
    if (g >= 2 * R * G) break;
    const int q = g / (R * G), rem = g - q * R * G, n1 = rem / G, j = rem - n1 * G, n = n1 * M + m0 + j * VI;
    float* dst = (q ? ti : tr) + n1 * W + j * VI;
    const IO* src = (q ? r1 : r0) + n;
    float f[VI];
    if (q && !two) {
#pragma unroll
      for (int k = 0; k < VI; ++k) f[k] = 0.f;
    } else if (vec && n + VI <= Lin) {
      const uint4 v = *reinterpret_cast<const uint4*>(src);
      const IO* e = reinterpret_cast<const IO*>(&v);
#pragma unroll
      for (int k = 0; k < VI; ++k) f[k] = ld(e + k);
    } else {
#pragma unroll
      for (int k = 0; k < VI; ++k) f[k] = n + k < Lin ? ld(src + k) : 0.f;
    }
#pragma unroll
    for (int k = 0; k < VI; k += 4) *reinterpret_cast<float4*>(dst + k) = make_float4(f[k], f[k + 1], f[k + 2], f[k + 3]);
  }
  __syncthreads();
  float xr[R], xi[R];
#pragma unroll
  for (int n1 = 0; n1 < R; ++n1) { xr[n1] = tr[n1 * W + t]; xi[n1] = ti[n1 * W + t]; }
  outer_dft<R, false>(xr, xi);
  OuterTw<R> tw(m0 + t, log2N, -1.0f);
  float2 w = make_float2(1.f, 0.f);
#pragma unroll
  for (int k1 = 0; k1 < R; ++k1) {
    w = tw.next(k1, w);
    const float c = w.x * scale, s = w.y * scale;
    tr[k1 * W + t] = xr[k1] * c - xi[k1] * s; ti[k1 * W + t] = xr[k1] * s + xi[k1] * c;
  }
  __syncthreads();
  SC* o = out + ((size_t)p * gridDim.y + h) * N + m0;   // the scratch holds this launch's gridDim.y channels
  for (int g = t; g < R * GS; g += W) {
    const int k1 = g / GS, j = g - k1 * GS;
    const float* a = tr + k1 * W + j * VS;
    const float* c = ti + k1 * W + j * VS;
    SC* d = o + (size_t)k1 * M + j * VS;
    union Pack { uint4 u; SC e[VS]; } pk;
#pragma unroll
    for (int k = 0; k < VS; ++k) stc(&pk.e[k], a[k], c[k]);
    if (vecS) *reinterpret_cast<uint4*>(d) = pk.u;
    else {
#pragma unroll
      for (int k = 0; k < VS; ++k) d[k] = pk.e[k];
    }
  }
}

template <int R, typename IO, typename SC>
__device__ void outer_inv_tile(const SC* __restrict__ in, const IO* __restrict__ u, const float* __restrict__ D,
                               IO* __restrict__ y, int B, int H, int L, int b0, int log2N, int log2M) {
  extern __shared__ __align__(16) float tile[];
  constexpr int VI = 16 / sizeof(IO), VS = 16 / sizeof(SC);
  const int W = blockDim.x, M = 1 << log2M, N = 1 << log2N, colBlocks = M / W, t = threadIdx.x;
  const int p = blockIdx.x / colBlocks, m0 = (blockIdx.x - p * colBlocks) * W, h = blockIdx.y, b = b0 + 2 * p;
  const bool two = b + 1 < B;
  const bool vec = L % VI == 0 && ((reinterpret_cast<size_t>(u) | reinterpret_cast<size_t>(y)) & 15) == 0;
  const bool vecS = (reinterpret_cast<size_t>(in) & 15) == 0;
  const int G = W / VI, GS = W / VS;
  float* tr = tile;
  float* ti = tile + R * W;
  const SC* s0 = in + ((size_t)p * gridDim.y + h) * N + m0;
  constexpr int IT = (R + VS - 1) / VS;   // groups per thread (R W / VS over W threads), unrolled: loads in flight
#pragma unroll
  for (int it = 0; it < IT; ++it) {
    const int g = t + it * W;
    if (g >= R * GS) break;
    const int k1 = g / GS, j = g - k1 * GS;
    const SC* src = s0 + (size_t)k1 * M + j * VS;
    union Pack { uint4 u; SC e[VS]; } pk;
    if (vecS) pk.u = *reinterpret_cast<const uint4*>(src);
    else {
#pragma unroll
      for (int k = 0; k < VS; ++k) pk.e[k] = src[k];
    }
    float a[VS], c[VS];
#pragma unroll
    for (int k = 0; k < VS; ++k) { const float2 x = ldc(&pk.e[k]); a[k] = x.x; c[k] = x.y; }
    if constexpr (VS == 4) {
      *reinterpret_cast<float4*>(tr + k1 * W + j * VS) = make_float4(a[0], a[1], a[2], a[3]);
      *reinterpret_cast<float4*>(ti + k1 * W + j * VS) = make_float4(c[0], c[1], c[2], c[3]);
    } else {
      *reinterpret_cast<float2*>(tr + k1 * W + j * VS) = make_float2(a[0], a[1]);
      *reinterpret_cast<float2*>(ti + k1 * W + j * VS) = make_float2(c[0], c[1]);
    }
  }
  __syncthreads();
  float xr[R], xi[R];
  OuterTw<R> tw(m0 + t, log2N, 1.0f);
  float2 w = make_float2(1.f, 0.f);
#pragma unroll
  for (int k1 = 0; k1 < R; ++k1) {
    const float2 v = make_float2(tr[k1 * W + t], ti[k1 * W + t]);
    w = tw.next(k1, w);
    xr[k1] = v.x * w.x - v.y * w.y; xi[k1] = v.x * w.y + v.y * w.x;
  }
  outer_dft<R, true>(xr, xi);
#pragma unroll
  for (int n1 = 0; n1 < R; ++n1) { tr[n1 * W + t] = xr[n1]; ti[n1 * W + t] = xi[n1]; }
  __syncthreads();
  const float d = D[h];
  const size_t r0 = ((size_t)b * H + h) * L, r1 = r0 + (size_t)H * L;
  // Round 9c: every 16-byte u load of the thread is issued before the first use (round 8d's loop waited for each in
  // turn: up to 2 N1 / VI dependent HBM round trips per thread, and the pass was slower than the column kernel).
  constexpr int IO_IT = (2 * R + VI - 1) / VI;   // groups per thread (2 R W / VI over W threads)
  union PackIO { uint4 u; IO e[VI]; };
  PackIO pu[IO_IT];
#pragma unroll
  for (int it = 0; it < IO_IT; ++it) {
    const int g = t + it * W;
    const int q = g / (R * G), rem = g - q * R * G, n1 = rem / G, j = rem - n1 * G, n = n1 * M + m0 + j * VI;
    if (g < 2 * R * G && !(q && !two) && vec && n + VI <= L)
      pu[it].u = *reinterpret_cast<const uint4*>(u + (q ? r1 : r0) + n);
  }
#pragma unroll
  for (int it = 0; it < IO_IT; ++it) {
    const int g = t + it * W;
    if (g >= 2 * R * G) break;
    const int q = g / (R * G), rem = g - q * R * G, n1 = rem / G, j = rem - n1 * G, n = n1 * M + m0 + j * VI;
    if ((q && !two) || n >= L) continue;
    const float* a = (q ? ti : tr) + n1 * W + j * VI;
    const size_t r = (q ? r1 : r0) + n;
    if (vec && n + VI <= L) {
      PackIO py;
#pragma unroll
      for (int k = 0; k < VI; ++k) st(&py.e[k], fmaf(d, ld(&pu[it].e[k]), a[k]));
      *reinterpret_cast<uint4*>(y + r) = py.u;
    } else {
      for (int k = 0; k < VI && n + k < L; ++k) st(y + r + k, fmaf(d, ld(u + r + k), a[k]));
    }
  }
}

// Pass 3 of the weight gradient: the real part of the natural-order correlation, kept taps only:
// dk[h, j] = dkt[j] (j < Lk); bidirectional also dk[H*Lk + h*Lk + j] = dkt[N-1-j]. Grid (colBlocks, H).
template <int R>
__device__ void outer_inv_dk(const float2* __restrict__ in, float* __restrict__ dk, int H, int Lk, int log2N, int log2M,
                             int bidir) {
  const int M = 1 << log2M, N = 1 << log2N, m = blockIdx.x * blockDim.x + threadIdx.x, h = blockIdx.y;
  if (m >= M) return;
  const float2* s0 = in + (size_t)h * N + m;
  float xr[R], xi[R];
  OuterTw<R> tw(m, log2N, 1.0f);
  float2 w = make_float2(1.f, 0.f);
#pragma unroll
  for (int k1 = 0; k1 < R; ++k1) {
    const float2 v = s0[(size_t)k1 * M];
    w = tw.next(k1, w);
    xr[k1] = v.x * w.x - v.y * w.y; xi[k1] = v.x * w.y + v.y * w.x;
  }
  outer_dft<R, true>(xr, xi);
#pragma unroll
  for (int n1 = 0; n1 < R; ++n1) {
    const int n = n1 * M + m;
    if (n < Lk) dk[(size_t)h * Lk + n] = xr[n1];
    if (bidir && N - 1 - n < Lk) dk[(size_t)H * Lk + (size_t)h * Lk + (N - 1 - n)] = xr[n1];
  }
}

// Runtime N1 -> template R.
#define FB3_DISPATCH(N1, CALL) \
  switch (N1) { case 2: { constexpr int R = 2; CALL; } break; case 4: { constexpr int R = 4; CALL; } break; \
    case 8: { constexpr int R = 8; CALL; } break; case 16: { constexpr int R = 16; CALL; } break; \
    default: { constexpr int R = 32; CALL; } }

// N1 <= 16 (the tile kernels: four 256-thread blocks per SM for pass 1 (<= 64 registers), three for pass 3 (<= 85: at
// 64, sm_80 spilled 4 bytes)).
#define FB3_DISPATCH16(N1, CALL) \
  switch (N1) { case 2: { constexpr int R = 2; CALL; } break; case 4: { constexpr int R = 4; CALL; } break; \
    case 8: { constexpr int R = 8; CALL; } break; default: { constexpr int R = 16; CALL; } }

// fb3_outer_*: N1 <= 32; fb3_outer64_*: N1 = 64, separate entry points so that the 128 data registers of a column
// do not raise the register count (and lower the occupancy) of the N1 <= 32 kernels.
#define FB3_OUTER(SUF, IO, SC)                                                                                     \
  extern "C" __global__ void __launch_bounds__(256) fb3_outer_fwd_##SUF(const IO* __restrict__ in, SC* __restrict__ out, \
      int B, int H, int L, int b0, int log2N, int log2M, float scale) {                                              \
    FB3_DISPATCH(1 << (log2N - log2M), (outer_fwd<R, IO, SC>(in, out, B, H, L, b0, log2N, log2M, scale)))           \
  }                                                                                                                  \
  extern "C" __global__ void __launch_bounds__(256) fb3_outer_inv_##SUF(const SC* __restrict__ in,                  \
      const IO* __restrict__ u, const float* __restrict__ D, IO* __restrict__ y, int B, int H, int L, int b0,        \
      int log2N, int log2M) {                                                                                        \
    FB3_DISPATCH(1 << (log2N - log2M), (outer_inv<R, IO, SC>(in, u, D, y, B, H, L, b0, log2N, log2M)))               \
  }                                                                                                                  \
  extern "C" __global__ void __launch_bounds__(256) fb3_outer64_fwd_##SUF(const IO* __restrict__ in,                \
      SC* __restrict__ out, int B, int H, int L, int b0, int log2N, int log2M, float scale) {                        \
    outer_fwd<64, IO, SC>(in, out, B, H, L, b0, log2N, log2M, scale);                                                \
  }                                                                                                                  \
  extern "C" __global__ void __launch_bounds__(256) fb3_outer64_inv_##SUF(const SC* __restrict__ in,                \
      const IO* __restrict__ u, const float* __restrict__ D, IO* __restrict__ y, int B, int H, int L, int b0,        \
      int log2N, int log2M) {                                                                                        \
    outer_inv<64, IO, SC>(in, u, D, y, B, H, L, b0, log2N, log2M);                                                   \
  }                                                                                                                  \
  extern "C" __global__ void __launch_bounds__(256, 4) fb3_outer_fwd_t_##SUF(const IO* __restrict__ in,             \
      SC* __restrict__ out, int B, int H, int L, int b0, int log2N, int log2M, float scale) {                        \
    FB3_DISPATCH16(1 << (log2N - log2M), (outer_fwd_tile<R, IO, SC>(in, out, B, H, L, b0, log2N, log2M, scale)))      \
  }                                                                                                                  \
  extern "C" __global__ void __launch_bounds__(256, 3) fb3_outer_inv_t_##SUF(const SC* __restrict__ in,             \
      const IO* __restrict__ u, const float* __restrict__ D, IO* __restrict__ y, int B, int H, int L, int b0,        \
      int log2N, int log2M) {                                                                                        \
    FB3_DISPATCH16(1 << (log2N - log2M), (outer_inv_tile<R, IO, SC>(in, u, D, y, B, H, L, b0, log2N, log2M)))          \
  }
// name: fb3_outer[64]_{fwd,inv}_<io>_<scratch: f32 = float2, bf16 = bf16x2, f16 = half2>; fb3_outer_{fwd,inv}_t_*: the
// shared-memory tile (N1 <= 16; dynamic smem 8 * N1 * blockDim.x bytes)
FB3_OUTER(f32_f32, float, float2)
FB3_OUTER(f32_bf16, float, __nv_bfloat162)
FB3_OUTER(f32_f16, float, __half2)
FB3_OUTER(bf16_f32, __nv_bfloat16, float2)
FB3_OUTER(bf16_bf16, __nv_bfloat16, __nv_bfloat162)
FB3_OUTER(f16_f32, __half, float2)
FB3_OUTER(f16_f16, __half, __half2)

extern "C" __global__ void __launch_bounds__(256) fb3_outer_inv_dk(const float2* __restrict__ in, float* __restrict__ dk,
    int H, int Lk, int log2N, int log2M, int bidir) {
  FB3_DISPATCH(1 << (log2N - log2M), (outer_inv_dk<R>(in, dk, H, Lk, log2N, log2M, bidir)))
}
extern "C" __global__ void __launch_bounds__(256) fb3_outer64_inv_dk(const float2* __restrict__ in, float* __restrict__ dk,
    int H, int Lk, int log2N, int log2M, int bidir) {
  outer_inv_dk<64>(in, dk, H, Lk, log2N, log2M, bidir);
}

// Pass 2. Grid (pairs * N1, H), block x = p + pairs * k1 (the pairs of one (h, k1) are adjacent: kf's slice comes
// from L2 after the first); dynamic smem as the fused kernel for N = M. flags bit 0: fused middle stage;
// bit 1: conj(kf) (backward for u); bit 3 (round 8d, ThreePass.forwardSteps): the row moves between S and shared
// memory with 16-byte accesses (load_row16 / store_row16) when it is 16-byte aligned, else element-wise (the twin).
// PAIR (the _w2 kernels): two stages per warp (conv256_warp, pair_table_bytes(M) more smem).
template <int CM, typename ST, typename SC, bool PAIR = false>
__device__ void fb3_mid(SC* __restrict__ S, const float2* __restrict__ kf, int pairs, int H, int log2N, int log2M,
                        int flags) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  const int M = 1 << log2M, P = M + (M >> 5), N = 1 << log2N, h = blockIdx.y;
  const int k1 = blockIdx.x / pairs, p = blockIdx.x - k1 * pairs;
  ST* zr = reinterpret_cast<ST*>(smem_raw); ST* zi = zr + P;
  SC* row = S + ((size_t)p * H + h) * N + (size_t)k1 * M;
  const bool vec = (flags & 8) && (reinterpret_cast<size_t>(row) & 15) == 0;   // uniform per block
  if (vec) load_row16(zr, zi, row, M); else load_row(zr, zi, row, M);
  float2* tws = reinterpret_cast<float2*>(smem_raw + ((2 * P * (int)sizeof(ST) + 15) & ~15));
  const Tw tw = tw_init(tws, log2M);
  float2* tw256 = nullptr;
  if (PAIR && CM != 0 && M >= 256) { tw256 = tws + tw_entries(M); tw256_init(tw256); }   // as fb_conv_forward
  __syncthreads();
  conv_smem<CM, ST, PAIR>(tw, zr, zi, log2M, kf + (size_t)h * N + (size_t)k1 * M, (flags & 2) ? -1.0f : 1.0f, flags & 1,
                    tw256);
  if (vec) store_row16(row, zr, zi, M); else store_row(row, zr, zi, M);
}

#define FB3_MID(NAME, CM, ST, SC)                                                                                 \
  extern "C" __global__ void __launch_bounds__(CM != 0 ? 1024 : 512, 1) NAME(SC* __restrict__ S,                 \
      const float2* __restrict__ kf, int pairs, int H, int log2N, int log2M, int flags) {                         \
    fb3_mid<CM, ST, SC>(S, kf, pairs, H, log2N, log2M, flags);                                                    \
  }
// name: fb3_mid_<compute>[_s16]: the shared-memory storage (and so the scratch element) 16-bit with _s16
FB3_MID(fb3_mid_f32, 0, float, float2)
FB3_MID(fb3_mid_bf16, 2, float, float2)
FB3_MID(fb3_mid_f16, 1, float, float2)
FB3_MID(fb3_mid_bf16_s16, 2, __nv_bfloat16, __nv_bfloat162)
FB3_MID(fb3_mid_f16_s16, 1, __half, __half2)
#define FB3_MID_W2(NAME, CM, ST, SC)                                                                              \
  extern "C" __global__ void __launch_bounds__(768, 1) NAME(SC* __restrict__ S,                                   \
      const float2* __restrict__ kf, int pairs, int H, int log2N, int log2M, int flags) {                         \
    fb3_mid<CM, ST, SC, true>(S, kf, pairs, H, log2N, log2M, flags);                                              \
  }
// two radix-16 stages per warp (as fb_conv_fwd_*_w2)
FB3_MID_W2(fb3_mid_bf16_w2, 2, float, float2)
FB3_MID_W2(fb3_mid_f16_w2, 1, float, float2)
FB3_MID_W2(fb3_mid_bf16_s16_w2, 2, __nv_bfloat16, __nv_bfloat162)
FB3_MID_W2(fb3_mid_f16_s16_w2, 1, __half, __half2)

// fp32 in-smem FFT of rows of M complex points (grid: one block per row), for the kernel spectrum (forward,
// unscaled) and the weight gradient (inverse, inputs times scale). in and out may alias.
extern "C" __global__ void __launch_bounds__(512, 1) fb3_rows_f32(const float2* in, float2* out, int log2M, int inverse,
                                                                  float scale) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  const int M = 1 << log2M, P = M + (M >> 5);
  float* zr = reinterpret_cast<float*>(smem_raw); float* zi = zr + P;
  const size_t r = (size_t)blockIdx.x * M;
  for (int n = threadIdx.x; n < M; n += blockDim.x) {
    const float2 v = in[r + n];
    zr[SIDX(n)] = v.x * scale; zi[SIDX(n)] = v.y * scale;
  }
  const Tw tw = tw_init(reinterpret_cast<float2*>(smem_raw + ((8 * P + 15) & ~15)), log2M);
  __syncthreads();
  if (inverse) monarch_fft<0, false, float, true>(tw, zr, zi, log2M, false);
  else monarch_fft<0, true, float, true>(tw, zr, zi, log2M, false);
  for (int n = threadIdx.x; n < M; n += blockDim.x) out[r + n] = make_float2(zr[SIDX(n)], zi[SIDX(n)]);
}

// Weight gradient, middle pass for one batch pair: rows of M points (grid: one block per row r = h*N1 + k1):
// SA <- FFT(SA) (kept: each thread reads back only what it wrote), then acc (=|+=) conj(FFT(SA)) * FFT(SB).
extern "C" __global__ void __launch_bounds__(512, 1) fb3_dk_mid(float2* __restrict__ SA, const float2* __restrict__ SB,
                                                                float2* __restrict__ acc, int log2M, int first) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  const int M = 1 << log2M, P = M + (M >> 5);
  float* zr = reinterpret_cast<float*>(smem_raw); float* zi = zr + P;
  const size_t r = (size_t)blockIdx.x * M;
  load_row(zr, zi, SA + r, M);
  const Tw tw = tw_init(reinterpret_cast<float2*>(smem_raw + ((8 * P + 15) & ~15)), log2M);
  __syncthreads();
  monarch_fft<0, true, float, true>(tw, zr, zi, log2M, false);
  store_row(SA + r, zr, zi, M);
  __syncthreads();
  load_row(zr, zi, SB + r, M);
  __syncthreads();
  monarch_fft<0, true, float, true>(tw, zr, zi, log2M, false);
  for (int n = threadIdx.x; n < M; n += blockDim.x) {
    const float2 a = SA[r + n];
    const float br = zr[SIDX(n)], bi = zi[SIDX(n)];
    const float2 q = make_float2(a.x * br + a.y * bi, a.x * bi - a.y * br);
    if (first) acc[r + n] = q;
    else { const float2 o = acc[r + n]; acc[r + n] = make_float2(o.x + q.x, o.y + q.y); }
  }
}

// dD[h] = sum_b sum_n dy[b,h,n] u[b,h,n] (fp32). Grid (H), block a multiple of 32 (<= 1024). L a multiple of
// V = 16 / sizeof(IO) (every row 16-byte aligned): 16-byte loads (bench-runs/fb3-1: 1.58 ms at B*L = 1M, H = 768 with
// 2-byte loads, 2 TB/s); else one element per load.
template <typename IO>
__device__ void fb_dD(const IO* __restrict__ u, const IO* __restrict__ dy, float* __restrict__ dD, int B, int H, int L) {
  __shared__ float red[32];
  constexpr int V = 16 / sizeof(IO);
  const int h = blockIdx.x;
  float s = 0.f;
  for (int b = 0; b < B; ++b) {
    const size_t r = ((size_t)b * H + h) * L;
    if (L % V == 0) {
      const uint4* pu = reinterpret_cast<const uint4*>(u + r);
      const uint4* pd = reinterpret_cast<const uint4*>(dy + r);
      for (int i = threadIdx.x; i < L / V; i += blockDim.x) {
        const uint4 a = pu[i], c = pd[i];
        const IO* ea = reinterpret_cast<const IO*>(&a);
        const IO* ec = reinterpret_cast<const IO*>(&c);
#pragma unroll
        for (int j = 0; j < V; ++j) s = fmaf(ld(ea + j), ld(ec + j), s);
      }
    } else {
      for (int n = threadIdx.x; n < L; n += blockDim.x) s += ld(u + r + n) * ld(dy + r + n);
    }
  }
  for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
  if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = s;
  __syncthreads();
  if (threadIdx.x == 0) {
    float t = 0.f;
    for (int w = 0; w < (int)(blockDim.x >> 5); ++w) t += red[w];
    dD[h] = t;
  }
}

#define FB_DD(NAME, IO)                                                                                        \
  extern "C" __global__ void __launch_bounds__(1024) NAME(const IO* __restrict__ u, const IO* __restrict__ dy,  \
      float* __restrict__ dD, int B, int H, int L) { fb_dD<IO>(u, dy, dD, B, H, L); }
FB_DD(fb_dD_f32, float)
FB_DD(fb_dD_bf16, __nv_bfloat16)
FB_DD(fb_dD_f16, __half)
