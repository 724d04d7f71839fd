#!/bin/bash
# cmp.sh OLD NEW: elfcmp per fatbin + ptxas reports without the compile-time lines
o=$1; n=$2
for f in learned_pm learned_pm2 learned_p3; do
  echo "== $f.fatbin: python3 kernels-cuda/bench-runs/pkmode/elfcmp.py old/$f.fatbin new/$f.fatbin"
  python3 kernels-cuda/bench-runs/pkmode/elfcmp.py $o/$f.fatbin $n/$f.fatbin
  echo "   fatbin sizes: old $(stat -c %s $o/$f.fatbin) new $(stat -c %s $n/$f.fatbin) bytes"
  grep -v "Compile time" $o/$f.ptxas.txt > /tmp/pkjdedup/a.txt; grep -v "Compile time" $n/$f.ptxas.txt > /tmp/pkjdedup/b.txt
  if cmp -s /tmp/pkjdedup/a.txt /tmp/pkjdedup/b.txt; then echo "   ptxas report ($(grep -c 'Used' /tmp/pkjdedup/a.txt) 'Used' lines, $(grep -c 'spill' /tmp/pkjdedup/a.txt) spill lines): identical except compile times";
  else echo "   ptxas report DIFFERS:"; diff /tmp/pkjdedup/a.txt /tmp/pkjdedup/b.txt | head -20; fi
done
