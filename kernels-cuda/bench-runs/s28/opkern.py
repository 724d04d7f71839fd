#!/usr/bin/env python3
"""Kernel times of one LearnedOpBench fwd+bwd step from the sitting's ncu-op CSV (ncu --metrics gpu__time_duration.sum --csv):
the step is taken from the last launch of the forward kernel (regex argv[1], default lpm4) to the end of the run (the last
fwd+bwd step runs last). Usage: xz -dc ncu-op-64-4096.csv.xz | python3 opkern.py [fwd-regex]"""
import csv, re, sys
from collections import OrderedDict
fwd = re.compile(sys.argv[1] if len(sys.argv) > 1 else r"^lpm4")
rows = [r for r in csv.reader(sys.stdin) if len(r) >= 15 and r[0] != "ID" and r[12] == "gpu__time_duration.sum"]
seq = sorted((int(r[0]), r[4].split("(")[0].strip()[:48], float(r[14].replace(",", "")) / 1e6) for r in rows)
last = max(i for i, s in enumerate(seq) if fwd.search(s[1]))
agg = OrderedDict()
for _, n, d in seq[last:]:
    a = agg.setdefault(n, [0, 0.0]); a[0] += 1; a[1] += d
print(f"{len(seq)} kernels; the last step: {len(seq) - last} launches, {sum(d for _, _, d in seq[last:]):.3f} ms of kernel time")
for n, (c, d) in agg.items(): print(f"  {n:48s} x{c:<3d} {d:7.3f} ms")
