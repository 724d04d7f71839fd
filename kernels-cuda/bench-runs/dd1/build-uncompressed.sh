#!/bin/bash
# build-uncompressed.sh SRCDIR OUTDIR NAMES...: uncompressed sm_80 + sm_90a fatbins with ptxas -v (build.sh's flags plus
# --no-compress, without the compute_80 PTX), two nvcc at a time
src=$1; out=$2; shift 2; mkdir -p $out
run() { nice -n 5 nvcc -fatbin -O3 -std=c++17 -lineinfo --no-compress -Xptxas -v -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90a,code=sm_90a -o $out/$1.fatbin $src/$1.cu > $out/$1.ptxas.txt 2>&1; echo "$1 rc=$? $(date -u +%T)" >> $out/done.txt; }
export -f run; export src out
printf '%s\n' "$@" | xargs -P 2 -I{} bash -c 'run {}'
