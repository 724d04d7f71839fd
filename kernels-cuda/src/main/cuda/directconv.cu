// Direct causal long convolution (the O(L^2) GPU twin of the FFT paths), fp32.
//   y[b,h,n] = sum_{j=0..min(n,Lk-1)} k[h,j] * u[b,h,n-j] + D[h] * u[b,h,n]
// Shapes: B batch, H channels, L length, Lk kernel taps (Lk <= L). u, y: (B, H, L); k: (H, Lk); D: (H).
// One thread per output element, grid-stride loop; accumulates in fp32 with FMA.
extern "C" __global__ void direct_causal_conv_fwd(const float* __restrict__ u, const float* __restrict__ k, int Lk,
                                                  const float* __restrict__ D, float* __restrict__ y,
                                                  int B, int H, int L) {
  const size_t total = (size_t)B * H * L;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
    const int n = (int)(i % L);
    const size_t row = i / L;
    const int h = (int)(row % H);
    const float* ur = u + row * L;
    const float* kh = k + (size_t)h * Lk;
    const int jmax = n < Lk - 1 ? n : Lk - 1;
    float acc = D[h] * ur[n];
    for (int j = 0; j <= jmax; ++j) acc = fmaf(kh[j], ur[n - j], acc);
    y[i] = acc;
  }
}
