#!/usr/bin/env python3
"""Shared-memory wavefronts per kernel and instruction class from ncu's source page (--page source --csv --print-source sass).
Class: opcode (LDS/STS and width) and, for LDS.64, whether the address has an immediate offset >= 0x10800 (learned_p3.cu's
middles: the twiddle table sits after the two 16-bit planes, 2 x 2 x (8192 + 256) x 2 bytes = 0x10800).
Usage: xz -dc ncu-source.csv.xz | python3 smemwf.py"""
import csv, re, sys
from collections import defaultdict
rows, kern, hdr = defaultdict(lambda: defaultdict(lambda: [0, 0, 0])), None, None
for r in csv.reader(sys.stdin):
    if not r: continue
    if r[0] == "Kernel Name": kern = r[1]; continue
    if r[0] == "Address": hdr = {k: i for i, k in enumerate(r)}; continue
    if hdr is None or len(r) < len(hdr): continue
    try:
        wf, ex, idl = (float(r[hdr[k]] or 0) for k in ("L1 Wavefronts Shared", "L1 Wavefronts Shared Excessive", "L1 Wavefronts Shared Ideal"))
    except ValueError:
        continue
    if wf == 0: continue
    src = r[hdr["Source"]].strip()
    op = src.split()[0] if not src.startswith("@") else src.split()[1]
    m = re.search(r"\+0x([0-9a-f]+)\]", src)
    if op.startswith("LDS.64") and m and int(m.group(1), 16) >= 0x10800: op += " (twiddle)"
    a = rows[kern][op]; a[0] += wf; a[1] += ex; a[2] += idl
for k, d in rows.items():
    tw, te = sum(v[0] for v in d.values()), sum(v[1] for v in d.values())
    print(f"{k}: {tw/1e6:.2f} M wavefronts, {te/1e6:.2f} M excessive ({100*te/tw:.0f} %)")
    for op, (w, e, i) in sorted(d.items(), key=lambda x: -x[1][0])[:8]:
        print(f"   {op:24s} {100*w/tw:5.1f} % of wavefronts  {w/1e6:7.2f} M  excessive {e/1e6:6.2f} M  ideal {i/1e6:6.2f} M")
