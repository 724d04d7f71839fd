#!/usr/bin/env bash
# Session 13, helper fbop: FlashButterfly's tensor op, fused (taps and D to the plan) vs composed, phases, plan
# (BENCH-RESULTS.md round 26-fbop). ONE command: the GPU tests (TESTCLS), TESTS=0 skips them; then FlashOpBench 64 768 $LS
# causal in the order fused,composed with the plan rows; MIRROR=1 the reversed order in a second process (no plan rows);
# BIDIR=1 a bidirectional run (LS_BI) in a third.
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/fbop --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/fbop/fbop-sitting.sh --drop '...'
# Device (carry [".device/fbop"]): DEV=.device/fbop bash .device/fbop/fbop-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/fbop-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/fbop}
LS=${LS:-1024,512,256}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-50} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*(FlashOp|LongFlashConv)GpuTest}" --disable-ansi-colors \
    > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped|found)|✘|relative error|Exception|expected" "$out/tests.txt" | cut -c1-400 | head -40
fi
pick() { grep -E "^op |^phase |flashbutterfly|Exception|rel L2" "$1" | grep -v '^[a-z].*,' | head -60 | cut -c1-200; }
if [ "${BENCH:-1}" != 0 ]; then
  echo "== op bench causal fused,composed"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.fbop.order=fused,composed ${BOPTS:-}" timeout ${JAVA_S:-45} $DEV/run-java ai.longconv4j.examples.bench.FlashOpBench \
    "$out/bench.csv" 64 768 "$LS" > "$out/bench.txt" 2>&1; echo "bench exit $?"; pick "$out/bench.txt"
  if [ "${MIRROR:-1}" != 0 ]; then
    echo "== op bench causal composed,fused"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.fbop.order=composed,fused -Dlongconv4j.bench.fbop.plans=false" timeout ${JAVA_S2:-30} $DEV/run-java \
      ai.longconv4j.examples.bench.FlashOpBench "$out/bench2.csv" 64 768 "${LS2:-1024,256}" > "$out/bench2.txt" 2>&1; echo "bench 2 exit $?"; pick "$out/bench2.txt"
  fi
  if [ "${BIDIR:-1}" != 0 ]; then
    echo "== op bench bidirectional fused,composed"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.fbop.mode=BIDIRECTIONAL" timeout ${JAVA_S3:-25} $DEV/run-java \
      ai.longconv4j.examples.bench.FlashOpBench "$out/bench3.csv" 64 768 "${LS_BI:-1024,256}" > "$out/bench3.txt" 2>&1; echo "bench 3 exit $?"; pick "$out/bench3.txt"
  fi
fi
tar -C "$out" -cf - $(cd "$out" && ls tests.txt bench.txt bench2.txt bench3.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out/bench.txt" "$out/bench2.txt" "$out/bench3.txt"
ls -la "$out"; date -u
