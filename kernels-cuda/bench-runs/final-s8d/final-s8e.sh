#!/usr/bin/env bash
# Session 8, final-s8e: after final-s8d the measured-faster variants became the defaults (og `_rus` at 4K:
# OuterGlobal.DEFAULT_REGISTER_UNIT = "sym"; learned `pairt` and `f2`: LearnedButterflyConv.Variants). On those defaults:
# the og, learned and tensor-level GPU test classes, then CudaConvBench (fused backward, GEMM and learned rows) at
# L = 256, 1K, 4K beside PyTorch. Stage as final-s8d.sh (--add this file).   bash .device/final/final-s8e.sh "$OUT/final-s8e"
set -u
out=$1; D=.device/final; mkdir -p "$out"; export PYTHONUNBUFFERED=1
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv; date -u; } > "$out/gpu.txt" 2>&1
timeout 120 $D/run-tests --include-tag gpu --disable-ansi-colors \
  --include-classname '.*(OuterGlobalGpuTest|Learned.*GpuTest|ConvAndModelGpuTest|TensorBackendGpuTest|LongFlashConvGpuTest).*' > "$out/tests.txt" 2>&1
echo "tests exit $?"; grep -E "tests (successful|failed|aborted|found)" "$out/tests.txt"; grep "✘" "$out/tests.txt" | grep -v "Assumption failed" | head
JAVA_OPTS="--add-modules jdk.incubator.vector -Dlongconv4j.bench.bwd=true -Dlongconv4j.bench.extras=true" timeout 60 $D/run-java \
  ai.longconv4j.examples.bench.CudaConvBench "$out/java-bench.csv" 64 768 256,1024,4096 > "$out/java-bench.txt" 2>&1
echo "java bench exit $?"; grep -E "^(flashbutterfly|learned|cublas)" "$out/java-bench.txt" | grep -E "w2 B=|fusedbwd fb_bwd_bf16_bf16(_s16)? B=|tensor-core|GemmEx" | grep -v "," | head -20
timeout 50 python3 $D/flashbutterfly_torch.py "$out/torch-bench.csv" 64 768 256,1024,4096 > "$out/torch-bench.txt" 2>&1
echo "torch exit $?"; grep -E "fftconv float32|fwd\+bwd float32|matmul" "$out/torch-bench.txt" | grep -v ","
date -u; [ $(stat -c %s "$out/tests.txt") -gt 150000 ] && xz -6 "$out/tests.txt"; ls -la "$out"
