#!/usr/bin/env bash
# Session-7 closing sitting, second call (final-s7b): after final-s7 the defaults were flipped to the variants it
# validated and measured (fb2k: the half2 twiddle table; og: computed outer twiddles) and FlashButterflyGpuTest's
# kernel-name check learnt fb2k's names (12 cases had failed on that check before their numerics ran). Here: the
# default plans timed (CudaConvBench with -Dlongconv4j.bench.bwd=true, L = 256 ... 8K) beside PyTorch, then the GPU test
# classes of the one-pass routes.   D=.device/final bash .device/final/final-s7b.sh "$OUT"
set -u
out=$1; D=${D:-.device/final}; mkdir -p "$out"; export PYTHONUNBUFFERED=1
LS=${LS:-256,1024,4096,8192}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv > "$out/gpu.txt" 2>&1; date -u >> "$out/gpu.txt"
JAVA_OPTS="--add-modules jdk.incubator.vector -Dlongconv4j.bench.bwd=true" timeout ${JAVA_S:-75} $D/run-java \
  ai.longconv4j.examples.bench.CudaConvBench "$out/java-bench.csv" 64 768 $LS > "$out/java-bench.txt" 2>&1
echo "java bench exit $?"
grep -E "^(flashbutterfly|copy)" "$out/java-bench.txt" | grep -E "fwd|io=BF16 compute|copy" | grep -v ",64,768" | head -30
timeout ${TORCH_S:-40} python3 $D/flashbutterfly_torch.py "$out/torch-bench.csv" 64 768 $LS > "$out/torch-bench.txt" 2>&1
echo "torch bench exit $?"; grep -E "fftconv float32|fwd\+bwd float32" "$out/torch-bench.txt"
timeout ${TEST_S:-150} $D/run-tests --include-tag gpu --disable-ansi-colors \
  --include-classname '.*(FlashButterflyGpuTest|FlashButterfly2KGpuTest|OuterGlobalGpuTest|FlashButterflyOuterStagesGpuTest).*' \
  > "$out/tests.txt" 2>&1
echo "tests exit $?"; grep -E "tests (successful|failed|aborted|found)|✘" "$out/tests.txt" | head -20
date -u
