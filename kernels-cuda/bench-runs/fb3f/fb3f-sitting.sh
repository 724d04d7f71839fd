#!/usr/bin/env bash
# Helper fb3f's sitting (round 8d, not yet run; for the coordinator's closing sitting): ThreePassForwardStepsGpuTest and
# ThreePassGpuTest, then CudaConvBench's bf16 default-plan rows (-Dlongconv4j.bench.bwd=true: forward, its three passes,
# fwd + bwd) at L = 64K (B = 16) and 256K (B = 4), H = 768, with round 8d's forward steps (default: the middle's 16-byte
# rows; at N1 <= 16, i.e. 64K, the tiled outer passes) and, in the same sitting, round 8c's
# (-Dlongconv4j.cuda.fb3.fwdsteps=old), then (TORCH_S > 0) the PyTorch baseline. Staged with
#   tools/stage-device.sh --out /work/main/.device/fb3f --add kernels-cuda/bench-runs/fb3f/fb3f-sitting.sh \
#     --add examples/bench/flashbutterfly_torch.py
# and run on the device with carry [".device/fb3f"]:  bash .device/fb3f/fb3f-sitting.sh $OUT
set -u
out=${1:-/tmp/fb3f}; mkdir -p "$out"; DEV=${DEV:-.device/fb3f}; Ls=${LS:-65536,262144}
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv \
  > "$out/gpu.txt" 2>&1; date -u >> "$out/gpu.txt"
base="--add-modules jdk.incubator.vector -Dlongconv4j.bench.bwd=true"
if [ "${TEST_S:-120}" -gt 0 ]; then
  echo "== tests"; s=$(date +%s)
  timeout ${TEST_S:-120} $DEV/run-tests --include-tag gpu ${TEST_ARGS:---include-classname .*ThreePass(ForwardSteps)?GpuTest} \
    --disable-ansi-colors > "$out/tests.txt" 2>&1
  echo "tests exit $? ($(( $(date +%s) - s )) s)"
  grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests.txt" | head -40
fi
for v in new old; do
  opts="$base"; [ $v = old ] && opts="$base -Dlongconv4j.cuda.fb3.fwdsteps=old"
  echo "== java bench ($v)"; s=$(date +%s)
  JAVA_OPTS="$opts" timeout ${JAVA_S:-60} $DEV/run-java ai.longconv4j.examples.bench.CudaConvBench "$out/java-$v.csv" 64 768 "$Ls" \
    > "$out/java-$v.txt" 2>&1; echo "java bench $v exit $? ($(( $(date +%s) - s )) s)"
  grep -E "^flashbutterfly io=BF16|^  pass|fwd\+fusedbwd|FAILED" "$out/java-$v.txt" | grep -v ",[0-9]" | head -40
done
if [ "${TORCH_S:-0}" -gt 0 ]; then
  echo "== torch"; timeout $TORCH_S python3 $DEV/flashbutterfly_torch.py "$out/torch-bench.csv" 64 768 "$Ls" > "$out/torch-bench.txt" 2>&1
  echo "torch exit $?"; grep -vE "^(path|[a-z].*,[0-9]+,)" "$out/torch-bench.txt" | tail -12
fi
