#!/usr/bin/env bash
# Session 8, helper f1k: fb2k's _hp / _hw kernels (flashbutterfly2k.cu TW_HP: the half2 twiddles in shared memory, every
# table load pipelined; TW_HW: the same with 16-byte y stores) on the H200. One sitting: FlashButterfly2KGpuTest (the
# _hp / _hw kernels at 4 launch shapes vs float64, vs the table kernel and in the adjoint, every case), then the class
# again with -Dlongconv4j.cuda.fb2k.tw=<each of TWS> (the plans' forward and backwardInput on it vs float64 and vs the
# _w3 twin), then FlashButterfly2KBench in its "hp" mode (per I/O type _ht (session 7's default) vs _hp vs _hw (the
# default since f1k-2) twice in alternation, _hw launch shapes, backwardInput bf16; L = 1K, 512, 256, B = 64, H = 768,
# causal), then an Nsight Compute
# profile of the NCU_TW kernel (default hw) at L = 1K (NCU=0 skips it).
# Stage first (from the worktree):
#   tools/stage-device.sh --out /work/main/.device/f1k --add kernels-cuda/bench-runs/f1k/f1k-sitting.sh --drop '...'
# then on the device (carry [".device/f1k"]):  DEV=.device/f1k bash .device/f1k/f1k-sitting.sh "$OUT"
# From a stage of merged main (the closing sitting, ~20 s):
#   DEV=.device/final NCU=0 TWICE=0 TEST_S=30 JAVA_S=30 bash kernels-cuda/bench-runs/f1k/f1k-sitting.sh "$out/f1k" 2>&1 | tail -30
# TEST_S / JAVA_S / NCU_S: timeouts; LS: lengths (default 1024,512,256); TWS (default "hp hw"): the tw values the test
# class runs with too (TWICE=0 skips those runs).
set -u
out=${1:-/tmp/f1k-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/f1k}
Ls=${LS:-1024,512,256}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
echo "== gpu tests"; date -u
timeout ${TEST_S:-60} $DEV/run-tests --include-tag gpu --include-classname '.*FlashButterfly2KGpuTest.*' --disable-ansi-colors \
  > "$out/tests.txt" 2>&1
echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests.txt" | head -30
if [ "${TWICE:-1}" != 0 ]; then
  for tw in ${TWS:-hp hw}; do
    echo "== gpu tests, tw=$tw"; date -u
    JAVA_OPTS="-Dlongconv4j.cuda.fb2k.tw=$tw" timeout ${TEST_S:-60} $DEV/run-tests --include-tag gpu \
      --include-classname '.*FlashButterfly2KGpuTest.*' --disable-ansi-colors > "$out/tests-$tw.txt" 2>&1
    echo "tests (tw=$tw) exit $?"; grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests-$tw.txt" | head -30
  done
fi
echo "== java bench"; date -u
timeout ${JAVA_S:-60} $DEV/run-java ai.longconv4j.examples.bench.FlashButterfly2KBench "$out/f1k-bench.csv" 64 768 "$Ls" hp \
  > "$out/f1k-bench.txt" 2>&1; echo "java bench exit $?"
grep -E "^fb-" "$out/f1k-bench.txt"
if [ "${NCU:-1}" != 0 ]; then
  echo "== ncu"; date -u
  NCUB=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  JAVA_OPTS="-Dlongconv4j.cuda.fb2k.tw=${NCU_TW:-hw}" timeout ${NCU_S:-45} "$NCUB" --clock-control none --set full --import-source yes \
    --kernel-name regex:'^fbk_fwd' --launch-skip 1 --launch-count 1 -f -o "$out/fbk-1024" \
    $DEV/run-java ai.longconv4j.examples.bench.ProfileTarget 1024 3 > "$out/ncu-run.txt" 2>&1
  echo "ncu exit $?"
  if [ -f "$out/fbk-1024.ncu-rep" ]; then
    "$NCUB" -i "$out/fbk-1024.ncu-rep" --page details --print-details all > "$out/ncu-details.txt" 2>&1
    "$NCUB" -i "$out/fbk-1024.ncu-rep" --page source --csv --print-source sass > "$out/ncu-sass.csv" 2>&1 || true
    xz -T4 -6 "$out/ncu-sass.csv"; xz -T4 -6 "$out/ncu-details.txt"; rm -f "$out/fbk-1024.ncu-rep"
    xz -dc "$out/ncu-details.txt.xz" | grep -E "fbk_fwd|Duration|Registers Per|Achieved Occupancy|Warp Cycles Per Issued|Issue Slots Busy|Executed Ipc|L1/TEX Hit" | head -12
  fi
fi
mkdir -p "$out/tests"; mv "$out"/tests*.txt "$out/tests/" 2>/dev/null; tar -C "$out" -cJf "$out/tests.tar.xz" tests && rm -rf "$out/tests"
ls -la "$out"; date -u
