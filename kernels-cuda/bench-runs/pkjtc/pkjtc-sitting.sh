#!/usr/bin/env bash
# Session 14, helper pkjtc: the J-factor packed learned butterfly on tensor cores (learned_pm.cu, PackedMonarchConv;
# BENCH-RESULTS.md round 27-pkjtc). ONE command:
#   the GPU tests (TESTCLS, default PackedMonarchGpuTest), TESTS=0 skips them;
#   PackedMonarchBench 64 768 with -Dlongconv4j.bench.pm.order=$ORDER and .cases=$CASES (forward and input gradient validated
#   against float64 first; CUDA events, warm-up, medians; FlashButterfly in the same process), then MIRROR=1 the reversed
#   order in a second process.
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/pkjtc --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/pkjtc/pkjtc-sitting.sh --drop '...'
# Device (carry [".device/pkjtc"]): DEV=.device/pkjtc bash .device/pkjtc/pkjtc-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/pkjtc-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/pkjtc}
ORDER=${ORDER:-fb,pm}
CASES=${CASES:-causal:2048,causal:4096,causal:8192,causal:16384,bidirectional:4096,circular:8192}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-120} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*PackedMonarchGpuTest}" --disable-ansi-colors \
    > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped|found)|✘" "$out/tests.txt" | cut -c1-300 | head -40
  grep -E "rel err" "$out/tests.txt" | cut -c1-200 | head -60
fi
if [ "${BENCH:-1}" != 0 ]; then
  echo "== java bench ($ORDER; $CASES)"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.pm.order=$ORDER -Dlongconv4j.bench.pm.cases=$CASES ${BOPTS:-}" timeout ${JAVA_S:-120} $DEV/run-java \
    ai.longconv4j.examples.bench.PackedMonarchBench "$out/bench.csv" 64 768 > "$out/bench.txt" 2>&1; echo "java bench exit $?"
  grep -E "float64|Exception|ms" "$out/bench.txt" | grep -v '^[a-z].*,' | head -60 | cut -c1-260
  if [ "${MIRROR:-1}" != 0 ]; then
    rev=$(echo "$ORDER" | tr ',' '\n' | tac | paste -sd,)
    echo "== java bench, mirrored ($rev)"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.pm.order=$rev -Dlongconv4j.bench.pm.cases=$CASES ${BOPTS:-}" timeout ${JAVA_S:-120} $DEV/run-java \
      ai.longconv4j.examples.bench.PackedMonarchBench "$out/bench2.csv" 64 768 > "$out/bench2.txt" 2>&1; echo "java bench 2 exit $?"
    grep -E "float64|Exception|ms" "$out/bench2.txt" | grep -v '^[a-z].*,' | head -60 | cut -c1-260
  fi
fi
tar -C "$out" -cf - $(cd "$out" && ls tests.txt bench.txt bench2.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out/bench.txt" "$out/bench2.txt"
ls -la "$out"; date -u
