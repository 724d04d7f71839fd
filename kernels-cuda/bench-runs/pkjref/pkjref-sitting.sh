#!/usr/bin/env bash
# Session 14, helper pkjref: the fp32 J-factor packed learned butterfly (PackedLearnedChain, learned_pk_ref2.cu). ONE command:
#   the GPU tests (TESTCLS, default the chain's test and the J = 2 fp32 test: float64 in every mode, J = 2 .. 5); TESTS=0 skips;
#   PackedChainBench B H L for each "B:H:L" of $RUNS (causal, blocks at the DFT; FB F32 / bf16 and the chain F32 / bf16 I/O,
#   each validated against float64 at sampled outputs before timing; CUDA events, warm-up, medians) in one process per run.
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/pkjref --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/pkjref/pkjref-sitting.sh --drop '...'
# Device (carry [".device/pkjref"]): DEV=.device/pkjref bash .device/pkjref/pkjref-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/pkjref-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/pkjref}
RUNS=${RUNS:-64:768:2048,64:768:4096}
ORDER=${ORDER:-fb-f32,fb-bf16,chain-f32,chain-bf16}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-150} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*PackedLearnedRef(Chain)?GpuTest}" --disable-ansi-colors \
    > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped|found)|✘" "$out/tests.txt" | cut -c1-400 | head -40
  grep -E "rel err" "$out/tests.txt" | awk '{for(i=1;i<=NF;i++) if($i=="err") print $(i+1), $0}' | sort -g | tail -${SHOW:-16} | cut -c1-200
fi
i=0
for r in $(echo "$RUNS" | tr ',' ' '); do
  [ "${BENCH:-1}" = 0 ] && break
  i=$((i + 1)); IFS=: read -r B H L <<< "$r"
  echo "== PackedChainBench B=$B H=$H L=$L ($ORDER)"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.pkj.order=$ORDER ${BOPTS:-}" timeout ${JAVA_S:-60} $DEV/run-java ai.longconv4j.examples.bench.PackedChainBench \
    "$out/bench$i.csv" "$B" "$H" "$L" > "$out/bench$i.txt" 2>&1; echo "bench $i exit $?"
  grep -vE '^[a-z].*,[0-9]' "$out/bench$i.txt" | grep -E "chain|flashbutterfly|Exception|vs float64|L=" | head -20 | cut -c1-260
done
tar -C "$out" -cf - $(cd "$out" && ls tests.txt bench*.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out"/bench*.txt
ls -la "$out"; date -u
