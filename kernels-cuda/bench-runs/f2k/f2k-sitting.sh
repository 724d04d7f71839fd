#!/usr/bin/env bash
# Session 7, helper f2k: the causal N = 512 - 2K forward of flashbutterfly2k.cu (fb2k) on the H200. One sitting: its GPU
# tests (and the classes whose default plans it now serves), then FlashButterfly2KBench (fb2k vs the _w3 twin, launch
# shapes, backwardInput, fp32 I/O; L = 1K and 256, B = 64, H = 768, causal) and the PyTorch fp32 baseline on the same
# sizes, then an Nsight Compute profile of fb2k's bf16 kernel at L = 1K. Stage first (from the worktree):
#   tools/stage-device.sh --out /work/main/.device/f2k --add kernels-cuda/bench-runs/f2k/f2k-sitting.sh \
#     --add examples/bench/flashbutterfly_torch.py --drop '...'
# then on the device (carry [".device/f2k"]):  DEV=.device/f2k bash .device/f2k/f2k-sitting.sh "$OUT"
# TEST_CLASSES (regex), TEST_S / JAVA_S / TORCH_S / NCU_S (timeouts), LS (default 1024,256), NCU=0 skips the profile,
# NCU=rt profiles the _rt kernel (twiddles in registers) instead of the default, TORCH=0 skips PyTorch,
# BENCH=twiddles times only _w3 vs fb2k (table) vs _ht vs _rt (and backwardInput fb2k vs _rt), bf16 and fp16.
# The script also runs from the repository (bash kernels-cuda/bench-runs/f2k/f2k-sitting.sh) with any stage as DEV
# (e.g. .device/final): the torch script is taken from examples/bench when the stage lacks it.
# Session 7 closing sitting (f2k2; from the root of merged main, stage at .device/final; ~45 s), final-s7.sh's F2K_CMD:
#   DEV=$D BENCH=twiddles NCU=rt NCU_S=40 TEST_S=60 JAVA_S=60 TORCH=0 bash kernels-cuda/bench-runs/f2k/f2k-sitting.sh \
#     "$out/f2k" 2>&1 | tail -25
set -u
out=${1:-/tmp/f2k-sitting}; mkdir -p "$out"
export PYTHONUNBUFFERED=1
DEV=${DEV:-.device/f2k}
Ls=${LS:-1024,256}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv; date -u; } \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"
echo "== gpu tests"; date -u
timeout ${TEST_S:-70} $DEV/run-tests --include-tag gpu \
  --include-classname "${TEST_CLASSES:-.*(FlashButterfly2KGpuTest).*}" --disable-ansi-colors > "$out/tests.txt" 2>&1
echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests.txt" | head -40
grep -E "rel err" "$out/tests.txt" | sort -t' ' -k1,1 | awk '{print}' | sort -g -k 5 -t ' ' | tail -3
echo "== java bench"; date -u
timeout ${JAVA_S:-50} $DEV/run-java ai.longconv4j.examples.bench.FlashButterfly2KBench "$out/f2k-bench.csv" 64 768 "$Ls" ${BENCH:-all} \
  > "$out/f2k-bench.txt" 2>&1; echo "java bench exit $?"
grep -E "^fb-" "$out/f2k-bench.txt"
if [ "${TORCH:-1}" != 0 ]; then
  echo "== torch bench"; date -u
  TORCHPY=$DEV/flashbutterfly_torch.py; [ -f "$TORCHPY" ] || TORCHPY=examples/bench/flashbutterfly_torch.py
  timeout ${TORCH_S:-30} python3 "$TORCHPY" "$out/torch-bench.csv" 64 768 "$Ls" \
    > "$out/torch-bench.txt" 2>&1; echo "torch bench exit $?"; grep -E "fftconv float32|copy" "$out/torch-bench.txt"
fi
if [ "${NCU:-1}" != 0 ]; then
  echo "== ncu"; date -u
  NCUB=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  NCUTW=table; [ "${NCU:-1}" = rt ] && NCUTW=reg   # the kernel profiled: the default, or the _rt variant
  JAVA_OPTS="-Dlongconv4j.cuda.fb2k.tw=$NCUTW" timeout ${NCU_S:-50} "$NCUB" --clock-control none --set full --import-source yes --kernel-name regex:'^fbk_fwd' \
    --launch-skip 1 --launch-count 1 -f -o "$out/fbk-1024" \
    $DEV/run-java ai.longconv4j.examples.bench.ProfileTarget 1024 3 > "$out/ncu-run.txt" 2>&1
  echo "ncu exit $?"
  if [ -f "$out/fbk-1024.ncu-rep" ]; then
    "$NCUB" -i "$out/fbk-1024.ncu-rep" --page details --print-details all > "$out/ncu-details.txt" 2>&1
    "$NCUB" -i "$out/fbk-1024.ncu-rep" --page source --csv --print-source sass > "$out/ncu-sass.csv" 2>&1 || true
    xz -T4 -6 "$out/ncu-sass.csv"; rm -f "$out/fbk-1024.ncu-rep"
    grep -E "Duration|Registers Per|Achieved Occupancy|Theoretical Occupancy|Compute \(SM\) Throughput|Memory Throughput|Warp Cycles Per Issued|Issue Slots Busy|Executed Ipc|L1/TEX Hit|L2 Hit|Bank" "$out/ncu-details.txt" | head -30
  fi
fi
ls -la "$out"; date -u
