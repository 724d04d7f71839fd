// FlashButterfly causal forward at N = 2M in ONE fused pass: M = 32K points in shared memory, N = 64K (16K < L <= 32K).
// Shapes: B batch, H channels, L sequence length (L <= M), N = 2M FFT size, M the in-shared-memory FFT size.
//   u, y : (B, H, L) row-major, element type IO (fp32, bf16 or fp16); y must not alias u.
//   kf32 : (H, N) float2, kf32[h][j*M + p] = K[j + 2*q(p)], j in {0, 1}, q(p) the frequency at Monarch position p of
//          an M-point FFT (monarch.cuh); made by fb32_spectrum from the plan's three-pass spectrum (any inner size M3).
//   D    : (H) fp32.
// Math (flashbutterfly3.cu's three passes with N1 = 2): the packed row z = u[b] + i u[b+1] read as A[n1][m] = z[M n1 + m]
// has A[1][m] = 0 (causal zero padding, L <= M), so the outer butterfly needs no other data:
//   X[j + 2 k2] = FFT_M(z * w_N^(j m))[k2]   (w_N = exp(-2 pi i / N)),
// and the outputs n = m < L <= M need only n1 = 0 of the inverse:
//   y[m] = 1/2 sum_j w_N^(-j m) C_j[m],   C_j = IFFT_M(FFT_M(z w_N^(j m)) * K[j + 2 .])   (IFFT_M with 1/M).
// One block per (batch pair, channel) runs j = 0 and j = 1 in turn with monarch.cuh's conv_smem (the two-stages-per-warp
// scheme of the _w2 kernels; 16-bit shared memory). The load multiplies by 1/2 (and w_N^m for j = 1); after j = 0 the
// partial 1/2 C0 goes to y itself (Re to y[b], Im to y[b+1]): exact, as the shared memory holds it in the 16-bit compute
// type and y is that type or fp32 (1/2 is a power of two), so no rounding is added and no scratch is needed. After j = 1:
// y = partial + Re/Im(w_N^(-m) * 1/2 C1[m]) + D u, rounded once. flags bit 1: conj(K) (the adjoint, du = K^T dy + D dy:
// the same padding structure); bit 4 (the _w3 kernels): round 9c-1's global phases (fewer loads in flight, the twin).
// Shared memory as the fused kernel at M: 2 (M + M/32) 16-bit values, the twiddle table of
// monarch.cuh and pair_table_bytes(M).
#include "monarch.cuh"
#include "monarch_outer.cuh"

// 16-byte global accesses: V = 16 / sizeof(IO) elements (4 fp32, 8 bf16 / fp16).
template <typename IO> struct V16 { static constexpr int V = 16 / sizeof(IO); };
__device__ __forceinline__ void v_unpack(const uint4& q, float* f, const float*) {
  f[0] = __uint_as_float(q.x); f[1] = __uint_as_float(q.y); f[2] = __uint_as_float(q.z); f[3] = __uint_as_float(q.w);
}
__device__ __forceinline__ void v_unpack(const uint4& q, float* f, const __nv_bfloat16*) {
  const uint32_t w[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) { f[2 * i] = __uint_as_float(w[i] << 16); f[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u); }
}
__device__ __forceinline__ void v_unpack(const uint4& q, float* f, const __half*) {
  const uint32_t w[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 v = __half22float2(*reinterpret_cast<const __half2*>(&w[i]));
    f[2 * i] = v.x; f[2 * i + 1] = v.y;
  }
}
__device__ __forceinline__ uint4 v_pack(const float* f, const float*) {
  return make_uint4(__float_as_uint(f[0]), __float_as_uint(f[1]), __float_as_uint(f[2]), __float_as_uint(f[3]));
}
__device__ __forceinline__ uint4 v_pack(const float* f, const __nv_bfloat16*) {
  return make_uint4(pack2<true>(f[0], f[1]), pack2<true>(f[2], f[3]), pack2<true>(f[4], f[5]), pack2<true>(f[6], f[7]));
}
__device__ __forceinline__ uint4 v_pack(const float* f, const __half*) {
  return make_uint4(pack2<false>(f[0], f[1]), pack2<false>(f[2], f[3]), pack2<false>(f[4], f[5]), pack2<false>(f[6], f[7]));
}

// f[i] = p[n + i] for n + i < L, else 0 (i < V). vec: one 16-byte load (L % V == 0 and 16-byte aligned rows: a group
// starting below L lies wholly below it). CG: through L2 only (the partial written by this block).
template <typename IO, bool CG = false>
__device__ __forceinline__ void load_v(const IO* p, int n, int L, bool vec, float* f) {
  constexpr int V = V16<IO>::V;
  if (vec) {
    if (n < L) {
      const uint4* a = reinterpret_cast<const uint4*>(p + n);
      v_unpack(CG ? __ldcg(a) : *a, f, p);
    } else {
#pragma unroll
      for (int i = 0; i < V; ++i) f[i] = 0.f;
    }
  } else {
#pragma unroll
    for (int i = 0; i < V; ++i) f[i] = n + i < L ? ld(p + n + i) : 0.f;
  }
}

// p[n + i] = f[i] for n + i < L (as load_v). CG: cached in L2 only (the partial, read back by this block).
template <typename IO, bool CG = false>
__device__ __forceinline__ void store_v(IO* p, int n, int L, bool vec, const float* f) {
  constexpr int V = V16<IO>::V;
  if (vec) {
    if (n < L) {
      uint4* a = reinterpret_cast<uint4*>(p + n);
      const uint4 q = v_pack(f, p);
      if (CG) __stcg(a, q); else *a = q;
    }
  } else {
#pragma unroll
    for (int i = 0; i < V; ++i) if (n + i < L) st(p + n + i, f[i]);
  }
}

// The rows of batch pair (b0, b0 + 1) and channel h: row pointers recomputed from the kernel parameters in each phase, so
// that nothing but the planes lives across the convolutions (the two-stages-per-warp stages use the 80 registers).
// VOL (the _w3 kernels): the block indices read through volatile asm, so that ptxas cannot hoist the row pointers out of
// the loop over the two convolutions either (it did, and spilled 4-12 bytes around the column units at 128 registers).
template <bool VOL> __device__ __forceinline__ int cta_x32() {
  if (!VOL) return blockIdx.x;
  int v; asm volatile("mov.u32 %0, %%ctaid.x;" : "=r"(v)); return v;
}
template <bool VOL> __device__ __forceinline__ int cta_y32() {
  if (!VOL) return blockIdx.y;
  int v; asm volatile("mov.u32 %0, %%ctaid.y;" : "=r"(v)); return v;
}
template <typename IO, bool VOL = false>
struct Rows {
  const IO* u0; const IO* u1; IO* y0; IO* y1; bool two, vec;
  __device__ __forceinline__ Rows(const IO* u, IO* y, int B, int H, int L) {
    const int b0 = 2 * cta_x32<VOL>(), h = cta_y32<VOL>();
    two = b0 + 1 < B;
    u0 = u + ((size_t)b0 * H + h) * L; u1 = u0 + (size_t)H * L;
    y0 = y + ((size_t)b0 * H + h) * L; y1 = y0 + (size_t)H * L;
    vec = L % V16<IO>::V == 0 && (reinterpret_cast<uintptr_t>(u) & 15) == 0 && (reinterpret_cast<uintptr_t>(y) & 15) == 0;
  }
};

// (zr, zi)[n] = z[n] w_N^(j n) / 2 for n < M, z = u[b0] + i u[b0+1], zero from L on.
// G groups of V per thread in flight: 2 for 16-bit I/O (fp32 I/O keeps 1: with 2 ptxas spilled 4 bytes at 128 registers).
template <typename IO, typename ST, bool VOL = false, int G = sizeof(IO) == 2 ? 2 : 1>
__device__ __forceinline__ void fb32_load(ST* zr, ST* zi, const IO* u, IO* y, int B, int H, int L, int log2M, int j) {
  constexpr int V = V16<IO>::V;
  const Rows<IO, VOL> r(u, y, B, H, L);
  const int M = 1 << log2M;
  float w1r, w1i;   // w_N^1 = exp(-i pi / M): the recurrence step within a group of V (<= 7 products: a few ulp)
  sincospif(-1.0f / (float)M, &w1i, &w1r);
  const int step = blockDim.x * V;
  for (int n0 = threadIdx.x * V; n0 < M; n0 += G * step) {
    float a[G][V], b[G][V];
#pragma unroll
    for (int g = 0; g < G; ++g) {
      const int n = n0 + g * step;   // from L on (and from M on) load_v reads nothing and gives zeros
      load_v(r.u0, n, L, r.vec, a[g]);
      if (r.two) load_v(r.u1, n, L, r.vec, b[g]);
      else {
#pragma unroll
        for (int i = 0; i < V; ++i) b[g][i] = 0.f;
      }
    }
#pragma unroll
    for (int g = 0; g < G; ++g) {
      const int n = n0 + g * step;
      if (n >= M) break;
      float cr = 0.5f, ci = 0.f;
      if (j) { sincospif(-(float)n / (float)M, &ci, &cr); cr *= 0.5f; ci *= 0.5f; }   // n / M exact
#pragma unroll
      for (int i = 0; i < V; ++i) {
        st(zr + SIDX(n + i), a[g][i] * cr - b[g][i] * ci);
        st(zi + SIDX(n + i), a[g][i] * ci + b[g][i] * cr);
        if (j) { const float q = cr * w1r - ci * w1i; ci = cr * w1i + ci * w1r; cr = q; }
      }
    }
  }
}

// After j = 0: the partial 1/2 C0, Re -> y[b0], Im -> y[b0+1] (exact, see the header).
template <typename IO, typename ST, bool VOL = false>
__device__ __forceinline__ void fb32_partial(const ST* zr, const ST* zi, const IO* u, IO* y, int B, int H, int L) {
  constexpr int V = V16<IO>::V;
  const Rows<IO, VOL> r(u, y, B, H, L);
  for (int n = threadIdx.x * V; n < L; n += blockDim.x * V) {
    float a[V], b[V];
#pragma unroll
    for (int i = 0; i < V; ++i) { a[i] = ld(zr + SIDX(n + i)); b[i] = ld(zi + SIDX(n + i)); }
    store_v<IO, true>(r.y0, n, L, r.vec, a);
    if (r.two) store_v<IO, true>(r.y1, n, L, r.vec, b);
  }
}

// After j = 1: y = partial + Re/Im(w_N^(-n) 1/2 C1[n]) + D u, n < L.
template <typename IO, typename ST, bool VOL = false>
__device__ __forceinline__ void fb32_finish(const ST* zr, const ST* zi, const IO* u, const float* D, IO* y, int B, int H,
                                            int L, int log2M) {
  constexpr int V = V16<IO>::V;
  const Rows<IO, VOL> r(u, y, B, H, L);
  const int M = 1 << log2M;
  const float d = D[cta_y32<VOL>()];
  float w1r, w1i;
  sincospif(-1.0f / (float)M, &w1i, &w1r);
  for (int n = threadIdx.x * V; n < L; n += blockDim.x * V) {
    float p0[V], p1[V], a[V], b[V];
    load_v<IO, true>(r.y0, n, L, r.vec, p0);
    load_v(r.u0, n, L, r.vec, a);
    if (r.two) { load_v<IO, true>(r.y1, n, L, r.vec, p1); load_v(r.u1, n, L, r.vec, b); }
    float cr, ci;
    sincospif((float)n / (float)M, &ci, &cr);
#pragma unroll
    for (int i = 0; i < V; ++i) {
      const float xr = ld(zr + SIDX(n + i)), xi = ld(zi + SIDX(n + i));
      p0[i] = fmaf(d, a[i], p0[i] + (xr * cr - xi * ci));
      if (r.two) p1[i] = fmaf(d, b[i], p1[i] + (xr * ci + xi * cr));
      const float q = cr * w1r + ci * w1i; ci = ci * w1r - cr * w1i; cr = q;   // times conj(w_N^1)
    }
    store_v(r.y0, n, L, r.vec, p0);
    if (r.two) store_v(r.y1, n, L, r.vec, p1);
  }
}

// ---- the _w3 kernels' global phases with more loads in flight (round 9c-2) ----
// Round 9c-1's profile (bench-runs/f32-1, ncu): one block of 16 warps per SM has nothing to switch to while its loads are
// out; 14 % of the stall samples fell in the load phase and 20 % in partial + finish, mostly long scoreboard. Here each
// thread issues G (F) 16-byte groups per row before it unpacks any, kept packed (4 registers per group), and j = 0 skips
// the twiddle products. Rows that are not 16-byte accessible (L % V != 0, unaligned bases) take round 9c-1's functions.
// Raw group of V elements at n, zero bits from L on (0 in fp32, bf16 and fp16). CG: through L2 only (the partial).
template <typename IO, bool CG = false>
__device__ __forceinline__ uint4 load_raw(const IO* p, int n, int L) {
  if (n >= L) return make_uint4(0u, 0u, 0u, 0u);
  const uint4* a = reinterpret_cast<const uint4*>(p + n);
  return CG ? __ldcg(a) : *a;
}

template <typename IO, typename ST, int G = 4>
__device__ __forceinline__ void fb32_load_mlp(ST* zr, ST* zi, const IO* u, IO* y, int B, int H, int L, int log2M, int j) {
  constexpr int V = V16<IO>::V;
  const Rows<IO, true> r(u, y, B, H, L);
  if (!r.vec) { fb32_load<IO, ST, true>(zr, zi, u, y, B, H, L, log2M, j); return; }
  const int M = 1 << log2M, step = blockDim.x * V;
  float w1r, w1i;   // w_N^1, the recurrence step within a group (as fb32_load)
  sincospif(-1.0f / (float)M, &w1i, &w1r);
  for (int n0 = threadIdx.x * V; n0 < M; n0 += G * step) {
    uint4 qa[G], qb[G];
#pragma unroll
    for (int g = 0; g < G; ++g) {   // from L on (and from M on) zeros, nothing read
      qa[g] = load_raw(r.u0, n0 + g * step, L);
      qb[g] = r.two ? load_raw(r.u1, n0 + g * step, L) : make_uint4(0u, 0u, 0u, 0u);
    }
#pragma unroll
    for (int g = 0; g < G; ++g) {
      const int n = n0 + g * step;
      if (n >= M) break;
      float a[V], b[V];
      v_unpack(qa[g], a, r.u0);
      v_unpack(qb[g], b, r.u0);
      if (j == 0) {
#pragma unroll
        for (int i = 0; i < V; ++i) { st(zr + SIDX(n + i), 0.5f * a[i]); st(zi + SIDX(n + i), 0.5f * b[i]); }
      } else {
        float cr, ci;
        sincospif(-(float)n / (float)M, &ci, &cr);   // n / M exact
        cr *= 0.5f; ci *= 0.5f;
#pragma unroll
        for (int i = 0; i < V; ++i) {
          st(zr + SIDX(n + i), a[i] * cr - b[i] * ci);
          st(zi + SIDX(n + i), a[i] * ci + b[i] * cr);
          const float q = cr * w1r - ci * w1i; ci = cr * w1i + ci * w1r; cr = q;
        }
      }
    }
  }
}

template <typename IO, typename ST, int F = 4>
__device__ __forceinline__ void fb32_finish_mlp(const ST* zr, const ST* zi, const IO* u, const float* D, IO* y, int B,
                                                int H, int L, int log2M) {
  constexpr int V = V16<IO>::V;
  const Rows<IO, true> r(u, y, B, H, L);
  if (!r.vec) { fb32_finish<IO, ST, true>(zr, zi, u, D, y, B, H, L, log2M); return; }
  const int M = 1 << log2M, step = blockDim.x * V;
  const float d = D[cta_y32<true>()];
  float w1r, w1i;
  sincospif(-1.0f / (float)M, &w1i, &w1r);
  for (int n0 = threadIdx.x * V; n0 < L; n0 += F * step) {
    uint4 q[F][4];   // partial of row 0, u of row 0, partial of row 1, u of row 1
#pragma unroll
    for (int f = 0; f < F; ++f) {
      const int n = n0 + f * step;
      q[f][0] = load_raw<IO, true>(r.y0, n, L);
      q[f][1] = load_raw(r.u0, n, L);
      if (r.two) { q[f][2] = load_raw<IO, true>(r.y1, n, L); q[f][3] = load_raw(r.u1, n, L); }
    }
#pragma unroll
    for (int f = 0; f < F; ++f) {
      const int n = n0 + f * step;
      if (n >= L) break;
      float p0[V], p1[V], a[V], b[V];
      v_unpack(q[f][0], p0, r.u0);
      v_unpack(q[f][1], a, r.u0);
      if (r.two) { v_unpack(q[f][2], p1, r.u0); v_unpack(q[f][3], b, r.u0); }
      float cr, ci;
      sincospif((float)n / (float)M, &ci, &cr);
#pragma unroll
      for (int i = 0; i < V; ++i) {
        const float xr = ld(zr + SIDX(n + i)), xi = ld(zi + SIDX(n + i));
        p0[i] = fmaf(d, a[i], p0[i] + (xr * cr - xi * ci));
        if (r.two) p1[i] = fmaf(d, b[i], p1[i] + (xr * ci + xi * cr));
        const float t = cr * w1r + ci * w1i; ci = ci * w1r - cr * w1i; cr = t;   // times conj(w_N^1)
      }
      store_v(r.y0, n, L, true, p0);
      if (r.two) store_v(r.y1, n, L, true, p1);
    }
  }
}

// Grid (ceil(B/2), H) (the pairs of a channel adjacent: kf32[h] from L2 after the first), block a multiple of 32
// (<= 512), dynamic smem 2 (M + M/32) sizeof(ST) aligned to 16, + 8 tw_entries(M) + pair_table_bytes(M). M >= 256.
template <typename IO, int CM, typename ST>
__device__ void fb32_forward(const IO* __restrict__ u, const float2* __restrict__ kf, const float* __restrict__ D,
                             IO* __restrict__ y, int B, int H, int L, int log2M, int flags) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  const int M = 1 << log2M, P = M + (M >> 5);
  ST* zr = reinterpret_cast<ST*>(smem_raw);
  ST* zi = zr + P;
  float2* tws = reinterpret_cast<float2*>(smem_raw + ((2 * P * (int)sizeof(ST) + 15) & ~15));
  tw_init(tws, log2M);
  tw256_init(tws + tw_entries(M));
#pragma unroll 1
  for (int j = 0; j < 2; ++j) {
    fb32_load(zr, zi, u, y, B, H, L, log2M, j);
    __syncthreads();   // also orders tw_init / tw256_init before the first use
    const Tw tw{tws, tws + TW_LO, log2M};   // tw_init's table (rebuilt here: nothing of it lives across the phases)
    conv_smem<CM, ST, true>(tw, zr, zi, log2M, kf + ((size_t)blockIdx.y << (log2M + 1)) + ((size_t)j << log2M),
                            (flags & 2) ? -1.0f : 1.0f, true, tws + tw_entries(M), false);   // ends with a barrier
    if (j == 0) {
      fb32_partial(zr, zi, u, y, B, H, L);
      __syncthreads();   // the next load overwrites the planes; the partials are visible to the block after it
    } else {
      fb32_finish(zr, zi, u, D, y, B, H, L, log2M);
    }
  }
}

// Tensor-core kernels only (16-bit shared memory: fp32 planes of 32K points do not fit); two stages per warp. At most 512
// threads, so up to 128 registers: one 142 KB block per multiprocessor anyway, and under fb_conv_fwd_*_w2's 768-thread
// (80-register) bound ptxas spilled 100-360 bytes around the two convolutions and the phases between them.
#define FB32_FWD(NAME, IO, CM, ST)                                                                              \
  extern "C" __global__ void __launch_bounds__(512, 1) NAME(const IO* __restrict__ u, const float2* __restrict__ kf, \
      const float* __restrict__ D, IO* __restrict__ y, int B, int H, int L, int log2M, int flags) {               \
    fb32_forward<IO, CM, ST>(u, kf, D, y, B, H, L, log2M, flags);                                                 \
  }
// name: fb32_fwd_<io>_<compute>
FB32_FWD(fb32_fwd_f32_bf16, float, 2, __nv_bfloat16)
FB32_FWD(fb32_fwd_f32_f16, float, 1, __half)
FB32_FWD(fb32_fwd_bf16_bf16, __nv_bfloat16, 2, __nv_bfloat16)
FB32_FWD(fb32_fwd_f16_f16, __half, 1, __half)

// The _w3 variant (round 9c): each 32K-point convolution as the _w3b kernels run it (monarch_outer.cuh) instead of
// conv_smem's _w2 scheme: the first stage (radix 8, stride 4096) and the type-A stage at S = 256 as one column FFT per
// warp in registers each way (outer_pair_*_r<8>, no zero half: every point of the 32K is live here), between them
// conv256_warp_v4 (16-byte spectrum loads). Per convolution 4 shared-memory passes and 4 barriers after the load
// instead of 6 and 6 (stage_first_pair, stage_mma_a at S = 256, conv256_warp, and back). Same arguments, shared memory,
// spectrum order and arithmetic per stage (twiddles, 1/R scales) as fb32_forward; M = 32K only (the log2M argument is
// ignored on sm_90: 15).
// sm_80: fb32_forward's code (the column units spilled there, as the _w3b kernels'; the router keeps the old names there).
template <typename IO, int CM, typename ST>
__device__ void fb32_forward_w3(const IO* __restrict__ u, const float2* __restrict__ kf, const float* __restrict__ D,
                                IO* __restrict__ y, int B, int H, int L, int log2M_arg, int flags) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
  fb32_forward<IO, CM, ST>(u, kf, D, y, B, H, L, log2M_arg, flags);
#else
  constexpr int log2M = 15;   // a constant: at a runtime log2M ptxas spilled 20-32 bytes at 128 registers
  extern __shared__ __align__(16) unsigned char smem_raw[];
  const int M = 1 << log2M, P = M + (M >> 5);
  ST* zr = reinterpret_cast<ST*>(smem_raw);
  ST* zi = zr + P;
  float2* tws = reinterpret_cast<float2*>(smem_raw + ((2 * P * (int)sizeof(ST) + 15) & ~15));
  tw_init(tws, log2M);
  tw256_init(tws + tw_entries(M));
  // The finish is outside the loop over j, so that nothing the loop keeps (values ptxas hoists out of it) is live there;
  // fp16 I/O unrolls the loop (else ptxas spilled 4 bytes), the others do not (unrolled, fp32 I/O spilled 4 bytes).
  constexpr int UNROLL_J = std::is_same<IO, __half>::value ? 2 : 1;
#pragma unroll UNROLL_J
  for (int j = 0; j < 2; ++j) {
    if (flags & 16) fb32_load<IO, ST, true>(zr, zi, u, y, B, H, L, log2M, j);   // round 9c-1's global phases
    else fb32_load_mlp<IO, ST>(zr, zi, u, y, B, H, L, log2M, j);
    __syncthreads();   // also orders tw_init / tw256_init before the first use
    const Tw tw{tws, tws + TW_LO, log2M};
    outer_pair_fwd_r<8, CM == 2, false, ST>(tw, zr, zi, log2M);
    __syncthreads();
    conv256_warp_v4<CM == 2>(tw, tws + tw_entries(M), zr, zi, M, 1.0f / 16.0f,
                             kf + ((size_t)cta_y32<true>() << (log2M + 1)) + ((size_t)j << log2M), (flags & 2) ? -1.0f : 1.0f);
    __syncthreads();
    outer_pair_inv_r<8, CM == 2, false, ST>(tw, zr, zi, log2M);
    __syncthreads();
    if (j == 1) break;
    fb32_partial<IO, ST, true>(zr, zi, u, y, B, H, L);
    __syncthreads();   // the next load overwrites the planes; the partials are visible to the block after it
  }
  if (flags & 16) fb32_finish<IO, ST, true>(zr, zi, u, D, y, B, H, L, log2M);
  else fb32_finish_mlp<IO, ST>(zr, zi, u, D, y, B, H, L, log2M);
#endif
}
#define FB32_FWD_W3(NAME, IO, CM, ST)                                                                           \
  extern "C" __global__ void __launch_bounds__(512, 1) NAME(const IO* __restrict__ u, const float2* __restrict__ kf, \
      const float* __restrict__ D, IO* __restrict__ y, int B, int H, int L, int log2M, int flags) {               \
    fb32_forward_w3<IO, CM, ST>(u, kf, D, y, B, H, L, log2M, flags);                                              \
  }
// name: fb32_fwd_<io>_<compute>_w3
FB32_FWD_W3(fb32_fwd_f32_bf16_w3, float, 2, __nv_bfloat16)
FB32_FWD_W3(fb32_fwd_f32_f16_w3, float, 1, __half)
FB32_FWD_W3(fb32_fwd_bf16_bf16_w3, __nv_bfloat16, 2, __nv_bfloat16)
FB32_FWD_W3(fb32_fwd_f16_f16_w3, __half, 1, __half)

// The frequency q stored at Monarch position p of an M-point FFT (M = R1 16^J, monarch.cuh): p's digits, most
// significant first (R1, then 16 each), are q's digits least significant first.
__device__ __forceinline__ int monarch_freq(int p, int log2M) {
  const int J = (log2M - 1) / 4, r = log2M - 4 * J;
  int q = p >> (4 * J);
  for (int s = 2; s <= J + 1; ++s) q |= ((p >> (4 * (J + 1 - s))) & 15) << (r + 4 * (s - 2));
  return q;
}
// Its inverse: the Monarch position of frequency q.
__device__ __forceinline__ int monarch_pos(int q, int log2M) {
  const int J = (log2M - 1) / 4, r = log2M - 4 * J;
  int p = (q & ((1 << r) - 1)) << (4 * J);
  for (int s = 2; s <= J + 1; ++s) p |= ((q >> (r + 4 * (s - 2))) & 15) << (4 * (J + 1 - s));
  return p;
}

// kf32 from the three-pass spectrum kf3[h][k1*M3 + p3] = K[k1 + N1*q3(p3)] (N1 = N / M3): a gather, fp32 exact.
// Grid (N / 256, H), block 256.
extern "C" __global__ void __launch_bounds__(256) fb32_spectrum(const float2* __restrict__ kf3, float2* __restrict__ kf32,
                                                                int log2N, int log2M3) {
  const int N = 1 << log2N, log2M = log2N - 1, idx = blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= N) return;
  const int j = idx >> log2M, k = j + 2 * monarch_freq(idx & ((1 << log2M) - 1), log2M);
  const int lN1 = log2N - log2M3, k1 = k & ((1 << lN1) - 1), k2 = k >> lN1;
  const size_t row = (size_t)blockIdx.y << log2N;
  kf32[row + idx] = kf3[row + ((size_t)k1 << log2M3) + monarch_pos(k2, log2M3)];
}
