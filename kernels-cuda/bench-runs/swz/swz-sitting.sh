#!/usr/bin/env bash
# Session 18, helper swz: the z kernels (learned_pm4.cu lpm4sz / lpm4gz / lpm4z: the 16-bit planes in learned_pm3.cu's
# conflict-free pm3::Swz layout, -Dlongconv4j.pm.swz) on the H200, ONE command (<= 150 s wall), for the coordinator's
# closing call (BENCH-RESULTS.md round 31-swz). Phases, logs under the output folder, packed into ONE logs.tar.xz:
#   1. GPU tests (TEST_S s at most): PackedMonarchOuterGpuTest (z kernels vs lpm3 / lpm4s / lpm4g bit for bit, all three
#      modes, M = 2048 .. 16384, odd L; kernelChoice: the z names and the refusal) and PackedMonarchGpuTest; then
#      PackedMonarchGpuTest again with -Dlongconv4j.pm.swz=true (its default-plan cases on the z kernels vs float64);
#   2. PackedMonarchBench 64 768, forward only, in ONE process: per case fb, pm (the default: lpm4s / lpm4), pm-z (the same
#      plan with swz), then the mirrored order pm-z, pm, fb (JAVA_S s at most; every row printed as it is measured).
# Stage (from the worktree /work/wt/swz, after `nice mvn -o -B -q -DskipTests package`):
#   tools/stage-device.sh --out /work/main/.device/swz --sm 90 --lean-jre --add kernels-cuda/bench-runs/swz/swz-sitting.sh \
#     --drop 'fastutil-*,icu4j-*,pdfbox-*,fontbox-*,guava-*,RoaringBitmap-*,univocity-*,classgraph-*,arpack_*,xchart-*,tablesaw-core-*,graphics2d-*,VectorGraphics2D-*,animated-gif-lib-*,checker-qual-*,jsr305-*,error_prone_*,j2objc-*,failureaccess-*,listenablefuture-*'
# Device (carry [".device/swz"], timeout_s 170): DEV=.device/swz timeout 150 bash .device/swz/swz-sitting.sh "$OUT/swz"
set -u
out=${1:-/tmp/swz-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/swz}
raw="$out/r/x"; mkdir -p "$raw"   # raw logs deep below $OUT (not returned one by one); pack() after every phase
pack() { tar -C "$raw" -cf - . | xz -T4 -6 > "$out/logs.tar.xz"; }
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$raw/gpu.txt" 2>&1; cat "$raw/gpu.txt"
echo "== gpu tests"; date -u
timeout ${TEST_S:-42} $DEV/run-tests --include-tag gpu --include-classname '.*PackedMonarch(Gpu|OuterGpu)Test' \
  --disable-ansi-colors > "$raw/tests.txt" 2>&1
echo "tests exit $?"
grep -E "tests (successful|failed|aborted|skipped|found)|✘" "$raw/tests.txt" | cut -c1-300 | head -30
grep -E "Expected|expected:|AssertionFailed" "$raw/tests.txt" | cut -c1-300 | head -10
grep -cE "^pm4 lpm4(s|g|)z_" "$raw/tests.txt" | sed 's/^/z kernels bit-identical to lpm3 (runs): /'
echo "== PackedMonarchGpuTest with -Dlongconv4j.pm.swz=true"; date -u
JAVA_OPTS=-Dlongconv4j.pm.swz=true timeout ${TEST2_S:-25} $DEV/run-tests --include-tag gpu --include-classname '.*PackedMonarchGpuTest' \
  --disable-ansi-colors > "$raw/tests-swz.txt" 2>&1
echo "tests (swz) exit $?"
grep -E "tests (successful|failed|aborted|skipped|found)|✘" "$raw/tests-swz.txt" | cut -c1-300 | head -20
pack
CASES=${CASES:-causal:4096,causal:8192,causal:16384,causal:2048,circular:4096,circular:8192}
echo "== bench (fb,pm,pm-z,pm-z,pm,fb; $CASES)"; date -u
JAVA_OPTS="-Dlongconv4j.bench.pm.order=fb,pm,pm-z,pm-z,pm,fb -Dlongconv4j.bench.pm.cases=$CASES -Dlongconv4j.bench.pm.du=false -Dlongconv4j.bench.warmup.ms=100" \
  timeout ${JAVA_S:-68} $DEV/run-java ai.longconv4j.examples.bench.PackedMonarchBench "$raw/bench.csv" 64 768 2>&1 | tee "$raw/bench.txt" \
  | grep --line-buffered -E " fwd |Exception|rror" | sed -u -E 's/ +/ /g; s/B=64 H=768 //; s/ GB.s.*//'
echo "java exit ${PIPESTATUS[0]}"   # rows stream to stdout as measured (the call's output tail keeps them if the call is cut)
date -u
pack; rm -rf "$out/r"
ls -la "$out"
