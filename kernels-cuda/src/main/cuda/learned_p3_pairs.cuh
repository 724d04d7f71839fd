// Shapes: as learned_p3.cu (a middle block's planes zr / zi: 16384 plane indices through SIDX, 16-bit ST; pq (H, M)
// float4 {P_p, Q_p} per channel and position; B batch, H channels, h0 the chunk's first channel).
//
// Session 30: the pair maps of the inner-only middles (learned_p3b.cu's p3_mid16 at ONE = 2 / 4 / 5 / 6) with their
// work enumerated rather than filtered. The twins, learned_p3.cu's p3_pairmap1 / 4 / q / 2k, walk every plane index
// and drop the upper element of each pair: half of their iterations do only index arithmetic, and at ONE = 4 / 6 every
// pair divides by B for its row's channel and loads the two coefficients again for each of the block's rows (ncu source
// counters, bench-runs/s30 s2: p3_pairmap2k was ~24 % of lp3g_2kbmid0x's instructions and ~32 % of lp3g_2kbmid2's).
// Here a slot pair's pairs {(t, p), (t + 1, R - 1 - p)} are work items by p (none skipped); a self-paired row's items
// are its positions p, the upper ones skipped as in the twins (enumerating them by frequency k, {pos(k), pos(-k)}, was
// measured slower at M = 4096 / 8192, bench-runs/s30 s3: both accesses of a warp then scatter over the banks and the
// coefficients' cache lines, where the twins' first one is contiguous). Where the block's rows share the pair's
// positions one item runs over all of them: at ONE = 4 / 6 with the coefficients loaded once and again only where a row's
// channel differs from the row before it (channels never decrease with the row); at ONE = 2 each of the two rows with its
// own channel's coefficients, as given.
// Each pair gets p3_pair's products of the same 16-bit values with the same coefficients as in the twin (which of the
// two elements is named first does not matter: each element's new value is p3_pair(its own coefficients, itself, its
// partner): learned_p3.cu's p3_pair_ab, which the twins call too), so the planes end bit for bit as the twins leave them:
// PackedPairMapGpuTest, through learned_p3pm.cu.
#pragma once

// The pair (a, b) in each of the NR rows of RL plane indices (row r: + r RL), the coefficients at offsets ea / eb of
// channel row r's (pq + (channel << LM)), the channel of row r min(h0 + (c0 + r) / B, H - 1).
template <int NR, int RL, int LM, typename ST>
__device__ __forceinline__ void p3_pair_rows(ST* zr, ST* zi, const float4* __restrict__ pq, int a, int b, int ea, int eb,
                                             int hf, int hl, int h0, int B, int H, int c0) {
  int h = hf;
  float4 ca = pq[((size_t)h << LM) + ea], cb = pq[((size_t)h << LM) + eb];
#pragma unroll 2
  for (int r = 0; r < NR; ++r) {
    if (hf != hl) {
      const int hr = min(h0 + (c0 + r) / B, H - 1);
      if (hr != h) { h = hr; ca = pq[((size_t)h << LM) + ea]; cb = pq[((size_t)h << LM) + eb]; }
    }
    p3_pair_ab(zr, zi, r * RL + a, r * RL + b, ca, cb);
  }
}

// M = 2048 (ONE = 6; twin p3_pairmap2k): 8 chunk rows c0 .. c0 + 7 of 8 slots of 256 (slot t: inner row p3_qrow(t, 8)).
// Items j < 768: slots t = 2, 4, 6 with t + 1, p = j mod 256 with 255 - p; 768 .. 1023: slot 0 (row 0), p = j - 768 with
// pos2(-pos2(p)) where that is not lower; 1024 .. 1151: slot 1 (row 4), p < 128 with 255 - p.
template <typename ST>
__device__ __forceinline__ void p3_pairs2k(ST* zr, ST* zi, const float4* __restrict__ pq, int h0, int B, int H, int c0) {
  const int hf = min(h0 + c0 / B, H - 1), hl = min(h0 + (c0 + 7) / B, H - 1);
  for (int j = threadIdx.x; j < 1152; j += blockDim.x) {
    int t, u, p, q;
    if (j < 768) { t = 2 + 2 * (j >> 8); u = t + 1; p = j & 255; q = 255 - p; }
    else if (j < 1024) { t = u = 0; p = j - 768; q = p3_pos2((256 - p3_pos2(p)) & 255); if (q < p) continue; }
    else { t = u = 1; p = j - 1024; q = 255 - p; }
    const int ea = (p3_qrow(t, 8) << 8) + p, eb = (p3_qrow(u, 8) << 8) + q;
    p3_pair_rows<8, 2048, 11>(zr, zi, pq, (t << 8) + p, (u << 8) + q, ea, eb, hf, hl, h0, B, H, c0);
  }
}

// M = 4096 (ONE = 4; twin p3_pairmap4): 4 chunk rows c0 .. c0 + 3 of 4096, each self-paired: item p < 4096 is p with
// pos4(-freq4(p)) in every row where that is not lower.
template <typename ST>
__device__ __forceinline__ void p3_pairs4(ST* zr, ST* zi, const float4* __restrict__ pq, int h0, int B, int H, int c0) {
  const int hf = min(h0 + c0 / B, H - 1), hl = min(h0 + (c0 + 3) / B, H - 1);
  for (int p = threadIdx.x; p < 4096; p += blockDim.x) {
    const int q = p3_pos4((4096 - p3_freq4(p)) & 4095);
    if (q < p) continue;
    p3_pair_rows<4, 4096, 12>(zr, zi, pq, p, q, p, q, hf, hl, h0, B, H, c0);
  }
}

// M = N1 x 4096 (ONE = 5; twin p3_pairmapq): block x's slots 4 x .. 4 x + 3 of one row, c its channel's coefficients
// (inner row k1 at k1 4096). Items j < 4096: slot 2 with 3, p = j with 4095 - p; 4096 .. 8191 at x != 0: slot 0 with 1
// likewise; at x = 0 (slots 0 and 1 are inner rows 0 and N1 / 2, each self-paired): 4096 .. 8191 slot 0, p = j - 4096
// with pos4(-freq4(p)) where that is not lower, 8192 .. 10239 slot 1, p < 2048 with 4095 - p.
template <typename ST>
__device__ __forceinline__ void p3_pairsq(ST* zr, ST* zi, const float4* __restrict__ c, int N1, int x) {
  const int n = x == 0 ? 10240 : 8192;
  for (int j = threadIdx.x; j < n; j += blockDim.x) {
    int s, u, p, q;
    if (j < 4096) { s = 2; u = 3; p = j; q = 4095 - p; }
    else if (x != 0) { s = 0; u = 1; p = j - 4096; q = 4095 - p; }
    else if (j < 8192) { s = u = 0; p = j - 4096; q = p3_pos4((4096 - p3_freq4(p)) & 4095); if (q < p) continue; }
    else { s = u = 1; p = j - 8192; q = 4095 - p; }
    const float4 cp = c[(p3_qrow(4 * x + s, N1) << 12) + p], cq = c[(p3_qrow(4 * x + u, N1) << 12) + q];
    p3_pair_ab(zr, zi, (s << 12) + p, (u << 12) + q, cp, cq);
  }
}

// M = 8192 (ONE = 2; twin p3_pairmap1): rows a = [0, 8192) (coefficients ca) and b = [8192, 16384) (cb), each
// self-paired: item p < 8192 is p with pos(-freq(p)) in both rows where that is not lower.
template <typename ST>
__device__ __forceinline__ void p3_pairs1(ST* zr, ST* zi, const float4* __restrict__ ca, const float4* __restrict__ cb) {
  for (int p = threadIdx.x; p < P3_IN; p += blockDim.x) {
    const int q = p3_pos((P3_IN - p3_freq(p)) & (P3_IN - 1));
    if (q < p) continue;
    p3_pair_ab(zr, zi, p, q, ca[p], ca[q]);
    p3_pair_ab(zr, zi, P3_IN + p, P3_IN + q, cb[p], cb[q]);
  }
}
