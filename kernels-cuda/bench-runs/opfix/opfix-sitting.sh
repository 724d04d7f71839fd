#!/usr/bin/env bash
# Session 17, helper opfix: the tensor ops' host overhead (ConvOps.conv's device route, FlashButterfly's kept spectrum) and
# the CudaLearnedConv / LearnedButterflyConv refactor (BENCH-RESULTS.md round 30-opfix). ONE command per sitting:
#   TESTS=1: the GPU tests of TESTCLS (OpRouteGpuTest, FlashOpGpuTest, the learned op / tensor-core classes);
#   BENCH=1: OpVsPlan (fb, pk; op rows then plan rows), then MIRROR=1 the reversed engine order with plan rows first.
# Stage (from the worktree): tools/stage-device.sh --out .device/opfix --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/opfix/opfix-sitting.sh --drop '...'
# Device (carry [".device/opfix"]): DEV=.device/opfix TESTS=1 BENCH=1 bash .device/opfix/opfix-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/opfix-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/opfix}
ARGS=${ARGS:-16 768 4096,16384,65536,262144}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-0}" != 0 ]; then
  # two groups (each with its own timeout, so one slow group cannot take the other's summary): the ops, then the
  # LearnedButterflyConv classes (the LearnedSwitches refactor)
  i=0
  for cls in "${TESTCLS:-.*(OpRouteGpuTest|FlashOpGpuTest|LearnedJFactorOpGpuTest|PackedLearnedOpGpuTest)}" \
             "${TESTCLS2:-.*(LearnedTensorCoreGpuTest|LearnedConvTensorCoreGpuTest|LearnedConvGpuTest|LearnedButterflyGpuTest)}"; do
    i=$((i + 1))
    echo "== gpu tests $i: $cls"; date -u; t0=$(date +%s)
    timeout ${TEST_S:-70} $DEV/run-tests --include-tag gpu --include-classname "$cls" --disable-ansi-colors > "$out/tests$i.txt" 2>&1
    echo "tests $i exit $? ($(( $(date +%s) - t0 )) s)"
    grep -E "tests (successful|failed|aborted|skipped|found)|✘" "$out/tests$i.txt" | cut -c1-300 | head -40
    grep -E "Exception|expected|relative error" "$out/tests$i.txt" | cut -c1-250 | head -20
  done
fi
if [ "${BENCH:-0}" != 0 ]; then
  echo "== OpVsPlan fb,pk ($ARGS)"; date -u; t0=$(date +%s)
  JAVA_OPTS="-Dlongconv4j.bench.ovp.order=fb,pk ${BOPTS:-}" timeout ${JAVA_S:-80} $DEV/run-java \
    ai.longconv4j.examples.bench.OpVsPlan "$out/bench.csv" $ARGS > "$out/bench.txt" 2>&1; echo "bench exit $? ($(( $(date +%s) - t0 )) s)"
  grep -E "ms|bit-identical|DIFFERS|Exception|no PackedMonarch" "$out/bench.txt" | grep -v '^[a-z].*,[0-9]' | head -60 | cut -c1-200
  if [ "${MIRROR:-1}" != 0 ]; then
    echo "== OpVsPlan mirrored: pk,fb, plan rows first"; date -u; t0=$(date +%s)
    JAVA_OPTS="-Dlongconv4j.bench.ovp.order=pk,fb -Dlongconv4j.bench.ovp.planfirst=true ${BOPTS:-}" timeout ${JAVA_S:-80} $DEV/run-java \
      ai.longconv4j.examples.bench.OpVsPlan "$out/bench2.csv" $ARGS > "$out/bench2.txt" 2>&1; echo "bench 2 exit $? ($(( $(date +%s) - t0 )) s)"
    grep -E "ms|bit-identical|DIFFERS|Exception|no PackedMonarch" "$out/bench2.txt" | grep -v '^[a-z].*,[0-9]' | head -60 | cut -c1-200
  fi
fi
tar -C "$out" -cf - $(cd "$out" && ls tests1.txt tests2.txt bench.txt bench2.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests1.txt" "$out/tests2.txt" "$out/bench.txt" "$out/bench2.txt"
ls -la "$out"; date -u
