#!/usr/bin/env bash
# Session 18, helper pmb: the one-pass learned backward (PackedMonarchBackward) at M = 4K .. 32K toward FlashButterfly's
# (BENCH-RESULTS.md round 31-pmb). ONE command per sitting, each part switched by a variable (1 = on):
#   TESTS: the GPU tests TESTCLS (default PackedMonarchBwdGpuTest).
#   NCU:   Nsight Compute (clocks left alone; SpeedOfLight, Occupancy, LaunchStats, ComputeWorkloadAnalysis,
#          MemoryWorkloadAnalysis, InstructionStats, WarpStateStats, SchedulerStats) on every launch matching NCU_K of ONE
#          process of PackedMonarchBwdBench NCU_B (default 16) 768 with val=1 paths (each path: one validated forward and backward, no
#          timing): NCU_ORDER on NCU_CASES.
#   BENCH: PackedMonarchBwdBench 64 768, CASES, paths ORDER (write both orders into ORDER: mirror).
#   BENCH2: PackedMonarchBwdBench B2 768 (default 32: B L constant above 16K), CASES2, ORDER2.
#   SASS:  cuobjdump -sass (sm_90a) of learned_pmb2's fatbin, xz'ed into $OUT.
# Stage (worktree, JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64, after nice mvn -o -B -q -DskipTests package):
#   tools/stage-device.sh --out /work/main/.device/pmb --sm 90 --lean-jre --add kernels-cuda/bench-runs/pmb/pmb18-sitting.sh --drop '...'
# Device (carry [".device/pmb"]): DEV=.device/pmb bash .device/pmb/pmb18-sitting.sh "$OUT/sN"
set -u
t0=$(date +%s)
out=${1:-/tmp/pmb-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/pmb}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
bench() {   # tag B cases order
  echo "== bench $1 (B=$2; $3; $4)"; local s=$(date +%s)
  JAVA_OPTS="-Dlongconv4j.bench.pmb.order=$4 -Dlongconv4j.bench.pmb.cases=$3 ${BOPTS:-}" timeout ${JAVA_S:-90} $DEV/run-java \
    ai.longconv4j.examples.bench.PackedMonarchBwdBench "$out/$1.csv" $2 768 > "$out/$1.txt" 2>&1
  echo "exit $? ($(( $(date +%s) - s )) s)"
  grep -E "Exception|ms |float64" "$out/$1.txt" | grep -v '^[a-z].*,' | sed -e 's/packed monarch CAUSAL //' -e 's/ B=[0-9]* H=768//' \
    | cut -c1-200 | head -60
}
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; s=$(date +%s)
  timeout ${TEST_S:-60} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*PackedMonarchBwdGpuTest}" \
    --disable-ansi-colors > "$out/tests.txt" 2>&1
  echo "tests exit $? ($(( $(date +%s) - s )) s)"
  grep -E "tests (successful|failed|aborted|skipped|found)|✘" "$out/tests.txt" | cut -c1-300 | head -30
  grep -E "M=16384.*(tuned|g1 fused)|M=32768.*g1 fused|differs|differing|Exception|expected" "$out/tests.txt" | cut -c1-300 \
    | head -${TEST_LINES:-30}
fi
if [ "${NCU:-1}" != 0 ]; then
  echo "== ncu (${NCU_CASES:-causal:4096,causal:8192,causal:16384}; ${NCU_ORDER:-pm/only=bwd/val=1,fb/val=1})"; s=$(date +%s)
  JAVA_OPTS="-Dlongconv4j.bench.pmb.order=${NCU_ORDER:-pm/only=bwd/val=1,fb/val=1} \
-Dlongconv4j.bench.pmb.cases=${NCU_CASES:-causal:4096,causal:8192,causal:16384} ${BOPTS:-}" timeout ${NCU_S:-90} \
    ncu --clock-control none --section SpeedOfLight --section Occupancy --section LaunchStats --section ComputeWorkloadAnalysis \
    --section MemoryWorkloadAnalysis --section InstructionStats --section WarpStateStats --section SchedulerStats \
    -k regex:"${NCU_K:-^(lpmb2?_bwd|fb_conv|fb_bwd|fbk_|fb32_|fbog_)}" --launch-count ${NCU_N:-12} \
    $DEV/run-java ai.longconv4j.examples.bench.PackedMonarchBwdBench "$out/ncu-bench.csv" ${NCU_B:-16} 768 > "$out/ncu.txt" 2>&1
  echo "ncu exit $? ($(( $(date +%s) - s )) s)"
  grep -E "^  [a-z_0-9]+.*\(|float64|Duration|Throughput|Registers Per|Achieved Occupancy|Theoretical Occupancy|Block Limit|Issue Slots Busy|Issued Warp|No Eligible|Warp Cycles Per Issued|Executed Ipc A|==PROF==|==ERR|rror" \
    "$out/ncu.txt" | cut -c1-170 | head -${NCU_LINES:-150}
  rm -f "$out/ncu-bench.csv"
fi
[ "${BENCH:-1}" != 0 ] && bench bench 64 "${CASES:-causal:16384}" "${ORDER:-fb,pm/only=bwd,pm/tuned=0/only=bwd,pm/only=bwd,fb}"
[ "${BENCH2:-0}" != 0 ] && bench bench2 ${B2:-32} "${CASES2:-causal:32768}" "${ORDER2:-fb,pm/only=bwd,pm/only=bwd,fb}"
if [ "${SASS:-0}" != 0 ]; then
  echo "== sass"; cob=$(command -v cuobjdump || ls /usr/local/cuda*/bin/cuobjdump 2>/dev/null | head -1); echo "cuobjdump: ${cob:-none}"
  . $DEV/unpack
  unzip -p $(ls $DEV/cp/longconv4j-kernels-cuda-*.jar | head -1) ai/longconv4j/cuda/learned_pmb2.fatbin > /tmp/pmb2.fatbin
  [ -n "$cob" ] && "$cob" -sass -arch sm_90a /tmp/pmb2.fatbin > /tmp/pmb2.sass 2>&1
  grep -E "Function :" /tmp/pmb2.sass | head -40; xz -T4 -6 < /tmp/pmb2.sass > "$out/sass-learned_pmb2-sm90a.txt.xz"
fi
tar -C "$out" -cf - $(cd "$out" && ls tests.txt ncu.txt bench.txt bench2.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out/ncu.txt" "$out/bench.txt" "$out/bench2.txt"
ls -la "$out"; echo "total $(( $(date +%s) - t0 )) s"
