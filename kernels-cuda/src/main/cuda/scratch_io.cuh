// Complex scratch elements of the three-pass FlashButterfly (flashbutterfly3.cu, flashbutterfly3_bwd.cu): S (pairs, H, N)
// of float2, or (re, im) as bf16x2 / half2; a row = M contiguous elements; (zr, zi) shared-memory planes (SIDX layout).
// Element-wise row accessors (load_row, store_row) and 16-byte ones (load_row16, store_row16: the forward middle).
#pragma once
#include "monarch.cuh"

// Complex scratch elements: float2, or (re, im) as bf16x2 / half2.
__device__ __forceinline__ float2 ldc(const float2* p) { return *p; }
__device__ __forceinline__ float2 ldc(const __nv_bfloat162* p) { return __bfloat1622float2(*p); }
__device__ __forceinline__ float2 ldc(const __half2* p) { return __half22float2(*p); }
__device__ __forceinline__ void stc(float2* p, float a, float b) { *p = make_float2(a, b); }
__device__ __forceinline__ void stc(__nv_bfloat162* p, float a, float b) { *p = __floats2bfloat162_rn(a, b); }
__device__ __forceinline__ void stc(__half2* p, float a, float b) { *p = __floats2half2_rn(a, b); }
// Two adjacent complex elements (p 2-element aligned).
__device__ __forceinline__ void ldc2(const float2* p, float2& a, float2& b) {
  const float4 v = *reinterpret_cast<const float4*>(p); a = make_float2(v.x, v.y); b = make_float2(v.z, v.w);
}
template <typename SC>
__device__ __forceinline__ void ldc2(const SC* p, float2& a, float2& b) {   // 16-bit pairs: one 8-byte load
  const uint2 v = *reinterpret_cast<const uint2*>(p);
  a = ldc(reinterpret_cast<const SC*>(&v.x)); b = ldc(reinterpret_cast<const SC*>(&v.y));
}
__device__ __forceinline__ void stc2(float2* p, float a, float b, float c, float d) {
  *reinterpret_cast<float4*>(p) = make_float4(a, b, c, d);
}
template <typename SC>
__device__ __forceinline__ void stc2(SC* p, float a, float b, float c, float d) {
  SC v[2]; stc(&v[0], a, b); stc(&v[1], c, d);
  *reinterpret_cast<uint2*>(p) = *reinterpret_cast<const uint2*>(v);
}

// (zr, zi)[n] = row[n], n < M (after which the caller syncs).
template <typename SC, typename ST>
__device__ __forceinline__ void load_row(ST* zr, ST* zi, const SC* __restrict__ row, int M) {
  for (int n = threadIdx.x; n < M; n += blockDim.x) {
    const float2 v = ldc(row + n);
    st(zr + SIDX(n), v.x); st(zi + SIDX(n), v.y);
  }
}

// row[n] = (zr, zi)[n], n < M.
template <typename SC, typename ST>
__device__ __forceinline__ void store_row(SC* __restrict__ row, const ST* zr, const ST* zi, int M) {
  for (int n = threadIdx.x; n < M; n += blockDim.x) stc(row + n, ld(zr + SIDX(n)), ld(zi + SIDX(n)));
}

// 16-byte row accesses (the forward's middle, round 8d; the backward's fb3b_mid has its own, load_two_v /
// store_row_v): V = 16 / sizeof(SC) complex elements per access (4 of bf16x2 / half2, 2 of float2). The row must be
// 16-byte aligned and M a multiple of V (M >= 32 is); the caller checks the alignment and else uses load_row.
// Whether scratch pairs SC hold the planes' 16-bit type ST ((re, im) as bf16x2 with bf16 planes, half2 with half): then rows
// and planes trade bits by byte permutes, (re0 im0)(re1 im1) <-> (re0 re1)(im0 im1), with no fp32 round trip (session 25; the
// same bits, since fp32 -> 16-bit rounding of a 16-bit value is exact).
template <typename SC, typename ST> __host__ __device__ constexpr bool same16() {
  return (std::is_same<SC, __nv_bfloat162>::value && std::is_same<ST, __nv_bfloat16>::value)
         || (std::is_same<SC, __half2>::value && std::is_same<ST, __half>::value);
}

template <typename SC, typename ST>
__device__ __forceinline__ void unpack16(ST* zr, ST* zi, const uint4 a, int n) {   // a by value: in registers
  constexpr int V = 16 / sizeof(SC);
  const SC* e = reinterpret_cast<const SC*>(&a);
  if constexpr (pairs16<ST>() && same16<SC, ST>()) {   // n + j even: elements n + j, n + j + 1 in one word
    const uint32_t w[4] = {a.x, a.y, a.z, a.w};
#pragma unroll
    for (int j = 0; j < V; j += 2) {
      *reinterpret_cast<uint32_t*>(zr + SIDX(n + j)) = __byte_perm(w[j], w[j + 1], 0x5410);
      *reinterpret_cast<uint32_t*>(zi + SIDX(n + j)) = __byte_perm(w[j], w[j + 1], 0x7632);
    }
  } else if constexpr (pairs16<ST>() && V % 2 == 0) {
#pragma unroll
    for (int j = 0; j < V; j += 2) {
      const float2 x = ldc(e + j), y = ldc(e + j + 1);
      st_pair(zr + SIDX(n + j), x.x, y.x); st_pair(zi + SIDX(n + j), x.y, y.y);
    }
  } else {
#pragma unroll
    for (int j = 0; j < V; ++j) { const float2 x = ldc(e + j); st(zr + SIDX(n + j), x.x); st(zi + SIDX(n + j), x.y); }
  }
}

// (zr, zi)[n] = row[n], n < M: per thread up to U = 4 loads (predicated at the row's end) issued before their
// shared-memory stores (four times the bytes in flight of one 16-byte load; 16 of the 64-register budget at 1024
// threads, before the FFT needs them).
template <typename SC, typename ST>
__device__ __forceinline__ void load_row16(ST* zr, ST* zi, const SC* __restrict__ row, int M) {
  constexpr int V = 16 / sizeof(SC), U = 4;
  const uint4* src = reinterpret_cast<const uint4*>(row);
  const int nv = M / V, T = blockDim.x;
  for (int i = threadIdx.x; i < nv; i += U * T) {
    uint4 a[U];
#pragma unroll
    for (int u = 0; u < U; ++u) if (i + u * T < nv) a[u] = src[i + u * T];
#pragma unroll
    for (int u = 0; u < U; ++u) if (i + u * T < nv) unpack16<SC>(zr, zi, a[u], V * (i + u * T));
  }
}

// row[n] = (zr, zi)[n], n < M, one 16-byte store per V elements.
template <typename SC, typename ST>
__device__ __forceinline__ void store_row16(SC* __restrict__ row, const ST* zr, const ST* zi, int M) {
  constexpr int V = 16 / sizeof(SC);
  union Pack { uint4 u; SC e[V]; };
  uint4* dst = reinterpret_cast<uint4*>(row);
  for (int i = threadIdx.x; i < M / V; i += blockDim.x) {
    Pack pk;
    if constexpr (pairs16<ST>() && same16<SC, ST>()) {   // V i + j even: one word a plane for j, j + 1
      uint32_t w[4];
#pragma unroll
      for (int j = 0; j < V; j += 2) {
        const uint32_t r = *reinterpret_cast<const uint32_t*>(zr + SIDX(V * i + j)), m = *reinterpret_cast<const uint32_t*>(zi + SIDX(V * i + j));
        w[j] = __byte_perm(r, m, 0x5410); w[j + 1] = __byte_perm(r, m, 0x7632);
      }
      pk.u = make_uint4(w[0], w[1], w[2], w[3]);
    } else if constexpr (pairs16<ST>() && V % 2 == 0) {
#pragma unroll
      for (int j = 0; j < V; j += 2) {
        const float2 r = ld_pair(zr + SIDX(V * i + j)), m = ld_pair(zi + SIDX(V * i + j));
        stc(&pk.e[j], r.x, m.x); stc(&pk.e[j + 1], r.y, m.y);
      }
    } else {
#pragma unroll
      for (int j = 0; j < V; ++j) stc(&pk.e[j], ld(zr + SIDX(V * i + j)), ld(zi + SIDX(V * i + j)));
    }
    dst[i] = pk.u;
  }
}
