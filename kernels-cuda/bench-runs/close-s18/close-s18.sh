#!/usr/bin/env bash
# Session 18, coordinator's closing call on merged main: the GPU tests (TESTCLS regex, default every gpu-tagged class), then
# optional sittings of the helpers' scripts (EXTRA: a command line run after the tests). Logs packed into $out/tests.tar.xz.
# Stage: tools/stage-device.sh --out .device/close18 --sm 90 --lean-jre --add kernels-cuda/bench-runs/close-s18/close-s18.sh [--add ...]
# Device (carry [".device/close18"]): DEV=.device/close18 bash .device/close18/close-s18.sh "$OUT/c"
set -u
out=${1:-/tmp/close-s18}; mkdir -p "$out"
DEV=${DEV:-.device/close18}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv; date -u; } > "$out/gpu.txt" 2>&1
cat "$out/gpu.txt"
echo "== gpu tests (${TESTCLS:-.*GpuTest})"; t0=$(date +%s)
timeout ${TEST_S:-300} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*GpuTest}" --disable-ansi-colors > "$out/tests.txt" 2>&1
echo "tests exit $? after $(( $(date +%s) - t0 )) s"
grep -E "tests (successful|failed|aborted|skipped|found)|containers failed" "$out/tests.txt" | head
grep -E "✘" "$out/tests.txt" | cut -c1-250 | head -30
grep -B2 -A12 "MethodSource \[className" "$out/tests.txt" | grep -E "className|Exception|expected|Error" | cut -c1-250 | head -40
xz -T8 -6 "$out/tests.txt"
if [ -n "${EXTRA:-}" ]; then echo "== extra: $EXTRA"; date -u; bash -c "$EXTRA"; echo "extra exit $?"; fi
date -u; ls -la "$out"
