#!/usr/bin/env bash
# One sitting on the lent GPU machine (see ../shared/device/README.md): the gpu-tagged tests of
# kernels-cuda, then CudaConvBench and the PyTorch baseline on the same sizes. Stage first, here:
#   tools/stage-device.sh --out .device/sitting --add kernels-cuda/gpu-sitting.sh --add examples/bench/flashbutterfly_torch.py
# then run on the device, from the repository root, with carry [".device"]:
#   DEV=.device/sitting PY=.device/sitting/flashbutterfly_torch.py bash .device/sitting/gpu-sitting.sh "$OUT"
# DEV (default .device) is the staged folder, PY (default examples/bench/flashbutterfly_torch.py) the baseline;
# TEST_ARGS (default --include-package ai.longconv4j.cuda) selects the tests, e.g. --include-classname '.*ThreePass.*'.
# Results land in $OUT: tests.txt, java-bench.{txt,csv}, torch-bench.{txt,csv}, gpu.txt.
set -u
out=${1:-/tmp/gpu-sitting}; mkdir -p "$out"
export PYTHONUNBUFFERED=1
Ls=${LS:-256,1024,4096,8192,16384}
DEV=${DEV:-.device}; PY=${PY:-examples/bench/flashbutterfly_torch.py}
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
date -u >> "$out/gpu.txt"
echo "== gpu tests"
timeout ${TEST_S:-200} $DEV/run-tests --include-tag gpu ${TEST_ARGS:---include-package ai.longconv4j.cuda} --disable-ansi-colors > "$out/tests.txt" 2>&1
echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped)|rel err|MethodSource|✘" "$out/tests.txt" | head -80
echo "== java bench"
timeout ${JAVA_S:-230} $DEV/run-java ai.longconv4j.examples.bench.CudaConvBench "$out/java-bench.csv" 64 768 "$Ls" \
  > "$out/java-bench.txt" 2>&1; echo "java bench exit $?"
echo "== torch bench"
timeout ${TORCH_S:-110} python3 $PY "$out/torch-bench.csv" 64 768 "$Ls" \
  > "$out/torch-bench.txt" 2>&1; echo "torch bench exit $?"
echo "== java"; grep -vE "^(path|[a-z].*,[0-9]+,)" "$out/java-bench.txt" | tail -70
echo "== torch"; grep -vE "^(path|[a-z].*,[0-9]+,)" "$out/torch-bench.txt" | tail -30
