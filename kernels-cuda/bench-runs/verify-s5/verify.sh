#!/usr/bin/env bash
# Session-5 verification on the final main: every gpu-tagged test of kernels-cuda.
set -u; out=$1; D=.device/verify; mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version --format=csv > "$out/gpu.txt" 2>&1; date -u >> "$out/gpu.txt"
s=$(date +%s)
timeout 280 $D/run-tests --include-tag gpu --include-package ai.longconv4j.cuda --disable-ansi-colors > "$out/tests.txt" 2>&1
echo "tests exit $? ($(( $(date +%s) - s )) s)"
grep -E "tests (successful|failed|aborted|skipped)|✘" "$out/tests.txt" | head -40
