#!/usr/bin/env bash
# One sitting on the lent GPU for the lmperf changes (issue 6, LM throughput): split reductions, fused LayerNorm,
# backward temporaries released at the end of the pass, fused gradient-norm sums.
#   1. the gpu tests these changes touch (Reduce/LayerNorm/CrossEntropyGpuTest + the tensor-backend / model / dropout tests);
#   2. LmTrainBench (Java) and lm_torch.py (PyTorch eager) side by side, kernel dropout 0.2 and 0, ${LM_S:-25} s each;
#   3. AB=1: 12-s A/B runs with each change switched off (legacy reductions, composed LayerNorm / cross-entropy, no release);
#   4. PROF=1: LmTrainBenchProfile (phase split, device time per op, host-clock profile, single-op timings).
# Stage here (kernels-cuda tests only: lib's test jar would register the simulated backend for cuda:*):
#   EXTRA_MODULES=jdk.jfr tools/stage-device.sh --out /work/main/.device/lmperf --modules kernels-cuda,examples --tests kernels-cuda \
#     --drop 'junit-*,opentest4j-*,apiguardian-*,icu4j-*,pdfbox-*,fontbox-*,arpack_*' \
#     --add examples/bench/gpu-lm-lmperf.sh --add examples/bench/lm_torch.py --add examples/bench/gpu-lm-profile.sh
#   mkdir -p /work/main/.device/lmperf/data/tinyshakespeare && cp ../shared/data/tinyshakespeare/input.txt $_
# On the device, carry [".device/lmperf"]:   bash .device/lmperf/gpu-lm-lmperf.sh "$OUT"
set -u
out=${1:-/tmp/gpu-lm-lmperf}; mkdir -p "$out"
D=${DEV:-.device/lmperf}; S=${LM_S:-25}
export LONGCONV4J_DATA=$D/data PYTHONUNBUFFERED=1
base="--add-modules jdk.incubator.vector -Xmx24g"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,power.draw,temperature.gpu --format=csv > "$out/gpu.txt" 2>&1
date -u >> "$out/gpu.txt"; cat "$out/gpu.txt"
if [ "${TESTS:-1}" = 1 ]; then
  echo "== gpu tests"
  JAVA_OPTS="$base" timeout ${TEST_S:-170} $D/run-tests --include-tag gpu \
    --include-classname "${TEST_RE:-.*(Reduce|LayerNorm|CrossEntropy|TensorBackend|ConvAndModel|Dropout)GpuTest}" --disable-ansi-colors \
    > "$out/tests.txt" 2>&1
  echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests.txt" | head -40
fi
echo "== LM: Java, then PyTorch (H3 LongConvLM, D=512, 8 layers, L=1024, B=8, tiny Shakespeare, ${S}s each)"
for kd in ${KDS:-0.2 0}; do
  JAVA_OPTS="$base" timeout $((S + 90)) $D/run-java ai.longconv4j.examples.bench.LmTrainBench cuda:0 512 8 1024 8 $S 5 $kd \
    > "$out/lm.tmp" 2>&1
  echo "java kd=$kd exit $?"; grep -E "^device|summary|Exception" "$out/lm.tmp" | head -5
  { echo "=== java kd=$kd"; cat "$out/lm.tmp"; } >> "$out/lm.txt"
  timeout $((S + 90)) python3 $D/lm_torch.py --data $D/data/tinyshakespeare/input.txt --seconds $S --kernel-dropout $kd \
    > "$out/lm.tmp" 2>&1
  echo "torch kd=$kd exit $?"; grep -E "^device|summary|Error" "$out/lm.tmp" | head -5
  { echo "=== torch kd=$kd"; cat "$out/lm.tmp"; } >> "$out/lm.txt"
done
if [ "${AB:-0}" = 1 ]; then
  echo "== A/B (kernel dropout 0, 12 s each): one change switched off at a time"
  for sw in -Dlongconv4j.cuda.reduce=legacy -Dlongconv4j.layerNorm=composed -Dlongconv4j.crossEntropy=composed \
      -Dlongconv4j.autograd.release=false; do
    JAVA_OPTS="$base $sw" timeout 100 $D/run-java ai.longconv4j.examples.bench.LmTrainBench cuda:0 512 8 1024 8 12 5 0 \
      > "$out/lm.tmp" 2>&1
    echo "java $sw exit $?"; grep -E "summary|Exception" "$out/lm.tmp" | head -3
    { echo "=== java kd=0 $sw"; cat "$out/lm.tmp"; } >> "$out/lm.txt"
  done
fi
rm -f "$out/lm.tmp"
if [ "${PROF:-0}" = 1 ]; then
  echo "== profile"
  JAVA_OPTS="$base" timeout ${PROF_S:-150} $D/run-java ai.longconv4j.examples.bench.LmTrainBenchProfile cuda:0 512 8 1024 8 20 0 \
    > "$out/profile.txt" 2>&1
  echo "profile exit $?"; grep -E "^==|median|GC:|allocator|device total|Exception" "$out/profile.txt" | head -30
fi
