#!/usr/bin/env bash
# Session 18, coordinator's second (closing) call on merged main 2b99164+ (after close-s18.sh's every-class run timed out at
# 290 s with no results: the console prints its tree at the end). Groups of GPU test classes, each with its own timeout,
# in order of priority, summaries streamed to stdout; then helper swz's forward bench (fb / default / swz, both orders).
# Stage: tools/stage-device.sh --out .device/close18 --sm 90 --lean-jre --add kernels-cuda/bench-runs/close-s18/close2-s18.sh --drop '<as close-s18>'
# Device (carry [".device/close18"]): DEV=.device/close18 bash .device/close18/close2-s18.sh "$OUT/c"
set -u
out=${1:-/tmp/close2-s18}; mkdir -p "$out"
DEV=${DEV:-.device/close18}
raw="$out/r/x"; mkdir -p "$raw"
pack() { tar -C "$raw" -cf - . | xz -T8 -6 > "$out/logs.tar.xz"; }
nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader; date -u
group() {   # name seconds classregex [JAVA_OPTS]
  local t0=$(date +%s)
  JAVA_OPTS="${4:-}" timeout $2 $DEV/run-tests --include-tag gpu --include-classname "$3" --disable-ansi-colors > "$raw/$1.txt" 2>&1
  echo "== $1 ($3 ${4:-}): exit $? after $(( $(date +%s) - t0 )) s"
  grep -E "tests (successful|failed|aborted|skipped|found)" "$raw/$1.txt" | tr -s ' ' | paste -sd' '
  grep -E "✘" "$raw/$1.txt" | cut -c1-220 | head -12
  grep -E "AssertionFailed|Exception:" "$raw/$1.txt" | grep -v ProviderNotFound | cut -c1-250 | head -6
  pack
}
group p3 ${G3_S:-75} '.*(PackedThreePassBwdGpuTest|LearnedJFactorOpGpuTest)'
group pm ${G1_S:-45} '.*PackedMonarch(Gpu|OuterGpu)Test'
group misc ${G4_S:-40} '.*(PackedMonarchBwdGpuTest|OpRouteGpuTest|FlashOpGpuTest)'
CASES=${CASES:-causal:4096,causal:8192,causal:16384,circular:8192}
echo "== swz bench (fb,pm,pm-z,pm-z,pm,fb; $CASES)"; date -u
JAVA_OPTS="-Dlongconv4j.bench.pm.order=fb,pm,pm-z,pm-z,pm,fb -Dlongconv4j.bench.pm.cases=$CASES -Dlongconv4j.bench.pm.du=false -Dlongconv4j.bench.warmup.ms=100" \
  timeout ${JAVA_S:-50} $DEV/run-java ai.longconv4j.examples.bench.PackedMonarchBench "$raw/bench.csv" 64 768 2>&1 | tee "$raw/bench.txt" \
  | grep --line-buffered -E " fwd |Exception|rror" | sed -u -E 's/ +/ /g; s/B=64 H=768 //; s/ GB.s.*//'
echo "java exit ${PIPESTATUS[0]}"; pack
[ "${G2:-1}" != 0 ] && group swz ${G2_S:-25} '.*PackedMonarchGpuTest' -Dlongconv4j.pm.swz=true
date -u; rm -rf "$out/r"; ls -la "$out"
