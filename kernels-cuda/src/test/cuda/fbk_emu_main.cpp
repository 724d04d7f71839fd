// Shapes: B batch, H channels, L length, Lk taps, N FFT size. Checks flashbutterfly2k.cu on the host (no GPU): the kernel's
// code runs with every lane a thread (fbk_emu.h) against a float64 direct causal convolution (and its adjoint).
//   g++ -std=c++20 -O2 -DFBK_EMU -I/usr/local/cuda/include -Ikernels-cuda/src/test/cuda \
//       -Ikernels-cuda/src/main/cuda kernels-cuda/src/test/cuda/fbk_emu_main.cpp -o /tmp/fbk_emu && /tmp/fbk_emu
#include "flashbutterfly2k.cu"
#include <complex>
#include <cstdio>
#include <random>
#include <vector>

template <bool BF16>
static double roundio(double v) { return dec16<BF16>(pack2<BF16>((float)v, 0.f) & 0xffff); }

template <bool BF16, typename IO, int TW = fbk::TW_TABLE>
static double run(int B, int H, int L, int Lk, int warps, int per, bool adjoint, bool misalign, uint64_t seed) {
  int N = 32;
  while (N < 2 * L - 1) N *= 2;
  const int log2N = __builtin_ctz(N), R1 = N / 256;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uni(-1.0, 1.0);
  std::vector<double> u((size_t)B * H * L), k((size_t)H * Lk), D(H);
  for (auto& v : u) v = roundio<BF16>(uni(rng));
  for (auto& v : k) v = uni(rng) / std::sqrt((double)Lk);
  for (auto& v : D) v = uni(rng);
  // spectrum in the Monarch order: position 256 k1 + 16 k2 + k3 holds K[k1 + R1 (k2 + 16 k3)]
  std::vector<float2> kf((size_t)H * N);
  for (int h = 0; h < H; ++h)
    for (int pos = 0; pos < N; ++pos) {
      const int k1 = pos >> 8, k2 = (pos >> 4) & 15, k3 = pos & 15, f = k1 + R1 * (k2 + 16 * k3);
      std::complex<double> s = 0;
      for (int j = 0; j < Lk; ++j) s += k[(size_t)h * Lk + j] * std::polar(1.0, -2 * M_PI * (double)((long)j * f % N) / N);
      kf[(size_t)h * N + pos] = make_float2((float)s.real(), (float)s.imag());
    }
  std::vector<uint32_t> tab(fbk::tab_words(R1));
  threadIdx.x = 0; blockIdx.x = 0; blockDim.x = 1; gridDim.x = 1;
  fbk::tables<BF16>(tab.data(), log2N);
  const int off = misalign ? 1 : 0;   // element offset of u and y: rows no longer 16-byte aligned
  std::vector<uint16_t> u16((size_t)B * H * L + 8), y16((size_t)B * H * L + 8, 0x7fc0);
  for (size_t i = 0; i < u.size(); ++i) u16[i + off] = (uint16_t)(pack2<BF16>((float)u[i], 0.f) & 0xffff);
  std::vector<float> Df(D.begin(), D.end());
  const int pairs = (B + 1) / 2, gx = (pairs + warps * per - 1) / (warps * per);
  const int flags = (per << 8) | (adjoint ? 2 : 0);
  for (int by = 0; by < H; ++by)
    for (int bx = 0; bx < gx; ++bx) {
      std::vector<uint16_t> smem(4 * (size_t)N * (TW >= fbk::TW_HP ? 2 : 1) + (size_t)warps * fbk::warp_smem(R1) + 16, 0xffff);   // garbage: NaN
      std::vector<WarpCtx> ctx(warps);
      const int T = 32 * warps;
      std::vector<ucontext_t> fib(T);
      std::vector<std::vector<char>> stacks(T, std::vector<char>(256 * 1024));
      std::vector<int> done(T, 0);
      ucontext_t sched;
      struct Arg { int tid; } ;
      static const IO* s_u; static IO* s_y; static const float2* s_kf; static const float* s_D; static const uint32_t* s_tab;
      static int s_B, s_H, s_L, s_log2N, s_flags, s_done_tid; static int* s_done;
      s_u = reinterpret_cast<const IO*>(u16.data() + off); s_y = reinterpret_cast<IO*>(y16.data() + off); s_kf = kf.data();
      s_D = Df.data(); s_tab = tab.data(); s_B = B; s_H = H; s_L = L; s_log2N = log2N; s_flags = flags; s_done = done.data();
      auto body = +[]() {
        fbk::forward<BF16, IO, TW>(s_u, s_kf, s_D, s_y, s_tab, s_B, s_H, s_L, s_log2N, s_flags);
        s_done[threadIdx.x] = 1;
        t_reason = 0;
      };
      for (int tid = 0; tid < T; ++tid) {
        getcontext(&fib[tid]);
        fib[tid].uc_stack.ss_sp = stacks[tid].data();
        fib[tid].uc_stack.ss_size = stacks[tid].size();
        fib[tid].uc_link = &sched;
        makecontext(&fib[tid], (void (*)())body, 0);
      }
      blockIdx.x = bx; blockIdx.y = by; blockDim.x = T; gridDim.x = gx; gridDim.y = H;
      t_smem = smem.data(); t_sched = &sched;
      for (bool any = true; any;) {   // lockstep rounds: every live fiber runs to its next yield
        any = false;
        int blockWaits = 0, live = 0;
        for (int tid = 0; tid < T; ++tid) {
          if (done[tid]) continue;
          threadIdx.x = tid; t_warp = &ctx[tid >> 5]; t_self = &fib[tid];
          swapcontext(&sched, &fib[tid]);
          if (!done[tid]) { any = true; ++live; blockWaits += t_reason == 2; }
        }
        if (blockWaits != 0 && blockWaits != live) { std::printf("emu: __syncthreads not reached by every thread\n"); std::exit(2); }
      }
    }
  double maxerr = 0, maxref = 0;
  int nan = 0;
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h)
      for (int n = 0; n < L; ++n) {
        const double* ur = &u[((size_t)b * H + h) * L];
        double ref = D[h] * ur[n];
        for (int j = 0; j < Lk; ++j) {
          const int m = adjoint ? n + j : n - j;
          if (m >= 0 && m < L) ref += k[(size_t)h * Lk + j] * ur[m];
        }
        const double got = dec16<BF16>(y16[((size_t)b * H + h) * L + n + off]);
        if (std::isnan(got)) { if (nan++ < 3) std::printf("  NaN at b=%d h=%d n=%d\n", b, h, n); continue; }
        maxerr = std::max(maxerr, std::fabs(got - ref)); maxref = std::max(maxref, std::fabs(ref));
      }
  const double rel = maxerr / maxref;
  std::printf("%s%s B=%d H=%d L=%d Lk=%d N=%d warps=%d per=%d %s%s: rel err %.3e%s\n", BF16 ? "bf16" : "f16", TW == fbk::TW_HALF ? " ht" : TW == fbk::TW_HP ? " hp" : TW == fbk::TW_HW ? " hw" : "", B, H, L, Lk, N,
              warps, per, adjoint ? "adjoint" : "forward", misalign ? " misaligned" : "", rel, nan ? " NaN!" : "");
  return nan ? 1e9 : rel;
}

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  double worst = 0;
  worst = std::max(worst, run<true, __nv_bfloat16>(3, 2, 1024, 1024, 2, 1, false, false, 1));
  worst = std::max(worst, run<false, __half>(2, 1, 1024, 700, 1, 1, false, false, 2));
  worst = std::max(worst, run<true, __nv_bfloat16>(4, 1, 256, 256, 1, 2, false, false, 3));
  worst = std::max(worst, run<true, __nv_bfloat16>(3, 1, 300, 200, 2, 1, false, false, 4));
  worst = std::max(worst, run<true, __nv_bfloat16>(2, 1, 1024, 1024, 1, 1, true, false, 5));
  worst = std::max(worst, run<false, __half>(3, 1, 1001, 1001, 1, 2, false, false, 6));
  worst = std::max(worst, run<true, __nv_bfloat16>(2, 1, 1000, 900, 1, 1, false, true, 7));
  worst = std::max(worst, run<true, __nv_bfloat16>(1, 1, 129, 129, 1, 1, true, false, 8));
  worst = std::max(worst, run<true, __nv_bfloat16>(7, 2, 1024, 1024, 1, 3, false, false, 9));   // odd B, staged pairs
  worst = std::max(worst, run<false, __half>(5, 1, 512, 300, 2, 2, true, false, 10));           // N = 1K, adjoint, staged
  // the half2 twiddle tables (the _ht kernels)
  worst = std::max(worst, run<true, __nv_bfloat16, fbk::TW_HALF>(3, 2, 1024, 1024, 2, 2, false, false, 11));
  worst = std::max(worst, run<false, __half, fbk::TW_HALF>(3, 1, 1001, 800, 1, 2, true, false, 12));
  worst = std::max(worst, run<true, __nv_bfloat16, fbk::TW_HALF>(4, 1, 256, 256, 1, 2, false, false, 13));
  worst = std::max(worst, run<true, __nv_bfloat16, fbk::TW_HALF>(3, 1, 300, 300, 2, 1, true, false, 14));
  // the half2 table with pipelined loads (the _hp kernels): every N, both directions, odd B, several warps and staged
  // pairs (the first pair staged before the spectrum), L % 8 != 0 and misaligned rows (element-wise staging)
  worst = std::max(worst, run<true, __nv_bfloat16, fbk::TW_HP>(7, 2, 1024, 1024, 3, 2, false, false, 21));
  worst = std::max(worst, run<false, __half, fbk::TW_HP>(5, 1, 1024, 1000, 2, 3, true, false, 22));
  worst = std::max(worst, run<true, __nv_bfloat16, fbk::TW_HP>(4, 1, 256, 256, 1, 2, false, false, 23));
  worst = std::max(worst, run<false, __half, fbk::TW_HP>(6, 1, 512, 512, 2, 2, false, false, 24));
  worst = std::max(worst, run<true, __nv_bfloat16, fbk::TW_HP>(3, 1, 300, 300, 2, 1, true, false, 25));
  worst = std::max(worst, run<true, __nv_bfloat16, fbk::TW_HP>(3, 1, 777, 600, 1, 2, false, false, 26));
  worst = std::max(worst, run<true, __nv_bfloat16, fbk::TW_HP>(2, 1, 1000, 900, 1, 1, false, true, 27));
  // _hp with 16-byte y stores (quad transpose) and all-lane staging (the _hw kernels); the element-wise path unchanged
  worst = std::max(worst, run<true, __nv_bfloat16, fbk::TW_HW>(7, 2, 1024, 1024, 3, 2, false, false, 28));
  worst = std::max(worst, run<false, __half, fbk::TW_HW>(5, 1, 1024, 1000, 2, 3, true, false, 29));
  worst = std::max(worst, run<true, __nv_bfloat16, fbk::TW_HW>(4, 1, 256, 256, 1, 3, false, false, 30));
  worst = std::max(worst, run<false, __half, fbk::TW_HW>(6, 1, 512, 512, 2, 2, false, false, 31));
  worst = std::max(worst, run<true, __nv_bfloat16, fbk::TW_HW>(3, 1, 777, 600, 1, 2, false, false, 32));
  worst = std::max(worst, run<true, __nv_bfloat16, fbk::TW_HW>(2, 1, 1000, 900, 1, 1, false, true, 33));
  worst = std::max(worst, run<true, __nv_bfloat16, fbk::TW_HW>(5, 3, 1000, 1000, 2, 2, false, false, 34));
  std::printf("worst %.3e %s\n", worst, worst < 1e-2 ? "PASS" : "FAIL");
  return worst < 1e-2 ? 0 : 1;
}
