#!/usr/bin/env bash
# Session 8, last call (final-s8d) on merged main (f1k, f4k..f4k4, lbf, lbf2): the variants built without a GPU
# (og `_rus` of f4k4; the learned `pairt` / `f` / `f2` of lbf2) tested and timed against the defaults, the tensor-level
# GPU test classes on the current defaults, and the default plans at L = 256 ... 8K beside PyTorch in the same call.
#   stage: as final-s8.sh's header (drop list there plus graphics2d-*, VectorGraphics2D-*, animated-gif-lib-*,
#   checker-qual-*, jsr305-*, error_prone_*, j2objc-*, failureaccess-*, listenablefuture-*; the runtime linked with
#   java.base, java.logging, java.management, jdk.unsupported, jdk.zipfs, jdk.incubator.vector), --add this file
#   on the device:  bash .device/final/final-s8d.sh "$OUT/final-s8d"
set -u
out=$1; D=.device/final; mkdir -p "$out"; export PYTHONUNBUFFERED=1
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv; date -u; } > "$out/gpu.txt" 2>&1
echo "== og: _rup vs _rus (f4k4)"
DEV=$D NCU=0 ROWS=rus LS=4096 TEST_S=50 JAVA_S=12 bash kernels-cuda/bench-runs/f4k/f4k-sitting.sh "$out/f4k" 2>&1 | tail -22
echo "== learned (lbf2)"
DEV=$D NCU=0 PAIRDEF=0 SCHEMES=default,pairt,f,f2 TEST_S=30 JAVA_S=30 bash kernels-cuda/bench-runs/lbf3/lbf3-sitting.sh "$out/lbf3" 2>&1 | tail -40
echo "== tensor-level GPU tests on the defaults"; date -u
timeout ${TEST_S:-90} $D/run-tests --include-tag gpu --disable-ansi-colors \
  --include-classname '.*(ConvAndModelGpuTest|TensorBackendGpuTest|LongFlashConvGpuTest).*' > "$out/tests.txt" 2>&1
echo "tests exit $?"; grep -E "tests (successful|failed|aborted|found)|✘" "$out/tests.txt" | head -20
echo "== default plans vs PyTorch"; date -u
JAVA_OPTS="--add-modules jdk.incubator.vector -Dlongconv4j.bench.bwd=true" timeout 45 $D/run-java \
  ai.longconv4j.examples.bench.CudaConvBench "$out/java-bench.csv" 64 768 256,1024,4096,8192 > "$out/java-bench.txt" 2>&1
echo "java bench exit $?"; grep -E "^flashbutterfly" "$out/java-bench.txt" | grep -E "w2 B=|fusedbwd fb_bwd_bf16_bf16(_s16)? B=" | grep -v "," | head
timeout 45 python3 $D/flashbutterfly_torch.py "$out/torch-bench.csv" 64 768 256,1024,4096,8192 > "$out/torch-bench.txt" 2>&1
echo "torch exit $?"; grep -E "fftconv float32|fwd\+bwd float32" "$out/torch-bench.txt" | grep -v ","
tar -C "$out" -czf "$out/helpers.tgz" f4k lbf3 && rm -rf "$out/f4k" "$out/lbf3"; date -u; ls -la "$out"
