#!/usr/bin/env bash
# Session-5 closing sitting. Phase A: every gpu-tagged test of kernels-cuda, EpilogueBench (scoped) + its torch baseline.
# Phase B: CudaConvBench (-Dlongconv4j.bench.bwd=true) at all lengths + flashbutterfly_torch.py.
set -u
phase=$1; out=$2; D=.device/final; mkdir -p "$out"; export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv > "$out/gpu.txt" 2>&1
date -u >> "$out/gpu.txt"; cat "$out/gpu.txt"
if [ "$phase" = A ]; then
  s=$(date +%s)
  timeout 270 $D/run-tests --include-tag gpu --include-package ai.longconv4j.cuda --disable-ansi-colors > "$out/tests.txt" 2>&1
  echo "tests exit $? ($(( $(date +%s) - s )) s)"
  grep -E "tests (successful|failed|aborted|skipped)|MethodSource|✘" "$out/tests.txt" | head -60
  export JAVA_OPTS="--add-modules jdk.incubator.vector"
  timeout 70 $D/run-java ai.longconv4j.examples.bench.EpilogueBench 16384 768 5 30 scoped > "$out/epilogue-bench.txt" 2>&1
  echo "epilogue bench exit $?"; grep -v "^WARNING" "$out/epilogue-bench.txt" | tail -30
  timeout 40 python3 $D/epilogue_torch.py 16384 768 > "$out/epilogue-torch.txt" 2>&1
  echo "torch exit $?"; tail -12 "$out/epilogue-torch.txt"
else
  export JAVA_OPTS="--add-modules jdk.incubator.vector -Dlongconv4j.bench.bwd=true"
  LS=256,1024,4096,8192,16384,32768,65536,262144
  timeout 330 $D/run-java ai.longconv4j.examples.bench.CudaConvBench "$out/java-bench.csv" 64 768 $LS > "$out/java-bench.txt" 2>&1
  echo "java bench exit $?"
  timeout 150 python3 $D/flashbutterfly_torch.py "$out/torch-bench.csv" 64 768 $LS > "$out/torch-bench.txt" 2>&1
  echo "torch bench exit $?"
  grep -E "^(flashbutterfly|cufft|cublas|gemm|copy|  pass|torch)" "$out/java-bench.txt" | grep -E "fwd|io=BF16 compute|copy|gemm|cublas|cufft" | head -60
  grep -vE "^(path|[a-z].*,[0-9]+,)" "$out/torch-bench.txt" | tail -30
fi
