#!/usr/bin/env bash
# Session 18, helper taps: dk's cuFFT C2R plan kept per PackedLearnedChain on a work area shared with its R2C plan
# (CuFft.SharedPlans) against its slow twin, a plan per backward (-Dlongconv4j.pkj.taps.keep=false); BENCH-RESULTS.md
# round 31-taps. ONE command per sitting, steps by variables:
#   TESTS=1   the GPU tests of TESTCLS (default LearnedJFactorOpGpuTest: its keptTapsPlanMatchesAPlanPerCall and
#             sharedWorkAreaPlansMatchPlansOfTheirOwn are the new ones), their summary, the "taps" lines, any failure;
#   OPBENCH=1 LearnedOpBench (the tensor op, fwd and fwd+bwd; FB's op = engine monarch in the same process) at B:L of
#             OPCASE (default 16:65536), H = 768, engines OPORDER (default monarch,packed,packed,monarch: both orders),
#             OPREPS forward reps (fwd+bwd half of them): once with the kept plan (the default) and once with
#             -Dlongconv4j.pkj.taps.keep=false (each process its own FB rows), OP_S seconds each.
# Stage (from the worktree / checkout; the device tool carries /work/main's checkout):
#   tools/stage-device.sh --out /work/main/.device/taps --sm 90 --lean-jre --add kernels-cuda/bench-runs/taps/taps-sitting.sh --drop '...'
# Device (carry [".device/taps"]): TESTS=1 OPBENCH=1 DEV=.device/taps bash .device/taps/taps-sitting.sh "$OUT/taps"
set -u
out=${1:-/tmp/taps-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/taps}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu,memory.total --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-0}" != 0 ]; then
  cls=${TESTCLS:-.*LearnedJFactorOpGpuTest}
  echo "== gpu tests $cls"; date -u
  timeout ${TEST_S:-60} $DEV/run-tests --include-tag gpu --include-classname "$cls" ${TESTOPTS:-} --disable-ansi-colors > "$out/tests.txt" 2>&1
  echo "tests exit $?"
  grep -E "tests (successful|failed|aborted|found)|Test run finished|✘" "$out/tests.txt" | cut -c1-240 | head -30
  grep -E "^taps" "$out/tests.txt" | cut -c1-300 | head -20
  # (the lean runtime has no jar file system: JUnit's class-path scan warns once per dependency jar; harmless, left out)
  grep -v "ProviderNotFoundException\|walkFilesForUri\|Error scanning files" "$out/tests.txt" | grep -A10 "AssertionFailedError\|Exception:" | grep -v "^\s*at org.junit\|^\s*at java.base" | cut -c1-300 | head -60
fi
if [ "${OPBENCH:-0}" != 0 ]; then
  c=${OPCASE:-16:65536}; b=${c%%:*}; l=${c#*:}; order=${OPORDER:-monarch,packed,packed,monarch}
  for keep in true false; do
    echo "== op bench B=$b L=$l ($order) longconv4j.pkj.taps.keep=$keep"; date -u
    JAVA_OPTS="-Dlongconv4j.pkj.taps.keep=$keep -Dlongconv4j.bench.op.order=$order -Dlongconv4j.bench.op.groups=1 -Dlongconv4j.bench.op.reps=${OPREPS:-10} -Dlongconv4j.bench.op.plans=false" \
      timeout ${OP_S:-30} $DEV/run-java ai.longconv4j.examples.bench.LearnedOpBench "$out/op-$keep.csv" "$b" 768 "$l" > "$out/op-$keep.txt" 2>&1
    echo "op bench exit $?"; grep -E " ms |peak|Exception|rror" "$out/op-$keep.txt" | grep -v "^\s*at " | head -20 | cut -c1-200
  done
fi
logs=$(cd "$out" && ls tests.txt op-*.txt 2>/dev/null)
[ -n "$logs" ] && tar -C "$out" -cf - $logs | xz -T8 -6 > "$out/logs.tar.xz" && (cd "$out" && rm -f $logs)
ls -la "$out"; date -u
