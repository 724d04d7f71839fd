#!/usr/bin/env python3
"""Bank model of the twiddle-table lookups of monarch.cuh's tiles_a in the learned three-pass middles (N = 8192).

A warp's LDS.64 of tw_at(T, j) reads T.hi[j >> 7] and T.lo[j & 127] (8-byte float2 entries; 32 banks of 4 bytes).
Model: an 8-byte request is served a half-warp at a time; a half-warp costs max over banks of the number of distinct
4-byte words it touches in that bank (same word: broadcast), at least 1. Ideal = 2 wavefronts a request.
Unpadded: entry i at word 2 i; padded (TwP): entry i at word 2 (i + (i >> 4)). Prints the mean wavefronts a lookup
(lo and hi requests averaged) for the forward (output twiddle) and inverse (input twiddle) lookups at each stride lS.
Usage: python3 banks.py
"""
LOG2N = 13

def wavefronts(entries, pad):
    total = 0
    for half in (entries[:16], entries[16:]):
        banks = {}
        for e in half:
            p = e + (e >> 4) if pad else e
            for w in (2 * p, 2 * p + 1):
                banks.setdefault(w % 32, set()).add(w)
        total += max(len(s) for s in banks.values())
    return total

def lookups(fwd, lS):
    """Yield, for every (tile column block c0, q) of tiles_a, the 32 lanes' table indices j."""
    S, M = 1 << lS, 16 << lS
    shift = LOG2N - lS - 4
    for c0 in range(0, S, 8):
        for q in range(4):
            js = []
            for lane in range(32):
                g, t = lane >> 2, lane & 3
                if fwd:
                    k, c = g + 8 * (q >> 1), c0 + 2 * t + (q & 1)
                    js.append(((k * c) & (M - 1)) << shift)
                else:
                    r = 2 * t + (q & 1) + 8 * (q >> 1)
                    js.append(((r * (c0 + g)) & (M - 1)) << shift)
            yield js

def mean_wf(fwd, lS, pad):
    n, tot = 0, 0
    for js in lookups(fwd, lS):
        tot += wavefronts([j >> 7 for j in js], pad) + wavefronts([j & 127 for j in js], pad)
        n += 2
    return tot / n

if __name__ == "__main__":
    print("lS  dir   unpadded  padded  (wavefronts a request, ideal 2)")
    for lS in (8, 4):
        for fwd in (True, False):
            print(f"{lS:2d}  {'fwd' if fwd else 'inv'}   {mean_wf(fwd, lS, False):7.2f}  {mean_wf(fwd, lS, True):7.2f}")
