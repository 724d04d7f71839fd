#!/usr/bin/env bash
# Session 13, helper pkop: the packed learned tensor op without host round trips (BENCH-RESULTS.md round 26-pkop). ONE command:
#   the GPU tests (TESTCLS, default PackedLearnedOpGpuTest), TESTS=0 skips them; then LearnedOpBench 64 768 $LS (op-level
#   forward and fwd+bwd of MONARCH / LEARNED_PACKED routes / LEARNED, then the plan-level rows in the same process) in the
#   order $ORDER, and MIRROR=1 the reversed order in a second process (plan-level rows there too).
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/pkop --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/pkop/pkop-sitting.sh --drop '...'
# Device (carry [".device/pkop"]): DEV=.device/pkop bash .device/pkop/pkop-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/pkop-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/pkop}
LS=${LS:-1024,512,256}
ORDER=${ORDER:-monarch,packed,packed-host,packed-nosave,learned}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-100} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*PackedLearnedOpGpuTest}" --disable-ansi-colors \
    > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped|found)|✘|differs from|Exception|expected" "$out/tests.txt" | cut -c1-400 | head -40
fi
if [ "${BENCH:-1}" != 0 ]; then
  echo "== op bench ($ORDER)"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.op.order=$ORDER ${BOPTS:-}" timeout ${JAVA_S:-80} $DEV/run-java ai.longconv4j.examples.bench.LearnedOpBench \
    "$out/bench.csv" 64 768 "$LS" > "$out/bench.txt" 2>&1; echo "op bench exit $?"
  grep -E "^op |learned|flashbutterfly|Exception|packed backward|forwardForBackward" "$out/bench.txt" | grep -v '^[a-z].*,' | head -60 | cut -c1-200
  if [ "${MIRROR:-1}" != 0 ]; then
    rev=$(echo "$ORDER" | tr ',' '\n' | tac | paste -sd,)
    echo "== op bench, mirrored ($rev)"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.op.order=$rev ${BOPTS:-}" timeout ${JAVA_S:-80} $DEV/run-java ai.longconv4j.examples.bench.LearnedOpBench \
      "$out/bench2.csv" 64 768 "$LS" > "$out/bench2.txt" 2>&1; echo "op bench 2 exit $?"
    grep -E "^op |learned|flashbutterfly|Exception|packed backward|forwardForBackward" "$out/bench2.txt" | grep -v '^[a-z].*,' | head -60 | cut -c1-200
  fi
fi
tar -C "$out" -cf - $(cd "$out" && ls tests.txt bench.txt bench2.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out/bench.txt" "$out/bench2.txt"
ls -la "$out"; date -u
