#!/usr/bin/env bash
# Session 13, helper pkbwd4: the packed learned backward at 256 / 512, dGa / dFa in the chains (ingram; BENCH-RESULTS.md round 26-pkbwd4); pkbwd3-sitting.sh with ONE command
# (pkbwd-sitting.sh's pattern):
#   the GPU tests (TESTCLS, default PackedLearnedBackwardGpuTest: every case on each route of ROUTES), TESTS=0 skips them;
#   PHASES=1: LearnedPackedBench phases $LS (CUDA-event times per phase of one backward, B = 64, H = 768, per route);
#   LearnedPackedBench 64 768 $LS in the order $ORDER (engines fb / learned / packed / packed:key=value+... with
#   longconv4j.pk.bwd.* set for that engine; fwd, fwd+bwd, bwd; the packed backward validated against float64 before timing;
#   CUDA events, warm-up, medians), then MIRROR=1 the reversed order in a second process.
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/pkbwd4 --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/pkbwd4/pkbwd4-sitting.sh --drop '...'
# Device (carry [".device/pkbwd4"]): DEV=.device/pkbwd4 bash .device/pkbwd4/pkbwd4-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/pkbwd4-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/pkbwd4}
LS=${LS:-512,256}
PLS=${PLS:-$LS}
ORDER=${ORDER:-fb,packed,packed:ingram=ga/fa,packed:ingram=fa,packed:savefwd=true,packed:savefwd=true+ingram=ga/fa}
# s1: ORDER=fb,packed,packed:ingram=ga/fa,packed:ingram=fa,packed:savefwd=true,packed:savefwd=true+ingram=ga/fa (ingram's
#     default none then); after the tests the modes' quick subset with -Dlongconv4j.pk.bwd.ingram=ga/fa on every route
# s2 (ingram's default ga/fa): PHASES=0 MODESIG_V=none TOPTS=-Dlongconv4j.pk.test.modes=quick
#     TESTCLS='.*(PackedLearnedBackwardGpuTest|PackedLearnedModesGpuTest|PackedLearnedOpGpuTest)'
#     ORDER=fb,packed,packed:ingram=none,packed:savefwd=true,packed:savefwd=true+ingram=none
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; date -u
  JAVA_OPTS="${TOPTS:-}" timeout ${TEST_S:-150} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*PackedLearnedBackwardGpuTest}" --disable-ansi-colors \
    > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped|found)|✘|FAILED route" "$out/tests.txt" | cut -c1-300 | head -40
  grep -E "rel err" "$out/tests.txt" | awk '{for(i=1;i<=NF;i++) if($i=="err") print $(i+1), $0}' | sort -g | tail -${SHOW:-12} | cut -c1-200
fi
if [ "${MODESIG:-1}" != 0 ]; then   # the modes' quick subset (bidirectional, circular) with the in-chain Grams on every route
  echo "== modes quick with ingram=${MODESIG_V:-ga/fa}"; date -u
  JAVA_OPTS="-Dlongconv4j.pk.test.modes=quick -Dlongconv4j.pk.bwd.ingram=${MODESIG_V:-ga/fa}" timeout ${MODES_S:-90} $DEV/run-tests --include-tag gpu \
    --include-classname ".*PackedLearnedModesGpuTest" --disable-ansi-colors > "$out/modes-ingram.txt" 2>&1
  echo "modes exit $?"; grep -E "tests (successful|failed|aborted|skipped|found)|✘" "$out/modes-ingram.txt" | cut -c1-300 | head -20
fi
if [ "${PHASES:-1}" != 0 ]; then
  echo "== phases (LearnedPackedBench phases $LS)"; date -u
  timeout ${PHASES_S:-60} $DEV/run-java ai.longconv4j.examples.bench.LearnedPackedBench phases "$PLS" > "$out/phases.txt" 2>&1
  echo "phases exit $?"; grep -E "phases|Exception" "$out/phases.txt" | awk 'NR % 3 == 1' | cut -c1-560
fi
if [ "${BENCH:-1}" != 0 ]; then
  echo "== java bench ($ORDER)"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.pk.order=$ORDER ${BOPTS:-}" timeout ${JAVA_S:-90} $DEV/run-java ai.longconv4j.examples.bench.LearnedPackedBench \
    "$out/bench.csv" 64 768 "$LS" > "$out/bench.txt" 2>&1; echo "java bench exit $?"
  grep -E "learned|flashbutterfly|Exception|packed backward|forwardForBackward" "$out/bench.txt" | grep -v '^[a-z].*,' | head -40 | cut -c1-260
  if [ "${MIRROR:-1}" != 0 ]; then
    rev=$(echo "$ORDER" | tr ',' '\n' | tac | paste -sd,)
    echo "== java bench, mirrored ($rev)"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.pk.order=$rev ${BOPTS:-}" timeout ${JAVA_S:-90} $DEV/run-java ai.longconv4j.examples.bench.LearnedPackedBench \
      "$out/bench2.csv" 64 768 "$LS" > "$out/bench2.txt" 2>&1; echo "java bench 2 exit $?"
    grep -E "learned|flashbutterfly|Exception|packed backward|forwardForBackward" "$out/bench2.txt" | grep -v '^[a-z].*,' | head -40 | cut -c1-260
  fi
fi
tar -C "$out" -cf - $(cd "$out" && ls tests.txt modes-ingram.txt phases.txt bench.txt bench2.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out/modes-ingram.txt" "$out/phases.txt" "$out/bench.txt" "$out/bench2.txt"
ls -la "$out"; date -u
