// Shared pieces of the tensor-backend kernels (elementwise.cu, reduce.cu, gather.cu).
// Shapes: a strided n-d view of up to EW_MAXD dims; operand k's element at index idx lives at
//   off[k] + sum_d idx[d] * st[k][d]  (element strides, may be 0 or negative).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math.h>

#define EW_MAXD 8

// Passed by value (46 ints, built by CudaKernels.meta on the host): dims, element count, shape, 4 operands.
struct Meta {
  int nd, n;
  int shape[EW_MAXD];
  int st[4][EW_MAXD];
  int off[4];
};

// Offsets of operands 0..K-1 for flat row-major index i.
template <int K>
__device__ __forceinline__ void ew_offsets(const Meta& m, int i, int* o) {
#pragma unroll
  for (int k = 0; k < K; k++) o[k] = m.off[k];
  for (int d = m.nd - 1; d >= 0; d--) {
    const int s = m.shape[d], idx = i % s;
    i /= s;
#pragma unroll
    for (int k = 0; k < K; k++) o[k] += idx * m.st[k][d];
  }
}

// Loads and stores through the compute type: double for f64, float for f32/bf16/f16.
__device__ __forceinline__ double ld(const double* p, int i) { return p[i]; }
__device__ __forceinline__ float ld(const float* p, int i) { return p[i]; }
__device__ __forceinline__ float ld(const __nv_bfloat16* p, int i) { return __bfloat162float(p[i]); }
__device__ __forceinline__ float ld(const __half* p, int i) { return __half2float(p[i]); }

__device__ __forceinline__ void st(double* p, int i, double v) { p[i] = v; }
__device__ __forceinline__ void st(float* p, int i, double v) { p[i] = (float)v; }
__device__ __forceinline__ void st(__nv_bfloat16* p, int i, double v) { p[i] = __float2bfloat16_rn((float)v); }
__device__ __forceinline__ void st(__half* p, int i, double v) { p[i] = __float2half_rn((float)v); }

template <typename T> struct Acc { typedef float type; };
template <> struct Acc<double> { typedef double type; };

#define EW_FOR(n) for (long long _i = blockIdx.x * (long long)blockDim.x + threadIdx.x; _i < (n); \
                       _i += (long long)gridDim.x * blockDim.x)
