#!/usr/bin/env bash
# Session 18, helper layer: the LongConv layer's kept kernel, the FB op backward without the dk / dD zero fill, the learned
# op's routing by checks (BENCH-RESULTS.md round 31-layer). ONE command per sitting:
#   TESTS=1: the GPU tests of TESTCLS (OpRouteGpuTest: the layer's kept kernel and its gradients vs the twin and F64;
#            FlashOpGpuTest: the op backward with poisoned dk / dD; LearnedJFactorOpGpuTest: the J-factor route);
#   BENCH=1: OpVsPlan with ORDER (default layer,fb,fb,layer: each engine's second appearance is its mirror, variants
#            reversed and FB's plan rows first), all in one process (the data is made once per L).
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/layer --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/layer/layer-sitting.sh --drop '...'
# Device (carry [".device/layer"]): DEV=.device/layer TESTS=1 BENCH=1 bash .device/layer/layer-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/layer-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/layer}
ARGS=${ARGS:-16 768 4096,16384,65536,262144}
ORDER=${ORDER:-layer,fb,fb,layer}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-0}" != 0 ]; then
  cls=${TESTCLS:-.*(OpRouteGpuTest|FlashOpGpuTest|LearnedJFactorOpGpuTest)}
  echo "== gpu tests: $cls"; date -u; t0=$(date +%s)
  timeout ${TEST_S:-40} $DEV/run-tests --include-tag gpu --include-classname "$cls" --disable-ansi-colors > "$out/tests.txt" 2>&1
  echo "tests exit $? ($(( $(date +%s) - t0 )) s)"
  grep -E "tests (successful|failed|aborted|skipped|found)|✘" "$out/tests.txt" | cut -c1-300 | head -40
  grep -E "Exception|expected|relative error" "$out/tests.txt" | cut -c1-250 | head -20
fi
if [ "${BENCH:-0}" != 0 ]; then
  echo "== OpVsPlan $ORDER ($ARGS)"; date -u; t0=$(date +%s)
  JAVA_OPTS="-Dlongconv4j.bench.ovp.order=$ORDER -Dlongconv4j.bench.ovp.fbvariants=${FBV:-default,cuda.fbop.bwdzero=true} -Dlongconv4j.bench.ovp.x8=${X8:-true} ${BOPTS:-}" \
    timeout ${JAVA_S:-75} $DEV/run-java ai.longconv4j.examples.bench.OpVsPlan "$out/bench.csv" $ARGS > "$out/bench.txt" 2>&1
  echo "bench exit $? ($(( $(date +%s) - t0 )) s)"
  grep -E "ms|bit-identical|DIFFERS|rel diff|computed|Exception|Error" "$out/bench.txt" | grep -v '^[a-z].*,[0-9]' | head -90 | cut -c1-220
fi
tar -C "$out" -cf - $(cd "$out" && ls tests.txt bench.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out/bench.txt"
ls -la "$out"; date -u
