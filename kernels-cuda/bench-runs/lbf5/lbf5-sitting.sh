#!/usr/bin/env bash
# Session 10, helper lbf5: pc2 (learned_tc_chain2.cuh: the chained pair kernel on two rows of a channel at once, N = 1024 =
# 32 x 32, i.e. L = 512 causal; LearnedButterflyConv.batchRows, -Dlongconv4j.learned.rows2) vs pc, its slow twin, and the
# mma.sync rate for the floor (BENCH-RESULTS.md round 13-lbf5). ONE command:
#   the learned GPU tests (LearnedBatchRowsGpuTest: pc2 vs pc and lib on awkward shapes; LearnedTensorCoreGpuTest's
#   pairc2 rows; the other learned classes unchanged), TESTS=0 skips them;
#   LearnedBench mma (the mma.sync m16n8k16 rate, bf16 / fp16);
#   LearnedBench 64 768 $LS with SCHEMES (FlashButterfly's bf16 forward first, same process; each forward validated
#   against float64 before it is timed; 200 ms warm-up per row, medians), then MIRROR=1 the schemes in reverse order;
#   NCU=1: ncu --set full of the 512 forward, pc then pc2 (LearnedBench profile 512 rows2).
# Stage (from the worktree; see /work/prompts/lbf5.md): tools/stage-device.sh --out /work/main/.device/lbf5 --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/lbf5/lbf5-sitting.sh --drop '...'
# Device (carry [".device/lbf5"]): DEV=.device/lbf5 bash .device/lbf5/lbf5-sitting.sh "$OUT/s1"  (sittings: COMMANDS.txt)
# MMA=0 skips the rate, NCU=0 the profile, MIRROR=0 the reversed bench, TESTS=0 the tests; DEFOPTS: a second test run
# with those properties; LS2: the reversed bench's lengths; SCHEMES: LearnedBench's (scheme[:gN][:aN][:p][:fwd]).
# Closing call from merged main (stage at .device/final; ~40 s):
#   DEV=.device/final MMA=0 NCU=0 SCHEMES=default,old LS2=256,512,1024 TEST_S=45 JAVA_S=30 bash kernels-cuda/bench-runs/lbf5/lbf5-sitting.sh "$OUT/lbf5"
set -u
out=${1:-/tmp/lbf5-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/lbf5}
LS=${LS:-256,512,1024}
SCHEMES=${SCHEMES:-default,pairc2,pairc2p,pairc2w12,default:g1:fwd,pairc2:g1:fwd,default:g4:fwd,pairc2:g4:fwd}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-70} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*Learned.*}" --disable-ansi-colors \
    > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests.txt" | head -30
  grep -E "^pc2 " "$out/tests.txt" | head -30
  grep -E "^pcp |^pc2p " "$out/tests.txt" | head -40
  if [ -n "${DEFOPTS:-}" ]; then   # the learned GPU classes again with candidate defaults (properties)
    JAVA_OPTS="$DEFOPTS" timeout ${TEST_S:-70} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*Learned.*}" \
      --disable-ansi-colors > "$out/tests-def.txt" 2>&1
    echo "tests with $DEFOPTS exit $?"; grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests-def.txt" | head -20
  fi
  grep -E "forward rel err vs current kernel" "$out/tests.txt" | awk '{gsub(",", "", $0); s=$1; c=$(NF-3); l=$NF;
    if (!(s in mc) || c > mc[s]) mc[s] = c; if (!(s in ml) || l > ml[s]) ml[s] = l; n[s]++}
    END {for (s in n) printf "%-7s %3d cases: max rel err vs current kernel %s, vs lib %s\n", s, n[s], mc[s], ml[s]}'
fi
if [ "${MMA:-1}" != 0 ]; then echo "== mma rate"; date -u
timeout ${MMA_S:-30} $DEV/run-java ai.longconv4j.examples.bench.LearnedBench mma 4 > "$out/mma.txt" 2>&1; echo "mma exit $?"
cat "$out/mma.txt" | grep -E "rate|Exception" | head; fi
echo "== java bench ($SCHEMES)"; date -u
JAVA_OPTS="-Dlongconv4j.bench.learned.schemes=$SCHEMES" timeout ${JAVA_S:-90} $DEV/run-java ai.longconv4j.examples.bench.LearnedBench \
  "$out/bench.csv" 64 768 "$LS" > "$out/bench.txt" 2>&1; echo "java bench exit $?"
grep -E "learned|flashbutterfly" "$out/bench.txt" | grep -v '^[a-z].*,' | head -60
if [ "${MIRROR:-1}" != 0 ]; then
  rev=$(echo "$SCHEMES" | tr ',' '\n' | tac | paste -sd,)
  echo "== java bench, mirrored ($rev)"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.learned.schemes=$rev" timeout ${JAVA_S:-90} $DEV/run-java ai.longconv4j.examples.bench.LearnedBench \
    "$out/bench2.csv" 64 768 "${LS2:-$LS}" > "$out/bench2.txt" 2>&1; echo "java bench 2 exit $?"
  grep -E "learned|flashbutterfly" "$out/bench2.txt" | grep -v '^[a-z].*,' | head -60
fi
if [ "${NCU:-1}" != 0 ]; then
  echo "== ncu"; date -u
  NCUB=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  timeout ${NCU_S:-70} "$NCUB" --clock-control none --set full --import-source yes \
    --kernel-name regex:'^lbt_forward' --launch-count 4 -f -o "$out/lbt-512" \
    $DEV/run-java ai.longconv4j.examples.bench.LearnedBench ${PROFILE:-profile 512 rows2} > "$out/ncu-run.txt" 2>&1
  echo "ncu exit $?"
  if [ -f "$out/lbt-512.ncu-rep" ]; then
    "$NCUB" -i "$out/lbt-512.ncu-rep" --page details --print-details all > "$out/ncu-details.txt" 2>&1
    "$NCUB" -i "$out/lbt-512.ncu-rep" --page source --csv --print-source sass > "$out/ncu-sass.csv" 2>&1 || true
    grep -E "^  lbt_|Duration|Registers Per|Achieved Occupancy|Compute \(SM\) Throughput|Memory Throughput|Warp Cycles Per Issued|Issue Slots Busy|Executed Ipc A|DRAM Throughput|Executed Instructions  |Shared Memory|L1/TEX Hit|Tensor|Stall" "$out/ncu-details.txt" | head -150 > "$out/ncu-summary.txt"
    cat "$out/ncu-summary.txt" | head -80
    tar -C "$out" -cf - ncu-details.txt ncu-sass.csv | xz -T8 -6 > "$out/ncu.tar.xz"; rm -f "$out/lbt-512.ncu-rep" "$out/ncu-sass.csv" "$out/ncu-details.txt"
  fi
fi
# at most 8 files come back: logs into one archive, the summaries stay plain
tar -C "$out" -cf - tests.txt tests-def.txt bench.txt bench2.txt mma.txt ncu-run.txt 2>/dev/null | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out/tests-def.txt" "$out/ncu-run.txt" "$out/bench2.csv"
ls -la "$out"; date -u
