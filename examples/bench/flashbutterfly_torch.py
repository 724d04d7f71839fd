"""PyTorch baseline for CudaConvBench: causal long-conv forward via torch.fft (B batch, H channels, L length,
N = 2L FFT size; u, y: (B, H, L); k: (H, L); D: (H)), fp32 and 16-bit I/O, plus torch.matmul bf16 8192^3.

    y = irfft(rfft(u.float(), n=2L) * k_f, n=2L)[..., :L] + D * u      (k_f = rfft(k, n=2L) precomputed,
                                                                        as the Java paths precompute it)
Times with CUDA events: warm-up, median of repeats; validated against a float64 direct conv of sampled rows.
Above L = 16K the batch is scaled down as in CudaConvBench (B * L constant: 32 at 32K, 16 at 64K, 4 at 256K).
Usage: python3 flashbutterfly_torch.py [--warmup-ms=200] [csv-out] [B] [H] [L,L,...]
"""
import math
import sys
import time

import torch


WARMUP_MS = 200.0   # --warmup-ms: like CudaConvBench's -Dlongconv4j.bench.warmup.ms (0: the 3 runs alone)


def median_ms(fn, reps, warmup=3):
    """Runs fn at least `warmup` times and for at least WARMUP_MS (the GPU's clocks back up after the host-side
    validation), then the median of `reps` CUDA-event timings."""
    t0 = time.perf_counter()
    i = 0
    while i < warmup or (time.perf_counter() - t0) * 1e3 < WARMUP_MS:
        fn()
        i += 1
        if i % 8 == 0:
            torch.cuda.synchronize()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        ts.append(a.elapsed_time(b))
    ts.sort()
    return ts[len(ts) // 2]


def batch_for(B, L):
    """CudaConvBench.batchFor: B up to L = 16K, then B * 16K / L (at least 2): the same number of elements."""
    return B if L <= 16384 else max(2, B * 16384 // L)


def fftconv(u, k_f, D, L):
    y = torch.fft.irfft(torch.fft.rfft(u.float(), n=2 * L) * k_f, n=2 * L)[..., :L]
    return (y + D[:, None] * u.float()).to(u.dtype)


def validate(u, y, k, D, L):
    worst = 0.0
    g = torch.Generator().manual_seed(L)
    B, H, _ = u.shape
    for s in range(3):
        b = B - 1 if s == 0 else int(torch.randint(B, (1,), generator=g))
        h = H - 1 if s == 0 else int(torch.randint(H, (1,), generator=g))
        ur = u[b, h].double().cpu()
        ref = torch.zeros(L, dtype=torch.float64)
        kr = k[h].double().cpu()
        if L <= 16384:
            full = torch.nn.functional.conv1d(torch.nn.functional.pad(ur, (L - 1, 0))[None, None], kr.flip(0)[None, None])[0, 0]
            ref = full[:L] + float(D[h]) * ur
            yr = y[b, h].double().cpu()
        else:   # 64 sampled outputs (incl. the last), float64 dot products
            ns = torch.randint(L, (63,), generator=g).tolist() + [L - 1]
            ref = torch.tensor([float((kr[:n + 1] * ur[:n + 1].flip(0)).sum()) + float(D[h]) * float(ur[n]) for n in ns],
                               dtype=torch.float64)
            yr = y[b, h].double().cpu()[ns]
        worst = max(worst, float((yr - ref).norm() / ref.norm()))
    return worst


def main():
    global WARMUP_MS
    if len(sys.argv) > 1 and sys.argv[1].startswith("--warmup-ms="):
        WARMUP_MS = float(sys.argv.pop(1).split("=", 1)[1])
    out = sys.argv[1] if len(sys.argv) > 1 else None
    B0 = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    H = int(sys.argv[3]) if len(sys.argv) > 3 else 768
    Ls = [int(x) for x in sys.argv[4].split(",")] if len(sys.argv) > 4 else [256, 1024, 4096, 8192, 16384]
    dev = torch.device("cuda")
    print(torch.cuda.get_device_name(), "torch", torch.__version__, "cuda", torch.version.cuda)
    rows = []
    x = torch.empty(2 << 30, dtype=torch.uint8, device=dev)
    z = torch.empty_like(x)
    ms = median_ms(lambda: z.copy_(x), 10)
    rows.append(("torch copy 2GiB", 0, 0, 0, ms, 2 * x.numel() / ms / 1e6, 0.0, 0))
    print(f"copy bandwidth: {2 * x.numel() / ms / 1e6:.0f} GB/s")
    del x, z
    for L in Ls:
        B = batch_for(B0, L)
        g = torch.Generator(device=dev).manual_seed(42 + L)
        k = ((torch.rand(H, L, device=dev, generator=g) * 2 - 1) / math.sqrt(L)).float()
        D = (torch.rand(H, device=dev, generator=g) * 2 - 1).float()
        k_f = torch.fft.rfft(k, n=2 * L)
        reps = 60 if L <= 1024 else 20
        for dt in (torch.float32, torch.bfloat16, torch.float16):
            try:
                u = (torch.rand(B, H, L, device=dev, generator=g) * 2 - 1).to(dt)
                y = fftconv(u, k_f, D, L)
                err = validate(u, y, k, D, L)
                del y
                torch.cuda.synchronize()
                base = torch.cuda.memory_allocated()
                torch.cuda.reset_peak_memory_stats()
                ms = median_ms(lambda: fftconv(u, k_f, D, L), reps)
                peak = torch.cuda.max_memory_allocated() - base + u.numel() * u.element_size()
                io = 2 * u.numel() * u.element_size()
                rows.append((f"torch fftconv {str(dt).split('.')[-1]}", B, H, L, ms, io / ms / 1e6, err, peak))
                r = rows[-1]
                print(f"{r[0]:<28} B={B} H={H} L={L:<6} {ms:9.3f} ms {r[5]:8.1f} GB/s  relerr {err:.2e}  mem {peak / 1e9:.2f} GB")
                if dt != torch.float16:   # forward + backward (du, dk, dD) through autograd, k_f from k inside
                    uu = u.detach().requires_grad_(True)
                    kk = k.detach().requires_grad_(True)
                    DD = D.detach().requires_grad_(True)
                    dy = torch.rand_like(u) * 2 - 1

                    def fb():
                        yy = fftconv(uu, torch.fft.rfft(kk, n=2 * L), DD, L)
                        uu.grad = kk.grad = DD.grad = None
                        yy.backward(dy)

                    torch.cuda.synchronize()
                    base = torch.cuda.memory_allocated()
                    torch.cuda.reset_peak_memory_stats()
                    ms = median_ms(fb, reps)
                    peak = torch.cuda.max_memory_allocated() - base
                    rows.append((f"torch fwd+bwd {str(dt).split('.')[-1]}", B, H, L, ms, 3 * io / ms / 1e6, float("nan"), peak))
                    print(f"{rows[-1][0]:<28} B={B} H={H} L={L:<6} {ms:9.3f} ms  mem {peak / 1e9:.2f} GB")
                    del uu, kk, DD, dy
                del u
            except torch.cuda.OutOfMemoryError as e:
                print(f"L={L} {dt}: OOM {e}")
            torch.cuda.empty_cache()
    M = 8192
    a = torch.rand(M, M, device=dev, dtype=torch.bfloat16) * 2 - 1
    b = torch.rand(M, M, device=dev, dtype=torch.bfloat16) * 2 - 1
    ms = median_ms(lambda: torch.matmul(a, b), 20)
    tf = 2 * M ** 3 / ms / 1e9
    print(f"torch.matmul bf16 {M}^3: {ms:.3f} ms, {tf:.1f} TFLOP/s")
    rows.append((f"torch.matmul bf16 {M}^3 TFLOPs={tf:.1f}", 0, 0, M, ms, 0.0, 0.0, 0))
    text = "path,B,H,L,ms,GBps,relerr,bytes\n" + "".join(
        f"{p},{b_},{h},{l},{m:.4f},{gbs:.1f},{e:.2e},{by}\n" for p, b_, h, l, m, gbs, e, by in rows)
    print(text, end="")
    if out:
        open(out, "w").write(text)


if __name__ == "__main__":
    main()
