#!/usr/bin/env bash
# Session 9, helper lbf4: the chained learned-butterfly kernels (learned_tc_chain.cuh: pc / pdc at N1 = 32,
# -Dlongconv4j.learned.chain; f2c at N1 = 16, -Dlongconv4j.learned.n16=f2c; the defaults since lbf4/s2) vs their slow
# twins (pairt = pt / pdt, f2), in ONE command through lbf3-sitting.sh:
#   the learned GPU tests (pairc vs pairt, f2c vs f2 on the same input, every scheme vs lib's float64 LearnedButterfly),
#   PAIRDEF=1: the learned GPU classes again with DEFOPTS (default: the old defaults, chain off, n16 f2),
#   LearnedBench 64 768 256,512,1024 with SCHEMES (FlashButterfly's bf16 forward first, same process; fwd, fwd+bwd, bwd),
#   NCU=1: ncu --set full of the 1K forward, dumping chains and dkp (LearnedBench profile 1024 chain: chain off, then on),
#   MIRROR=1: LearnedBench again with the schemes in reverse order (bench2.txt).
# pdw (host-checked, not yet measured): the defaults with pairDumpWarps(16), the 1K dumping chains at 16 warps (pdcw).
# Sittings s1, s2 ran before the flip with SCHEMES=default,pairc(,f2c) and DEFOPTS="-Dlongconv4j.learned.chain=on
# -Dlongconv4j.learned.n16=f2c" (then "default" was pt / f2).
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/lbf4 --add kernels-cuda/bench-runs/lbf4/lbf4-sitting.sh \
#   --add kernels-cuda/bench-runs/lbf3/lbf3-sitting.sh --drop '...'   (see /work/prompts/s9/ctx.md)
# Device (carry [".device/lbf4"]): DEV=.device/lbf4 TEST_S=40 JAVA_S=45 NCU_S=60 bash .device/lbf4/lbf4-sitting.sh "$OUT/s2"  (~80 s)
# Closing call from merged main, stage at .device/final (~25 s: tests ~11 s, bench ~3 s, JVM starts):
#   DEV=.device/final NCU=0 PAIRDEF=0 MIRROR=0 TEST_S=25 JAVA_S=25 bash kernels-cuda/bench-runs/lbf4/lbf4-sitting.sh "$OUT/lbf4"
here=$(dirname "$0")
base=$here/lbf3-sitting.sh; [ -f "$base" ] || base=$here/../lbf3/lbf3-sitting.sh
set -u
out=${1:-/tmp/lbf4-sitting}; DEV=${DEV:-.device/lbf4}
SCHEMES=${SCHEMES:-default,pairt,f2,pdw} PROFILE=${PROFILE:-profile 1024 chain} NCU_RE=${NCU_RE:-'^lbt_(forward|dkp)'} \
  PAIRDEF=${PAIRDEF:-1} DEFOPTS=${DEFOPTS:-"-Dlongconv4j.learned.chain=off -Dlongconv4j.learned.n16=f2"} \
  DEFTESTS=${DEFTESTS:-'.*Learned.*'} DEV=$DEV bash "$base" "$out"
grep -E "du rel err, 16 vs 12 dumping warps" "$out/tests.txt" | awk '{e=$NF; if (e > m) m = e; n++}
  END {if (n) printf "pdcw    %3d cases: max du rel err vs pdc (12 warps) %s\n", n, m}'
if [ "${MIRROR:-1}" != 0 ]; then
  rev=$(echo "${SCHEMES:-default,pairt,f2,pdw}" | tr ',' '\n' | tac | paste -sd,)
  echo "== java bench, mirrored ($rev)"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.learned.schemes=$rev" timeout ${JAVA_S:-60} $DEV/run-java ai.longconv4j.examples.bench.LearnedBench \
    /tmp/lbf4-bench2.csv 64 768 "${LS:-256,512,1024}" > "$out/bench2.txt" 2>&1; echo "java bench 2 exit $?"
  grep -E "learned|flashbutterfly" "$out/bench2.txt" | grep -v '^[a-z].*,' | head -40
fi
