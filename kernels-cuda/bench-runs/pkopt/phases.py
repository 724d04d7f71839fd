#!/usr/bin/env python3
# pkopt: per-phase SASS instruction counts of the lpk_forward kernels from an ncu "--page source --csv --print-source sass"
# export (s1/ncu.tar.xz: ncu-1024-sass.csv). The export's counts sum to 2x the details page's "Executed Instructions"
# (as lbf10's ops.py notes), and the row loop's body appears as two code copies (the compiler's two alternating stage
# buffers), each running half the rows. Split at the HMMA clusters (runs of HMMA sites closer than 60 instructions), a
# phase's counts / 49,152 rows (B = 64, H = 768) / 2 = that phase per warp and row for the 32 x 32 kernels (a pair of
# warps per row; the two copies show the same values). Copy 1: cluster 0 = steps 1 + 2, the gap after it = the pair map,
# clusters 1..3 = steps 3 and 4 with their epilogues; the gap before copy 2's cluster 0 = step 4's output epilogue, the row
# loop, the x staging and the barriers (the setup before copy 1 runs once per block).
# Usage: phases.py ncu-1024-sass.csv [kernel ...]
import csv, sys, collections
kern = None; rows = {}
for r in csv.reader(open(sys.argv[1])):
    if len(r) >= 2 and r[0] == "Kernel Name": kern = r[1]; rows.setdefault(kern, []); continue
    if not r or r[0] == "Address": continue
    try: n = int(r[5])
    except (ValueError, IndexError): continue
    rows[kern].append((r[1].strip(), n))
op = lambda s: (s.split()[1] if s.startswith('@') else s.split()[0]).split('.')[0]
for k in sys.argv[2:] or rows:
    seq = rows[k]
    hm = [i for i, (s, n) in enumerate(seq) if op(s) == 'HMMA']
    cl = [[hm[0]]]
    for i in hm[1:]:
        if i - cl[-1][-1] > 60: cl.append([i])
        else: cl[-1].append(i)
    print(k, "%.0f per row" % (sum(n for _, n in seq) / 49152 / 2))
    prev = 0
    def show(what, part):
        c = collections.Counter()
        for s, n in part: c[op(s)] += n
        print("  %-28s %7.1f  %s" % (what, sum(c.values()) / 49152 / 2, [(o, round(v / 49152 / 2, 1)) for o, v in c.most_common(6)]))
    for ci, c in enumerate(cl):
        show("gap before cluster %d" % ci, seq[prev:c[0]]); show("cluster %d (%d HMMA sites)" % (ci, len(c)), seq[c[0]:c[-1] + 1]); prev = c[-1] + 1
    show("tail", seq[prev:])
