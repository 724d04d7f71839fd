#!/usr/bin/env bash
# Session-6 closing sitting, one call: every gpu-tagged test of kernels-cuda, then CudaConvBench
# (-Dlongconv4j.bench.bwd=true) at all lengths and flashbutterfly_torch.py on the same sizes.
set -u
out=$1; D=${D:-.device/final}; mkdir -p "$out"; export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv > "$out/gpu.txt" 2>&1
date -u >> "$out/gpu.txt"; cat "$out/gpu.txt"
s=$(date +%s)
timeout ${TEST_S:-300} $D/run-tests --include-tag gpu --include-package ai.longconv4j.cuda --disable-ansi-colors > "$out/tests.txt" 2>&1
echo "tests exit $? ($(( $(date +%s) - s )) s)"
grep -E "tests (successful|failed|aborted|skipped)|MethodSource|✘" "$out/tests.txt" | head -60
export JAVA_OPTS="--add-modules jdk.incubator.vector -Dlongconv4j.bench.bwd=true ${EXTRA_JAVA_OPTS:-}"
LS=${LS:-256,1024,4096,8192,16384,32768,65536,262144}
s=$(date +%s)
timeout ${JAVA_S:-170} $D/run-java ai.longconv4j.examples.bench.CudaConvBench "$out/java-bench.csv" 64 768 $LS > "$out/java-bench.txt" 2>&1
echo "java bench exit $? ($(( $(date +%s) - s )) s)"
timeout ${TORCH_S:-90} python3 $D/flashbutterfly_torch.py "$out/torch-bench.csv" 64 768 $LS > "$out/torch-bench.txt" 2>&1
echo "torch bench exit $?"
grep -E "^(flashbutterfly|cufft|cublas|gemm|copy|  pass|torch)" "$out/java-bench.txt" | grep -E "fwd|io=BF16 compute|copy|gemm|cublas|cufft" | head -70
grep -vE "^(path|[a-z].*,[0-9]+,)" "$out/torch-bench.txt" | tail -30
