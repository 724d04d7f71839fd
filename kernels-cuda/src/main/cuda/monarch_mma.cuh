// Shapes: as monarch.cuh (N FFT size = R1 * 16^J; planes zr, zi of N points in the SIDX layout; S the stage's axis stride, O
// its outer blocks). monarch.cuh's tensor-core part: the mma.sync m16n8k16 helpers (operand packing, F16 fragments, the
// complex product as four real MMAs) and the radix-16 stages on them (type A along a strided axis, type B along the last
// axis, the fused last-stage / spectrum / first-inverse pass). Split out of monarch.cuh (session 28) and included by it at
// this point, so every translation unit sees the same tokens in the same order (the same machine code).
#pragma once

// ---- tensor-core (mma.sync m16n8k16) helpers -------------------------------------------------
template <bool BF16>
__device__ __forceinline__ uint32_t pack2(float lo, float hi) {
  if constexpr (BF16) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&v);
  } else {
    __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&v);
  }
}

// pack2(ld(p0), ld(p1)); from 16-bit storage of the compute type, the raw bits (exact, no conversions).
template <bool BF16, typename ST>
__device__ __forceinline__ uint32_t ld_pack2(const ST* p0, const ST* p1) {
  constexpr bool RAW = (BF16 && sizeof(ST) == 2 && !std::is_same<ST, __half>::value)
                       || (!BF16 && std::is_same<ST, __half>::value);
  if constexpr (RAW) {
    return (uint32_t)*reinterpret_cast<const unsigned short*>(p0)
           | ((uint32_t)*reinterpret_cast<const unsigned short*>(p1) << 16);
  } else {
    return pack2<BF16>(ld(p0), ld(p1));
  }
}

// ld_pack2(p, p + 1) with p, p + 1 in one 32-bit word (16-bit ST, SIDX_PAIRS): one load.
template <bool BF16, typename ST>
__device__ __forceinline__ uint32_t ld_pack2w(const ST* p) {
  constexpr bool RAW = (BF16 && !std::is_same<ST, __half>::value) || (!BF16 && std::is_same<ST, __half>::value);
  if constexpr (RAW) return *reinterpret_cast<const uint32_t*>(p);
  else { const float2 v = ld_pair(p); return pack2<BF16>(v.x, v.y); }
}

// d += a (16x16, row) * b (16x8, col), fp32 accumulation
template <bool BF16>
__device__ __forceinline__ void mma16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  if constexpr (BF16) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  } else {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
}

// F16[k][r] = W16[k*r] as an A operand (row k, col r). Register i holds row g + 8*(i&1),
// cols 2t + 8*(i>>1) + {0,1} (g = lane/4, t = lane%4). nim = -im.
struct FragA { uint32_t re[4], im[4], nim[4]; };
// F16 as a B operand (row r, col k), for the two column halves j: register q holds rows 2t + 8q + {0,1}, col 8j + g.
struct FragB { uint32_t re[2][2], im[2][2], nim[2][2]; };

// W16[m] = exp(-2*pi*i*m/16) = w(m * N/16) from the table
__device__ __forceinline__ float2 w16(const Tw& T, int m) { return tw_at(T, m << (T.log2N - 4)); }

template <bool BF16>
__device__ void make_frag_a(const Tw& T, FragA& f) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int row = g + 8 * (i & 1), col = 2 * t + 8 * (i >> 1);
    const int m0 = (row * col) & 15, m1 = (row * (col + 1)) & 15;
    const float2 w0 = w16(T, m0), w1 = w16(T, m1);
    f.re[i] = pack2<BF16>(w0.x, w1.x);
    f.im[i] = pack2<BF16>(w0.y, w1.y);
    f.nim[i] = pack2<BF16>(-w0.y, -w1.y);
  }
}

template <bool BF16>
__device__ void make_frag_b(const Tw& T, FragB& f) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int j = 0; j < 2; ++j)
#pragma unroll
    for (int q = 0; q < 2; ++q) {
      const int row = 2 * t + 8 * q, col = 8 * j + g;
      const int m0 = (row * col) & 15, m1 = ((row + 1) * col) & 15;
      const float2 w0 = w16(T, m0), w1 = w16(T, m1);
      f.re[j][q] = pack2<BF16>(w0.x, w1.x);
      f.im[j][q] = pack2<BF16>(w0.y, w1.y);
      f.nim[j][q] = pack2<BF16>(-w0.y, -w1.y);
    }
}

// Type A: radix-16 along an axis with stride S (S >= 8, multiple of 8), O outer blocks. Each warp takes
// 16 x 8 tiles, NT at a time (independent loads and MMAs in flight: ILP); it loads its tiles into registers
// (B operands) before any lane stores, so in place is safe.
template <bool BF16, bool FWD, int NT, typename ST, typename TT>
__device__ __forceinline__ void tiles_a(const TT& T, const FragA& F, ST* zr, ST* zi, int lS, const int* tile,
                                        float scale) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int S = 1 << lS, M = 16 * S, cols = S >> 3;
  float ar[NT][4], ai[NT][4];
#pragma unroll
  for (int v = 0; v < NT; ++v) {
    const int o = tile[v] >> (lS - 3), c0 = (tile[v] & (cols - 1)) * 8, base = o * M;
    float br[4], bi[4];
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int r = 2 * t + (q & 1) + 8 * (q >> 1), idx = SIDX(base + r * S + c0 + g);
      br[q] = ld(zr + idx); bi[q] = ld(zi + idx);
      if (!FWD) {
        float tc, ts; twiddle<true>(T, (r * (c0 + g)) & (M - 1), lS + 4, 1.0f, tc, ts);
        const float a = br[q] * tc - bi[q] * ts, b = br[q] * ts + bi[q] * tc;
        br[q] = a; bi[q] = b;
      }
    }
    const uint32_t xr0 = pack2<BF16>(br[0], br[1]), xr1 = pack2<BF16>(br[2], br[3]);
    const uint32_t xi0 = pack2<BF16>(bi[0], bi[1]), xi1 = pack2<BF16>(bi[2], bi[3]);
#pragma unroll
    for (int q = 0; q < 4; ++q) { ar[v][q] = 0.f; ai[v][q] = 0.f; }
    mma16816<BF16>(ar[v], F.re, xr0, xr1);
    if (FWD) mma16816<BF16>(ar[v], F.nim, xi0, xi1);
    else     mma16816<BF16>(ar[v], F.im, xi0, xi1);
    mma16816<BF16>(ai[v], F.re, xi0, xi1);
    if (FWD) mma16816<BF16>(ai[v], F.im, xr0, xr1);
    else     mma16816<BF16>(ai[v], F.nim, xr0, xr1);
  }
  __syncwarp();
  if constexpr (pairs16<ST>()) {   // columns c, c + 1 of row k (q = 2 h, 2 h + 1): one word a plane
#pragma unroll
    for (int v = 0; v < NT; ++v) {
      const int o = tile[v] >> (lS - 3), c0 = (tile[v] & (cols - 1)) * 8, base = o * M;
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int k = g + 8 * h, c = c0 + 2 * t, idx = SIDX(base + k * S + c);
        float vr[2], vi[2];
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          vr[e] = ar[v][2 * h + e]; vi[e] = ai[v][2 * h + e];
          if (FWD) {
            float tc, ts; twiddle<true>(T, (k * (c + e)) & (M - 1), lS + 4, -1.0f, tc, ts);
            tc *= scale; ts *= scale;
            const float a = vr[e] * tc - vi[e] * ts, b = vr[e] * ts + vi[e] * tc;
            vr[e] = a; vi[e] = b;
          }
        }
        st_pair(zr + idx, vr[0], vr[1]); st_pair(zi + idx, vi[0], vi[1]);
      }
    }
  } else {
#pragma unroll
    for (int v = 0; v < NT; ++v) {
      const int o = tile[v] >> (lS - 3), c0 = (tile[v] & (cols - 1)) * 8, base = o * M;
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const int k = g + 8 * (q >> 1), c = c0 + 2 * t + (q & 1), idx = SIDX(base + k * S + c);
        float vr = ar[v][q], vi = ai[v][q];
        if (FWD) {
          float tc, ts; twiddle<true>(T, (k * c) & (M - 1), lS + 4, -1.0f, tc, ts);
          tc *= scale; ts *= scale;
          const float a = vr * tc - vi * ts, b = vr * ts + vi * tc;
          vr = a; vi = b;
        }
        st(zr + idx, vr); st(zi + idx, vi);
      }
    }
  }
  __syncwarp();
}

#ifndef FB_TILES_A
#define FB_TILES_A 2
#endif
template <bool BF16, bool FWD, typename ST>
__device__ void stage_mma_a(const Tw& T, ST* zr, ST* zi, int lS, int O, float scale) {
  FragA F; make_frag_a<BF16>(T, F);   // built per stage (a few dozen instructions) so it is not live across the kernel
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  const int ntiles = O * ((1 << lS) >> 3);
  int tile = warp;
  if constexpr (FB_TILES_A == 2) {
    for (; tile + nw < ntiles; tile += 2 * nw) {
      const int tl[2] = {tile, tile + nw};
      tiles_a<BF16, FWD, 2, ST>(T, F, zr, zi, lS, tl, scale);
    }
  }
  for (; tile < ntiles; tile += nw) tiles_a<BF16, FWD, 1, ST>(T, F, zr, zi, lS, &tile, scale);
}

// One 16 x 16 tile at base of (zr, zi) (SIDX layout) as type-B A operands (bf16/fp16 pairs): reg i holds row
// g + 8 (i & 1), columns 2t + 8 (i >> 1) + {0, 1}.
// PAIRS (SIDX_PAIRS, 16-bit planes): p, p + 1 with one load each plane; a caller may turn it off (learned_pm.cu's pm_chunk_inv:
// in learned_p3b.cu's lp3_mid16w the pair loads there made ptxas spill 8-12 bytes).
template <bool BF16, typename ST, bool PAIRS = pairs16<ST>()>
__device__ __forceinline__ void load_tile_b(const ST* zr, const ST* zi, int base, int g, int t, uint32_t (&xr)[4],
                                            uint32_t (&xi)[4]) {
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int row = g + 8 * (i & 1), col = 2 * t + 8 * (i >> 1), p = base + row * 16 + col;
    if constexpr (PAIRS) {   // p even: p, p + 1 in one word
      xr[i] = ld_pack2w<BF16>(zr + SIDX(p)); xi[i] = ld_pack2w<BF16>(zi + SIDX(p));
    } else {
      xr[i] = pack2<BF16>(ld(zr + SIDX(p)), ld(zr + SIDX(p + 1)));
      xi[i] = pack2<BF16>(ld(zi + SIDX(p)), ld(zi + SIDX(p + 1)));
    }
  }
}

// Column tile j of a type-B MMA stage: (dr, di) = X @ F16 (FWD) or X @ conj(F16) for the tile X = (xr, xi) in the
// A-operand layout of load_tile_b, in the accumulator layout (reg q = row g + 8 (q >> 1), col 8j + 2t + (q & 1)).
template <bool BF16, bool FWD>
__device__ __forceinline__ void mma_b(const FragB& F, int j, const uint32_t (&xr)[4], const uint32_t (&xi)[4],
                                      float (&dr)[4], float (&di)[4]) {
#pragma unroll
  for (int q = 0; q < 4; ++q) { dr[q] = 0.f; di[q] = 0.f; }
  mma16816<BF16>(dr, xr, F.re[j][0], F.re[j][1]);
  if (FWD) mma16816<BF16>(dr, xi, F.nim[j][0], F.nim[j][1]);
  else     mma16816<BF16>(dr, xi, F.im[j][0], F.im[j][1]);
  if (FWD) mma16816<BF16>(di, xr, F.im[j][0], F.im[j][1]);
  else     mma16816<BF16>(di, xr, F.nim[j][0], F.nim[j][1]);
  mma16816<BF16>(di, xi, F.re[j][0], F.re[j][1]);
}

// Type B: the last axis (S = 1): rows of 16 contiguous values, Y = X @ F16, tiles of 16 rows (N >= 256).
template <bool BF16, bool FWD, typename ST>
__device__ void stage_mma_b(const Tw& T, ST* zr, ST* zi, int N, float scale) {
  FragB F; make_frag_b<BF16>(T, F);
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  for (int tile = warp; tile < (N >> 8); tile += nw) {
    const int base = tile << 8;
    uint32_t xr[4], xi[4];
    load_tile_b<BF16>(zr, zi, base, g, t, xr, xi);
    __syncwarp();
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float dr[4], di[4];
      mma_b<BF16, FWD>(F, j, xr, xi, dr, di);
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const int row = g + 8 * (q >> 1), col = 8 * j + 2 * t + (q & 1), idx = SIDX(base + row * 16 + col);
        st(zr + idx, FWD ? dr[q] * scale : dr[q]);
        st(zi + idx, FWD ? di[q] * scale : di[q]);
      }
    }
    __syncwarp();
  }
}

// The first inverse stage of type B from registers: per 16 x 16 tile at base, Y = X @ conj(F16) with X = (ar, ai) in
// the A-operand layout (reg 2j+h = rows g+8h, cols 8j+2t+{0,1}), stored to (zr, zi) in the SIDX layout.
template <bool BF16, typename ST>
__device__ __forceinline__ void inverse_b_store(const FragB& F, const uint32_t (&ar)[4], const uint32_t (&ai)[4], ST* zr, ST* zi,
                                                int base, int g, int t) {
#pragma unroll
  for (int j = 0; j < 2; ++j) {
    float dr[4], di[4];
    mma_b<BF16, false>(F, j, ar, ai, dr, di);
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int idx = SIDX(base + (g + 8 * (q >> 1)) * 16 + 8 * j + 2 * t + (q & 1));
      st(zr + idx, dr[q]); st(zi + idx, di[q]);
    }
  }
}

// The last forward stage, the product with the kernel spectrum and the first inverse stage in one pass
// (type B, N >= 256): the forward MMA's accumulator layout (rows g, g+8; cols 8j + 2t + {0,1}) is exactly
// the A-operand layout of the inverse MMA, so the spectrum tile never goes back to shared memory.
// k: the kernel spectrum (N complex) in Monarch order; scale: the forward stage's 1/16; conj = -1 uses conj(k).
template <bool BF16, typename ST>
__device__ void stage_b_conv(const Tw& T, ST* zr, ST* zi, int N, float scale, const float2* __restrict__ k, float conj) {
  FragB F; make_frag_b<BF16>(T, F);
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  for (int tile = warp; tile < (N >> 8); tile += nw) {
    const int base = tile << 8;
    uint32_t xr[4], xi[4];
    load_tile_b<BF16>(zr, zi, base, g, t, xr, xi);
    __syncwarp();
    uint32_t ar[4], ai[4];   // the product, already in A-operand layout: reg 2j+h = rows g+8h, cols 8j+2t+{0,1}
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float2 kw[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        kw[q] = k[base + (g + 8 * (q >> 1)) * 16 + 8 * j + 2 * t + (q & 1)];
        kw[q].y *= conj;
      }
      float dr[4], di[4];
      mma_b<BF16, true>(F, j, xr, xi, dr, di);
      float yr[4], yi[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const float a = dr[q] * scale, b = di[q] * scale;
        yr[q] = a * kw[q].x - b * kw[q].y;
        yi[q] = a * kw[q].y + b * kw[q].x;
      }
      ar[2 * j] = pack2<BF16>(yr[0], yr[1]); ar[2 * j + 1] = pack2<BF16>(yr[2], yr[3]);
      ai[2 * j] = pack2<BF16>(yi[0], yi[1]); ai[2 * j + 1] = pack2<BF16>(yi[2], yi[3]);
    }
    inverse_b_store<BF16>(F, ar, ai, zr, zi, base, g, t);   // inverse: Y = X @ conj(F16)
    __syncwarp();
  }
}
