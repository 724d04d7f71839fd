#!/usr/bin/env bash
# Session 11, helper lbf8: the extra ncu passes of sitting lbf8-3 (after lbf8-sitting.sh, same stage):
#   per-kernel durations (SpeedOfLight + LaunchStats) of one forward + backward without, then with chainGrams + vectorDd
#   at L = 256 and 512 (LearnedBench profile L chaingram; lbf8-sitting.sh's NCU pass does 1K), and --set full of the 1K
#   dumping chains (pdc twice, then pdcg1 twice) for their instruction mix and stalls.
# Device: DEV=.device/lbf8 bash .device/lbf8/lbf8-ncu.sh "$OUT/s3"   (writes ncu-extra.txt and ncu-extra.tar.xz)
set -u
out=${1:-/tmp/lbf8-ncu}; mkdir -p "$out"; x="$out/ncux"; mkdir -p "$x"
DEV=${DEV:-.device/lbf8}
NCUB=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
for L in ${NCU_LS:-256 512}; do
  echo "== ncu L=$L"; date -u
  timeout ${NCU_S:-80} "$NCUB" --clock-control none --section SpeedOfLight --section LaunchStats --kernel-name regex:'^lbt_' \
    --launch-count 40 -f -o "$x/lbt$L" $DEV/run-java ai.longconv4j.examples.bench.LearnedBench profile $L chaingram > "$x/ncu$L-run.txt" 2>&1
  echo "ncu $L exit $?"
  if [ -f "$x/lbt$L.ncu-rep" ]; then
    "$NCUB" -i "$x/lbt$L.ncu-rep" --page details --print-details all > "$x/ncu$L-details.txt" 2>&1
    echo "== L=$L" >> "$out/ncu-extra.txt"
    grep -E "^  lbt_|Duration|DRAM Throughput" "$x/ncu$L-details.txt" | paste - - - >> "$out/ncu-extra.txt"
    rm -f "$x/lbt$L.ncu-rep"
  fi
done
if [ "${FULL:-1}" != 0 ]; then
  echo "== ncu --set full, 1K dumping chains"; date -u
  timeout ${FULL_S:-150} "$NCUB" --clock-control none --set full --import-source no --kernel-name regex:'32x64pdc' --launch-count 4 -f \
    -o "$x/full" $DEV/run-java ai.longconv4j.examples.bench.LearnedBench profile 1024 chaingram > "$x/full-run.txt" 2>&1
  echo "ncu full exit $?"
  if [ -f "$x/full.ncu-rep" ]; then
    "$NCUB" -i "$x/full.ncu-rep" --page details --print-details all > "$x/full-details.txt" 2>&1
    echo "== --set full, 1K" >> "$out/ncu-extra.txt"
    grep -E "^  lbt_|Duration|DRAM Throughput|Executed Ipc Active|Issue Slots Busy|Executed Instructions  |Registers Per|Achieved Occupancy|Warp Cycles Per Issued|No Eligible|L1/TEX Hit|Mem Busy|Max Bandwidth|Theoretical Occupancy" \
      "$x/full-details.txt" >> "$out/ncu-extra.txt"
    rm -f "$x/full.ncu-rep"
  fi
fi
cat "$out/ncu-extra.txt"
tar -C "$x" -cf - . | xz -T8 -6 > "$out/ncu-extra.tar.xz"; rm -rf "$x"
ls -la "$out"; date -u
