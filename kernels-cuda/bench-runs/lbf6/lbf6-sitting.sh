#!/usr/bin/env bash
# Session 10, helper lbf6: pw (learned_tc_wg.cuh: the chained pair kernel with steps 2 and 3 on Hopper's wgmma, N1 = 32,
# i.e. L = 512 (32 x 32) and 1K (32 x 64) causal; LearnedButterflyConv.wgmmaRows, -Dlongconv4j.learned.wgmma) against
# the defaults (pc2p at 512, pc at 1K), and the mma.sync / wgmma rates for the floor (BENCH-RESULTS.md round 14-lbf6).
# ONE command (lbf5-sitting.sh's pattern):
#   the learned GPU tests (TESTCLS, default every Learned* class; LearnedWgmmaGpuTest: pw vs pc / pc2p and lib), TESTS=0
#   skips them, DEFOPTS: a second run with those properties;
#   LearnedBench mma (MMA=0 skips): mma.sync m16n8k16 and wgmma m64n64k16 rates, bf16 / fp16;
#   LearnedBench 64 768 $LS with SCHEMES (FlashButterfly's bf16 forward first, same process; each forward validated
#   against float64 before it is timed; 200 ms warm-up per row, medians), then MIRROR=1 the schemes in reverse order;
#   NCU=1: ncu --set full of the forward, the defaults then pw (LearnedBench $PROFILE, default "profile 512 wgmma").
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/lbf6 --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/lbf6/lbf6-sitting.sh --drop '...' (COMMANDS.txt)
# Device (carry [".device/lbf6"]): DEV=.device/lbf6 bash .device/lbf6/lbf6-sitting.sh "$OUT/s1"
# Closing call from merged main (stage at .device/final; ~40 s):
#   DEV=.device/final MMA=0 NCU=0 SCHEMES=default,nowg LS=256,512,1024 TEST_S=60 JAVA_S=30 bash kernels-cuda/bench-runs/lbf6/lbf6-sitting.sh "$OUT/lbf6"
set -u
out=${1:-/tmp/lbf6-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/lbf6}
LS=${LS:-512,1024}
SCHEMES=${SCHEMES:-default,pw,pairc}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-90} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*Learned.*}" --disable-ansi-colors \
    > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests.txt" | head -30
  grep -E "^(pw|pc2p) " "$out/tests.txt" | head -60
  if [ -n "${DEFOPTS:-}" ]; then
    JAVA_OPTS="$DEFOPTS" timeout ${TEST_S:-90} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS2:-.*Learned.*}" \
      --disable-ansi-colors > "$out/tests-def.txt" 2>&1
    echo "tests with $DEFOPTS exit $?"; grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests-def.txt" | head -20
  fi
fi
if [ "${MMA:-1}" != 0 ]; then echo "== mma / wgmma rate"; date -u
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
  timeout ${NCU_S:-70} "$NCUB" --clock-control none --set full --import-source yes \
    --kernel-name regex:'^lbt_forward' --launch-count 4 -f -o "$out/lbt" \
    $DEV/run-java ai.longconv4j.examples.bench.LearnedBench ${PROFILE:-profile 512 wgmma} > "$out/ncu-run.txt" 2>&1
  echo "ncu exit $?"
  if [ -f "$out/lbt.ncu-rep" ]; then
    "$NCUB" -i "$out/lbt.ncu-rep" --page details --print-details all > "$out/ncu-details.txt" 2>&1
    "$NCUB" -i "$out/lbt.ncu-rep" --page source --csv --print-source sass > "$out/ncu-sass.csv" 2>&1 || true
    grep -E "^  lbt_|Duration|Registers Per|Achieved Occupancy|Compute \(SM\) Throughput|Memory Throughput|Warp Cycles Per Issued|Issue Slots Busy|Executed Ipc A|DRAM Throughput|Executed Instructions  |Shared Memory|L1/TEX Hit|Tensor|Stall" "$out/ncu-details.txt" | head -150 > "$out/ncu-summary.txt"
    cat "$out/ncu-summary.txt" | head -80
    tar -C "$out" -cf - ncu-details.txt ncu-sass.csv | xz -T8 -6 > "$out/ncu.tar.xz"; rm -f "$out/lbt.ncu-rep" "$out/ncu-sass.csv" "$out/ncu-details.txt"
  fi
fi
tar -C "$out" -cf - tests.txt tests-def.txt bench.txt bench2.txt mma.txt ncu-run.txt 2>/dev/null | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out/tests-def.txt" "$out/ncu-run.txt" "$out/bench2.csv" "$out/bench.txt" "$out/bench2.txt" "$out/mma.txt"
ls -la "$out"; date -u
