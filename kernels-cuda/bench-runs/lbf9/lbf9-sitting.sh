#!/usr/bin/env bash
# Session 11, helper lbf9: the learned backward with the dGa / dFa accumulators in registers (pdcg1r,
# LearnedButterflyConv.registerGrams, -Dlongconv4j.learned.reggram) and the dFb / dGb Grams with 3 or 4 cp.async stages (gramStages, -Dlongconv4j.learned.gramstages)
# against the current route, FlashButterfly's fwd+bwd in
# the same process (BENCH-RESULTS.md round 17-lbf9; a copy of bench-runs/lbf8/lbf8-sitting.sh with its defaults changed and a second ncu length). ONE command (lbf6-sitting.sh's pattern):
#   the learned GPU tests (TESTCLS, default every Learned* class incl. LearnedChainGramGpuTest), TESTS=0 skips them,
#   DEFOPTS: a second run with those properties (TESTCLS2);
#   LearnedBench 64 768 $LS with SCHEMES (FlashButterfly's bf16 forward, fwd+bwd and bwd first, same process; each
#   learned forward validated against float64 before it is timed; 200 ms warm-up per row, medians), then MIRROR=1 the
#   schemes in reverse order;
#   NCU=1: ncu (sections NCU_SECTIONS, default SpeedOfLight + LaunchStats) of every lbt_ kernel of one forward and one
#   backward each without, then with registerGrams + gramStages(3) (LearnedBench $PROFILE, default "profile 1024 reggram"; NCU_LS2: more lengths).
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/lbf9 --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/lbf9/lbf9-sitting.sh --drop '...' (COMMANDS.txt)
# Device (carry [".device/lbf9"]): DEV=.device/lbf9 bash .device/lbf9/lbf9-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/lbf9-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/lbf9}
LS=${LS:-256,512,1024}
SCHEMES=${SCHEMES:-default,default:rg,default:s3,default:s4,default:rg:s3}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-90} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*Learned.*}" --disable-ansi-colors \
    > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests.txt" | head -30
  grep -E "^(chainGrams|registerGrams) " "$out/tests.txt" | head -60
  if [ -n "${DEFOPTS:-}" ]; then
    JAVA_OPTS="$DEFOPTS" timeout ${TEST_S:-90} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS2:-.*Learned.*}" \
      --disable-ansi-colors > "$out/tests-def.txt" 2>&1
    echo "tests with $DEFOPTS exit $?"; grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests-def.txt" | head -20
  fi
fi
if [ "${MMA:-0}" != 0 ]; then echo "== mma / wgmma rate"; date -u
timeout ${MMA_S:-30} $DEV/run-java ai.longconv4j.examples.bench.LearnedBench mma 4 > "$out/mma.txt" 2>&1; echo "mma exit $?"
grep -E "rate|Exception|rror" "$out/mma.txt" | head; fi
if [ "${BENCH:-1}" != 0 ]; then
echo "== java bench ($SCHEMES)"; date -u
JAVA_OPTS="-Dlongconv4j.bench.learned.schemes=$SCHEMES" timeout ${JAVA_S:-90} $DEV/run-java ai.longconv4j.examples.bench.LearnedBench \
  "$out/bench.csv" 64 768 "$LS" > "$out/bench.txt" 2>&1; echo "java bench exit $?"
grep -E "learned|flashbutterfly|Exception" "$out/bench.txt" | grep -v '^[a-z].*,' | head -60
if [ "${MIRROR:-1}" != 0 ]; then
  rev=$(echo "$SCHEMES" | tr ',' '\n' | tac | paste -sd,)
  echo "== java bench, mirrored ($rev)"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.learned.schemes=$rev" timeout ${JAVA_S:-90} $DEV/run-java ai.longconv4j.examples.bench.LearnedBench \
    "$out/bench2.csv" 64 768 "${LS2:-$LS}" > "$out/bench2.txt" 2>&1; echo "java bench 2 exit $?"
  grep -E "learned|flashbutterfly|Exception" "$out/bench2.txt" | grep -v '^[a-z].*,' | head -60
fi
fi
if [ "${NCU:-1}" != 0 ]; then
  echo "== ncu"; date -u
  NCUB=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  sec=""; for x in ${NCU_SECTIONS:-SpeedOfLight LaunchStats}; do sec="$sec --section $x"; done
  timeout ${NCU_S:-70} "$NCUB" --clock-control none $sec \
    --kernel-name regex:'^lbt_' --launch-count ${NCU_N:-40} -f -o "$out/lbt" \
    $DEV/run-java ai.longconv4j.examples.bench.LearnedBench ${PROFILE:-profile 1024 reggram} > "$out/ncu-run.txt" 2>&1
  echo "ncu exit $?"
  for L2 in ${NCU_LS2:-}; do   # the same at other lengths: durations only, into ncu-extra.txt
    timeout ${NCU_S:-70} "$NCUB" --clock-control none $sec --kernel-name regex:'^lbt_' --launch-count ${NCU_N:-40} -f -o "$out/lbt$L2" \
      $DEV/run-java ai.longconv4j.examples.bench.LearnedBench profile $L2 reggram > "$out/ncu$L2-run.txt" 2>&1
    echo "ncu $L2 exit $?"
    if [ -f "$out/lbt$L2.ncu-rep" ]; then
      echo "== L=$L2" >> "$out/ncu-extra.txt"
      "$NCUB" -i "$out/lbt$L2.ncu-rep" --page details --print-details all | grep -E "^  lbt_|Duration|DRAM Throughput" | paste - - - >> "$out/ncu-extra.txt"
      rm -f "$out/lbt$L2.ncu-rep"
    fi
  done
  [ -f "$out/ncu-extra.txt" ] && cat "$out/ncu-extra.txt"
  if [ -f "$out/lbt.ncu-rep" ]; then
    "$NCUB" -i "$out/lbt.ncu-rep" --page details --print-details all > "$out/ncu-details.txt" 2>&1
    "$NCUB" -i "$out/lbt.ncu-rep" --page raw --csv --metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed > "$out/ncu-raw.csv" 2>&1 || true
    grep -E "^  lbt_|Duration|Registers Per|Compute \(SM\) Throughput|Memory Throughput|DRAM Throughput|Dynamic Shared" "$out/ncu-details.txt" | head -250 > "$out/ncu-summary.txt"
    cat "$out/ncu-summary.txt" | head -200
    tar -C "$out" -cf - ncu-details.txt ncu-raw.csv | xz -T8 -6 > "$out/ncu.tar.xz"; rm -f "$out/lbt.ncu-rep" "$out/ncu-raw.csv" "$out/ncu-details.txt"
  fi
fi
tar -C "$out" -cf - $(cd "$out" && ls tests.txt tests-def.txt bench.txt bench2.txt mma.txt ncu*-run.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out/tests-def.txt" "$out"/ncu*-run.txt "$out/bench2.csv" "$out/bench.txt" "$out/bench2.txt" "$out/mma.txt"
ls -la "$out"; date -u
