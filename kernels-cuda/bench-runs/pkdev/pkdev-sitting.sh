#!/usr/bin/env bash
# Session 15, helper pkdev: the J-factor tensor op's device route (BENCH-RESULTS.md round 28-pkdev). ONE command:
#   the GPU tests (TESTCLS: LearnedJFactorOpGpuTest, PackedLearnedOpGpuTest), TESTS=0 skips them;
#   PHASES=1: LearnedOpBench phases (the op's forward phase by phase, both routes: B = 64 at $PLS, B = 4 at 64K);
#   LearnedOpBench in the palindromic order $ORDER (FB's op, the device route, the host route = the route before pkdev, then
#   reversed: both orders in one process): B = 64 at 2K, 4K (groups 1 and x8), B = 64 at 16K (group 1), B = 4 at 64K (group 1);
#   CUDA events, warm-up, medians; each engine's y against FB's op (MONARCH) first.
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/pkdev --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/pkdev/pkdev-sitting.sh --drop '...'
# Device (carry [".device/pkdev"]): DEV=.device/pkdev bash .device/pkdev/pkdev-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/pkdev-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/pkdev}
ORDER=${ORDER:-monarch,packed,packed-host,packed-host,packed,monarch}
# s1 (commit d39945d): the defaults. s2 (the kept P / Q): PLS=4096 ORDER=monarch,packed,packed-noreuse,packed-noreuse,packed,monarch
#   SPECS as in COMMANDS.txt (IFS-split: pass one spec per word with commas, e.g. SPECS="64:4096:1,8 4:65536:1")
REPS=${REPS:-8}
PLS=${PLS:-4096,16384}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-100} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*(LearnedJFactorOpGpuTest|PackedLearnedOpGpuTest)}" \
    --disable-ansi-colors > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped|found)|✘" "$out/tests.txt" | cut -c1-400 | head -40
  grep -E "expected|rel err|Exception" "$out/tests.txt" | head -20 | cut -c1-400
fi
if [ "${PHASES:-1}" != 0 ]; then
  echo "== phases"; date -u
  { timeout ${PHASES_S:-30} $DEV/run-java ai.longconv4j.examples.bench.LearnedOpBench phases 64 768 "$PLS"
    if [ "${P64K:-1}" != 0 ]; then timeout ${PHASES_S:-30} $DEV/run-java ai.longconv4j.examples.bench.LearnedOpBench phases 4 768 65536; fi; } > "$out/phases.txt" 2>&1
  echo "phases exit $?"; grep -E "pk op phases|Exception" "$out/phases.txt" | cut -c1-400
fi
if [ "${BENCH:-1}" != 0 ]; then
  J="-Dlongconv4j.bench.op.order=$ORDER -Dlongconv4j.bench.op.reps=$REPS -Dlongconv4j.bench.warmup.ms=100"
  for spec in ${SPECS:-64:2048,4096:1,8 64:16384:1 4:65536:1}; do
    set -- ${spec//:/ }
    echo "== LearnedOpBench B=$1 L=$2 groups $3 ($ORDER)"; date -u
    JAVA_OPTS="$J -Dlongconv4j.bench.op.groups=$3" timeout ${JAVA_S:-60} $DEV/run-java ai.longconv4j.examples.bench.LearnedOpBench \
      "$out/bench-$1-${2%%,*}.csv" "$1" 768 "$2" > "$out/bench-$1-${2%%,*}.txt" 2>&1; echo "exit $?"
    grep -E "^op |Exception|at ai" "$out/bench-$1-${2%%,*}.txt" | head -60 | cut -c1-200
  done
fi
tar -C "$out" -cf - $(cd "$out" && ls *.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out"/tests.txt "$out"/phases.txt "$out"/bench-*.txt
ls -la "$out"; date -u
