#!/usr/bin/env bash
# Session-7 closing sitting, one call on merged main (staged as .device/final with final-s6.sh and this file added):
# 1. final-s6.sh: every gpu-tagged test of kernels-cuda (incl. the new fb2k, og and fb32 _w3 classes and their
#    opt-in variants), CudaConvBench with -Dlongconv4j.bench.bwd=true at L = 256 ... 256K and flashbutterfly_torch.py;
# 2. the opt-in variants against the defaults in the same sitting: helper f8k2's computed outer twiddles (og `_twc`,
#    L = 4K, 8K) and helper f2k2's fb2k variant (L = 256, 1K).
#   on the device:  D=.device/final bash .device/final/final-s7.sh "$OUT"
set -u
out=$1; D=${D:-.device/final}; mkdir -p "$out"
TEST_S=${TEST_S:-330} JAVA_S=${JAVA_S:-170} TORCH_S=${TORCH_S:-90} D=$D bash $D/final-s6.sh "$out"
echo "== f8k2 variant (og computed twiddles)"; date -u
DEV=$D NCU=0 ROWS=twc TEST_S=55 JAVA_S=35 TORCH=0 bash kernels-cuda/bench-runs/f8k/f8k-sitting.sh "$out/f8k" 2>&1 | tail -25
echo "== f2k2 variant"; date -u
DEV=$D BENCH=twiddles NCU=rt NCU_S=40 TEST_S=60 JAVA_S=60 TORCH=0 bash kernels-cuda/bench-runs/f2k/f2k-sitting.sh "$out/f2k" 2>&1 | tail -25
date -u
# at most 8 files come back: the variants' folders as one archive
tar -C "$out" -czf "$out/variants.tgz" $(cd "$out" && ls -d f8k f2k 2>/dev/null) && rm -rf "$out/f8k" "$out/f2k"
ls -la "$out"
