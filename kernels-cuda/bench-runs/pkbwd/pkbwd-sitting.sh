#!/usr/bin/env bash
# Session 12, helper pkbwd: the packed learned backward (BENCH-RESULTS.md round 21-pkbwd). pk-sitting.sh's pattern, ONE command:
#   the GPU tests (TESTCLS, default PackedLearnedBackwardGpuTest), TESTS=0 skips them; PHASES=1 (default): LearnedPackedBench
#   phases $LS (the packed backward's CUDA-event times per phase, both dGa / dFa routes);
#   LearnedPackedBench 64 768 $LS in the order fb,learned,packed (FlashButterfly, unpacked learned, packed: fwd, fwd+bwd,
#   bwd, one process; every forward and the packed backward validated against float64 before timing; CUDA events, warm-up,
#   medians), then MIRROR=1 the reversed order; NCU=1: ncu of one packed backward (LearnedPackedBench is not the target:
#   `PROFILE` runs LearnedPackedBench with -Dlongconv4j.bench.pk.order=packed at L = NCU_L, launch-count limited).
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/pkbwd --sm 90 --lean-jre \
#   --add kernels-cuda/bench-runs/pkbwd/pkbwd-sitting.sh --drop '...'
# Device (carry [".device/pkbwd"]): DEV=.device/pkbwd bash .device/pkbwd/pkbwd-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/pkbwd-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/pkbwd}
LS=${LS:-1024,512,256}
ORDER=${ORDER:-fb,learned,packed}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; date -u
  timeout ${TEST_S:-150} $DEV/run-tests --include-tag gpu --include-classname "${TESTCLS:-.*PackedLearnedBackwardGpuTest}" --disable-ansi-colors \
    > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped|found)|✘|FAILED route" "$out/tests.txt" | cut -c1-300 | head -40
  grep -E "rel err" "$out/tests.txt" | awk '{for(i=1;i<=NF;i++) if($i=="err") print $(i+1), $0}' | sort -g | tail -${SHOW:-12} | cut -c1-160
fi
if [ "${PHASES:-1}" != 0 ]; then
  echo "== phases (LearnedPackedBench phases $LS)"; date -u
  timeout ${PHASES_S:-60} $DEV/run-java ai.longconv4j.examples.bench.LearnedPackedBench phases "$LS" > "$out/phases.txt" 2>&1
  echo "phases exit $?"; grep -E "phases|Exception" "$out/phases.txt" | cut -c1-260
fi
if [ "${BENCH:-1}" != 0 ]; then
  echo "== java bench ($ORDER)"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.pk.order=$ORDER ${BOPTS:-}" timeout ${JAVA_S:-90} $DEV/run-java ai.longconv4j.examples.bench.LearnedPackedBench \
    "$out/bench.csv" 64 768 "$LS" > "$out/bench.txt" 2>&1; echo "java bench exit $?"
  grep -E "learned|flashbutterfly|Exception|packed backward" "$out/bench.txt" | grep -v '^[a-z].*,' | head -40
  if [ "${MIRROR:-1}" != 0 ]; then
    rev=$(echo "$ORDER" | tr ',' '\n' | tac | paste -sd,)
    echo "== java bench, mirrored ($rev)"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.pk.order=$rev ${BOPTS:-}" timeout ${JAVA_S:-90} $DEV/run-java ai.longconv4j.examples.bench.LearnedPackedBench \
      "$out/bench2.csv" 64 768 "$LS" > "$out/bench2.txt" 2>&1; echo "java bench 2 exit $?"
    grep -E "learned|flashbutterfly|Exception|packed backward" "$out/bench2.txt" | grep -v '^[a-z].*,' | head -40
  fi
fi
if [ "${NCU:-0}" != 0 ]; then
  NCUB=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  echo "== ncu (one packed backward at L=${NCU_L:-1024})"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.pk.order=packed -Dlongconv4j.bench.warmup.ms=0" timeout ${NCU_S:-90} "$NCUB" --clock-control none \
    --set ${NCU_SET:-basic} --kernel-name regex:'^(lpk|lbt_)' --launch-skip ${NCU_SKIP:-2} --launch-count ${NCU_COUNT:-16} \
    -f -o "$out/k" $DEV/run-java ai.longconv4j.examples.bench.LearnedPackedBench /dev/null 64 768 ${NCU_L:-1024} > "$out/ncu-run.txt" 2>&1
  echo "ncu exit $?"
  if [ -f "$out/k.ncu-rep" ]; then
    "$NCUB" -i "$out/k.ncu-rep" --page details --print-details all > "$out/ncu-details.txt" 2>&1
    grep -E "^  [a-z_0-9]+.*\(|Duration|Registers Per|Achieved Occupancy|Memory Throughput|DRAM Throughput|Compute \(SM\) Throughput" "$out/ncu-details.txt" | head -200 > "$out/ncu-summary.txt"
    grep -E "^  [a-z_0-9]+.*\(|Duration|DRAM Throughput" "$out/ncu-summary.txt"
    rm -f "$out/k.ncu-rep"
  fi
fi
tar -C "$out" -cf - $(cd "$out" && ls tests.txt phases.txt bench.txt bench2.txt ncu-run.txt ncu-details.txt 2>/dev/null) | xz -T8 -6 > "$out/logs.tar.xz"
rm -f "$out/tests.txt" "$out/phases.txt" "$out/bench2.csv" "$out/bench.txt" "$out/bench2.txt" "$out/ncu-run.txt" "$out/ncu-details.txt"
ls -la "$out"; date -u
