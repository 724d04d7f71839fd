#!/usr/bin/env python3
"""Warp-stall samples per kernel from ncu's source page (--page source --csv --print-source sass): the reasons' shares and the
instructions (opcode) with the most samples. Usage: xz -dc ncu-source.csv.xz | python3 stalls.py [top]"""
import csv, sys
from collections import defaultdict
top = int(sys.argv[1]) if len(sys.argv) > 1 else 10
kern, hdr, per = None, None, {}
for r in csv.reader(sys.stdin):
    if not r: continue
    if r[0] == "Kernel Name": kern = r[1]; per[kern] = (defaultdict(float), defaultdict(float), [0.0]); continue
    if r[0] == "Address": hdr = {k: i for i, k in enumerate(r)}; continue
    if hdr is None or kern is None or len(r) < len(hdr): continue
    try: n = float(r[hdr["Warp Stall Sampling (All Samples)"]] or 0)
    except ValueError: continue
    reasons, ops, tot = per[kern]
    tot[0] += n
    for k, i in hdr.items():
        if k.startswith("stall_") and "Not Issued" not in k:
            try: reasons[k[6:]] += float(r[i] or 0)
            except ValueError: pass
    src = r[hdr["Source"]].strip().split()
    op = (src[1] if src[0].startswith("@") else src[0]) if src else "?"
    ops[op] += n
for k, (reasons, ops, tot) in per.items():
    t = tot[0] or 1
    print(f"{k}: {t:.0f} samples")
    print("   reasons: " + ", ".join(f"{r} {100*v/t:.1f}%" for r, v in sorted(reasons.items(), key=lambda x: -x[1])[:8]))
    print("   opcodes: " + ", ".join(f"{o} {100*v/t:.1f}%" for o, v in sorted(ops.items(), key=lambda x: -x[1])[:top]))
