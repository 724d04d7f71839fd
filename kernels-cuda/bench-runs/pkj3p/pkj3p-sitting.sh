#!/usr/bin/env bash
# Session 14, helper pkj3p: the three-pass J-factor packed learned butterfly (learned_p3.cu, PackedThreePass;
# BENCH-RESULTS.md round 27-pkj3p). ONE command:
#   the GPU tests (TESTCLS, default PackedThreePassGpuTest), TESTS=0 skips them;
#   PackedThreePassBench with -Dlongconv4j.bench.p3.order=$ORDER and .cases=$CASES (H = 768, causal, bf16; forward (and the
#   packed input gradient) validated against lib's float64 first; CUDA events, warm-up, medians; FlashButterfly's three-pass
#   plan in the same process), then MIRROR=1 the reversed order in a second process.
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/pkj3p --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/pkj3p/pkj3p-sitting.sh --drop '...'
# Device (carry [".device/pkj3p"]): DEV=.device/pkj3p bash .device/pkj3p/pkj3p-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/pkj3p-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/pkj3p}
ORDER=${ORDER:-fb,p3,p3-s32}
CASES=${CASES:-65536:16,262144:4}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-90} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*PackedThreePassGpuTest}" --disable-ansi-colors \
    > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped|found)|✘" "$out/tests.txt" | cut -c1-300 | head -40
  grep -E "rel err" "$out/tests.txt" | cut -c1-200 | head -60
  grep -B2 -A12 "AssertionError\|Exception" "$out/tests.txt" | cut -c1-300 | head -60
fi
if [ "${BENCH:-1}" != 0 ]; then
  echo "== java bench ($ORDER; $CASES)"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.p3.order=$ORDER -Dlongconv4j.bench.p3.cases=$CASES ${BOPTS:-}" timeout ${JAVA_S:-75} $DEV/run-java \
    ai.longconv4j.examples.bench.PackedThreePassBench "$out/bench.csv" 16 768 > "$out/bench.txt" 2>&1; echo "java bench exit $?"
  grep -E "float64|Exception|ms|done at|validated at" "$out/bench.txt" | grep -v '^[a-z].*,' | head -60 | cut -c1-260
  if [ "${MIRROR:-1}" != 0 ]; then
    rev=$(echo "$ORDER" | tr ',' '\n' | tac | paste -sd,)
    echo "== java bench, mirrored ($rev)"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.p3.order=$rev -Dlongconv4j.bench.p3.cases=$CASES ${BOPTS:-}" timeout ${JAVA_S:-75} $DEV/run-java \
      ai.longconv4j.examples.bench.PackedThreePassBench "$out/bench2.csv" 16 768 > "$out/bench2.txt" 2>&1; echo "java bench 2 exit $?"
    grep -E "float64|Exception|ms|done at|validated at" "$out/bench2.txt" | grep -v '^[a-z].*,' | head -60 | cut -c1-260
  fi
fi
tar -C "$out" -cf - $(cd "$out" && ls tests.txt bench.txt bench2.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out/bench.txt" "$out/bench2.txt"
ls -la "$out"; date -u
