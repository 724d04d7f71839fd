// Device-side random fill (benchmarks and large tests: no host-side generation or upload of gigabytes).
// Shapes: x (n) of fp32, bf16 or fp16.  x[i] = scale * (2 * U(seed, i) - 1), U uniform in [0, 1) from
// splitmix64(seed + i), so the same (seed, i) always gives the same value on any device.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

__device__ __forceinline__ float uniform_pm1(uint64_t seed, uint64_t i) {
  uint64_t z = seed + (i + 1) * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return (float)(z >> 40) * (2.0f / 16777216.0f) - 1.0f;
}

extern "C" __global__ void fill_uniform_f32(float* x, long long n, unsigned long long seed, float scale) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    x[i] = scale * uniform_pm1(seed, i);
}
extern "C" __global__ void fill_uniform_bf16(__nv_bfloat16* x, long long n, unsigned long long seed, float scale) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    x[i] = __float2bfloat16_rn(scale * uniform_pm1(seed, i));
}
extern "C" __global__ void fill_uniform_f16(__half* x, long long n, unsigned long long seed, float scale) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    x[i] = __float2half_rn(scale * uniform_pm1(seed, i));
}
