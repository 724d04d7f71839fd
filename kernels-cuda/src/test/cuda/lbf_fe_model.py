#!/usr/bin/env python3
# Host model of learned_tc.cu's FE epilogues (the N1 = 16 `f` / `f2` kernels). Shapes: N = 16 * N2 (N2 = 16, 32), a
# row as a 16 x N2 matrix; lane = 4 g + t. Replays, per lane, the order in which lbt_row (step 1) and right_product
# (steps 2, 3; MT = 1) call the epilogue, and checks that
#  (1) the recurrence's exponent cur[e] = r (c + q) + 8 r k (lbp_tw_init, then times w^(8 r) per call of slot e) equals
#      row * col at every call (exactly, in integers mod N), and every (row, col) of the tile is visited once;
#  (2) the 16-byte Kp load at the even call (e even) covers (row, col) and (row, col + 1), the odd call's (row, col + 1);
#  (3) the fp32 recurrence (numpy float32 complex products from the fp32 table) stays within 4e-7 of exp(-2 pi i rc / N);
#  (4) the 16-byte Kp loads of a quarter warp hit 32 distinct banks (SK = N2 + 8 float2 per row).
# Negative control: a step of w^(4 r) instead of w^(8 r) must fail (1).
# Also the pair kernels' start-value table (TI): its build and load indices give lbp_tw_init's values (below).
# Run: python3 lbf_fe_model.py
import numpy as np

def calls(N2):
    """Yields (lane, e, row, col) in the epilogue's call order: jp, (m = 0), j, h, then q (e = 2h + q)."""
    for lane in range(32):
        g, t = lane >> 2, lane & 3
        for jp in range(N2 // 16):
            for j in range(2):
                for h in range(2):
                    row, col = g + 8 * h, 16 * jp + 8 * j + 2 * t
                    for q in range(2):
                        yield lane, 2 * h + q, row, col + q

def check(N2, step=8):
    N = 16 * N2
    tab = np.exp(-2j * np.pi * np.arange(N) / N).astype(np.complex64)
    seen, worst, ok = set(), 0.0, True
    cur, stp, curf = {}, {}, {}
    for lane, e, row, col in calls(N2):
        g, t = lane >> 2, lane & 3
        if (lane, e) not in cur:   # lbp_tw_init(tw, g, 2 t): slot e = 2h + q holds r (2t + q), step 8 r, r = g + 8 h
            r = g + 8 * (e >> 1)
            cur[lane, e] = (r * (2 * t + (e & 1))) % N
            stp[lane, e] = (step * r) % N
            curf[lane, e] = tab[cur[lane, e]]
        ok &= cur[lane, e] == (row * col) % N
        worst = max(worst, abs(complex(curf[lane, e]) - np.exp(-2j * np.pi * row * col / N)))
        cur[lane, e] = (cur[lane, e] + stp[lane, e]) % N
        curf[lane, e] = np.complex64(curf[lane, e] * tab[stp[lane, e]])
        if e % 2 == 0:   # the float4 at (row, col) holds Kp (row, col) and (row, col + 1): col even
            ok &= col % 2 == 0
        seen.add((row, col))
    ok &= seen == {(r, c) for r in range(16) for c in range(N2)}
    SK = N2 + 8
    for quarter in range(4):   # lanes 8 quarter .. 8 quarter + 7, first call (jp = j = h = 0): (g, 2t)
        banks = []
        for lane in range(8 * quarter, 8 * quarter + 8):
            g, t = lane >> 2, lane & 3
            w0 = 2 * (g * SK + 2 * t)   # float2 index -> 4-byte words
            banks += [(w0 + i) % 32 for i in range(4)]
        ok &= len(set(banks)) == 32
    return ok, worst

if __name__ == "__main__":
    allok = True
    for N2 in (16, 32):
        ok, worst = check(N2)
        print(f"N2={N2}: exponents/coverage/banks {'ok' if ok else 'FAIL'}, fp32 recurrence max abs err {worst:.2e}")
        allok &= ok and worst < 4e-7
        bad, _ = check(N2, step=4)
        print(f"N2={N2}: negative control (step w^(4r)) {'fails as it must' if not bad else 'PASSED: model broken'}")
        allok &= not bad
    FE_OK = allok

# ---- the pair kernels' start-value table (TI, the `t` kernels): lbp_twi_build writes, lbp_row loads
# twi[((half * 3 + which) * 6 + v) * 32 + lane], v < 4 cur, 4..5 stp; lbp_row's step 1 (row tile m) loads
# which = m, step 3 which = 2; the values must be what lbp_tw_init(tw, r0, c) gives at the lane: checked on exponents.
def tw_init(N, r0, c):
    cur, stp = [0] * 4, [0] * 2
    for h in range(2):
        r = r0 + 8 * h
        stp[h] = (8 * r) % N; cur[2 * h] = (r * c) % N; cur[2 * h + 1] = (r * (c + 1)) % N
    return cur + stp

def check_ti(N2):
    N, JPW = 32 * N2, N2 // 32
    twi = [None] * (192 * 6)
    for i in range(192):   # the build loop, every thread index (any blockDim: a strided loop over i)
        half, which, ln = i // 96, (i >> 5) % 3, i & 31
        g, t = ln >> 2, ln & 3
        vals = tw_init(N, 16 * which + g, 16 * half * JPW + 2 * t) if which < 2 else tw_init(N, 16 * half + g, 2 * t)
        for v in range(6):
            idx = (half * 3 + which) * 6 * 32 + ln + 32 * v
            assert twi[idx] is None; twi[idx] = vals[v]
    ok = all(x is not None for x in twi)
    for half in range(2):
        jp0 = half * JPW
        for lane in range(32):
            g, t = lane >> 2, lane & 3
            for m in range(2):   # step 1
                base = (half * 3 + m) * 6 * 32 + lane
                ok &= [twi[base + 32 * v] for v in range(6)] == tw_init(N, 16 * m + g, 16 * jp0 + 2 * t)
            base = (half * 3 + 2) * 6 * 32 + lane   # step 3
            ok &= [twi[base + 32 * v] for v in range(6)] == tw_init(N, 16 * half + g, 2 * t)
            # conflict-free: a warp's load of value v reads 32 consecutive float2 (two wavefronts, the ideal)
    return ok

# ---- the TI kernels' x stage fill (lbp_stage_async REMAP): lane i's 16-byte chunk (r, c); the same set of chunks as the
# plain order for every kt, and each 8-lane phase's 16-byte writes on 32 distinct banks (the plain order: 2 wavefronts)
def stage_map(N2, kt, remap):
    CPR, HC = N2 // 16, N2 // 2
    out = []
    for i in range(16 * kt * CPR):
        q, w = i >> 3, i & 7
        r = 8 * (q // CPR) + q % CPR + CPR * (w // CPR) if remap else i // CPR
        c = 8 * (w % CPR) if remap else 8 * (i - r * CPR)
        out.append((r, c))
    return out, HC

def phase_wavefronts(N2, kt, remap):
    m, HC = stage_map(N2, kt, remap)
    worst = 0
    for p0 in range(0, len(m), 8):
        banks = {}
        for r, c in m[p0:p0 + 8]:
            w0 = (r * (HC + 8) + c) // 2   # 16-bit -> 4-byte words
            for k in range(4): banks[(w0 + k) % 32] = banks.get((w0 + k) % 32, 0) + 1
        worst = max(worst, max(banks.values()))
    return worst

def check_stage():
    ok = True
    for N2 in (32, 64):
        for kt in (1, 2):
            a, _ = stage_map(N2, kt, False); b, _ = stage_map(N2, kt, True)
            ok &= sorted(a) == sorted(b) and len(set(b)) == len(b)
            pw, rw = phase_wavefronts(N2, kt, False), phase_wavefronts(N2, kt, True)
            print(f"stage N2={N2} kt={kt}: same chunks {sorted(a) == sorted(b)}, wavefronts per phase plain {pw}, remap {rw}")
            ok &= rw == 1
    return ok

# ---- FE's start values: lbt_forward writes tw[N + 32 v + lane] = lbp_tw_init(tw, lane >> 2, 2 (lane & 3))[v]; lbt_row
# loads p = tw + N + lane, p[32 v] for both recurrences (steps 1 and 3), which the replay above starts at (g, 2t)
def check_fe_table(N2):
    N = 16 * N2
    tab = {}
    for lane in range(32):
        vals = tw_init(N, lane >> 2, 2 * (lane & 3))
        for v in range(6): tab[32 * v + lane] = vals[v]
    ok = len(tab) == 192
    for lane in range(32):
        g, t = lane >> 2, lane & 3
        loaded = [tab[lane + 32 * v] for v in range(6)]
        # the replay's start: slot e = 2h + q holds (g + 8h)(2t + q), steps 8 (g + 8h)
        want = [((g + 8 * (e >> 1)) * (2 * t + (e & 1))) % N for e in range(4)] + [(8 * (g + 8 * h)) % N for h in range(2)]
        ok &= loaded == want
    return ok

if __name__ == "__main__":
    fe = all(check_fe_table(n2) for n2 in (16, 32))
    print("FE start-value table (N2 = 16, 32):", "ok" if fe else "FAIL")
    FE_OK = FE_OK and fe
    ti = all(check_ti(n2) for n2 in (32, 64)) and check_stage()
    print("pair start-value table (N2 = 32, 64) and stage remap:", "ok" if ti else "FAIL")
    print("ALL OK" if FE_OK and ti else "FAILED")
    raise SystemExit(0 if FE_OK and ti else 1)
