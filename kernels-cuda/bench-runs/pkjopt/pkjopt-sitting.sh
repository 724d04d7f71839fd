#!/usr/bin/env bash
# Session 14, helper pkjopt: learned_pm's fused forward / du toward FlashButterfly's runtime (learned_pm2.cu's balanced
# kernels, PackedMonarchConv.balanced / regCap / threads / storage16; BENCH-RESULTS.md round 27-pkjopt). ONE command:
#   the GPU tests (TESTCLS, default PackedMonarchGpuTest; TESTS=0 skips them);
#   NCU=1: Nsight Compute (SpeedOfLight, Occupancy, LaunchStats; clocks left alone) on one forward launch of each path in
#   NCU_PATHS at NCU_CASE (PackedMonarchBench, B = 64, H = 768);
#   PackedMonarchBench 64 768 with -Dlongconv4j.bench.pm.order=$ORDER and .cases=$CASES (forward and input gradient validated
#   against float64 first; CUDA events, warm-up, medians; FlashButterfly in the same process), then MIRROR=1 the reversed
#   order in a second process.
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/pkjopt --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/pkjopt/pkjopt-sitting.sh --drop '...'
# Device (carry [".device/pkjopt"]): DEV=.device/pkjopt bash .device/pkjopt/pkjopt-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/pkjopt-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/pkjopt}
ORDER=${ORDER:-fb,pm,pm-tuned}
CASES=${CASES:-causal:2048,causal:4096,causal:8192,causal:16384}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-120} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*PackedMonarchGpuTest}" --disable-ansi-colors \
    > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped|found)|✘" "$out/tests.txt" | cut -c1-300 | head -40
  grep -E "rel err|differ from" "$out/tests.txt" | cut -c1-200 | head -${TEST_LINES:-80}
fi
if [ "${BENCH:-1}" != 0 ]; then
  echo "== java bench ($ORDER; $CASES)"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.pm.order=$ORDER -Dlongconv4j.bench.pm.cases=$CASES ${BOPTS:-}" timeout ${JAVA_S:-120} $DEV/run-java \
    ai.longconv4j.examples.bench.PackedMonarchBench "$out/bench.csv" 64 768 > "$out/bench.txt" 2>&1; echo "java bench exit $?"
  grep -E "float64|Exception|ms" "$out/bench.txt" | grep -v '^[a-z].*,' | head -80 | cut -c1-200
  if [ "${MIRROR:-1}" != 0 ]; then
    rev=$(echo "$ORDER" | tr ',' '\n' | tac | paste -sd,)
    echo "== java bench, mirrored ($rev)"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.pm.order=$rev -Dlongconv4j.bench.pm.cases=$CASES ${BOPTS:-}" timeout ${JAVA_S:-120} $DEV/run-java \
      ai.longconv4j.examples.bench.PackedMonarchBench "$out/bench2.csv" 64 768 > "$out/bench2.txt" 2>&1; echo "java bench 2 exit $?"
    grep -E "float64|Exception|ms" "$out/bench2.txt" | grep -v '^[a-z].*,' | head -80 | cut -c1-200
  fi
fi
if [ "${NCU:-0}" != 0 ]; then
  for p in $(echo "${NCU_PATHS:-pm,pm-b-r80-t256}" | tr ',' ' '); do
    echo "== ncu $p ${NCU_CASE:-causal:8192}"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.pm.order=$p -Dlongconv4j.bench.pm.cases=${NCU_CASE:-causal:8192}" timeout ${NCU_S:-60} \
      ncu --clock-control none --section SpeedOfLight --section Occupancy --section LaunchStats -k regex:'lpm_fused|lpm2_b' -c 1 \
      $DEV/run-java ai.longconv4j.examples.bench.PackedMonarchBench "$out/ncu-bench.csv" 64 768 > "$out/ncu-$p.txt" 2>&1
    echo "ncu exit $?"
    grep -E "lpm|Duration|Throughput|Occupancy|Registers|Block Limit|Waves|Shared Memory Config|Dynamic Shared|==PROF==|==ERR|rror" "$out/ncu-$p.txt" \
      | grep -v "^packed\|^flash" | head -40 | cut -c1-160
  done
  rm -f "$out/ncu-bench.csv"
fi
tar -C "$out" -cf - $(cd "$out" && ls tests.txt bench.txt bench2.txt ncu-*.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out/bench.txt" "$out/bench2.txt" "$out"/ncu-*.txt
ls -la "$out"; date -u
