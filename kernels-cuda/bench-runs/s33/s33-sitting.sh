#!/usr/bin/env bash
# Session 29, coordinator (session 28's script, unchanged but for the names): the learned one-pass forward at M = 32768
# (lpm4y_*_m32768_t256) against its twins (lpm_fused, the three-pass forward) and FlashButterfly.
# ONE command per sitting; groups with their own timeouts, summaries streamed to stdout, logs packed as they finish:
#   tests  GPU test classes matching TESTS_RE (default PackedMonarchOuterGpuTest|PackedMonarchGpuTest)
#   pm     PackedMonarchBench, cases PMCASES (mode:L,..), paths PMORDER (fb, pm[-opts]), B = 64, H = 768, fwd + du timed
#   p3     (P3BENCH=1) PackedThreePassBench, cases P3CASES (L:B,..), paths P3ORDER
#   op     LearnedOpBench per "B:L" of OPCASES, engines OPORDER, extra -D options OPOPTS; with OPALT set, each case a second
#          time with OPALT's options added (OPALT_<L> instead where set; logs op-B-L-alt.*: the twin in its own process);
#          OPALT_CP=jar: the second run with that jar first on the classpath (a previous build's fatbins: an A / B of kernels)
#   ncu    (NCU=1) Nsight Compute of the first NCU_N launches of each kernel regex in NCU_K, PackedMonarchBench (NCU_CASE, NCU_ORDER)
#   ncuk   (NCUK=1) Nsight Compute sections of the first NCUK_N (3) launches matching a kernel regex in LearnedOpBench, one
#          run per "B:L:regex" of NCUK_RUNS (engines NCUK_ORDER, default packed); NCUK_SRC=1: with source counters (the
#          SASS page as CSV); NCUK_DIS="module ..": the modules' sm_90a SASS with line info (cuobjdump, nvdisasm -g)
#   ncuop  (NCUOP=1) every kernel's gpu__time_duration in LearnedOpBench (engines NCUOP_ORDER) per "B:L" of NCUOP_CASES
#          (and again with NCUOP_ALT's options added where set)
# Stage: tools/stage-device.sh --out .device/s30 --sm 90 --lean-jre --add kernels-cuda/bench-runs/s30/s30-sitting.sh --drop '..'
# Device (carry [".device/s30"]): DEV=.device/s30 bash .device/s30/s30-sitting.sh "$OUT/s1"
set -u
out=${1:-/tmp/s30}; mkdir -p "$out"
DEV=${DEV:-.device/s30}
raw="$out/r/x"; mkdir -p "$raw"
pack() { tar -C "$raw" -cf - . | xz -T8 -6 > "$out/logs.tar.xz"; }
nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader; date -u
if [ "${TESTS:-1}" != 0 ]; then
  t0=$(date +%s)
  timeout ${TEST_S:-200} $DEV/run-tests --include-tag gpu --include-classname ".*(${TESTS_RE:-PackedMonarchOuterGpuTest|PackedMonarchGpuTest})" --disable-ansi-colors > "$raw/tests.txt" 2>&1
  echo "== tests (${TESTS_RE:-default}): exit $? after $(( $(date +%s) - t0 )) s"
  grep -E "tests (successful|failed|aborted|skipped|found)" "$raw/tests.txt" | tr -s ' ' | paste -sd' '
  grep -E "✘" "$raw/tests.txt" | cut -c1-220 | head -12
  grep -E "AssertionFailed|Exception:" "$raw/tests.txt" | grep -v ProviderNotFound | cut -c1-300 | head -8
  grep -cE "^pm4 " "$raw/tests.txt"
  pack
fi
if [ "${PMBENCH:-1}" != 0 ]; then
  echo "== pm bench ${PMCASES:-causal:4096} ${PMORDER:-fb,pm,pm-x,pm-x,pm,fb}"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.pm.cases=${PMCASES:-causal:4096} -Dlongconv4j.bench.pm.order=${PMORDER:-fb,pm,pm-x,pm-x,pm,fb} ${PMOPTS:-}" \
    timeout ${PM_S:-200} $DEV/run-java ai.longconv4j.examples.bench.PackedMonarchBench "$raw/pm.csv" 64 768 > "$raw/pm.txt" 2>&1
  echo "pm bench exit $?"; grep -E "vs float64|ms|Exception|rror" "$raw/pm.txt" | grep -v "^\s*at " | cut -c1-200 | head -80
  pack
fi
if [ "${P3BENCH:-0}" != 0 ]; then
  echo "== p3 bench ${P3CASES:-32768:32,65536:16,262144:4} ${P3ORDER:-fb,p3-nx,p3-x,p3-x,p3-nx,fb}"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.p3.cases=${P3CASES:-32768:32,65536:16,262144:4} -Dlongconv4j.bench.p3.order=${P3ORDER:-fb,p3-nx,p3-x,p3-x,p3-nx,fb} ${P3OPTS:-}" \
    timeout ${P3B_S:-150} $DEV/run-java ai.longconv4j.examples.bench.PackedThreePassBench "$raw/p3.csv" 64 768 > "$raw/p3.txt" 2>&1
  echo "p3 bench exit $?"; grep -E " ms |Exception|rror" "$raw/p3.txt" | grep -v "^\s*at " | cut -c1-200 | head -60
  pack
fi
if [ "${OPBENCH:-0}" != 0 ]; then
  for c in ${OPCASES:-64:4096}; do
    b=${c%%:*}; l=${c#*:}
    echo "== op bench B=$b L=$l ${OPOPTS:-}"; date -u
    JAVA_OPTS="-Dlongconv4j.bench.op.order=${OPORDER:-monarch,packed,packed,monarch} -Dlongconv4j.bench.op.groups=1 -Dlongconv4j.bench.op.reps=${OPREPS:-20} -Dlongconv4j.bench.op.plans=false ${OPOPTS:-}" \
      timeout ${OP_S:-90} $DEV/run-java ai.longconv4j.examples.bench.LearnedOpBench "$raw/op-$b-$l.csv" "$b" 768 "$l" > "$raw/op-$b-$l.txt" 2>&1
    echo "op bench exit $?"; grep -E " ms |peak|Exception|rror" "$raw/op-$b-$l.txt" | grep -v "^\s*at " | head -24 | cut -c1-220
    av="OPALT_$l"; alt="${!av:-${OPALT:-}}"   # OPALT_<L> (e.g. OPALT_4096) overrides OPALT for that length
    if [ -n "$alt" ] || [ -n "${OPALT_CP:-}" ]; then
      echo "== op bench B=$b L=$l alt: $alt ${OPALT_CP:+classpath first: $OPALT_CP}"
      runj="$DEV/run-java"
      if [ -n "${OPALT_CP:-}" ]; then   # the alt run with OPALT_CP's jar ahead of the staged ones (e.g. a previous build's fatbins)
        . $DEV/unpack; acp="$(readlink -f $OPALT_CP):$(ls $DEV/cp/*.jar | tr '\n' ':')"
        runj="$out/r/alt-java.sh"; jv=$(readlink -f $DEV/jre/bin/java)
        printf '#!/usr/bin/env bash\nexec %s --enable-native-access=ALL-UNNAMED ${JAVA_OPTS:-} -cp %s "$@"\n' "$jv" "$acp" > "$runj"; chmod +x "$runj"
      fi
      JAVA_OPTS="-Dlongconv4j.bench.op.order=${OPORDER:-monarch,packed,packed,monarch} -Dlongconv4j.bench.op.groups=1 -Dlongconv4j.bench.op.reps=${OPREPS:-20} -Dlongconv4j.bench.op.plans=false ${OPOPTS:-} $alt" \
        timeout ${OP_S:-90} $runj ai.longconv4j.examples.bench.LearnedOpBench "$raw/op-$b-$l-alt.csv" "$b" 768 "$l" > "$raw/op-$b-$l-alt.txt" 2>&1
      echo "op bench alt exit $?"; grep -E " ms |peak|Exception|rror" "$raw/op-$b-$l-alt.txt" | grep -v "^\s*at " | head -24 | cut -c1-220
    fi
    pack
  done
fi
if [ "${NCU:-0}" != 0 ]; then
  ncu=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  echo "== ncu ${ncu:-none} ${NCU_K:-lpm4s_bf16_m4096 lpm4x_bf16_m4096} ${NCU_CASE:-causal:4096} ${NCU_ORDER:-pm,pm-x}"; date -u
  if [ -n "$ncu" ]; then
    . $DEV/unpack
    for k in ${NCU_K:-lpm4s_bf16_m4096 lpm4x_bf16_m4096}; do
      JAVA_OPTS="-Dlongconv4j.bench.pm.cases=${NCU_CASE:-causal:4096} -Dlongconv4j.bench.pm.order=${NCU_ORDER:-pm,pm-x} -Dlongconv4j.bench.pm.du=false -Dlongconv4j.bench.warmup.ms=0" \
        timeout ${NCU_S:-100} "$ncu" --target-processes all --kernel-name "regex:$k" --launch-count ${NCU_N:-1} \
          --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats --section MemoryWorkloadAnalysis \
          --section ComputeWorkloadAnalysis --section SchedulerStats --section InstructionStats --section SourceCounters \
          -o "$out/ncu-$k" $DEV/run-java ai.longconv4j.examples.bench.PackedMonarchBench "$raw/ncu-pm.csv" 64 768 > "$raw/ncu-run-$k.txt" 2>&1
      echo "ncu $k exit $?"; tail -2 "$raw/ncu-run-$k.txt" | cut -c1-200
      "$ncu" -i "$out/ncu-$k.ncu-rep" --page details >> "$out/ncu-details.txt" 2>&1
      "$ncu" -i "$out/ncu-$k.ncu-rep" --page source --csv --print-source sass > "$out/ncu-source-$k.csv" 2>&1; xz -T8 -6 "$out/ncu-source-$k.csv"
      rm -f "$out/ncu-$k.ncu-rep"
    done
    grep -E "^  lpm4|Duration|Warp Cycles Per Issued|Mem Busy|Compute \(SM\)|Achieved Occupancy|Registers Per|Executed Instructions  " "$out/ncu-details.txt" | head -60
  fi
  pack
fi
if [ "${NCUK:-0}" != 0 ]; then   # full sections of kernels of the learned op's step
  ncu=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  echo "== ncuk ${ncu:-none} ${NCUK_RUNS:-64:2048:lp3g_2kbmid}"; date -u
  if [ -n "$ncu" ]; then
    . $DEV/unpack
    for run in ${NCUK_RUNS:-64:2048:lp3g_2kbmid}; do
      b=${run%%:*}; r=${run#*:}; l=${r%%:*}; k=${r#*:}
      JAVA_OPTS="-Dlongconv4j.bench.op.order=${NCUK_ORDER:-packed} -Dlongconv4j.bench.op.groups=1 -Dlongconv4j.bench.op.reps=1 -Dlongconv4j.bench.op.plans=false -Dlongconv4j.bench.warmup.ms=0 ${OPOPTS:-}" \
        timeout ${NCUK_S:-100} "$ncu" --target-processes all --kernel-name "regex:$k" --launch-count ${NCUK_N:-3} \
          --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats --section MemoryWorkloadAnalysis \
          --section ComputeWorkloadAnalysis --section SchedulerStats --section InstructionStats ${NCUK_SRC:+--section SourceCounters} \
          -o "$out/ncuk-$l" $DEV/run-java ai.longconv4j.examples.bench.LearnedOpBench "$raw/ncuk-op.csv" "$b" 768 "$l" > "$raw/ncuk-run-$l.txt" 2>&1
      echo "ncuk $b:$l:$k exit $?"; tail -2 "$raw/ncuk-run-$l.txt" | cut -c1-200
      "$ncu" -i "$out/ncuk-$l.ncu-rep" --page details > "$out/ncuk-details-$l.txt" 2>&1
      if [ -n "${NCUK_SRC:-}" ]; then   # per-instruction counts and stall samples (SASS), for the line map below
        "$ncu" -i "$out/ncuk-$l.ncu-rep" --page source --csv --print-source sass > "$out/ncuk-source-$l.csv" 2>&1; xz -T8 -6 "$out/ncuk-source-$l.csv"
      fi
      rm -f "$out/ncuk-$l.ncu-rep"
      grep -E "^  lp|Duration|Warp Cycles Per Issued|Mem Busy|Max Bandwidth|DRAM Throughput|Compute \(SM\)|Achieved Occupancy|Registers Per|Executed Instructions  |Memory Throughput" "$out/ncuk-details-$l.txt" | head -60
    done
    if [ -n "${NCUK_DIS:-}" ]; then   # SASS with line info of NCUK_DIS's modules (fatbins from the kernels jar), sm_90a
      bin=$(dirname "$ncu"); d="$raw/dis"; mkdir -p "$d"; jar=$(readlink -f $(ls $DEV/cp/longconv4j-kernels-cuda-*.jar | grep -v tests | head -1))
      for mod in $NCUK_DIS; do
        (cd "$d" && { python3 -c "import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2])" "$jar" "ai/longconv4j/cuda/$mod.fatbin" || unzip -o -q "$jar" "ai/longconv4j/cuda/$mod.fatbin"; } && "$bin/cuobjdump" -xelf all "ai/longconv4j/cuda/$mod.fatbin" > /dev/null 2>&1)
        for cb in "$d"/*sm_90a*.cubin; do "$bin/nvdisasm" -g -c "$cb" > "$out/sass-$mod.txt" 2>&1; done
        ls "$d"; rm -f "$d"/*.cubin; xz -T8 -6 "$out/sass-$mod.txt"; rm -rf "$d"/ai
      done
    fi
  fi
  pack
fi
if [ "${NCUOP:-0}" != 0 ]; then   # every kernel's duration in LearnedOpBench's steps (ncu, one metric; no nsys report here)
  ncu=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  for c in ${NCUOP_CASES:-64:4096}; do
    b=${c%%:*}; l=${c#*:}
    echo "== ncu op B=$b L=$l ${NCUOP_ORDER:-packed}"; date -u
    [ -n "$ncu" ] && . $DEV/unpack && JAVA_OPTS="-Dlongconv4j.bench.op.order=${NCUOP_ORDER:-packed} -Dlongconv4j.bench.op.groups=1 -Dlongconv4j.bench.op.reps=${NCUOP_REPS:-2} -Dlongconv4j.bench.op.plans=false -Dlongconv4j.bench.warmup.ms=0 ${OPOPTS:-}" \
      timeout ${NCUOP_S:-150} "$ncu" --target-processes all --metrics gpu__time_duration.sum --cache-control none --clock-control none --csv \
        --log-file "$out/ncu-op-$b-$l.csv" $DEV/run-java ai.longconv4j.examples.bench.LearnedOpBench "$raw/ncuop-$b-$l.csv" "$b" 768 "$l" > "$raw/ncuop-$b-$l.txt" 2>&1
    echo "ncu op exit $?"; grep -E " ms " "$raw/ncuop-$b-$l.txt" | head -4; xz -T8 -6 "$out/ncu-op-$b-$l.csv"
    if { [ -n "${NCUOP_ALT:-}" ] || [ -n "${NCUOP_ALT_CP:-}" ]; } && [ -n "$ncu" ]; then   # the same with NCUOP_ALT's options added
      # (ncu-op-B-L-alt.csv); NCUOP_ALT_CP=jar (session 33): with that jar first on the classpath, as OPALT_CP
      echo "== ncu op B=$b L=$l alt: ${NCUOP_ALT:-} ${NCUOP_ALT_CP:+classpath first: $NCUOP_ALT_CP}"
      runj="$DEV/run-java"
      if [ -n "${NCUOP_ALT_CP:-}" ]; then
        mkdir -p "$out/r"; acp="$(readlink -f $NCUOP_ALT_CP):$(ls $DEV/cp/*.jar | tr '\n' ':')"
        runj="$out/r/ncu-alt-java.sh"; jv=$(readlink -f $DEV/jre/bin/java)
        printf '#!/usr/bin/env bash\nexec %s --enable-native-access=ALL-UNNAMED ${JAVA_OPTS:-} -cp %s "$@"\n' "$jv" "$acp" > "$runj"; chmod +x "$runj"
      fi
      JAVA_OPTS="-Dlongconv4j.bench.op.order=${NCUOP_ORDER:-packed} -Dlongconv4j.bench.op.groups=1 -Dlongconv4j.bench.op.reps=${NCUOP_REPS:-2} -Dlongconv4j.bench.op.plans=false -Dlongconv4j.bench.warmup.ms=0 ${OPOPTS:-} ${NCUOP_ALT:-}" \
        timeout ${NCUOP_S:-150} "$ncu" --target-processes all --metrics gpu__time_duration.sum --cache-control none --clock-control none --csv \
          --log-file "$out/ncu-op-$b-$l-alt.csv" $runj ai.longconv4j.examples.bench.LearnedOpBench "$raw/ncuop-$b-$l-alt.csv" "$b" 768 "$l" > "$raw/ncuop-$b-$l-alt.txt" 2>&1
      echo "ncu op alt exit $?"; xz -T8 -6 "$out/ncu-op-$b-$l-alt.csv"
    fi
  done
  pack
fi
date -u; rm -rf "$out/r"; ls -la "$out"
