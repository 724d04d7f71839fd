#!/usr/bin/env python3
# lbf10: SASS op counts per row from an ncu "--page source --csv --print-source sass" export (ncu-*-sass.csv in ncu.tar.xz):
# "Instructions Executed" summed per opcode (predicate and modifiers stripped) and per kernel, divided by 49,152 rows
# (B = 64, H = 768) and by 2: the source page of these reports counts each kernel's instructions twice (its total is 2x
# the details page's "Executed Instructions", e.g. pw at 1K 301.4 M against 150.7 M); stall % = the opcode's share of the
# kernel's warp-stall samples. Usage: ops.py ncu-1024-wgmma-sass.csv
import csv, sys, collections, re
kern = None
cnt = collections.defaultdict(collections.Counter); stall = collections.defaultdict(collections.Counter)
for r in csv.reader(open(sys.argv[1])):
    if len(r) >= 2 and r[0] == "Kernel Name": kern = r[1]; continue
    if not r or r[0] == "Address": continue
    try: n = int(r[5])
    except (ValueError, IndexError): continue
    src = r[1].strip()
    op = (re.sub(r'^@!?U?P\w+\s+', '', src).split() or ['?'])[0].split('.')[0]
    cnt[kern][op] += n; stall[kern][op] += int(r[2] or 0)
for k, c in cnt.items():
    st = sum(stall[k].values()) or 1
    print("%s  %.0f warp instructions per row" % (k, sum(c.values()) / 49152 / 2))
    for op, n in c.most_common(28): print("   %-10s %7.1f   stall %4.1f %%" % (op, n / 49152 / 2, 100 * stall[k][op] / st))
