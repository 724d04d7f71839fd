// The packed learned tensor op's device-side helpers (helper pkop, session 13; PackedLearnedConv.blockGradsOnDevice) and its
// P / Q by an FFT (helper pkpq, session 13; lpko_pq_fft below, PackedLearnedConv.setWeightsOnDevice: shapes there).
// Shapes: M = N1 x N2 (16 x 16, 16 x 32, 32 x 32). raw: the four block gradients {dFa (N1, N1), dFb (N2, N2), dGb (N2, N2),
//   dGa (N1, N1)} complex fp32 as learned_pk_bwd's Gram reductions leave them (dFa's rows and dGa's columns in the chains'
//   tile-row order rho); out: the same four in lib's layout (PackedLearnedBackward.unpermute, its float64 host twin).

// learned_pk.cu lpk_rho (PackedLearnedConv.rho): tile row i (N1 = 32: 16 w + g + 8 h; N1 = 16: g + 8 h) holds k1 = rho(i)
__device__ __forceinline__ int lpko_rho(int i, int n1) {
  const int w = i >> 4, g = i & 7, hh = (i >> 3) & 1;
  if (n1 == 16) return g == 0 ? 8 * hh : (hh == 1 ? 16 - g : g);
  return w == 0 ? (g == 0 ? 16 * hh : (hh == 1 ? 32 - g : g)) : (hh == 1 ? 24 - g : 8 + g);
}

// One thread per complex entry (2 (N1^2 + N2^2) entries), block 256. Entry (a, b) of block i goes to (rho(a), b) for dFa,
// (a, rho(b)) for dGa, (a, b) otherwise; dGa's rows a >= live and dFa's columns b >= live (the causal row's zero half, whose
// Gram inputs the chains leave unwritten) are exact zeros and written so.
extern "C" __global__ void __launch_bounds__(256) lpko_unpermute(const float2* __restrict__ raw, float2* __restrict__ out, int N1, int N2,
                                                                 int live) {
  const int e = blockIdx.x * blockDim.x + threadIdx.x, a1 = N1 * N1, b2 = N2 * N2;
  if (e >= 2 * (a1 + b2)) return;
  int i, off, s;
  if (e < a1) { i = 0; off = 0; s = N1; }
  else if (e < a1 + b2) { i = 1; off = a1; s = N2; }
  else if (e < a1 + 2 * b2) { i = 2; off = a1 + b2; s = N2; }
  else { i = 3; off = a1 + 2 * b2; s = N1; }
  const int r = e - off, a = r / s, b = r - a * s;
  const int row = i == 0 ? lpko_rho(a, N1) : a, col = i == 3 ? lpko_rho(b, N1) : b;
  const bool dead = (i == 3 && a >= live) || (i == 0 && b >= live);
  out[off + row * s + col] = dead ? make_float2(0.f, 0.f) : raw[e];
}

// ---- P / Q by an FFT (helper pkpq, session 13): lpk_pq's outputs (learned_pk.cu, its slow twin: a direct DFT per channel,
// H (M + 1) taps multiply-adds) from an M-point complex FFT of the packed taps per channel, O(M log M) per channel.
// Shapes: k (H, sides, Lk) fp32 taps row-major (lib's layout); N = 2 M the real FFT size, M = N1 N2 <= 2048 (N1 = 16 / 32,
//   the kernels' rho); out, adj: (H, M) float4 in tile-row order, exactly lpk_pq's: position p = i N2 + c holds frequency
//   f = rho(i) + N1 c, out {P_f, Q_f}, adj (may be null) {conj(P_f), Q_s(f)}, s(f) = (M - f) mod M.
// Placement (lib's SpectralConv.placeTaps): k_pad[t] = side 0's tap t (t < taps0); two-sided (sides = 2, BIDIRECTIONAL)
//   also k_pad[N - 1 - t] = side 1's tap t (t < taps1; written after side 0, as lib). CIRCULAR is the one-sided placement
//   with N = L (the host passes N1 N2 = L / 2 and taps0 = min(Lk, L) <= N: lib's effectiveTaps, no folding needed).
// Per channel (block h, 256 threads; dynamic smem 8 M + 8 (M + 1 + (M + 1) / 32) bytes: the FFT's twiddles and Z / K):
//   1. z[m] = k_pad[2m] + i k_pad[2m + 1] loaded in bit-reversed order; Z = DFT_M(z) by log2 M radix-2 DIT stages.
//   2. The real split, in place per pair (j, M - j): K[j] = a_j Z[j] + b_j conj(Z[(M - j) mod M]), j = 0 .. M,
//      a_j = (1 - i w_N^j) / 2, b_j = (1 + i w_N^j) / 2 (MonarchReal's split; K[M] = Re Z[0] - Im Z[0]).
//   3. P_f, Q_f from K as lpk_pq (packed spec step 4).
// Shared-memory layout, bank-conflict free (sitting s1: the first version, a single twiddle table w_N^j indexed by
// frequency and an unpadded Z, took 49 us at M = 1024, H = 768, against a few us of arithmetic): the stage of span `half`
// reads its twiddles w_(2 half)^pos from tw[half - 1 + pos] (all stages back to back: M - 1 values, consecutive per
// stage); Z / K entry j lives at j + j / 32 (step 3 reads frequencies rho(i) + N1 c, stride N1 along a warp: padded, the
// stride is N1 + N1 / 32); w_N^f is computed where needed (sincospif of an exact argument: the same value a table held),
// w_N^(M - f) = -conj(w_N^f).
__device__ __forceinline__ float2 lpko_cmul(float2 a, float2 b) { return make_float2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }
__device__ __forceinline__ float2 lpko_conj(float2 a) { return make_float2(a.x, -a.y); }
__device__ __forceinline__ int lpko_pad(int j) { return j + (j >> 5); }
__device__ __forceinline__ float2 lpko_wn(int j, int N) { float s, c; sincospif(-2.0f * (float)j / (float)N, &s, &c); return make_float2(c, s); }

// {P_f, Q_f}, f in 0 .. M-1, g = M - f in 1 .. M; wf = w_N^f, wg = w_N^g. With u = i w: a = (1 - u) / 2, b = (1 + u) / 2;
// c_f = (1 + i conj(w_f)) / 2, d_f = (1 - i conj(w_f)) / 2; P = c K[f] a_f + d conj(K[g]) conj(b_g), Q = c K[f] b_f + d conj(K[g]) conj(a_g).
__device__ __forceinline__ float4 lpko_pq_at(float2 wf, float2 wg, float2 Kf, float2 Kg) {
  const float2 uf = make_float2(-wf.y, wf.x), ug = make_float2(-wg.y, wg.x);              // i w
  const float2 af = make_float2(0.5f * (1.f - uf.x), -0.5f * uf.y), bf = make_float2(0.5f * (1.f + uf.x), 0.5f * uf.y);
  const float2 ag = make_float2(0.5f * (1.f - ug.x), -0.5f * ug.y), bg = make_float2(0.5f * (1.f + ug.x), 0.5f * ug.y);
  const float2 vf = make_float2(wf.y, wf.x);                                               // i conj(w_f)
  const float2 cf = make_float2(0.5f * (1.f + vf.x), 0.5f * vf.y), df = make_float2(0.5f * (1.f - vf.x), -0.5f * vf.y);
  const float2 x = lpko_cmul(cf, Kf), y = lpko_cmul(df, lpko_conj(Kg));
  const float2 p0 = lpko_cmul(x, af), p1 = lpko_cmul(y, lpko_conj(bg));
  const float2 q0 = lpko_cmul(x, bf), q1 = lpko_cmul(y, lpko_conj(ag));
  return make_float4(p0.x + p1.x, p0.y + p1.y, q0.x + q1.x, q0.y + q1.y);
}

extern "C" __global__ void __launch_bounds__(256) lpko_pq_fft(const float* __restrict__ k, float4* __restrict__ out, float4* __restrict__ adj,
                                                             int Lk, int sides, int taps0, int taps1, int N1, int N2) {
  extern __shared__ __align__(16) float2 lpko_sm[];
  const int M = N1 * N2, N = 2 * M, h = blockIdx.x, logM = 31 - __clz(M);
  float2 *tw = lpko_sm, *Z = lpko_sm + M;   // tw: M - 1 stage twiddles (+ 1 unused); Z: M + 1 entries, padded
  for (int e = threadIdx.x; e < M - 1; e += blockDim.x) {   // e = half - 1 + pos, pos < half: w_(2 half)^pos
    const int half = 1 << (31 - __clz(e + 1)), pos = e + 1 - half;
    float s, c; sincospif(-(float)pos / (float)half, &s, &c); tw[e] = make_float2(c, s);
  }
  const float* k0 = k + (size_t)h * sides * Lk;
  const float* k1 = k0 + Lk;
  for (int m = threadIdx.x; m < M; m += blockDim.x) {
    float v[2];
#pragma unroll
    for (int e = 0; e < 2; ++e) {
      const int t = 2 * m + e, r = N - 1 - t;
      v[e] = (sides == 2 && r < taps1) ? __ldg(k1 + r) : (t < taps0 ? __ldg(k0 + t) : 0.f);
    }
    Z[lpko_pad(__brev(m) >> (32 - logM))] = make_float2(v[0], v[1]);
  }
  __syncthreads();
  for (int half = 1; half < M; half <<= 1) {           // radix-2 DIT: pairs (i0, i0 + half), twiddle w_(2 half)^pos
    for (int b = threadIdx.x; b < M / 2; b += blockDim.x) {
      const int pos = b & (half - 1), i0 = lpko_pad(((b - pos) << 1) + pos), i1 = lpko_pad(((b - pos) << 1) + pos + half);
      const float2 x0 = Z[i0], x1 = lpko_cmul(tw[half - 1 + pos], Z[i1]);
      Z[i0] = make_float2(x0.x + x1.x, x0.y + x1.y);
      Z[i1] = make_float2(x0.x - x1.x, x0.y - x1.y);
    }
    __syncthreads();
  }
  for (int j = threadIdx.x; j <= M / 2; j += blockDim.x) {   // the split in place: pair (j, M - j); j = 0 -> K[0], K[M]
    const int g = M - j;
    const float2 zj = Z[lpko_pad(j)], zg = Z[lpko_pad(g & (M - 1))], wj = lpko_wn(j, N), wg = make_float2(-wj.x, wj.y);   // w^(M-j) = -conj(w^j)
    auto split = [](float2 w, float2 zq, float2 zp) {         // a_q zq + b_q conj(zp), u = i w_q
      const float2 u = make_float2(-w.y, w.x), c = lpko_conj(zp);
      return make_float2(0.5f * ((1.f - u.x) * zq.x + u.y * zq.y + (1.f + u.x) * c.x - u.y * c.y),
                         0.5f * ((1.f - u.x) * zq.y - u.y * zq.x + (1.f + u.x) * c.y + u.y * c.x));
    };
    const float2 kj = split(wj, zj, zg), kg = split(wg, zg, zj);
    Z[lpko_pad(j)] = kj;
    Z[lpko_pad(g)] = kg;   // j = M / 2: g = j, the same value
  }
  __syncthreads();
  for (int p = threadIdx.x; p < M; p += blockDim.x) {
    const int i = p / N2, c = p - i * N2, f = lpko_rho(i, N1) + N1 * c, g = M - f;
    const float2 wf = lpko_wn(f, N), wg = make_float2(-wf.x, wf.y), Kf = Z[lpko_pad(f)], Kg = Z[lpko_pad(g)];
    const float4 v = lpko_pq_at(wf, wg, Kf, Kg);
    out[(size_t)h * M + p] = v;
    if (adj != nullptr) {   // s(f) = g mod M: w_N^s = wg (f > 0; f = 0: s = 0, w = 1), w_N^(M - s) = wf (f = 0: w_N^M = -1 = wg)
      const float4 u = f == 0 ? lpko_pq_at(wf, wg, Kf, Kg) : lpko_pq_at(wg, wf, Kg, Kf);
      adj[(size_t)h * M + p] = make_float4(v.x, -v.y, u.z, u.w);
    }
  }
}
