#!/usr/bin/env bash
# Session 14, coordinator's second closing call, after PackedLearnedChain kept its setWeights / dk workspaces and cuFFT
# plans: the chain's and the op's GPU tests (PackedLearnedRefChainGpuTest, PackedLearnedRefGpuTest, PackedLearnedOpGpuTest,
# LearnedJFactorOpGpuTest), then LearnedOpBench at L = 4096 (FlashButterfly's op vs the packed op), one order.
# Stage: tools/stage-device.sh --out .device/final --sm 90 --lean-jre --add kernels-cuda/bench-runs/final-s14/final2-s14.sh
#   --add kernels-cuda/bench-runs/pkjtc/pkjtc-sitting.sh --add kernels-cuda/bench-runs/pkop/pkop-sitting.sh --drop '...'
# Device (carry [".device/final"]): DEV=.device/final bash .device/final/final2-s14.sh "$OUT"
set -u
out=${1:-/tmp/final2-s14}; mkdir -p "$out"
DEV=${DEV:-.device/final}
DEV=$DEV TEST_S=${TEST_S:-120} BENCH=0 \
  TESTCLS='.*(PackedLearnedRefChainGpuTest|PackedLearnedRefGpuTest|PackedLearnedOpGpuTest|LearnedJFactorOpGpuTest)' \
  bash $DEV/pkjtc-sitting.sh "$out/tests"
DEV=$DEV TESTS=0 MIRROR=0 LS=${LS:-4096} ORDER=monarch,packed JAVA_S=${OP_S:-60} bash $DEV/pkop-sitting.sh "$out/op"
date -u
