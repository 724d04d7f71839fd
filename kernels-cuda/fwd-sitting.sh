#!/usr/bin/env bash
# One sitting of the forward work (helper fwd, round 8): GPU tests of the forward kernels, then FlashButterflyFwdBench
# (outer stages paired vs not, same sitting) and the PyTorch baseline on the same sizes. Stage first, from the worktree:
#   tools/stage-device.sh --out <main>/.device/fwd --add kernels-cuda/fwd-sitting.sh --add examples/bench/flashbutterfly_torch.py
# then on the device (carry [".device/fwd"]):  DEV=.device/fwd bash .device/fwd/fwd-sitting.sh "$OUT"
# LS (default 256,1024,4096,8192,16384), TEST_ARGS (default: the FlashButterfly forward classes), TEST_S / JAVA_S / TORCH_S.
set -u
out=${1:-/tmp/fwd-sitting}; mkdir -p "$out"
export PYTHONUNBUFFERED=1
Ls=${LS:-256,1024,4096,8192,16384}
DEV=${DEV:-.device/fwd}
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"; date -u >> "$out/gpu.txt"
echo "== gpu tests"; date -u
timeout ${TEST_S:-110} $DEV/run-tests --include-tag gpu \
  ${TEST_ARGS:---include-classname .*(FlashButterflyOuterStagesGpuTest|FlashButterflyGpuTest).*} --disable-ansi-colors \
  > "$out/tests.txt" 2>&1
echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests.txt" | head -40
echo "== java bench"; date -u
timeout ${JAVA_S:-80} $DEV/run-java ai.longconv4j.examples.bench.FlashButterflyFwdBench "$out/fwd-bench.csv" 64 768 "$Ls" \
  > "$out/fwd-bench.txt" 2>&1; echo "java bench exit $?"
echo "== torch bench"; date -u
timeout ${TORCH_S:-40} python3 $DEV/flashbutterfly_torch.py "$out/torch-bench.csv" 64 768 "$Ls" \
  > "$out/torch-bench.txt" 2>&1; echo "torch bench exit $?"; date -u
echo "== java"; grep -vE "^(path|[a-z].*,[0-9]+,)" "$out/fwd-bench.txt" | tail -50
echo "== torch"; grep -E "fftconv float32|copy" "$out/torch-bench.txt"
