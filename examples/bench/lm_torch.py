"""PyTorch eager baseline for LmBench: the same H3 long-conv language model as longconv4j's LongConvLM
(B batch, L length, D width, V vocab; kernels (D, L) per convolution), trained on tiny Shakespeare (char level).

    block:  x += H3(LN(x));  x += W2 gelu(W1 LN(x))           (MLP hidden = 2 D, as LongConvLM.MLP_RATIO)
    H3:     q, k, v = split(Wqkv u);  k = conv(k, K1) + D1 k;  y = conv(k v, K2) + D2 (k v);  out = Wo (q y)
    conv:   causal FFT convolution, irfft(rfft(x, 2L) * rfft(K, 2L))[:L]   (the path torch users take)
    K:      Dropout_0.2(Squash_lambda(K_param)),  K_param ~ randn * 0.002, lambda = 0.003   (LongConvKernel's defaults)
    head:   logits = LN(x) E^T   (tied)

Eager mode, fp32 (default) or --amp bf16 autocast; AdamW (lr 1e-3, kernel group lr 1e-3 without weight decay).
Prints one CSV line per report and a final summary: steps, tokens/s (median over the timed window, CUDA-synchronised
per step), val loss in nats/char, peak memory.
Usage: python3 lm_torch.py --data input.txt [--width 512] [--layers 8] [--length 1024] [--batch 8]
                           [--seconds 120] [--warmup 5] [--amp]
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Kernel(nn.Module):
    def __init__(self, d, length, lam=0.003, p=0.2):
        super().__init__()
        self.k = nn.Parameter(torch.randn(d, length) * 0.002)
        self.lam, self.p = lam, p

    def forward(self):
        k = torch.sign(self.k) * F.relu(self.k.abs() - self.lam)
        return F.dropout(k, self.p, self.training)


def fftconv(x, k, skip):
    # x (B, D, L), k (D, L), skip (1, D) -> (B, D, L)
    L = x.shape[-1]
    y = torch.fft.irfft(torch.fft.rfft(x, n=2 * L) * torch.fft.rfft(k, n=2 * L), n=2 * L)[..., :L]
    return y + skip.reshape(1, -1, 1) * x


class H3(nn.Module):
    def __init__(self, d, length):
        super().__init__()
        self.d = d
        self.qkv = nn.Linear(d, 3 * d)
        self.k1, self.k2 = Kernel(d, length), Kernel(d, length)
        self.d1, self.d2 = nn.Parameter(torch.randn(1, d)), nn.Parameter(torch.randn(1, d))
        self.out = nn.Linear(d, d)

    def forward(self, u):
        q, k, v = self.qkv(u).split(self.d, dim=-1)
        k = fftconv(k.transpose(1, 2).float(), self.k1(), self.d1)
        kv = k * v.transpose(1, 2).float()
        y = fftconv(kv, self.k2(), self.d2)
        return self.out(q * y.transpose(1, 2).to(q.dtype))


class Block(nn.Module):
    def __init__(self, d, length):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.mix = H3(d, length)
        self.fc1, self.fc2 = nn.Linear(d, 2 * d), nn.Linear(2 * d, d)

    def forward(self, x):
        x = x + self.mix(self.n1(x))
        return x + self.fc2(F.gelu(self.fc1(self.n2(x))))


class LM(nn.Module):
    def __init__(self, vocab, d, layers, length):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        nn.init.normal_(self.emb.weight, std=0.02)
        self.blocks = nn.ModuleList(Block(d, length) for _ in range(layers))
        self.norm = nn.LayerNorm(d)

    def forward(self, ids):
        x = self.emb(ids)
        for b in self.blocks:
            x = b(x)
        return self.norm(x) @ self.emb.weight.t()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--length", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--amp", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    dev = torch.device("cuda")
    text = open(a.data, encoding="utf-8").read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    split = int(0.9 * len(ids))
    train, val = ids[:split].to(dev), ids[split:].to(dev)
    model = LM(len(chars), a.width, a.layers, a.length).to(dev)
    kern = [p for n, p in model.named_parameters() if n.endswith(".k")]
    rest = [p for n, p in model.named_parameters() if not n.endswith(".k")]
    opt = torch.optim.AdamW([{"params": rest, "weight_decay": 0.1}, {"params": kern, "weight_decay": 0.0}], lr=1e-3)
    nparams = sum(p.numel() for p in model.parameters())
    g = torch.Generator(device=dev).manual_seed(a.seed)

    def batch(src):
        starts = torch.randint(0, len(src) - a.length - 1, (a.batch,), device=dev, generator=g)
        off = torch.arange(a.length + 1, device=dev)
        w = src[starts[:, None] + off[None, :]]
        return w[:, :-1], w[:, 1:]

    def loss_of(x, y):
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=a.amp):
            logits = model(x)
        return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1))

    print(f"device={torch.cuda.get_device_name(0)} torch={torch.__version__} params={nparams} "
          f"B={a.batch} L={a.length} D={a.width} layers={a.layers} amp={a.amp}")
    print("step,loss,ms,tokens_per_s")
    times, step, t_end = [], 0, None
    torch.cuda.reset_peak_memory_stats()
    while True:
        x, y = batch(train)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        loss = loss_of(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        step += 1
        if step == a.warmup:
            t_end = time.perf_counter() + a.seconds
        if step > a.warmup:
            times.append(dt)
        if step % 20 == 0:
            print(f"{step},{loss.item():.4f},{dt * 1e3:.1f},{a.batch * a.length / dt:.0f}", flush=True)
        if t_end is not None and time.perf_counter() > t_end:
            break
    model.eval()
    with torch.no_grad():
        vl = sum(loss_of(*batch(val)).item() for _ in range(10)) / 10
    times.sort()
    med = times[len(times) // 2]
    print(f"summary: steps={step} timed={len(times)} median_step_ms={med * 1e3:.2f} "
          f"tokens_per_s={a.batch * a.length / med:.0f} val_loss={vl:.4f} "
          f"peak_mem_gb={torch.cuda.max_memory_allocated() / 1e9:.2f}")


if __name__ == "__main__":
    main()
