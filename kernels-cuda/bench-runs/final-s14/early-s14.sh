#!/usr/bin/env bash
# Session 14, coordinator's early sitting on main 17b1d6c (= session 13's final code): the GPU tests of the classes helper
# pkbwd4 changed last session, which had not run on a GPU since its last edit (PackedLearnedOpGpuTest.routesAgreeBitForBit
# relaxed to 1e-4 for dGa at N1 = 16), and the tensor ops after pkbwd4 (LearnedOpBench, both orders).
# Stage: tools/stage-device.sh --out .device/final --sm 90 --lean-jre --add kernels-cuda/bench-runs/final-s14/early-s14.sh
#   --add kernels-cuda/bench-runs/pkmode/pkmode-sitting.sh --add kernels-cuda/bench-runs/pkop/pkop-sitting.sh --drop '...'
# Device (carry [".device/final"]): DEV=.device/final bash .device/final/early-s14.sh "$OUT"
set -u
out=${1:-/tmp/early-s14}; mkdir -p "$out"
DEV=${DEV:-.device/final}
DEV=$DEV TEST_S=${TEST_S:-200} BENCH=0 SHOW=8 TOPTS=-Dlongconv4j.pk.test.modes=quick \
  TESTCLS='.*(PackedLearnedOpGpuTest|PackedLearnedBackwardGpuTest|PackedLearnedModesGpuTest)' \
  bash $DEV/pkmode-sitting.sh "$out/tests"
DEV=$DEV TESTS=0 MIRROR=1 LS=${LS:-1024,512,256} ORDER=${OPORDER:-monarch,packed} JAVA_S=${JAVA_S:-60} \
  bash $DEV/pkop-sitting.sh "$out/op"
date -u
