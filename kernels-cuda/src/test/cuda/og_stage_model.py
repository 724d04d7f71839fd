#!/usr/bin/env python3
# Shapes: N FFT size (8K, 16K), half = N/2 staged values, L input length (L % 8 == 0: the vec path), T threads per block.
# A host model of the _rup kernels' staging (flashbutterfly_ogr.cu's StageBuf, og.cu's og_forward with PF): for every
# block size the kernels accept (T = 32 .. 128, multiples of 32) and both N, the block's first pair (group 0 loaded
# before the tables and stored after them, groups from g0 = 1 in the pair loop) and a later pair (groups from g0 = 0)
# write every staged position n < half exactly once, with u's value at n < L and 0 at L <= n < half, at SIDX(n) + i
# (the 8 values of a 16-byte vector: SIDX(n + i) = SIDX(n) + i for n % 8 == 0, i < 8), as stage_in<RAW> does; the
# loads read only n < min(L, half). A wrong group bound, a k stride or a skipped group fails it.
# Run: python3 kernels-cuda/src/test/cuda/og_stage_model.py  (prints "ok" and the cases checked)

def sidx(i):
    return i + (i >> 5)


def load(tid, T, L, half, grp, u):
    a = []
    for k in range(4):
        n = 8 * (tid + (4 * grp + k) * T)
        if n < half and n < L:
            assert n + 8 <= L and n + 8 <= half, "a vector straddles L or half"
            a.append(u[n:n + 8])
        else:
            a.append([0] * 8)
    return a


def store(tid, T, half, grp, a, plane):
    for k in range(4):
        n = 8 * (tid + (4 * grp + k) * T)
        if n >= half:
            continue
        for i in range(8):
            assert sidx(n + i) == sidx(n) + i
            plane[('val', sidx(n) + i)] = a[k][i]
            plane[('cnt', sidx(n) + i)] = plane.get(('cnt', sidx(n) + i), 0) + 1


def stage(T, L, half, first, u):
    plane = {}
    for tid in range(T):
        if first:   # og_forward: group 0 loaded before tw_init, stored after tw256_init (stage<true>)
            store(tid, T, half, 0, load(tid, T, L, half, 0, u), plane)
        grp = 1 if first else 0   # stage<false>(..., g0 = pp == 0)
        while 32 * grp * T < half:
            store(tid, T, half, grp, load(tid, T, L, half, grp, u), plane)
            grp += 1
    return plane


def main():
    cases = 0
    for N in (8192, 16384):
        half = N // 2
        for T in (32, 64, 96, 128):
            for L in (8, 2000, 3000, half - 8, half):
                u = [1000 + n for n in range(L)]
                for first in (True, False):
                    plane = stage(T, L, half, first, u)
                    for n in range(half):
                        assert plane.get(('cnt', sidx(n)), 0) == 1, (N, T, L, first, n, "written once")
                        assert plane[('val', sidx(n))] == (u[n] if n < L else 0), (N, T, L, first, n)
                    written = sum(1 for key in plane if isinstance(key, tuple) and key[0] == 'cnt')
                    assert written == half, (N, T, L, first, written)
                    cases += 1
    print("ok", cases, "cases: every staged position written once with u or 0")


if __name__ == "__main__":
    main()
