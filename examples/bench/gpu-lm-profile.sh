#!/usr/bin/env bash
# One profiling sitting on the lent GPU for the LM training step (issue 6): where the ~100 ms of a step go.
#   1. LmTrainBenchProfile (phase split, device time per op behind busy GEMMs, host-clock Profiler, single-op timings);
#   2. LmTrainBench for ${LM_S:-25} s under JFR (execution + native-method samples every 2 ms) -> lm.jfr.
# Stage here (JFR needs jdk.jfr in the linked runtime):
#   EXTRA_MODULES=jdk.jfr tools/stage-device.sh --out /work/main/.device/lmperf --modules examples --tests '' \
#     --drop 'junit-*,opentest4j-*,apiguardian-*,icu4j-*,pdfbox-*,fontbox-*,arpack_*' --add examples/bench/gpu-lm-profile.sh
#   mkdir -p /work/main/.device/lmperf/data/tinyshakespeare && cp ../shared/data/tinyshakespeare/input.txt $_
# On the device, carry [".device/lmperf"]:  bash .device/lmperf/gpu-lm-profile.sh "$OUT"
set -u
out=${1:-/tmp/gpu-lm-profile}; mkdir -p "$out"
D=${DEV:-.device/lmperf}
export LONGCONV4J_DATA=$D/data
export JAVA_OPTS="--add-modules jdk.incubator.vector -Xmx24g"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,power.draw --format=csv > "$out/gpu.txt" 2>&1; date -u >> "$out/gpu.txt"
echo "== profile"
timeout ${PROF_S:-150} $D/run-java ai.longconv4j.examples.bench.LmTrainBenchProfile cuda:0 512 8 1024 8 ${STEPS:-20} ${KD:-0} \
  > "$out/profile.txt" 2>&1
echo "profile exit $?"; grep -E "^==|median|GC:|allocator|device total|Exception" "$out/profile.txt" | head -30
echo "== JFR"
JAVA_OPTS="$JAVA_OPTS -XX:StartFlightRecording=filename=$out/lm.jfr,settings=profile,jdk.ExecutionSample#period=2ms,jdk.NativeMethodSample#period=2ms" \
  timeout $((${LM_S:-25} + 60)) $D/run-java ai.longconv4j.examples.bench.LmTrainBench cuda:0 512 8 1024 8 ${LM_S:-25} 5 ${KD:-0} \
  > "$out/lm-jfr.txt" 2>&1
echo "jfr exit $?"; grep -E "summary|Exception" "$out/lm-jfr.txt"
ls -la "$out"
