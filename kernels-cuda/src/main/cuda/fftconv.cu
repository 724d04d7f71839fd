// Pointwise kernels around cuFFT for the GPU FftConv twin (the path PyTorch takes):
//   y = irfft(rfft(pad(u, N)) * rfft(pad(k, N)) / N)[:L] + D * u
// Shapes: B batch, H channels, L length, N FFT size, F = N/2 + 1 frequencies.
//   fftconv_pad:      u (R, L) -> up (R, N), zero tail (R = B*H rows).
//   fftconv_cmul:     U (B, H, F) complex *= Kf (H, F) complex * scale, in place.
//   fftconv_crop_add: y (B, H, L) = yfull (B, H, N)[..., :L] + D[h] * u.
extern "C" __global__ void fftconv_pad(const float* __restrict__ u, float* __restrict__ up, int R, int L, int N) {
  const size_t total = (size_t)R * N;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
    const int n = (int)(i % N);
    const size_t r = i / N;
    up[i] = n < L ? u[r * L + n] : 0.f;
  }
}

extern "C" __global__ void fftconv_cmul(float2* __restrict__ U, const float2* __restrict__ K, int B, int H, int F,
                                        float scale) {
  const size_t total = (size_t)B * H * F;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
    const size_t hf = i % ((size_t)H * F);
    const float2 a = U[i], w = K[hf];
    U[i] = make_float2((a.x * w.x - a.y * w.y) * scale, (a.x * w.y + a.y * w.x) * scale);
  }
}

extern "C" __global__ void fftconv_crop_add(const float* __restrict__ yfull, const float* __restrict__ u,
                                            const float* __restrict__ D, float* __restrict__ y,
                                            int B, int H, int L, int N) {
  const size_t total = (size_t)B * H * L;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
    const int n = (int)(i % L);
    const size_t r = i / L;
    const int h = (int)(r % H);
    y[i] = yfull[r * N + n] + D[h] * u[i];
  }
}
