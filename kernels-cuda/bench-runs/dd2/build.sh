#!/bin/bash
# build.sh SRCDIR OUTDIR NAME... : uncompressed sm_80 + sm_90a fatbins with ptxas -v (build.sh's flags, minus compute_80 PTX)
src=$1; out=$2; shift 2; mkdir -p $out
for n in "$@"; do
  ( s=$(date +%s); nice -n 5 nvcc -fatbin -O3 -std=c++17 -lineinfo --no-compress -Xptxas -v -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90a,code=sm_90a -o $out/$n.fatbin $src/$n.cu > $out/$n.ptxas.txt 2>&1; echo "$n rc=$? $(( $(date +%s)-s ))s" >> $out/done.txt ) &
done
wait
