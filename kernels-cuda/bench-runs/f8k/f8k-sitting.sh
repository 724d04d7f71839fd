#!/usr/bin/env bash
# One sitting of helper f8k (session 7): the og forward (flashbutterfly_og.cu, OuterGlobal) at L = 4K and 8K.
# 1. GPU tests (OuterGlobalGpuTest, and by TEST_ARGS the twin's class); 2. OuterGlobalBench: twin (_w3/_w3b) vs og
# at several batch pairs per block, fp16/fp32 I/O, backwardInput, plus the default plan at 16K (no-regression row);
# 3. Nsight Compute (--set full, SASS) of one og launch at L = 8K and 4K (NCU=0 skips); 4. the PyTorch baseline (TORCH=0
# skips). ROWS=twc: the bench's short list (twin / staged table / staged computed twiddles, the _twc kernels, for bf16,
# fp16, fp32 I/O and backwardInput; helper f8k2), e.g. the closing sitting, from a stage of merged main:
#   DEV=.device/final NCU=0 ROWS=twc TEST_S=55 JAVA_S=35 TORCH_S=20 bash kernels-cuda/bench-runs/f8k/f8k-sitting.sh "$OUT/f8k"
# (the script from the repository tree; the torch script from $DEV if staged there, else examples/bench/).
# Stage first, from the worktree (see the brief), then on the device (carry [".device/f8k"]):
#   DEV=.device/f8k bash .device/f8k/f8k-sitting.sh "$OUT"
set -u
out=${1:-/tmp/f8k-sitting}; mkdir -p "$out"
export PYTHONUNBUFFERED=1
DEV=${DEV:-.device/f8k}
Ls=${LS:-4096,8192}
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv \
  > "$out/gpu.txt" 2>&1; cat "$out/gpu.txt"; date -u | tee -a "$out/gpu.txt"
echo "== gpu tests"
timeout ${TEST_S:-50} $DEV/run-tests --include-tag gpu ${TEST_ARGS:---include-classname .*OuterGlobalGpuTest.*} \
  --disable-ansi-colors > "$out/tests.txt" 2>&1
echo "tests exit $?"; grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests.txt" | head -30
grep -E "rel err" "$out/tests.txt" | awk '{for(i=1;i<=NF;i++) if($i=="err") print $(i+1)}' | sort -g | tail -1 | sed 's/^/largest rel err: /'
grep -E "^twc N=" "$out/tests.txt"
grep -E "computed vs table twiddles" "$out/tests.txt" | awk '{for(i=1;i<=NF;i++) if($i=="err") print $(i+1), $6}' | sort -g \
  | awk '{m[$2]=$1} END {for (k in m) print "largest computed vs table (" k " I/O): " m[k]}'
echo "== java bench"; date -u
JAVA_OPTS="${JAVA_OPTS:-} ${ROWS:+-Dlongconv4j.bench.og.rows=$ROWS}" \
  timeout ${JAVA_S:-40} $DEV/run-java ai.longconv4j.examples.bench.OuterGlobalBench "$out/og-bench.csv" 64 768 "$Ls" \
  > "$out/og-bench.txt" 2>&1; echo "java bench exit $?"
grep -vE "^(path|[a-z].*,[0-9]+,)" "$out/og-bench.txt" | tail -30
if [ "${NCU:-1}" != 0 ]; then
  NCUB=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  mkdir -p "$out/ncu"
  for L in ${NCU_LS:-8192}; do
    echo "== ncu L=$L"; date -u
    timeout ${NCU_S:-25} "$NCUB" --clock-control none --set full --import-source no --target-processes all --kernel-name regex:'^fbog' \
      --launch-skip 2 --launch-count 1 -f -o "$out/ncu/og-$L" \
      $DEV/run-java ai.longconv4j.examples.bench.ProfileTarget "$L" 4 > "$out/ncu/run-$L.txt" 2>&1
    echo "ncu exit $?"; grep -E "ProfileTarget|rror" "$out/ncu/run-$L.txt" | head -4
    if [ -f "$out/ncu/og-$L.ncu-rep" ]; then
      "$NCUB" -i "$out/ncu/og-$L.ncu-rep" --page details --print-details all > "$out/ncu/details-$L.txt" 2>&1
      "$NCUB" -i "$out/ncu/og-$L.ncu-rep" --page source --csv --print-source sass > "$out/ncu/sass-$L.csv" 2>&1 || true
      grep -E "Duration|Registers Per|Achieved Occupancy|Theoretical Occupancy|Compute \(SM\) Throughput|Memory Throughput|Warp Cycles Per Issued|Issue Slots Busy|L2 Hit|Shared Memory|Block Limit" "$out/ncu/details-$L.txt" | head -30
    fi
  done
  rm -f "$out"/ncu/*.ncu-rep
  tar -C "$out" -cJf "$out/ncu.tar.xz" ncu && rm -rf "$out/ncu"
fi
if [ "${TORCH:-1}" != 0 ]; then
  echo "== torch bench"; date -u
  PY=${PY:-$DEV/flashbutterfly_torch.py}; [ -f "$PY" ] || PY=examples/bench/flashbutterfly_torch.py
  timeout ${TORCH_S:-20} python3 "$PY" "$out/torch-bench.csv" 64 768 "${TORCH_LS:-4096,8192}" \
    > "$out/torch-bench.txt" 2>&1; echo "torch bench exit $?"; date -u
  grep -E "fftconv float32|copy" "$out/torch-bench.txt"
fi
echo "== twiddles: table vs computed (_twc), same sitting"
grep -E "(staged|compute|_w3b?) .*B=" "$out/og-bench.txt" | grep -v "pairs/block" | sed -E 's/ +mem .*//'
ls -la "$out"
