#!/usr/bin/env bash
# Session 17, helper pm4: learned_pm4.cu (lpm3 with per-block fragment tables) vs lpm3 / lpm2_b and FlashButterfly
# (BENCH-RESULTS.md round 30-pm4). ONE command per sitting; the tests and the bench are pkocc's sitting script
# (kernels-cuda/bench-runs/pkocc/pkocc-sitting.sh, staged next to this one: TESTS / BENCH / ORDER / CASES as there);
# this adds NCUM=1: Nsight Compute metrics (shared-memory load / store wavefronts, load bank conflicts, instructions,
# duration, registers) on ONE forward launch per "path@mode:L" in NCU_RUNS (kernels '^lpm[34]g?_').
# Stage (from the worktree): tools/stage-device.sh --out .device/pm4 --lean-jre \
#   --add kernels-cuda/bench-runs/pm4/pm4-sitting.sh --add kernels-cuda/bench-runs/pkocc/pkocc-sitting.sh --drop '...'
# Device (carry [".device/pm4"]): DEV=.device/pm4 bash .device/pm4/pm4-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/pm4-sitting}; mkdir -p "$out"
DEV=${DEV:-.device/pm4}
here=$(cd "$(dirname "$0")" && pwd)
if [ "${NCUM:-0}" != 0 ]; then
  m=l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum,l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum
  m=$m,l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum,l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum
  m=$m,l1tex__t_requests_pipe_lsu_mem_global_op_ld.sum,smsp__inst_executed.sum,gpu__time_duration.sum,launch__registers_per_thread
  m=$m,launch__occupancy_limit_shared_mem,launch__occupancy_limit_registers,sm__warps_active.avg.pct_of_peak_sustained_active
  for r in $(echo "${NCU_RUNS:-pm@causal:8192,pm-f@causal:8192}" | tr ',' ' '); do
    p=${r%@*}; c=${r#*@}; tag=$(echo "$p-$c" | tr ':' '-')
    echo "== ncu metrics $p $c"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.pm.order=$p -Dlongconv4j.bench.pm.cases=$c ${BOPTS:-}" timeout ${NCU_S:-40} \
      ncu --clock-control none --metrics "$m" -k regex:'^lpm[34]g?_' --launch-count 1 --kill yes \
      $DEV/run-java ai.longconv4j.examples.bench.PackedMonarchBench "$out/ncu-bench.csv" 64 768 > "$out/ncum-$tag.txt" 2>&1
    echo "ncu exit $?"
    grep -E "lpm[34]|l1tex__|smsp__|gpu__|launch__|sm__|==ERR|rror" "$out/ncum-$tag.txt" | grep -v "^packed" | cut -c1-150
  done
  rm -f "$out/ncu-bench.csv"
  tar -C "$out" -cf - $(cd "$out" && ls ncum-*.txt) | xz -T8 -6 > "$out/ncum.tar.xz"; rm -f "$out"/ncum-*.txt
fi
DEV=$DEV bash "$here/pkocc-sitting.sh" "$out"
