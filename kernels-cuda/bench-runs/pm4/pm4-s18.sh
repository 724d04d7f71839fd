#!/usr/bin/env bash
# Session 18, helper pm4: the one-pass learned forward (learned_pm4.cu) on today's defaults, its s kernels (x staged in
# shared memory) and circular / bidirectional routes vs FlashButterfly (BENCH-RESULTS.md round 31-pm4). ONE command per
# sitting; phases by environment (all logs under the output folder, compressed at the end):
#   TESTS=1   the GPU test classes matching TESTCLS (default PackedMonarch(Gpu|OuterGpu)Test), TEST_S seconds at most;
#   NCU=1     Nsight Compute (SpeedOfLight, Occupancy, LaunchStats, MemoryWorkloadAnalysis(+Tables), WarpStateStats,
#             SchedulerStats, ComputeWorkloadAnalysis, InstructionStats; clocks left alone) on ONE forward launch of each
#             "path@mode:L" in NCU_RUNS (kernel filter: ^lpm4 for pm paths, FB's forward kernels for fb), NCU_S each;
#   BENCH=1   PackedMonarchBench 64 768 once per group of BENCH_GROUPS ("cases|order" groups separated by ';'), each group
#             in ONE process in its order and then mirrored (order + reversed order); JAVA_S seconds each; BOPTS more -D.
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/pm4 --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/pm4/pm4-s18.sh --drop '...'   (the commands: COMMANDS.txt)
# Device (carry [".device/pm4"]): DEV=.device/pm4 TESTS=1 NCU=1 BENCH=1 bash .device/pm4/pm4-s18.sh "$OUT/s1"
set -u
out=${1:-/tmp/pm4-s18}; mkdir -p "$out"
DEV=${DEV:-.device/pm4}
# the raw logs live 3 folders below $OUT (the device tool returns at most 8 files and none that deep); pack() puts them
# into logs.tar.xz after every phase, so a sitting cut by its timeout still returns what finished
raw="$out/r/x"; mkdir -p "$raw"
pack() { tar -C "$raw" -cf - . | xz -T4 -6 > "$out/logs.tar.xz"; }
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-0}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-60} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*PackedMonarch(Gpu|OuterGpu)Test}" \
    --disable-ansi-colors > "$raw/tests.txt" 2>&1
  echo "tests exit $?" | tee "$out/summary.txt"
  { grep -E "tests (successful|failed|aborted|skipped|found)|✘" "$raw/tests.txt" | cut -c1-300 | head -40
    grep -E "Expected|expected:|AssertionFailed|Exception" "$raw/tests.txt" | cut -c1-300 | head -20; date -u; } | tee -a "$out/summary.txt"
  pack
fi
if [ "${NCU:-0}" != 0 ]; then
  for r in $(echo "${NCU_RUNS:-pm@causal:4096,fb@causal:4096}" | tr ',' ' '); do
    p=${r%@*}; c=${r#*@}
    if [ "$p" = fb ]; then kf='^(fb_conv_fwd|fbk_fwd|fb32_fwd|fbog_fwd|fb3_mid)'; else kf='^lpm4'; fi
    tag=$(echo "$p-$c" | tr ':' '-')
    echo "== ncu $p $c ($kf)"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.pm.order=$p -Dlongconv4j.bench.pm.cases=$c -Dlongconv4j.bench.pm.du=false ${BOPTS:-}" timeout ${NCU_S:-30} \
      ncu --clock-control none --section SpeedOfLight --section Occupancy --section LaunchStats --section MemoryWorkloadAnalysis \
      --section MemoryWorkloadAnalysis_Tables --section WarpStateStats --section SchedulerStats --section ComputeWorkloadAnalysis \
      --section InstructionStats -k regex:"$kf" --launch-count 1 --kill yes \
      $DEV/run-java ai.longconv4j.examples.bench.PackedMonarchBench "$out/ncu-bench.csv" 64 768 > "$raw/ncu-$tag.txt" 2>&1
    echo "ncu exit $?"
    grep -E "^  [a-z].*\(|Duration|Throughput|Occupancy|Registers|Block Limit|Shared Memory|Bank|Stall|Issue|Eligible|Active Warps|No Eligible|Warp Cycles|Executed Ipc|==PROF==|==ERR|rror" \
      "$raw/ncu-$tag.txt" | grep -v "^packed\|^flash" | head -50 | cut -c1-150
  done
  rm -f "$out/ncu-bench.csv"; pack
fi
if [ "${BENCH:-0}" != 0 ]; then
  i=0
  IFS=';' read -ra groups <<< "${BENCH_GROUPS:-causal:4096|fb,pm}"
  for grp in "${groups[@]}"; do
    cases=${grp%|*}; order=${grp#*|}; i=$((i + 1))
    o="$order,$(echo "$order" | tr ',' '\n' | tac | paste -sd,)"   # both orders in one process: the order, then mirrored
    echo "== bench g$i ($o; $cases)"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.pm.order=$o -Dlongconv4j.bench.pm.cases=$cases -Dlongconv4j.bench.pm.du=false ${BOPTS:-}" \
      timeout ${JAVA_S:-60} $DEV/run-java ai.longconv4j.examples.bench.PackedMonarchBench "$out/bench-g$i.csv" 64 768 \
      > "$raw/bench-g$i.txt" 2>&1; echo "java exit $?"
    grep -E " fwd |float64|Exception|rror" "$raw/bench-g$i.txt" | sed -E 's/ +/ /g; s/B=64 H=768 //; s/ GB.s.*//' | cut -c1-150 | head -80
    pack
  done
fi
date -u
pack; rm -rf "$out/r"
ls -la "$out"
