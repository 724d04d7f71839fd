#!/usr/bin/env bash
# Session 20: where the three-pass learned op's fwd+bwd time goes, per kernel (256K B = 4 and 64K B = 16, engine packed only,
# LearnedOpBench with 2 reps): Nsight Compute's gpu__time_duration of every kernel launched (one metric, one pass), as CSV.
# Device (carry [".device/s20"]): DEV=.device/s20 bash .device/s20/s20-prof.sh "$OUT/p1"
set -u
out=${1:-/tmp/s20-prof}; mkdir -p "$out"
DEV=${DEV:-.device/s20}
ncu=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
echo "ncu: ${ncu:-none}"; [ -n "$ncu" ] && "$ncu" --version | tail -1
. $DEV/unpack   # unpack the runtime outside the profiled process
for c in ${CASES:-4:262144 16:65536}; do
  b=${c%%:*}; l=${c#*:}
  echo "== ncu op bench packed B=$b L=$l"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.op.order=packed -Dlongconv4j.bench.op.groups=1 -Dlongconv4j.bench.op.reps=2 -Dlongconv4j.bench.warmup.ms=0" \
    timeout ${NCU_S:-150} "$ncu" --target-processes all --metrics gpu__time_duration.sum --cache-control none --clock-control none --csv --log-file "$out/ncu-$l.csv" \
    $DEV/run-java ai.longconv4j.examples.bench.LearnedOpBench "$out/op-$l.csv" "$b" 768 "$l" > "$out/op-$l.txt" 2>&1
  echo "exit $?"; grep -E " ms |Exception|rror" "$out/op-$l.txt" | head -6; wc -l "$out/ncu-$l.csv"
done
xz -T8 -6 "$out"/ncu-*.csv
ls -la "$out"; date -u
