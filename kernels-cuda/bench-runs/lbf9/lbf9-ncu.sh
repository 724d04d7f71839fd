#!/usr/bin/env bash
# Session 11, helper lbf9: ncu --set full of the 1K backward's chain-Gram chains (pdcg1, then pdcg1r) and dFb / dGb Gram
# kernels (lbt_gram_bf16_32x64_a_async, then _async$STAGES) from one backward without, then with registerGrams +
# gramStages (LearnedBench profile 1024 reggram): instruction mix, stalls, occupancy, DRAM.
# Device (after lbf9-sitting.sh, same stage): DEV=.device/lbf9 bash .device/lbf9/lbf9-ncu.sh "$OUT/s2"
#   (writes ncu-full.txt and ncu-full.tar.xz)
set -u
out=${1:-/tmp/lbf9-ncu}; mkdir -p "$out"; x="$out/ncufull"; mkdir -p "$x"
DEV=${DEV:-.device/lbf9}
NCUB=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
echo "== ncu --set full, 1K chains and _a Grams (stages ${STAGES:-3})"; date -u
JAVA_OPTS="-Dlongconv4j.bench.learned.stages=${STAGES:-3}" timeout ${FULL_S:-200} "$NCUB" --clock-control none --set full --import-source no \
  --kernel-name regex:"${FULL_RE:-32x64(pdcg1|_a_async)}" --launch-count ${FULL_N:-8} -f -o "$x/full" \
  $DEV/run-java ai.longconv4j.examples.bench.LearnedBench profile 1024 reggram > "$x/full-run.txt" 2>&1
echo "ncu full exit $?"
if [ -f "$x/full.ncu-rep" ]; then
  "$NCUB" -i "$x/full.ncu-rep" --page details --print-details all > "$x/full-details.txt" 2>&1
  grep -E "^  lbt_|Duration|DRAM Throughput|Executed Ipc Active|Issue Slots Busy|Executed Instructions  |Registers Per|Achieved Occupancy|Warp Cycles Per Issued|No Eligible|L1/TEX Hit|Mem Busy|Max Bandwidth|Theoretical Occupancy|Stall|stall" \
    "$x/full-details.txt" > "$out/ncu-full.txt"
  "$NCUB" -i "$x/full.ncu-rep" --page raw --csv --metrics gpu__time_duration.sum,smsp__average_warp_latency_issue_stalled_barrier,smsp__average_warp_latency_issue_stalled_long_scoreboard,smsp__average_warp_latency_issue_stalled_short_scoreboard,smsp__average_warp_latency_issue_stalled_mio_throttle,smsp__average_warp_latency_issue_stalled_math_pipe_throttle,smsp__average_warp_latency_issue_stalled_wait,smsp__average_warp_latency_issue_stalled_lg_throttle,smsp__average_warp_latency_issue_stalled_tex_throttle,smsp__average_warp_latency_issue_stalled_not_selected,smsp__average_warp_latency_issue_stalled_selected,smsp__average_warp_latency_issue_stalled_dispatch_stall,smsp__average_warp_latency_issue_stalled_drain,smsp__average_warp_latency_issue_stalled_membar,smsp__average_warp_latency_issue_stalled_sleeping,smsp__average_warp_latency_issue_stalled_branch_resolving,smsp__average_warp_latency_issue_stalled_no_instruction,smsp__average_warp_latency_issue_stalled_imc_miss,smsp__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,l1tex__data_pipe_lsu_wavefronts_mem_shared.sum,smsp__inst_executed.sum,dram__bytes_read.sum,dram__bytes_write.sum > "$out/ncu-full-raw.csv" 2>&1 || true
  rm -f "$x/full.ncu-rep"
fi
cat "$out/ncu-full.txt" | head -150; cat "$out/ncu-full-raw.csv" | cut -c1-600
tar -C "$x" -cf - . | xz -T8 -6 > "$out/ncu-full.tar.xz"; rm -rf "$x"
ls -la "$out"; date -u
