#!/usr/bin/env bash
# Session 8, third call (final-s8c): helper lbf2's learned-butterfly variants (pair kernels with a per-block twiddle
# table `pairt`, the N1 = 16 kernels `f` / `f2`), host-checked only until here: the learned GPU tests (every scheme vs
# lib's float64 LearnedButterfly and vs the current kernel) and LearnedBench at L = 256, 512, 1K.
#   stage: as final-s8.sh's header, with --add kernels-cuda/bench-runs/final-s8c/call-c.sh
#   on the device:  bash .device/final/call-c.sh "$OUT/final-s8c"
set -u
out=$1; D=.device/final; mkdir -p "$out"
DEV=$D NCU=0 PAIRDEF=0 SCHEMES=default,pairt,f,f2 TEST_S=25 JAVA_S=30 bash kernels-cuda/bench-runs/lbf3/lbf3-sitting.sh "$out/lbf3" 2>&1 | tail -45
tar -C "$out" -czf "$out/lbf3.tgz" lbf3 && rm -rf "$out/lbf3"; ls -la "$out"
