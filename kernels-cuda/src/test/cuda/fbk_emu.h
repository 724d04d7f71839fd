// Host emulation of the warp primitives flashbutterfly2k.cu uses (mma.sync m16n8k16, ldmatrix.x4.trans, stmatrix.x4,
// cp.async, __syncwarp, __syncthreads), so that its index math can be checked on a machine without a GPU: every lane is a
// fiber (ucontext) on one OS thread, run in lockstep rounds; every warp-collective operation exchanges through a per-warp
// slot array between two yields. Not part of the build; fbk_emu_main.cpp drives it (see there). Layouts are PTX ISA's
// (mma m16n8k16 fragments; ldmatrix / stmatrix m8n8 .b16).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <ucontext.h>
#include <cmath>
#include <cstdint>
#include <cstring>

struct Dim3 { unsigned x = 0, y = 0, z = 0; };
inline Dim3 threadIdx, blockIdx, blockDim, gridDim;

struct WarpCtx {
  uint32_t r[32][8];
  const void* p[32];
};
inline WarpCtx* t_warp = nullptr;
inline uint16_t* t_smem = nullptr;
inline ucontext_t* t_sched = nullptr;   // the scheduler's context
inline ucontext_t* t_self = nullptr;    // the running fiber's
inline int t_reason = 0;                // why the fiber yielded: 1 warp barrier, 2 block barrier
inline void emu_yield(int reason) { t_reason = reason; swapcontext(t_self, t_sched); }
inline void wsync() { emu_yield(1); }
inline void __syncthreads() { emu_yield(2); }
inline int elane() { return threadIdx.x & 31; }
inline uint16_t* fbk_emu_smem() { return t_smem; }

inline float __uint_as_float(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
inline uint32_t __float_as_uint(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
inline void __syncwarp() { wsync(); }
inline void sincospif(float x, float* s, float* c) { *s = (float)std::sin(M_PI * (double)x); *c = (float)std::cos(M_PI * (double)x); }
inline void __sincosf(float x, float* s, float* c) { *s = std::sin(x); *c = std::cos(x); }   // the device's is ~2^-21.4 abs
inline void sincospi(double x, double* s, double* c) { *s = std::sin(M_PI * x); *c = std::cos(M_PI * x); }

template <bool BF16>
inline uint32_t pack2(float lo, float hi) {
  if constexpr (BF16) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    uint32_t u; std::memcpy(&u, &v, 4); return u;
  } else {
    __half2 v = __floats2half2_rn(lo, hi);
    uint32_t u; std::memcpy(&u, &v, 4); return u;
  }
}
template <bool BF16>
inline float dec16(uint32_t h) {
  if constexpr (BF16) return __uint_as_float(h << 16);
  else return __half2float(__ushort_as_half((unsigned short)h));
}
template <bool BF16>
inline float half_of(uint32_t v, int hi) { return dec16<BF16>(hi ? v >> 16 : v & 0xffff); }

struct FragA { uint32_t re[4], im[4], nim[4]; };

// d += A (16 x 16, row) B (16 x 8, col): A reg i of lane (g, t) = row g + 8 (i & 1), cols 2t + 8 (i >> 1) + {0, 1};
// B reg i = rows 2t + 8 i + {0, 1}, col g; D reg q = row g + 8 (q >> 1), col 2t + (q & 1).
template <bool BF16>
inline void mma16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  const int l = elane();
  for (int i = 0; i < 4; ++i) t_warp->r[l][i] = a[i];
  t_warp->r[l][4] = b0; t_warp->r[l][5] = b1;
  wsync();
  const int g = l >> 2, t = l & 3;
  for (int q = 0; q < 4; ++q) {
    const int row = g + 8 * (q >> 1), col = 2 * t + (q & 1);
    double s = d[q];
    for (int k = 0; k < 16; ++k) {
      const float av = half_of<BF16>(t_warp->r[(row & 7) * 4 + ((k & 7) >> 1)][(row >> 3) + 2 * (k >> 3)], k & 1);
      const float bv = half_of<BF16>(t_warp->r[col * 4 + ((k & 7) >> 1)][4 + (k >> 3)], k & 1);
      s += (double)av * (double)bv;
    }
    d[q] = (float)s;
  }
  wsync();
}

template <bool BF16, bool FWD>
inline void mma_f16(const FragA& F, int j, const uint32_t (&xr)[4], const uint32_t (&xi)[4], const uint32_t (&xn)[4],
                    float (&dr)[4], float (&di)[4]) {
  for (int q = 0; q < 4; ++q) { dr[q] = 0.f; di[q] = 0.f; }
  mma16816<BF16>(dr, xr, F.re[j], F.re[j + 2]);
  if (FWD) mma16816<BF16>(dr, xn, F.im[j], F.im[j + 2]);
  else     mma16816<BF16>(dr, xi, F.im[j], F.im[j + 2]);
  if (FWD) mma16816<BF16>(di, xr, F.im[j], F.im[j + 2]);
  else     mma16816<BF16>(di, xn, F.im[j], F.im[j + 2]);
  mma16816<BF16>(di, xi, F.re[j], F.re[j + 2]);
}

// ldmatrix.x4.trans: lanes 8i .. 8i + 7 give the row addresses of matrix i; lane (g, t) receives, for matrix i,
// stored rows 2t and 2t + 1 at column g (low, high half).
inline void ldsm_x4_t(uint32_t (&r)[4], const uint16_t* p) {
  const int l = elane();
  t_warp->p[l] = p;
  wsync();
  const int g = l >> 2, t = l & 3;
  for (int i = 0; i < 4; ++i) {
    const uint16_t* r0 = static_cast<const uint16_t*>(t_warp->p[8 * i + 2 * t]);
    const uint16_t* r1 = static_cast<const uint16_t*>(t_warp->p[8 * i + 2 * t + 1]);
    r[i] = (uint32_t)r0[g] | ((uint32_t)r1[g] << 16);
  }
  wsync();
}

// stmatrix.x4[.trans]: lane (g, t) holds row g, cols 2t, 2t + 1 of matrix i in reg i; lanes 8i .. 8i + 7 give the
// addresses of the stored rows of matrix i; .trans stores the transpose (stored row rho, col c = fragment (c, rho)).
template <bool TRANS>
inline void stsm_x4(uint16_t* p, uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  const int l = elane();
  t_warp->r[l][0] = a; t_warp->r[l][1] = b; t_warp->r[l][2] = c; t_warp->r[l][3] = d;
  t_warp->p[l] = p;
  wsync();
  const int i = l >> 3, rr = l & 7;
  for (int col = 0; col < 8; ++col) {
    const int fr = TRANS ? col : rr, fc = TRANS ? rr : col;   // fragment row, col
    const uint32_t v = t_warp->r[fr * 4 + (fc >> 1)][i];
    p[col] = (uint16_t)((fc & 1) ? v >> 16 : v & 0xffff);
  }
  wsync();
}

inline void cp16(void* dst, const void* src, int bytes) {
  std::memset(dst, 0, 16);
  std::memcpy(dst, src, bytes);
}
inline void cp_wait() {}
inline uint4 ldg4(const void* p) { uint4 v; std::memcpy(&v, p, 16); return v; }
inline float4 ldgf4(const void* p) { float4 v; std::memcpy(&v, p, 16); return v; }
inline uint4 ldg4v(const void* p) { return ldg4(p); }
inline uint32_t __shfl_sync(unsigned, uint32_t v, int src) {   // every lane deposits, then reads lane src's
  const int l = elane();
  t_warp->r[l][7] = v; wsync();
  const uint32_t x = t_warp->r[src & 31][7]; wsync();
  return x;
}   // the volatile-asm load of the _hp kernels
inline float4 ldcgf4(const void* p) { float4 v; std::memcpy(&v, p, 16); return v; }
