#!/usr/bin/env bash
# Session 9, third call: L = 8K … 256K again with the 200 ms warm-up per timed row (their kernels did not change this
# session; session 8's figures for them were taken with the 3-run warm-up): CudaConvBench (the bf16 default plan's
# forward, fwd+bwd and fused backward; B scaled down above 16K) and flashbutterfly_torch.py at the same lengths.
# Stage: the final-s9b stage (main b999978's code) with this file copied in.   bash .device/final/final-s9c.sh "$OUT/s9c"
set -u
out=$1; D=${DEV:-.device/final}; mkdir -p "$out"; export PYTHONUNBUFFERED=1
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } > "$out/gpu.txt" 2>&1
Ls=${LS:-8192,16384,32768,65536,262144}
echo "== java bench"; date -u
JAVA_OPTS="-Dlongconv4j.bench.bwd=true -Dlongconv4j.bench.extras=false" timeout 200 $D/run-java \
  ai.longconv4j.examples.bench.CudaConvBench "$out/java-bench.csv" 64 768 $Ls > "$out/java-bench.txt" 2>&1
echo "java bench exit $?"; grep -E "^(cufft|flashbutterfly (io|fwd\+fusedbwd))|kernel:" "$out/java-bench.txt" | grep -v "," | head -30
echo "== torch"; date -u
timeout 200 python3 $D/flashbutterfly_torch.py "$out/torch-bench.csv" 64 768 $Ls > "$out/torch-bench.txt" 2>&1
echo "torch exit $?"; grep -E "fftconv float32|fwd\+bwd float32" "$out/torch-bench.txt" | grep -v ","
date -u; cd "$out" && tar -cJf logs.tar.xz java-bench.txt torch-bench.txt *.csv && rm -f java-bench.txt torch-bench.txt *.csv; ls -la
