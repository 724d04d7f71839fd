#!/usr/bin/env bash
# Helper fb3m's sittings (round 8c): ThreePassBackwardGpuTest, then CudaConvBench's bwd rows (-Dlongconv4j.bench.bwd=true)
# with round 8c's backward steps (default) and, in the same sitting, with round 7's (-Dlongconv4j.cuda.fb3.bwdsteps=old),
# then (TORCH_S > 0) the PyTorch baseline. Staged with tools/stage-device.sh --out /work/main/.device/fb3m --add <this>
# --add examples/bench/flashbutterfly_torch.py; run on the device with carry [".device/fb3m"]:
#   bash .device/fb3m/fb3m-sitting.sh $OUT
set -u
out=${1:-/tmp/fb3m}; mkdir -p "$out"; DEV=${DEV:-.device/fb3m}; Ls=${LS:-32768,262144}
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv \
  > "$out/gpu.txt" 2>&1; date -u >> "$out/gpu.txt"
base="--add-modules jdk.incubator.vector -Dlongconv4j.bench.bwd=true"
if [ "${TEST_S:-95}" -gt 0 ]; then
  echo "== tests"; s=$(date +%s)
  timeout ${TEST_S:-95} $DEV/run-tests --include-tag gpu ${TEST_ARGS:---include-classname .*ThreePassBackward.*} \
    --disable-ansi-colors > "$out/tests.txt" 2>&1
  echo "tests exit $? ($(( $(date +%s) - s )) s)"
  grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests.txt" | head -40
fi
for v in new old; do
  opts="$base"; [ $v = old ] && opts="$base -Dlongconv4j.cuda.fb3.bwdsteps=old"
  echo "== java bench ($v)"; s=$(date +%s)
  JAVA_OPTS="$opts" timeout ${JAVA_S:-55} $DEV/run-java ai.longconv4j.examples.bench.CudaConvBench "$out/java-$v.csv" 64 768 "$Ls" \
    > "$out/java-$v.txt" 2>&1; echo "java bench $v exit $? ($(( $(date +%s) - s )) s)"
  grep -E "fwd\+fusedbwd|bwd pass|^  pass|fusedbwd|FAILED" "$out/java-$v.txt" | grep -v "^path" | grep -v ",[0-9]" | head -40
done
if [ "${TORCH_S:-0}" -gt 0 ]; then
  echo "== torch"; timeout $TORCH_S python3 $DEV/flashbutterfly_torch.py "$out/torch-bench.csv" 64 768 "$Ls" > "$out/torch-bench.txt" 2>&1
  echo "torch exit $?"; grep -vE "^(path|[a-z].*,[0-9]+,)" "$out/torch-bench.txt" | tail -12
fi
