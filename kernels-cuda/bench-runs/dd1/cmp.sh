#!/bin/bash
# cmp.sh OLD NEW: per fatbin (the five helper dd1 touched), the .text of every cubin (elfcmp.py) and the ptxas -v reports
# without their 'Compile time' lines (registers, spills, stack, smem, cmem of every kernel and arch).
o=$1; n=$2; t=$(mktemp -d)
for f in learned_p3 learned_p3b learned_p3g learned_pmb learned_pmb2; do
  echo "== $f.fatbin: python3 kernels-cuda/bench-runs/pkmode/elfcmp.py old/$f.fatbin new/$f.fatbin"
  python3 kernels-cuda/bench-runs/pkmode/elfcmp.py $o/$f.fatbin $n/$f.fatbin
  echo "   fatbin sizes: old $(stat -c %s $o/$f.fatbin) new $(stat -c %s $n/$f.fatbin) bytes"
  grep -v "Compile time" $o/$f.ptxas.txt > $t/a.txt; grep -v "Compile time" $n/$f.ptxas.txt > $t/b.txt
  if cmp -s $t/a.txt $t/b.txt; then echo "   ptxas report ($(grep -c 'Used' $t/a.txt) 'Used' lines, $(grep -c 'spill' $t/a.txt) spill lines): identical except compile times";
  else echo "   ptxas report DIFFERS:"; diff $t/a.txt $t/b.txt | head -20; fi
done
rm -rf $t
