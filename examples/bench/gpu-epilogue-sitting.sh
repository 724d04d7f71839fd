#!/usr/bin/env bash
# One GPU sitting for the cuBLASLt epilogues (issue #5): the gpu tests of the fused linear path (and the GPU tests that
# run Linear through it: model training, tensor backend), EpilogueBench, and the PyTorch baseline on the same shapes.
# Stage here:  tools/stage-device.sh --out /work/main/.device/lt --add examples/bench/gpu-epilogue-sitting.sh \
#                --add examples/bench/epilogue_torch.py
# Run there (carry [".device/lt"]):  bash .device/lt/gpu-epilogue-sitting.sh "$OUT"
set -u
out=${1:-/tmp/epilogue-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/lt}
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv > "$out/gpu.txt" 2>&1
date -u >> "$out/gpu.txt"; cat "$out/gpu.txt"
echo "== gpu tests"
timeout ${TEST_S:-110} $DEV/run-tests --include-tag gpu --disable-ansi-colors \
  --include-classname '.*(FusedLinearGpuTest|CuBlasLtHostTest|ConvAndModelGpuTest|TensorBackendGpuTest).*' > "$out/tests.txt" 2>&1
echo "tests exit $?"
grep -E "tests (successful|failed|aborted|skipped)|FusedLinearGpuTest paths|-> (cuBLASLt|declined)|cuBLASLt (loaded|unav)|✘|rel err|Exception" \
  "$out/tests.txt" | head -60
echo "== EpilogueBench"
timeout ${JAVA_S:-50} $DEV/run-java ai.longconv4j.examples.bench.EpilogueBench 16384 768 5 30 > "$out/bench.txt" 2>&1
echo "bench exit $?"; cat "$out/bench.txt" | grep -v "^WARNING" | tail -30
echo "== torch"
timeout ${TORCH_S:-30} python3 $DEV/epilogue_torch.py 16384 768 > "$out/torch.txt" 2>&1
echo "torch exit $?"; tail -12 "$out/torch.txt"
