// Fused softmax cross-entropy over the rows of logits, forward and backward side by side.
// Shapes: x (rows, V) contiguous from xo; t (rows) int32 targets (ignore: the row is skipped); lse, loss (rows) f64.
//   xent_fwd_T: per row (one warp): m = max_j x, lse = m + log(sum_j exp(x - m)) (f64);
//               loss[r] = (lse - x[t]) * scale, 0 for an ignored row (scale = 1 / count of kept rows).
//               The mean loss is then reduce.cu's split sum of loss (f64 partials -> T).
//   xent_bwd_T: dx[r, j] = g * scale * (exp(x - lse) - [j == t]), 0 for an ignored row (g: the scalar dL/dloss).
// Java twin: the composed cross-entropy (log-softmax, one-hot product, mean) in Composite.
#include "ewcommon.cuh"

__device__ __forceinline__ double warp_all_max(double v) {
#pragma unroll
  for (int m = 16; m > 0; m >>= 1) v = fmax(v, __shfl_xor_sync(0xffffffffu, v, m));
  return v;
}

__device__ __forceinline__ double warp_all_add(double v) {
#pragma unroll
  for (int m = 16; m > 0; m >>= 1) v += __shfl_xor_sync(0xffffffffu, v, m);
  return v;
}

template <typename T>
__device__ void xent_fwd(const T* x, int xo, const int* t, int ignore, int rows, int v, double scale, double* lse,
                         double* loss) {
  const int lane = threadIdx.x & 31, wpb = blockDim.x >> 5;
  for (long long r = (long long)blockIdx.x * wpb + (threadIdx.x >> 5); r < rows; r += (long long)gridDim.x * wpb) {
    const T* p = x + xo + r * v;
    double m = -INFINITY;
    for (int j = lane; j < v; j += 32) m = fmax(m, (double)ld(p, j));
    m = warp_all_max(m);
    double s = 0;
    for (int j = lane; j < v; j += 32) s += exp((double)ld(p, j) - m);
    const double l = m + log(warp_all_add(s));
    if (lane == 0) {
      const int tr = t[r];
      lse[r] = l;
      loss[r] = tr == ignore ? 0.0 : (l - (double)ld(p, tr)) * scale;
    }
  }
}

template <typename T>
__device__ void xent_bwd(const T* x, int xo, const int* t, int ignore, int rows, int v, double scale, const double* lse,
                         const T* g, int go, T* dx) {
  const double gs = (double)ld(g + go, 0) * scale;
  EW_FOR((long long)rows * v) {
    const int r = (int)(_i / v), j = (int)(_i % v);
    const int tr = t[r];
    const double d = tr == ignore ? 0.0 : gs * (exp((double)ld(x + xo, (int)_i) - lse[r]) - (j == tr ? 1.0 : 0.0));
    st(dx, (int)_i, d);
  }
}

#define XENT_PER_TYPE(tag, T)                                                                                     \
  extern "C" __global__ void xent_fwd_##tag(const T* x, int xo, const int* t, int ignore, int rows, int v,        \
                                            double scale, double* lse, double* loss) {                            \
    xent_fwd(x, xo, t, ignore, rows, v, scale, lse, loss); }                                                      \
  extern "C" __global__ void xent_bwd_##tag(const T* x, int xo, const int* t, int ignore, int rows, int v,        \
                                            double scale, const double* lse, const T* g, int go, T* dx) {         \
    xent_bwd(x, xo, t, ignore, rows, v, scale, lse, g, go, dx); }
XENT_PER_TYPE(f64, double)
XENT_PER_TYPE(f32, float)
XENT_PER_TYPE(bf16, __nv_bfloat16)
XENT_PER_TYPE(f16, __half)
