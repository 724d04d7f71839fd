#!/usr/bin/env bash
# Session 14, coordinator's closing call on merged main (rounds 27-pkjtc / pkjref / pkj3p / pkjopt, the op's routing):
#   1. tests: the J-factor packed learned butterfly's GPU classes — PackedMonarchGpuTest (one-pass tensor cores, incl. the
#      dP / dQ and device P / Q tests never run before), PackedThreePassGpuTest (three passes, incl. its device P / Q twin test),
#      PackedLearnedRefChainGpuTest / PackedLearnedRefGpuTest (the fp32 path), PackedLearnedOpGpuTest and
#      LearnedJFactorOpGpuTest (the tensor op: routing, J = 3 / 5 with autograd against lib's float64);
#   2. pm: PackedMonarchBench (the one-pass forward vs FlashButterfly: the untuned kernel and the tuned default, both orders);
#   3. op: LearnedOpBench at L = 4096 (FlashButterfly's op vs the packed op as a user calls it: tensor-core forward, fp32 chain
#      backward), one order.
# Stage: tools/stage-device.sh --out .device/final --sm 90 --lean-jre --add kernels-cuda/bench-runs/final-s14/final-s14.sh
#   --add kernels-cuda/bench-runs/pkjtc/pkjtc-sitting.sh --add kernels-cuda/bench-runs/pkop/pkop-sitting.sh --drop '...'
# Device (carry [".device/final"]): DEV=.device/final bash .device/final/final-s14.sh "$OUT"
#   PARTS: which of tests,pm,op to run (default all three).
set -u
out=${1:-/tmp/final-s14}; mkdir -p "$out"
DEV=${DEV:-.device/final}
PARTS=${PARTS:-tests,pm,op}
has() { case ",$PARTS," in *",$1,"*) return 0;; esac; return 1; }
if has tests; then
  DEV=$DEV TEST_S=${TEST_S:-170} BENCH=0 \
    TESTCLS='.*(PackedMonarchGpuTest|PackedThreePassGpuTest|PackedLearnedRefChainGpuTest|PackedLearnedRefGpuTest|PackedLearnedOpGpuTest|LearnedJFactorOpGpuTest)' \
    bash $DEV/pkjtc-sitting.sh "$out/tests"
fi
if has pm; then
  DEV=$DEV TESTS=0 MIRROR=${PMMIRROR:-1} ORDER=${PMORDER:-fb,pm-untuned,pm} CASES=${CASES:-causal:2048,causal:4096,causal:8192,causal:16384,causal:32768,bidirectional:4096,circular:8192} \
    JAVA_S=${PM_S:-60} BOPTS="${PMOPTS:-}" bash $DEV/pkjtc-sitting.sh "$out/pm"
fi
if has op; then
  DEV=$DEV TESTS=0 MIRROR=0 LS=${LS:-4096} ORDER=monarch,packed JAVA_S=${OP_S:-70} bash $DEV/pkop-sitting.sh "$out/op"
fi
date -u
