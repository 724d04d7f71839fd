#!/usr/bin/env bash
# Helper f32's sitting (round 9c): FlashButterfly32GpuTest (the fb32 _w3 kernel and the round-8b kernel vs float64 and
# vs each other), ThreePassForwardStepsGpuTest + ThreePassGpuTest (the three-pass forward with the tiled inverse outer
# pass off by default, on with fwdsteps=tile), then Fb32Bench (new vs old in one process: L = 32K B = 32, 64K B = 16,
# 256K B = 4, H = 768), the PyTorch fp32 baseline on the same sizes, and (NCU_S > 0) an Nsight Compute profile of the
# default 32K forward (the _w3 kernel) with its details page and the SASS-level source page. Staged with
#   tools/stage-device.sh --out /work/main/.device/f32 --add kernels-cuda/bench-runs/f32/f32-sitting.sh \
#     --add examples/bench/flashbutterfly_torch.py --drop '...'
# and run on the device with carry [".device/f32"]:  DEV=.device/f32 bash .device/f32/f32-sitting.sh $OUT
set -u
out=${1:-/tmp/f32}; mkdir -p "$out"; DEV=${DEV:-.device/f32}; Ls=${LS:-32768,65536,262144}
export PYTHONUNBUFFERED=1
t0=$(date +%s)
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv \
  > "$out/gpu.txt" 2>&1; date -u >> "$out/gpu.txt"
if [ "${TEST_S:-70}" -gt 0 ]; then
  echo "== tests"; s=$(date +%s)
  timeout ${TEST_S:-70} $DEV/run-tests --include-tag gpu \
    ${TEST_ARGS:---include-classname .*(FlashButterfly32GpuTest|ThreePassForwardStepsGpuTest|ThreePassGpuTest)} \
    --disable-ansi-colors > "$out/tests.txt" 2>&1
  echo "tests exit $? ($(( $(date +%s) - s )) s)"
  grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests.txt" | head -30
fi
echo "== Fb32Bench"; s=$(date +%s)
JAVA_OPTS="--add-modules jdk.incubator.vector" timeout ${JAVA_S:-70} $DEV/run-java ai.longconv4j.examples.bench.Fb32Bench \
  "$out/java-bench.csv" 64 768 "$Ls" > "$out/java-bench.txt" 2>&1
echo "Fb32Bench exit $? ($(( $(date +%s) - s )) s)"
grep -E "^(fb32|three|3pass|  )|FAILED" "$out/java-bench.txt" | grep -v ",[0-9]" | head -40
if [ "${TORCH_S:-30}" -gt 0 ]; then
  echo "== torch"; s=$(date +%s)
  timeout ${TORCH_S:-30} python3 $DEV/flashbutterfly_torch.py "$out/torch-bench.csv" 64 768 "$Ls" > "$out/torch-bench.txt" 2>&1
  echo "torch exit $? ($(( $(date +%s) - s )) s)"; grep -vE "^(path|[a-z].*,[0-9]+,)" "$out/torch-bench.txt" | tail -12
fi
left=$(( ${BUDGET_S:-190} - ($(date +%s) - t0) ))
if [ "${NCU_S:-40}" -gt 0 ] && [ "$left" -gt 25 ]; then
  NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  echo "== ncu ($NCU, $left s left)"; s=$(date +%s)
  lim=$(( left - 8 < ${NCU_S:-40} ? left - 8 : ${NCU_S:-40} ))
  timeout $lim "$NCU" --clock-control none --set full --kernel-name regex:'^fb32_fwd' --launch-skip 2 --launch-count 1 \
    -f -o "$out/prof32" $DEV/run-java ai.longconv4j.examples.bench.ProfileTarget 32768 3 > "$out/ncu-run.txt" 2>&1
  echo "ncu exit $? ($(( $(date +%s) - s )) s)"
  if [ -f "$out/prof32.ncu-rep" ]; then
    "$NCU" -i "$out/prof32.ncu-rep" --page details --print-details all > "$out/ncu-details.txt" 2>&1
    "$NCU" -i "$out/prof32.ncu-rep" --page source --csv --print-source sass > "$out/ncu-sass.csv" 2>&1
    xz -T2 -6 "$out/ncu-sass.csv"; rm -f "$out/prof32.ncu-rep"
    grep -E "Duration|Registers Per|Achieved Occupancy|Throughput|Warp Cycles Per Issued|Issue Slots Busy|Executed Ipc" \
      "$out/ncu-details.txt" | head -16
  fi
fi
echo "total $(( $(date +%s) - t0 )) s"
