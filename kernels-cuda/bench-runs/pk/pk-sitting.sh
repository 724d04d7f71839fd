#!/usr/bin/env bash
# Session 12, helper pkgpu: the packed learned forward (BENCH-RESULTS.md round 20-pk). lbf11-sitting.sh's pattern, ONE command:
#   the GPU tests (TESTCLS, default PackedLearnedGpuTest), TESTS=0 skips them;
#   LearnedBench 64 768 $LS with SCHEMES (FlashButterfly's bf16 forward first, same process; every forward validated against
#   float64 before it is timed; warm-up, medians of 40 by CUDA events), then MIRROR=1 the reversed scheme list;
#   NCU=1: ncu --set full of `LearnedBench profile L packed` (the learned default, packed r1w16, r2w12) for L in NCU_LS.
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/pk --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/pk/pk-sitting.sh --drop '...' (COMMANDS.txt)
# Device (carry [".device/pk"]): DEV=.device/pk bash .device/pk/pk-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/pk-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/pk}
LS=${LS:-256,512,1024}
SCHEMES=${SCHEMES:-default:fwd,packed,packed:r2}
BOPTS=${BOPTS:--Dlongconv4j.bench.learned.fbbwd=false}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-150} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*PackedLearnedGpuTest}" --disable-ansi-colors \
    > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped|found)|✘" "$out/tests.txt" | head -40
  grep -E "rel err|differ" "$out/tests.txt" | sort -k1,1 | awk '{print}' | head -${SHOW:-20}
  grep -E "rel err" "$out/tests.txt" | awk '{for(i=1;i<=NF;i++) if($i=="err") print $(i+1)}' | sort -g | tail -1 | sed 's/^/max rel err seen: /'
fi
if [ "${BENCH:-1}" != 0 ]; then
  echo "== java bench ($SCHEMES)"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.learned.schemes=$SCHEMES $BOPTS" timeout ${JAVA_S:-90} $DEV/run-java ai.longconv4j.examples.bench.LearnedBench \
    "$out/bench.csv" 64 768 "$LS" > "$out/bench.txt" 2>&1; echo "java bench exit $?"
  grep -E "learned|flashbutterfly|Exception|skipped" "$out/bench.txt" | grep -v '^[a-z].*,' | head -40
  if [ "${MIRROR:-1}" != 0 ]; then
    rev=$(echo "$SCHEMES" | tr ',' '\n' | tac | paste -sd,)
    echo "== java bench, mirrored ($rev)"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.learned.schemes=$rev $BOPTS" timeout ${JAVA_S:-90} $DEV/run-java ai.longconv4j.examples.bench.LearnedBench \
      "$out/bench2.csv" 64 768 "$LS" > "$out/bench2.txt" 2>&1; echo "java bench 2 exit $?"
    grep -E "learned|flashbutterfly|Exception|skipped" "$out/bench2.txt" | grep -v '^[a-z].*,' | head -40
  fi
fi
if [ "${NCU:-0}" != 0 ]; then
  NCUB=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  for L in ${NCU_LS:-1024}; do
    echo "== ncu L=$L (LearnedBench profile $L packed: the learned default, packed r1w16, packed r2w12)"; date -u
    timeout ${NCU_S:-60} "$NCUB" --clock-control none --set full --kernel-name regex:'^(lpk_forward|lbt_forward)' --launch-count 3 \
      -f -o "$out/k" $DEV/run-java ai.longconv4j.examples.bench.LearnedBench profile $L packed > "$out/ncu-$L-run.txt" 2>&1
    echo "ncu exit $?"
    if [ -f "$out/k.ncu-rep" ]; then
      "$NCUB" -i "$out/k.ncu-rep" --page details --print-details all > "$out/ncu-$L-details.txt" 2>&1
      grep -E "^  [a-z_0-9]+.*\(|Duration|Registers Per|Achieved Occupancy|Warp Cycles Per Issued|Issue Slots Busy|Executed Ipc A|Executed Instructions  |Stall|Memory Throughput|DRAM Throughput" "$out/ncu-$L-details.txt" | head -300 > "$out/ncu-$L-summary.txt"
      grep -E "^  [a-z_0-9]+.*\(|Duration|Executed Instructions  |Executed Ipc A|Warp Cycles Per Issued" "$out/ncu-$L-summary.txt"
      rm -f "$out/k.ncu-rep"
    fi
  done
  (cd "$out" && ls ncu-*-details.txt 2>/dev/null | tar -cf - -T - | xz -T8 -6 > ncu.tar.xz; rm -f ncu-*-details.txt; cat ncu-*-summary.txt > ncu-summary.txt 2>/dev/null; rm -f ncu-*-summary.txt)
fi
tar -C "$out" -cf - $(cd "$out" && ls tests.txt bench.txt bench2.txt ncu-*-run.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out/bench2.csv" "$out/bench.txt" "$out/bench2.txt" "$out"/ncu-*-run.txt
ls -la "$out"; date -u
