#!/usr/bin/env bash
# Session 22, coordinator: the one-pass M = 16384 / 32768 learned backwards (lib's {N1, 16, 16, 16}, N1 = 4 / 8) as three passes
# on the middles (PackedThreePass.innerOnly quad plans, learned_p3g.cu lp3g_outerq_* / lp3g_q3bmid* / lp3g_ogramq*; twin
# -Dlongconv4j.pk.inner=pmb, PackedMonarchBackward). BENCH-RESULTS.md round 35-s22.
# ONE command per sitting; groups with their own timeouts, summaries streamed to stdout, logs packed as they finish:
#   inner  PackedInnerBwdGpuTest, PackedMonarchBwdGpuTest, TensorBackendGpuTest (+ EXTRA classes)
#   p3     PackedThreePassBwdGpuTest + LearnedJFactorOpGpuTest (PackedThreePassBackward's three-pass route)
#   op     LearnedOpBench per "B:L" of OPCASES, engines $OPORDER (FB's op = monarch, in the same process)
#   ph     the default route's phases at B = 64 and L in PHLS (default 16384; -Dlongconv4j.p3.bwd.phases=true, 2 reps)
# Stage: tools/stage-device.sh --out .device/s22 --sm 90 --lean-jre --add kernels-cuda/bench-runs/s22/s22-sitting.sh --drop '<COMMANDS.txt>'
# Device (carry [".device/s22"]): DEV=.device/s22 bash .device/s22/s22-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/s22}; mkdir -p "$out"
DEV=${DEV:-.device/s22}
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
[ "${P3:-1}" != 0 ] && group p3 ${P3_S:-100} '.*(PackedThreePassBwdGpuTest|LearnedJFactorOpGpuTest)'
date -u; rm -rf "$out/r"; ls -la "$out"
