#!/usr/bin/env bash
# Session 18, helper p3tc: the three-pass backward's 2J block gradients on tensor cores, the default route
# (PackedThreePassBackward, learned_p3g.cu); BENCH-RESULTS.md round 31-p3tc. ONE command per sitting, steps by variables:
#   TESTS=1   the GPU tests of TESTCLS (default PackedThreePassBwdGpuTest, LearnedJFactorOpGpuTest, PackedThreePassGpuTest),
#             their summary, the per-block error lines and any failure;
#   OPBENCH=1 LearnedOpBench (the tensor op, fwd and fwd+bwd, FB's op = engine monarch in the same process) per "B:L" of
#             OPCASES, engines OPORDER (default monarch,packed,packed,monarch: both orders in one process), H = 768,
#             OPREPS forward reps (fwd+bwd half of them), the allocator's peak per engine;
#   BENCH=1   PackedThreePassBench 16 768, path p3 (CASES, default 65536:16,262144:4) with -Dlongconv4j.bench.p3.bwd=true:
#             the plan's forward / du / the backward with the block gradients, and the backward's steps (phases).
# Stage (from the worktree; the device tool carries /work/main's checkout):
#   tools/stage-device.sh --out /work/main/.device/p3tc --sm 90 --lean-jre --add kernels-cuda/bench-runs/p3tc/p3tc-sitting.sh --drop '...'
# Device (carry [".device/p3tc"]): DEV=.device/p3tc bash .device/p3tc/p3tc-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/p3tc-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/p3tc}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu,memory.total --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-0}" != 0 ]; then
  cls=${TESTCLS:-.*(PackedThreePassBwdGpuTest|LearnedJFactorOpGpuTest|PackedThreePassGpuTest)}
  echo "== gpu tests $cls"; date -u
  timeout ${TEST_S:-120} $DEV/run-tests --include-tag gpu --include-classname "$cls" --disable-ansi-colors > "$out/tests.txt" 2>&1
  echo "tests exit $?"
  grep -E "tests (successful|failed|aborted|found)|Test run finished|✘" "$out/tests.txt" | cut -c1-240 | head -30
  grep -E "p3tc|p3 bwd" "$out/tests.txt" | cut -c1-400 | head -60
  grep -A10 "AssertionFailedError\|Exception:" "$out/tests.txt" | grep -v "^\s*at org.junit\|^\s*at java.base" | cut -c1-300 | head -60
fi
if [ "${OPBENCH:-0}" != 0 ]; then
  order=${OPORDER:-monarch,packed,packed,monarch}
  for c in ${OPCASES:-16:65536 4:262144}; do
    b=${c%%:*}; l=${c#*:}
    echo "== op bench B=$b L=$l ($order)"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.op.order=$order -Dlongconv4j.bench.op.groups=1 -Dlongconv4j.bench.op.reps=${OPREPS:-10} ${OPOPTS:-}" \
      timeout ${OP_S:-100} $DEV/run-java ai.longconv4j.examples.bench.LearnedOpBench "$out/op-$l.csv" "$b" 768 "$l" > "$out/op-$l.txt" 2>&1
    echo "op bench exit $?"; grep -E " ms |peak|Exception|rror" "$out/op-$l.txt" | grep -v "^\s*at " | head -20 | cut -c1-200
  done
fi
if [ "${BENCH:-0}" != 0 ]; then
  echo "== plan bench p3 (${CASES:-65536:16,262144:4})"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.p3.order=${ORDER:-p3} -Dlongconv4j.bench.p3.cases=${CASES:-65536:16,262144:4} -Dlongconv4j.bench.p3.bwd=true" \
    timeout ${JAVA_S:-90} $DEV/run-java ai.longconv4j.examples.bench.PackedThreePassBench "$out/bench.csv" 16 768 > "$out/bench.txt" 2>&1
  echo "plan bench exit $?"; grep -E " ms |float64|phases|kept|Exception|rror" "$out/bench.txt" | grep -v "^\s*at " | head -30 | cut -c1-330
fi
logs=$(cd "$out" && ls tests.txt op-*.txt bench.txt 2>/dev/null)
[ -n "$logs" ] && tar -C "$out" -cf - $logs | xz -T8 -6 > "$out/logs.tar.xz" && (cd "$out" && rm -f $logs)
ls -la "$out"; date -u
