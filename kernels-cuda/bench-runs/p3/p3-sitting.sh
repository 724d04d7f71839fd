#!/usr/bin/env bash
# Session 17, helper p3: the three-pass packed learned butterfly (PackedThreePass, learned_p3*.cu): forward defaults and the
# tensor-core backward (PackedThreePassBackward, learned_p3g.cu); BENCH-RESULTS.md round 30-p3. ONE command, steps by variables:
#   TESTS=1: the GPU tests (TESTCLS, default PackedThreePassGpuTest and PackedThreePassBwdGpuTest);
#   BENCH=1: PackedThreePassBench 16 768 (ORDER, CASES; FB in the same process; BOPTS e.g. -Dlongconv4j.bench.p3.bwd=true);
#   OPBENCH=1: LearnedOpBench for each "B:L" of OPCASES (OPORDER engines, H = 768, -Dlongconv4j.bench.op.groups=1).
# Stage (from the worktree): tools/stage-device.sh --out .device/p3 --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/p3/p3-sitting.sh --drop '...'
# Device (carry [".device/p3"]): DEV=.device/p3 bash .device/p3/p3-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/p3-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/p3}
ORDER=${ORDER:-fb,p3}
CASES=${CASES:-65536:16,262144:4}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-0}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-150} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*(PackedThreePassGpuTest|PackedThreePassBwdGpuTest)}" \
    --disable-ansi-colors > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped|found)|✘|Test run finished" "$out/tests.txt" | cut -c1-300 | head -40
  grep -E "p3 bwd" "$out/tests.txt" | cut -c1-220 | head -40
  grep -B2 -A12 "AssertionError\|Exception" "$out/tests.txt" | cut -c1-300 | head -80
fi
if [ "${BENCH:-0}" != 0 ]; then
  echo "== java bench ($ORDER; $CASES)"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.p3.order=$ORDER -Dlongconv4j.bench.p3.cases=$CASES ${BOPTS:-}" timeout ${JAVA_S:-200} $DEV/run-java \
    ai.longconv4j.examples.bench.PackedThreePassBench "$out/bench.csv" 16 768 > "$out/bench.txt" 2>&1; echo "java bench exit $?"
  grep -E "float64|Exception|ms|done at" "$out/bench.txt" | grep -v '^[a-z].*,' | head -120 | cut -c1-260
fi
if [ "${OPBENCH:-0}" != 0 ]; then
  i=0
  for c in ${OPCASES:-16:65536}; do
    i=$((i + 1)); b=${c%%:*}; l=${c#*:}
    echo "== op bench B=$b L=$l (${OPORDER:-monarch,packed,packed-p3tc})"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.op.order=${OPORDER:-monarch,packed,packed-p3tc} -Dlongconv4j.bench.op.groups=1 -Dlongconv4j.bench.op.reps=${OPREPS:-20} ${OPOPTS:-}" \
      timeout ${OP_S:-150} $DEV/run-java ai.longconv4j.examples.bench.LearnedOpBench "$out/op$i.csv" "$b" 768 "$l" > "$out/op$i.txt" 2>&1
    echo "op bench exit $?"; grep -E "ms|Exception|rror" "$out/op$i.txt" | grep -v '^[a-z].*,' | head -30 | cut -c1-220
  done
fi
logs=$(cd "$out" && ls tests.txt bench.txt op*.txt 2>/dev/null)
[ -n "$logs" ] && tar -C "$out" -cf - $logs | xz -T8 -6 > "$out/logs.tar.xz" && (cd "$out" && rm -f $logs)
ls -la "$out"; date -u
