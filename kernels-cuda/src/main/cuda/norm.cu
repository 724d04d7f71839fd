// Fused LayerNorm over the last axis, forward and backward side by side.
// Shapes: x, y, g, dx (rows, d) contiguous from their offsets; w, b, dw, db (d); mean, rstd (rows) in f64.
//   ln_fwd_T:      per row (one warp): mean, rstd = 1 / sqrt(mean((x - mean)^2) + eps) (biased variance, two passes
//                  over the row in f64), y = (x - mean) rstd w + b (w / b null: 1 / 0); writes mean, rstd.
//   ln_bwd_dx_T:   per row (one warp), xhat = (x - mean) rstd, gw = g w:
//                  dx = rstd (gw - mean_j gw - xhat mean_j(gw xhat)).
//   ln_bwd_dwdb_T: dw = sum_rows g xhat, db = sum_rows g: reduce.cu's split column reduction (32 columns x 8 row
//                  lanes per block, rows cut into S chunks of `chunk`); f64 partials partW/partB[s d + j] when
//                  S > 1 (then reduce.cu's red_final_T sums them in chunk order), else dw / db directly; null skips.
// Java twins: the composed LayerNorm (nn.LayerNorm) and FusedLayerNorm.composedBackward (lib).
#include "ewcommon.cuh"

__device__ __forceinline__ double warp_all_sum(double v) {
#pragma unroll
  for (int m = 16; m > 0; m >>= 1) v += __shfl_xor_sync(0xffffffffu, v, m);
  return v;
}

template <typename T>
__device__ void ln_fwd(const T* x, int xo, const T* w, int wo, const T* b, int bo, int rows, int d, double eps, T* y,
                       double* mean, double* rstd) {
  const int lane = threadIdx.x & 31, wpb = blockDim.x >> 5;
  for (long long r = (long long)blockIdx.x * wpb + (threadIdx.x >> 5); r < rows; r += (long long)gridDim.x * wpb) {
    const T* p = x + xo + r * d;
    double s = 0;
    for (int j = lane; j < d; j += 32) s += (double)ld(p, j);
    const double mu = warp_all_sum(s) / d;
    double v = 0;
    for (int j = lane; j < d; j += 32) { const double c = (double)ld(p, j) - mu; v += c * c; }
    const double rs = 1.0 / sqrt(warp_all_sum(v) / d + eps);
    T* q = y + r * d;
    for (int j = lane; j < d; j += 32) {
      double h = ((double)ld(p, j) - mu) * rs;
      if (w) h *= (double)ld(w + wo, j);
      if (b) h += (double)ld(b + bo, j);
      st(q, j, h);
    }
    if (lane == 0) { mean[r] = mu; rstd[r] = rs; }
  }
}

template <typename T>
__device__ void ln_bwd_dx(const T* x, int xo, const T* w, int wo, const double* mean, const double* rstd, const T* g,
                          int go, int rows, int d, T* dx) {
  const int lane = threadIdx.x & 31, wpb = blockDim.x >> 5;
  for (long long r = (long long)blockIdx.x * wpb + (threadIdx.x >> 5); r < rows; r += (long long)gridDim.x * wpb) {
    const T* p = x + xo + r * d;
    const T* gp = g + go + r * d;
    const double mu = mean[r], rs = rstd[r];
    double a = 0, c = 0;
    for (int j = lane; j < d; j += 32) {
      const double gw = (double)ld(gp, j) * (w ? (double)ld(w + wo, j) : 1.0);
      a += gw;
      c += gw * (((double)ld(p, j) - mu) * rs);
    }
    a = warp_all_sum(a) / d;
    c = warp_all_sum(c) / d;
    T* q = dx + r * d;
    for (int j = lane; j < d; j += 32) {
      const double gw = (double)ld(gp, j) * (w ? (double)ld(w + wo, j) : 1.0);
      const double xh = ((double)ld(p, j) - mu) * rs;
      st(q, j, rs * (gw - a - xh * c));
    }
  }
}

template <typename T>
__device__ void ln_bwd_dwdb(const T* x, int xo, const double* mean, const double* rstd, const T* g, int go, int R, int I,
                            int S, int chunk, double* partW, double* partB, T* dw, T* db) {
  __shared__ double aw[8][33], ab[8][33];
  const int lane = threadIdx.x & 31, ty = threadIdx.x >> 5;
  const int tiles = (I + 31) >> 5;
  const long long jobs = (long long)tiles * S;
  for (long long jb = blockIdx.x; jb < jobs; jb += gridDim.x) {
    const int s = (int)(jb % S), t = (int)(jb / S);
    const int i = t * 32 + lane;
    const int r0 = s * chunk, r1 = min(R, r0 + chunk);
    double sw = 0, sb = 0;
    if (i < I)
      for (int r = r0 + ty; r < r1; r += 8) {
        const double gv = (double)ld(g + go + (long long)r * I, i);
        sw += gv * (((double)ld(x + xo + (long long)r * I, i) - mean[r]) * rstd[r]);
        sb += gv;
      }
    aw[ty][lane] = sw;
    ab[ty][lane] = sb;
    __syncthreads();
    if (ty == 0 && i < I) {
      double vw = 0, vb = 0;
#pragma unroll
      for (int k = 0; k < 8; k++) { vw += aw[k][lane]; vb += ab[k][lane]; }
      if (partW) {
        partW[(long long)s * I + i] = vw;
        partB[(long long)s * I + i] = vb;
      } else {
        if (dw) st(dw, i, vw);
        if (db) st(db, i, vb);
      }
    }
    __syncthreads();
  }
}

#define LN_PER_TYPE(tag, T)                                                                                      \
  extern "C" __global__ void ln_fwd_##tag(const T* x, int xo, const T* w, int wo, const T* b, int bo, int rows,  \
                                          int d, double eps, T* y, double* mean, double* rstd) {                 \
    ln_fwd(x, xo, w, wo, b, bo, rows, d, eps, y, mean, rstd); }                                                  \
  extern "C" __global__ void ln_bwd_dx_##tag(const T* x, int xo, const T* w, int wo, const double* mean,         \
                                             const double* rstd, const T* g, int go, int rows, int d, T* dx) {   \
    ln_bwd_dx(x, xo, w, wo, mean, rstd, g, go, rows, d, dx); }                                                   \
  extern "C" __global__ void ln_bwd_dwdb_##tag(const T* x, int xo, const double* mean, const double* rstd,       \
                                               const T* g, int go, int R, int I, int S, int chunk, double* partW, \
                                               double* partB, T* dw, T* db) {                                     \
    ln_bwd_dwdb(x, xo, mean, rstd, g, go, R, I, S, chunk, partW, partB, dw, db); }
LN_PER_TYPE(f64, double)
LN_PER_TYPE(f32, float)
LN_PER_TYPE(bf16, __nv_bfloat16)
LN_PER_TYPE(f16, __half)
