// Shapes: in (2, 16384) 16-bit values of the I/O type (the planes zr then zi, plane index order, no padding); pq
// (channels, M) float4 {P_p, Q_p}; out (2, 2, 16384): block b's planes after its pair map.
//
// The pair maps' check kernel (session 30; PackedPairMapGpuTest): block 0 runs an enumerated pair map of
// learned_p3_pairs.cuh, block 1 its twin of learned_p3.cu, each on its own shared-memory copy of the same planes (the
// middles' layout, SIDX) with the same arguments. variant 0: M = 2048 (p3_pairs2k / p3_pairmap2k, a = c0), 1: M = 4096
// (p3_pairs4 / p3_pairmap4, a = c0), 2: M = N1 x 4096 (p3_pairsq / p3_pairmapq, a = the block's x, pq = one channel's
// N1 x 4096 coefficients), 3: M = 8192 (p3_pairs1 / p3_pairmap1, rows a and b with channels 0 and 1 of pq).
// Grid (2, 1), block 256 (as the middles), dynamic shared memory 2 x SIDX(16384) x 2 bytes.
#define LP3_HELPERS_ONLY
#include "learned_p3.cu"
#include "learned_p3_pairs.cuh"

template <typename ST>
__device__ void p3pm_check(int variant, const ST* __restrict__ in, ST* __restrict__ out, const float4* __restrict__ pq, int h0,
                           int B, int H, int a, int N1) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  ST* zr = reinterpret_cast<ST*>(smem_raw);
  ST* zi = zr + SIDX(16384);
  for (int i = threadIdx.x; i < 16384; i += blockDim.x) { zr[SIDX(i)] = in[i]; zi[SIDX(i)] = in[16384 + i]; }
  __syncthreads();
  const bool fast = blockIdx.x == 0;
  switch (variant) {
    case 0: if (fast) p3_pairs2k<ST>(zr, zi, pq, h0, B, H, a); else p3_pairmap2k<ST>(zr, zi, pq, h0, B, H, a); break;
    case 1: if (fast) p3_pairs4<ST>(zr, zi, pq, h0, B, H, a); else p3_pairmap4<ST>(zr, zi, pq, h0, B, H, a); break;
    case 2: if (fast) p3_pairsq<ST>(zr, zi, pq, N1, a); else p3_pairmapq<ST>(zr, zi, pq, N1, a); break;
    default: if (fast) p3_pairs1<ST>(zr, zi, pq, pq + P3_IN); else p3_pairmap1<ST>(zr, zi, pq, pq + P3_IN); break;
  }
  __syncthreads();
  ST* o = out + (size_t)blockIdx.x * 32768;
  for (int i = threadIdx.x; i < 16384; i += blockDim.x) { o[i] = zr[SIDX(i)]; o[16384 + i] = zi[SIDX(i)]; }
}

// names: lp3pm_check_<io>
#define LP3PM(TAG, IO)                                                                                                  \
  extern "C" __global__ void __launch_bounds__(256) lp3pm_check_##TAG(int variant, const IO* __restrict__ in,            \
      IO* __restrict__ out, const float4* __restrict__ pq, int h0, int B, int H, int a, int N1) {                       \
    p3pm_check<IO>(variant, in, out, pq, h0, B, H, a, N1);                                                              \
  }
LP3PM(bf16, __nv_bfloat16)
LP3PM(f16, __half)
