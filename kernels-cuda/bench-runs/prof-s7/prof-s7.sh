#!/usr/bin/env bash
# Session 7, first sitting: Nsight Compute profiles of the default causal bf16 forward kernels (B = 64 up to 16K,
# B·L = 64·16K above, H = 768) at L = 256, 1K, 4K, 8K, 16K, 32K (fb32) and 64K (three passes), so that the kernels'
# limits are read from hardware counters rather than guessed. Stage first (tools/stage-device.sh, --add this file),
# then on the device (carry [".device/prof"]):  DEV=.device/prof bash .device/prof/prof-s7.sh "$OUT"
set -u
out=${1:-/tmp/prof-s7}; mkdir -p "$out/txt" "$out/rep"
DEV=${DEV:-.device/prof}
log="$out/log.txt"
exec > >(tee -a "$log") 2>&1
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv; date -u
NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
echo "ncu: $NCU"; "$NCU" --version
"$NCU" --help | grep -E -A3 "print-source|--page" | head -30
$DEV/run-java -version 2>&1 | head -1
# L : launches to skip : launches to profile (one forward = 1 launch below 64K, 3 launches at 64K)
for spec in 1024:3:1 4096:3:1 8192:3:1 16384:3:1 32768:3:1 256:3:1 65536:6:3; do
  IFS=: read L skip cnt <<<"$spec"
  echo "== L=$L"; date -u
  timeout 120 "$NCU" --clock-control none --set full --target-processes all --kernel-name regex:'^fb' \
    --launch-skip "$skip" --launch-count "$cnt" -f -o "$out/rep/fwd-$L" \
    $DEV/run-java ai.longconv4j.examples.bench.ProfileTarget "$L" 6 > "$out/txt/run-$L.txt" 2>&1
  echo "ncu exit $?"; grep -E "ProfileTarget|==PROF==|rror" "$out/txt/run-$L.txt" | head -8
  if [ -f "$out/rep/fwd-$L.ncu-rep" ]; then
    "$NCU" -i "$out/rep/fwd-$L.ncu-rep" --page details --print-details all > "$out/txt/details-$L.txt" 2>&1
    "$NCU" -i "$out/rep/fwd-$L.ncu-rep" --page source --csv --print-source sass > "$out/txt/sass-$L.csv" 2>&1 || true
    "$NCU" -i "$out/rep/fwd-$L.ncu-rep" --page raw --csv > "$out/txt/raw-$L.csv" 2>&1
    grep -E "^  [a-z_0-9]+.*\(|Duration|Registers Per|Achieved Occupancy|Compute \(SM\) Throughput|Memory Throughput|Warp Cycles Per Issued|Issue Slots Busy|Executed Ipc" "$out/txt/details-$L.txt" | head -24
  fi
done
cat "$out"/txt/details-*.txt > "$out/details-all.txt"
tar -C "$out" -cJf "$out/sass-raw.tar.xz" txt
tar -C "$out" -cJf "$out/reps.tar.xz" rep
rm -rf "$out/txt" "$out/rep"
ls -la "$out"; date -u
