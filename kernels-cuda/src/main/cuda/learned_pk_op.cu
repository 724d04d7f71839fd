// The packed learned tensor op's device-side helpers (helper pkop, session 13; PackedLearnedConv.blockGradsOnDevice).
// Shapes: M = N1 x N2 (16 x 16, 16 x 32, 32 x 32). raw: the four block gradients {dFa (N1, N1), dFb (N2, N2), dGb (N2, N2),
//   dGa (N1, N1)} complex fp32 as learned_pk_bwd's Gram reductions leave them (dFa's rows and dGa's columns in the chains'
//   tile-row order rho); out: the same four in lib's layout (PackedLearnedBackward.unpermute, its float64 host twin).

// learned_pk.cu lpk_rho (PackedLearnedConv.rho): tile row i (N1 = 32: 16 w + g + 8 h; N1 = 16: g + 8 h) holds k1 = rho(i)
__device__ __forceinline__ int lpko_rho(int i, int n1) {
  const int w = i >> 4, g = i & 7, hh = (i >> 3) & 1;
  if (n1 == 16) return g == 0 ? 8 * hh : (hh == 1 ? 16 - g : g);
  return w == 0 ? (g == 0 ? 16 * hh : (hh == 1 ? 32 - g : g)) : (hh == 1 ? 24 - g : 8 + g);
}

// One thread per complex entry (2 (N1^2 + N2^2) entries), block 256. Entry (a, b) of block i goes to (rho(a), b) for dFa,
// (a, rho(b)) for dGa, (a, b) otherwise; dGa's rows a >= live and dFa's columns b >= live (the causal row's zero half, whose
// Gram inputs the chains leave unwritten) are exact zeros and written so.
extern "C" __global__ void __launch_bounds__(256) lpko_unpermute(const float2* __restrict__ raw, float2* __restrict__ out, int N1, int N2,
                                                                 int live) {
  const int e = blockIdx.x * blockDim.x + threadIdx.x, a1 = N1 * N1, b2 = N2 * N2;
  if (e >= 2 * (a1 + b2)) return;
  int i, off, s;
  if (e < a1) { i = 0; off = 0; s = N1; }
  else if (e < a1 + b2) { i = 1; off = a1; s = N2; }
  else if (e < a1 + 2 * b2) { i = 2; off = a1 + b2; s = N2; }
  else { i = 3; off = a1 + 2 * b2; s = N1; }
  const int r = e - off, a = r / s, b = r - a * s;
  const int row = i == 0 ? lpko_rho(a, N1) : a, col = i == 3 ? lpko_rho(b, N1) : b;
  const bool dead = (i == 3 && a >= live) || (i == 0 && b >= live);
  out[off + row * s + col] = dead ? make_float2(0.f, 0.f) : raw[e];
}
