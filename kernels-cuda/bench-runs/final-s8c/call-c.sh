#!/usr/bin/env bash
# Session 8, third call (final-s8c): helper lbf2's learned-butterfly variants (pair kernels with a per-block twiddle
# table `pairt`, the N1 = 16 kernels `f` / `f2`), host-checked only until here: the learned GPU tests (every scheme vs
# lib's float64 LearnedButterfly and vs the current kernel) and LearnedBench at L = 256, 512, 1K.
#   stage: as final-s8.sh's header, with --add kernels-cuda/bench-runs/final-s8c/call-c.sh
#   on the device:  bash .device/final/call-c.sh "$OUT/final-s8c"
set -u
out=$1; D=.device/final; mkdir -p "$out"
DEV=$D NCU=0 PAIRDEF=0 SCHEMES=default,pairt,f,f2 TEST_S=25 JAVA_S=30 bash kernels-cuda/bench-runs/lbf3/lbf3-sitting.sh "$out/lbf3" 2>&1 | tail -45
tar -C "$out" -czf "$out/lbf3.tgz" lbf3 && rm -rf "$out/lbf3"
# the default plans at 4K and 8K (og _rup since f4k3) beside PyTorch, same call
JAVA_OPTS="--add-modules jdk.incubator.vector -Dlongconv4j.bench.bwd=true" timeout 40 $D/run-java \
  ai.longconv4j.examples.bench.CudaConvBench "$out/java-bench.csv" 64 768 4096,8192 > "$out/java-bench.txt" 2>&1
echo "java bench exit $?"; grep -E "^flashbutterfly" "$out/java-bench.txt" | grep -E "w2 B=|fusedbwd" | head
timeout 40 python3 $D/flashbutterfly_torch.py "$out/torch-bench.csv" 64 768 4096,8192 > "$out/torch-bench.txt" 2>&1
echo "torch exit $?"; grep -E "fftconv float32|fwd\+bwd float32" "$out/torch-bench.txt" | grep -v ","
ls -la "$out"
