#!/usr/bin/env bash
# Session 9, closing call on merged main (f4k5: og `_ruh4` the default at L = 4K; lbf4: the chained learned kernels the
# defaults; CudaConvBench and flashbutterfly_torch.py now warm each timed row up for >= 200 ms, so the GPU's clocks are
# back up after the host-side validation). One command:
#  1. GPU tests: OuterGlobalGpuTest (schemes rus,rut,ruh,ruh4,ruhr), the Learned*GpuTest classes, ConvAndModelGpuTest,
#     TensorBackendGpuTest, LongFlashConvGpuTest, FlashButterfly2KGpuTest;
#  2. OuterGlobalBench 4K rows cmp:rus,ruh4,ruhr (bf16 in mirrored order, fp16, backwardInput);
#  3. LearnedBench 256, 512, 1K: defaults, pairt, f2 (the old kernels), pdw (pdcw, not measured before);
#  4. CudaConvBench 256, 512, 1K, 4K (forward rows, fused backward, GEMM, learned rows) and flashbutterfly_torch.py at the
#     same lengths, both with the 200 ms warm-up; then both at 4K with the old 3-run warm-up (WARMUP 0), to show what the
#     warm-up changes; nvidia-smi samples SM clock and power every 100 ms throughout (clocks.csv).
# Stage: tools/stage-device.sh --out .device/final --add kernels-cuda/bench-runs/final-s9/final-s9.sh
#   --add examples/bench/flashbutterfly_torch.py --drop '<ctx.md list>'; fonts removed; runtime re-linked.
# Device (carry [".device/final"]):  bash .device/final/final-s9.sh "$OUT/s9"
set -u
out=$1; D=${DEV:-.device/final}; mkdir -p "$out"; export PYTHONUNBUFFERED=1
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv; date -u; } > "$out/gpu.txt" 2>&1
cat "$out/gpu.txt"
nvidia-smi --query-gpu=timestamp,clocks.sm,power.draw,temperature.gpu --format=csv,noheader -lms 100 > "$out/clocks.csv" 2>&1 &
smi=$!
echo "== tests"; date -u
JAVA_OPTS="-Dlongconv4j.test.og.schemes=${SCHEMES:-rus,rut,ruh,ruh4,ruhr}" timeout ${TEST_S:-170} $D/run-tests --include-tag gpu --disable-ansi-colors \
  --include-classname '.*(OuterGlobalGpuTest|Learned.*GpuTest|ConvAndModelGpuTest|TensorBackendGpuTest|LongFlashConvGpuTest|FlashButterfly2KGpuTest).*' \
  > "$out/tests.txt" 2>&1
echo "tests exit $?"; grep -E "tests (successful|failed|aborted|found)" "$out/tests.txt"; grep "✘" "$out/tests.txt" | grep -v "Assumption failed" | head -12
for v in rus rut ruh ruh4 ruhr; do
  grep -E "rel err" "$out/tests.txt" | grep -E " $v B=" | awk '{for(i=1;i<=NF;i++) if($i=="err") print $(i+1)}' | sort -g | tail -1 \
    | sed "s/^/largest rel err of og $v vs float64: /"
done
echo "== og bench"; date -u
JAVA_OPTS="-Dlongconv4j.bench.og.rows=cmp:rus,ruh4,ruhr" timeout 30 $D/run-java ai.longconv4j.examples.bench.OuterGlobalBench \
  "$out/og-bench.csv" 64 768 4096 > "$out/og-bench.txt" 2>&1; echo "og bench exit $?"
grep -E "B=64" "$out/og-bench.txt" | grep -v "," | sed -E 's/ +mem .*//'
echo "== learned bench"; date -u
JAVA_OPTS="-Dlongconv4j.bench.learned.schemes=default,pairt,f2,pdw" timeout 60 $D/run-java ai.longconv4j.examples.bench.LearnedBench \
  "$out/learned-bench.csv" 64 768 256,512,1024 > "$out/learned-bench.txt" 2>&1; echo "learned bench exit $?"
grep -E "learned|flashbutterfly" "$out/learned-bench.txt" | grep -v '^[a-z].*,' | head -30
echo "== java bench (warm-up 200 ms)"; date -u
JAVA_OPTS="--add-modules jdk.incubator.vector -Dlongconv4j.bench.bwd=true -Dlongconv4j.bench.extras=true" timeout 120 $D/run-java \
  ai.longconv4j.examples.bench.CudaConvBench "$out/java-bench.csv" 64 768 256,512,1024,4096 > "$out/java-bench.txt" 2>&1
echo "java bench exit $?"; grep -E "^(copy|cufft|flashbutterfly|learned|cublas)|kernel:" "$out/java-bench.txt" | grep -v "," | head -40
echo "== torch (warm-up 200 ms)"; date -u
timeout 90 python3 $D/flashbutterfly_torch.py "$out/torch-bench.csv" 64 768 256,512,1024,4096 > "$out/torch-bench.txt" 2>&1
echo "torch exit $?"; grep -E "copy|fftconv float32|fwd\+bwd float32|matmul" "$out/torch-bench.txt" | grep -v ","
echo "== 4K with the old 3-run warm-up"; date -u
JAVA_OPTS="-Dlongconv4j.bench.warmup.ms=0 -Dlongconv4j.bench.bwd=true -Dlongconv4j.bench.extras=false" timeout 40 $D/run-java \
  ai.longconv4j.examples.bench.CudaConvBench "$out/java-bench-w0.csv" 64 768 4096 > "$out/java-bench-w0.txt" 2>&1
echo "java bench w0 exit $?"; grep -E "^(cufft|flashbutterfly)|kernel:" "$out/java-bench-w0.txt" | grep -v "," | head -8
timeout 40 python3 $D/flashbutterfly_torch.py --warmup-ms=0 "$out/torch-bench-w0.csv" 64 768 4096 > "$out/torch-bench-w0.txt" 2>&1
echo "torch w0 exit $?"; grep -E "fftconv float32" "$out/torch-bench-w0.txt" | grep -v ","
kill $smi 2>/dev/null
date -u
cd "$out" && tar -cJf logs.tar.xz tests.txt og-bench.txt learned-bench.txt java-bench.txt torch-bench.txt java-bench-w0.txt torch-bench-w0.txt clocks.csv *.csv 2>/dev/null
rm -f tests.txt og-bench.txt learned-bench.txt java-bench.txt torch-bench.txt java-bench-w0.txt torch-bench-w0.txt clocks.csv *.csv
ls -la
