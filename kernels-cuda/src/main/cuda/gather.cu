// Embedding rows of the tensor backend, forward and backward side by side.
// Shapes: w, dw (V, D) contiguous from element wo / 0; ids (n) int32 in [0, V); out, g (n, D) contiguous.
//   gather_T:       out[r, j] = w[wo + ids[r] * D + j]              (forward)
//   scatter_add_T:  dw[ids[r] * D + j] += g[go + r * D + j]         (backward; atomics, so the summation order of
//                   repeated ids varies between runs: differences are rounding-level)
#include "ewcommon.cuh"

template <typename T>
__device__ void gather_k(const T* w, int wo, int D, const int* ids, int n, T* out) {
  EW_FOR((long long)n * D) {
    const int r = (int)(_i / D), j = (int)(_i % D);
    out[_i] = w[wo + (long long)ids[r] * D + j];
  }
}

template <typename T>
__device__ void scatter_add_k(const T* g, int go, int D, const int* ids, int n, T* dw) {
  EW_FOR((long long)n * D) {
    const int r = (int)(_i / D), j = (int)(_i % D);
    atomicAdd(dw + (long long)ids[r] * D + j, g[go + _i]);
  }
}

#define IDX_PER_TYPE(tag, T)                                                                                 \
  extern "C" __global__ void gather_##tag(const T* w, int wo, int D, const int* ids, int n, T* out) {      \
    gather_k(w, wo, D, ids, n, out); }                                                                      \
  extern "C" __global__ void scatter_add_##tag(const T* g, int go, int D, const int* ids, int n, T* dw) {  \
    scatter_add_k(g, go, D, ids, n, dw); }
IDX_PER_TYPE(f64, double)
IDX_PER_TYPE(f32, float)
IDX_PER_TYPE(bf16, __nv_bfloat16)
IDX_PER_TYPE(f16, __half)
