# Shape legend: R = B·L rows, D width, F = 4D; x (R, D) -> (R, F) bias + GELU(tanh); h (R, F) -> (R, D) bias. bf16.
# PyTorch baseline for EpilogueBench on the same GPU: F.linear (cuBLASLt bias epilogue inside addmm) + gelu(tanh),
# torch._addmm_activation (cuBLASLt GELU epilogue where PyTorch uses it), and a plain matmul; forward and
# forward+backward, CUDA events, warm-up 5, median of 30.
import sys, torch, torch.nn.functional as F

def median_ms(fn, warmup=5, reps=30):
    for _ in range(warmup): fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record(); fn(); b.record(); b.synchronize(); ts.append(a.elapsed_time(b))
    ts.sort(); return ts[len(ts) // 2]

def layer(name, rows, i, o, gelu):
    g = torch.Generator(device="cuda").manual_seed(0)
    x = torch.randn(rows, i, device="cuda", generator=g).bfloat16()
    w = (torch.randn(o, i, device="cuda", generator=g) / i ** 0.5).bfloat16()
    b = (0.5 * torch.randn(o, device="cuda", generator=g)).bfloat16()
    dy = torch.randn(rows, o, device="cuda", generator=g).bfloat16()
    ops = {"gemm only": lambda x, w, b: x @ w.t(),
           "F.linear(+gelu)": lambda x, w, b: F.gelu(F.linear(x, w, b), approximate="tanh") if gelu else F.linear(x, w, b)}
    if gelu: ops["_addmm_activation"] = lambda x, w, b: torch._addmm_activation(b, x, w.t(), use_gelu=True)
    flop = 2.0 * rows * i * o
    print(f"{name} ({rows} x {i} -> {o})")
    for label, op in ops.items():
        with torch.no_grad(): fwd = median_ms(lambda: op(x, w, b))
        def fb():
            xl, wl, bl = (t.detach().requires_grad_() for t in (x, w, b))
            op(xl, wl, bl).backward(dy)
        line = f"  {label:18s} forward {fwd:7.3f} ms ({flop / fwd / 1e9:6.1f} TFLOP/s)"
        if label != "_addmm_activation":   # no derivative in PyTorch: forward only
            both = median_ms(fb)
            line += f" | forward+backward {both:7.3f} ms ({3 * flop / both / 1e9:6.1f} TFLOP/s)"
        print(line)

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 16384
d = int(sys.argv[2]) if len(sys.argv) > 2 else 768
print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, bf16, R = {rows}, D = {d}, F = {4 * d}")
layer("fc1 bias+gelu(tanh)", rows, d, 4 * d, True)
layer("fc2 bias", rows, 4 * d, d, False)
