// The PACKED learned butterfly's backward on tensor cores (engine LEARNED_PACKED; prompts' packed spec,
// PackedLearnedBackward). Shapes: B batch, H channels, L length (causal), M = N / 2 = N1 x N2 in {16 x 16, 16 x 32,
// 32 x 32}; rows R = B H (row r = b H + h).
//   dump (R, 4, N1, 2 N2) 16-bit: per row four slots of [Re | Im] rows in the chain's tile-row order rho (row i holds
//   k1 = lpk_rho(i)), the layout learned_tc_bwd.cu's Grams read;
//   ins  (R, 4, N1, 2 N2) 16-bit (only without PackedLearnedBackward's direct route, the default): slot 0 pack(u), slot 1
//   pack(dy) as [Re | Im] rows in natural row order (slots 2, 3 unused; rows past the packed row's 16 staged rows are not
//   written: the Gram entries they feed are exactly zero and set so on the host).
// Per row (spec notation; X1 = B o T, X2 = C' @ Gb, X3 = X2 o conj(T) / M, E = Ga @ X3), the forward chain (on u, blocks
// {Fa, Fb, Gb, Ga}, coefficients (P, Q)) dumps slots (X1, C, C', X3). The adjoint chain is the SAME chain (learned_pk.cu's
// structure) on dy with blocks {Ga^H, Gb^H, Fb^H, Fa^H}, coefficients (conj P_k, Q_s(k)) and D: its step-1 product is
// (Ga^H dE) o T = M dX2, its C is M dC', its C' (the pair map's adjoint) M dC, its X3 = (M dC Fb^H) o conj(T) / M = dB and
// its output Fa^H dB + D dy = du (unpacked). It dumps slots (M dX2, M dC', M dC, dB). Then
//   dGa = sum dE X3^H       = Gram B (dy, fwd 3)           columns in rho order (lpkb_gram_b; or lbt_gram on ins 1)
//   dFa = sum dB A^H        = Gram B (adj 3, u)            rows in rho order (lpkb_gram_b; or lbt_gram on ins 0)
//   dGb = sum C'^H dX2      = Gram A (fwd 2, adj 0) / M    (rows summed: rho does not matter)
//   dFb = sum X1^H dC       = Gram A (fwd 0, adj 2) / M
//   dP_k = sum dC'[k] conj(C[k]), dQ_k = sum dC'[k] C[s(k)]   (lpkb_dk, / M; or in the adjoint chain: fusedPq), then dK
//   and dk (lbt_taps)
// The Grams, their reductions, dD (lbt_dkp3 with N1 = 0) and the inverse DFT of dK (lbt_taps at N1 = N, N2 = 1: natural
// order) are learned_tc_bwd.cu's kernels, launched from Java.
// Session 13, helper pkbwd4 (N1 = 16; PackedLearnedBackward's ingram, the default there): dGa summed in the forward chain
// and dFa in the adjoint chain (lpkb_chain_*_fsg / _asg, GR below: the other operand's packed row staged per row, the
// form-B Gram with the chain's slot 3 in shared memory, slot 3 not dumped; per-block partials for lbt_gram_reduce2).
// Files: the chains' device code in learned_pk_bwd.cuh; here the kernels (lpkb_adj_blocks, lpkb_pq_adj, lpkb_dk_*,
// lpkb_gram_b_*, the lpkb_chain_* instances).
#include "learned_pk_bwd.cuh"

// The adjoint chain's blocks {Ga^H, Gb^H, Fb^H, Fa^H} from {Fa, Fb, Gb, Ga} (fp32 complex), for lpk_prep.
// Grid ceil(2 (N1^2 + N2^2) / 256), block 256.
extern "C" __global__ void __launch_bounds__(256) lpkb_adj_blocks(const float2* __restrict__ blocks, float2* __restrict__ adj,
                                                                  int N1, int N2) {
  const int e = blockIdx.x * blockDim.x + threadIdx.x, a = N1 * N1, b = N2 * N2;
  if (e >= 2 * (a + b)) return;
  const float2 *fa = blocks, *fb = blocks + a, *gb = fb + b, *ga = gb + b;
  int n, i;
  const float2* src;
  if (e < a) { src = ga; n = N1; i = e; }
  else if (e < a + b) { src = gb; n = N2; i = e - a; }
  else if (e < a + 2 * b) { src = fb; n = N2; i = e - a - b; }
  else { src = fa; n = N1; i = e - a - 2 * b; }
  const int r = i / n, c = i - r * n;
  const float2 v = src[c * n + r];
  adj[e] = make_float2(v.x, -v.y);
}

// The adjoint chain's coefficients: out[p] = {conj P_p, Q_s(p)} at tile position p (lpk_pq's layout: (H, M) float4 in
// tile-row order; the partner of (k1, k2) is (0, (N2 - k2) mod N2) when k1 = 0, else (N1 - k1, N2 - 1 - k2)).
// Grid (H), block 256.
extern "C" __global__ void __launch_bounds__(256) lpkb_pq_adj(const float4* __restrict__ pq, float4* __restrict__ out, int N1, int N2) {
  const int M = N1 * N2;
  const float4* src = pq + (size_t)blockIdx.x * M;
  for (int p = threadIdx.x; p < M; p += blockDim.x) {
    const int i = p / N2, c = p - i * N2, k1 = lpk_rho(i, N1);
    const int k1p = k1 == 0 ? 0 : N1 - k1, cp = k1 == 0 ? (N2 - c) % N2 : N2 - 1 - c;
    const float4 v = src[p], w = src[lpkb_rho_inv(k1p, N1) * N2 + cp];
    out[(size_t)blockIdx.x * M + p] = make_float4(v.x, -v.y, w.z, w.w);
  }
}

// dP, dQ of channel h summed over the batch from the forward dump (slot 1: C) and the adjoint dump (slot 1: M dC'),
// times scale (1 / M): dP_p = sum_b dC'[p] conj(C[p]), dQ_p = sum_b dC'[p] C[s(p)]; then the spectrum's gradient
// (lib's PackedLearnedButterfly.tapGradient) dK[k] = conj(alpha_k) dP_k + conj(gamma_k) dQ_k + beta_(M-k) conj(dP_(M-k))
// + delta_(M-k) conj(dQ_(M-k)) for k = 0 .. M (terms whose index is outside 0 .. M - 1 absent), written in natural
// frequency order into g (H, 2M) float2 with zeros above M (lbt_taps at N1 = 2M, N2 = 1 then takes dk).
//   alpha = c_k a_k, beta = d_k conj(b_(M-k)), gamma = c_k b_k, delta = d_k conj(a_(M-k)) (pair-map coefficients of the
//   spec), w = e^(-2 pi i / N).
// Each thread takes 4 consecutive columns c0 .. c0 + 3 of a tile row (8-byte loads of Re and Im; N2 % 4 == 0): their
// partners (k1 != 0) are the columns N2 - 4 - c0 .. N2 - 1 - c0 of the partner row, reversed, one 8-byte load each; on
// the k1 = 0 row ((N2 - c) mod N2: not contiguous) 2-byte loads. The batch loop unrolled by 8 (lbt_dkp2's reason: loads
// in flight). Grid (H), block 256, dynamic smem 16 G M + 4 N1 bytes.
// G (batch groups, a divisor of the block's 256 threads; 1 = the first route): group g of 256 / G threads (4 columns a
// thread, looping over the M columns) sums the rows b = g, g + G, ... into its own plane of sd, the planes then added
// in g order. At M = 256 a block of one group has 64 of its 256 threads busy (M / 4 columns), so the
// batch loop of 64 rows had ~12 warps in flight per SM: G = 4 (16 x 16) / 2 (16 x 32) keeps all 256 threads loading.
// dpq != nullptr (fusedPq: the adjoint chain summed dP / dQ, (H, M) float4 in tile order): taken from there (times
// scale) instead of the dumps.
template <typename IO>
__device__ void lpkb_dk(const uint16_t* __restrict__ fd, const uint16_t* __restrict__ ad, float2* __restrict__ g, int B, int H,
                        int N1, int N2, float scale, const float4* __restrict__ dpq, int G) {
  extern __shared__ __align__(16) float4 sd[];
  if (dpq != nullptr) G = 1;
  int* inv = reinterpret_cast<int*>(sd + G * N1 * N2);
  const int M = N1 * N2, N = 2 * M, h = blockIdx.x, TG = blockDim.x / G, grp = threadIdx.x / TG, tg = threadIdx.x - grp * TG;
  for (int i = threadIdx.x; i < N1; i += blockDim.x) inv[lpk_rho(i, N1)] = i;
  __syncthreads();
  if (dpq != nullptr)
    for (int p = threadIdx.x; p < M; p += blockDim.x) {
      const float4 v = dpq[(size_t)h * M + p];
      sd[p] = make_float4(v.x * scale, v.y * scale, v.z * scale, v.w * scale);
    }
  for (int p = 4 * tg; dpq == nullptr && p < M; p += 4 * TG) {
    const int i = p / N2, c = p - i * N2, k1 = lpk_rho(i, N1);
    const int re = i * 2 * N2 + c, im = re + N2;
    const int pre = inv[k1 == 0 ? 0 : N1 - k1] * 2 * N2 + (k1 == 0 ? 0 : N2 - 4 - c), pim = pre + N2;
    float pr[4] = {0.f, 0.f, 0.f, 0.f}, pi[4] = {0.f, 0.f, 0.f, 0.f}, qr[4] = {0.f, 0.f, 0.f, 0.f}, qi[4] = {0.f, 0.f, 0.f, 0.f};
    // rows b = grp + G j, j < nb (G = 1: b = j, the first route's loop)
    const size_t stride = (size_t)G * H * 8 * M, base0 = ((size_t)grp * H + h) * 8 * M + 2 * M;   // slot 1 of row grp
    const int nb = grp < B ? (B - grp + G - 1) / G : 0;
#pragma unroll 8
    for (int j = 0; j < nb; ++j) {
      const size_t base = base0 + (size_t)j * stride;
      const uint16_t *f = fd + base, *a = ad + base;
      const uint2 ar4 = *reinterpret_cast<const uint2*>(a + re), ai4 = *reinterpret_cast<const uint2*>(a + im);
      const uint2 cr4 = *reinterpret_cast<const uint2*>(f + re), ci4 = *reinterpret_cast<const uint2*>(f + im);
      const IO *ar = reinterpret_cast<const IO*>(&ar4), *ai = reinterpret_cast<const IO*>(&ai4);
      const IO *cr = reinterpret_cast<const IO*>(&cr4), *ci = reinterpret_cast<const IO*>(&ci4);
      float sr[4], si[4];
      if (k1 != 0) {
        const uint2 sr4 = *reinterpret_cast<const uint2*>(f + pre), si4 = *reinterpret_cast<const uint2*>(f + pim);
        const IO *s0 = reinterpret_cast<const IO*>(&sr4), *s1 = reinterpret_cast<const IO*>(&si4);
#pragma unroll
        for (int e = 0; e < 4; ++e) { sr[e] = ld(s0 + 3 - e); si[e] = ld(s1 + 3 - e); }
      } else {
        const IO* fr = reinterpret_cast<const IO*>(f + pre);   // the k1 = 0 row itself
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int cp = (N2 - c - e) & (N2 - 1);
          sr[e] = ld(fr + cp); si[e] = ld(fr + N2 + cp);
        }
      }
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const float xr = ld(ar + e), xi = ld(ai + e), yr = ld(cr + e), yi = ld(ci + e);
        pr[e] += xr * yr + xi * yi;
        pi[e] += xi * yr - xr * yi;
        qr[e] += xr * sr[e] - xi * si[e];
        qi[e] += xr * si[e] + xi * sr[e];
      }
    }
#pragma unroll
    for (int e = 0; e < 4; ++e) sd[grp * M + p + e] = make_float4(pr[e] * scale, pi[e] * scale, qr[e] * scale, qi[e] * scale);
  }
  __syncthreads();
  if (G > 1) {   // the groups' planes added into plane 0 (each p by one thread, planes in g order)
    for (int p = threadIdx.x; p < M; p += blockDim.x) {
      float4 t = sd[p];
      for (int q = 1; q < G; ++q) {
        const float4 o = sd[q * M + p];
        t.x += o.x; t.y += o.y; t.z += o.z; t.w += o.w;
      }
      sd[p] = t;
    }
    __syncthreads();
  }
  for (int f = threadIdx.x; f < N; f += blockDim.x) {
    float2 v = make_float2(0.f, 0.f);
    if (f < M) {   // position of frequency k = f: conj(alpha_k) dP_k + conj(gamma_k) dQ_k
      float s, co;
      sincospif(-2.0f * (float)f / (float)N, &s, &co);                               // w^k = (co, s)
      const float2 a = make_float2(0.5f * (1.f + s), -0.5f * co), b = make_float2(0.5f * (1.f - s), 0.5f * co);
      const float2 cc = make_float2(a.x, -a.y);
      const float2 al = cmul(cc, a), ga = cmul(cc, b);
      const float4 q = sd[inv[f % N1] * N2 + f / N1];
      v.x += al.x * q.x + al.y * q.y + ga.x * q.z + ga.y * q.w;
      v.y += al.x * q.y - al.y * q.x + ga.x * q.w - ga.y * q.z;
    }
    if (f >= 1 && f <= M) {   // k = M - f: beta_k conj(dP_k) + delta_k conj(dQ_k)
      const int k = M - f;
      float s, co, s2, c2;
      sincospif(-2.0f * (float)k / (float)N, &s, &co);                               // w^k
      sincospif(-2.0f * (float)f / (float)N, &s2, &c2);                              // w^(M-k)
      const float2 dk = make_float2(0.5f * (1.f - s), -0.5f * co);                   // d_k = conj(b_k)
      const float2 bj = make_float2(0.5f * (1.f - s2), -0.5f * c2);                  // conj(b_(M-k))
      const float2 aj = make_float2(0.5f * (1.f + s2), 0.5f * c2);                   // conj(a_(M-k))
      const float2 be = cmul(dk, bj), de = cmul(dk, aj);
      const float4 q = sd[inv[k % N1] * N2 + k / N1];
      v.x += be.x * q.x + be.y * q.y + de.x * q.z + de.y * q.w;
      v.y += be.y * q.x - be.x * q.y + de.y * q.z - de.x * q.w;
    }
    g[(size_t)h * N + f] = v;
  }
}

// lpkb_gram_b's packed rows of step st (RPS rows of 16 N2 complex, chunk i of 4 complex per thread and k): load into
// registers (zero past L), then deinterleave into a stage's [Re | Im] rows (row slot rq at ROW, after its dump operand).
template <typename IO, int N2, int RPS, int XPT>
__device__ __forceinline__ void lpkb_gb_load_x(const IO* __restrict__ x, int st, int rows, int L, bool vec, uint4 (&v)[XPT]) {
  constexpr int XQ = 16 * N2 / 4;
#pragma unroll
  for (int k = 0; k < XPT; ++k) {
    const int i = threadIdx.x + 256 * k, rq = i / XQ, cq = i - rq * XQ, r = st * RPS + rq, n = 8 * cq;   // n: first value
    v[k] = make_uint4(0u, 0u, 0u, 0u);
    if (i < RPS * XQ && r < rows) {
      const IO* xr = x + (size_t)r * L;
      if (vec) { if (n < L) v[k] = *reinterpret_cast<const uint4*>(xr + n); }
      else {   // element loads, packed without taking v's address
        const uint16_t* xs16 = reinterpret_cast<const uint16_t*>(xr);
        uint32_t w0 = 0u, w1 = 0u, w2 = 0u, w3 = 0u;
        if (n < L) w0 = xs16[n];
        if (n + 1 < L) w0 |= (uint32_t)xs16[n + 1] << 16;
        if (n + 2 < L) w1 = xs16[n + 2];
        if (n + 3 < L) w1 |= (uint32_t)xs16[n + 3] << 16;
        if (n + 4 < L) w2 = xs16[n + 4];
        if (n + 5 < L) w2 |= (uint32_t)xs16[n + 5] << 16;
        if (n + 6 < L) w3 = xs16[n + 6];
        if (n + 7 < L) w3 |= (uint32_t)xs16[n + 7] << 16;
        v[k] = make_uint4(w0, w1, w2, w3);
      }
    }
  }
}
template <int N1, int N2, int RPS, int XPT>
__device__ __forceinline__ void lpkb_gb_store_x(uint16_t* stage, const uint4 (&v)[XPT]) {
  constexpr int XQ = 16 * N2 / 4, SX = 2 * N2 + 8, ROW = (N1 + 16) * SX, DOP = N1 * SX;
#pragma unroll
  for (int k = 0; k < XPT; ++k) {
    const int i = threadIdx.x + 256 * k, rq = i / XQ, cq = i - rq * XQ, row = cq / (N2 / 4), c = 4 * (cq % (N2 / 4));
    if (i < RPS * XQ) {
      uint16_t* d = stage + rq * ROW + DOP + row * SX + c;
      *reinterpret_cast<uint2*>(d) = make_uint2(__byte_perm(v[k].x, v[k].y, 0x5410), __byte_perm(v[k].z, v[k].w, 0x5410));
      *reinterpret_cast<uint2*>(d + N2) = make_uint2(__byte_perm(v[k].x, v[k].y, 0x7632), __byte_perm(v[k].z, v[k].w, 0x7632));
    }
  }
}

// Form-B Gram with one operand the packed real row (dGa = sum pack(dy) X3^H, LX; dFa = sum dB pack(u)^H, !LX), without
// the ins workspace: G[i][j] += sum_k L[i][k] conj(R[j][k]) (k over the N2 columns), learned_tc_bwd.cu lbt_gram's form-B
// MMAs (four real m16n8k16 per complex tile, fp32 accumulators). The packed operand z[m] = x[2m] + i x[2m+1] has 16
// non-zero rows (every covered causal shape: ceil(L / 2) <= 16 N2), so only the output units i0 = 0 (LX) or j0 = 0 (!LX)
// are not zero: U = N1 / 16 live units; the block's 8 warps take RPS = 8 / U rows per step (warp w: unit w % U, row
// w / U). The dump operand (slot of (R, 4, N1, 2 N2)) by cp.async; the packed row through registers (16-byte loads when
// L % 8 == 0, else 2-byte loads; zero past L), deinterleaved into [Re | Im] rows; two stages, the next step's loads in
// flight during the current step's MMAs. part: (gridDim.x, N1, N1) float2 (the dead units written as zero), summed by
// lbt_gram_reduce2. Grid (G), block 256, dynamic smem 2 * RPS * (N1 + 16) * (2 N2 + 8) * 2 bytes.
template <typename IO, bool BF16, int N1, int N2, bool LX>
__device__ void lpkb_gram_b(const IO* __restrict__ x, const uint16_t* __restrict__ dump, int slot, float2* __restrict__ part,
                            int rows, int L) {
  constexpr int SX = 2 * N2 + 8, M = N1 * N2, U = N1 / 16, RPS = 8 / U, KT = N2 / 16;
  constexpr int DOP = N1 * SX, XOP = 16 * SX, ROW = DOP + XOP, STAGE = RPS * ROW;   // 16-bit elements
  constexpr int XQ = 16 * N2 / 4;   // 16-byte (4 complex) chunks of a packed row's live part
  constexpr int XPT = (RPS * XQ + 255) / 256;   // such chunks per thread per step
  extern __shared__ __align__(16) unsigned char smraw[];
  uint16_t* sm = reinterpret_cast<uint16_t*>(smraw);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, lr = lane & 7, lm = lane >> 3;
  const int unit = warp % U, q = warp / U, i0 = LX ? 0 : 16 * unit, j0 = LX ? 16 * unit : 0;
  const int G = gridDim.x, steps = (rows + RPS - 1) / RPS;
  const bool vec = (L & 7) == 0;
  float gr[2][4], gi[2][4];
#pragma unroll
  for (int j = 0; j < 2; ++j)
#pragma unroll
    for (int e = 0; e < 4; ++e) { gr[j][e] = 0.f; gi[j][e] = 0.f; }
  auto load_dump = [&](int st, int stage) {   // cp.async of the step's dump operands
    for (int i = threadIdx.x; i < RPS * N1 * (2 * N2 / 8); i += 256) {
      const int rq = i / (N1 * (2 * N2 / 8)), rem = i - rq * (N1 * (2 * N2 / 8)), row = rem / (2 * N2 / 8), c = 8 * (rem % (2 * N2 / 8));
      const int r = st * RPS + rq;
      if (r < rows)
        asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" :: "r"((uint32_t)__cvta_generic_to_shared(sm + stage * STAGE + rq * ROW + row * SX + c)),
                     "l"(dump + (size_t)r * 8 * M + (size_t)slot * 2 * M + row * 2 * N2 + c) : "memory");
    }
    asm volatile("cp.async.commit_group;\n" ::: "memory");
  };
  uint4 xv[XPT];
  int st = blockIdx.x;
  if (st < steps) {
    load_dump(st, 0);
    lpkb_gb_load_x<IO, N2, RPS, XPT>(x, st, rows, L, vec, xv);
    lpkb_gb_store_x<N1, N2, RPS, XPT>(sm, xv);
  }
  else asm volatile("cp.async.commit_group;\n" ::: "memory");
  for (int it = 0; st < steps; st += G, ++it) {
    const int cur = it & 1, nst = st + G;
    __syncthreads();   // the other stage is free (its MMAs done), this stage's x stores visible after the next barrier
    if (nst < steps) { load_dump(nst, cur ^ 1); lpkb_gb_load_x<IO, N2, RPS, XPT>(x, nst, rows, L, vec, xv); }
    else asm volatile("cp.async.commit_group;\n" ::: "memory");
    asm volatile("cp.async.wait_group 1;\n" ::: "memory");
    __syncthreads();
    if (st * RPS + q < rows) {
      const uint16_t* rowp = sm + cur * STAGE + q * ROW;
      const uint16_t *Lc = LX ? rowp + DOP : rowp, *Rc = LX ? rowp : rowp + DOP;
#pragma unroll
      for (int kk = 0; kk < KT; ++kk) {   // lbt_gram's form B: A = L (stored [i][k]), B = R^H (R stored [j][k])
        uint32_t ar[4], ai[4], br[4], bi[4];
        const uint16_t* pa = Lc + (i0 + (lm & 1) * 8 + lr) * SX + 16 * kk + (lm >> 1) * 8;
        ldsm_x4(ar, pa);
        ldsm_x4(ai, pa + N2);
        const uint16_t* pb = Rc + (j0 + (lm >> 1) * 8 + lr) * SX + 16 * kk + (lm & 1) * 8;
        ldsm_x4(br, pb);
        ldsm_x4(bi, pb + N2);
        const uint32_t nbi[4] = {bi[0] ^ SIGN2, bi[1] ^ SIGN2, bi[2] ^ SIGN2, bi[3] ^ SIGN2};
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          mma16816<BF16>(gr[j], ar, br[2 * j], br[2 * j + 1]);
          mma16816<BF16>(gr[j], ai, bi[2 * j], bi[2 * j + 1]);
          mma16816<BF16>(gi[j], ai, br[2 * j], br[2 * j + 1]);
          mma16816<BF16>(gi[j], ar, nbi[2 * j], nbi[2 * j + 1]);
        }
      }
    }
    if (nst < steps) lpkb_gb_store_x<N1, N2, RPS, XPT>(sm + (cur ^ 1) * STAGE, xv);
  }
  asm volatile("cp.async.wait_all;\n" ::: "memory");
  __syncthreads();
  // the RPS row slots' accumulators of each unit summed through shared memory, then the block's partial
  float* red = reinterpret_cast<float*>(smraw);   // [warp][16 values][32 lanes]
#pragma unroll
  for (int j = 0; j < 2; ++j)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      red[(warp * 16 + 4 * j + e) * 32 + lane] = gr[j][e];
      red[(warp * 16 + 8 + 4 * j + e) * 32 + lane] = gi[j][e];
    }
  __syncthreads();
  float2* p = part + (size_t)blockIdx.x * N1 * N1;
  for (int i = threadIdx.x; i < N1 * N1; i += 256) p[i] = make_float2(0.f, 0.f);   // dead units
  __syncthreads();
  if (q == 0) {
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        float sr = 0.f, si = 0.f;
        for (int qq = 0; qq < RPS; ++qq) {
          sr += red[((qq * U + unit) * 16 + 4 * j + e) * 32 + lane];
          si += red[((qq * U + unit) * 16 + 8 + 4 * j + e) * 32 + lane];
        }
        const int i = i0 + g + 8 * (e >> 1), c = j0 + 8 * j + 2 * t + (e & 1);
        p[i * N1 + c] = make_float2(sr, si);
      }
  }
}

// 16 warps (32 x 32: 8 pairs; 16 x 16: 16 rows), 12 at 16 x 32 (one warp per row: at 16 ptxas spilled 40-72 bytes).
// Suffix f / a: the forward / adjoint chain with 4-byte dump stores; fs / as: staged dumps (ST); ask: as with dP / dQ in
// the chain (KF). Arguments fdump, dpq: KF only (else ignored).
#define LPKB_CHAIN1(SUF, IO, BF, N1, N2, OUT, ST, NAME, MAXT) LPKB_CHAINK(SUF, IO, BF, N1, N2, OUT, ST, false, NAME, MAXT)
#define LPKB_CHAINK(SUF, IO, BF, N1, N2, OUT, ST, KF, NAME, MAXT)                                                        \
  extern "C" __global__ void __launch_bounds__(MAXT, 1) lpkb_chain_##SUF##_##N1##x##N2##_##NAME(const IO* __restrict__ x, \
      const float4* __restrict__ pq, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L, uint16_t* __restrict__ dump, uint16_t* __restrict__ ins, int inslot,                   \
      const uint16_t* __restrict__ fdump, float4* __restrict__ dpq) {                                               \
    lpkb_chain<IO, BF, N1, N2, OUT, ST, KF>(x, pq, D, pb, out, B, H, L, dump, ins, inslot, fdump, dpq);             \
  }
#define LPKB_CHAIN(SUF, IO, BF, N1, N2, OUT, NAME, MAXT)                                                             \
  LPKB_CHAIN1(SUF, IO, BF, N1, N2, OUT, false, NAME, MAXT) LPKB_CHAIN1(SUF, IO, BF, N1, N2, OUT, true, NAME##s, MAXT)
#define LPKB_GRAMB(SUF, IO, BF, N1, N2)                                                                              \
  extern "C" __global__ void __launch_bounds__(256) lpkb_gram_b_##SUF##_##N1##x##N2##_x(const IO* __restrict__ x,       \
      const uint16_t* __restrict__ dump, int slot, float2* __restrict__ part, int rows, int L) {                     \
    lpkb_gram_b<IO, BF, N1, N2, true>(x, dump, slot, part, rows, L);                                                \
  }                                                                                                                  \
  extern "C" __global__ void __launch_bounds__(256) lpkb_gram_b_##SUF##_##N1##x##N2##_d(const IO* __restrict__ x,       \
      const uint16_t* __restrict__ dump, int slot, float2* __restrict__ part, int rows, int L) {                     \
    lpkb_gram_b<IO, BF, N1, N2, false>(x, dump, slot, part, rows, L);                                               \
  }
#define LPKB_TYPE(SUF, IO, BF)                                                                                       \
  LPKB_CHAIN(SUF, IO, BF, 32, 32, false, f, 512) LPKB_CHAIN(SUF, IO, BF, 32, 32, true, a, 512)                       \
  LPKB_CHAIN(SUF, IO, BF, 16, 32, false, f, 384) LPKB_CHAIN(SUF, IO, BF, 16, 32, true, a, 384)                       \
  LPKB_CHAIN(SUF, IO, BF, 16, 16, false, f, 512) LPKB_CHAIN(SUF, IO, BF, 16, 16, true, a, 512)                       \
  LPKB_CHAINK(SUF, IO, BF, 32, 32, true, true, true, ask, 512) LPKB_CHAINK(SUF, IO, BF, 16, 32, true, true, true, ask, 384) \
  LPKB_CHAINK(SUF, IO, BF, 16, 16, true, true, true, ask, 512)                                                     \
  LPKB_GRAMB(SUF, IO, BF, 32, 32) LPKB_GRAMB(SUF, IO, BF, 16, 32) LPKB_GRAMB(SUF, IO, BF, 16, 16)                   \
  extern "C" __global__ void __launch_bounds__(256) lpkb_dk_##SUF(const uint16_t* __restrict__ fd,                  \
      const uint16_t* __restrict__ ad, float2* __restrict__ g, int B, int H, int N1, int N2, float scale,           \
      const float4* __restrict__ dpq, int G) {                                                                       \
    lpkb_dk<IO>(fd, ad, g, B, H, N1, N2, scale, dpq, G);                                                            \
  }
LPKB_TYPE(bf16, __nv_bfloat16, true)
LPKB_TYPE(f16, __half, false)
// Session 13, helper pkbwd4: the N1 = 16 chains with their slot-3 Gram summed in the chain (GR; staged dumps, slot 3 not
// dumped): fsg the forward chain with dGa (xo = dy), asg the adjoint chain with dFa (xo = u); part: lbt_gram_reduce2's
// (gridDim.x, 16, 16) float2 partials. Warps as the other chains (16 at 16 x 16, 12 at 16 x 32).
#define LPKB_CHAING(SUF, IO, BF, N2, OUT, GR, NAME, MAXT)                                                              \
  extern "C" __global__ void __launch_bounds__(MAXT, 1) lpkb_chain_##SUF##_16x##N2##_##NAME(const IO* __restrict__ x,  \
      const float4* __restrict__ pq, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L, uint16_t* __restrict__ dump, const IO* __restrict__ xo, float2* __restrict__ part) {         \
    lpkb_chain<IO, BF, 16, N2, OUT, true, false, 16, GR>(x, pq, D, pb, out, B, H, L, dump, nullptr, 0, nullptr, nullptr, xo, part); \
  }
#define LPKB_CHAINGT(SUF, IO, BF)                                                                                     \
  LPKB_CHAING(SUF, IO, BF, 16, false, 1, fsg, 512) LPKB_CHAING(SUF, IO, BF, 16, true, 2, asg, 512)                   \
  LPKB_CHAING(SUF, IO, BF, 32, false, 1, fsg, 384) LPKB_CHAING(SUF, IO, BF, 32, true, 2, asg, 384)
LPKB_CHAINGT(bf16, __nv_bfloat16, true)
LPKB_CHAINGT(f16, __half, false)
// Session 13, helper pkmode: circular at 32 x 32 (L = N = 2048): the chains with the 32-row x stage (SR = 32; staged
// dumps, no fused dP / dQ), 12 warps (one row per pair, 384 threads: registers for step 1's second k16 block), suffix
// fs32 / as32; PackedLearnedBackward runs them on the ins route (lbt_gram on the ins dumps: lpkb_gram_b takes 16 rows).
#define LPKB_CHAINS32(SUF, IO, BF, OUT, NAME)                                                                           \
  extern "C" __global__ void __launch_bounds__(384, 1) lpkb_chain_##SUF##_32x32_##NAME(const IO* __restrict__ x,        \
      const float4* __restrict__ pq, const float* __restrict__ D, const uint16_t* __restrict__ pb, IO* __restrict__ out, \
      int B, int H, int L, uint16_t* __restrict__ dump, uint16_t* __restrict__ ins, int inslot,                   \
      const uint16_t* __restrict__ fdump, float4* __restrict__ dpq) {                                               \
    lpkb_chain<IO, BF, 32, 32, OUT, true, false, 32>(x, pq, D, pb, out, B, H, L, dump, ins, inslot, fdump, dpq);    \
  }
LPKB_CHAINS32(bf16, __nv_bfloat16, true, false, fs32) LPKB_CHAINS32(bf16, __nv_bfloat16, true, true, as32)
LPKB_CHAINS32(f16, __half, false, false, fs32) LPKB_CHAINS32(f16, __half, false, true, as32)
