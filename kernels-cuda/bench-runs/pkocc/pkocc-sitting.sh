#!/usr/bin/env bash
# Session 15, helper pkocc: the one-pass J-factor forward (learned_pm2.cu / learned_pm3.cu) toward FlashButterfly's time
# (BENCH-RESULTS.md round 28-pkocc). ONE command per sitting:
#   NCU=1: Nsight Compute (SpeedOfLight, Occupancy, MemoryWorkloadAnalysis(+Tables), WarpStateStats, SchedulerStats; clocks
#   left alone) on ONE forward launch of each "path@mode:L" in NCU_RUNS (the kernel filtered by exact name: NCU_PM for pm
#   paths, FB's forward kernels for fb);
#   TESTS=1: the GPU tests (TESTCLS, default PackedMonarchGpuTest);
#   BENCH=1: PackedMonarchBench 64 768 in ORDER, then MIRROR=1 the reversed order in a second process.
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/pkocc --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/pkocc/pkocc-sitting.sh --drop '...'
# Device (carry [".device/pkocc"]): DEV=.device/pkocc bash .device/pkocc/pkocc-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/pkocc-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/pkocc}
ORDER=${ORDER:-fb,pm}
CASES=${CASES:-causal:2048,causal:4096,causal:8192,causal:16384}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${NCU:-0}" != 0 ]; then
  for r in $(echo "${NCU_RUNS:-pm@causal:4096,fb@causal:4096}" | tr ',' ' '); do
    p=${r%@*}; c=${r#*@}
    if [ "$p" = fb ]; then kf='^(fb_conv_fwd|fbk_fwd|fb32_fwd|fbog_fwd|fb3_mid)'; else kf=${NCU_PM:-'^lpm[23]_'}; fi
    tag=$(echo "$p-$c" | tr ':' '-')
    echo "== ncu $p $c ($kf)"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.pm.order=$p -Dlongconv4j.bench.pm.cases=$c ${BOPTS:-}" timeout ${NCU_S:-60} \
      ncu --clock-control none --section SpeedOfLight --section Occupancy --section LaunchStats --section MemoryWorkloadAnalysis \
      --section MemoryWorkloadAnalysis_Tables --section WarpStateStats --section SchedulerStats -k regex:"$kf" --launch-count 1 --kill yes \
      $DEV/run-java ai.longconv4j.examples.bench.PackedMonarchBench "$out/ncu-bench.csv" 64 768 > "$out/ncu-$tag.txt" 2>&1
    echo "ncu exit $?"
    grep -E "^  [a-z].*\(|Duration|Throughput|Occupancy|Registers|Block Limit|Shared Memory|Bank|Stall|Issue|Eligible|Active Warps|No Eligible|Warp Cycles|==PROF==|==ERR|rror" \
      "$out/ncu-$tag.txt" | grep -v "^packed\|^flash" | head -60 | cut -c1-170
  done
  rm -f "$out/ncu-bench.csv"
fi
if [ "${TESTS:-0}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-120} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*PackedMonarchGpuTest}" --disable-ansi-colors \
    > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped|found)|✘" "$out/tests.txt" | cut -c1-300 | head -40
  grep -E "rel err|differ from|pkocc" "$out/tests.txt" | cut -c1-200 | head -${TEST_LINES:-60}
fi
if [ "${BENCH:-0}" != 0 ]; then
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
tar -C "$out" -cf - $(cd "$out" && ls tests.txt bench.txt bench2.txt ncu-*.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out/bench.txt" "$out/bench2.txt" "$out"/ncu-*.txt
ls -la "$out"; date -u
