#!/usr/bin/env bash
# Session 13, helper pkref: the fp32 packed learned butterfly (PackedLearnedRef, learned_pk_ref.cu). ONE command:
#   the GPU tests (TESTCLS, default PackedLearnedRefGpuTest: lib float64 in every mode at M = 16 .. 4096, F32 / BF16 / F16,
#   and the slow-twin check against the tensor-core PackedLearnedConv); TESTS=0 skips them;
#   PackedRefBench 64 768 $L (causal, blocks at the DFT): FlashButterfly F32 (fp32) and bf16, the tensor-core packed kernel
#   (bf16), this fp32 path with F32 and bf16 I/O, each validated against float64 before timing (CUDA events, warm-up,
#   medians), in the order $ORDER, then MIRROR=1 (default) reversed in a second process.
# s1: the first kernels (backward grid H, 256 threads); s2: backward slices, 512 threads, skewed Grams, Fb^H / Gb^H copies;
# s3: + register-blocked products (_r4 / _r2, the default) and the _r1 twin (path ref-f32-r1); + a run at L2 = 2048.
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/pkref --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/pkref/pkref-sitting.sh --drop '...'
# Device (carry [".device/pkref"]): DEV=.device/pkref bash .device/pkref/pkref-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/pkref-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/pkref}
L=${L:-1024}
L2=${L2-2048}   # the extra run's length (L2= : none)
ORDER=${ORDER:-fb-f32,fb-bf16,packed-bf16,ref-f32,ref-bf16,ref-f32-r1}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-180} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*PackedLearnedRefGpuTest}" --disable-ansi-colors \
    > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped|found)|✘" "$out/tests.txt" | cut -c1-300 | head -40
  grep -E "rel err" "$out/tests.txt" | awk '{for(i=1;i<=NF;i++) if($i=="err") print $(i+1), $0}' | sort -g | tail -${SHOW:-16} | cut -c1-200
fi
if [ "${BENCH:-1}" != 0 ]; then
  echo "== java bench ($ORDER)"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.pkref.order=$ORDER ${BOPTS:-}" timeout ${JAVA_S:-150} $DEV/run-java ai.longconv4j.examples.bench.PackedRefBench \
    "$out/bench.csv" 64 768 "$L" > "$out/bench.txt" 2>&1; echo "java bench exit $?"
  grep -vE '^[a-z].*,[0-9]' "$out/bench.txt" | grep -E "learned|flashbutterfly|Exception|vs float64" | head -40 | cut -c1-260
  if [ "${MIRROR:-1}" != 0 ]; then
    rev=$(echo "$ORDER" | tr ',' '\n' | tac | paste -sd,)
    echo "== java bench, mirrored ($rev)"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.pkref.order=$rev ${BOPTS:-}" timeout ${JAVA_S:-150} $DEV/run-java ai.longconv4j.examples.bench.PackedRefBench \
      "$out/bench2.csv" 64 768 "$L" > "$out/bench2.txt" 2>&1; echo "java bench 2 exit $?"
    grep -vE '^[a-z].*,[0-9]' "$out/bench2.txt" | grep -E "learned|flashbutterfly|Exception|vs float64" | head -40 | cut -c1-260
  fi
  if [ -n "$L2" ]; then   # a size the tensor-core packed kernels do not take (M = 2048 at L = 2K causal)
    echo "== java bench L=$L2 (${ORDER2:-fb-f32,fb-bf16,ref-f32,ref-bf16})"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.pkref.order=${ORDER2:-fb-f32,fb-bf16,ref-f32,ref-bf16} ${BOPTS:-}" timeout ${JAVA_S:-150} $DEV/run-java \
      ai.longconv4j.examples.bench.PackedRefBench "$out/bench3.csv" 64 768 "$L2" > "$out/bench3.txt" 2>&1; echo "java bench 3 exit $?"
    grep -vE '^[a-z].*,[0-9]' "$out/bench3.txt" | grep -E "learned|flashbutterfly|Exception|vs float64" | head -40 | cut -c1-260
  fi
fi
tar -C "$out" -cf - $(cd "$out" && ls tests.txt bench.txt bench2.txt bench3.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out/bench.txt" "$out/bench2.txt" "$out/bench3.txt"
ls -la "$out"; date -u
