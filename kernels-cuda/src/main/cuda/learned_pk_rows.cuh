// The row loops of the PACKED learned butterfly's forward (learned_pk.cu): lpk_rows (channel h's rows), lpk_rows_grp
// (channel groups, OPT & 8) and lpk_forward (persistent blocks: blocks, twiddles, P / Q staged, then channel after
// channel). Device code only; the kernels are learned_pk.cu's, and learned_pk_bwd.cuh builds its chains on these.
// Shapes: B batch, H channels, L length, M = N / 2 = N1 x N2 (learned_pk.cu).
#pragma once
#include "learned_pk.cuh"

// Channel h's rows (lbc2_rows' loop): WPR = 2 (N1 = 32: a pair of warps per row, pair barriers) or 1 (N1 = 16: one warp
// per row); unit p (a pair or a warp) takes rows b .. b + NB - 1 from b = NB p, striding NB R. A row b + q >= B (odd B)
// runs on row b's x and writes nothing. OPT & 2: twi is the twiddle table (lpk_forward), 16 float4 x 32 lanes per half.
template <typename IO, bool BF16, int N1, int N2, int NB, int OPT = 0, int SR = 16>
__device__ void lpk_rows(const IO* __restrict__ x, IO* __restrict__ out, const float* __restrict__ D, int B, int H, int L,
                         uint16_t* bufs, const uint16_t* sb, const float4* pq, const float2* twi, int h) {
  using Lo = LbtLayout<N1, N2>;
  using Lp = LpkLayout<N1, N2, SR>;
  constexpr int WPR = N1 / 16, XST = Lp::XST, XB = Lp::XB, XS = Lp::XS;
  const int R = blockDim.x / (32 * WPR), pair = threadIdx.x / (32 * WPR), half = WPR == 2 ? (threadIdx.x >> 5) & 1 : 0,
            lane = threadIdx.x & 31;
  uint16_t *X = bufs + pair * (NB * (XB + 2 * XST)), *S0 = X + NB * XB, *S1 = S0 + NB * XST;
  const int rows = ((L + 1) / 2 + N2 - 1) / N2, kt = (rows + 15) >> 4, stride = NB * R;
  const bool vec = (L & 7) == 0;
  int b = NB * pair;
  if (vec && b < B)
#pragma unroll
    for (int q = 0; q < NB; ++q) lpk_stage_async<N2, WPR, IO>(x + ((size_t)(b + q < B ? b + q : b) * H + h) * L, S0 + q * XST, L, kt, half);
  const uint16_t* a4r = sb + 2 * Lo::A_EL + 4 * Lo::B_EL;
  for (int it = 0; b < B; b += stride, ++it) {
    uint16_t *Sc = (it & 1) ? S1 : S0, *Sn = (it & 1) ? S0 : S1;
    if (vec) asm volatile("cp.async.wait_all;\n" ::: "memory");
    else
#pragma unroll
      for (int q = 0; q < NB; ++q) {
        const IO* xq = x + ((size_t)(b + q < B ? b + q : b) * H + h) * L;
        for (int i = 32 * half + lane; i < 16 * kt * 2 * N2; i += 32 * WPR) {
          const int r = i / (2 * N2), c = i - r * 2 * N2;
          st(reinterpret_cast<IO*>(Sc + q * XST) + r * XS + c, i < L ? ld(xq + i) : 0.f);
        }
      }
    if constexpr (WPR == 2) asm volatile("bar.sync %0, 64;\n" :: "r"(1 + pair) : "memory");
    else __syncwarp();
    const int bn = b + stride;
    if (vec && bn < B)
#pragma unroll
      for (int q = 0; q < NB; ++q) lpk_stage_async<N2, WPR, IO>(x + ((size_t)(bn + q < B ? bn + q : bn) * H + h) * L, Sn + q * XST, L, kt, half);
    lpk_steps<BF16, N1, N2, NB, OPT, SR>(Sc, half, sb, pq, (OPT & 2) ? twi + half * 16 * 32 * 2 + 2 * lane : twi + half * 10 * 32 + lane,
                                     X + 16 * half * Lo::SX);
    if constexpr (WPR == 2) asm volatile("bar.sync %0, 64;\n" :: "r"(1 + pair) : "memory");
    else __syncwarp();
    const IO* xr[NB];
    IO* orr[NB];
#pragma unroll
    for (int q = 0; q < NB; ++q) {
      const size_t off = ((size_t)(b + q < B ? b + q : b) * H + h) * L;
      xr[q] = x + off;
      orr[q] = b + q < B ? out + off : nullptr;
    }
    lpk_out<IO, BF16, N1, N2, NB, N2 / WPR, OPT, SR>(xr, orr, D[h], L, X, a4r, a4r + Lo::A_EL, kt, half * (N2 / WPR), Sc);
  }
}

constexpr int LPK_GROUP = 3;   // OPT & 8: channels per group (PackedLearnedConv.smem: LPK_GROUP - 1 more P / Q buffers)

// Session 12, helper pkopt2, OPT & 8 ("channel groups"): lpk_rows over a group of ng <= G channels whose P / Q are
// all staged (channel j of the group: h0 + j gridDim.x, its P / Q at pq0 for j = 0, else pqx + (j - 1) N1 SQ). The group's units (NB rows of one
// channel: ceil(B / NB) per channel, unit u of channel u / UPC) are dealt to the R pairs round-robin across the channel
// boundaries, so the pairs idle only in the group's last round (B = 64, NB = 2 at 6 pairs: one channel is 32 units,
// 5.33 rounds, i.e. 6 with four of six pairs idle in the last; a group of 3 channels is 96 units, 16 full rounds). Each
// row runs exactly lpk_rows' code (lpk_steps, lpk_out, the same staging), so the outputs are lpk_rows' bit for bit.
template <typename IO, bool BF16, int N1, int N2, int NB, int OPT>
__device__ void lpk_rows_grp(const IO* __restrict__ x, IO* __restrict__ out, const float* __restrict__ D, int B, int H, int L,
                             uint16_t* bufs, const uint16_t* sb, const float4* pq0, const float4* pqx, const float2* twi, int h0,
                             int ng) {
  using Lo = LbtLayout<N1, N2>;
  using Lp = LpkLayout<N1, N2>;
  constexpr int WPR = N1 / 16, XST = Lp::XST, XB = Lp::XB, PQS = N1 * Lp::SQ;
  const int R = blockDim.x / (32 * WPR), pair = threadIdx.x / (32 * WPR), half = WPR == 2 ? (threadIdx.x >> 5) & 1 : 0,
            lane = threadIdx.x & 31;
  uint16_t *X = bufs + pair * (NB * (XB + 2 * XST)), *S0 = X + NB * XB, *S1 = S0 + NB * XST;
  const int rows = ((L + 1) / 2 + N2 - 1) / N2, kt = (rows + 15) >> 4, upc = (B + NB - 1) / NB, U = ng * upc;
  const bool vec = (L & 7) == 0;
  int u = pair;
  // unit u -> channel index c (0 .. ng - 1) and first row b
  auto chan = [&](int uu) { return uu / upc; };
  if (vec && u < U) {
    const int c = chan(u), b = NB * (u - c * upc), h = h0 + c * gridDim.x;
#pragma unroll
    for (int q = 0; q < NB; ++q) lpk_stage_async<N2, WPR, IO>(x + ((size_t)(b + q < B ? b + q : b) * H + h) * L, S0 + q * XST, L, kt, half);
  }
  const uint16_t* a4r = sb + 2 * Lo::A_EL + 4 * Lo::B_EL;
  for (int it = 0; u < U; u += R, ++it) {
    const int c = chan(u), b = NB * (u - c * upc), h = h0 + c * gridDim.x;
    uint16_t *Sc = (it & 1) ? S1 : S0, *Sn = (it & 1) ? S0 : S1;
    if (vec) asm volatile("cp.async.wait_all;\n" ::: "memory");
    else
#pragma unroll
      for (int q = 0; q < NB; ++q) {
        const IO* xq = x + ((size_t)(b + q < B ? b + q : b) * H + h) * L;
        for (int i = 32 * half + lane; i < 16 * kt * 2 * N2; i += 32 * WPR) {
          const int r = i / (2 * N2), cc = i - r * 2 * N2;
          st(reinterpret_cast<IO*>(Sc + q * XST) + r * Lp::XS + cc, i < L ? ld(xq + i) : 0.f);
        }
      }
    if constexpr (WPR == 2) asm volatile("bar.sync %0, 64;\n" :: "r"(1 + pair) : "memory");
    else __syncwarp();
    const int un = u + R;
    if (vec && un < U) {
      const int cn = chan(un), bn = NB * (un - cn * upc), hn = h0 + cn * gridDim.x;
#pragma unroll
      for (int q = 0; q < NB; ++q) lpk_stage_async<N2, WPR, IO>(x + ((size_t)(bn + q < B ? bn + q : bn) * H + hn) * L, Sn + q * XST, L, kt, half);
    }
    lpk_steps<BF16, N1, N2, NB, OPT & 7>(Sc, half, sb, c == 0 ? pq0 : pqx + (c - 1) * PQS,
                                         (OPT & 2) ? twi + half * 16 * 32 * 2 + 2 * lane : twi + half * 10 * 32 + lane, X + 16 * half * Lo::SX);
    if constexpr (WPR == 2) asm volatile("bar.sync %0, 64;\n" :: "r"(1 + pair) : "memory");
    else __syncwarp();
    const IO* xr[NB];
    IO* orr[NB];
#pragma unroll
    for (int q = 0; q < NB; ++q) {
      const size_t off = ((size_t)(b + q < B ? b + q : b) * H + h) * L;
      xr[q] = x + off;
      orr[q] = b + q < B ? out + off : nullptr;
    }
    lpk_out<IO, BF16, N1, N2, NB, N2 / WPR, OPT & 7>(xr, orr, D[h], L, X, a4r, a4r + Lo::A_EL, kt, half * (N2 / WPR), Sc);
  }
}

// Persistent: grid (<= SMs, 1), block 32 W (N1 = 32: W even), dynamic smem LpkLayout::FIXED_BYTES + W / (N1 / 16) *
// NB * 2 (XB + 2 XST) bytes. The blocks and the twiddle start values once per block, then channel after channel (P / Q
// staged per channel). OPT (lpk_kappa's comment): & 1 b2's rows, b3's columns and P / Q's columns permuted by kappa as
// they are staged; & 2 the twiddle table (LpkLayout::TT_BYTES more, after the row buffers).
template <typename IO, bool BF16, int N1, int N2, int NB, int OPT = 0, int SR = 16>
__device__ void lpk_forward(const IO* __restrict__ x, const float4* __restrict__ pq, const float* __restrict__ D,
                            const uint16_t* __restrict__ pb, IO* __restrict__ out, int B, int H, int L) {
  using Lo = LbtLayout<N1, N2>;
  using Lp = LpkLayout<N1, N2, SR>;
  static_assert(SR == 16 || (OPT & 8) == 0, "channel groups (lpk_rows_grp) stage 16 rows");
  constexpr int M = Lp::M;
  extern __shared__ __align__(16) unsigned char smraw[];
  uint16_t* sb = reinterpret_cast<uint16_t*>(smraw);
  float4* spq = reinterpret_cast<float4*>(smraw + Lo::BLK_BYTES);
  float2* twi = reinterpret_cast<float2*>(smraw + Lo::BLK_BYTES + Lp::PQ_BYTES);
  uint16_t* bufs = reinterpret_cast<uint16_t*>(smraw + Lp::FIXED_BYTES + ((OPT & 4) != 0 ? Lp::NEG_BYTES : 0));
  {   // blocks: 8 planes into padded rows (learned_tc.cu's layout)
    const int n[8] = {N1, N1, N2, N2, N2, N2, N1, N1};
    int src = 0, dst = 0;
#pragma unroll
    for (int pl = 0; pl < 8; ++pl) {
      const int w = n[pl], cpr = w / 8, s = w + 8;
      if ((OPT & 17) == 17 && (pl == 4 || pl == 5)) {   // pkopt2, OPT & 16: a thread per row, its 16-byte loads in flight, then
        for (int r = threadIdx.x; r < N2; r += blockDim.x) {   // the row's 32-bit pairs {b3[r][kappa(c)], b3[r][kappa(c + 1)]}
          uint4 v[N2 / 8];
#pragma unroll
          for (int k = 0; k < N2 / 8; ++k) v[k] = *reinterpret_cast<const uint4*>(pb + src + r * N2 + 8 * k);
          const uint32_t* e = reinterpret_cast<const uint32_t*>(v);
          auto el = [&](int c) { const int kc = lpk_kappa<N2>(c); return (e[kc >> 1] >> (16 * (kc & 1))) & 0xffffu; };
#pragma unroll
          for (int c = 0; c < N2; c += 2) *reinterpret_cast<uint32_t*>(sb + dst + r * s + c) = el(c) | (el(c + 1) << 16);
        }
      } else if ((OPT & 1) != 0 && (pl == 4 || pl == 5)) {   // kappa: b3[n][k] <- b3[n][kappa(k)], element by element
        for (int i = threadIdx.x; i < w * w; i += blockDim.x) {
          const int r = i / w, c = i - r * w;
          sb[dst + r * s + c] = pb[src + r * w + lpk_kappa<N2>(c)];
        }
      } else {
        for (int i = threadIdx.x; i < w * cpr; i += blockDim.x) {
          const int r = i / cpr, c = i - r * cpr, rs = (OPT & 1) != 0 && (pl == 2 || pl == 3) ? lpk_kappa<N2>(r) : r;   // kappa: b2's rows
          *reinterpret_cast<uint4*>(sb + dst + r * s + 8 * c) = *reinterpret_cast<const uint4*>(pb + src + rs * w + 8 * c);
        }
      }
      src += w * w; dst += w * s;
    }
  }
  if constexpr ((OPT & 4) != 0) {   // -b2i, -b3i, -a4i from the staged planes (after a barrier: the same threads need not have staged them)
    __syncthreads();
    uint16_t* neg = sb + Lp::FIXED_BYTES / 2;
    const uint16_t* srcp[3] = {sb + 2 * Lo::A_EL + Lo::B_EL, sb + 2 * Lo::A_EL + 3 * Lo::B_EL, sb + 3 * Lo::A_EL + 4 * Lo::B_EL};
    const int cnt[3] = {Lo::B_EL, Lo::B_EL, Lo::A_EL};
    for (int pl = 0, off = 0; pl < 3; off += cnt[pl], ++pl)
      for (int i = threadIdx.x; i < cnt[pl]; i += blockDim.x) neg[off + i] = srcp[pl][i] ^ 0x8000u;
  }
  // twiddle start values [half][v][lane]: v 0, 1 step 1's w^(k1_h t); 2, 3 its steps w^(4 k1_h); 4..7 step 3's
  // w^(k1_h (2t + e)) / M (v = 4 + 2h + e); 8, 9 its steps w^(8 k1_h); k1_h = rho(16 half + g + 8 h); w = e^(-2 pi i / M)
  for (int i = threadIdx.x; i < 2 * 10 * 32; i += blockDim.x) {
    const int half = i / 320, v = (i / 32) % 10, ln = i & 31, g = ln >> 2, t = ln & 3;
    int e, hh;
    double scale = 1.0;
    if (v < 2) { hh = v; e = t; }
    else if (v < 4) { hh = v - 2; e = 4; }
    else if (v < 8) { hh = (v - 4) >> 1; e = 2 * t + ((v - 4) & 1); scale = 1.0 / M; }
    else { hh = v - 8; e = 8; }
    const int k1 = lpk_rho(16 * half + g + 8 * hh, N1), a = (k1 * e) % M;
    double s, c;
    sincospi(-2.0 * a / M, &s, &c);
    twi[i] = make_float2((float)(c * scale), (float)(s * scale));
  }
  float2* twt = reinterpret_cast<float2*>(bufs) + (blockDim.x / (32 * (N1 / 16))) * NB * (Lp::XB + 2 * Lp::XST) / 4;
  if constexpr ((OPT & 2) != 0) {   // the twiddle table: thread (half, lane) runs lpk_steps' recurrences on the same start values
    __syncthreads();
    if (threadIdx.x < 64) {
      const int half = threadIdx.x >> 5, ln = threadIdx.x & 31;
      const float2* tws = twi + half * 10 * 32 + ln;
      float4* tt = reinterpret_cast<float4*>(twt) + half * 16 * 32 + ln;
      float2 cur[4] = {tws[0], tws[32]}, stp[2] = {tws[64], tws[96]};
      for (int s = 0; s < 8; ++s) {   // step 1: chunk s = {w_h0, w_h1}, s = 2 jp + j
        float2 w[2];
        for (int h = 0; h < 2; ++h) { w[h] = cur[h]; cur[h] = cmul(w[h], stp[h]); }
        tt[32 * s] = make_float4(w[0].x, w[0].y, w[1].x, w[1].y);
      }
      cur[0] = tws[128]; cur[1] = tws[160]; cur[2] = tws[192]; cur[3] = tws[224]; stp[0] = tws[256]; stp[1] = tws[288];
      for (int s = 0; s < 2 * (N2 / 16); ++s)   // step 3: chunk 8 + 2 s + h = {w_e0, w_e1}, s = 2 jp + j
        for (int h = 0; h < 2; ++h) {
          float2 w[2];
          for (int e = 0; e < 2; ++e) { w[e] = cur[2 * h + e]; cur[2 * h + e] = cmul(w[e], stp[h]); }
          tt[32 * (8 + 2 * s + h)] = make_float4(w[0].x, w[0].y, w[1].x, w[1].y);
        }
    }
  }
  if constexpr ((OPT & 8) != 0) {   // pkopt2: channel groups of LPK_GROUP (lpk_rows_grp); P / Q of channel j >= 1 after the base layout
    static_assert((OPT & 16) == 0 || (OPT & 8) != 0, "OPT & 16 needs OPT & 8");
    constexpr int G = LPK_GROUP, PQS = N1 * Lp::SQ;
    float4* spqx = reinterpret_cast<float4*>(reinterpret_cast<unsigned char*>(twt) + ((OPT & 2) != 0 ? Lp::TT_BYTES : 0));
#pragma unroll 1
    for (int hh = blockIdx.x; hh < H; hh += G * gridDim.x) {
      const int ng = min(G, (H - hh + (int)gridDim.x - 1) / (int)gridDim.x);   // channels hh + j gridDim.x < H
      __syncthreads();   // every pair done with the previous group's P / Q (and, the first time, the tables complete)
      for (int j = 0; j < ng; ++j) {
        const float4* src = pq + (size_t)(hh + j * gridDim.x) * M;
        float4* dst = j == 0 ? spq : spqx + (j - 1) * PQS;
        for (int i = threadIdx.x; i < M; i += blockDim.x) {
          const int r = i / N2, c = i - r * N2;
          const float4* sp = src + ((OPT & 1) != 0 ? r * N2 + lpk_kappa<N2>(c) : i);
          if constexpr ((OPT & 16) != 0)   // OPT & 16: cp.async, every load of the group in flight before one wait (same bytes)
            asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" :: "r"((uint32_t)__cvta_generic_to_shared(dst + r * Lp::SQ + c)),
                         "l"(sp) : "memory");
          else dst[r * Lp::SQ + c] = *sp;
        }
      }
      if constexpr ((OPT & 16) != 0) asm volatile("cp.async.commit_group;\ncp.async.wait_all;\n" ::: "memory");
      __syncthreads();
      lpk_rows_grp<IO, BF16, N1, N2, NB, OPT>(x, out, D, B, H, L, bufs, sb, spq, spqx, (OPT & 2) ? twt : twi, hh, ng);
    }
  } else {
#pragma unroll 1
  for (int hh = blockIdx.x; hh < H; hh += gridDim.x) {
    __syncthreads();   // every pair done with the previous channel's P / Q (and, the first time, the tables complete)
    const float4* src = pq + (size_t)hh * M;
    for (int i = threadIdx.x; i < M; i += blockDim.x) {
      const int r = i / N2, c = i - r * N2;
      spq[r * Lp::SQ + c] = src[(OPT & 1) != 0 ? r * N2 + lpk_kappa<N2>(c) : i];   // kappa: position c holds column kappa(c)
    }
    __syncthreads();
    lpk_rows<IO, BF16, N1, N2, NB, OPT, SR>(x, out, D, B, H, L, bufs, sb, spq, (OPT & 2) ? twt : twi, hh);
  }
  }
}
