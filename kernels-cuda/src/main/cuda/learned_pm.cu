// Shapes: B batch, H channels, L length; N the real FFT size, M = N / 2 = R1 * 16^(J-1) complex points of the packed
// learned transform with J factors {R1, 16, .., 16} (s14-jspec.md: M = 2048 {8,16,16}, 4096 {16,16,16}, 8192 {2,16,16,16},
// 16384 {4,16,16,16}, 32768 {8,16,16,16}); S_s = 16^(J-s), M_s = R_s S_s.
//   x, out : (B, H, L) bf16 / fp16 (x = u for the forward, dy for the input gradient; out = y / du), out must not alias x.
//   mats   : 2J complex matrices (float2, row-major) in LEFT form A (a stage computes Y[k] = sum_n A[k][n] X[n] along its
//            axis): forward stages 1 .. J, then inverse stages 1 .. J; R_s x R_s each, back to back in that order.
//   pq     : (H, M) float4 {Re P, Im P, Re Q, Im Q} at position p (row-major index of the digits (k_1 .. k_J), frequency
//            k = k_1 + R_1 (k_2 + 16 (k_3 + ..))): C'[p] = P_p C[p] + Q_p conj(C[s(p)]), s(p) the position of (M - k) mod M.
//   D      : (H) fp32 skip weights.
//
// The packed learned butterfly with J factors on tensor cores (PackedMonarchConv.java; float64 twin: lib's
// PackedLearnedButterfly with a J-factor plan, and PackedMonarchReference in the tests): one block per row (b, h), the row
// in shared memory (fp32 planes, or 16-bit planes for M = 32768), FlashButterfly's (monarch.cuh) stages with LEARNED
// matrices: radix-16 stages as 16 x 16 complex products on mma.sync m16n8k16 (bf16 / fp16 operands, fp32 accumulation:
// monarch.cuh's tiles_a for the strided axes, load_tile_b / mma_b for the last, contiguous, axis), the first stage at
// R1 < 16 on CUDA cores in fp32 (R1 x R1 matrix in shared memory). Steps (every stage followed by a block barrier):
//   pack z[m] = x_pad[2m] + i x_pad[2m+1]  ->  forward chain: stage s = block A_s along axis s, then o T_s and * 1/R_s
//   (the product of the scales is 1/M, the inverse's 1/M moved forward: the chain is real-linear and keeps 16-bit
//   operands in range)  ->  the pair map (each pair {p, s(p)} by the thread of its lower position, in place)  ->
//   inverse chain s = J .. 1: o conj(T_s), then block A'_s along axis s  ->  out[i] = E_flat[i] + D x[i], i < L.
// The kernel does not know whether it runs the forward or the adjoint: the Java side passes {F_1, F_2^T .. F_J^T,
// G_1, G_2^T .. G_J^T} and (P, Q) for y, and {G_1^H, (G_s^H)^T .., F_1^H, (F_s^H)^T ..} and {conj P_p, Q_s(p)} for du.
#include "monarch.cuh"

// A operand of the 16 x 16 left-form matrix a (global, row-major float2), or of conj(a) when cj: reg i holds row
// g + 8 (i & 1), cols 2t + 8 (i >> 1) + {0, 1} (monarch.cuh's FragA layout).
template <bool BF16>
__device__ __forceinline__ void pm_frag_a(const float2* __restrict__ a, bool cj, FragA& f) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const float sg = cj ? -1.0f : 1.0f;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int row = g + 8 * (i & 1), col = 2 * t + 8 * (i >> 1);
    const float2 w0 = __ldg(a + row * 16 + col), w1 = __ldg(a + row * 16 + col + 1);
    f.re[i] = pack2<BF16>(w0.x, w1.x);
    f.im[i] = pack2<BF16>(sg * w0.y, sg * w1.y);
    f.nim[i] = pack2<BF16>(-sg * w0.y, -sg * w1.y);
  }
}

// B operand Bm = a^T (so X @ Bm = the left-form stage along the last axis): register q of column half j holds rows
// 2t + 8q + {0, 1}, col 8j + g, i.e. a[8j + g][2t + 8q + {0, 1}].
template <bool BF16>
__device__ __forceinline__ void pm_frag_b(const float2* __restrict__ a, FragB& f) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int j = 0; j < 2; ++j)
#pragma unroll
    for (int q = 0; q < 2; ++q) {
      const float2 w0 = __ldg(a + (8 * j + g) * 16 + 2 * t + 8 * q), w1 = __ldg(a + (8 * j + g) * 16 + 2 * t + 8 * q + 1);
      f.re[j][q] = pack2<BF16>(w0.x, w1.x);
      f.im[j][q] = pack2<BF16>(w0.y, w1.y);
      f.nim[j][q] = pack2<BF16>(-w0.y, -w1.y);
    }
}

// A radix-16 stage along the axis of stride S = 2^lS >= 16 (O outer blocks) with a learned matrix: monarch.cuh's tiles_a
// with F from pm_frag_a. FWD: Y = A @ X, then o T_s * scale; inverse: X o conj(T_s), then conj(F) @ X with F the
// fragment of conj(A), i.e. A @ (X o conj(T_s)).
template <bool BF16, bool FWD, typename ST>
__device__ void pm_stage_a(const Tw& T, const float2* __restrict__ a, ST* zr, ST* zi, int lS, int O, float scale) {
  FragA F; pm_frag_a<BF16>(a, !FWD, F);
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  const int ntiles = O * ((1 << lS) >> 3);
  int tile = warp;
  for (; tile + nw < ntiles; tile += 2 * nw) {
    const int tl[2] = {tile, tile + nw};
    tiles_a<BF16, FWD, 2, ST>(T, F, zr, zi, lS, tl, scale);
  }
  for (; tile < ntiles; tile += nw) tiles_a<BF16, FWD, 1, ST>(T, F, zr, zi, lS, &tile, scale);
}

// The stage along the last axis (S = 1; T_J = 1, no twiddle): each 16 x 16 tile of 16 contiguous rows X -> X @ a^T, * scale.
template <bool BF16, typename ST>
__device__ void pm_stage_b(const float2* __restrict__ a, ST* zr, ST* zi, int M, float scale) {
  FragB F; pm_frag_b<BF16>(a, F);
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  for (int tile = warp; tile < (M >> 8); tile += nw) {
    const int base = tile << 8;
    uint32_t xr[4], xi[4];
    load_tile_b<BF16>(zr, zi, base, g, t, xr, xi);
    __syncwarp();
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float dr[4], di[4];
      mma_b<BF16, true>(F, j, xr, xi, dr, di);
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const int idx = SIDX(base + (g + 8 * (q >> 1)) * 16 + 8 * j + 2 * t + (q & 1));
        st(zr + idx, dr[q] * scale); st(zi + idx, di[q] * scale);
      }
    }
    __syncwarp();
  }
}

// The first stage at R = R1 < 16 on CUDA cores (fp32): one column c < S_1 = M / R per thread, a (R x R, shared) the
// left-form matrix. FWD: y[k] = sum_r a[k][r] x[r], then * w_M^(k c) * scale; inverse: x[r] *= conj(w_M^(r c)) first.
template <int R, bool FWD, typename ST>
__device__ void pm_stage_first(const Tw& T, const float2* a, ST* zr, ST* zi, int log2M, float scale) {
  constexpr int lR = R == 2 ? 1 : R == 4 ? 2 : 3;
  const int lS = log2M - lR, S = 1 << lS, M = 1 << log2M;
  for (int c = threadIdx.x; c < S; c += blockDim.x) {
    float xr[R], xi[R];
#pragma unroll
    for (int r = 0; r < R; ++r) { xr[r] = ld(zr + SIDX(c + r * S)); xi[r] = ld(zi + SIDX(c + r * S)); }
    if (!FWD) {
#pragma unroll
      for (int r = 1; r < R; ++r) {
        float tc, ts; twiddle<true>(T, (r * c) & (M - 1), log2M, 1.0f, tc, ts);
        const float p = xr[r] * tc - xi[r] * ts, q = xr[r] * ts + xi[r] * tc;
        xr[r] = p; xi[r] = q;
      }
    }
#pragma unroll
    for (int k = 0; k < R; ++k) {
      float ar = 0.f, ai = 0.f;
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const float2 w = a[k * R + r];
        ar = fmaf(w.x, xr[r], fmaf(-w.y, xi[r], ar));
        ai = fmaf(w.x, xi[r], fmaf(w.y, xr[r], ai));
      }
      if (FWD) {
        float tc, ts; twiddle<true>(T, (k * c) & (M - 1), log2M, -1.0f, tc, ts);
        tc *= scale; ts *= scale;
        const float p = ar * tc - ai * ts, q = ar * ts + ai * tc;
        ar = p; ai = q;
      }
      st(zr + SIDX(c + k * S), ar); st(zi + SIDX(c + k * S), ai);
    }
  }
}

template <bool BF16, bool FWD, typename ST>
__device__ __forceinline__ void pm_first(const Tw& T, const float2* __restrict__ g1, const float2* s1, ST* zr, ST* zi,
                                         int log2M, int lR1, float scale) {
  switch (lR1) {
    case 1: pm_stage_first<2, FWD, ST>(T, s1, zr, zi, log2M, scale); break;
    case 2: pm_stage_first<4, FWD, ST>(T, s1, zr, zi, log2M, scale); break;
    case 3: pm_stage_first<8, FWD, ST>(T, s1, zr, zi, log2M, scale); break;
    default: pm_stage_a<BF16, FWD, ST>(T, g1, zr, zi, log2M - 4, 1, scale);
  }
}

// Position of frequency k (digits k_1 = k mod R1, then base 16): p = k_1 S_1 + k_2 S_2 + .. + k_J.
__device__ __forceinline__ int pm_pos(int k, int lR1, int J) {
  int p = (k & ((1 << lR1) - 1)) << (4 * (J - 1)), r = k >> lR1;
  for (int s = J - 2; s >= 0; --s) { p |= (r & 15) << (4 * s); r >>= 4; }
  return p;
}

// Frequency held by position p (pm_pos's inverse).
__device__ __forceinline__ int pm_freq(int p, int lR1, int J) {
  int k = p >> (4 * (J - 1)), sh = lR1;
  for (int s = J - 2; s >= 0; --s) { k |= ((p >> (4 * s)) & 15) << sh; sh += 4; }
  return k;
}

// Bytes of dynamic shared memory: two planes of M + M/32 ST, the twiddle table (16-byte aligned), the first stage's two
// R1 x R1 matrices (R1 < 16).
__host__ __device__ constexpr int pm_smem(int log2M, int stBytes) {
  return ((2 * ((1 << log2M) + (1 << log2M) / 32) * stBytes + 15) & ~15) + 8 * tw_entries(1 << log2M) + 2 * 8 * 64;
}

template <bool BF16, typename IO, typename ST>
__device__ void pm_conv(const IO* __restrict__ x, const float2* __restrict__ mats, const float4* __restrict__ pq,
                        const float* __restrict__ D, IO* __restrict__ out, int H, int L, int log2M) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  const int M = 1 << log2M, P = M + (M >> 5), J = (log2M - 1) / 4 + 1, lR1 = log2M - 4 * (J - 1), R1 = 1 << lR1;
  const int b = blockIdx.x, h = blockIdx.y, T = blockDim.x;
  ST* zr = reinterpret_cast<ST*>(smem_raw);
  ST* zi = zr + P;
  const int twOff = (2 * P * (int)sizeof(ST) + 15) & ~15;
  const Tw tw = tw_init(reinterpret_cast<float2*>(smem_raw + twOff), log2M);
  float2* s1 = reinterpret_cast<float2*>(smem_raw + twOff + 8 * tw_entries(M));   // first-stage matrices (R1 < 16)
  // matrix offsets (float2): forward stage s at fo(s), inverse stage s at io + fo(s)
  const int q1 = R1 * R1, inv = q1 + 256 * (J - 1);
  if (R1 < 16)
    for (int i = threadIdx.x; i < 2 * q1; i += T) s1[i] = mats[i < q1 ? i : inv + i - q1];
  const size_t row = ((size_t)b * H + h) * L;
  const IO* xr = x + row;
  // pack: z[m] = x[2m] + i x[2m+1] (zero past L)
  const bool vec = (L & 7) == 0 && (reinterpret_cast<uintptr_t>(x) & 15) == 0 && (reinterpret_cast<uintptr_t>(out) & 15) == 0;
  if (vec) {
    for (int v = threadIdx.x; v < M / 4; v += T) {   // 4 points = 8 values = 16 bytes
      const int m = 4 * v;
      if (2 * m < L) {
        const uint4 w = *reinterpret_cast<const uint4*>(xr + 2 * m);
        const IO* e = reinterpret_cast<const IO*>(&w);
#pragma unroll
        for (int i = 0; i < 4; ++i) { st(zr + SIDX(m + i), ld(e + 2 * i)); st(zi + SIDX(m + i), ld(e + 2 * i + 1)); }
      } else {
#pragma unroll
        for (int i = 0; i < 4; ++i) { st(zr + SIDX(m + i), 0.f); st(zi + SIDX(m + i), 0.f); }
      }
    }
  } else {
    for (int m = threadIdx.x; m < M; m += T) {
      st(zr + SIDX(m), 2 * m < L ? ld(xr + 2 * m) : 0.f);
      st(zi + SIDX(m), 2 * m + 1 < L ? ld(xr + 2 * m + 1) : 0.f);
    }
  }
  __syncthreads();
  // forward chain: stage 1, radix-16 stages 2 .. J-1 (strided), stage J (contiguous); each carries 1/R_s
  pm_first<BF16, true, ST>(tw, mats, s1, zr, zi, log2M, lR1, 1.0f / (float)R1);
  __syncthreads();
  for (int s = 2; s < J; ++s) {
    pm_stage_a<BF16, true, ST>(tw, mats + q1 + 256 * (s - 2), zr, zi, 4 * (J - s), 1 << (4 * (s - 1) - 4 + lR1), 1.0f / 16.0f);
    __syncthreads();
  }
  pm_stage_b<BF16, ST>(mats + q1 + 256 * (J - 2), zr, zi, M, 1.0f / 16.0f);
  __syncthreads();
  // the pair map, in place: the thread of position p does the pair {p, s(p)} when p <= s(p)
  const float4* c = pq + (size_t)h * M;
  for (int p = threadIdx.x; p < M; p += T) {
    const int q = pm_pos((M - pm_freq(p, lR1, J)) & (M - 1), lR1, J);
    if (q < p) continue;
    const float4 cp = c[p], cq = c[q];
    const float ar = ld(zr + SIDX(p)), ai = ld(zi + SIDX(p)), br = ld(zr + SIDX(q)), bi = ld(zi + SIDX(q));
    // C'[p] = P_p C[p] + Q_p conj(C[q]);  C'[q] = P_q C[q] + Q_q conj(C[p])
    const float pr = cp.x * ar - cp.y * ai + cp.z * br + cp.w * bi, pi = cp.x * ai + cp.y * ar - cp.z * bi + cp.w * br;
    const float qr = cq.x * br - cq.y * bi + cq.z * ar + cq.w * ai, qi = cq.x * bi + cq.y * br - cq.z * ai + cq.w * ar;
    st(zr + SIDX(p), pr); st(zi + SIDX(p), pi);
    if (q != p) { st(zr + SIDX(q), qr); st(zi + SIDX(q), qi); }
  }
  __syncthreads();
  // inverse chain: stage J (contiguous, T_J = 1), stages J-1 .. 2 (conj twiddle, then the matrix), stage 1
  const float2* im = mats + inv;
  pm_stage_b<BF16, ST>(im + q1 + 256 * (J - 2), zr, zi, M, 1.0f);
  __syncthreads();
  for (int s = J - 1; s >= 2; --s) {
    pm_stage_a<BF16, false, ST>(tw, im + q1 + 256 * (s - 2), zr, zi, 4 * (J - s), 1 << (4 * (s - 1) - 4 + lR1), 1.0f);
    __syncthreads();
  }
  pm_first<BF16, false, ST>(tw, im, s1 + q1, zr, zi, log2M, lR1, 1.0f);
  __syncthreads();
  // unpack + skip: out[2m] = Re E[m] + D x[2m], out[2m+1] = Im E[m] + D x[2m+1], indices < L
  const float d = D[h];
  IO* o = out + row;
  if (vec) {
    for (int v = threadIdx.x; v < L / 8; v += T) {
      const int m = 4 * v;
      const uint4 w = *reinterpret_cast<const uint4*>(xr + 2 * m);
      const IO* e = reinterpret_cast<const IO*>(&w);
      uint4 r;
      IO* f = reinterpret_cast<IO*>(&r);
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        st(f + 2 * i, fmaf(d, ld(e + 2 * i), ld(zr + SIDX(m + i))));
        st(f + 2 * i + 1, fmaf(d, ld(e + 2 * i + 1), ld(zi + SIDX(m + i))));
      }
      *reinterpret_cast<uint4*>(o + 2 * m) = r;
    }
  } else {
    for (int i = threadIdx.x; i < L; i += T) {
      const int m = i >> 1;
      st(o + i, fmaf(d, ld(xr + i), (i & 1) ? ld(zi + SIDX(m)) : ld(zr + SIDX(m))));
    }
  }
}

// The left forms of lib's 2J blocks (blk: {F_1 .. F_J, G_J .. G_1}, fp32 complex (R_s, R_s) row-major, back to back;
// R_1 = 2^lR1, R_s = 16): mats = {F_1, F_2^T .. F_J^T, G_1, G_2^T .. G_J^T} (stage 1 multiplies on the left, stages
// s >= 2 on the right: X F = (F^T X^T)^T), adj = the adjoint's {G_1^H, conj(G_2) .. conj(G_J), F_1^H, conj(F_2) ..
// conj(F_J)} (blocks G_s^H in the forward-structured chain, F_s^H in the inverse-structured one; (B^H)^T = conj(B)).
// Grid ceil(2 Q / 256), block 256; Q = R_1^2 + 256 (J - 1) elements per chain.
extern "C" __global__ void __launch_bounds__(256) lpm_prep(const float2* __restrict__ blk, float2* __restrict__ mats,
                                                           float2* __restrict__ adj, int lR1, int J) {
  const int q1 = 1 << (2 * lR1), Q = q1 + 256 * (J - 1);
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= 2 * Q) return;
  const int half = i >= Q, e0 = i - half * Q;
  const int s = e0 < q1 ? 1 : 2 + (e0 - q1) / 256;
  const int lR = s == 1 ? lR1 : 4, e = s == 1 ? e0 : (e0 - q1) & 255;
  const int k = e >> lR, n = e & ((1 << lR) - 1);
  const int offF = s == 1 ? 0 : q1 + 256 * (s - 2), offG = Q + 256 * (J - s);   // F_s, G_s in blk
  const int kn = (k << lR) + n, nk = (n << lR) + k;
  // forward: half 0 from F_s, half 1 from G_s; adjoint: half 0 from G_s, half 1 from F_s
  const float2 a = blk[(half ? offG : offF) + (s == 1 ? kn : nk)];
  const float2 b = blk[(half ? offF : offG) + (s == 1 ? nk : kn)];
  mats[i] = a;
  adj[i] = make_float2(b.x, -b.y);
}

// Grid (B, H): blocks of one channel adjacent in launch order (its P / Q read from HBM once, then from L2); block
// 256 .. 512 threads (a multiple of 32); dynamic shared memory pm_smem(log2M, sizeof(ST)).
#define LPM(NAME, BF, IO, ST)                                                                                        \
  extern "C" __global__ void __launch_bounds__(512, 1) NAME(const IO* __restrict__ x, const float2* __restrict__ mats, \
      const float4* __restrict__ pq, const float* __restrict__ D, IO* __restrict__ out, int H, int L, int log2M) {    \
    pm_conv<BF, IO, ST>(x, mats, pq, D, out, H, L, log2M);                                                           \
  }
// name: lpm_forward_<io>_<shared-memory storage: s32 fp32 planes (M <= 16384), s16 16-bit planes (M <= 32768)>
LPM(lpm_forward_bf16_s32, true, __nv_bfloat16, float)
LPM(lpm_forward_f16_s32, false, __half, float)
LPM(lpm_forward_bf16_s16, true, __nv_bfloat16, __nv_bfloat16)
LPM(lpm_forward_f16_s16, false, __half, __half)
