# Session 18, helper pm4: shared-memory bank conflicts of lpm4's 16-bit-plane accesses at M = 4096 (no GPU needed):
# wavefronts per warp instruction (32 lanes, 16-bit elements, 32 banks of 4 bytes) for the middle's chunk loads / stores
# (pair_stage16_fwd, pm_chunk_fwd, load_tile_b, pm_chunk_inv) and the first stage's stride-256 stores / loads
# (first_fwd_tc, first_inv_tc), under SIDX (monarch.cuh: one pad element per 32, made for fp32 planes) and other
# layouts. Result (BENCH-RESULTS.md round 31-pm4): SIDX gives 2-way conflicts on every chunk access; the swizzle
# (i ^ (((i >> 5) & 7) << 2)) + 8 (i >> 8) (the same size as SIDX's planes) makes all of them 1. Run: python3 banks16.py
# 16-bit plane accesses of lpm4's phases at M = 4096: wavefronts per warp instruction under a layout f(i) -> element slot
def wf(slots):
    banks = {}
    for s in slots:
        w = s // 2            # 32-bit word holding the 16-bit element
        banks.setdefault(w % 32, set()).add(w)
    return max(len(v) for v in banks.values())
lanes = [(l >> 2, l & 3) for l in range(32)]
def pats(base=0, c0=0):
    P = {}
    for j in range(2):
        for h in range(2):
            for d in range(2):
                P[f"chunk_fwd ld j{j}h{h}+{d}"] = [base + (2*t + 8*h + d)*16 + 8*j + g for g, t in lanes]
    for j in range(2):
        for q in range(4):
            P[f"chunk_fwd st j{j}q{q}"] = [base + (g + 8*(q >> 1))*16 + 8*j + 2*t + (q & 1) for g, t in lanes]
    for i in range(4):
        for d in range(2):
            P[f"tile_b ld i{i}+{d}"] = [base + (g + 8*(i & 1))*16 + 2*t + 8*(i >> 1) + d for g, t in lanes]
    for j in range(2):
        for q in range(4):
            P[f"chunk_inv st j{j}q{q}"] = [base + (8*j + 2*t + (q & 1))*16 + g + 8*(q >> 1) for g, t in lanes]
    for q in range(4):
        P[f"first_fwd st q{q}"] = [(g + 8*(q >> 1))*256 + c0 + 2*t + (q & 1) for g, t in lanes]
        P[f"first_inv ld q{q}"] = [(2*t + (q & 1) + 8*(q >> 1))*256 + c0 + g for g, t in lanes]
    return P
layouts = {"SIDX i+(i>>5)": lambda i: i + (i >> 5),
           "i+2(i>>6)": lambda i: i + 2*(i >> 6),
           "i+8(i>>8)": lambda i: i + 8*(i >> 8),
           "none": lambda i: i}
P = pats(base=256*3, c0=8*5)
groups = {}
for name, lay in layouts.items():
    tot = {}
    for k, v in P.items():
        grp = k.split(" ")[0] + " " + k.split(" ")[1]
        tot.setdefault(grp, []).append(wf([lay(i) for i in v]))
    print(name, {g: round(sum(x)/len(x), 2) for g, x in tot.items()})
print("---")
cands = {"i+4(i>>5)": lambda i: i + 4*(i >> 5), "i+8(i>>5)": lambda i: i + 8*(i >> 5),
         "i+4(i>>5)+?": lambda i: i + 4*(i >> 5) + 2*(i >> 8),
         "xor w^((i>>5)&7)*2": lambda i: i ^ (((i >> 5) & 7) << 2),
         "xor w^((i>>5)&3)*4": lambda i: i ^ (((i >> 5) & 3) << 3)}
import itertools
for name, lay in cands.items():
    worst = {}
    for base in (0, 256*3, 256*7):
        for c0 in (0, 8*5, 8*13):
            for k, v in pats(base, c0).items():
                grp = " ".join(k.split(" ")[:2])
                worst.setdefault(grp, []).append(wf([lay(i) for i in v]))
    print(name, {g: round(sum(x)/len(x), 2) for g, x in worst.items()})
print("--- swizzle + pad per 256")
for P in (2, 4, 6, 8, 10, 12, 16, 18, 20, 24):
    lay = lambda i, P=P: (i ^ (((i >> 5) & 7) << 2)) + P * (i >> 8)
    worst = {}
    for base in (0, 256*3, 256*7):
        for c0 in (0, 8*5, 8*13, 8*31):
            for k, v in pats(base, c0).items():
                grp = " ".join(k.split(" ")[:2])
                worst.setdefault(grp, []).append(wf([lay(i) for i in v]))
    print(P, {g: round(sum(x)/len(x), 2) for g, x in worst.items()})
