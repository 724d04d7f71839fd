#!/usr/bin/env bash
# Session 12, helper pkopt2: the packed 1K forward, second round (BENCH-RESULTS.md round 24-pkopt2); pkopt-sitting.sh with
#   the test switch JAVA_OPTS (-Dlongconv4j.pk.test.configs=pkopt2) and ncu of `LearnedBench profile L packedopt2`. pk-sitting.sh's pattern, ONE command:
#   the GPU tests (TESTCLS, default PackedLearnedGpuTest: every case runs r1w16 / r2w12 and their variants o1, o2, o3), TESTS=0 skips;
#   LearnedBench 64 768 $LS with SCHEMES, then (MIRROR=1) the reversed list in a second process (FlashButterfly's bf16 forward
#   first in each; every forward validated against float64 before it is timed; warm-up, medians of 40 by CUDA events);
#   NCU=1: ncu --set full (+ source page, SASS with executed counts) of `LearnedBench profile L packedopt` for L in NCU_LS.
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/pkopt2 --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/pkopt2/pkopt2-sitting.sh --drop '...' (COMMANDS.txt)
# Device (carry [".device/pkopt2"]): DEV=.device/pkopt2 bash .device/pkopt2/pkopt2-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/pkopt2-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/pkopt2}
LS=${LS:-256,512,1024}
SCHEMES=${SCHEMES:-default:fwd,packed,packed:o1,packed:o2,packed:o3,packed:r2:o3}
BOPTS=${BOPTS:--Dlongconv4j.bench.learned.fbbwd=false}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-150} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*PackedLearnedGpuTest}" --disable-ansi-colors \
    > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped|found)|✘" "$out/tests.txt" | head -40
  grep -E "o[0-9]+ vs r1w16" "$out/tests.txt" | awk '{n+=$(NF-5); d+=$NF+0} END {print "variant comparisons:", NR, "lines"}'
  grep -E "o(3|8|11|15) vs r1w16" "$out/tests.txt" | head -${SHOW:-12}
  grep -E "o2 vs r1w16" "$out/tests.txt" | awk '{s+=$(NF-6)} END {print "o2 lines", NR, "differing values summed", s+0}'
  grep -E "rel err" "$out/tests.txt" | awk '{for(i=1;i<=NF;i++) if($i=="err") print $(i+1)}' | sort -g | tail -1 | sed 's/^/max rel err seen: /'
fi
if [ "${BENCH:-1}" != 0 ]; then
  echo "== java bench ($SCHEMES)"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.learned.schemes=$SCHEMES $BOPTS" timeout ${JAVA_S:-90} $DEV/run-java ai.longconv4j.examples.bench.LearnedBench \
    "$out/bench.csv" 64 768 "$LS" > "$out/bench.txt" 2>&1; echo "java bench exit $?"
  grep -E "learned|flashbutterfly|Exception|skipped" "$out/bench.txt" | grep -v '^[a-z].*,' | head -60
  if [ "${MIRROR:-1}" != 0 ]; then
    rev=$(echo "$SCHEMES" | tr ',' '\n' | tac | paste -sd,)
    echo "== java bench, mirrored ($rev)"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.learned.schemes=$rev $BOPTS" timeout ${JAVA_S:-90} $DEV/run-java ai.longconv4j.examples.bench.LearnedBench \
      "$out/bench2.csv" 64 768 "$LS" > "$out/bench2.txt" 2>&1; echo "java bench 2 exit $?"
    grep -E "learned|flashbutterfly|Exception|skipped" "$out/bench2.txt" | grep -v '^[a-z].*,' | head -60
  fi
fi
if [ "${NCU:-0}" != 0 ]; then
  NCUB=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  for L in ${NCU_LS:-1024}; do
    echo "== ncu L=$L (LearnedBench profile $L ${NCU_WHAT:-packedopt2}: r2w12 o3, o11)"; date -u
    timeout ${NCU_S:-90} "$NCUB" --clock-control none --set full --import-source yes --kernel-name regex:'^lpk_forward' --launch-count 6 \
      -f -o "$out/k" $DEV/run-java ai.longconv4j.examples.bench.LearnedBench profile $L ${NCU_WHAT:-packedopt2} > "$out/ncu-$L-run.txt" 2>&1
    echo "ncu exit $?"
    if [ -f "$out/k.ncu-rep" ]; then
      "$NCUB" -i "$out/k.ncu-rep" --page details --print-details all > "$out/ncu-$L-details.txt" 2>&1
      "$NCUB" -i "$out/k.ncu-rep" --page source --csv --print-source sass > "$out/ncu-$L-sass.csv" 2>&1 || true
      grep -E "^  [a-z_0-9]+.*\(|Duration|Registers Per|Achieved Occupancy|Warp Cycles Per Issued|Issue Slots Busy|Executed Ipc A|Executed Instructions  |Stall|Memory Throughput|DRAM Throughput" "$out/ncu-$L-details.txt" | head -400 > "$out/ncu-$L-summary.txt"
      grep -E "^  [a-z_0-9]+.*\(|Duration|Executed Instructions  |Executed Ipc A|Warp Cycles Per Issued" "$out/ncu-$L-summary.txt"
      rm -f "$out/k.ncu-rep"
    fi
  done
  (cd "$out" && ls ncu-*-details.txt ncu-*-sass.csv 2>/dev/null | tar -cf - -T - | xz -T8 -6 > ncu.tar.xz; rm -f ncu-*-details.txt ncu-*-sass.csv; cat ncu-*-summary.txt > ncu-summary.txt 2>/dev/null; rm -f ncu-*-summary.txt)
fi
tar -C "$out" -cf - $(cd "$out" && ls tests.txt bench.txt bench2.txt ncu-*-run.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out/bench2.csv" "$out/bench.txt" "$out/bench2.txt" "$out"/ncu-*-run.txt
ls -la "$out"; date -u
