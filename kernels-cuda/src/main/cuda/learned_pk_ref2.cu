// The PACKED learned butterfly with J factors (engine LEARNED_PACKED, /work/prompts/s14-jspec.md; lib's
// PackedLearnedButterfly) in fp32 on CUDA cores, every row in global memory: the kernels of PackedLearnedChain, the fp32
// path of every plan (J = 2 .. 5, M = 16 .. 2^18) that learned_pk_ref.cu's in-shared-memory J = 2 kernels do not take.
// Shapes: B batch, H channels, L length, Lk taps per side, rows = B H (row r = b H + h); N the real FFT size, M = N / 2 =
// R_1 .. R_J; a row z (M complex) is the row-major tensor X[n_1]..[n_J]; for axis s: S = R_(s+1) .. R_J (the stride of
// axis s), Ms = R_s S; element (a, k, c) of a row (a: the axes before s, k: axis s, c: the axes after) is at a Ms + k S + c.
//   x, out, g: (rows, M) float2 (fp32 complex) scratch; u, y, dy, du: (B, H, L) fp32 / bf16 / fp16; D, dD: (H) fp32;
//   blk: one block (R, R) float2 row-major; pq: (H, M) float4 {Re P, Im P, Re Q, Im Q} at lib POSITION p (or the adjoint
//   layout {conj(P_p), Q_s(p)}); freq (M) int: the frequency position p holds; pos (M) int: its inverse;
//   K: (H, M + 1) float2 (cuFFT R2C of the placed taps kpad (H, N) fp32); part: (G, R R) float2 Gram partials;
//   gpq: (H, M) float4 {dP, dQ} summed over the batch; spec: (H, M + 1) float2 (C2R input); dk: (sides, H, Lk) fp32.
// Conventions (jspec): forward stage s: Y = F_s along axis s, LEFT for s = 1 (Y[k] = sum_n F[k][n] X[n]), RIGHT for s >= 2
// (Y[k] = sum_n X[n] F[n][k]), then X_(s+1) = Y o T_s, T_s(k, c) = w_Ms^(k c), w_m = exp(-2 pi i / m). Inverse stage s:
// V_s = W_s o conj(T_s) (/ M at s = 1), W_(s-1) = G_s along axis s (same left / right). The adjoint of a block along an
// axis is the conjugated block with the other access (left <-> right): lpj_block's (trans, conj).
#include "monarch.cuh"

__device__ __forceinline__ float2 lpj_mul(float2 a, float2 b) { return make_float2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }
__device__ __forceinline__ float2 lpj_conj(float2 a) { return make_float2(a.x, -a.y); }

// w_m^(sign e) (e < m <= 2^19, m a power of two: e * (2 / m) is exact in fp32).
__device__ __forceinline__ float2 lpj_w(int e, int m, float sign) {
  float s, c; sincospif(-sign * (float)e * (2.0f / (float)m), &s, &c);
  return make_float2(c, s);
}

#define LPJ_LOOP(i, total) for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (total); i += (long long)gridDim.x * blockDim.x)

// x[r, m] = u_row[2m] + i u_row[2m+1] (0 past L). total = rows M.
template <typename IO>
__device__ __forceinline__ void lpj_pack(const IO* __restrict__ u, float2* __restrict__ x, long long total, int L, int M) {
  LPJ_LOOP(i, total) {
    const long long r = i / M; const int m = (int)(i - r * M);
    const IO* row = u + r * L;
    x[i] = make_float2(2 * m < L ? ld(row + 2 * m) : 0.f, 2 * m + 1 < L ? ld(row + 2 * m + 1) : 0.f);
  }
}

// y[r, i] = e_flat[r, i] + D[h] v[r, i], i < L (e_flat: the row's M complex values as 2M floats).
template <typename IO>
__device__ __forceinline__ void lpj_unpack(const float2* __restrict__ e, const IO* __restrict__ v, const float* __restrict__ D,
                                           IO* __restrict__ y, long long total, int H, int L, int M) {
  LPJ_LOOP(i, total) {
    const long long r = i / L; const int t = (int)(i - r * L), h = (int)(r % H);
    const float* er = reinterpret_cast<const float*>(e + r * M);
    st(y + i, fmaf(D[h], ld(v + i), er[t]));
  }
}

// dD[h] = sum_b sum_i u[b, h, i] dy[b, h, i]. Grid (H), block 256 (per-thread strided sums in a fixed order, then a shuffle /
// shared tree: two runs give the same bits). Session 27: 16-bit rows with L a multiple of 8 and 16-byte aligned bases are
// read 8 values (16 bytes) a load, the (b, i) items of a channel as one strided sequence (no loop per row), 4 in flight a
// thread (ncu, bench-runs/s27/s2: the scalar form took 0.48 ms of a 4K backward at B = 64, H = 768, ~10x its bytes' time).
template <typename IO>
__device__ __forceinline__ void lpj_ddot(const IO* __restrict__ u, const IO* __restrict__ dy, float* __restrict__ dD, int B, int H, int L) {
  __shared__ float red[32];
  const int h = blockIdx.x;
  float s = 0.f;
  const bool vec = sizeof(IO) == 2 && (L & 7) == 0
      && ((reinterpret_cast<uintptr_t>(u) | reinterpret_cast<uintptr_t>(dy)) & 15) == 0;
  if (vec) {
    const int L8 = L >> 3, T = blockDim.x;
    int b = 0, i = threadIdx.x;   // item (b, i): the 8 values at row b, 8 i .. 8 i + 7
    while (i >= L8 && b < B) { i -= L8; ++b; }
#pragma unroll 4
    for (; b < B;) {
      const size_t off = ((size_t)b * H + h) * (size_t)L8;
      const uint4 a = __ldg(reinterpret_cast<const uint4*>(u) + off + i), c = __ldg(reinterpret_cast<const uint4*>(dy) + off + i);
      const IO* ea = reinterpret_cast<const IO*>(&a);
      const IO* ec = reinterpret_cast<const IO*>(&c);
#pragma unroll
      for (int k = 0; k < 8; ++k) s = fmaf(ld(ea + k), ld(ec + k), s);
      i += T;
      while (i >= L8 && b < B) { i -= L8; ++b; }
    }
  } else {
    for (int b = 0; b < B; ++b) {
      const size_t off = ((size_t)b * H + h) * L;
      for (int i = threadIdx.x; i < L; i += blockDim.x) s = fmaf(ld(u + off + i), ld(dy + off + i), s);
    }
  }
  for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
  if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = s;
  __syncthreads();
  if (threadIdx.x == 0) {
    float t = 0.f;
    for (int i = 0; i < (int)(blockDim.x >> 5); ++i) t += red[i];
    dD[h] = t;
  }
}

#define LPJ_IO(SUF, IO)                                                                                                  \
  extern "C" __global__ void __launch_bounds__(256) lpj_pack_##SUF(const IO* __restrict__ u, float2* __restrict__ x,      \
      long long total, int L, int M) { lpj_pack<IO>(u, x, total, L, M); }                                                \
  extern "C" __global__ void __launch_bounds__(256) lpj_unpack_##SUF(const float2* __restrict__ e, const IO* __restrict__ v, \
      const float* __restrict__ D, IO* __restrict__ y, long long total, int H, int L, int M) {                           \
    lpj_unpack<IO>(e, v, D, y, total, H, L, M);                                                                          \
  }                                                                                                                      \
  extern "C" __global__ void __launch_bounds__(256) lpj_ddot_##SUF(const IO* __restrict__ u, const IO* __restrict__ dy,   \
      float* __restrict__ dD, int B, int H, int L) { lpj_ddot<IO>(u, dy, dD, B, H, L); }
LPJ_IO(f32, float)
LPJ_IO(bf16, __nv_bfloat16)
LPJ_IO(f16, __half)

// One block along one axis (R, S; Ms = R S), every row: out[a, k, c] = post(k, c) * scale * sum_n W(k, n) pre(n, c) x[a, n, c],
// W(k, n) = blk[k R + n] (trans = 0: the left product) or blk[n R + k] (trans = 1: the right product), conjugated when conj;
// pre(n, c) = w_Ms^(preSign n c), post(k, c) = w_Ms^(postSign k c) (sign 0: 1). One thread per output; the R inputs of a
// column are read by its R threads (L1 / L2). x != out. total = rows M.
extern "C" __global__ void __launch_bounds__(256) lpj_block(const float2* __restrict__ x, float2* __restrict__ out,
    const float2* __restrict__ blk, long long total, int M, int R, int S, int trans, int conj, float preSign, float postSign,
    float scale) {
  const int Ms = R * S;
  LPJ_LOOP(i, total) {
    const int l = (int)(i % M), a = l / Ms, rem = l - a * Ms, k = rem / S, c = rem - k * S;
    const float2* col = x + (i - l) + (long long)a * Ms + c;
    float zr = 0.f, zi = 0.f;
#pragma unroll 1
    for (int n = 0; n < R; ++n) {
      float2 w = blk[trans ? n * R + k : k * R + n];
      if (conj) w.y = -w.y;
      float2 v = col[(long long)n * S];
      if (preSign != 0.f) v = lpj_mul(v, lpj_w(n * c, Ms, preSign));
      zr = fmaf(w.x, v.x, fmaf(-w.y, v.y, zr));
      zi = fmaf(w.x, v.y, fmaf(w.y, v.x, zi));
    }
    float2 z = make_float2(zr * scale, zi * scale);
    if (postSign != 0.f) z = lpj_mul(z, lpj_w(k * c, Ms, postSign));
    out[i] = z;
  }
}

// The fused stage (PackedLearnedChain's default; lpj_block + lpj_twiddle are its slow twin): one thread per column
// (row, a, c) of axis (R, S), its R inputs in registers, the block (conjugated when conj) staged in shared memory as
// W(k, n) (trans as lpj_block); out[a, k, c] = scale * tw(l) * sum_n W(k, n) x[a, n, c], where tw(l) = w_Mt^(twSign k_t c_t)
// is the twiddle of ANOTHER axis (Rt, St; Mt = Rt St) at the output's own index l (k_t = (l mod Mt) / St, c_t = l mod St), or
// 1 for twSign 0: the next inverse stage's conj(T) or the forward stage's own T, so that no stage reads a twiddle per
// input. cols = rows M / R. Block 128 threads.
template <int R>
__device__ __forceinline__ void lpj_col(const float2* __restrict__ x, float2* __restrict__ out, const float2* __restrict__ blk,
    long long cols, int M, int S, int trans, int conj, int Rt, int St, float twSign, float scale) {
  __shared__ float2 w[R * R];
  for (int e = threadIdx.x; e < R * R; e += blockDim.x) {
    const int k = e / R, n = e - k * R;
    float2 v = blk[trans ? n * R + k : k * R + n];
    if (conj) v.y = -v.y;
    w[e] = v;
  }
  __syncthreads();
  const int Ms = R * S, per = M / R, Mt = Rt * St;
  LPJ_LOOP(col, cols) {
    const long long r = col / per; const int lc = (int)(col - r * per), a = lc / S, c = lc - a * S;
    const long long base = r * M + (long long)a * Ms + c;
    float2 v[R];
#pragma unroll
    for (int n = 0; n < R; ++n) v[n] = x[base + (long long)n * S];
#pragma unroll 1
    for (int k = 0; k < R; ++k) {
      float zr = 0.f, zi = 0.f;
#pragma unroll
      for (int n = 0; n < R; ++n) {
        const float2 q = w[k * R + n];
        zr = fmaf(q.x, v[n].x, fmaf(-q.y, v[n].y, zr));
        zi = fmaf(q.x, v[n].y, fmaf(q.y, v[n].x, zi));
      }
      float2 z = make_float2(zr * scale, zi * scale);
      const int l = a * Ms + k * S + c;
      if (twSign != 0.f) {
        const int rt = l & (Mt - 1), kt = rt / St, ct = rt - kt * St;
        z = lpj_mul(z, lpj_w(kt * ct, Mt, twSign));
      }
      out[base + (long long)k * S] = z;
    }
  }
}

#define LPJ_COL(RR)                                                                                                      \
  extern "C" __global__ void __launch_bounds__(128) lpj_col_r##RR(const float2* __restrict__ x, float2* __restrict__ out,  \
      const float2* __restrict__ blk, long long cols, int M, int S, int trans, int conj, int Rt, int St, float twSign,    \
      float scale) { lpj_col<RR>(x, out, blk, cols, M, S, trans, conj, Rt, St, twSign, scale); }
LPJ_COL(2)
LPJ_COL(4)
LPJ_COL(8)
LPJ_COL(16)
LPJ_COL(32)

// x[a, k, c] *= w_Ms^(sign k c) * scale (in place allowed: out may be x).
extern "C" __global__ void __launch_bounds__(256) lpj_twiddle(const float2* x, float2* out, long long total, int M, int R, int S,
    float sign, float scale) {
  const int Ms = R * S;
  LPJ_LOOP(i, total) {
    const int l = (int)(i % M), rem = l % Ms, k = rem / S, c = rem - k * S;
    const float2 v = lpj_mul(x[i], lpj_w(k * c, Ms, sign));
    out[i] = make_float2(v.x * scale, v.y * scale);
  }
}

// The pair map: out[r, p] = P_p c[r, p] + Q_p conj(c[r, s(p)]), s(p) = pos[(M - freq[p]) mod M], P, Q of channel r mod H.
extern "C" __global__ void __launch_bounds__(256) lpj_pair(const float2* __restrict__ c, const float4* __restrict__ pq,
    const int* __restrict__ freq, const int* __restrict__ pos, float2* __restrict__ out, long long total, int H, int M) {
  LPJ_LOOP(i, total) {
    const long long r = i / M; const int p = (int)(i - r * M), h = (int)(r % H), s = pos[(M - freq[p]) & (M - 1)];
    const float4 w = pq[(size_t)h * M + p];
    const float2 x = lpj_mul(make_float2(w.x, w.y), c[i]), z = lpj_mul(make_float2(w.z, w.w), lpj_conj(c[i - p + s]));
    out[i] = make_float2(x.x + z.x, x.y + z.y);
  }
}

// The pair map's adjoint and its coefficients' gradients, one thread per (h, p) looping over the batch (sums in b order):
//   gc[r, p] = conj(P_p) g[r, p] + Q_s(p) conj(g[r, s(p)]);  gpq[h, p] = {sum_b g[r, p] conj(c[r, p]), sum_b g[r, p] c[r, s(p)]}.
extern "C" __global__ void __launch_bounds__(256) lpj_pair_grad(const float2* __restrict__ g, const float2* __restrict__ c,
    const float4* __restrict__ pq, const int* __restrict__ freq, const int* __restrict__ pos, float2* __restrict__ gc,
    float4* __restrict__ gpq, int B, int H, int M) {
  LPJ_LOOP(i, (long long)H * M) {
    const int h = (int)(i / M), p = (int)(i - (long long)h * M), s = pos[(M - freq[p]) & (M - 1)];
    const float4 wp = pq[(size_t)h * M + p], ws = pq[(size_t)h * M + s];
    float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
    for (int b = 0; b < B; ++b) {
      const size_t row = ((size_t)b * H + h) * M;
      const float2 gp = g[row + p], gs = lpj_conj(g[row + s]), cp = c[row + p], cs = c[row + s];
      const float2 x = lpj_mul(make_float2(wp.x, -wp.y), gp), z = lpj_mul(make_float2(ws.z, ws.w), gs);
      gc[row + p] = make_float2(x.x + z.x, x.y + z.y);
      const float2 dp = lpj_mul(gp, lpj_conj(cp)), dq = lpj_mul(gp, cs);
      acc.x += dp.x; acc.y += dp.y; acc.z += dq.x; acc.w += dq.y;
    }
    gpq[i] = acc;
  }
}

// Gram partials of one block along one axis (R <= 32, S): block b sums columns [b chunk, min((b + 1) chunk, cols)) (a column:
// one (row, a, c), cols = rows M / R) of G(k, n) = sum gy[.., k, c] conj(x[.., n, c]) and writes it to part[b, e],
// e = k R + n (trans = 0: dF[k][n] of a left product) or n R + k (trans = 1: a right product). Columns are staged 32 at a
// time in shared memory; each thread owns the entries e = t, t + 256, .. (R^2 <= 1024). Grid (G), block 256.
#define LPJ_TC 32
extern "C" __global__ void __launch_bounds__(256) lpj_gram(const float2* __restrict__ x, const float2* __restrict__ gy,
    float2* __restrict__ part, long long cols, long long chunk, int M, int R, int S, int trans) {
  __shared__ float2 xs[32 * LPJ_TC], gs[32 * LPJ_TC];
  const int Ms = R * S, per = M / R, E = R * R;
  float ar[4] = {0.f, 0.f, 0.f, 0.f}, ai[4] = {0.f, 0.f, 0.f, 0.f};
  const long long c0 = (long long)blockIdx.x * chunk, c1 = min(c0 + chunk, cols);
  for (long long t0 = c0; t0 < c1; t0 += LPJ_TC) {
    __syncthreads();
    for (int e = threadIdx.x; e < R * LPJ_TC; e += blockDim.x) {
      const int n = e / LPJ_TC, cc = e - n * LPJ_TC;
      const long long col = t0 + cc;
      float2 xv = make_float2(0.f, 0.f), gv = xv;
      if (col < c1) {
        const long long r = col / per; const int lc = (int)(col - r * per), a = lc / S, c = lc - a * S;
        const long long idx = r * M + (long long)a * Ms + (long long)n * S + c;
        xv = x[idx]; gv = gy[idx];
      }
      xs[n * LPJ_TC + cc] = xv; gs[n * LPJ_TC + cc] = gv;
    }
    __syncthreads();
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int e = threadIdx.x + 256 * q;
      if (e < E) {
        const int k = e / R, n = e - k * R;
        float sr = ar[q], si = ai[q];
        for (int cc = 0; cc < LPJ_TC; ++cc) {   // gy[k] conj(x[n])
          const float2 gv = gs[k * LPJ_TC + cc], xv = xs[n * LPJ_TC + cc];
          sr = fmaf(gv.x, xv.x, fmaf(gv.y, xv.y, sr));
          si = fmaf(gv.y, xv.x, fmaf(-gv.x, xv.y, si));
        }
        ar[q] = sr; ai[q] = si;
      }
    }
  }
#pragma unroll
  for (int q = 0; q < 4; ++q) {
    const int e = threadIdx.x + 256 * q;
    if (e < E) {
      const int k = e / R, n = e - k * R;
      part[(size_t)blockIdx.x * E + (trans ? n * R + k : e)] = make_float2(ar[q], ai[q]);
    }
  }
}

// out[e] = sum_g part[g, e] (g < G, in order), e < E.
extern "C" __global__ void __launch_bounds__(256) lpj_reduce(const float2* __restrict__ part, float2* __restrict__ out, int G, int E) {
  const int e = blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= E) return;
  float2 s = make_float2(0.f, 0.f);
  for (int g = 0; g < G; ++g) { const float2 v = part[(size_t)g * E + e]; s.x += v.x; s.y += v.y; }
  out[e] = s;
}

// kpad[h, x] (H, N): k0[h, t] at x = t (t < taps0), k1[h, t] at x = N - 1 - t (t < taps1; k1 null: one-sided), else 0.
extern "C" __global__ void __launch_bounds__(256) lpj_kpad(const float* __restrict__ k0, const float* __restrict__ k1,
    float* __restrict__ kpad, int H, int Lk, int N, int taps0, int taps1) {
  LPJ_LOOP(i, (long long)H * N) {
    const int h = (int)(i / N), x = (int)(i - (long long)h * N);
    float v = 0.f;
    if (x < taps0) v = k0[(size_t)h * Lk + x];
    if (k1 != nullptr && N - 1 - x < taps1) v += k1[(size_t)h * Lk + (N - 1 - x)];
    kpad[i] = v;
  }
}

// The fixed coefficients of frequency f (0 .. M-1), g = M - f (1 .. M), w^j = w_N^j (packed-spec.md):
//   a_j = (1 - i w^j)/2, b_j = (1 + i w^j)/2, c_k = (1 + i w^-k)/2, d_k = (1 - i w^-k)/2;
//   alpha = c_f a_f, beta = d_f conj(b_g), gamma = c_f b_f, delta = d_f conj(a_g);
//   P_f = alpha K[f] + beta conj(K[g]),  Q_f = gamma K[f] + delta conj(K[g]).
struct LpjCoef { float2 alpha, beta, gamma, delta; };
__device__ __forceinline__ LpjCoef lpj_coef(int f, int M) {
  const int N = 2 * M;
  const float2 wf = lpj_w(f, N, 1.f), wg = lpj_w(M - f, N, 1.f);
  const float2 af = make_float2(0.5f * (1.f + wf.y), -0.5f * wf.x), bf = make_float2(0.5f * (1.f - wf.y), 0.5f * wf.x);
  const float2 ag = make_float2(0.5f * (1.f + wg.y), -0.5f * wg.x), bg = make_float2(0.5f * (1.f - wg.y), 0.5f * wg.x);
  const float2 cf = make_float2(0.5f * (1.f + wf.y), 0.5f * wf.x), df = make_float2(0.5f * (1.f - wf.y), -0.5f * wf.x);
  return LpjCoef{lpj_mul(cf, af), lpj_mul(df, lpj_conj(bg)), lpj_mul(cf, bf), lpj_mul(df, lpj_conj(ag))};
}

__device__ __forceinline__ float4 lpj_pq_at(const float2* Kh, int f, int M) {
  const LpjCoef cf = lpj_coef(f, M);
  const float2 kf = Kh[f], kg = lpj_conj(Kh[M - f]);
  const float2 p0 = lpj_mul(cf.alpha, kf), p1 = lpj_mul(cf.beta, kg), q0 = lpj_mul(cf.gamma, kf), q1 = lpj_mul(cf.delta, kg);
  return make_float4(p0.x + p1.x, p0.y + p1.y, q0.x + q1.x, q0.y + q1.y);
}

// pq[h, p] = {P_f, Q_f} at f = freq[p] from K (H, M + 1) (adj = 0), or the adjoint layout {conj(P_f), Q_f'} with
// f' = (M - f) mod M, the frequency of the partner s(p) (adj = 1).
extern "C" __global__ void __launch_bounds__(256) lpj_pq_gather(const float2* __restrict__ K, const int* __restrict__ freq,
    float4* __restrict__ pq, int H, int M, int adj) {
  LPJ_LOOP(i, (long long)H * M) {
    const int h = (int)(i / M), p = (int)(i - (long long)h * M), f = freq[p];
    const float2* Kh = K + (size_t)h * (M + 1);
    const float4 v = lpj_pq_at(Kh, f, M);
    if (!adj) { pq[i] = v; continue; }
    const float4 w = lpj_pq_at(Kh, (M - f) & (M - 1), M);
    pq[i] = make_float4(v.x, -v.y, w.z, w.w);
  }
}

// dK of channel h from gpq (H, M) {dP, dQ} at positions (pos: the position of a frequency), j = 0 .. M:
//   dK[j] = conj(alpha_j) dP_j + conj(gamma_j) dQ_j (j < M) + beta_f conj(dP_f) + delta_f conj(dQ_f) (j >= 1, f = M - j),
// written as cuFFT C2R's input: spec[h, j] = Re dK[j] for j = 0, M and dK[j] / 2 otherwise, so that C2R gives
// dk_pad[x] = Re sum_{j <= M} dK[j] w_N^(-j x) (the adjoint of K = DFT_N(k_pad) restricted to j <= M).
extern "C" __global__ void __launch_bounds__(256) lpj_dk_spec(const float4* __restrict__ gpq, const int* __restrict__ pos,
    float2* __restrict__ spec, int H, int M) {
  LPJ_LOOP(i, (long long)H * (M + 1)) {
    const int h = (int)(i / (M + 1)), j = (int)(i - (long long)h * (M + 1));
    const float4* g = gpq + (size_t)h * M;
    float2 s = make_float2(0.f, 0.f);
    if (j < M) {
      const float4 v = g[pos[j]];
      const LpjCoef cf = lpj_coef(j, M);
      const float2 x = lpj_mul(lpj_conj(cf.alpha), make_float2(v.x, v.y)), z = lpj_mul(lpj_conj(cf.gamma), make_float2(v.z, v.w));
      s = make_float2(x.x + z.x, x.y + z.y);
    }
    if (j >= 1) {
      const int f = M - j;
      const float4 v = g[pos[f]];
      const LpjCoef cf = lpj_coef(f, M);
      const float2 x = lpj_mul(cf.beta, make_float2(v.x, -v.y)), z = lpj_mul(cf.delta, make_float2(v.z, -v.w));
      s = make_float2(s.x + x.x + z.x, s.y + x.y + z.y);
    }
    // C2R's input must be Hermitian: the DC and Nyquist bins real (the adjoint takes Re(dK[0]) and Re(dK[M]) (-1)^x only).
    // cuFFT does not ignore their imaginary parts at every size (sitting s1: wrong dk at N = 4096 .. 16384), so zero them.
    spec[i] = (j == 0 || j == M) ? make_float2(s.x, 0.f) : make_float2(0.5f * s.x, 0.5f * s.y);
  }
}

// dk[side, h, t] = dkpad[h, t] (side 0) or dkpad[h, N - 1 - t] (side 1) for t < the side's reachable taps, else 0.
extern "C" __global__ void __launch_bounds__(256) lpj_taps(const float* __restrict__ dkpad, float* __restrict__ dk, int H, int Lk,
    int N, int taps0, int taps1, int sides) {
  LPJ_LOOP(i, (long long)sides * H * Lk) {
    const int side = (int)(i / ((long long)H * Lk)), rem = (int)(i - (long long)side * H * Lk), h = rem / Lk, t = rem - h * Lk;
    const int taps = side ? taps1 : taps0;
    dk[i] = t < taps ? dkpad[(size_t)h * N + (side ? N - 1 - t : t)] : 0.f;
  }
}
