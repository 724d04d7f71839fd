#!/bin/bash
# usage: build.sh SRCDIR OUTDIR ; builds learned_pm, learned_pm2, learned_p3 uncompressed sm_80 + sm_90a with ptxas -v
src=$1; out=$2; mkdir -p $out
for n in learned_pm learned_pm2 learned_p3; do
  ( nice -n 5 nvcc -fatbin -O3 -std=c++17 -lineinfo --no-compress -Xptxas -v -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90a,code=sm_90a -o $out/$n.fatbin $src/$n.cu > $out/$n.ptxas.txt 2>&1; echo "$n rc=$?" >> $out/done.txt ) &
done
wait
