# Shapes: one warp of 32 lanes (g = lane / 4, t = lane % 4); F16 = W16[row * col], W16[m] = exp(-2 pi i m / 16).
# Host check of the _rul kernels' fragment words (flashbutterfly_ogr.cu's frag16_words, make_frag_a_lean, make_frag_b_lean) against
# make_frag_a / make_frag_b / flashbutterfly_ogr.cu's make_frag_a_neg and make_frag_b_swap, bit for bit in bf16 and
# fp16, from a model of the shared twiddle table (tw_init: sincospif(-j 2/N) in fp32, IEEE sinPi signed zeros;
# tw_at = hi[j >> 7] * lo[j & 127] in fp32). Also the paired stores of fwd_unit: the two 16-bit values of positions q,
# q + 1 at adjacent SIDX offsets with the lower address even on units u with u / 4 even; stage_in's raw path (RAW):
# SIDX(n + i) = SIDX(n) + i for n a multiple of 8, i < 8, and every non-NaN bf16 / fp16 bit pattern unchanged by ld (to
# fp32, exact) then st (round to nearest even), so storing the input's bits is what ld / st stored. Not part of the build:
# `python3 og_lean_model.py` prints the mismatches (words that differ in more than the sign of a zero half: 0 expected)
# and exits 1 on any. Written by helper f4k2 before the kernels ran on a GPU.
import math, sys
import numpy as np

def f32(x): return float(np.float32(x))
def sincospi_neg(x):  # sincospif(-x) for x = j * 2 / N >= 0: exact at multiples of 1/2, else the rounded value
    if x == 0: return (-0.0, 1.0)
    if (2 * x) == int(2 * x):
        k = int(2 * x) % 4   # -x pi = -k pi/2
        return {0: (-0.0, 1.0), 1: (-1.0, 0.0), 2: (0.0, -1.0), 3: (1.0, 0.0)}[k]  # sinPi(-n) = -0, cos(pi/2 odd) = +0
    return (f32(math.sin(-math.pi * x)), f32(math.cos(math.pi * x)))
def table(log2N):
    N = 1 << log2N
    lo = [sincospi_neg(b * 2 / N)[::-1] for b in range(128)]          # (c, s)
    hi = [sincospi_neg(a * 128 * 2 / N)[::-1] for a in range(max(1, N // 128))]
    def tw_at(j):
        a, b = hi[j >> 7], lo[j & 127]
        return (f32(f32(a[0] * b[0]) - f32(a[1] * b[1])), f32(f32(a[0] * b[1]) + f32(a[1] * b[0])))
    return tw_at
def to16(x, bf):  # RN to bf16 / fp16, the bit pattern
    if bf:
        b = np.array([x], np.float32).view(np.uint32)[0]
        if x != x: return 0x7FC0
        r = ((int(b) + 0x7FFF + ((int(b) >> 16) & 1)) >> 16) & 0xFFFF
        return r
    return int(np.array([x], np.float16).view(np.uint16)[0])
def pack2(lo, hi, bf): return to16(lo, bf) | (to16(hi, bf) << 16)
NEG2 = 0x80008000

def old_frags(tw, sh, bf, g, t):
    w16 = lambda m: tw(m << sh)
    A = {}
    for i in range(4):
        row, col = g + 8 * (i & 1), 2 * t + 8 * (i >> 1)
        w0, w1 = w16((row * col) & 15), w16((row * (col + 1)) & 15)
        A[('a', 're', i)] = pack2(w0[0], w1[0], bf); A[('a', 'im', i)] = pack2(w0[1], w1[1], bf)
        A[('an', 're', i)] = pack2(-w0[0], -w1[0], bf); A[('an', 'im', i)] = pack2(-w0[1], -w1[1], bf)
    for swap in (False, True):
        for j in range(2):
            for q in range(2):
                row, col = 2 * t + 8 * q, 8 * j + ((g ^ (g >> 2)) if swap else g)
                w0, w1 = w16((row * col) & 15), w16(((row + 1) * col) & 15)
                A[('bs' if swap else 'b', 're', 2 * j + q)] = pack2(w0[0], w1[0], bf)
                A[('bs' if swap else 'b', 'im', 2 * j + q)] = pack2(w0[1], w1[1], bf)
    return A
def lean_words(tw, sh, bf, gg, t):
    w16 = lambda m: tw(m << sh)
    w0, w1 = w16((2 * t * gg) & 15), w16(((2 * t + 1) * gg) & 15)
    r, m = pack2(w0[0], w1[0], bf), pack2(w0[1], w1[1], bf)
    gm, hi = (NEG2 if gg & 1 else 0), 0x80000000
    return [r, r ^ hi, r ^ gm, r ^ gm ^ hi], [m, m ^ hi, m ^ gm, m ^ gm ^ hi]
def lean_frags(tw, sh, bf, g, t):
    A = {}
    re, im = lean_words(tw, sh, bf, g, t)
    for i in range(4):
        A[('a', 're', i)] = re[i]; A[('a', 'im', i)] = im[i]
        A[('an', 're', i)] = re[i] ^ NEG2; A[('an', 'im', i)] = im[i] ^ NEG2
    for swap in (False, True):
        re, im = lean_words(tw, sh, bf, (g ^ (g >> 2)) if swap else g, t)
        for j in range(2):
            for q in range(2):
                A[('bs' if swap else 'b', 're', 2 * j + q)] = re[j + 2 * q]
                A[('bs' if swap else 'b', 'im', 2 * j + q)] = im[j + 2 * q]
    return A
def zero_sign_only(a, b):  # halves equal, or both a zero of either sign
    for s in (0, 16):
        x, y = (a >> s) & 0xFFFF, (b >> s) & 0xFFFF
        if x != y and not ((x & 0x7FFF) == 0 and (y & 0x7FFF) == 0): return False
    return True

bad = exact = zs = 0
for log2N in (13, 14):
    tw = table(log2N)
    for bf in (True, False):
        for lane in range(32):
            g, t = lane >> 2, lane & 3
            o, n = old_frags(tw, log2N - 4, bf, g, t), lean_frags(tw, log2N - 4, bf, g, t)
            for key in o:
                if o[key] == n[key]: exact += 1
                elif zero_sign_only(o[key], n[key]): zs += 1
                else:
                    bad += 1; print('MISMATCH', log2N, 'bf16' if bf else 'fp16', lane, key, hex(o[key]), hex(n[key]))
# fwd_unit's paired stores: idx(q) = 264 g + 2t + 2112 (q >> 1) + (q & 1) + 8u + (u >> 2) + k SK (the TF offsets, which
# are SIDX of the table kernels' positions); q + 1 adjacent to q, idx(q) even when (u >> 2) is even (SK, 2112, 264 even)
SIDX = lambda i: i + (i >> 5); SK = 4096 + 128
for u in range(32):
    for g in range(8):
        for t in range(4):
            for k in range(4):
                for q in range(4):
                    idx = 264 * g + 2 * t + 2112 * (q >> 1) + (q & 1) + 8 * u + (u >> 2) + k * SK
                    if idx != SIDX((g + 8 * (q >> 1)) * 256 + 8 * u + 2 * t + (q & 1)) + k * SK:
                        bad += 1; print('IDX', u, g, t, k, q)
                    if q % 2 == 0 and (u >> 2) % 2 == 0 and idx % 2: bad += 1; print('ALIGN', u, g, t, k, q)
for n in range(0, 16384, 8):
    for i in range(8):
        if SIDX(n + i) != SIDX(n) + i: bad += 1; print('SIDX', n, i)
for bits in range(65536):
    f = float(np.array([bits << 16], np.uint32).view(np.float32)[0])   # bf16 -> fp32: the high half
    if f == f and to16(f, True) != bits: bad += 1; print('bf16 round trip', hex(bits))
    h = np.array([bits], np.uint16).view(np.float16)[0]
    if h == h and to16(float(h), False) != bits: bad += 1; print('fp16 round trip', hex(bits))
print(f'fragment words: {exact} identical, {zs} differ only in the sign of a zero half, {bad} mismatches')
sys.exit(1 if bad else 0)
