#!/usr/bin/env bash
# Session 12, coordinator's closing call on merged main (the packed learned butterfly, BENCH-RESULTS rounds 20-24):
#   1. the GPU tests of the packed learned butterfly (forward + du variants vs the r1w16 kernel bit for bit and vs lib's
#      float64, JAVA_OPTS -Dlongconv4j.pk.test.configs=defaults: the old kernels and the defaults only; the backward's routes;
#      the tensor op ConvOps.learnedPackedConv on the GPU) and the unpacked learned op test;
#   2. the forward: LearnedBench (FlashButterfly first, the unpacked learned default, the packed default with du) in two orders;
#   3. fwd+bwd: LearnedPackedBench (FB, unpacked learned, packed defaults, packed with forwardForBackward) in two orders.
# Stage: tools/stage-device.sh --out .device/final --sm 90 --lean-jre --add kernels-cuda/bench-runs/final-s12/final-s12.sh
#   --add kernels-cuda/bench-runs/pkopt2/pkopt2-sitting.sh --add kernels-cuda/bench-runs/pkbwd2/pkbwd2-sitting.sh --drop '...'
# Device (carry [".device/final"]): DEV=.device/final bash .device/final/final-s12.sh "$OUT"
set -u
out=${1:-/tmp/final-s12}; mkdir -p "$out"
DEV=${DEV:-.device/final}
JAVA_OPTS=-Dlongconv4j.pk.test.configs=defaults DEV=$DEV TEST_S=${TEST_S:-170} JAVA_S=40 LS=256,512,1024 \
  TESTCLS='.*(PackedLearnedGpuTest|PackedLearnedBackwardGpuTest|PackedLearnedOpGpuTest|LearnedConvGpuTest)' SHOW=6 \
  SCHEMES=default:fwd,packed:def:du MIRROR=1 bash $DEV/pkopt2-sitting.sh "$out/fwd"
DEV=$DEV TESTS=0 PHASES=0 MIRROR=1 LS=1024,512,256 ORDER=fb,learned,packed,packed:savefwd=true JAVA_S=80 \
  bash $DEV/pkbwd2-sitting.sh "$out/fwdbwd"
