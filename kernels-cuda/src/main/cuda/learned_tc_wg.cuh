// WG, the chained pair kernels with steps 2 and 3 on Hopper's wgmma (suffix pw; LearnedButterflyConv.wgmmaRows,
// -Dlongconv4j.learned.wgmma): included by learned_tc.cu only, after learned_tc_chain.cuh (uses lbc_stage_async,
// lbp_tw_load, lbp_out). Shapes: N1 = 32, N2 in {32, 64}. sm_90a only: the wgmma code is compiled into the sm_90a image
// (__CUDA_ARCH_FEAT_SM90_ALL); the sm_80 / compute_80 images get a kernel that traps (the driver never selects it there:
// LearnedButterflyConv runs pw only on compute capability 9.0).
//
// A warpgroup (4 warps) = two pairs = two rows b, b + 1 of one channel; warp q of the warpgroup holds row tile q & 1 of
// row q >> 1, i.e. rows 16 q .. 16 q + 15 of a 64-row matrix stacking the two rows' 32 x N2 matrices: exactly the M = 64
// of wgmma.m64nNk16, with every warp's 16 rows where lbc_steps (pc) keeps them. Steps 1 and 4 are pc's (mma.sync, per
// warp); steps 2 and 3, the complex right products C = A @ M (89 % of the FLOPs at 1K), run as
//   C[:, 32p .. 32p + 32) as [Cr | Ci] (n64) = sum_k  Ar_k @ [Mr | Mi]_p,k  +  Ai_k @ [-Mi | Mr]_p,k   (p < N2 / 32)
// with A from registers (wgmma's A fragment of m64nNk16 is per warp mma.m16n8k16's A fragment of the warp's 16 rows,
// and its fp32 accumulators per n8 tile are mma.m16n8's: the chaining of pc carries over unchanged: the accumulators of
// two neighbouring n8 tiles rounded to 16 bits are the next product's A fragment of one k16 tile) and the block B from
// shared memory, read once per 64 rows by the tensor cores (pc: every warp loads all of it per 16 rows by ldmatrix).
// B layouts (per product, pass p, matrix m in {[Mr | Mi], [-Mi | Mr]}): 64 n-rows x N2 k-values "K-major" without
// swizzle: 8 x 8 core matrices (8 n-rows of 16 bytes, contiguous 128 bytes), core (nb, kb) at (nb N2/8 + kb) 128 bytes:
// LBO (next core matrix along k) 128 bytes, SBO (next 8 n-rows) 16 N2 bytes; the k16 step kk starts 256 kk bytes on.
// Same products in the same k order per element, same roundings, same twiddles and Kp as pc, but the fp32 sums of a
// wgmma may be associated differently from mma.sync's chains: the GPU test bounds the difference to pc and to float64.
#pragma once

// Bytes of one product's wgmma B layouts (N2/32 passes x 2 matrices x 64 x N2 16-bit values). Step 2's (b2) go where the
// padded b2 / b3 planes of the block copy are (LbtLayout: 8 N2 (N2 + 8) bytes from sb + 2 A_EL; the WG kernels never read
// those planes), step 3's (b3) after the start-value table: pc's shared memory plus lbw_wgb_bytes (8 / 32 KB at N2 =
// 32 / 64), so that 32 x 64 fits 12 warps.
template <int N2>
__host__ __device__ constexpr int lbw_wgb_bytes() { return (N2 / 32) * 2 * 64 * N2 * 2; }
static_assert(lbw_wgb_bytes<32>() <= 8 * 32 * 40 && lbw_wgb_bytes<64>() <= 8 * 64 * 72, "b2's layouts fit the padded b2 / b3 planes");
static_assert(lbw_wgb_bytes<64>() + 8 * 8 * 64 * 8 / 8 <= 8 * 64 * 72, "pwt: rows 0-7 of step 3's twiddle table (8 rows x 64 float2) fit after b2's layouts");

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define LBW_WGMMA 1
#else
#define LBW_WGMMA 0
#endif

// The B layouts from the prepared (unpadded) blocks pb: product s (b2, b3) into w[s], pass p, matrix m at (p 2 + m) 4 PC
// N2 bytes. Every thread of the block takes 16-byte chunks (after a block barrier that follows the block copy: w[0] is
// its b2 / b3 region); then fence.proxy.async (the generic-proxy writes visible to wgmma), the caller's __syncthreads.
// PC: the columns of one pass (32: n64 matrices [Mr | Mi] of 32 columns each, pw; 16: n32 matrices, pw2p), P = N2 / PC
// passes; matrix (s, p, m) at ((s P + p) 2 + m) 4 PC N2 bytes (the same total for both PC).
template <int N2, int PC = 32>
__device__ __forceinline__ void lbw_build_b(const uint16_t* __restrict__ pb, unsigned char* w2, unsigned char* w3) {
  constexpr int P = N2 / PC, KB = N2 / 8, N1 = 32, NR = 2 * PC;   // NR: the matrix's n-rows
  constexpr int CH = 2 * P * 2 * NR * KB;   // 16-byte chunks over both products
  for (int i = threadIdx.x; i < CH; i += blockDim.x) {
    const int kb = i % KB, n = (i / KB) % NR, m = (i / (KB * NR)) % 2, p = (i / (KB * NR * 2)) % P, s = i / (KB * NR * 2 * P);
    const uint16_t* re = pb + 2 * N1 * N1 + 2 * s * N2 * N2;   // b2r (s = 0) or b3r, [n][k]; Im plane after it
    const uint16_t* im = re + N2 * N2;
    const int j = PC * p + (n % PC);
    const bool first = n < PC;
    const uint16_t* src = (m == 0 ? (first ? re : im) : (first ? im : re)) + j * N2 + 8 * kb;
    uint4 v = *reinterpret_cast<const uint4*>(src);
    if (m == 1 && first) { v.x ^= SIGN2; v.y ^= SIGN2; v.z ^= SIGN2; v.w ^= SIGN2; }   // -Mi
    *reinterpret_cast<uint4*>((s == 0 ? w2 : w3) + ((p * 2 + m) * 4 * PC * N2) + ((n >> 3) * KB + kb) * 128 + (n & 7) * 16) = v;
  }
#if LBW_WGMMA
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

// Matrix descriptor (no swizzle): start address >> 4, LBO >> 4 at bit 16, SBO >> 4 at bit 32, layout type 0.
__device__ __forceinline__ uint64_t lbw_desc(uint32_t addr, uint32_t lbo, uint32_t sbo) {
  return (uint64_t)((addr >> 4) & 0x3FFF) | ((uint64_t)((lbo >> 4) & 0x3FFF) << 16) | ((uint64_t)((sbo >> 4) & 0x3FFF) << 32);
}

// acc (m64n64, fp32) = (scaled ? acc : 0) + A (registers, this warp's 16 rows of the k16 tile) @ B (descriptor).
template <bool BF16>
__device__ __forceinline__ void lbw_mma(float (&c)[32], const uint32_t (&a)[4], uint64_t desc, int scaled) {
#if LBW_WGMMA
#define LBW_ACC "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3]), "+f"(c[4]), "+f"(c[5]), "+f"(c[6]), "+f"(c[7]), "+f"(c[8]), \
    "+f"(c[9]), "+f"(c[10]), "+f"(c[11]), "+f"(c[12]), "+f"(c[13]), "+f"(c[14]), "+f"(c[15]), "+f"(c[16]), "+f"(c[17]),   \
    "+f"(c[18]), "+f"(c[19]), "+f"(c[20]), "+f"(c[21]), "+f"(c[22]), "+f"(c[23]), "+f"(c[24]), "+f"(c[25]), "+f"(c[26]),  \
    "+f"(c[27]), "+f"(c[28]), "+f"(c[29]), "+f"(c[30]), "+f"(c[31])
#define LBW_REGS "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, " \
    "%23, %24, %25, %26, %27, %28, %29, %30, %31}, {%32, %33, %34, %35}, %36, p, 1, 1, 0;\n}\n"
  if constexpr (BF16)
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\nwgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 " LBW_REGS
                 : LBW_ACC : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc), "r"(scaled));
  else
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\nwgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 " LBW_REGS
                 : LBW_ACC : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc), "r"(scaled));
#undef LBW_ACC
#undef LBW_REGS
#else
  (void)c; (void)a; (void)desc; (void)scaled;
  __trap();
#endif
}

// acc (m64n32, fp32) = (scaled ? acc : 0) + A @ B, as lbw_mma (the pw2p kernels' 16-column passes).
template <bool BF16>
__device__ __forceinline__ void lbw_mma32(float (&c)[16], const uint32_t (&a)[4], uint64_t desc, int scaled) {
#if LBW_WGMMA
#define LBW_ACC "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3]), "+f"(c[4]), "+f"(c[5]), "+f"(c[6]), "+f"(c[7]), "+f"(c[8]), \
    "+f"(c[9]), "+f"(c[10]), "+f"(c[11]), "+f"(c[12]), "+f"(c[13]), "+f"(c[14]), "+f"(c[15])
#define LBW_REGS "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15}, {%16, %17, %18, %19}, %20, p, 1, 1, 0;\n}\n"
  if constexpr (BF16)
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %21, 0;\nwgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 " LBW_REGS
                 : LBW_ACC : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc), "r"(scaled));
  else
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %21, 0;\nwgmma.mma_async.sync.aligned.m64n32k16.f32.f16.f16 " LBW_REGS
                 : LBW_ACC : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc), "r"(scaled));
#undef LBW_ACC
#undef LBW_REGS
#else
  (void)c; (void)a; (void)desc; (void)scaled;
  __trap();
#endif
}

// One pass p of a chained right product: acc = [Cr | Ci] of the columns 32 p + [0, 32) of the warpgroup's 64 rows.
// wgb: this product's layouts (shared address); ar / ai: the k-tiles of the own 16 rows (wgmma's A fragments).
template <bool BF16, int N2>
__device__ __forceinline__ void lbw_product(float (&acc)[32], const uint32_t (&ar)[N2 / 16][4], const uint32_t (&ai)[N2 / 16][4],
                                            uint32_t wgb, int p) {
  constexpr int JP = N2 / 16;
#if LBW_WGMMA
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
#pragma unroll
  for (int kk = 0; kk < JP; ++kk) {
    const uint32_t base = wgb + (uint32_t)(2 * p * 128 * N2 + 256 * kk);
    lbw_mma<BF16>(acc, ar[kk], lbw_desc(base, 128, 16 * N2), kk > 0);
    lbw_mma<BF16>(acc, ai[kk], lbw_desc(base + 128 * N2, 128, 16 * N2), 1);
  }
#if LBW_WGMMA
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
  asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
#endif
}

// lbw_product with the descriptors precomputed (pwd, LearnedButterflyConv.wgmmaDescriptors, lbf10): dlo / dhi are the low /
// high 32 bits of lbw_desc(wgb, 128, 16 N2), built once per block; a step's descriptor adds its byte offset >> 4 to the
// low word only (the start address field, bits 0-13: shared addresses stay below 256 KB = 2^14 * 16, so no carry into
// the LBO field), where lbw_product rebuilds every descriptor from the address (shift, mask, or) for every row (lbf6-3
// ncu: 350 uniform-datapath instructions per row at 1K). The same wgmmas with the same operands: bitwise lbw_product.
template <int N2>
__device__ __forceinline__ uint64_t lbw_desc_at(uint32_t dlo, uint32_t dhi, uint32_t off) {
  uint64_t d;
  asm("mov.b64 %0, {%1, %2};" : "=l"(d) : "r"(dlo + (off >> 4)), "r"(dhi));
  return d;
}
template <bool BF16, int N2>
__device__ __forceinline__ void lbw_product_d(float (&acc)[32], const uint32_t (&ar)[N2 / 16][4], const uint32_t (&ai)[N2 / 16][4],
                                              uint32_t dlo, uint32_t dhi, int p) {
  constexpr int JP = N2 / 16;
#if LBW_WGMMA
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
#pragma unroll
  for (int kk = 0; kk < JP; ++kk) {
    const uint32_t off = (uint32_t)(2 * p * 128 * N2 + 256 * kk);
    lbw_mma<BF16>(acc, ar[kk], lbw_desc_at<N2>(dlo, dhi, off), kk > 0);
    lbw_mma<BF16>(acc, ai[kk], lbw_desc_at<N2>(dlo, dhi, off + 128 * N2), 1);
  }
#if LBW_WGMMA
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
  asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
#endif
}

// Step 1 of lbw_steps and lbw_steps_ov for the warp's own 16-row tile r0 (all columns): X1 = (a1 @ X) * T as step 2's
// A fragments ar / ai (k-tile jp); xs, kt, tw0, tw1, RESTART as lbc_steps; a1r: a1's Re plane (Im A_EL on). The code of
// lbc_steps's step 1 at N1 = 32, which keeps its own copy: calling this from lbc_steps changed the machine code of the
// N1 = 16 kernels (f2c, f2ck, f2cg: other loop-invariant hoisting in lbc_row16's staging; dd2's machine-code check).
template <bool BF16, int N2, int XS, int RESTART>
__device__ __forceinline__ void lbw_step1(const uint16_t* xs, int kt, int r0, const uint16_t* a1r, const float2* tw0,
                                          const float2* tw1, uint32_t (&ar)[N2 / 16][4], uint32_t (&ai)[N2 / 16][4]) {
  using Lo = LbtLayout<32, N2>;
  constexpr int JP = N2 / 16, KT1 = 2;
  const int lane = threadIdx.x & 31, lr = lane & 7, lm = lane >> 3;
  const uint16_t* a1i = a1r + Lo::A_EL;
  uint32_t fr[KT1][4], fi[KT1][4];
#pragma unroll
  for (int kk = 0; kk < KT1; ++kk)
    if (kk < kt) {
      const int aoff = (r0 + (lm & 1) * 8 + lr) * Lo::SA + 16 * kk + (lm >> 1) * 8;
      ldsm_x4(fr[kk], a1r + aoff);
      ldsm_x4(fi[kk], a1i + aoff);
    }
  float2 cur[4], stp[2];
#pragma unroll
  for (int jp = 0; jp < JP; ++jp) {
    if (jp == 0 || jp == RESTART) lbp_tw_load(jp == 0 ? tw0 : tw1, cur, stp);
    uint32_t xb[KT1][4];
#pragma unroll
    for (int kk = 0; kk < KT1; ++kk)
      if (kk < kt) ldsm_x4_t(xb[kk], xs + (16 * kk + (lm & 1) * 8 + lr) * XS + 16 * jp + (lm >> 1) * 8);
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float cr[4] = {0.f, 0.f, 0.f, 0.f}, ci[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
      for (int kk = 0; kk < KT1; ++kk)
        if (kk < kt) {
          mma16816<BF16>(cr, fr[kk], xb[kk][2 * j], xb[kk][2 * j + 1]);
          mma16816<BF16>(ci, fi[kk], xb[kk][2 * j], xb[kk][2 * j + 1]);
        }
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const float2 w0 = cur[2 * h], w1 = cur[2 * h + 1];
        cur[2 * h] = cmul(w0, stp[h]); cur[2 * h + 1] = cmul(w1, stp[h]);
        const float2 v0 = cmul(make_float2(cr[2 * h], ci[2 * h]), w0), v1 = cmul(make_float2(cr[2 * h + 1], ci[2 * h + 1]), w1);
        ar[jp][2 * j + h] = pack2<BF16>(v0.x, v1.x);
        ai[jp][2 * j + h] = pack2<BF16>(v0.y, v1.y);
      }
    }
  }
}

// lbc_steps without dumps, steps 2 and 3 on wgmma (the whole warpgroup must call it together). Arguments as lbc_steps;
// wg2 / wg3: the shared addresses of b2's / b3's layouts. Step 1 is lbc_steps's (mma.sync on the own 16 rows).
// PD (pwd): wg2 / wg3 are the low words of the descriptors (lbw_product_d), dhi their common high word; else (pw) the
// shared addresses (lbw_product) and dhi unused.
// TT (pwt, lbf11, LearnedButterflyConv.wgmmaTwiddleTable): step 3's twiddles read from the block's table t3 (lbw_tw3_build:
// the same recurrence's values, built once per block) instead of the recurrence per row (4 FP instructions per element).
template <bool BF16, int N2, int XS, int RESTART, bool PD = false, bool TT = false>
__device__ __forceinline__ void lbw_steps(const uint16_t* xs, int kt, int r0, bool conjK, const uint16_t* sb, const float2* kp,
                                          const float2* tw0, const float2* tw1, const float2* tw3, uint16_t* Xh, uint32_t wg2,
                                          uint32_t wg3, uint32_t dhi = 0, const float4* tA = nullptr, const float4* tB = nullptr) {
  using Lo = LbtLayout<32, N2>;
  constexpr int N = 32 * N2, JP = N2 / 16, P = N2 / 32;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  // ---- step 1 (own rows, all columns): X1 = (a1 @ X) * T as step 2's A fragments (lbc_steps's step 1: lbw_step1)
  uint32_t ar[JP][4], ai[JP][4];
  lbw_step1<BF16, N2, XS, RESTART>(xs, kt, r0, sb, tw0, tw1, ar, ai);
  // ---- step 2 (wgmma): P = (X1 @ b2) * Kp as step 3's A fragments; n8 tile c of the pass: Cr acc[4c..], Ci acc[16 + 4c..]
  uint32_t pr[JP][4], pi[JP][4];
#pragma unroll
  for (int p = 0; p < P; ++p) {
    float acc[32];
    if constexpr (PD) lbw_product_d<BF16, N2>(acc, ar, ai, wg2, dhi, p);
    else lbw_product<BF16, N2>(acc, ar, ai, wg2, p);
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      const int jp = 2 * p + (c >> 1), j = c & 1;
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = g + 8 * h, col = 16 * jp + 8 * j + 2 * t;
        const float4 kv = *reinterpret_cast<const float4*>(kp + (r0 + row) * Lo::SK + col);
        float2 k0 = make_float2(kv.x, kv.y), k1 = make_float2(kv.z, kv.w);
        if (conjK) { k0.y = -k0.y; k1.y = -k1.y; }
        const float2 v0 = cmul(make_float2(acc[4 * c + 2 * h], acc[16 + 4 * c + 2 * h]), k0),
                     v1 = cmul(make_float2(acc[4 * c + 2 * h + 1], acc[16 + 4 * c + 2 * h + 1]), k1);
        pr[jp][2 * j + h] = pack2<BF16>(v0.x, v1.x);
        pi[jp][2 * j + h] = pack2<BF16>(v0.y, v1.y);
      }
    }
  }
  // ---- step 3 (wgmma): X3 = (P @ b3) * conj(T) / N into Xh; the twiddle recurrence walks the columns in pc's order
  const float invN = 1.0f / (float)N;
  float2 cur[4], stp[2];
  if constexpr (!TT) {
    lbp_tw_load(tw3, cur, stp);
#pragma unroll
    for (int e = 0; e < 4; ++e) cur[e] = make_float2(cur[e].x * invN, cur[e].y * invN);
  }
  // TT: the lane's rows r0 + g (tA for r0 = 0) and r0 + g + 8 (tB), 16-byte chunk 8 jp + (4 j + t) ^ 4 (g & 1) (lbw_tw3_build)
  const float4 *t3h0 = (r0 == 0 ? tA + g * (N2 / 2) : tB + (r0 + g - 8) * (N2 / 2)), *t3h1 = tB + (r0 + g) * (N2 / 2);
  const int t3o0 = t + 4 * (g & 1), t3o1 = t + 4 - 4 * (g & 1);
#pragma unroll
  for (int p = 0; p < P; ++p) {
    float acc[32];
    if constexpr (PD) lbw_product_d<BF16, N2>(acc, pr, pi, wg3, dhi, p);
    else lbw_product<BF16, N2>(acc, pr, pi, wg3, p);
    // TT: the pass's 8 table loads issued together before its stores (st_pair into Xh may alias the table for the
    // compiler, which then keeps every load behind the previous store: lbf11-1's ncu, short scoreboard 0.61 -> 1.23)
    float4 tw4s[TT ? 4 : 1][2];
    if constexpr (TT) {
#pragma unroll
      for (int c = 0; c < 4; ++c)
#pragma unroll
        for (int h = 0; h < 2; ++h) tw4s[c][h] = (h ? t3h1 : t3h0)[((c & 1) ? t3o1 : t3o0) + 8 * (2 * p + (c >> 1))];
    }
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      const int jp = 2 * p + (c >> 1), j = c & 1;
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = g + 8 * h, col = 16 * jp + 8 * j + 2 * t;
        float2 v[2];
        float4 tw4;
        if constexpr (TT) tw4 = tw4s[c][h];
#pragma unroll
        for (int q = 0; q < 2; ++q) {
          const int e = 2 * h + q;
          float2 w;
          if constexpr (TT) w = q ? make_float2(tw4.z, tw4.w) : make_float2(tw4.x, tw4.y);
          else { w = cur[e]; cur[e] = cmul(w, stp[h]); }
          const float c_r = acc[4 * c + e], c_i = acc[16 + 4 * c + e];
          v[q] = make_float2(c_r * w.x + c_i * w.y, c_i * w.x - c_r * w.y);
        }
        st_pair<BF16>(Xh + row * Lo::SX + col, v[0].x, v[1].x);
        st_pair<BF16>(Xh + row * Lo::SX + N2 + col, v[0].y, v[1].y);
      }
    }
  }
  __syncwarp();
}

// ---- pwo (lbf10, LearnedButterflyConv.wgmmaOverlap): pwd with steps 2 and 3 in 16-column passes (m64n32k16, the
// matrices [Mr | Mi] of 16 columns each: lbw_build_b<N2, 16>, pw2p's layouts) on two accumulator sets of 16 registers
// (pw's 32 in all), issued one pass ahead: pass jp + 1's wgmmas run on the tensor cores while pass jp's epilogue (Kp /
// twiddles, 16-bit packing) runs on the warp, where pw waits for each pass's wgmmas before its epilogue
// (lbf10-1 ncu: WARPGROUP.DEPBAR the top stall of pw at 1K). Twice as many (half as wide) wgmmas. Per element the same
// products in the same k order, the same Kp, twiddle recurrence order and roundings as pw.
template <int N> __device__ __forceinline__ void lbw_wait() {
#if LBW_WGMMA
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" :: "n"(N) : "memory");
#endif
}
// Keeps the compiler from moving accumulator reads / writes across the wgmma issue and wait points.
__device__ __forceinline__ void lbw_fence_acc(float (&c)[16]) {
#pragma unroll
  for (int i = 0; i < 16; ++i) asm volatile("" : "+f"(c[i]) :: "memory");
}
// Issues (no wait) the 16-column pass jp of a chained right product into acc, one commit group.
template <bool BF16, int N2>
__device__ __forceinline__ void lbw_issue32(float (&acc)[16], const uint32_t (&ar)[N2 / 16][4], const uint32_t (&ai)[N2 / 16][4],
                                            uint32_t dlo, uint32_t dhi, int jp) {
  constexpr int JP = N2 / 16, MAT = 64 * N2;
  lbw_fence_acc(acc);
#if LBW_WGMMA
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
#pragma unroll
  for (int kk = 0; kk < JP; ++kk) {
    lbw_mma32<BF16>(acc, ar[kk], lbw_desc_at<N2>(dlo, dhi, (uint32_t)(2 * jp * MAT + 256 * kk)), kk > 0);
    lbw_mma32<BF16>(acc, ai[kk], lbw_desc_at<N2>(dlo, dhi, (uint32_t)((2 * jp + 1) * MAT + 256 * kk)), 1);
  }
#if LBW_WGMMA
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
#endif
  lbw_fence_acc(acc);
}
// Waits until pass jp's group is done (one later group may stay in flight).
template <int JP>
__device__ __forceinline__ void lbw_wait_pass(int jp, float (&acc)[16]) {
  if (jp + 1 < JP) lbw_wait<1>(); else lbw_wait<0>();
  lbw_fence_acc(acc);
}

// lbw_steps for pwo: step 1 as lbw_steps; dlo2 / dlo3: low words of step 2's / 3's descriptors (16-column layouts), dhi
// their high word.
template <bool BF16, int N2, int XS, int RESTART>
__device__ __forceinline__ void lbw_steps_ov(const uint16_t* xs, int kt, int r0, bool conjK, const uint16_t* sb, const float2* kp,
                                             const float2* tw0, const float2* tw1, const float2* tw3, uint16_t* Xh, uint32_t dlo2,
                                             uint32_t dlo3, uint32_t dhi) {
  using Lo = LbtLayout<32, N2>;
  constexpr int N = 32 * N2, JP = N2 / 16;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  // ---- step 1 (own rows, all columns): lbw_steps's
  uint32_t ar[JP][4], ai[JP][4];
  lbw_step1<BF16, N2, XS, RESTART>(xs, kt, r0, sb, tw0, tw1, ar, ai);
  // ---- step 2: P = (X1 @ b2) * Kp, pass jp + 1 in flight during pass jp's epilogue; Cr of n8 tile j at acc[4 j..], Ci at acc[8 + 4 j..]
  uint32_t pr[JP][4], pi[JP][4];
  float acc[2][16];
  lbw_issue32<BF16, N2>(acc[0], ar, ai, dlo2, dhi, 0);
  lbw_issue32<BF16, N2>(acc[1], ar, ai, dlo2, dhi, 1);
#pragma unroll
  for (int jp = 0; jp < JP; ++jp) {
    float (&a)[16] = acc[jp & 1];
    lbw_wait_pass<JP>(jp, a);
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = g + 8 * h, col = 16 * jp + 8 * j + 2 * t;
        const float4 kv = *reinterpret_cast<const float4*>(kp + (r0 + row) * Lo::SK + col);
        float2 k0 = make_float2(kv.x, kv.y), k1 = make_float2(kv.z, kv.w);
        if (conjK) { k0.y = -k0.y; k1.y = -k1.y; }
        const float2 v0 = cmul(make_float2(a[4 * j + 2 * h], a[8 + 4 * j + 2 * h]), k0),
                     v1 = cmul(make_float2(a[4 * j + 2 * h + 1], a[8 + 4 * j + 2 * h + 1]), k1);
        pr[jp][2 * j + h] = pack2<BF16>(v0.x, v1.x);
        pi[jp][2 * j + h] = pack2<BF16>(v0.y, v1.y);
      }
    if (jp + 2 < JP) lbw_issue32<BF16, N2>(a, ar, ai, dlo2, dhi, jp + 2);
  }
  // ---- step 3: X3 = (P @ b3) * conj(T) / N into Xh (pw's twiddle order), pass jp + 1 in flight during pass jp's epilogue
  const float invN = 1.0f / (float)N;
  float2 cur[4], stp[2];
  lbw_issue32<BF16, N2>(acc[0], pr, pi, dlo3, dhi, 0);
  lbw_issue32<BF16, N2>(acc[1], pr, pi, dlo3, dhi, 1);
  lbp_tw_load(tw3, cur, stp);
#pragma unroll
  for (int e = 0; e < 4; ++e) cur[e] = make_float2(cur[e].x * invN, cur[e].y * invN);
#pragma unroll
  for (int jp = 0; jp < JP; ++jp) {
    float (&a)[16] = acc[jp & 1];
    lbw_wait_pass<JP>(jp, a);
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = g + 8 * h, col = 16 * jp + 8 * j + 2 * t;
        float2 v[2];
#pragma unroll
        for (int q = 0; q < 2; ++q) {
          const int e = 2 * h + q;
          const float2 w = cur[e];
          cur[e] = cmul(w, stp[h]);
          const float c_r = a[4 * j + e], c_i = a[8 + 4 * j + e];
          v[q] = make_float2(c_r * w.x + c_i * w.y, c_i * w.x - c_r * w.y);
        }
        st_pair<BF16>(Xh + row * Lo::SX + col, v[0].x, v[1].x);
        st_pair<BF16>(Xh + row * Lo::SX + N2 + col, v[0].y, v[1].y);
      }
    if (jp + 2 < JP) lbw_issue32<BF16, N2>(a, pr, pi, dlo3, dhi, jp + 2);
  }
  __syncwarp();
}

// pwt (lbf11): step 3's twiddles of both row tiles as a block table (32 rows x N2 columns of float2, 16 KB at N2 = 64) in
// two parts: rows 0-7 in tA (the 4 KB of the padded b2 / b3 planes that b2's wgmma layouts leave free: pw never reads
// those planes), rows 8-31 in tB (after b3's layouts: 12 KB more shared memory; all 16 KB there would exceed 227 KB by
// 128 bytes at 12 warps),
// built by 64 threads (half, lane) running exactly lbw_steps's step-3 recurrence (start values twi's slot half * 3 + 2
// times 1 / N, then cmul by stp per column in the same column order), so every stored value is bitwise the value the row
// loop would compute. Layout: row r, column c at float2 index r N2 + 2 ((c >> 1) ^ 4 (r & 1)) + (c & 1) — the 16-byte
// chunk XOR 4 on odd rows, so that the 8 lanes of a quarter warp (rows g, g + 1; t = 0..3) of an LDS.128 hit distinct banks.
// After twi is complete; the caller's __syncthreads before the rows read it.
template <int N2>
__device__ __forceinline__ float2* lbw_tw3_row(float2* tA, float2* tB, int r) { return r < 8 ? tA + r * N2 : tB + (r - 8) * N2; }
template <int N2>
__device__ void lbw_tw3_build(const float2* twi, float2* tA, float2* tB) {
  constexpr int N = 32 * N2, P = N2 / 32;
  const float invN = 1.0f / (float)N;
  for (int i = threadIdx.x; i < 64; i += blockDim.x) {
    const int half = i >> 5, lane = i & 31, g = lane >> 2, t = lane & 3, r0 = 16 * half;
    float2 cur[4], stp[2];
    lbp_tw_load(twi + (half * 3 + 2) * 6 * 32 + lane, cur, stp);
#pragma unroll
    for (int e = 0; e < 4; ++e) cur[e] = make_float2(cur[e].x * invN, cur[e].y * invN);
#pragma unroll 1
    for (int p = 0; p < P; ++p)
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const int jp = 2 * p + (c >> 1), j = c & 1;
#pragma unroll
        for (int h = 0; h < 2; ++h)
#pragma unroll
          for (int q = 0; q < 2; ++q) {
            const int e = 2 * h + q, r = r0 + g + 8 * h, col = 16 * jp + 8 * j + 2 * t + q;
            const float2 w = cur[e];
            cur[e] = cmul(w, stp[h]);
            lbw_tw3_row<N2>(tA, tB, r)[2 * ((col >> 1) ^ (4 * (r & 1))) + (col & 1)] = w;
          }
      }
  }
}

// Channel h's rows, block part blockIdx.x of gridDim.x (grid (gx, H)), block 32 W (W a multiple of 4): pair pr takes
// rows b = bx R + pr + i gx R (R = W / 2 pairs), as lbc_rows; the loop runs while the warpgroup's first row is below B
// (wgmma needs all 4 warps), a pair whose row is >= B (odd tails) computes on the first row's x and writes nothing.
// Buffers per pair as lbc_rows (lbc_pair_el); w2 / w3: the B layouts of steps 2 / 3 (lbw_build_b).
template <typename IO, bool BF16, int N2, bool PD = false, bool OV = false, bool TT = false>
__device__ void lbw_rows(const IO* __restrict__ x, IO* __restrict__ out, float d, int B, int H, int L, int conjK, uint16_t* bufs,
                         const uint16_t* sb, const float2* skp, const float2* twi, const unsigned char* w2, const unsigned char* w3,
                         const float4* tA = nullptr, const float4* tB = nullptr) {
  using Lo = LbtLayout<32, N2>;
  constexpr int JPW = N2 / 32, SS = N2 + 8;
  const int h = blockIdx.y, R = blockDim.x >> 6, pair = threadIdx.x >> 6, half = (threadIdx.x >> 5) & 1, lane = threadIdx.x & 31;
  uint16_t *X = bufs + pair * lbc_pair_el<N2>(), *S0 = X + Lo::WARP_BYTES / 2, *S1 = S0 + 32 * SS;
  uint32_t wg2 = (uint32_t)__cvta_generic_to_shared(w2), wg3 = (uint32_t)__cvta_generic_to_shared(w3), dhi = 0;
  if constexpr (PD) {   // pwd: the descriptors' words once per block (lbw_product_d)
    const uint64_t d2 = lbw_desc(wg2, 128, 16 * N2), d3 = lbw_desc(wg3, 128, 16 * N2);
    wg2 = (uint32_t)d2; wg3 = (uint32_t)d3; dhi = (uint32_t)(d2 >> 32);
  }
  const int kt = ((L + N2 - 1) / N2 + 15) >> 4, stride = gridDim.x * R;
  const bool vec = (L & 7) == 0;
  int bw = blockIdx.x * R + (pair & ~1);   // the warpgroup's first row
  auto rowOf = [&](int b0) { const int b = b0 + (pair & 1); return b < B ? b : b0; };
  if (vec && bw < B) lbc_stage_async<N2, IO>(x + ((size_t)rowOf(bw) * H + h) * L, S0, L, kt, half);
  const uint16_t* a4r = sb + 2 * Lo::A_EL + 4 * Lo::B_EL;
#pragma unroll 1
  for (int it = 0; bw < B; bw += stride, ++it) {
    uint16_t *Sc = (it & 1) ? S1 : S0, *Sn = (it & 1) ? S0 : S1;
    const int b = rowOf(bw);
    const bool valid = bw + (pair & 1) < B;
    const IO* xrow = x + ((size_t)b * H + h) * L;
    if (vec) asm volatile("cp.async.wait_all;\n" ::: "memory");
    else for (int i = 32 * half + lane; i < 16 * kt * N2; i += 64) {   // any L: synchronous element loads
      const int r = i / N2, c = i - r * N2;
      st(reinterpret_cast<IO*>(Sc) + r * SS + c, i < L ? ld(xrow + i) : 0.f);
    }
    asm volatile("bar.sync %0, 64;\n" :: "r"(1 + pair) : "memory");
    if (vec && bw + stride < B) lbc_stage_async<N2, IO>(x + ((size_t)rowOf(bw + stride) * H + h) * L, Sn, L, kt, half);
    if constexpr (OV)   // pwo (PD too: wg2 / wg3 the descriptors' low words of the 16-column layouts)
      lbw_steps_ov<BF16, N2, SS, JPW>(Sc, kt, 16 * half, conjK != 0, sb, skp, twi + half * 6 * 32 + lane, twi + (3 + half) * 6 * 32 + lane,
                                      twi + (half * 3 + 2) * 6 * 32 + lane, X + 16 * half * Lo::SX, wg2, wg3, dhi);
    else
      lbw_steps<BF16, N2, SS, JPW, PD, TT>(Sc, kt, 16 * half, conjK != 0, sb, skp, twi + half * 6 * 32 + lane, twi + (3 + half) * 6 * 32 + lane,
                                           twi + (half * 3 + 2) * 6 * 32 + lane, X + 16 * half * Lo::SX, wg2, wg3, dhi, tA, tB);
    asm volatile("bar.sync %0, 64;\n" :: "r"(1 + pair) : "memory");
    if (valid) lbp_out<IO, BF16, N2>(xrow, out + ((size_t)b * H + h) * L, d, L, X, a4r, a4r + Lo::A_EL, kt, half * (N2 / 2),
                                     half * JPW, Sc);
  }
}

#include "learned_tc_wg2.cuh"
