#!/usr/bin/env bash
# Session 13, helper pkmode: the packed learned butterfly in BIDIRECTIONAL and CIRCULAR modes (BENCH-RESULTS round
# 26-pkmode). ONE command (pkbwd3-sitting.sh's pattern):
#   1. GPU tests (TESTCLS; TESTS=0 skips): PackedLearnedModesGpuTest (both modes: forward, du, P / Q, the backward's
#      routes vs lib's float64), PackedLearnedOpGpuTest (the op, causal and modes), and the causal classes
#      PackedLearnedGpuTest (configs=defaults) / PackedLearnedBackwardGpuTest (causal unchanged);
#   2. LearnedPackedBench 64 768 in each mode of MODES (bidirectional at $LSB, circular at $LSC) in the order $ORDER,
#      then MIRROR=1 the reversed order in a second process (FB in the same mode, same process; fwd, fwd+bwd, bwd;
#      outputs validated against float64 before timing; CUDA events, warm-up, medians).
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/pkmode --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/pkmode/pkmode-sitting.sh --drop '...'
# Device (carry [".device/pkmode"]): DEV=.device/pkmode bash .device/pkmode/pkmode-sitting.sh "$OUT/s1"
# TOPTS: more test JVM options (e.g. -Dlongconv4j.pk.test.modes=quick); TESTCLS, BENCH=0, MIRROR=0, MODES, LSB, LSC.
set -u
out=${1:-/tmp/pkmode-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/pkmode}
LSB=${LSB:-1024,512,256}
LSC=${LSC:-2048,1024,512}
MODES=${MODES:-bidirectional,circular}
ORDER=${ORDER:-fb,packed,packed:savefwd=true}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; date -u
  JAVA_OPTS="-Dlongconv4j.pk.test.configs=defaults ${TOPTS:-}" timeout ${TEST_S:-200} $DEV/run-tests --include-tag gpu \
    --include-classname "${TESTCLS:-.*(PackedLearnedModesGpuTest|PackedLearnedOpGpuTest|PackedLearnedGpuTest|PackedLearnedBackwardGpuTest)}" \
    --disable-ansi-colors > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped|found)|✘|FAILED route" "$out/tests.txt" | cut -c1-400 | head -40
  grep -E "rel err" "$out/tests.txt" | awk '{for(i=1;i<=NF;i++) if($i=="err") print $(i+1), $0}' | sort -g | tail -${SHOW:-8} | cut -c1-200
fi
if [ "${BENCH:-1}" != 0 ]; then
  for mode in $(echo "$MODES" | tr ',' ' '); do
    ls=$LSB; [ "$mode" = circular ] && ls=$LSC
    echo "== java bench $mode ($ORDER) L=$ls"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.pk.order=$ORDER -Dlongconv4j.bench.pk.mode=$mode ${BOPTS:-}" timeout ${JAVA_S:-90} \
      $DEV/run-java ai.longconv4j.examples.bench.LearnedPackedBench "$out/bench-$mode.csv" 64 768 "$ls" > "$out/bench-$mode.txt" 2>&1
    echo "java bench exit $?"
    grep -E "learned|flashbutterfly|Exception|packed.*backward|forwardForBackward" "$out/bench-$mode.txt" | grep -v '^[a-z].*,' | head -40 | cut -c1-260
    if [ "${MIRROR:-1}" != 0 ]; then
      rev=$(echo "$ORDER" | tr ',' '\n' | tac | paste -sd,)
      echo "== java bench $mode, mirrored ($rev)"; date -u
      JAVA_OPTS="-Dlongconv4j.bench.pk.order=$rev -Dlongconv4j.bench.pk.mode=$mode ${BOPTS:-}" timeout ${JAVA_S:-90} \
        $DEV/run-java ai.longconv4j.examples.bench.LearnedPackedBench "$out/bench2-$mode.csv" 64 768 "$ls" > "$out/bench2-$mode.txt" 2>&1
      echo "java bench 2 exit $?"
      grep -E "learned|flashbutterfly|Exception|packed.*backward|forwardForBackward" "$out/bench2-$mode.txt" | grep -v '^[a-z].*,' | head -40 | cut -c1-260
    fi
  done
fi
tar -C "$out" -cf - $(cd "$out" && ls tests.txt bench*.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out"/bench*.txt
ls -la "$out"; date -u
