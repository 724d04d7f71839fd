// Reductions of the tensor backend, forward and backward side by side.
// Shapes: x is contiguous from element xo, viewed as (O, R, I) = (outer, reduced, inner); out (O, I).
//   red_sum_thread_T / red_sum_block_T:  out[o,i] = sum_r x[o,r,i]   (one thread per output when I is wide or R
//                                         short; else one block per output with a shared-memory tree). f64 accumulators.
//   red_max_thread_T / red_max_block_T:  out[o,i] = max_r x[o,r,i], arg[o,i] = first r reaching it (NaN wins).
//   red_max_grad_T:                      dx (O, R, I), zero-filled by the caller: dx[o, arg[o,i], i] = g[o,i]  (backward)
//   red_arg_values_T:                    out[j] = (T) arg[j]
//   red_cols_T / red_rows_T / red_final_T: the split reduction for shapes with few outputs and a long R (bias
//                                         gradients (1, B*L, D), LayerNorm weight gradients, whole-tensor sums):
//     pass 1 cuts R into S chunks of `chunk` rows; job (o, s, tile) sums its chunk (squared when sq != 0) in f64
//       red_cols_T (I >= 32): block = 32 columns x 8 row lanes, job = (o, 32-column tile, s);
//       red_rows_T (I < 32):  block = 256 threads over one output's chunk (x[(o R + r) I + i]), warp-shuffle tree;
//       each job writes part[(o S + s) I + i] (f64), or out[o I + i] directly when part is null (S = 1);
//     pass 2 red_final_T: out[outOff + o I + i] = sum_{s < S} part[(o S + s) I + i], s in order (deterministic).
//   Java twin of the index plan: ReducePlan (kernels-cuda), tested on the CPU by ReducePlanTest.
#include "ewcommon.cuh"

#define RED_BLOCK 256

template <typename T>
__device__ void sum_thread(const T* x, int xo, int O, int R, int I, T* out) {
  EW_FOR((long long)O * I) {
    const int o = (int)(_i / I), i = (int)(_i % I);
    const T* p = x + xo + (long long)o * R * I + i;
    double s = 0;
    for (int r = 0; r < R; r++) s += (double)ld(p, r * I);
    st(out, (int)_i, s);
  }
}

template <typename T>
__device__ void sum_block(const T* x, int xo, int O, int R, int I, T* out) {
  __shared__ double part[RED_BLOCK];
  for (long long j = blockIdx.x; j < (long long)O * I; j += gridDim.x) {
    const int o = (int)(j / I), i = (int)(j % I);
    const T* p = x + xo + (long long)o * R * I + i;
    double s = 0;
    for (int r = threadIdx.x; r < R; r += blockDim.x) s += (double)ld(p, r * I);
    part[threadIdx.x] = s;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
      if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
      __syncthreads();
    }
    if (threadIdx.x == 0) st(out, (int)j, part[0]);
    __syncthreads();
  }
}

template <typename T>
__device__ void cols(const T* x, int xo, int O, int R, int I, int S, int chunk, int sq, double* part, T* out) {
  __shared__ double acc[8][33];
  const int lane = threadIdx.x & 31, ty = threadIdx.x >> 5;
  const int tiles = (I + 31) >> 5;
  const long long jobs = (long long)O * tiles * S;
  for (long long j = blockIdx.x; j < jobs; j += gridDim.x) {
    const int s = (int)(j % S), t = (int)((j / S) % tiles), o = (int)(j / ((long long)S * tiles));
    const int i = t * 32 + lane;
    const int r0 = s * chunk, r1 = min(R, r0 + chunk);
    double a = 0;
    if (i < I) {
      const T* p = x + xo + (long long)o * R * I + i;
      for (int r = r0 + ty; r < r1; r += 8) { const double v = (double)ld(p + (long long)r * I, 0); a += sq ? v * v : v; }
    }
    acc[ty][lane] = a;
    __syncthreads();
    if (ty == 0 && i < I) {
      double v = 0;
#pragma unroll
      for (int k = 0; k < 8; k++) v += acc[k][lane];
      if (part) part[((long long)o * S + s) * I + i] = v;
      else st(out, o * I + i, v);
    }
    __syncthreads();
  }
}

template <typename T>
__device__ void rows(const T* x, int xo, int O, int R, int I, int S, int chunk, int sq, double* part, T* out) {
  __shared__ double warp[RED_BLOCK / 32];
  const long long jobs = (long long)O * I * S;
  for (long long j = blockIdx.x; j < jobs; j += gridDim.x) {
    const int s = (int)(j % S);
    const long long q = j / S;
    const int o = (int)(q / I), i = (int)(q % I);
    const int r0 = s * chunk, r1 = min(R, r0 + chunk);
    const T* p = x + xo + (long long)o * R * I + i;
    double a = 0;
    for (int r = r0 + threadIdx.x; r < r1; r += blockDim.x) { const double v = (double)ld(p + (long long)r * I, 0); a += sq ? v * v : v; }
    for (int w = 16; w > 0; w >>= 1) a += __shfl_down_sync(0xffffffffu, a, w);
    if ((threadIdx.x & 31) == 0) warp[threadIdx.x >> 5] = a;
    __syncthreads();
    if (threadIdx.x == 0) {
      double v = 0;
      for (int k = 0; k < (int)(blockDim.x >> 5); k++) v += warp[k];
      if (part) part[((long long)o * S + s) * I + i] = v;
      else st(out, (int)q, v);
    }
    __syncthreads();
  }
}

template <typename T>
__device__ void final_sum(const double* part, int O, int S, int I, T* out, int outOff) {
  EW_FOR((long long)O * I) {
    const int o = (int)(_i / I), i = (int)(_i % I);
    const double* p = part + (long long)o * S * I + i;
    double v = 0;
    for (int s = 0; s < S; s++) v += p[(long long)s * I];
    st(out, outOff + (int)_i, v);
  }
}

// (value, index) pairs: the later candidate wins if strictly greater, or NaN over a number; ties keep the smaller index.
__device__ __forceinline__ bool better(double v, int r, double bv, int br) {
  if (isnan(v) || isnan(bv)) return isnan(v) && (!isnan(bv) || r < br);
  return v > bv || (v == bv && r < br);
}

template <typename T>
__device__ void max_thread(const T* x, int xo, int O, int R, int I, T* out, int* arg) {
  EW_FOR((long long)O * I) {
    const int o = (int)(_i / I), i = (int)(_i % I);
    const T* p = x + xo + (long long)o * R * I + i;
    double best = ld(p, 0);
    int a = 0;
    for (int r = 1; r < R; r++) {
      const double v = ld(p, r * I);
      if (v > best || (isnan(v) && !isnan(best))) { best = v; a = r; }
    }
    st(out, (int)_i, best);
    arg[_i] = a;
  }
}

template <typename T>
__device__ void max_block(const T* x, int xo, int O, int R, int I, T* out, int* arg) {
  __shared__ double pv[RED_BLOCK];
  __shared__ int pr[RED_BLOCK];
  for (long long j = blockIdx.x; j < (long long)O * I; j += gridDim.x) {
    const int o = (int)(j / I), i = (int)(j % I);
    const T* p = x + xo + (long long)o * R * I + i;
    double best = 0;
    int a = -1;
    for (int r = threadIdx.x; r < R; r += blockDim.x) {
      const double v = ld(p, r * I);
      if (a < 0 || better(v, r, best, a)) { best = v; a = r; }
    }
    pv[threadIdx.x] = best;
    pr[threadIdx.x] = a;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
      if (threadIdx.x < w) {
        const int r2 = pr[threadIdx.x + w];
        if (r2 >= 0 && (pr[threadIdx.x] < 0 || better(pv[threadIdx.x + w], r2, pv[threadIdx.x], pr[threadIdx.x]))) {
          pv[threadIdx.x] = pv[threadIdx.x + w];
          pr[threadIdx.x] = r2;
        }
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) { st(out, (int)j, pv[0]); arg[j] = pr[0]; }
    __syncthreads();
  }
}

template <typename T>
__device__ void max_grad(const int* arg, const T* g, int go, int O, int R, int I, T* dx) {
  EW_FOR((long long)O * I) {
    const int o = (int)(_i / I), i = (int)(_i % I);
    st(dx, (int)(((long long)o * R + arg[_i]) * I + i), (double)ld(g, go + (int)_i));
  }
}

template <typename T>
__device__ void arg_values(const int* arg, int n, T* out) {
  EW_FOR(n) st(out, (int)_i, (double)arg[_i]);
}

#define RED_PER_TYPE(tag, T)                                                                                  \
  extern "C" __global__ void red_sum_thread_##tag(const T* x, int xo, int O, int R, int I, T* out) {        \
    sum_thread(x, xo, O, R, I, out); }                                                                       \
  extern "C" __global__ void red_sum_block_##tag(const T* x, int xo, int O, int R, int I, T* out) {         \
    sum_block(x, xo, O, R, I, out); }                                                                        \
  extern "C" __global__ void red_max_thread_##tag(const T* x, int xo, int O, int R, int I, T* out, int* a) {\
    max_thread(x, xo, O, R, I, out, a); }                                                                    \
  extern "C" __global__ void red_max_block_##tag(const T* x, int xo, int O, int R, int I, T* out, int* a) { \
    max_block(x, xo, O, R, I, out, a); }                                                                     \
  extern "C" __global__ void red_max_grad_##tag(const int* a, const T* g, int go, int O, int R, int I, T* dx) { \
    max_grad(a, g, go, O, R, I, dx); }                                                                       \
  extern "C" __global__ void red_arg_values_##tag(const int* a, int n, T* out) { arg_values(a, n, out); }      \
  extern "C" __global__ void red_cols_##tag(const T* x, int xo, int O, int R, int I, int S, int chunk, int sq,  \
                                            double* part, T* out) { cols(x, xo, O, R, I, S, chunk, sq, part, out); } \
  extern "C" __global__ void red_rows_##tag(const T* x, int xo, int O, int R, int I, int S, int chunk, int sq,  \
                                            double* part, T* out) { rows(x, xo, O, R, I, S, chunk, sq, part, out); } \
  extern "C" __global__ void red_final_##tag(const double* part, int O, int S, int I, T* out, int outOff) {     \
    final_sum(part, O, S, I, out, outOff); }
RED_PER_TYPE(f64, double)
RED_PER_TYPE(f32, float)
RED_PER_TYPE(bf16, __nv_bfloat16)
RED_PER_TYPE(f16, __half)
