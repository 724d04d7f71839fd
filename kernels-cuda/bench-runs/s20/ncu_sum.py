#!/usr/bin/env python3
"""Sums Nsight Compute's gpu__time_duration per kernel name from an `ncu --csv` log (s20-prof.sh):
   python3 ncu_sum.py ncu-262144.csv [steps]  ->  kernel, launches, total ms, ms per step (total / steps), share."""
import csv, sys, collections
path = sys.argv[1]
steps = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
unit = {"nsecond": 1e-6, "ns": 1e-6, "usecond": 1e-3, "us": 1e-3, "msecond": 1.0, "ms": 1.0, "second": 1e3, "s": 1e3}
tot, cnt = collections.defaultdict(float), collections.Counter()
with open(path, newline="") as f:
    lines = [l for l in f if l.startswith('"')]   # skip ncu's own ==PROF== lines and the program's output
for r in csv.DictReader(lines):
    if r.get("Metric Name") != "gpu__time_duration.sum":
        continue
    name = r["Kernel Name"].split("(")[0]
    tot[name] += float(r["Metric Value"].replace(",", "")) * unit[r["Metric Unit"]]
    cnt[name] += 1
all_ms = sum(tot.values())
print(f"{'kernel':60s} {'launches':>8s} {'total ms':>10s} {'per step':>9s} {'share':>6s}")
for k, v in sorted(tot.items(), key=lambda kv: -kv[1]):
    print(f"{k[:60]:60s} {cnt[k]:8d} {v:10.3f} {v / steps:9.3f} {100 * v / all_ms:5.1f}%")
print(f"{'all':60s} {sum(cnt.values()):8d} {all_ms:10.3f} {all_ms / steps:9.3f}")
