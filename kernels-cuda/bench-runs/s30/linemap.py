#!/usr/bin/env python3
"""Per source line / opcode: executed warp instructions and stall samples of a kernel, from ncu's SASS source page (CSV)
and nvdisasm -g's listing. Usage: linemap.py source.csv sass.txt kernel [top]"""
import csv, re, sys, collections
src, sass, kern = sys.argv[1:4]; top = int(sys.argv[4]) if len(sys.argv) > 4 else 40
# the listing: offsets -> (file, line) for the kernel's section
lines = open(sass).read().split("\n")
start = next(i for i, l in enumerate(lines) if l.startswith("//---") and (".text." + kern + " ") in l)
loc = {}; cur = ("?", 0)
for l in lines[start + 1:]:
    if l.startswith("//---"): break
    m = re.match(r'\s*//## File "([^"]+)", line (\d+)', l)
    if m: cur = (m.group(1).split("/")[-1], int(m.group(2))); continue
    m = re.match(r'\s*/\*([0-9a-f]{4,})\*/\s+(.*?);', l)
    if m: loc[int(m.group(1), 16)] = (cur, m.group(2).strip())
# the csv: the kernel's block
rows = list(csv.reader(open(src)))
blk = None; out = []
for r in rows:
    if len(r) >= 2 and r[0] == "Kernel Name": blk = r[1]; hdr = None; continue
    if blk != kern: continue
    if r and r[0] == "Address": hdr = r; continue
    if hdr and r and r[0].startswith("0x"): out.append(dict(zip(hdr, r)))
base = int(out[0]["Address"], 16)
byline = collections.defaultdict(lambda: [0, 0]); byop = collections.defaultdict(lambda: [0, 0])
ti = ts = 0
for d in out:
    off = int(d["Address"], 16) - base
    (f, ln), ins = loc.get(off, (("?", 0), d["Source"].strip()))
    n = int(d["Instructions Executed"] or 0); s = int(d["Warp Stall Sampling (All Samples)"] or 0)
    op = ins.split()[0] if not ins.startswith("@") else ins.split()[1]
    op = op.split(".")[0]
    byline[(f, ln)][0] += n; byline[(f, ln)][1] += s; byop[op][0] += n; byop[op][1] += s; ti += n; ts += s
print(f"{kern}: {ti:,} warp instructions, {ts:,} samples")
print("-- by line (instr %, stall %)")
for (k, (n, s)) in sorted(byline.items(), key=lambda x: -x[1][0])[:top]:
    print(f"  {k[0]:24s}:{k[1]:<5d} {100*n/ti:6.2f} {100*s/max(ts,1):6.2f}")
print("-- by opcode")
for (k, (n, s)) in sorted(byop.items(), key=lambda x: -x[1][0])[:30]:
    print(f"  {k:12s} {100*n/ti:6.2f} {100*s/max(ts,1):6.2f}")
