#!/usr/bin/env bash
# One sitting of helper f4k5 (session 9): the og forward at L = 4K (N = 8K) — the default `_rus` (og.ru=sym) against the
# `_rut` family (flashbutterfly_ogr.cu; og.ru=tab: the tables copied from a precomputed image and og_inv's last butterfly
# as FMAs; tab4: the same at launch bounds (128, 4); half (`_ruh`): tab with the outer units' 16-bit twiddle products as
# packed bf16x2 / f16x2 pairs; half4 (`_ruh4`): half at (128, 4) with the register unit's sign flips on F16's side).
#  1. OuterGlobalGpuTest with the schemes SCHEMES (default rus,rut,rut4,ruh,ruh4; every case: vs float64 1e-2, vs the
#     previous scheme on the same input, 1 / 2 / 3 pairs per block bit for bit, backwardInput); per scheme the largest
#     error vs float64 and vs its base;
#  2. OuterGlobalBench 64 768 $LS with -Dlongconv4j.bench.og.rows=$ROWS (default rut: bf16 rus rut rut4 ruh ruh rut4 rut
#     rus, fp16 and backwardInput bf16 once each; cmp:A,B for two; every forward row validated against float64 first);
#  3. CCB_LEVELS (e.g. "sym half"): CudaConvBench 64 768 4096 (bf16 default plan: forward, fwd+bwd, backward) once per
#     og.ru level; TORCH=1: examples/bench/flashbutterfly_torch.py at 4K in the same call;
#  4. NCU_V (og.ru levels, default "sym half"): ncu --set full (SASS) of one forward at 4K each; NCU=0 skips.
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/f4k5 --add kernels-cuda/bench-runs/f4k5/f4k5-sitting.sh
#   --add examples/bench/flashbutterfly_torch.py --drop '<ctx.md's list>' (fonts removed, runtime re-linked), then on the
#   device (carry [".device/f4k5"]):  DEV=.device/f4k5 bash .device/f4k5/f4k5-sitting.sh "$OUT"
# Closing call (root of merged main, stage at .device/final with the kernels-cuda tests and the examples module; ~45 s):
#   DEV=.device/final NCU=0 SCHEMES=rus,rut,ruh,ruh4 ROWS=cmp:rus,ruh4 LS=4096 TEST_S=40 JAVA_S=12 bash kernels-cuda/bench-runs/f4k5/f4k5-sitting.sh "$OUT/f4k5"
#   (CCB_LEVELS="sym half4" adds CudaConvBench at 4K per level, ~12 s each; TORCH=1 PyTorch at 4K, ~12 s.)
# With the not-yet-run `_ruhr` (og.ru=halfr: _ruh4 with the register unit's two twiddle stages packed too):
#   DEV=.device/final NCU=0 SCHEMES=rus,ruh,ruh4,ruhr ROWS=cmp:rus,ruh4,ruhr LS=4096 TEST_S=42 JAVA_S=14 bash kernels-cuda/bench-runs/f4k5/f4k5-sitting.sh "$OUT/f4k5"
set -u
out=${1:-/tmp/f4k5-sitting}; mkdir -p "$out"; export PYTHONUNBUFFERED=1
DEV=${DEV:-.device/f4k5}
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
if [ "${TESTS:-1}" != 0 ]; then
  echo "== gpu tests"; date -u
  JAVA_OPTS="-Dlongconv4j.test.og.schemes=${SCHEMES:-rus,rut,rut4,ruh,ruh4}" timeout ${TEST_S:-50} $DEV/run-tests \
    --include-tag gpu --include-classname '.*OuterGlobalGpuTest.*' --disable-ansi-colors > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped)" "$out/tests.txt"; grep "✘" "$out/tests.txt" | grep -v "Assumption" | head -8
  for v in rus rut rut4 ruh ruh4 ruhr; do   # the largest error vs float64 (the run() lines), then vs the base scheme (sameInput lines)
    grep -E "rel err" "$out/tests.txt" | grep -E " $v B=" | awk '{for(i=1;i<=NF;i++) if($i=="err") print $(i+1)}' | sort -g | tail -1 \
      | sed "s/^/largest rel err of $v vs float64: /"
    grep -E "og $v vs [a-z0-9]+ .*rel err" "$out/tests.txt" | awk '{for(i=1;i<=NF;i++) if($i=="err") print $(i+1), $4, $5}' | sort -g \
      | awk '{m[$2" "$3]=$1} END {for (k in m) print "largest '"$v"' vs " k " I/O: " m[k]}'
    grep -E "og $v vs [a-z0-9]+ .*bit for bit" "$out/tests.txt" | awk '{s+=$(NF-6); t+=$(NF-4)} END {if (t) printf "'"$v"' vs base: %d of %d values bit for bit\n", s, t}'
  done
fi
echo "== og bench"; date -u
JAVA_OPTS="-Dlongconv4j.bench.og.rows=${ROWS:-rut}" timeout ${JAVA_S:-30} $DEV/run-java ai.longconv4j.examples.bench.OuterGlobalBench \
  "$out/og-bench.csv" 64 768 "${LS:-4096,8192}" > "$out/og-bench.txt" 2>&1; echo "og bench exit $?"
grep -E "B=64" "$out/og-bench.txt" | sed -E 's/ +mem .*//'
for v in ${CCB_LEVELS:-}; do
  echo "== CudaConvBench og.ru=$v"; date -u
  JAVA_OPTS="-Dlongconv4j.cuda.og.ru=$v -Dlongconv4j.bench.bwd=true -Dlongconv4j.bench.extras=false" timeout ${CCB_S:-25} $DEV/run-java \
    ai.longconv4j.examples.bench.CudaConvBench "$out/ccb-$v.csv" 64 768 4096 > "$out/ccb-$v.txt" 2>&1; echo "ccb exit $?"
  grep -E "^flashbutterfly" "$out/ccb-$v.txt" | grep -v "," | head -6
done
if [ "${TORCH:-0}" != 0 ]; then
  echo "== torch"; date -u
  timeout ${TORCH_S:-40} python3 $DEV/flashbutterfly_torch.py "$out/torch-bench.csv" 64 768 4096 > "$out/torch-bench.txt" 2>&1
  echo "torch exit $?"; grep -E "fftconv float32" "$out/torch-bench.txt" | grep -v "," | head -3
fi
if [ "${NCU:-1}" != 0 ]; then
  NCUB=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  mkdir -p "$out/ncu"
  for v in ${NCU_V:-sym half}; do
    tag=ru-$v-4096; echo "== ncu $tag"; date -u
    JAVA_OPTS="-Dlongconv4j.cuda.og.ru=$v" timeout ${NCU_S:-32} "$NCUB" --clock-control none --set full --import-source no \
      --target-processes all --kernel-name regex:'^fbog' --launch-skip 1 --launch-count 1 -f -o "$out/ncu/$tag" \
      $DEV/run-java ai.longconv4j.examples.bench.ProfileTarget 4096 3 > "$out/ncu/run-$tag.txt" 2>&1
    echo "ncu exit $?"; grep -E "ProfileTarget|rror" "$out/ncu/run-$tag.txt" | head -3
    if [ -f "$out/ncu/$tag.ncu-rep" ]; then
      "$NCUB" -i "$out/ncu/$tag.ncu-rep" --page details --print-details all > "$out/ncu/details-$tag.txt" 2>&1
      "$NCUB" -i "$out/ncu/$tag.ncu-rep" --page source --csv --print-source sass > "$out/ncu/sass-$tag.csv" 2>&1 || true
      grep -E "Duration|Registers Per|Achieved Occupancy|Executed Ipc Active|Issue Slots Busy|Warp Cycles Per Issued" \
        "$out/ncu/details-$tag.txt" | head -8
    fi
  done
  rm -f "$out"/ncu/*.ncu-rep
  tar -C "$out" -cJf "$out/ncu.tar.xz" ncu && rm -rf "$out/ncu"
fi
date -u; [ -f "$out/tests.txt" ] && [ $(stat -c %s "$out/tests.txt") -gt 150000 ] && xz -6 "$out/tests.txt"; ls -la "$out"
