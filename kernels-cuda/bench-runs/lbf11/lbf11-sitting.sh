#!/usr/bin/env bash
# Session 11, helper lbf11: the learned FORWARD at L = 1K, pwt (BENCH-RESULTS.md round 19-lbf11); lbf11-sitting.sh with pwt's lines. lbf6-sitting.sh's
# pattern, ONE command:
#   the learned GPU tests (TESTCLS, default every Learned* class), TESTS=0 skips them, DEFOPTS: a second run with those
#   properties (TESTCLS2);
#   LearnedBench 64 768 $LS with SCHEMES (FlashButterfly's bf16 forward, fwd+bwd, bwd first, same process; each learned
#   forward validated against float64 before it is timed; 200 ms warm-up per row, medians), then MIRROR=1 reversed;
#   NCU=1: ncu --set full of the lbt_forward kernels of `LearnedBench profile L OPT` for each "L:OPT" in NCU_RUNS
#   (default "512:wgmma 1024:wgmma": the defaults without, then with wgmmaRows), summary + SASS op counts kept.
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/lbf11 --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/lbf11/lbf11-sitting.sh --drop '...' (COMMANDS.txt)
# Device (carry [".device/lbf11"]): DEV=.device/lbf11 bash .device/lbf11/lbf11-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/lbf11-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/lbf11}
LS=${LS:-512,1024}
SCHEMES=${SCHEMES:-default,nowg}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-90} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*Learned.*}" --disable-ansi-colors \
    > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests.txt" | head -30
  grep -E "^(pwd|pwo|pwt) " "$out/tests.txt" | head -60
  if [ -n "${DEFOPTS:-}" ]; then
    JAVA_OPTS="$DEFOPTS" timeout ${TEST_S:-90} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS2:-.*Learned.*}" \
      --disable-ansi-colors > "$out/tests-def.txt" 2>&1
    echo "tests with $DEFOPTS exit $?"; grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests-def.txt" | head -20
  fi
fi
if [ "${BENCH:-1}" != 0 ]; then
echo "== java bench ($SCHEMES)"; date -u
JAVA_OPTS="-Dlongconv4j.bench.learned.schemes=$SCHEMES" timeout ${JAVA_S:-90} $DEV/run-java ai.longconv4j.examples.bench.LearnedBench \
  "$out/bench.csv" 64 768 "$LS" > "$out/bench.txt" 2>&1; echo "java bench exit $?"
grep -E "learned|flashbutterfly|Exception" "$out/bench.txt" | grep -v '^[a-z].*,' | head -60
if [ "${MIRROR:-1}" != 0 ]; then
  rev=$(echo "$SCHEMES" | tr ',' '\n' | tac | paste -sd,)
  echo "== java bench, mirrored ($rev)"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.learned.schemes=$rev" timeout ${JAVA_S:-90} $DEV/run-java ai.longconv4j.examples.bench.LearnedBench \
    "$out/bench2.csv" 64 768 "$LS" > "$out/bench2.txt" 2>&1; echo "java bench 2 exit $?"
  grep -E "learned|flashbutterfly|Exception" "$out/bench2.txt" | grep -v '^[a-z].*,' | head -60
fi
fi
if [ "${NCU:-1}" != 0 ]; then
  NCUB=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  for run in ${NCU_RUNS:-512:wgmma 1024:wgmma}; do
    L=${run%%:*}; opt=${run#*:}; tag="ncu-$L-$opt"
    echo "== ncu $run"; date -u
    timeout ${NCU_S:-70} "$NCUB" --clock-control none --set full --import-source yes \
      --kernel-name regex:'^lbt_forward' --launch-count 4 -f -o "$out/lbt" \
      $DEV/run-java ai.longconv4j.examples.bench.LearnedBench profile $L $opt > "$out/$tag-run.txt" 2>&1
    echo "ncu exit $?"
    if [ -f "$out/lbt.ncu-rep" ]; then
      "$NCUB" -i "$out/lbt.ncu-rep" --page details --print-details all > "$out/$tag-details.txt" 2>&1
      "$NCUB" -i "$out/lbt.ncu-rep" --page source --csv --print-source sass > "$out/$tag-sass.csv" 2>&1 || true
      grep -E "^  lbt_|Duration|Registers Per|Achieved Occupancy|Warp Cycles Per Issued|Issue Slots Busy|Executed Ipc A|DRAM Throughput|Executed Instructions  |Stall" "$out/$tag-details.txt" | head -120 > "$out/$tag-summary.txt"
      cat "$out/$tag-summary.txt" | grep -E "^  lbt_|Duration|Executed Instructions  |Executed Ipc A"
      rm -f "$out/lbt.ncu-rep"
    fi
  done
  (cd "$out" && ls ncu-*-details.txt ncu-*-sass.csv 2>/dev/null | tar -cf - -T - | xz -T8 -6 > ncu.tar.xz; rm -f ncu-*-details.txt ncu-*-sass.csv)
fi
tar -C "$out" -cf - $(cd "$out" && ls tests.txt tests-def.txt bench.txt bench2.txt ncu-*-run.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out/tests-def.txt" "$out"/ncu-*-run.txt "$out/bench2.csv" "$out/bench.txt" "$out/bench2.txt"
(cd "$out" && cat ncu-*-summary.txt > ncu-summary.txt 2>/dev/null; rm -f ncu-*-summary.txt)
ls -la "$out"; date -u
