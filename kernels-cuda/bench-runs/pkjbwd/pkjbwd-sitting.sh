#!/usr/bin/env bash
# Session 14, helper pkjbwd: the tensor-core backward of the one-pass J-factor packed learned butterfly (learned_pmb.cu,
# PackedMonarchConv.backwardTc, PackedMonarchLearned.backward; BENCH-RESULTS.md round 27-pkjbwd). Written without a GPU:
# the next session runs it first. ONE command:
#   1. the GPU tests (TESTCLS, default PackedMonarchBwdGpuTest (16) and LearnedJFactorOpGpuTest (the op, whose backward now
#      runs on tensor cores at M = 2048 .. 32768)); TESTS=0 skips them. STOP=1 (default): a failing test ends the sitting
#      before any timing (timings of a wrong kernel are worthless).
#   2. PackedMonarchBwdBench 64 768 (plan level: FlashButterfly fwd / bwd (du + dk + dD) / fwd+bwd vs the packed forward +
#      backwardTc (du, dP / dQ, dD, block Grams; no dk), both validated against float64 first), cases $CASES, order $ORDER,
#      MIRROR=1 the reversed order in a second process.
#   3. LearnedOpBench 64 768 $LS (op level, ConvOps as a user calls it: MONARCH = FlashButterfly's op vs LEARNED_PACKED, whose
#      J-factor backward is now learned_pmb.cu), order $OP_ORDER; then CHAIN=1 (default) the slow twin's op row
#      (packed-chainbwd: -Dlongconv4j.pk.monarch.bwd=false) at $CHAIN_LS (its fp32 workspaces: 12.9 GB at L = 4096).
# Stage (from the worktree, JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64, after nice -n 5 mvn -o -B -q -DskipTests package):
#   tools/stage-device.sh --out /work/main/.device/pkjbwd --sm 90 --lean-jre --add kernels-cuda/bench-runs/pkjbwd/pkjbwd-sitting.sh --drop '...'
# Device (carry [".device/pkjbwd"]): DEV=.device/pkjbwd bash .device/pkjbwd/pkjbwd-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/pkjbwd-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/pkjbwd}
ORDER=${ORDER:-fb,pm}
CASES=${CASES:-causal:2048,causal:4096,causal:8192,causal:16384}
LS=${LS:-4096,16384}
OP_ORDER=${OP_ORDER:-monarch,packed}
CHAIN_LS=${CHAIN_LS:-4096}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
finish() {
  tar -C "$out" -cf - $(cd "$out" && ls tests.txt bench*.txt op*.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
  rm -f "$out/tests.txt" "$out"/bench*.txt "$out"/op*.txt
  ls -la "$out"; date -u
}
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-200} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*(PackedMonarchBwdGpuTest|LearnedJFactorOpGpuTest)}" \
    --disable-ansi-colors > "$out/tests.txt" 2>&1
  rc=$?; echo "tests exit $rc"
  grep -E "tests (successful|failed|aborted|skipped|found)|✘" "$out/tests.txt" | cut -c1-300 | head -40
  grep -E "pkjbwd (kernel|plan)|differs from|rel err|Exception|expected" "$out/tests.txt" | cut -c1-260 | head -${TEST_LINES:-80}
  if [ "$rc" != 0 ] && [ "${STOP:-1}" != 0 ]; then echo "tests failed (exit $rc): no timings (STOP=0 times anyway)"; finish; exit 1; fi
fi
if [ "${BENCH:-1}" != 0 ]; then
  echo "== plan bench ($ORDER; $CASES)"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.pmb.order=$ORDER -Dlongconv4j.bench.pmb.cases=$CASES ${BOPTS:-}" timeout ${JAVA_S:-150} $DEV/run-java \
    ai.longconv4j.examples.bench.PackedMonarchBwdBench "$out/bench.csv" 64 768 > "$out/bench.txt" 2>&1; echo "plan bench exit $?"
  grep -E "float64|Exception|ms" "$out/bench.txt" | grep -v '^[a-z].*,' | head -60 | cut -c1-220
  if [ "${MIRROR:-1}" != 0 ]; then
    rev=$(echo "$ORDER" | tr ',' '\n' | tac | paste -sd,)
    echo "== plan bench, mirrored ($rev)"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.pmb.order=$rev -Dlongconv4j.bench.pmb.cases=$CASES ${BOPTS:-}" timeout ${JAVA_S:-150} $DEV/run-java \
      ai.longconv4j.examples.bench.PackedMonarchBwdBench "$out/bench2.csv" 64 768 > "$out/bench2.txt" 2>&1; echo "plan bench 2 exit $?"
    grep -E "float64|Exception|ms" "$out/bench2.txt" | grep -v '^[a-z].*,' | head -60 | cut -c1-220
  fi
fi
if [ "${OP:-1}" != 0 ]; then
  echo "== op bench ($OP_ORDER; L = $LS)"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.op.order=$OP_ORDER ${BOPTS:-}" timeout ${OP_S:-150} $DEV/run-java ai.longconv4j.examples.bench.LearnedOpBench \
    "$out/op.csv" 64 768 "$LS" > "$out/op.txt" 2>&1; echo "op bench exit $?"
  grep -E "^op |Exception" "$out/op.txt" | grep -v '^[a-z].*,' | head -40 | cut -c1-200
  if [ "${CHAIN:-1}" != 0 ]; then
    echo "== op bench, the chain's backward (slow twin; L = $CHAIN_LS)"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.op.order=packed-chainbwd,packed ${BOPTS:-}" timeout ${CHAIN_S:-120} $DEV/run-java \
      ai.longconv4j.examples.bench.LearnedOpBench "$out/op2.csv" 64 768 "$CHAIN_LS" > "$out/op2.txt" 2>&1; echo "op bench 2 exit $?"
    grep -E "^op |Exception" "$out/op2.txt" | grep -v '^[a-z].*,' | head -20 | cut -c1-200
  fi
fi
finish
