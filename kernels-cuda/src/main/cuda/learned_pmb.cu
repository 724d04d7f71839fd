// Shapes: B batch, H channels, L length; M = N / 2 = R1 * 16^(J-1) complex points, J factors {R1, 16, .., 16} (one pass,
// M = 2048 .. 32768, s14-jspec.md); S_s = 16^(J-s), M_s = R_s S_s; a position p = the row-major index of (k_1 .. k_J).
//   u, dy, du : (B, H, L) bf16 / fp16.
//   mats, madj: 2J left-form complex matrices each (learned_pm.cu lpm_prep: the forward's and the adjoint's), float2.
//   pq, pqAdj : (H, M) float4 {P_p, Q_p} and {conj P_p, Q_s(p)} at position p.          D: (H) fp32.
//   dpq       : (H, M) float4 {dP_p, dQ_p} (lib's (dl/dRe, dl/dIm)), written (not accumulated) per channel.
//   scratch   : (H, 2J, 2, M) of the I/O type: per channel the planes (re, im) of X_1 .. X_J (slots 0 .. J-1) and of
//               W_1 .. W_J (slots J .. 2J-1) of the current row.     cs: (H, M) float2, the current row's C.
//   part      : (H, 2J, 16, 16) float2: per channel the 2J stage Grams acc[k][n] (slot s-1: forward stage s, slot
//               J+s-1: inverse stage s), entries k, n < R_s used.
//   dblk      : lib's 2J block gradients {dF_1 .. dF_J, dG_J .. dG_1}, (R_s, R_s) float2 each, back to back.
//
// Helper pkjbwd (session 14): the tensor-core backward of the one-pass J-factor packed learned butterfly
// (PackedMonarchConv.backwardTc; float64 model of this very decomposition: the test's PackedMonarchBwdModel). Design (a)
// of the brief: recompute per row in shared memory, the Grams on mma.sync with fp32 partials per CTA, then a reduction.
// One block per channel h (grid H) runs its B rows one after the other, each row through learned_pm.cu's unfused
// stages (pm_first / lm_stage_a / lm_stage_b: the forward kernel's math, so the same 16-bit operand rounding):
//   A  pack u; forward chain s = 1 .. J with the stage input X_s dumped (16-bit) before stage s; C (x M, fp32) to cs;
//      the pair map (P, Q); inverse chain s = J .. 1 with W_s dumped before stage s (V_s = W_s o conj(T_s)).
//   B  pack dy = gW_0; s = 1 .. J: Gram(gW_(s-1), V_s) -> slot J+s-1, then the adjoint stage (G_s^H, T_s, 1/R_s).
//      Now z = gC'; {dP, dQ} += {gC' conj(C), gC' C[s(p)]}; the adjoint pair map {conj P, Q_s(p)}: z = gC.
//   C  s = J .. 1: Gram(conj(T_s) o gX_(s+1), X_s) -> slot s-1, then the adjoint inverse stage (conj(T_s), F_s^H).
//      Now z = the gradient of the packed row: du = unpack(z) + D dy (as the forward kernel on the adjoint blocks).
// Scales (the kernel's stages carry 1/R_s forward, learned_pm.cu): the dumped X_s is X_s / (R_1 .. R_(s-1)), V_s is
// V_s / M for s >= 2, gW_(s-1) is gW_(s-1) S_(s-1) for s >= 2, gC' and gC are exact: every stage's Gram is the true one
// divided by R_1 .. R_(s-1) (1 at s = 1), multiplied back in lpmb_reduce.
// The scratch of a channel is rewritten every row: 2J M 4 bytes + 8 M (128 KB at M = 4096, J = 3), L2-resident while the
// resident blocks' scratch fits the 50 MB L2 (M <= 4096 at ~2-4 blocks per SM), HBM traffic beyond (BENCH-RESULTS.md
// round 27-pkjbwd gives the byte counts).
// Helper dd1 (session 18): dP / dQ (pmb_dpq), du's unpack (pmb_unpack_du) and the Grams'
// twiddle, zeroing and atomics (pmb_twc, pmb_gram_zero, pmb_gram_out) are shared with learned_pmb2.cu's kernels (machine
// code of every kernel of both files unchanged: bench-runs/dd1/machine-code-check.txt).
#define LPM_TEMPLATES_ONLY
#include "learned_pm.cu"

// (vr, vi) times conj(w_(2^lM)^num) (twiddle<true>, sign +1): the Grams' twiddle at load (pmb_gram, pmb2_gram), and
// learned_pmb2.cu's in-stage Grams (tiles_a's inverse load expression).
__device__ __forceinline__ void pmb_twc(const Tw& T, int num, int lM, float& vr, float& vi) {
  float tc, ts; twiddle<true>(T, num, lM, 1.0f, tc, ts);
  const float a = vr * tc - vi * ts; vi = vr * ts + vi * tc; vr = a;
}

// A warp's Gram accumulators (2 column halves x 4 mma.sync registers, re and im) set to zero (pmb_gram, pmb2_gram).
__device__ __forceinline__ void pmb_gram_zero(float (&dr)[2][4], float (&di)[2][4]) {
#pragma unroll
  for (int j = 0; j < 2; ++j)
#pragma unroll
    for (int q = 0; q < 4; ++q) { dr[j][q] = 0.f; di[j][q] = 0.f; }
}

// A warp's Gram accumulators added to acc (shared 16 x 16 float2) by shared-memory atomics, entries k, n < R only:
// register q of column half j is row k = g + 8 (q >> 1), column n = 8 j + 2 t + (q & 1) (pmb_gram, pmb2_gram).
__device__ __forceinline__ void pmb_gram_out(const float (&dr)[2][4], const float (&di)[2][4], int g, int t, int R,
                                             float* acc) {
#pragma unroll
  for (int j = 0; j < 2; ++j)
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int k = g + 8 * (q >> 1), n = 8 * j + 2 * t + (q & 1);
      if (k < R && n < R) { atomicAdd(acc + 2 * (k * 16 + n), dr[j][q]); atomicAdd(acc + 2 * (k * 16 + n) + 1, di[j][q]); }
    }
}

// One stage's Gram: acc[k][n] += sum over the M / R columns col of G[k][col] conj(X[n][col]), R = 2^lR <= 16, the axis of
// stride S = 2^lS; element (k, col) at position (col >> lS) R S + k S + (col & (S - 1)). G from the shared planes (zr, zi),
// X from the scratch planes (xr, xi; plain loads: written by this block in this kernel). twG / twX: the element times
// conj(w_(M_s)^(k c)) (k its index along the axis, c = col & (S - 1), M_s = R S) at load. On mma.sync m16n8k16: A = G
// (16 rows k, 16 columns col; rows k >= R zero), B[col][n] = X[n][col] (columns n >= R zero); Re += Gr Xr^T + Gi Xi^T,
// Im += Gi Xr^T - Gr Xi^T; each warp takes the 16-column tiles w, w + nw, .., then adds its fp32 partial to acc
// (shared, 16 x 16 float2) by shared-memory atomics. Ends without a barrier.
template <bool BF16, typename ST, typename XT>
__device__ void pmb_gram(const Tw& T, const ST* zr, const ST* zi, const XT* xr, const XT* xi, int lR, int lS, int log2M, bool twG,
                         bool twX, float* acc) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  const int R = 1 << lR, S = 1 << lS, lMs = lR + lS, tiles = 1 << (log2M - lR - 4), nj = R > 8 ? 2 : 1;
  if (warp >= tiles) return;
  float dr[2][4], di[2][4];
  pmb_gram_zero(dr, di);
  for (int tile = warp; tile < tiles; tile += nw) {
    const int col0 = tile << 4;
    uint32_t ar[4], ai[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int k = g + 8 * (i & 1);
      float re[2] = {0.f, 0.f}, im[2] = {0.f, 0.f};
      if (k < R) {
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int col = col0 + 2 * t + 8 * (i >> 1) + e, c = col & (S - 1), p = ((col >> lS) << lMs) + k * S + c;
          float vr = ld(zr + SIDX(p)), vi = ld(zi + SIDX(p));
          if (twG) pmb_twc(T, (k * c) & ((1 << lMs) - 1), lMs, vr, vi);
          re[e] = vr; im[e] = vi;
        }
      }
      ar[i] = pack2<BF16>(re[0], re[1]);
      ai[i] = pack2<BF16>(im[0], im[1]);
    }
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      if (j >= nj) break;
      uint32_t br[2], bi[2], bn[2];
      const int n = 8 * j + g;
#pragma unroll
      for (int q = 0; q < 2; ++q) {
        float re[2] = {0.f, 0.f}, im[2] = {0.f, 0.f};
        if (n < R) {
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const int col = col0 + 2 * t + 8 * q + e, c = col & (S - 1), p = ((col >> lS) << lMs) + n * S + c;
            float vr = ld(xr + p), vi = ld(xi + p);
            if (twX) pmb_twc(T, (n * c) & ((1 << lMs) - 1), lMs, vr, vi);
            re[e] = vr; im[e] = vi;
          }
        }
        br[q] = pack2<BF16>(re[0], re[1]);
        bi[q] = pack2<BF16>(im[0], im[1]);
        bn[q] = pack2<BF16>(-im[0], -im[1]);
      }
      mma16816<BF16>(dr[j], ar, br[0], br[1]);
      mma16816<BF16>(dr[j], ai, bi[0], bi[1]);
      mma16816<BF16>(di[j], ai, br[0], br[1]);
      mma16816<BF16>(di[j], ar, bn[0], bn[1]);
    }
  }
  pmb_gram_out(dr, di, g, t, R, acc);
}

// The shared planes to a scratch slot (position order, the I/O type). Ends without a barrier.
template <typename ST, typename XT>
__device__ __forceinline__ void pmb_dump(const ST* zr, const ST* zi, XT* xr, XT* xi, int M) {
  for (int p = threadIdx.x; p < M; p += blockDim.x) { st(xr + p, ld(zr + SIDX(p))); st(xi + p, ld(zi + SIDX(p))); }
}

// pack: z[m] = x[2m] + i x[2m+1] (zero past L). Ends with a barrier.
template <typename IO, typename ST>
__device__ __forceinline__ void pmb_pack(const IO* __restrict__ x, ST* zr, ST* zi, int L, int M) {
  for (int m = threadIdx.x; m < M; m += blockDim.x) {
    st(zr + SIDX(m), 2 * m < L ? ld(x + 2 * m) : 0.f);
    st(zi + SIDX(m), 2 * m + 1 < L ? ld(x + 2 * m + 1) : 0.f);
  }
  __syncthreads();
}

// Forward-structured stage s (1-based) with the left-form matrices m (m1: its first-stage matrix in shared memory), * 1/R_s.
template <bool BF16, typename ST>
__device__ __forceinline__ void pmb_fwd(const Tw& tw, const float2* __restrict__ m, const float2* m1, ST* zr, ST* zi, int s, int log2M,
                                        int lR1, int J) {
  const int q1 = 1 << (2 * lR1);
  if (s == 1) pm_first<BF16, true, ST>(tw, m, m1, zr, zi, log2M, lR1, 1.0f / (float)(1 << lR1));
  else if (s < J)
    lm_stage_a<BF16, true, ST>(tw, m + q1 + 256 * (s - 2), zr, zi, 4 * (J - s), 1 << (4 * (s - 1) - 4 + lR1), 1.0f / 16.0f);
  else lm_stage_b<BF16, ST>(m + q1 + 256 * (J - 2), zr, zi, 1 << log2M, 1.0f / 16.0f);
}

// Inverse-structured stage s: o conj(T_s), then the matrix (im: the second half of a matrix set; im1 its first stage, shared).
template <bool BF16, typename ST>
__device__ __forceinline__ void pmb_inv(const Tw& tw, const float2* __restrict__ im, const float2* im1, ST* zr, ST* zi, int s, int log2M,
                                        int lR1, int J) {
  const int q1 = 1 << (2 * lR1);
  if (s == 1) pm_first<BF16, false, ST>(tw, im, im1, zr, zi, log2M, lR1, 1.0f);
  else if (s < J)
    lm_stage_a<BF16, false, ST>(tw, im + q1 + 256 * (s - 2), zr, zi, 4 * (J - s), 1 << (4 * (s - 1) - 4 + lR1), 1.0f);
  else lm_stage_b<BF16, ST>(im + q1 + 256 * (J - 2), zr, zi, 1 << log2M, 1.0f);
}

// The pair map in place with coefficients c (the thread of position p does the pair {p, s(p)} when p <= s(p)). Ends with a barrier.
template <typename ST>
__device__ __forceinline__ void pmb_pair(const float4* __restrict__ c, ST* zr, ST* zi, int M, int lR1, int J) {
  for (int p = threadIdx.x; p < M; p += blockDim.x) {
    const int q = pm_pos((M - pm_freq(p, lR1, J)) & (M - 1), lR1, J);
    if (q < p) continue;
    const float4 cp = c[p], cq = c[q];
    const float ar = ld(zr + SIDX(p)), ai = ld(zi + SIDX(p)), br = ld(zr + SIDX(q)), bi = ld(zi + SIDX(q));
    const float pr = cp.x * ar - cp.y * ai + cp.z * br + cp.w * bi, pi = cp.x * ai + cp.y * ar - cp.z * bi + cp.w * br;
    const float qr = cq.x * br - cq.y * bi + cq.z * ar + cq.w * ai, qi = cq.x * bi + cq.y * br - cq.z * ai + cq.w * ar;
    st(zr + SIDX(p), pr); st(zi + SIDX(p), pi);
    if (q != p) { st(zr + SIDX(q), qr); st(zi + SIDX(q), qi); }
  }
  __syncthreads();
}

// Bytes of dynamic shared memory: learned_pm.cu's pm_smem (its first-stage / w256 region holds the four R1 x R1 matrices)
// plus the 2J Gram accumulators (16 x 16 float2 each).
__host__ __device__ constexpr int pmb_smem(int log2M, int stBytes, int J) { return pm_smem(log2M, stBytes) + 2 * J * 256 * 8; }

// {dP, dQ} of one row from z = gC' (the planes) and C (c, x M): gpq[p] = (or += unless first) {gC' conj(C[p]),
// gC' C[s(p)]}. No barrier.
template <typename ST>
__device__ __forceinline__ void pmb_dpq(const ST* zr, const ST* zi, const float2* c, float4* gpq, bool first, int M, int lR1,
                                        int J) {
  for (int p = threadIdx.x; p < M; p += blockDim.x) {
    const int q = pm_pos((M - pm_freq(p, lR1, J)) & (M - 1), lR1, J);
    const float2 a = c[p], sq = c[q];
    const float gr = ld(zr + SIDX(p)), gi = ld(zi + SIDX(p));
    const float4 e = make_float4(gr * a.x + gi * a.y, gi * a.x - gr * a.y, gr * sq.x - gi * sq.y, gr * sq.y + gi * sq.x);
    if (first) gpq[p] = e;
    else { const float4 o = gpq[p]; gpq[p] = make_float4(o.x + e.x, o.y + e.y, o.z + e.z, o.w + e.w); }
  }
}

// du = unpack(z) + D dy for one row (gy: dy's row, o: du's). No barrier.
template <typename IO, typename ST>
__device__ __forceinline__ void pmb_unpack_du(const IO* gy, IO* o, const ST* zr, const ST* zi, float d, int L) {
  for (int i = threadIdx.x; i < L; i += blockDim.x) {
    const int m = i >> 1;
    st(o + i, fmaf(d, ld(gy + i), (i & 1) ? ld(zi + SIDX(m)) : ld(zr + SIDX(m))));
  }
}

template <bool BF16, typename IO, typename ST>
__device__ void pmb_bwd(const IO* __restrict__ u, const IO* __restrict__ dy, const float2* __restrict__ mats,
                        const float2* __restrict__ madj, const float4* __restrict__ pq, const float4* __restrict__ pqAdj,
                        const float* __restrict__ D, IO* __restrict__ du, float4* __restrict__ dpq, IO* scratch, float2* cs,
                        float2* __restrict__ part, int B, int H, int L, int log2M) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  const int M = 1 << log2M, P = M + (M >> 5), J = (log2M - 1) / 4 + 1, lR1 = log2M - 4 * (J - 1), R1 = 1 << lR1;
  const int h = blockIdx.x, T = blockDim.x, q1 = R1 * R1, inv = q1 + 256 * (J - 1);
  ST* zr = reinterpret_cast<ST*>(smem_raw);
  ST* zi = zr + P;
  const int twOff = (2 * P * (int)sizeof(ST) + 15) & ~15;
  const Tw tw = tw_init(reinterpret_cast<float2*>(smem_raw + twOff), log2M);
  // first-stage matrices (R1 < 16): u's forward F_1, u's inverse G_1, dy's forward G_1^H, dy's inverse F_1^H
  float2* s1 = reinterpret_cast<float2*>(smem_raw + twOff + 8 * tw_entries(M));
  float* acc = reinterpret_cast<float*>(smem_raw + pm_smem(log2M, (int)sizeof(ST)));
  if (R1 < 16)
    for (int i = threadIdx.x; i < q1; i += T) {
      s1[i] = mats[i]; s1[q1 + i] = mats[inv + i]; s1[2 * q1 + i] = madj[i]; s1[3 * q1 + i] = madj[inv + i];
    }
  for (int i = threadIdx.x; i < 2 * J * 512; i += T) acc[i] = 0.f;
  IO* xs = scratch + (size_t)h * 2 * J * 2 * M;   // slot q: planes xs + 2 q M (re), + M (im)
  float2* c = cs + (size_t)h * M;
  float4* gpq = dpq + (size_t)h * M;
  const float4* cf = pq + (size_t)h * M;
  const float4* ca = pqAdj + (size_t)h * M;
  const float d = D[h], fM = (float)M;
  __syncthreads();
  for (int b = 0; b < B; ++b) {
    const size_t row = ((size_t)b * H + h) * L;
    // A: u's forward chain (X_s dumped), C, the pair map, the inverse chain (W_s dumped)
    pmb_pack(u + row, zr, zi, L, M);
    for (int s = 1; s <= J; ++s) {
      pmb_dump(zr, zi, xs + 2 * (s - 1) * M, xs + 2 * (s - 1) * M + M, M);
      __syncthreads();
      pmb_fwd<BF16, ST>(tw, mats, s1, zr, zi, s, log2M, lR1, J);
      __syncthreads();
    }
    for (int p = threadIdx.x; p < M; p += T) c[p] = make_float2(ld(zr + SIDX(p)) * fM, ld(zi + SIDX(p)) * fM);
    __syncthreads();
    pmb_pair(cf, zr, zi, M, lR1, J);
    for (int s = J; s >= 1; --s) {
      pmb_dump(zr, zi, xs + 2 * (J + s - 1) * M, xs + 2 * (J + s - 1) * M + M, M);
      __syncthreads();
      pmb_inv<BF16, ST>(tw, mats + inv, s1 + q1, zr, zi, s, log2M, lR1, J);
      __syncthreads();
    }
    // B: dy's adjoint of the inverse chain with the inverse blocks' Grams
    pmb_pack(dy + row, zr, zi, L, M);
    for (int s = 1; s <= J; ++s) {
      const int lR = s == 1 ? lR1 : 4, lS = 4 * (J - s);
      const IO* w = xs + 2 * (J + s - 1) * M;
      pmb_gram<BF16, ST, IO>(tw, zr, zi, w, w + M, lR, lS, log2M, false, s < J, acc + 512 * (J + s - 1));
      __syncthreads();
      pmb_fwd<BF16, ST>(tw, madj, s1 + 2 * q1, zr, zi, s, log2M, lR1, J);
      __syncthreads();
    }
    // z = gC': {dP, dQ} (C from cs), then the adjoint pair map
    pmb_dpq(zr, zi, c, gpq, b == 0, M, lR1, J);
    __syncthreads();
    pmb_pair(ca, zr, zi, M, lR1, J);
    // C: the forward chain's adjoint with the forward blocks' Grams
    for (int s = J; s >= 1; --s) {
      const int lR = s == 1 ? lR1 : 4, lS = 4 * (J - s);
      const IO* x = xs + 2 * (s - 1) * M;
      pmb_gram<BF16, ST, IO>(tw, zr, zi, x, x + M, lR, lS, log2M, s < J, false, acc + 512 * (s - 1));
      __syncthreads();
      pmb_inv<BF16, ST>(tw, madj + inv, s1 + 3 * q1, zr, zi, s, log2M, lR1, J);
      __syncthreads();
    }
    // du = unpack(z) + D dy
    pmb_unpack_du(dy + row, du + row, zr, zi, d, L);
    __syncthreads();
  }
  float2* pp = part + (size_t)h * 2 * J * 256;
  for (int i = threadIdx.x; i < 2 * J * 256; i += T) pp[i] = make_float2(acc[2 * i], acc[2 * i + 1]);
}

#ifndef LPMB_TEMPLATES_ONLY   // learned_pmb2.cu includes this file for its device functions only
// Grid (H), block 256 / 512 threads (a multiple of 32), dynamic shared memory pmb_smem(log2M, sizeof(ST), J).
#define LPMB(NAME, BF, IO, ST)                                                                                       \
  extern "C" __global__ void __launch_bounds__(512, 1) NAME(const IO* __restrict__ u, const IO* __restrict__ dy,      \
      const float2* __restrict__ mats, const float2* __restrict__ madj, const float4* __restrict__ pq,                 \
      const float4* __restrict__ pqAdj, const float* __restrict__ D, IO* __restrict__ du, float4* __restrict__ dpq,   \
      IO* scratch, float2* cs, float2* __restrict__ part, int B, int H, int L, int log2M) {                           \
    pmb_bwd<BF, IO, ST>(u, dy, mats, madj, pq, pqAdj, D, du, dpq, scratch, cs, part, B, H, L, log2M);               \
  }
// name: lpmb_bwd_<io>_<s32|s16> (shared-memory planes as learned_pm.cu's kernels)
LPMB(lpmb_bwd_bf16_s32, true, __nv_bfloat16, float)
LPMB(lpmb_bwd_f16_s32, false, __half, float)
LPMB(lpmb_bwd_bf16_s16, true, __nv_bfloat16, __nv_bfloat16)
LPMB(lpmb_bwd_f16_s16, false, __half, __half)

// The 2J block gradients in lib's layout from the per-channel partials: block i of {F_1 .. F_J, G_J .. G_1} (stage s = i + 1
// for i < J, s = 2J - i after; slot s - 1, or J + s - 1), entry [a][b] = acc[a][b] at s = 1 (the left product), acc[b][a]
// for s >= 2 (the right product: dF[n][k] = acc[k][n]), summed over the H channels in order, times R_1 .. R_(s-1) (the
// kernel's stage scales). One thread per output entry; grid ceil(E / 256), E = 2 (R1^2 + 256 (J - 1)).
extern "C" __global__ void __launch_bounds__(256) lpmb_reduce(const float2* __restrict__ part, float2* __restrict__ dblk, int H,
                                                               int lR1, int J) {
  const int q1 = 1 << (2 * lR1), E = 2 * (q1 + 256 * (J - 1));
  const int e = blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= E) return;
  int i, o;   // block i, entry o within it
  const int half = q1 + 256 * (J - 1);
  if (e < half) { i = e < q1 ? 0 : 1 + (e - q1) / 256; o = e < q1 ? e : (e - q1) & 255; }
  else {
    const int f = e - half;   // G_J .. G_2 (256 each), then G_1 (q1)
    if (f < 256 * (J - 1)) { i = J + f / 256; o = f & 255; } else { i = 2 * J - 1; o = f - 256 * (J - 1); }
  }
  const int s = i < J ? i + 1 : 2 * J - i, slot = i < J ? s - 1 : J + s - 1, lR = s == 1 ? lR1 : 4;
  const int a = o >> lR, bb = o & ((1 << lR) - 1), k = s == 1 ? a : bb, n = s == 1 ? bb : a;
  float re = 0.f, im = 0.f;
  for (int h = 0; h < H; ++h) {
    const float2 v = part[((size_t)h * 2 * J + slot) * 256 + k * 16 + n];
    re += v.x; im += v.y;
  }
  const float sc = s == 1 ? 1.0f : (float)(1 << (lR1 + 4 * (s - 2)));
  dblk[e] = make_float2(re * sc, im * sc);
}
#endif
