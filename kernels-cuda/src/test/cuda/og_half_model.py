#!/usr/bin/env python3
# Shapes: one column unit u of one lane (g, t) at N = 8K (R = 2): positions i = 2h + p, their 16-bit inputs x (xr, xi).
# A host model of the _ruh kernels' packed twiddle products (flashbutterfly_ogr.cu's fwd_first_h2 / inv_first_h2 /
# cmul2, og.cu's H2) against the fp32 code they replace (fwd_unit's dft_c<2, HIN> + twiddle_pow, og_inv's conj(w)
# product), 16-bit rounding modelled bit-exactly (bf16 RNE from fp32; fp16 by numpy): per value pair the packed result's
# low half must be position p = 0's, the forward k = 0 outputs the inputs (bf16 bit for bit; fp16 times 1/2), k = 1 and
# the inverse products within a few 16-bit ulps of the fp32 path (the twiddle and one partial product rounded to 16 bits:
# rms 1.46x a single rounding, measured below on random operands); a conjugation dropped (the inverse with w instead of
# conj(w)) or p = 0 / 1 swapped fails by order 1 (the negative controls).
# check_ru: the _ruhr kernels' register unit (conv256_ru's PT), whose operands are the MMA's fp32 outputs (rounded to
# 16 bits first: rms 1.78x the fp32 path's error vs exact).
# Run: python3 kernels-cuda/src/test/cuda/og_half_model.py  (prints the ratios and "ok")
import numpy as np

rng = np.random.default_rng(5)


def bf16(x):   # fp32 -> bf16 round to nearest even, back to float64
    b = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return (((b + 0x7FFF + ((b >> 16) & 1)) >> 16) << 16).astype(np.uint32).view(np.float32).astype(np.float64)


def f16(x): return np.asarray(x, dtype=np.float32).astype(np.float16).astype(np.float64)
def f32(x): return np.asarray(x, dtype=np.float32).astype(np.float64)


def fma2(R, a, b, c): return R(a * b + c)   # one rounding per half (fma.rn.bf16x2 / f16x2)


def cmul2(R, xr, xi, wx, wy):   # flashbutterfly_ogr.cu's cmul2 on a pair (arrays of 2)
    return fma2(R, xr, wx, fma2(R, xi, -wy, -0.0)), fma2(R, xr, wy, fma2(R, xi, wx, -0.0))


def check(bf, n=4000):
    R = bf16 if bf else f16
    s = 1.0 if bf else 0.5
    worst = {"fwd0": 0.0, "fwd1": 0.0, "inv": 0.0}
    e_old, e_new, ctl_conj, ctl_swap = [], [], [], []
    for _ in range(n):
        xr, xi = R(rng.standard_normal(2)), R(rng.standard_normal(2))   # [p]
        a = rng.uniform(0, 2 * np.pi, 2)
        w = np.stack([f32(np.cos(a)), f32(-np.sin(a))])                  # w_N(m_p) as fp32 (TwFirst / TwcInv values)
        # forward, fp32 path (dft_c HIN: x1 = x0; twiddle_pow: x0 s, x1 s w), packed per k as (p = 0, p = 1)
        old0 = R(f32(xr * s)), R(f32(xi * s))
        pr, pi = f32(s * w[0]), f32(s * w[1])
        old1 = R(f32(f32(xr * pr) - f32(xi * pi))), R(f32(f32(xr * pi) + f32(xi * pr)))
        # forward, H2 path
        new0 = (xr, xi) if bf else (fma2(R, xr, 0.5, -0.0), fma2(R, xi, 0.5, -0.0))
        new1 = cmul2(R, xr, xi, R(s * w[0]), R(s * w[1]))
        assert np.array_equal(np.array(old0), np.array(new0)), (old0, new0)   # k = 0: the same bits
        ex = (xr * s * w[0] - xi * s * w[1], xr * s * w[1] + xi * s * w[0])
        mag = np.hypot(ex[0], ex[1]) + 1e-30
        worst["fwd1"] = max(worst["fwd1"], float(np.max(np.hypot(new1[0] - old1[0], new1[1] - old1[1]) / mag)))
        e_old += list(np.hypot(old1[0] - ex[0], old1[1] - ex[1]) / mag)
        e_new += list(np.hypot(new1[0] - ex[0], new1[1] - ex[1]) / mag)
        # inverse: og_inv's w[p] = conj(v) = (v.x, -v.y), a = xr w.x - xi w.y, b = xr w.y + xi w.x
        cx, cy = w[0], -w[1]
        olda = R(f32(f32(xr * cx) - f32(xi * cy))), R(f32(f32(xr * cy) + f32(xi * cx)))
        newa = cmul2(R, xr, xi, R(w[0]), R(-w[1]))   # inv_first_h2: wx = (v.x), wy = (-v.y)
        exi = (xr * cx - xi * cy, xr * cy + xi * cx)
        magi = np.hypot(exi[0], exi[1]) + 1e-30
        worst["inv"] = max(worst["inv"], float(np.max(np.hypot(newa[0] - olda[0], newa[1] - olda[1]) / magi)))
        # negative controls: the inverse without the conjugation, the pair's halves swapped
        bad = cmul2(R, xr, xi, R(w[0]), R(w[1]))
        ctl_conj.append(float(np.max(np.hypot(bad[0] - olda[0], bad[1] - olda[1]) / magi)))
        sw = cmul2(R, xr[::-1], xi[::-1], R(s * w[0]), R(s * w[1]))
        ctl_swap.append(float(np.max(np.hypot(sw[0] - old1[0], sw[1] - old1[1]) / mag)))
    ratio = float(np.sqrt(np.mean(np.square(e_new)) / np.mean(np.square(e_old))))
    ulp = 2.0 ** -8 if bf else 2.0 ** -11   # a 16-bit ulp at 1 (relative spacing just above a power of two)
    # within 3 ulps of the fp32 path (a pair of roundings on each side, the partial product's cancellation aside)
    assert worst["fwd1"] < 3 * ulp and worst["inv"] < 3 * ulp, worst
    assert ratio < 1.6, ratio
    assert np.median(ctl_conj) > 0.3 and np.median(ctl_swap) > 0.3, (np.median(ctl_conj), np.median(ctl_swap))
    return worst, ratio


def check_ru(bf, n=50000):
    """_ruhr (conv256_ru's PT): the MMA's fp32 outputs d (dr, di) packed to 16 bits, then (d w) and (d conj(w)) by cmul2
    with the pair's twiddles packed once, against the fp32 path (a[q] = dr w.x - di w.y, ... then pack2): within 4 16-bit
    ulps, rms vs exact <= 2x the fp32 path's (one more rounding of the operand); the conjugation's sign flip checked."""
    R = bf16 if bf else f16
    dr, di = f32(rng.standard_normal((n, 2))), f32(rng.standard_normal((n, 2)))
    a = rng.uniform(0, 2 * np.pi, (n, 2))
    wx, wy = f32(np.cos(a)), f32(-np.sin(a))
    res = {}
    for conj in (False, True):
        sy = -wy if conj else wy
        ex = (dr * wx - di * sy, dr * sy + di * wx)
        old = R(f32(f32(dr * wx) - f32(di * sy))), R(f32(f32(dr * sy) + f32(di * wx)))
        new = cmul2(R, R(dr), R(di), R(wx), R(wy) * (-1.0 if conj else 1.0))
        mag = np.hypot(ex[0], ex[1]) + 1e-30
        d = np.hypot(new[0] - old[0], new[1] - old[1]) / mag
        eo = np.hypot(old[0] - ex[0], old[1] - ex[1]) / mag
        en = np.hypot(new[0] - ex[0], new[1] - ex[1]) / mag
        ratio = float(np.sqrt(np.mean(en ** 2) / np.mean(eo ** 2)))
        ulp = 2.0 ** -8 if bf else 2.0 ** -11
        assert np.max(d) < 4 * ulp and ratio < 2.0, (conj, np.max(d), ratio)
        bad = cmul2(R, R(dr), R(di), R(wx), R(wy) * (1.0 if conj else -1.0))   # the conjugation dropped / added
        assert np.median(np.hypot(bad[0] - old[0], bad[1] - old[1]) / mag) > 0.3
        res[conj] = (float(np.max(d)), ratio)
    return res


if __name__ == "__main__":
    for bf in (True, False):
        w, r = check(bf)
        print("bf16" if bf else "fp16", "largest |packed - fp32 path| / |x w|: fwd %.2e inv %.2e;" % (w["fwd1"], w["inv"]),
              "rms error vs exact, packed / fp32 path: %.2f" % r)
        for conj, (m, q) in check_ru(bf).items():
            print("  register unit (_ruhr), %s: largest |packed - fp32 path| %.2e, rms ratio %.2f"
                  % ("d conj(w)" if conj else "d w", m, q))
    print("ok")
