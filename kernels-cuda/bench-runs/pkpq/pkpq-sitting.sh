#!/usr/bin/env bash
# Session 13, helper pkpq: P / Q of the packed learned op by an FFT (BENCH-RESULTS.md round 26-pkpq). ONE command:
#   the GPU tests (TESTCLS, default PackedLearnedPqGpuTest + PackedLearnedOpGpuTest), TESTS=0 skips them; then
#   LearnedOpBench 64 768 $LS in the order $ORDER (default monarch,packed,packed-dft: packed = P / Q by fft, the default;
#   packed-dft = -Dlongconv4j.pk.pq=dft, the route before pkpq) with the P / Q rows alone (-Dlongconv4j.bench.op.pq=true)
#   and the plan-level rows; MIRROR=1 the reversed order in a second process (no plan rows there: PLANS2=false).
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/pkpq --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/pkpq/pkpq-sitting.sh --drop '...'
# Device (carry [".device/pkpq"]): DEV=.device/pkpq bash .device/pkpq/pkpq-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/pkpq-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/pkpq}
LS=${LS:-1024,512,256}
ORDER=${ORDER:-monarch,packed,packed-dft}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-100} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*PackedLearned(Pq|Op)GpuTest}" --disable-ansi-colors \
    > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped|found)|✘|differs from|Exception|expected" "$out/tests.txt" | cut -c1-400 | head -40
  grep -E "^pq " "$out/tests.txt" | head -40
fi
if [ "${BENCH:-1}" != 0 ]; then
  echo "== op bench ($ORDER)"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.op.order=$ORDER -Dlongconv4j.bench.op.pq=true ${BOPTS:-}" timeout ${JAVA_S:-80} $DEV/run-java \
    ai.longconv4j.examples.bench.LearnedOpBench "$out/bench.csv" 64 768 "$LS" > "$out/bench.txt" 2>&1; echo "op bench exit $?"
  grep -E "^op |^pq |learned|flashbutterfly|Exception" "$out/bench.txt" | grep -v '^[a-z].*,' | head -60 | cut -c1-200
  if [ "${MIRROR:-1}" != 0 ]; then
    rev=$(echo "$ORDER" | tr ',' '\n' | tac | paste -sd,)
    echo "== op bench, mirrored ($rev)"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.op.order=$rev -Dlongconv4j.bench.op.plans=${PLANS2:-false} ${BOPTS:-}" timeout ${JAVA_S:-80} $DEV/run-java \
      ai.longconv4j.examples.bench.LearnedOpBench "$out/bench2.csv" 64 768 "$LS" > "$out/bench2.txt" 2>&1; echo "op bench 2 exit $?"
    grep -E "^op |^pq |learned|flashbutterfly|Exception" "$out/bench2.txt" | grep -v '^[a-z].*,' | head -60 | cut -c1-200
  fi
fi
tar -C "$out" -cf - $(cd "$out" && ls tests.txt bench.txt bench2.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out/bench.txt" "$out/bench2.txt"
ls -la "$out"; date -u
