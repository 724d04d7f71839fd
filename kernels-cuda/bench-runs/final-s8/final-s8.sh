#!/usr/bin/env bash
# Session-8 closing sitting, one call on merged main (staged as .device/final with final-s6.sh and this file added):
# 1. final-s6.sh: every gpu-tagged test of kernels-cuda, CudaConvBench with -Dlongconv4j.bench.bwd=true at
#    L = 256 ... 256K (plus, with -Dlongconv4j.bench.extras=true, the cuBLAS GEMM 8192^3 and the learned butterfly at
#    L <= 1K) and flashbutterfly_torch.py (incl. torch.matmul 8192^3) on the same sizes;
# 2. the helpers' sitting commands (new variants against the defaults in the same call), when HELPERS=1.
# Stage (here, from the root of main; then re-link the runtime without java.desktop as final-s7's stage did, ~54 MiB):
#   tools/stage-device.sh --out .device/final --add kernels-cuda/bench-runs/final-s6/final-s6.sh \
#     --add kernels-cuda/bench-runs/final-s8/final-s8.sh --add examples/bench/flashbutterfly_torch.py --drop \
#     'fastutil-*,icu4j-*,pdfbox-*,fontbox-*,guava-*,RoaringBitmap-*,univocity-*,classgraph-*,arpack_*,junit-jupiter-*,junit-platform-*,opentest4j-*,apiguardian-*,xchart-*,tablesaw-core-*'
#   on the device:  D=.device/final bash .device/final/final-s8.sh "$OUT"
set -u
out=$1; D=${D:-.device/final}; mkdir -p "$out"
export EXTRA_JAVA_OPTS="-Dlongconv4j.bench.extras=true"
TEST_S=${TEST_S:-300} JAVA_S=${JAVA_S:-170} TORCH_S=${TORCH_S:-80} D=$D bash $D/final-s6.sh "$out"
date -u
[ "${HELPERS:-1}" = 1 ] || exit 0
echo "== f1k (fb2k: _ht vs _hp vs _hw)"; date -u
DEV=$D NCU=0 TWICE=0 TEST_S=30 JAVA_S=30 bash kernels-cuda/bench-runs/f1k/f1k-sitting.sh "$out/f1k" 2>&1 | tail -30
date -u
# at most 8 files come back: the helpers' folders as one archive
tar -C "$out" -czf "$out/variants.tgz" $(cd "$out" && ls -d f1k f4k lbf3 2>/dev/null) && rm -rf "$out/f1k" "$out/f4k" "$out/lbf3"
ls -la "$out"
