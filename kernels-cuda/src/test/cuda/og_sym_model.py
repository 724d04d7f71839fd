#!/usr/bin/env python3
# Shapes: N FFT size (8K here), nw warps per block (1..4), lanes (g, t) = (lane >> 2, lane & 3), units u < 32.
# A host model of the _rus kernels' outer twiddles (og.cu's TwFirst with SY, flashbutterfly_ogr.cu's _rus): per lane the
# four positions i of a unit u have the first (forward) / last (inverse) stage twiddle w_N(m_i), w_N(j) = exp(-2 pi i j/N)
# (monarch.cuh's table: hi[j >> 7] lo[j & 127] from sincospif, modelled in fp32), forward m = 256 (2t + 8h + p) + 8u + g,
# inverse m = 256 (g + 8h) + 8u + 2t + p (i = 2h + p). _rup: all four advanced by w_N(8 nw) per unit (4 complex products);
# _rus: i = 0, 1 advanced, i = 2, 3 = -i times them, (w.y, -w.x) (m_2 = m_0 + 2048 = m_0 + N/4). Checked: the offsets are
# N/4 for every lane (the rotation's premise), every m < 4096 is visited exactly once per pass (nw = 1..4), and the
# rotated values are within 2e-6 of exp (fp32 recurrence of <= 31 steps; the table's own error ~1e-7) and of _rup's
# (both far below bf16's 2^-9 / fp16's 2^-11 operand rounding). A wrong sign (+i) or offset fails it by ~1.4.
# Run: python3 kernels-cuda/src/test/cuda/og_sym_model.py  (prints "ok" and the largest differences)
import numpy as np

N = 8192
f32 = np.float32


def table(j):
    a, b = j >> 7, j & 127
    def w(k):
        ang = -2.0 * k / N   # sincospif argument; fp32 result
        return f32(np.cos(np.pi * ang)), f32(np.sin(np.pi * ang))
    (ax, ay), (bx, by) = w(128 * a), w(b)
    return f32(ax * bx - ay * by), f32(ax * by + ay * bx)


def cmul(a, s):
    return f32(a[0] * s[0] - a[1] * s[1]), f32(a[0] * s[1] + a[1] * s[0])


def rot(w):   # -i (x + iy) = y - ix
    return w[1], f32(-w[0])


def positions(fwd, g, t, u):
    if fwd:
        return [256 * (2 * t + 8 * h + p) + 8 * u + g for h in range(2) for p in range(2)]
    return [256 * (g + 8 * h) + 8 * u + 2 * t + p for h in range(2) for p in range(2)]


def run(fwd, nw, sym):
    out = {}
    for warp in range(nw):
        for lane in range(32):
            g, t = lane >> 2, lane & 3
            m0 = positions(fwd, g, t, warp)
            w = [table(m) for m in m0]
            s = table(8 * nw)
            for u in range(warp, 32, nw):
                if sym:
                    w[2], w[3] = rot(w[0]), rot(w[1])
                ms = positions(fwd, g, t, u)
                assert ms[2] - ms[0] == N // 4 and ms[3] - ms[1] == N // 4, "offset not N/4"
                for i, m in enumerate(ms):
                    assert m not in out, "position visited twice"
                    out[m] = w[i]
                w = [cmul(w[i], s) if (i < 2 or not sym) else w[i] for i in range(4)]
    assert sorted(out) == list(range(4096)), "positions missing"
    return out


worst_exact = worst_rup = 0.0
for fwd in (True, False):
    for nw in (1, 2, 3, 4):
        a, b = run(fwd, nw, False), run(fwd, nw, True)
        for m in range(4096):
            e = np.exp(-2j * np.pi * m / N)
            zb = complex(float(b[m][0]), float(b[m][1]))
            za = complex(float(a[m][0]), float(a[m][1]))
            worst_exact = max(worst_exact, abs(zb - e))
            worst_rup = max(worst_rup, abs(zb - za))
# negative control: +i instead of -i must be far off
wrong = complex(float(table(0)[1]), float(table(0)[0])) * 1j
assert abs(wrong - np.exp(-2j * np.pi * 2048 / N)) > 1.0
assert worst_exact < 2e-6 and worst_rup < 2e-6, (worst_exact, worst_rup)
print(f"ok: fwd + inv, nw = 1..4, 4096 positions each once; |_rus - exp| <= {worst_exact:.2e}, |_rus - _rup| <= {worst_rup:.2e}")
