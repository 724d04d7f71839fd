// Counter-based dropout masks of the tensor backend (forward only: the mask is a constant of the graph, its
// gradient is the product rule of the multiply that applies it).
// Shapes: out is a flat contiguous mask of n elements (the row-major mask of a tensor of any shape).
//   dropout_mask_T:  out[i] = uniform(seed, i) >= p ? scale : 0,  uniform = top 53 bits of splitmix64's finaliser
//                    of seed + (i + 1) * 0x9E3779B97F4A7C15, times 2^-53.  T in {f64, f32, bf16, f16}.
// Java twin: ai.longconv4j.backend.DropoutMasks (value(seed, i, p, scale)); the two agree bit for bit.
#include "ewcommon.cuh"

__device__ __forceinline__ unsigned long long splitmix64(unsigned long long seed, unsigned long long i) {
  unsigned long long z = seed + (i + 1ULL) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

template <typename T>
__device__ void dropout_mask_k(T* out, long long n, unsigned long long seed, double p, double scale) {
  EW_FOR(n) {
    double u = (double)(splitmix64(seed, (unsigned long long)_i) >> 11) * 0x1.0p-53;
    st(out, (int)_i, u >= p ? scale : 0.0);
  }
}

#define DROPOUT_PER_TYPE(tag, T)                                                                           \
  extern "C" __global__ void dropout_mask_##tag(T* out, long long n, unsigned long long seed, double p,     \
                                                double scale) { dropout_mask_k(out, n, seed, p, scale); }
DROPOUT_PER_TYPE(f64, double) DROPOUT_PER_TYPE(f32, float) DROPOUT_PER_TYPE(bf16, __nv_bfloat16) DROPOUT_PER_TYPE(f16, __half)
