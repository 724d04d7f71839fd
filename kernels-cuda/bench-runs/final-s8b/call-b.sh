set -u
out=$1; D=.device/final; mkdir -p "$out"
DEV=$D NCU=1 NCU_V=lean NCU_S=40 ROWS=rul TEST_S=50 JAVA_S=15 bash kernels-cuda/bench-runs/f4k/f4k-sitting.sh "$out/f4k" 2>&1 | tail -40
timeout 40 python3 $D/flashbutterfly_torch.py "$out/torch-bench.csv" 64 768 4096,8192 > "$out/torch-bench.txt" 2>&1; echo "torch exit $?"
grep -E "fftconv float32" "$out/torch-bench.txt"
tar -C "$out" -czf "$out/f4k.tgz" f4k && rm -rf "$out/f4k"; ls -la "$out"
