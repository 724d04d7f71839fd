#!/usr/bin/env bash
# The closing sitting of a session on the lent GPU, on merged main: every gpu-tagged test of kernels-cuda, the LM
# throughput side by side with PyTorch (gpu-lm-lmperf.sh without its test step), and notebook 04 through the headless
# runner on cuda:0. Stage here (kernel + examples + kernels-cuda, the kernels-cuda tests, the data file):
#   EXTRA_MODULES=jdk.jshell,jdk.compiler,jdk.jdi,jdk.internal.le,jdk.management,java.net.http \
#   tools/stage-device.sh --out .device/final --modules kernel,examples,kernels-cuda --tests kernels-cuda \
#     --drop 'junit-*,opentest4j-*,apiguardian-*,icu4j-*,pdfbox-*,fontbox-*,arpack_*' \
#     --add examples/bench/gpu-final-sitting.sh --add examples/bench/gpu-lm-lmperf.sh --add examples/bench/lm_torch.py
#   mkdir -p .device/final/data/tinyshakespeare && cp ../shared/data/tinyshakespeare/input.txt .device/final/data/tinyshakespeare/
# On the device, carry [".device/final"]:  bash .device/final/gpu-final-sitting.sh "$OUT"
set -u
out=${1:-/tmp/gpu-final}; mkdir -p "$out"
D=${DEV:-.device/final}
export LONGCONV4J_DATA=$D/data PYTHONUNBUFFERED=1
echo "== all gpu tests"
JAVA_OPTS="--add-modules jdk.incubator.vector -Xmx24g" timeout ${TEST_S:-200} $D/run-tests --include-tag gpu \
  --disable-ansi-colors > "$out/tests.txt" 2>&1
echo "tests exit $?"; grep -E "tests (successful|failed|aborted)|Test run finished" "$out/tests.txt"
grep -B2 -A6 "✘" "$out/tests.txt" | head -60
echo "== LM"
DEV=$D TESTS=0 LM_S=${LM_S:-25} bash $D/gpu-lm-lmperf.sh "$out"
echo "== notebook 04 on the GPU"
mkdir -p "$out/nb"
JAVA_OPTS="--add-modules jdk.incubator.vector --add-opens=jdk.jshell/jdk.jshell=ALL-UNNAMED -Djava.awt.headless=true -Xmx24g" \
  timeout ${NB_S:-150} $D/run-java ai.longconv4j.kernel.Main run notebooks/04-learned-butterfly-lm.ipynb \
  --out "$out/nb/04-learned-butterfly-lm-gpu.ipynb" > "$out/nb/04.log" 2>&1
echo "nb04 exit $?"; tail -5 "$out/nb/04.log"
tar -C "$out" -czf "$out/results.tgz" tests.txt lm.txt nb gpu.txt 2>/dev/null; rm -rf "$out/nb"
