#!/usr/bin/env bash
# Session 20, coordinator: the three-pass backward's segmented reduce (lp3g_rseg / lp3g_rfin, twin -Dlongconv4j.p3.reduce=serial)
# and the outer Grams' twiddle table (lp3g_ogramt*, twin -Dlongconv4j.p3.ogram=sincos); BENCH-RESULTS.md round 33-*.
# ONE command per sitting; groups with their own timeouts, summaries streamed to stdout, logs packed as they finish:
#   p3   PackedThreePassBwdGpuTest + LearnedJFactorOpGpuTest (the twins' checks are in duIsTheInputGradBitForBit)
#   plan PackedThreePassBench 16 768, path p3, the backward under VARIANTS (both orders in one process) with phases
#   op   LearnedOpBench per "B:L" of OPCASES, engines monarch,packed,packed,monarch (FB's op in the same process)
#   pm / misc (PM=1) the other learned GPU classes (regression: their kernels are unchanged)
# Stage: tools/stage-device.sh --out .device/s20 --sm 90 --lean-jre --add kernels-cuda/bench-runs/s20/s20-sitting.sh --drop '<COMMANDS.txt>'
# Device (carry [".device/s20"]): DEV=.device/s20 bash .device/s20/s20-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/s20}; mkdir -p "$out"
DEV=${DEV:-.device/s20}
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
  grep -E "reduce seg vs serial|default vs (sincos|table)|p3tc split dBlocks" "$raw/$1.txt" | cut -c1-260 | head -16
  pack
}
[ "${TESTS:-1}" != 0 ] && group p3 ${TEST_S:-100} '.*(PackedThreePassBwdGpuTest|LearnedJFactorOpGpuTest)'
[ -n "${EXTRA:-}" ] && group extra ${EXTRA_S:-120} "$EXTRA"   # EXTRA: a class-name regex of further GPU test classes
if [ "${PLAN:-1}" != 0 ]; then
  echo "== plan bench (${CASES:-65536:16,262144:4}; ${VARIANTS:-default;reduce=serial;ogram=sincos})"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.p3.order=p3 -Dlongconv4j.bench.p3.cases=${CASES:-65536:16,262144:4} -Dlongconv4j.bench.p3.bwd=true -Dlongconv4j.bench.p3.bwd.variants=${VARIANTS:-default;reduce=serial;ogram=sincos}" \
    timeout ${PLAN_S:-170} $DEV/run-java ai.longconv4j.examples.bench.PackedThreePassBench "$raw/plan.csv" 16 768 > "$raw/plan.txt" 2>&1
  echo "plan bench exit $?"; grep -E " ms |float64|phases|kept|Exception|rror" "$raw/plan.txt" | grep -v "^\s*at " | head -40 | cut -c1-360
  pack
fi
if [ "${OPBENCH:-1}" != 0 ]; then
  for c in ${OPCASES:-16:65536 4:262144}; do
    b=${c%%:*}; l=${c#*:}
    echo "== op bench B=$b L=$l"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.op.order=${OPORDER:-monarch,packed,packed,monarch} -Dlongconv4j.bench.op.groups=1 -Dlongconv4j.bench.op.reps=${OPREPS:-10} ${OPOPTS:-}" \
      timeout ${OP_S:-80} $DEV/run-java ai.longconv4j.examples.bench.LearnedOpBench "$raw/op-$l.csv" "$b" 768 "$l" > "$raw/op-$l.txt" 2>&1
    echo "op bench exit $?"; grep -E " ms |peak|Exception|rror|p3 op backward3|p3tc bwd phases" "$raw/op-$l.txt" | grep -v "^\s*at " | head -20 | cut -c1-220
    pack
  done
fi
if [ "${PM:-1}" != 0 ]; then
  group pm ${G1_S:-45} '.*PackedMonarch(Gpu|OuterGpu)Test'
  group misc ${G4_S:-45} '.*(PackedMonarchBwdGpuTest|OpRouteGpuTest|FlashOpGpuTest)'
fi
date -u; rm -rf "$out/r"; ls -la "$out"
