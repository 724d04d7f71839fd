#!/usr/bin/env bash
# One sitting of helper f4k (session 8): the og forward's `_ru` / `_rua` variants (flashbutterfly_ogr.cu;
# -Dlongconv4j.cuda.og.ru=on / all, `all` the default since f4k-1) against the previous default `_twc` (ru=off) at
# L = 4K and 8K. 1. GPU tests: OuterGlobalGpuTest (every case runs the schemes staged, global, compute (_twc), ru, rua:
#    vs float64, vs the _twc output on the same input, pairs per block bit for bit, backwardInput); 2. OuterGlobalBench
#    with -Dlongconv4j.bench.og.rows=ru: bf16 _twc / _ru / _rua / _rua / _ru / _twc, fp16 and fp32 I/O and backwardInput
#    (bf16) _twc / _ru / _rua, L = 4K and 8K, B = 64, H = 768, each forward row validated against float64 (poisoned
#    outputs) before it is timed; 3. Nsight Compute (--set full, SASS) of one forward per og.ru value in NCU_V (default
#    "on off") at the lengths NCU_LS (default 4096); NCU=0 skips.
# Stage first, from the worktree (see the brief), then on the device (carry [".device/f4k"]):
#   DEV=.device/f4k bash .device/f4k/f4k-sitting.sh "$OUT"
# Helper f4k2 (session 8) added the `_rul` kernels (og.ru=lean: F16's fragments from 2 table values per lane, paired
# 16-bit stores in the forward outer units; OuterGlobalGpuTest runs them as scheme "rul", vs float64 and vs `_rua`) and
# ROWS=rul: bf16 _twc / _rua / _rul / _rul / _rua / _twc, fp16 and backwardInput (bf16) _twc / _rua / _rul.
# The closing sitting, from the root of merged main with a stage at .device/final (kernels-cuda tests and the examples
# module; < 60 s: tests ~40 s (f4k-1: 34 s with 5 schemes, now 6), bench ~12 s):
#   DEV=.device/final NCU=0 ROWS=rul TEST_S=46 JAVA_S=12 bash kernels-cuda/bench-runs/f4k/f4k-sitting.sh "$OUT/f4k"
# (TESTS=0: the timing alone, ~15 s, where every gpu-tagged test, OuterGlobalGpuTest included, ran before in the call.)
# Helper f4k3 (session 8) added the `_rup` kernels (og.ru=pre: `_rul` with the staged input's loads ahead; scheme "rup"
# in OuterGlobalGpuTest, vs float64 and vs `_rul`) and ROWS=rup: bf16 _rul / _rup / _rup / _rul, fp16 and
# backwardInput (bf16) _rul / _rup; NCU_V=pre profiles `_rup`.
# Its closing-call command (root of merged main, stage at .device/final; tests ~41 s with 7 schemes, bench ~12 s):
#   DEV=.device/final NCU=0 ROWS=rup TEST_S=50 JAVA_S=14 bash kernels-cuda/bench-runs/f4k/f4k-sitting.sh "$OUT/f4k"
# (ROWS=pairs: the default at 1, 2, 4 batch pairs per block; TESTS=0 skips the tests; NCU_V, NCU_LS: what ncu profiles.)
# Helper f4k4 (session 8) added the `_rus` kernels (og.ru=sym, N = 8K only: `_rup` with the outer units' twiddles of
# m + 2048 rotated from those of m; scheme "rus" in OuterGlobalGpuTest, vs float64 and vs `_rup`) and ROWS=rus: bf16
# _rup / _rus / _rus / _rup, fp16 and backwardInput (bf16) _rup / _rus at L = 4K (LS=4096; at 8K, N = 16K, the level
# runs `_rup`: one row). Its closing-call command (root of merged main, stage at .device/final; tests ~47 s with 8
# schemes, bench ~7 s at 4K alone; the limits sum to 59 s):
#   DEV=.device/final NCU=0 ROWS=rus LS=4096 TEST_S=50 JAVA_S=9 bash kernels-cuda/bench-runs/f4k/f4k-sitting.sh "$OUT/f4k"
# (TESTS=0 with the same line: the timing alone, ~10 s.)
set -u
out=${1:-/tmp/f4k-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/f4k}
Ls=${LS:-4096,8192}
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"; date -u | tee -a "$out/gpu.txt"
echo "== gpu tests"
[ "${TESTS:-1}" = 0 ] || timeout ${TEST_S:-60} $DEV/run-tests --include-tag gpu ${TEST_ARGS:---include-classname .*OuterGlobalGpuTest.*} \
  --disable-ansi-colors > "$out/tests.txt" 2>&1
echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests.txt" | head -30
# summarize V BASE [BITS]: the largest error of the V kernels vs float64 and vs BASE's on the same input (per I/O type),
# and how many values of (BITS, default V) vs BASE were equal bit for bit, from OuterGlobalGpuTest's lines.
summarize() {
  local v=$1 base=$2 bits=${3:-$1}
  grep -E "rel err" "$out/tests.txt" | grep -E " $v B=" | awk '{for(i=1;i<=NF;i++) if($i=="err") print $(i+1)}' | sort -g | tail -1 \
    | sed "s/^/largest rel err of $v vs float64: /"
  grep -E "og $v vs $base" "$out/tests.txt" | grep "rel err" | awk '{for(i=1;i<=NF;i++) if($i=="err") print $(i+1), $5}' | sort -g \
    | awk -v v="$v" -v b="$base" '{m[$2]=$1} END {for (k in m) print "largest " v " vs " b " (" k " I/O): " m[k]}'
  grep -E "og $bits vs $base.*bit for bit" "$out/tests.txt" | awk -v v="$v" -v b="$base" '{s+=$(NF-6); t+=$(NF-4)}
    END {if (t) printf "%s vs %s: %d of %d values bit for bit\n", v, b, s, t}'
}
summarize ru twc 'rua?'; summarize rul rua; summarize rup rul; summarize rus rup
echo "== java bench"; date -u
JAVA_OPTS="${JAVA_OPTS:-} -Dlongconv4j.bench.og.rows=${ROWS:-ru}" \
  timeout ${JAVA_S:-50} $DEV/run-java ai.longconv4j.examples.bench.OuterGlobalBench "$out/og-bench.csv" 64 768 "$Ls" \
  > "$out/og-bench.txt" 2>&1; echo "java bench exit $?"
grep -E "B=64" "$out/og-bench.txt" | sed -E 's/ +mem .*//'
if [ "${NCU:-1}" != 0 ]; then
  NCUB=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  mkdir -p "$out/ncu"
  for v in ${NCU_V:-on off}; do   # og.ru values (on: _ru, all: _rua, off: _twc); NCU_LS: the lengths
   for L in ${NCU_LS:-4096}; do
    tag=ru-$v-$L
    echo "== ncu $tag"; date -u
    JAVA_OPTS="${JAVA_OPTS:-} -Dlongconv4j.cuda.og.ru=$v" timeout ${NCU_S:-30} "$NCUB" --clock-control none --set full \
      --import-source no --target-processes all --kernel-name regex:'^fbog' --launch-skip 1 --launch-count 1 -f \
      -o "$out/ncu/$tag" $DEV/run-java ai.longconv4j.examples.bench.ProfileTarget "$L" 3 > "$out/ncu/run-$tag.txt" 2>&1
    echo "ncu exit $?"; grep -E "ProfileTarget|rror" "$out/ncu/run-$tag.txt" | head -4
    if [ -f "$out/ncu/$tag.ncu-rep" ]; then
      "$NCUB" -i "$out/ncu/$tag.ncu-rep" --page details --print-details all > "$out/ncu/details-$tag.txt" 2>&1
      "$NCUB" -i "$out/ncu/$tag.ncu-rep" --page source --csv --print-source sass > "$out/ncu/sass-$tag.csv" 2>&1 || true
      grep -E "Duration|Registers Per|Achieved Occupancy|Executed Ipc Active|Issue Slots Busy|Warp Cycles Per Issued|Bank Conflicts|Block Limit Sh" \
        "$out/ncu/details-$tag.txt" | head -14
    fi
   done
  done
  rm -f "$out"/ncu/*.ncu-rep
  tar -C "$out" -cJf "$out/ncu.tar.xz" ncu && rm -rf "$out/ncu"
fi
ls -la "$out"
