#!/usr/bin/env bash
# Session 8, helper lbf: the tensor-core learned butterfly's pair kernels (learned_tc.cu lbp_row: two warps per row, N1 = 32)
# on the H200. One sitting: the learned GPU tests (default route, then the ConvOps routes with the pair kernels and the
# double-buffered Gram kernels on: -Dlongconv4j.learned.pair=on -Dlongconv4j.learned.asyncgrams=on),
# LearnedBench (FlashButterfly's bf16 forward, then learned one-warp / split / pair: forward, forward + backward, backward;
# causal, B = 64, H = 768, bf16, L = 256, 512, 1K), then an Nsight Compute profile (--set full) of the learned forward
# kernels and the backward's kernels at L = 1K. Stage first (from the worktree):
#   tools/stage-device.sh --out /work/main/.device/lbf --add kernels-cuda/bench-runs/lbf3/lbf3-sitting.sh --drop '...'
# then on the device (carry [".device/lbf"]):  DEV=.device/lbf bash .device/lbf/lbf3-sitting.sh "$OUT"
# LS (default 256,512,1024), NCU=0 skips the profile, TEST_S / JAVA_S / NCU_S timeouts. Runs from any stage as DEV (e.g.
# .device/final for the closing sitting: DEV=$D NCU=0 TEST_S=40 JAVA_S=40 bash kernels-cuda/bench-runs/lbf3/lbf3-sitting.sh "$out/lbf").
# Session 8, lbf2: SCHEMES (LearnedBench's -Dlongconv4j.bench.learned.schemes; unset: its own list) and PAIRDEF=0 (skip
# the second test run). The closing call (current defaults vs the lbf2 variants: pairt at N1 = 32, f / f2 at N1 = 16;
# ~45 s, at most 25 + 30 s by its timeouts):
#   DEV=$D NCU=0 PAIRDEF=0 SCHEMES=default,pairt,f,f2 TEST_S=25 JAVA_S=30 bash kernels-cuda/bench-runs/lbf3/lbf3-sitting.sh "$out/lbf3"
# Session 9, lbf4: PROFILE (LearnedBench's arguments under ncu, default "profile 1024"), NCU_RE (the kernels ncu
# profiles), DEFOPTS / DEFTESTS (the second test run's properties and classes); lbf4/lbf4-sitting.sh calls this.
set -u
out=${1:-/tmp/lbf3-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/lbf}
Ls=${LS:-256,512,1024}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
echo "== gpu tests"; date -u
timeout ${TEST_S:-60} $DEV/run-tests --include-tag gpu --include-classname '.*Learned.*' --disable-ansi-colors \
  > "$out/tests.txt" 2>&1
echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests.txt" | head -30
grep -E "rel err vs" "$out/tests.txt" | sort -g -k 9 | tail -4
# per scheme (first word of the line): the largest forward rel err vs the current kernel and vs lib
grep -E "forward rel err vs current kernel" "$out/tests.txt" | awk '{gsub(",", "", $0); s=$1; c=$(NF-3); l=$NF;
  if (!(s in mc) || c > mc[s]) mc[s] = c; if (!(s in ml) || l > ml[s]) ml[s] = l; n[s]++}
  END {for (s in n) printf "%-7s %3d cases: max rel err vs current kernel %s, vs lib %s\n", s, n[s], mc[s], ml[s]}'
if [ "${PAIRDEF:-1}" != 0 ]; then
  JAVA_OPTS="${DEFOPTS:--Dlongconv4j.learned.pair=on -Dlongconv4j.learned.asyncgrams=on}" timeout ${TEST_S:-60} $DEV/run-tests --include-tag gpu \
    --include-classname "${DEFTESTS:-.*Learned(Conv|ConvTensorCore)GpuTest}" --disable-ansi-colors > "$out/tests-pair-default.txt" 2>&1
  echo "pair-default tests exit $?"; grep -E "tests (successful|failed)|✘" "$out/tests-pair-default.txt" | head -10
fi
echo "== java bench"; date -u
JAVA_OPTS="${SCHEMES:+-Dlongconv4j.bench.learned.schemes=$SCHEMES}" timeout ${JAVA_S:-60} $DEV/run-java ai.longconv4j.examples.bench.LearnedBench "$out/bench.csv" 64 768 "$Ls" \
  > "$out/bench.txt" 2>&1; echo "java bench exit $?"
grep -E "learned|flashbutterfly" "$out/bench.txt" | grep -v '^[a-z].*,' | head -40
if [ "${NCU:-1}" != 0 ]; then
  echo "== ncu"; date -u
  NCUB=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  timeout ${NCU_S:-70} "$NCUB" --clock-control none --set full --import-source yes \
    --kernel-name regex:"${NCU_RE:-^lbt_(forward|gram_bf16|dkp|taps)}" --launch-count 10 -f -o "$out/lbt-1024" \
    $DEV/run-java ai.longconv4j.examples.bench.LearnedBench ${PROFILE:-profile 1024} > "$out/ncu-run.txt" 2>&1
  echo "ncu exit $?"
  if [ -f "$out/lbt-1024.ncu-rep" ]; then
    "$NCUB" -i "$out/lbt-1024.ncu-rep" --page details --print-details all > "$out/ncu-details.txt" 2>&1
    "$NCUB" -i "$out/lbt-1024.ncu-rep" --page source --csv --print-source sass > "$out/ncu-sass.csv" 2>&1 || true
    tar -C "$out" -cf - ncu-details.txt ncu-sass.csv | xz -T8 -6 > "$out/ncu.tar.xz"; rm -f "$out/lbt-1024.ncu-rep" "$out/ncu-sass.csv"
    grep -E "^  lbt_|Duration|Registers Per|Achieved Occupancy|Theoretical Occupancy|Compute \(SM\) Throughput|Memory Throughput|Warp Cycles Per Issued|Issue Slots Busy|Executed Ipc A|DRAM Throughput" "$out/ncu-details.txt" | head -120
    rm -f "$out/ncu-details.txt"
  fi
fi
ls -la "$out"; date -u
