// The PACKED learned butterfly (engine LEARNED_PACKED, lib's PackedLearnedButterfly) in fp32 on CUDA cores: the twin of
// the tensor-core kernels (learned_pk.cu, learned_pk_bwd.cu) for every mode, size and I/O type they do not cover
// (PackedLearnedRef). One thread block per row (forward) or per channel and batch slice (backward, looping over the
// slice's rows), all intermediates in shared memory, blocks read from global memory (L1 / L2 resident).
// Shapes: B batch, H channels, L length, Lk taps per side; N the real FFT size (ConvPlan's: causal / bidirectional the
// smallest power of two >= L + min(Lk, L) (- 1 causal), at least 32; circular N = L), M = N / 2 = N1 x N2 (16 = 4 x 4 ..
// 4096 = 64 x 64, PackedLearnedRef.MAX_M); position p = k1 N2 + k2 holds frequency k = k1 + N1 k2 (lib's layout).
//   u, y, dy, du: (B, H, L) fp32 / bf16 / fp16; k0, k1: (H, Lk) fp32 (k1: bidirectional side 1, else null); D, dD: (H) fp32;
//   blocks: Fa (N1, N1), Fb (N2, N2), Gb (N2, N2), Ga (N1, N1) float2, row-major, concatenated in that order;
//   pq: (H, M) float4 {Re P, Im P, Re Q, Im Q} at position p; S batch slices of the backward (block (s, h) takes rows
//   b = s, s + S, ..); gpq: (S H, M) float4 {dP, dQ}; part: (S H, 2 (N1^2 + N2^2)) float2; dDp: (S H); adj: {Fb^H, Gb^H};
//   dk: (sides, H, Lk) fp32 (taps past the reachable ones get 0).
// Per row (u_pad: u then zeros to N; z[m] = u_pad[2m] + i u_pad[2m+1]; A[n1][n2] = z[n1 N2 + n2]; T[k1][n2] = w_M^(k1 n2)):
//   B2 = (Fa @ A) o T;  C = B2 @ Fb;  C'[p] = P_p C[p] + Q_p conj(C[s(p)]);  D2 = (C' @ Gb) o conj(T) / M;  E = Ga @ D2;
//   y[i] = E_flat[i] + D u[i] (E_flat: E row-major, (re, im) interleaved), i < L.
//   s(p): the position of frequency (M - k) mod M: (0, (N2 - k2) mod N2) when k1 = 0, else (N1 - k1, N2 - 1 - k2).
// Backward (gradient of sum(y * dy)), per row as lib's backwardAll: gE = pack(dy); dGa += gE @ D2^H; gD1 = (Ga^H @ gE) o T / M;
//   dGb += C'^H @ gD1; gC' = gD1 @ Gb^H; gC[p] = conj(P_p) gC'[p] + Q_s(p) conj(gC'[s(p)]); dP_p += gC'[p] conj(C[p]);
//   dQ_p += gC'[p] C[s(p)]; dFb += B2^H @ gC; gB = (gC @ Fb^H) o conj(T); dFa += gB @ A^H; du = unpack(Fa^H @ gB) + D dy;
//   dD += dy . u. Block gradients per (slice, channel) into part, then summed (lpr_reduce); dP / dQ and dD per (slice,
//   channel) into gpq / dDp, then summed over slices and taken to taps by lpr_taps (dK through the pair coefficients'
//   formulas, then a direct inverse DFT with a table).
#include "monarch.cuh"

// Z (m x q) (=|+=) op(X) (m x kk) @ op(Y) (kk x q); XH / YH: conjugate transpose of the stored matrix (X stored kk x m,
// Y stored q x kk). Each thread owns whole outputs (fp32 sums); callers sync around it. With YH (Y in shared memory: the
// Grams dGa, dFa) the lanes of output column c start their k loop at c (j = (jj + c) mod kk, kk a power of two): lanes of a
// warp then read Y[c kk + j] in distinct banks instead of one (a stride of kk float2) and X[i kk + j] in consecutive words.
// R > 1 (register blocking): a thread owns R outputs of one column c, rows i0 + r m / R (m % R == 0), so that each Y value
// it loads serves R products; every output's sum is the same fmaf chain in the same k order as at R = 1 (its slow twin).
template <bool XH, bool YH, int R>
__device__ __forceinline__ void lpr_mm(const float2* X, const float2* Y, float2* Z, int m, int kk, int q, bool acc) {
  const int mr = m / R;
  for (int o = threadIdx.x; o < mr * q; o += blockDim.x) {
    const int i0 = o / q, c = o - i0 * q;
    float zr[R], zi[R];
#pragma unroll
    for (int r = 0; r < R; ++r) { zr[r] = 0.f; zi[r] = 0.f; }
    for (int jj = 0; jj < kk; ++jj) {
      const int j = YH ? (jj + c) & (kk - 1) : jj;
      const float2 y = YH ? Y[c * kk + j] : Y[j * q + c];
      const float yi = YH ? -y.y : y.y;
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const int i = i0 + r * mr;
        const float2 x = XH ? X[j * m + i] : X[i * kk + j];
        const float xi = XH ? -x.y : x.y;
        zr[r] = fmaf(x.x, y.x, fmaf(-xi, yi, zr[r]));
        zi[r] = fmaf(x.x, yi, fmaf(xi, y.x, zi[r]));
      }
    }
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const int oo = (i0 + r * mr) * q + c;
      float vr = zr[r], vi = zi[r];
      if (acc) { const float2 z = Z[oo]; vr += z.x; vi += z.y; }
      Z[oo] = make_float2(vr, vi);
    }
  }
}

// x[i] *= w_M^(sign k1 n2) * scale, i = k1 N2 + n2, w_M = exp(-2 pi i / M) (the exact angle of (k1 n2) mod M; in place).
__device__ __forceinline__ void lpr_twiddle(float2* x, int M, int N2, float sign, float scale) {
  const float inv = 2.0f / (float)M;
  for (int i = threadIdx.x; i < M; i += blockDim.x) {
    const int k1 = i / N2, n2 = i - k1 * N2;
    float s, c; sincospif(-sign * (float)((k1 * n2) & (M - 1)) * inv, &s, &c);
    const float2 v = x[i];
    x[i] = make_float2((v.x * c - v.y * s) * scale, (v.x * s + v.y * c) * scale);
  }
}

__device__ __forceinline__ float2 lpr_mul(float2 a, float2 b) { return make_float2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }
__device__ __forceinline__ float2 lpr_conj(float2 a) { return make_float2(a.x, -a.y); }
__device__ __forceinline__ int lpr_partner(int p, int N1, int N2) {
  const int k1 = p / N2, k2 = p - k1 * N2;
  return k1 == 0 ? (N2 - k2) & (N2 - 1) : (N1 - k1) * N2 + (N2 - 1 - k2);
}

struct LprBlocks { const float2 *fa, *fb, *gb, *ga; };
__device__ __forceinline__ LprBlocks lpr_blocks(const float2* b, int N1, int N2) {
  return LprBlocks{b, b + N1 * N1, b + N1 * N1 + N2 * N2, b + N1 * N1 + 2 * N2 * N2};
}

// a <- pack(row) (zero past L), b2 <- (Fa @ a) o T, c <- b2 @ Fb.
template <typename IO, int R>
__device__ __forceinline__ void lpr_front(const IO* row, int L, int N1, int N2, const LprBlocks& W, float2* a, float2* b2, float2* c) {
  const int M = N1 * N2;
  for (int m = threadIdx.x; m < M; m += blockDim.x)
    a[m] = make_float2(2 * m < L ? ld(row + 2 * m) : 0.f, 2 * m + 1 < L ? ld(row + 2 * m + 1) : 0.f);
  __syncthreads();
  lpr_mm<false, false, R>(W.fa, a, b2, N1, N1, N2, false);
  __syncthreads();
  lpr_twiddle(b2, M, N2, 1.0f, 1.0f);
  __syncthreads();
  lpr_mm<false, false, R>(b2, W.fb, c, N1, N2, N2, false);
  __syncthreads();
}

// out[p] = P_p c[p] + Q_p conj(c[s(p)]) (out != c).
__device__ __forceinline__ void lpr_pair(const float2* c, const float4* pq, float2* out, int N1, int N2) {
  for (int p = threadIdx.x; p < N1 * N2; p += blockDim.x) {
    const float4 w = pq[p];
    const float2 x = lpr_mul(make_float2(w.x, w.y), c[p]), z = lpr_mul(make_float2(w.z, w.w), lpr_conj(c[lpr_partner(p, N1, N2)]));
    out[p] = make_float2(x.x + z.x, x.y + z.y);
  }
}

// Grid (B, H), block min(256, max(32, M)), smem 4 M float2.
template <typename IO, int R>
__device__ __forceinline__ void lpr_forward(const IO* __restrict__ u, const float4* __restrict__ pq, const float* __restrict__ D,
                            const float2* __restrict__ blocks, IO* __restrict__ y, int H, int L, int N1, int N2) {
  extern __shared__ __align__(16) float2 sm[];
  const int M = N1 * N2, b = blockIdx.x, h = blockIdx.y;
  float2 *a = sm, *b2 = sm + M, *c = sm + 2 * M, *t = sm + 3 * M;
  const LprBlocks W = lpr_blocks(blocks, N1, N2);
  const IO* urow = u + ((size_t)b * H + h) * L;
  lpr_front<IO, R>(urow, L, N1, N2, W, a, b2, c);
  lpr_pair(c, pq + (size_t)h * M, t, N1, N2);
  __syncthreads();
  lpr_mm<false, false, R>(t, W.gb, b2, N1, N2, N2, false);
  __syncthreads();
  lpr_twiddle(b2, M, N2, -1.0f, 1.0f / (float)M);
  __syncthreads();
  lpr_mm<false, false, R>(W.ga, b2, a, N1, N1, N2, false);
  __syncthreads();
  const float d = D[h];
  const float* e = reinterpret_cast<const float*>(a);
  IO* yrow = y + ((size_t)b * H + h) * L;
  for (int i = threadIdx.x; i < L; i += blockDim.x) st(yrow + i, fmaf(d, ld(urow + i), e[i]));
}

// Grid (S, H): block (s, h) takes the rows b = s, s + S, ... of channel h (S <= B batch slices); block min(512, max(32, M)),
// smem 7 M float2. adj: {Fb^H (N2, N2), Gb^H (N2, N2)} (lpr_adjoint), so that gC' and gB2 read their blocks row by row.
// part (S H, 2 (N1^2 + N2^2)), gpq (S H, M), dDp (S H) at slice row s H + h: written at the slice's first row,
// accumulated after (each thread owns the same outputs for every row), so they need no zeroing.
template <typename IO, int R>
__device__ __forceinline__ void lpr_backward(const IO* __restrict__ u, const IO* __restrict__ dy, const float4* __restrict__ pq,
                             const float* __restrict__ D, const float2* __restrict__ blocks, const float2* __restrict__ adj,
                             IO* __restrict__ du, float2* __restrict__ part, float4* __restrict__ gpq, float* __restrict__ dDp,
                             int B, int H, int L, int N1, int N2) {
  extern __shared__ __align__(16) float2 sm[];
  __shared__ float red[32];
  const int M = N1 * N2, S = gridDim.x, s0 = blockIdx.x, h = blockIdx.y, sh = s0 * H + h;
  float2 *a = sm, *b2 = sm + M, *c = sm + 2 * M, *cp = sm + 3 * M, *d2 = sm + 4 * M, *t1 = sm + 5 * M, *t2 = sm + 6 * M;
  const LprBlocks W = lpr_blocks(blocks, N1, N2);
  const float2 *fbH = adj, *gbH = adj + N2 * N2;
  float2* pr = part + (size_t)sh * 2 * (N1 * N1 + N2 * N2);
  float2 *dfa = pr, *dfb = pr + N1 * N1, *dgb = dfb + N2 * N2, *dga = dgb + N2 * N2;
  const float4* w = pq + (size_t)h * M;
  float4* g4 = gpq + (size_t)sh * M;
  const float d = D[h];
  float dsum = 0.f;
  for (int b = s0; b < B; b += S) {
    const bool acc = b > s0;
    const IO* urow = u + ((size_t)b * H + h) * L;
    const IO* dyrow = dy + ((size_t)b * H + h) * L;
    lpr_front<IO, R>(urow, L, N1, N2, W, a, b2, c);
    lpr_pair(c, w, cp, N1, N2);                                       // C'
    for (int m = threadIdx.x; m < M; m += blockDim.x) {               // gE = pack(dy)
      t1[m] = make_float2(2 * m < L ? ld(dyrow + 2 * m) : 0.f, 2 * m + 1 < L ? ld(dyrow + 2 * m + 1) : 0.f);
      if (2 * m < L) dsum = fmaf(ld(dyrow + 2 * m), ld(urow + 2 * m), dsum);
      if (2 * m + 1 < L) dsum = fmaf(ld(dyrow + 2 * m + 1), ld(urow + 2 * m + 1), dsum);
    }
    __syncthreads();
    lpr_mm<false, false, R>(cp, W.gb, d2, N1, N2, N2, false);
    __syncthreads();
    lpr_twiddle(d2, M, N2, -1.0f, 1.0f / (float)M);                    // D2
    __syncthreads();
    lpr_mm<false, true, R>(t1, d2, dga, N1, N2, N1, acc);                  // dGa += gE @ D2^H
    lpr_mm<true, false, R>(W.ga, t1, t2, N1, N1, N2, false);              // gD2 = Ga^H @ gE
    __syncthreads();
    lpr_twiddle(t2, M, N2, 1.0f, 1.0f / (float)M);                     // gD1 = gD2 o T / M
    __syncthreads();
    lpr_mm<true, false, R>(cp, t2, dgb, N2, N1, N2, acc);                  // dGb += C'^H @ gD1
    lpr_mm<false, false, R>(t2, gbH, t1, N1, N2, N2, false);             // gC' = gD1 @ Gb^H
    __syncthreads();
    for (int p = threadIdx.x; p < M; p += blockDim.x) {                // the pair map's adjoint; gC into cp
      const int s = lpr_partner(p, N1, N2);
      const float4 wp = w[p], ws = w[s];
      const float2 g = t1[p], hc = lpr_conj(t1[s]), cc = c[p], cs = c[s];
      const float2 x = lpr_mul(make_float2(wp.x, -wp.y), g), z = lpr_mul(make_float2(ws.z, ws.w), hc);
      const float2 dp = lpr_mul(g, lpr_conj(cc)), dq = lpr_mul(g, cs);
      const float4 o = acc ? g4[p] : make_float4(0.f, 0.f, 0.f, 0.f);
      g4[p] = make_float4(o.x + dp.x, o.y + dp.y, o.z + dq.x, o.w + dq.y);
      cp[p] = make_float2(x.x + z.x, x.y + z.y);
    }
    __syncthreads();
    lpr_mm<true, false, R>(b2, cp, dfb, N2, N1, N2, acc);                  // dFb += B2^H @ gC
    lpr_mm<false, false, R>(cp, fbH, t2, N1, N2, N2, false);             // gB2 = gC @ Fb^H
    __syncthreads();
    lpr_twiddle(t2, M, N2, -1.0f, 1.0f);                               // gB = gB2 o conj(T)
    __syncthreads();
    lpr_mm<false, true, R>(t2, a, dfa, N1, N2, N1, acc);                   // dFa += gB @ A^H
    lpr_mm<true, false, R>(W.fa, t2, t1, N1, N1, N2, false);              // gA = Fa^H @ gB
    __syncthreads();
    const float* e = reinterpret_cast<const float*>(t1);
    IO* durow = du + ((size_t)b * H + h) * L;
    for (int i = threadIdx.x; i < L; i += blockDim.x) st(durow + i, fmaf(d, ld(dyrow + i), e[i]));
    __syncthreads();
  }
  for (int o = 16; o > 0; o >>= 1) dsum += __shfl_xor_sync(0xffffffffu, dsum, o);
  if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = dsum;
  __syncthreads();
  if (threadIdx.x == 0) {
    float s = 0.f;
    for (int i = 0; i < (int)(blockDim.x >> 5); ++i) s += red[i];
    dDp[sh] = s;
  }
}

// Kernels lpr_forward_<io>_r<R> (R = 1, 4) and lpr_backward_<io>_r<R> (R = 1, 2): R outputs per thread in every product
// (lpr_mm); r1 is the slow twin of the others (the same sums, PackedLearnedRef.rowsPerThread).
#define LPR_KERNELS(SUF, IO, RF, RB)                                                                               \
  extern "C" __global__ void __launch_bounds__(256) lpr_forward_##SUF##_r##RF(const IO* __restrict__ u,          \
      const float4* __restrict__ pq, const float* __restrict__ D, const float2* __restrict__ blocks,               \
      IO* __restrict__ y, int H, int L, int N1, int N2) { lpr_forward<IO, RF>(u, pq, D, blocks, y, H, L, N1, N2); }   \
  extern "C" __global__ void __launch_bounds__(512, 2) lpr_backward_##SUF##_r##RB(const IO* __restrict__ u,      \
      const IO* __restrict__ dy, const float4* __restrict__ pq, const float* __restrict__ D,                       \
      const float2* __restrict__ blocks, const float2* __restrict__ adj, IO* __restrict__ du,                      \
      float2* __restrict__ part, float4* __restrict__ gpq, float* __restrict__ dDp, int B, int H, int L, int N1,   \
      int N2) {                                                                                                   \
    lpr_backward<IO, RB>(u, dy, pq, D, blocks, adj, du, part, gpq, dDp, B, H, L, N1, N2);                          \
  }
LPR_KERNELS(f32, float, 1, 1)
LPR_KERNELS(bf16, __nv_bfloat16, 1, 1)
LPR_KERNELS(f16, __half, 1, 1)
LPR_KERNELS(f32, float, 4, 2)
LPR_KERNELS(bf16, __nv_bfloat16, 4, 2)
LPR_KERNELS(f16, __half, 4, 2)

// Block gradients: out[e] = sum_r part[r, e] over the R = S H slice rows, e < E (E = 2 (N1^2 + N2^2) complex entries).
// Grid (ceil(E / 256)), block 256. Called with H = R.
// lpr_adjoint: adj = {Fb^H, Gb^H} of the blocks (N2 x N2 each; X^H[r][c] = conj(X[c][r])). Grid (ceil(2 N2^2 / 256)), block 256.
extern "C" __global__ void __launch_bounds__(256) lpr_adjoint(const float2* __restrict__ blocks, float2* __restrict__ adj, int N1, int N2) {
  const int e = blockIdx.x * blockDim.x + threadIdx.x, b = N2 * N2;
  if (e >= 2 * b) return;
  const float2* src = blocks + N1 * N1 + (e < b ? 0 : b);   // Fb, then Gb
  const int i = e < b ? e : e - b, r = i / N2, c = i - r * N2;
  adj[e] = lpr_conj(src[c * N2 + r]);
}

extern "C" __global__ void __launch_bounds__(256) lpr_reduce(const float2* __restrict__ part, float2* __restrict__ out, int H, int E) {
  const int e = blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= E) return;
  float2 s = make_float2(0.f, 0.f);
  for (int h = 0; h < H; ++h) { const float2 v = part[(size_t)h * E + e]; s.x += v.x; s.y += v.y; }
  out[e] = s;
}

// The fixed coefficients of frequency f (0 .. M-1) from the table sw[j] = w_N^j (lib's PackedLearnedButterfly):
//   a_j = (1 - i w^j)/2, b_j = (1 + i w^j)/2, c_k = (1 + i w^-k)/2, d_k = (1 - i w^-k)/2, g = M - f (1 .. M);
//   alpha = c_f a_f, beta = d_f conj(b_g), gamma = c_f b_f, delta = d_f conj(a_g);
//   P_f = alpha K[f] + beta conj(K[g]),  Q_f = gamma K[f] + delta conj(K[g]).
struct LprCoef { float2 alpha, beta, gamma, delta; };
__device__ __forceinline__ LprCoef lpr_coef(const float2* sw, int f, int M) {
  const float2 wf = sw[f], wg = sw[M - f];
  const float2 af = make_float2(0.5f * (1.f + wf.y), -0.5f * wf.x), bf = make_float2(0.5f * (1.f - wf.y), 0.5f * wf.x);
  const float2 ag = make_float2(0.5f * (1.f + wg.y), -0.5f * wg.x), bg = make_float2(0.5f * (1.f - wg.y), 0.5f * wg.x);
  const float2 cf = make_float2(0.5f * (1.f + wf.y), 0.5f * wf.x), df = make_float2(0.5f * (1.f - wf.y), -0.5f * wf.x);
  return LprCoef{lpr_mul(cf, af), lpr_mul(df, lpr_conj(bg)), lpr_mul(cf, bf), lpr_mul(df, lpr_conj(ag))};
}

__device__ __forceinline__ void lpr_table(float2* sw, int N) {
  for (int j = threadIdx.x; j < N; j += blockDim.x) { float s, c; sincospif(-2.0f * (float)j / (float)N, &s, &c); sw[j] = make_float2(c, s); }
}

// P, Q of channel h from its placed taps: K[j] = sum_{t < taps0} k0[h, t] w^(j t) + sum_{t < taps1} k1[h, t] w^(j (N-1-t))
// (j = 0 .. M; k1 == nullptr: one-sided), then pq[h, p] at position p (frequency f = k1 + N1 k2). Grid (H), block 256,
// smem 8 N + 8 (M + 1) bytes.
extern "C" __global__ void __launch_bounds__(256) lpr_pq(const float* __restrict__ k0, const float* __restrict__ k1,
    float4* __restrict__ pq, int Lk, int taps0, int taps1, int N1, int N2) {
  extern __shared__ __align__(16) float2 sw[];
  const int M = N1 * N2, N = 2 * M, h = blockIdx.x;
  float2* K = sw + N;
  lpr_table(sw, N);
  __syncthreads();
  for (int j = threadIdx.x; j <= M; j += blockDim.x) {
    float xr = 0.f, xi = 0.f;
    for (int t = 0; t < taps0; ++t) {
      const float v = k0[(size_t)h * Lk + t]; const float2 e = sw[(j * t) & (N - 1)];
      xr = fmaf(v, e.x, xr); xi = fmaf(v, e.y, xi);
    }
    if (k1 != nullptr)
      for (int t = 0; t < taps1; ++t) {
        const float v = k1[(size_t)h * Lk + t]; const float2 e = sw[(j * (N - 1 - t)) & (N - 1)];
        xr = fmaf(v, e.x, xr); xi = fmaf(v, e.y, xi);
      }
    K[j] = make_float2(xr, xi);
  }
  __syncthreads();
  for (int p = threadIdx.x; p < M; p += blockDim.x) {
    const int q1 = p / N2, f = q1 + N1 * (p - q1 * N2);
    const LprCoef cf = lpr_coef(sw, f, M);
    const float2 kf = K[f], kg = lpr_conj(K[M - f]);
    const float2 p0 = lpr_mul(cf.alpha, kf), p1 = lpr_mul(cf.beta, kg), q0 = lpr_mul(cf.gamma, kf), q1v = lpr_mul(cf.delta, kg);
    pq[(size_t)h * M + p] = make_float4(p0.x + p1.x, p0.y + p1.y, q0.x + q1v.x, q0.y + q1v.y);
  }
}

// Taps' gradient of channel h from its {dP, dQ} (gpq (S H, M): summed here over the S slices, as dDp into dD[h]): dK[j] =
//   conj(alpha_j) dP_j + conj(gamma_j) dQ_j (j < M, at the position of frequency j)
//   + beta_f conj(dP_f) + delta_f conj(dQ_f) (j >= 1, f = M - j),
// then dk_pad[x] = Re sum_{j <= M} dK[j] w^(-j x) (the adjoint of K = DFT_N(k_pad)); dk[side, h, t] = dk_pad[t] (side 0) or
// dk_pad[N-1-t] (side 1), 0 for t >= the side's reachable taps (j = 0 .. M). Grid (H), block 256, smem 8 N + 8 (M + 2) + 16 M
// bytes (the table, dK and a pad, the summed dP / dQ).
extern "C" __global__ void __launch_bounds__(256) lpr_taps(const float4* __restrict__ gpq, const float* __restrict__ dDp,
    float* __restrict__ dk, float* __restrict__ dD, int S, int H, int Lk, int taps0, int taps1, int sides, int N1, int N2) {
  extern __shared__ __align__(16) float2 sw[];
  const int M = N1 * N2, N = 2 * M, h = blockIdx.x;
  float2* dK = sw + N;
  lpr_table(sw, N);
  __syncthreads();
  float2* gs = dK + M + 2;   // {dP, dQ} of channel h summed over the S slices: 2 M float2 (16-byte aligned: N + M + 2 even)
  for (int p = threadIdx.x; p < M; p += blockDim.x) {
    float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
    for (int s = 0; s < S; ++s) {
      const float4 x = gpq[((size_t)s * H + h) * M + p];
      v.x += x.x; v.y += x.y; v.z += x.z; v.w += x.w;
    }
    gs[2 * p] = make_float2(v.x, v.y); gs[2 * p + 1] = make_float2(v.z, v.w);
  }
  if (threadIdx.x == 0) {
    float s = 0.f;
    for (int i = 0; i < S; ++i) s += dDp[(size_t)i * H + h];
    dD[h] = s;
  }
  __syncthreads();
  const float4* g = reinterpret_cast<const float4*>(gs);
  for (int j = threadIdx.x; j <= M; j += blockDim.x) {
    float2 s = make_float2(0.f, 0.f);
    if (j < M) {
      const float4 v = g[(j % N1) * N2 + j / N1];
      const LprCoef cf = lpr_coef(sw, j, M);
      const float2 x = lpr_mul(lpr_conj(cf.alpha), make_float2(v.x, v.y)), z = lpr_mul(lpr_conj(cf.gamma), make_float2(v.z, v.w));
      s = make_float2(x.x + z.x, x.y + z.y);
    }
    if (j >= 1) {
      const int f = M - j;
      const float4 v = g[(f % N1) * N2 + f / N1];
      const LprCoef cf = lpr_coef(sw, f, M);
      const float2 x = lpr_mul(cf.beta, make_float2(v.x, -v.y)), z = lpr_mul(cf.delta, make_float2(v.z, -v.w));
      s = make_float2(s.x + x.x + z.x, s.y + x.y + z.y);
    }
    dK[j] = s;
  }
  __syncthreads();
  for (int i = threadIdx.x; i < sides * Lk; i += blockDim.x) {
    const int side = i / Lk, t = i - side * Lk, taps = side ? taps1 : taps0;
    float s = 0.f;
    if (t < taps) {
      const int x = side ? N - 1 - t : t;
      for (int j = 0; j <= M; ++j) {
        const float2 e = sw[(j * x) & (N - 1)], v = dK[j];   // Re(v * conj(e))
        s = fmaf(v.x, e.x, fmaf(v.y, e.y, s));
      }
    }
    dk[(size_t)side * H * Lk + (size_t)h * Lk + t] = s;
  }
}
