#!/usr/bin/env bash
# Session 15, helper pkbwdopt: learned_pmb2.cu's variants of the J-factor backward (PackedMonarchConv.bwdFast / bwdRegCap /
# bwdThreads / bwdGroups / bwdFuse; BENCH-RESULTS.md round 28-pkbwdopt). ONE command, ~120 s:
#   1. PackedMonarchBwdGpuTest (kernelMatchesLib 11 + planMatchesLibAndTheChain 5 + fastMatchesLibAndTheTwin 5: each variant
#      against float64 and against the twin learned_pmb.cu); the timings run even if a test fails (STOP=1 stops instead).
#   2. PackedMonarchBwdBench 64 768, causal $CASES: FlashButterfly and the twin (full rows), the variants' bwd rows, the
#      timing-only skip rows at 4K (the pieces' cost by difference), then the reversed order in the same process.
#   3. if the budget allows: ncu of one twin launch at 4K (sections, not the full set).
# Stage (worktree, JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64, after nice -n 5 mvn -o -B -q -DskipTests package):
#   tools/stage-device.sh --out /work/main/.device/pkbwdopt --sm 90 --lean-jre --add kernels-cuda/bench-runs/pkbwdopt/pkbwdopt-sitting.sh --drop '...'
# Device (carry [".device/pkbwdopt"]): DEV=.device/pkbwdopt bash .device/pkbwdopt/pkbwdopt-sitting.sh "$OUT/s1"
set -u
t0=$(date +%s)
out=${1:-/tmp/pkbwdopt-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/pkbwdopt}
CASES=${CASES:-causal:2048,causal:4096,causal:8192}
V1=pm/fast=1/cap=80/t=128/only=bwd
V2=pm/fast=1/cap=80/t=128/fuse=1/only=bwd
V3=pm/fast=1/cap=80/t=256/fuse=1/only=bwd
V4=pm/fast=1/cap=80/t=128/fuse=1/g=2/only=bwd/L=8192
V5=pm/fast=1/cap=80/t=256/fuse=1/g=2/only=bwd/L=8192
V0=pm/fast=1/only=bwd/L=4096
T128=pm/t=128/only=bwd/L=4096
SK=pm/fast=1/cap=80/t=128/fuse=1/only=bwd/L=4096
ORDER=${ORDER:-fb,pm,$T128,$V0,$V1,$V2,$V3,$V4,$V5,$SK/skip=1,$SK/skip=2,$SK/skip=4,$SK/skip=7,$V5,$V4,$V3,$V2,$V1,$V0,$T128,pm/only=bwd,fb}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
finish() {
  tar -C "$out" -cf - $(cd "$out" && ls tests.txt bench*.txt ncu*.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
  rm -f "$out/tests.txt" "$out"/bench*.txt "$out"/ncu*.txt
  ls -la "$out"; echo "total $(( $(date +%s) - t0 )) s"
}
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; s=$(date +%s)
  timeout ${TEST_S:-40} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*PackedMonarchBwdGpuTest}" \
    --disable-ansi-colors > "$out/tests.txt" 2>&1
  rc=$?; echo "tests exit $rc ($(( $(date +%s) - s )) s)"
  grep -E "tests (successful|failed|aborted|skipped|found)|✘" "$out/tests.txt" | cut -c1-300 | head -30
  grep -E "pkjbwd kernel|pkbwdopt kernel|differs|differing|rel err|Exception|expected" "$out/tests.txt" | cut -c1-400 | head -${TEST_LINES:-60}
  if [ "$rc" != 0 ] && [ "${STOP:-0}" != 0 ]; then echo "tests failed (exit $rc): no timings"; finish; exit 1; fi
fi
if [ "${BENCH:-1}" != 0 ]; then
  echo "== plan bench ($CASES)"; s=$(date +%s)
  JAVA_OPTS="-Dlongconv4j.bench.pmb.order=$ORDER -Dlongconv4j.bench.pmb.cases=$CASES ${BOPTS:-}" timeout ${JAVA_S:-80} $DEV/run-java \
    ai.longconv4j.examples.bench.PackedMonarchBwdBench "$out/bench.csv" 64 768 > "$out/bench.txt" 2>&1; echo "plan bench exit $? ($(( $(date +%s) - s )) s)"
  grep -E "Exception|ms " "$out/bench.txt" | grep -v '^[a-z].*,' | sed -e 's/packed monarch CAUSAL //' -e 's/ B=64 H=768//' | cut -c1-200 | head -90
fi
left=$(( ${BUDGET_S:-125} - ($(date +%s) - t0) ))
if [ "${NCU_S:-25}" -gt 0 ] && [ "$left" -gt 20 ]; then
  NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  echo "== ncu ($NCU, $left s left)"; s=$(date +%s)
  lim=$(( left - 6 < ${NCU_S:-25} ? left - 6 : ${NCU_S:-25} ))
  JAVA_OPTS="-Dlongconv4j.bench.pmb.order=pm/only=bwd -Dlongconv4j.bench.pmb.cases=causal:4096 -Dlongconv4j.bench.warmup.ms=0" \
    timeout $lim "$NCU" --clock-control none --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats \
    --section MemoryWorkloadAnalysis --section SchedulerStats --kernel-name regex:'^lpmb_bwd' --launch-count 1 \
    $DEV/run-java ai.longconv4j.examples.bench.PackedMonarchBwdBench "$out/ncu.csv" 64 768 > "$out/ncu.txt" 2>&1
  echo "ncu exit $? ($(( $(date +%s) - s )) s)"; rm -f "$out/ncu.csv"
  grep -E "Duration|Registers Per|Theoretical Occupancy|Achieved Occupancy|Throughput|Warp Cycles Per Issued|Issue Slots Busy|Stall|Block Limit|L2 Hit|L1/TEX Hit|DRAM" \
    "$out/ncu.txt" | head -30
fi
finish
