// Global <-> shared-memory phases of a batch pair, shared by the fused FlashButterfly kernels (forward and backward).
// Shapes: B batch, H channels, L length, N FFT size; rows p0 = u[b], p1 = u[b+1] of (B, H, L) (p1 absent for the last
// row of an odd B); (zr, zi) the two planes of z = u[b] + i u[b+1] in shared memory (SIDX layout of monarch.cuh).
#pragma once
#include "monarch.cuh"

// (y0, y1)[n] = (zr, zi)[n] + d * (p0, p1)[n] for n < L (y1, p1 only when two): the crop, the skip term and the
// store of a batch pair. U loads in flight per thread, as in load_pair.
template <typename IO, typename ST>
__device__ __forceinline__ void store_pair(IO* y0, IO* y1, const ST* zr, const ST* zi, const IO* p0, const IO* p1, float d,
                                           int L, bool two) {
  constexpr int U = 8;
  const int T = blockDim.x;
  for (int n0 = threadIdx.x; n0 < L; n0 += U * T) {
    float a[U], b[U];
#pragma unroll
    for (int j = 0; j < U; ++j) {
      const int n = n0 + j * T;
      a[j] = n < L ? ld(p0 + n) : 0.f;
      b[j] = (two && n < L) ? ld(p1 + n) : 0.f;
    }
#pragma unroll
    for (int j = 0; j < U; ++j) {
      const int n = n0 + j * T;
      if (n < L) {
        st(y0 + n, fmaf(d, a[j], ld(zr + SIDX(n))));
        if (two) st(y1 + n, fmaf(d, b[j], ld(zi + SIDX(n))));
      }
    }
  }
}

// (zr, zi)[n] = (p0[n], p1[n]) for n < Lin, zero up to N (p1 == nullptr: zero). U loads in flight per thread:
// latency, not bandwidth, bounded the global phases with one.
template <typename IO, typename ST>
__device__ __forceinline__ void load_pair(ST* zr, ST* zi, const IO* p0, const IO* p1, int Lin, int N) {
  constexpr int U = 8;
  const int T = blockDim.x;
  for (int n0 = threadIdx.x; n0 < N; n0 += U * T) {
    float a[U], b[U];
#pragma unroll
    for (int j = 0; j < U; ++j) {
      const int n = n0 + j * T;
      a[j] = n < Lin ? ld(p0 + n) : 0.f;
      b[j] = (p1 != nullptr && n < Lin) ? ld(p1 + n) : 0.f;
    }
#pragma unroll
    for (int j = 0; j < U; ++j) {
      const int n = n0 + j * T;
      if (n < N) { st(zr + SIDX(n), a[j]); st(zi + SIDX(n), b[j]); }
    }
  }
}
