#!/usr/bin/env bash
# Session 13, coordinator's closing call on merged main (rounds 26-pkmode / pkpq / fbop / pkop / pkref):
#   1. the GPU tests of every class this session touched: the packed learned op (device route, fp32 fallback, the modes
#      under both P / Q routes, plan sharing, H3Conv), the packed kernels in all three modes (the modes' quick subset),
#      the causal packed classes (configs=defaults), P / Q by FFT, the fp32 path, FlashButterfly's fused-D op and the
#      classes it touches (LongFlashConvGpuTest, ConvAndModelGpuTest), LearnedConvGpuTest;
#   2. the tensor ops (LearnedOpBench: MONARCH = FlashButterfly's op, LEARNED_PACKED's op, and its plan rows) in two orders;
#   3. the plan level in the other modes (LearnedPackedBench bidirectional / circular, FB in the same mode), one order;
#   4. the fp32 path's timing row at L = 1K (PackedRefBench), one order.
# Stage: tools/stage-device.sh --out .device/final --sm 90 --lean-jre --add kernels-cuda/bench-runs/final-s13/final-s13.sh
#   --add kernels-cuda/bench-runs/pkmode/pkmode-sitting.sh --add kernels-cuda/bench-runs/pkop/pkop-sitting.sh
#   --add kernels-cuda/bench-runs/pkref/pkref-sitting.sh --drop '...'
# Device (carry [".device/final"]): DEV=.device/final bash .device/final/final-s13.sh "$OUT"
#   PARTS: which of tests,op,modes,ref to run (default all four).
set -u
out=${1:-/tmp/final-s13}; mkdir -p "$out"
DEV=${DEV:-.device/final}
PARTS=${PARTS:-tests,op,modes,ref}
has() { case ",$PARTS," in *",$1,"*) return 0;; esac; return 1; }
if has tests; then
  DEV=$DEV TEST_S=${TEST_S:-240} BENCH=0 SHOW=8 TOPTS=-Dlongconv4j.pk.test.modes=quick \
    TESTCLS='.*(PackedLearnedOpGpuTest|PackedLearnedModesGpuTest|PackedLearnedGpuTest|PackedLearnedBackwardGpuTest|PackedLearnedPqGpuTest|PackedLearnedRefGpuTest|FlashOpGpuTest|LongFlashConvGpuTest|ConvAndModelGpuTest|LearnedConvGpuTest)' \
    bash $DEV/pkmode-sitting.sh "$out/tests"
fi
if has op; then
  DEV=$DEV TESTS=0 MIRROR=1 LS=${LS:-1024,512,256} ORDER=${OPORDER:-monarch,packed} JAVA_S=${JAVA_S:-60} \
    bash $DEV/pkop-sitting.sh "$out/op"
fi
if has modes; then
  DEV=$DEV TESTS=0 MIRROR=0 ORDER=fb,packed,packed:savefwd=true JAVA_S=${JAVA_S:-60} bash $DEV/pkmode-sitting.sh "$out/modes"
fi
if has ref; then
  DEV=$DEV TESTS=0 MIRROR=0 L2= ORDER=fb-f32,fb-bf16,packed-bf16,ref-f32,ref-bf16 JAVA_S=${JAVA_S:-60} bash $DEV/pkref-sitting.sh "$out/ref"
fi
date -u
