# Bank model of the learned middles' 16-bit plane accesses (session 24): mean wavefronts a warp request per access site for pad
# functions f(i) of the element index (SIDX now: i + (i >> 5)), the pair-access prediction, and (--search) two-term pads.
# Usage: python3 planes.py [--search]
# Bank model of the 16-bit plane accesses of a learned middle (p3_mid16, ONE = 5: two rows of 8192 = 16384 elements a plane).
import itertools
def wf(idxs, f):
    banks = {}
    for i in idxs:
        w = f(i) >> 1
        banks.setdefault(w & 31, set()).add(w)
    return max(len(s) for s in banks.values())
def warps_tiles_a(lS, O, load):
    S = 1 << lS; M = 16 * S; cols = S >> 3
    for tile in range(O * cols):
        o, c0 = tile >> (lS - 3), (tile & (cols - 1)) * 8
        base = o * M
        for q in range(4):
            idx = []
            for lane in range(32):
                g, t = lane >> 2, lane & 3
                if load: r = 2 * t + (q & 1) + 8 * (q >> 1); idx.append(base + r * S + c0 + g)
                else: k = g + 8 * (q >> 1); c = c0 + 2 * t + (q & 1); idx.append(base + k * S + c)
            yield idx
def warps_b(n, load):
    for tile in range(n >> 8):
        base = tile << 8
        if load:
            for i in range(4):
                for e in range(2):
                    yield [base + ((l >> 2) + 8 * (i & 1)) * 16 + 2 * (l & 3) + 8 * (i >> 1) + e for l in range(32)]
        else:
            for j in range(2):
                for q in range(4):
                    yield [base + ((l >> 2) + 8 * (q >> 1)) * 16 + 8 * j + 2 * (l & 3) + (q & 1) for l in range(32)]
def warps_rows(M, V=8):   # load_row16 / store_row16 on 8192-element rows: item i, element V i + j
    for w0 in range(0, M // V, 32):
        for j in range(V):
            yield [V * (w0 + l) + j for l in range(32)]
def sites():
    return {
        'rows (load/store/dump)': lambda: warps_rows(8192),
        'a lS=8 load': lambda: warps_tiles_a(8, 4, True), 'a lS=8 store': lambda: warps_tiles_a(8, 4, False),
        'a lS=4 load': lambda: warps_tiles_a(4, 64, True), 'a lS=4 store': lambda: warps_tiles_a(4, 64, False),
        'b load': lambda: warps_b(16384, True), 'b store': lambda: warps_b(16384, False)}
def report(name, f):
    tot = totw = 0
    out = []
    for s, gen in sites().items():
        ws = [wf(ix, f) for ix in gen()]
        out.append(f'{s}: {sum(ws)/len(ws):.2f}')
    print(f'{name:28s}', '  '.join(out))
pads = {
    'i + (i>>5)  (SIDX now)': lambda i: i + (i >> 5),
    'i + 2(i>>5)': lambda i: i + 2 * (i >> 5),
    'i + (i>>4)': lambda i: i + (i >> 4),
    'i + 2(i>>6)': lambda i: i + 2 * (i >> 6),
    'i + (i>>6)': lambda i: i + (i >> 6),
    'i + 2(i>>4)': lambda i: i + 2 * (i >> 4),
    'i + (i>>5) + (i>>8)': lambda i: i + (i >> 5) + (i >> 8),
    'i + 2(i>>5) + 2(i>>9)': lambda i: i + 2*(i >> 5) + 2*(i >> 9),
}
# --- Pair accesses (session 24 prediction for the next step): one 32-bit access for two adjacent 16-bit elements of a lane
# (type-A stores: columns c, c + 1 of q = 2 h, 2 h + 1; type-B loads p, p + 1 and stores; the row loads / stores j, j + 1 of a
# 16-byte item), which needs pairs word-aligned: a pad of 2 elements per 64 (i + 2 (i >> 6), the same 3 % as SIDX). The type-A
# loads stay 16-bit (a lane's four elements are in four rows). Wavefronts per element per plane, summed over the six stages'
# loads and stores and ~6 row passes (load, store, dumps).
# A pair access is scored by wf on the even member: the word holding elements i, i + 1 (f(i) even keeps them in one word).
def mean(gen, fn, f):
    ws = [fn(ix, f) for ix in gen]
    return sum(ws) / len(ws)
def per_element(f, pairs):
    a8l = mean(warps_tiles_a(8, 4, True), wf, f)
    a4l = mean(warps_tiles_a(4, 64, True), wf, f)
    if not pairs:
        a8s, a4s = mean(warps_tiles_a(8, 4, False), wf, f), mean(warps_tiles_a(4, 64, False), wf, f)
        bl, bs, rows = mean(warps_b(16384, True), wf, f), mean(warps_b(16384, False), wf, f), mean(warps_rows(8192), wf, f)
    else:   # the even member of each pair stands for the pair; half as many requests per element
        ev = lambda gen: [ix for ix in gen if ix[0] % 2 == 0]
        a8s = mean(ev(warps_tiles_a(8, 4, False)), wf, f) / 2
        a4s = mean(ev(warps_tiles_a(4, 64, False)), wf, f) / 2
        bl = mean(ev(warps_b(16384, True)), wf, f) / 2
        bs = mean(ev(warps_b(16384, False)), wf, f) / 2
        rows = mean(ev(warps_rows(8192)), wf, f) / 2
    return 2 * (a8l + a8s + a4l + a4s + bl + bs) + 6 * rows

if __name__ == '__main__':
    import sys
    for n, f in pads.items(): report(n, f)
    now = per_element(lambda i: i + (i >> 5), False)
    new = per_element(lambda i: i + 2 * (i >> 6), True)
    print(f'pairs: wavefronts per element per plane, SIDX 16-bit {now:.2f}, pairs with i + 2(i>>6) {new:.2f} ({100 * (new / now - 1):+.0f} %)')
    if '--search' in sys.argv:
        print('--- search')
        import sys
        res = []
        cache = {s: [list(g()) for _ in [0]][0] for s, g in sites().items()}
        def score(f):
            return {s: sum(wf(ix, f) for ix in w) / len(w) for s, w in cache.items()}
        cands = {}
        for s1 in range(3, 10):
            for a in (1, 2, 4, 8):
                for s2 in range(s1 + 1, 12):
                    for b in (0, 1, 2, 4, 8):
                        cands[f'i + {a}(i>>{s1}) + {b}(i>>{s2})'] = (lambda a, s1, b, s2: lambda i: i + a * (i >> s1) + b * (i >> s2))(a, s1, b, s2)
        # XOR swizzles of the 32-bit word index within 8192-element rows (bijective), no padding
        for s in range(3, 9):
            for k in range(0, 5):
                for m in (1, 3, 7):
                    cands[f'xor w ^ (((w>>{s})&{m})<<{k})'] = (lambda s, k, m: lambda i: (((i >> 1) ^ (((i >> 1 >> s) & m) << k)) << 1) | (i & 1))(s, k, m)
        for n, f in cands.items():
            sc = score(f)
            res.append((sum(sc.values()), n, sc))
        res.sort()
        for t, n, sc in res[:12]:
            print(f'{t:6.2f} {n:32s}', ' '.join(f'{v:.2f}' for v in sc.values()))
