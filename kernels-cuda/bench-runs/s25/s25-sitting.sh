#!/usr/bin/env bash
# Session 25, coordinator: the learned three-pass middles' 16-bit planes in pairs (learned_p3.cu LP3_PAIRS: SIDX 2 per 64,
# st_pair / ld_pair in the tiles, type-B loads / stores, row I/O and the Gram hooks' plane reads) and no twiddle table fill
# under TWP_SFU. BENCH-RESULTS.md round 37-s25. (s23-sitting.sh with the paths renamed.)
# ONE command per sitting; groups with their own timeouts, summaries streamed to stdout, logs packed as they finish:
#   inner  PackedInnerBwdGpuTest, PackedMonarchBwdGpuTest, TensorBackendGpuTest (+ EXTRA classes)
#   op     LearnedOpBench per "B:L" of OPCASES, engines $OPORDER (FB's op = monarch, in the same process)
#   ph     the default route's phases at B = 64 and L in PHLS (default 16384; -Dlongconv4j.p3.bwd.phases=true, 2 reps)
#   ncu    (NCU=1) Nsight Compute sections of the first NCU_N launches matching NCU_K at B = NCU_B, L = NCU_L (report + text)
#   p3     PackedThreePassBwdGpuTest + LearnedJFactorOpGpuTest (PackedThreePassBackward's three-pass route)
# Stage: tools/stage-device.sh --out .device/s25 --sm 90 --lean-jre --add kernels-cuda/bench-runs/s25/s25-sitting.sh --drop '<COMMANDS.txt>'
# Device (carry [".device/s25"]): DEV=.device/s25 bash .device/s25/s25-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/s25}; mkdir -p "$out"
DEV=${DEV:-.device/s25}
raw="$out/r/x"; mkdir -p "$raw"
pack() { tar -C "$raw" -cf - . | xz -T8 -6 > "$out/logs.tar.xz"; }
nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader; date -u
group() {   # name seconds classregex [JAVA_OPTS]
  local t0=$(date +%s)
  JAVA_OPTS="${4:-}" timeout $2 $DEV/run-tests --include-tag gpu --include-classname "$3" --disable-ansi-colors > "$raw/$1.txt" 2>&1
  echo "== $1 ($3 ${4:-}): exit $? after $(( $(date +%s) - t0 )) s"
  grep -E "tests (successful|failed|aborted|skipped|found)" "$raw/$1.txt" | tr -s ' ' | paste -sd' '
  grep -E "✘" "$raw/$1.txt" | cut -c1-220 | head -12
  grep -E "AssertionFailed|Exception:" "$raw/$1.txt" | grep -v ProviderNotFound | cut -c1-300 | head -8
  grep -E "^inner8k" "$raw/$1.txt" | cut -c1-330 | head -12
  pack
}
[ "${TESTS:-1}" != 0 ] && group inner ${TEST_S:-120} ".*(PackedInnerBwdGpuTest|PackedMonarchBwdGpuTest|TensorBackendGpuTest${EXTRA:+|$EXTRA})"
if [ "${OPBENCH:-1}" != 0 ]; then
  for c in ${OPCASES:-64:16384 32:32768}; do
    b=${c%%:*}; l=${c#*:}
    echo "== op bench B=$b L=$l"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.op.order=${OPORDER:-monarch,packed,packed-pmb,packed-pmb,packed,monarch} -Dlongconv4j.bench.op.groups=1 -Dlongconv4j.bench.op.reps=${OPREPS:-20} -Dlongconv4j.bench.op.plans=false ${OPOPTS:-}" \
      timeout ${OP_S:-90} $DEV/run-java ai.longconv4j.examples.bench.LearnedOpBench "$raw/op-$b-$l.csv" "$b" 768 "$l" > "$raw/op-$b-$l.txt" 2>&1
    echo "op bench exit $?"; grep -E " ms |peak|Exception|rror" "$raw/op-$b-$l.txt" | grep -v "^\s*at " | head -24 | cut -c1-220
    pack
  done
fi
if [ "${PHASES:-1}" != 0 ]; then
  # PHGY: outer Grams' grid rows to try (-Dlongconv4j.p3.ogram.gy; "-" the default)
  # PHOPT: extra -D options to try, one word each ("-" none)
  for l in ${PHLS:-16384}; do for gy in ${PHGY:--}; do for po in ${PHOPT:--}; do
    echo "== phases B=64 L=$l ogram.gy=$gy $po"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.op.order=packed -Dlongconv4j.bench.op.groups=1 -Dlongconv4j.bench.op.reps=2 -Dlongconv4j.bench.op.plans=false -Dlongconv4j.p3.bwd.phases=true $([ "$gy" != - ] && echo -Dlongconv4j.p3.ogram.gy=$gy) $([ "$po" != - ] && echo $po)" \
      timeout ${PH_S:-60} $DEV/run-java ai.longconv4j.examples.bench.LearnedOpBench "$raw/ph-$l-$gy.csv" 64 768 $l > "$raw/ph-$l-$gy-${po##*.}.txt" 2>&1
    echo "phases exit $?"; grep -E "p3 op backward3|p3tc bwd phases|Exception" "$raw/ph-$l-$gy-${po##*.}.txt" | tail -2 | cut -c1-400
    pack
  done; done; done
fi
if [ "${NCU:-0}" != 0 ]; then
  ncu=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  echo "== ncu ${ncu:-none} ${NCU_K:-lp3g_q3bmid} B=${NCU_B:-32} L=${NCU_L:-16384}"; date -u
  if [ -n "$ncu" ]; then
    . $DEV/unpack
    JAVA_OPTS="-Dlongconv4j.bench.op.order=packed -Dlongconv4j.bench.op.groups=1 -Dlongconv4j.bench.op.reps=1 -Dlongconv4j.bench.warmup.ms=0 -Dlongconv4j.bench.op.plans=false" \
      timeout ${NCU_S:-150} "$ncu" --target-processes all --kernel-name "regex:${NCU_K:-lp3g_q3bmid}" --launch-count ${NCU_N:-3} \
        --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats --section MemoryWorkloadAnalysis \
        --section ComputeWorkloadAnalysis --section SchedulerStats --section InstructionStats --section SourceCounters \
        -o "$out/ncu" $DEV/run-java ai.longconv4j.examples.bench.LearnedOpBench "$raw/ncu-op.csv" ${NCU_B:-32} 768 ${NCU_L:-16384} > "$raw/ncu-run.txt" 2>&1
    echo "ncu exit $?"; tail -3 "$raw/ncu-run.txt" | cut -c1-200
    "$ncu" -i "$out/ncu.ncu-rep" --page details > "$out/ncu-details.txt" 2>&1
    "$ncu" -i "$out/ncu.ncu-rep" --page source --csv --print-source sass > "$out/ncu-source.csv" 2>&1; xz -T8 -6 "$out/ncu-source.csv"
    grep -E "^  lp3g|Duration|Warp Cycles Per Issued|Stall|Mem Busy|Memory Throughput|Compute \(SM\)|Achieved Occupancy|Registers Per" "$out/ncu-details.txt" | head -60
  fi
  pack
fi
[ "${P3:-1}" != 0 ] && group p3 ${P3_S:-100} '.*(PackedThreePassBwdGpuTest|LearnedJFactorOpGpuTest)'
date -u; rm -rf "$out/r"; ls -la "$out"
