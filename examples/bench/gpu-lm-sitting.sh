#!/usr/bin/env bash
# One sitting on the lent GPU machine for the tensor backend, the GPU notebooks and the LM throughput comparison:
#   1. the gpu-tagged tests of the CUDA tensor backend (TensorBackendGpuTest, ConvAndModelGpuTest, LearnedConvGpuTest);
#   2. notebooks 02, 04, 05 through the headless runner on cuda:0 -> $OUT/NN-...-gpu.ipynb;
#   3. LmTrainBench (Java) and lm_torch.py (PyTorch eager) on the same LM and data, kernel dropout 0.2 and 0.
# Stage first, here (kernel + examples + the kernels-cuda tests; the data file rides along):
#   EXTRA_MODULES=jdk.jshell,jdk.compiler,jdk.jdi,jdk.internal.le,jdk.management,java.net.http \
#   tools/stage-device.sh --out .device/lm --modules kernel,examples,kernels-cuda --tests kernels-cuda \
#     --drop 'junit-*,opentest4j-*,apiguardian-*,icu4j-*,pdfbox-*,fontbox-*,arpack_*' \
#     --add examples/bench/gpu-lm-sitting.sh --add examples/bench/gpu-lm-lmperf.sh --add examples/bench/lm_torch.py
#   mkdir -p .device/lm/data/tinyshakespeare && cp ../shared/data/tinyshakespeare/input.txt .device/lm/data/tinyshakespeare/
# then on the device, from the repository root, with carry [".device/lm"]:
#   bash .device/lm/gpu-lm-sitting.sh "$OUT"          (LM_S = seconds per LM run, default 45)
set -u
out=${1:-/tmp/gpu-lm}; mkdir -p "$out"
D=${DEV:-.device/lm}; S=${LM_S:-45}
export LONGCONV4J_DATA=$D/data PYTHONUNBUFFERED=1
export JAVA_OPTS="--add-modules jdk.incubator.vector --add-opens=jdk.jshell/jdk.jshell=ALL-UNNAMED -Djava.awt.headless=true -Xmx24g"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,power.draw,temperature.gpu --format=csv > "$out/gpu.txt" 2>&1
date -u >> "$out/gpu.txt"; cat "$out/gpu.txt"
echo "== gpu tests"
timeout ${TEST_S:-150} $D/run-tests --include-tag gpu --include-classname '.*(TensorBackend|ConvAndModel|LearnedConv)GpuTest' \
  --disable-ansi-colors > "$out/tests.txt" 2>&1
echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests.txt" | head -40
echo "== notebooks"
for nb in ${NBS:-02-flashbutterfly 04-learned-butterfly-lm 05-profiling}; do
  mkdir -p "$out/nb"
  timeout ${NB_S:-150} $D/run-java ai.longconv4j.kernel.Main run notebooks/$nb.ipynb --out "$out/nb/$nb-gpu.ipynb" > "$out/nb/$nb.log" 2>&1
  echo "$nb exit $?"; grep -E "cell [0-9]+: (ok|error)" "$out/nb/$nb.log" | tail -3
done
tar -C "$out" -czf "$out/notebooks.tgz" nb && rm -rf "$out/nb"     # one file: the tool brings back only a few
DEV=$D TESTS=0 LM_S=$S bash $D/gpu-lm-lmperf.sh "$out"     # the LM side by side (Java, PyTorch; kernel dropout 0.2 and 0)
