# Zero-overhead XOR swizzles (and one pad word per 32 on top) of the 16-bit planes, scored by planes.py's bank model (mean wavefronts a
# warp request at each access site; 1.00 = conflict-free). Output of 2026-12-03: planes_xor.txt. Usage: python3 planes_xor.py
import os, sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__))); from planes import *
cache = {s: list(g()) for s, g in sites().items()}
def score(f): return {s: sum(wf(ix, f) for ix in w) / len(w) for s, w in cache.items()}
res = []
def xf(terms, pad):
    def f(i):
        w, e = i >> 1, i & 1
        for s, m, k in terms: w ^= ((w >> s) & m) << k
        w += pad * (w >> 5) if pad else 0
        return (w << 1) | e
    return f
import itertools
singles = [(s, m, k) for s in range(2, 10) for m in (1, 3, 7, 15, 31) for k in range(0, 5) if (m << k) < (1 << s)]
for pad in (0, 1):
    for t in singles:
        res.append((t,), )
cands = [((t,), p) for t in singles for p in (0, 1)] + [((a, b), p) for a, b in itertools.combinations(singles, 2) if a[0] != b[0] and a[0] in (3,4,5,6,7,8) and b[0] in (3,4,5,6,7,8) and a[1] in (1,3,7) and b[1] in (1,3,7) for p in (0,)]
out = []
for terms, pad in cands:
    sc = score(xf(terms, pad)); out.append((sum(sc.values()), terms, pad, sc))
out.sort(key=lambda x: x[0])
for t, terms, pad, sc in out[:15]: print(f'{t:6.2f} pad {pad} {terms}', ' '.join(f'{v:.2f}' for v in sc.values()))
