#!/usr/bin/env bash
# Session 17, helper pmb: PackedMonarchBackward (the one-pass tensor-core backward moved out of PackedMonarchConv) on the GPU,
# and learned_pmb2.cu at 256 threads against the 16K default (learned_pmb.cu, the twin) (BENCH-RESULTS.md round 30-pmb).
# ONE command:
#   1. TESTS=1: the GPU tests TESTCLS (default PackedMonarchBwdGpuTest, PackedMonarchGpuTest, LearnedJFactorOpGpuTest).
#   2. BENCH=1: PackedMonarchBwdBench 64 768 causal $CASES, paths in ORDER (FlashButterfly, the plan's default backward, the
#      learned_pmb2.cu variants, then the same in reverse in the same process: both orders).
# Stage (worktree, JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64, after nice -n 5 mvn -o -B -q -DskipTests package):
#   tools/stage-device.sh --out .device/pmb --sm 90 --lean-jre --add kernels-cuda/bench-runs/pmb/pmb-sitting.sh --drop '...'
# Device (carry [".device/pmb"]): DEV=.device/pmb bash .device/pmb/pmb-sitting.sh "$OUT/s1"
set -u
t0=$(date +%s)
out=${1:-/tmp/pmb-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/pmb}
CASES=${CASES:-causal:16384}
V256=pm/fast=1/cap=80/t=256/fuse=1/only=bwd
V512=pm/fast=1/cap=80/t=512/fuse=1/only=bwd
ORDER=${ORDER:-fb,pm/only=bwd,$V256,$V512,$V512,$V256,pm/only=bwd,fb}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; s=$(date +%s)
  timeout ${TEST_S:-60} $DEV/run-tests --include-tag gpu \
    --include-classname "${TESTCLS:-.*(PackedMonarchBwdGpuTest|PackedMonarchGpuTest|LearnedJFactorOpGpuTest)}" \
    --disable-ansi-colors > "$out/tests.txt" 2>&1
  echo "tests exit $? ($(( $(date +%s) - s )) s)"
  grep -E "tests (successful|failed|aborted|skipped|found)|✘" "$out/tests.txt" | cut -c1-300 | head -30
  grep -E "pkbwdopt kernel.*M=16384|differs|differing|Exception|expected" "$out/tests.txt" | cut -c1-400 | head -${TEST_LINES:-30}
fi
if [ "${BENCH:-1}" != 0 ]; then
  echo "== plan bench ($CASES; $ORDER)"; s=$(date +%s)
  JAVA_OPTS="-Dlongconv4j.bench.pmb.order=$ORDER -Dlongconv4j.bench.pmb.cases=$CASES ${BOPTS:-}" timeout ${JAVA_S:-90} $DEV/run-java \
    ai.longconv4j.examples.bench.PackedMonarchBwdBench "$out/bench.csv" 64 768 > "$out/bench.txt" 2>&1; echo "plan bench exit $? ($(( $(date +%s) - s )) s)"
  grep -E "Exception|ms |float64" "$out/bench.txt" | grep -v '^[a-z].*,' | sed -e 's/packed monarch CAUSAL //' -e 's/ B=64 H=768//' | cut -c1-220 | head -60
fi
tar -C "$out" -cf - $(cd "$out" && ls tests.txt bench*.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out"/bench*.txt
ls -la "$out"; echo "total $(( $(date +%s) - t0 )) s"
