#!/usr/bin/env bash
# Session 11, closing call on merged main (helpers lbf8, lbf9): every GPU test class on the final defaults, then
# the learned forward / fwd+bwd against FlashButterfly in the same process through the last helper's sitting script
# (its own tests skipped: they are part of the full run here). SM clock / power every 100 ms.
# Stage: tools/stage-device.sh --out .device/final --sm 90 --lean-jre --add kernels-cuda/bench-runs/final-s11/final-s11.sh
#   --add kernels-cuda/bench-runs/lbf9/lbf9-sitting.sh --drop '<junit, tablesaw, ... list>'
# Device (carry [".device/final"]):  bash .device/final/final-s11.sh "$OUT/s11"
set -u
out=$1; D=${DEV:-.device/final}; mkdir -p "$out"; export PYTHONUNBUFFERED=1
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } > "$out/gpu.txt" 2>&1
cat "$out/gpu.txt"
nvidia-smi --query-gpu=timestamp,clocks.sm,power.draw,temperature.gpu --format=csv,noheader -lms 100 > "$out/clocks.csv" 2>&1 &
smi=$!
echo "== all GPU tests"; date -u
timeout ${TEST_S:-240} $D/run-tests --include-tag gpu --disable-ansi-colors > "$out/tests.txt" 2>&1
echo "tests exit $?"; grep -E "tests (successful|failed|aborted|found|skipped)|Test run finished" "$out/tests.txt"
grep "✘" "$out/tests.txt" | grep -v "Assumption failed" | head -20
echo "== learned bench"; date -u
if [ -n "${LEARNED:-}" ]; then eval "$LEARNED" > "$out/learned.txt" 2>&1; echo "learned exit $?"; grep -vE "^\s*$" "$out/learned.txt" | tail -40; fi
kill $smi 2>/dev/null
date -u
cd "$out" && tar -cJf logs.tar.xz tests.txt learned.txt clocks.csv 2>/dev/null
rm -f tests.txt learned.txt clocks.csv; ls -la
