#!/usr/bin/env bash
# Session 15, helper pk3fast: the three-pass packed learned butterfly's forward / du toward FlashButterfly's time
# (learned_p3.cu, PackedThreePass; BENCH-RESULTS.md round 28-pk3fast). ONE command, steps switched by variables:
#   NCU=1: for each "TAG:ORDER:CASE:REGEX:COUNT" in NCU_RUNS, ncu (SpeedOfLight, Occupancy, MemoryWorkloadAnalysis,
#          WarpStateStats, LaunchStats, ComputeWorkloadAnalysis, SchedulerStats; --clock-control none) on the first COUNT
#          launches matching REGEX of PackedThreePassBench with that path order and case;
#   TESTS=1: the GPU tests (TESTCLS, default PackedThreePassGpuTest);
#   BENCH=1: PackedThreePassBench (ORDER, CASES; FB in the same process), MIRROR=1 the reversed order in a second process.
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/pk3fast --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/pk3fast/pk3fast-sitting.sh --drop '...'
# Device (carry [".device/pk3fast"]): DEV=.device/pk3fast bash .device/pk3fast/pk3fast-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/pk3fast-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/pk3fast}
ORDER=${ORDER:-fb,p3}
CASES=${CASES:-65536:16,262144:4}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${NCU:-0}" != 0 ]; then
  NCUB=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  mkdir -p "$out/ncu"
  for run in ${NCU_RUNS:-}; do
    IFS=: read -r tag ord cas rx cnt <<< "$run"
    echo "== ncu $tag ($ord $cas '$rx' x$cnt)"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.p3.order=$ord -Dlongconv4j.bench.p3.cases=${cas/_/:} ${BOPTS:-}" \
      timeout ${NCU_S:-60} "$NCUB" --clock-control none --target-processes all --kernel-name regex:"$rx" --launch-count "$cnt" \
      --section SpeedOfLight --section Occupancy --section MemoryWorkloadAnalysis --section WarpStateStats \
      --section LaunchStats --section ComputeWorkloadAnalysis --section SchedulerStats -f -o "$out/ncu/$tag" \
      $DEV/run-java ai.longconv4j.examples.bench.PackedThreePassBench "$out/ncu/$tag.csv" 16 768 > "$out/ncu/run-$tag.txt" 2>&1
    echo "ncu exit $?"; grep -E "rror|==PROF==" "$out/ncu/run-$tag.txt" | head -6
    if [ -f "$out/ncu/$tag.ncu-rep" ]; then
      "$NCUB" -i "$out/ncu/$tag.ncu-rep" --page details --print-details all > "$out/ncu/details-$tag.txt" 2>&1
      grep -E "^  [a-z0-9_]+\(|^  [a-z0-9_]+ \(|Duration|Registers Per|Achieved Occupancy|Theoretical Occupancy|Compute \(SM\) Throughput|Memory Throughput|DRAM Throughput|L2 Hit|Warp Cycles Per Issued|Issue Slots Busy|Executed Ipc A|Block Limit|Dynamic Shared|No Eligible|Stall" \
        "$out/ncu/details-$tag.txt" | head -80
      rm -f "$out/ncu/$tag.ncu-rep"
    fi
  done
  tar -C "$out" -cJf "$out/ncu.tar.xz" ncu && rm -rf "$out/ncu"
fi
if [ "${TESTS:-0}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-90} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*PackedThreePassGpuTest}" --disable-ansi-colors \
    > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped|found)|✘" "$out/tests.txt" | cut -c1-300 | head -40
  grep -E "rel err|apart" "$out/tests.txt" | cut -c1-220 | head -80
  grep -B2 -A12 "AssertionError\|Exception" "$out/tests.txt" | cut -c1-300 | head -60
fi
if [ "${BENCH:-0}" != 0 ]; then
  echo "== java bench ($ORDER; $CASES)"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.p3.order=$ORDER -Dlongconv4j.bench.p3.cases=$CASES ${BOPTS:-}" timeout ${JAVA_S:-75} $DEV/run-java \
    ai.longconv4j.examples.bench.PackedThreePassBench "$out/bench.csv" 16 768 > "$out/bench.txt" 2>&1; echo "java bench exit $?"
  grep -E "float64|Exception|ms|done at|validated at" "$out/bench.txt" | grep -v '^[a-z].*,' | head -80 | cut -c1-260
  if [ "${MIRROR:-1}" != 0 ]; then
    rev=$(echo "$ORDER" | tr ',' '\n' | tac | paste -sd,)
    echo "== java bench, mirrored ($rev)"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.p3.order=$rev -Dlongconv4j.bench.p3.cases=$CASES ${BOPTS:-}" timeout ${JAVA_S:-75} $DEV/run-java \
      ai.longconv4j.examples.bench.PackedThreePassBench "$out/bench2.csv" 16 768 > "$out/bench2.txt" 2>&1; echo "java bench 2 exit $?"
    grep -E "float64|Exception|ms|done at|validated at" "$out/bench2.txt" | grep -v '^[a-z].*,' | head -80 | cut -c1-260
  fi
fi
logs=$(cd "$out" && ls tests.txt bench.txt bench2.txt 2>/dev/null)
[ -n "$logs" ] && tar -C "$out" -cf - $logs | xz -T8 -6 > "$out/logs.tar.xz" && (cd "$out" && rm -f $logs)
ls -la "$out"; date -u
