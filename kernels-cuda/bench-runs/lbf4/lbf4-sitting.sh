#!/usr/bin/env bash
# Session 9, helper lbf4: the chained pair kernels (pc / pdc, -Dlongconv4j.learned.chain, learned_tc_chain.cuh) and
# the chained N1 = 16 kernel f2c (-Dlongconv4j.learned.n16=f2c) vs the current defaults, in ONE command: lbf3-sitting.sh with
#   the learned GPU tests (pairc rows vs pairt, f2c vs f2, every scheme vs lib's float64 LearnedButterfly),
#   LearnedBench 64 768 256,512,1024 with SCHEMES (FlashButterfly's bf16 forward first, same process; fwd, fwd+bwd, bwd),
#   then (NCU=1) ncu --set full of the 1K forward, dumping chains and dkp kernels, defaults then chain.
# Stage (from the worktree): tools/stage-device.sh --out /work/main/.device/lbf4 --add kernels-cuda/bench-runs/lbf4/lbf4-sitting.sh \
#   --add kernels-cuda/bench-runs/lbf3/lbf3-sitting.sh --drop '...'   (see /work/prompts/s9/ctx.md)
# Device (carry [".device/lbf4"]): DEV=.device/lbf4 bash .device/lbf4/lbf4-sitting.sh "$OUT"
# Closing call, no profile (< 60 s): DEV=$D NCU=0 PAIRDEF=0 TEST_S=25 JAVA_S=30 bash kernels-cuda/bench-runs/lbf4/lbf4-sitting.sh "$out/lbf4"
here=$(dirname "$0")
base=$here/lbf3-sitting.sh; [ -f "$base" ] || base=$here/../lbf3/lbf3-sitting.sh
# PAIRDEF=1 (default here): the learned GPU classes again with the variants as defaults (-Dlongconv4j.learned.chain=on
# -Dlongconv4j.learned.n16=f2c); MIRROR=1: LearnedBench once more with the schemes in reverse order (bench2.txt).
set -u
out=${1:-/tmp/lbf4-sitting}; DEV=${DEV:-.device/lbf4}
SCHEMES=${SCHEMES:-default,pairc,f2c} PROFILE=${PROFILE:-profile 1024 chain} NCU_RE=${NCU_RE:-'^lbt_(forward|dkp)'} \
  PAIRDEF=${PAIRDEF:-1} DEFOPTS=${DEFOPTS:-"-Dlongconv4j.learned.chain=on -Dlongconv4j.learned.n16=f2c"} \
  DEFTESTS=${DEFTESTS:-'.*Learned.*'} DEV=$DEV bash "$base" "$out"
if [ "${MIRROR:-1}" != 0 ]; then
  rev=$(echo "${SCHEMES:-default,pairc,f2c}" | tr ',' '\n' | tac | paste -sd,)
  echo "== java bench, mirrored ($rev)"; date -u
  JAVA_OPTS="-Dlongconv4j.bench.learned.schemes=$rev" timeout ${JAVA_S:-60} $DEV/run-java ai.longconv4j.examples.bench.LearnedBench \
    /tmp/lbf4-bench2.csv 64 768 "${LS:-256,512,1024}" > "$out/bench2.txt" 2>&1; echo "java bench 2 exit $?"
  grep -E "learned|flashbutterfly" "$out/bench2.txt" | grep -v '^[a-z].*,' | head -40
fi
