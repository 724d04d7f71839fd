#!/usr/bin/env bash
# Session 9, second closing call: after final-s9 the og default became `_ruhr` (OuterGlobal.DEFAULT_REGISTER_UNIT =
# "halfr") and cuBLAS handles got a 32 MiB workspace (CuBlas.workspaceBytes; PyTorch and our cuBLASLt handles have one).
# On those: the tensor-level GPU test classes (which route through the defaults) and the og tests of the default scheme,
# then CudaConvBench at L = 4K (forward, fused backward, GEMM with the 32 MiB workspace and with cuBLAS's default) and
# flashbutterfly_torch.py at 4K (torch.matmul too), both with the 200 ms warm-up; SM clock / power every 100 ms.
# Stage: tools/stage-device.sh --out .device/final --sm 90 --lean-jre --add kernels-cuda/bench-runs/final-s9/final-s9b.sh
#   --add examples/bench/flashbutterfly_torch.py --drop '<ctx.md list + junit jars>'
# Device (carry [".device/final"]):  bash .device/final/final-s9b.sh "$OUT/s9b"
set -u
out=$1; D=${DEV:-.device/final}; mkdir -p "$out"; export PYTHONUNBUFFERED=1
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } > "$out/gpu.txt" 2>&1
cat "$out/gpu.txt"
nvidia-smi --query-gpu=timestamp,clocks.sm,power.draw,temperature.gpu --format=csv,noheader -lms 100 > "$out/clocks.csv" 2>&1 &
smi=$!
echo "== tests"; date -u
JAVA_OPTS="-Dlongconv4j.test.og.schemes=ruh4,ruhr" timeout ${TEST_S:-120} $D/run-tests --include-tag gpu --disable-ansi-colors \
  --include-classname '.*(OuterGlobalGpuTest|ConvAndModelGpuTest|TensorBackendGpuTest|LongFlashConvGpuTest|CudaTwinsGpuTest|FusedLinearGpuTest).*' > "$out/tests.txt" 2>&1
echo "tests exit $?"; grep -E "tests (successful|failed|aborted|found)" "$out/tests.txt"; grep "✘" "$out/tests.txt" | grep -v "Assumption failed" | head -12
echo "== java bench 4K"; date -u
JAVA_OPTS="-Dlongconv4j.bench.bwd=true -Dlongconv4j.bench.extras=true" timeout 60 $D/run-java \
  ai.longconv4j.examples.bench.CudaConvBench "$out/java-bench.csv" 64 768 4096 > "$out/java-bench.txt" 2>&1
echo "java bench exit $?"; grep -E "^(copy|cufft|flashbutterfly|cublas)|kernel:" "$out/java-bench.txt" | grep -v "," | head -16
echo "== torch 4K"; date -u
timeout 40 python3 $D/flashbutterfly_torch.py "$out/torch-bench.csv" 64 768 4096 > "$out/torch-bench.txt" 2>&1
echo "torch exit $?"; grep -E "copy|fftconv float32|fwd\+bwd float32|matmul" "$out/torch-bench.txt" | grep -v ","
kill $smi 2>/dev/null
date -u
cd "$out" && tar -cJf logs.tar.xz tests.txt java-bench.txt torch-bench.txt clocks.csv *.csv 2>/dev/null
rm -f tests.txt java-bench.txt torch-bench.txt clocks.csv *.csv; ls -la
