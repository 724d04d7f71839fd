#!/usr/bin/env bash
# Compiles every .cu file of this folder ahead of time into a fatbin (cubins for sm_80 and sm_90a,
# plus compute_80 PTX for newer GPUs) and writes ptxas' resource report next to it.
# Called by Maven (generate-resources):  build.sh <resource-dir> <report-dir>
# Without nvcc the build still succeeds: it says the GPU backend is unavailable and packages no kernels.
set -u
src=$(cd "$(dirname "$0")" && pwd)
res=$1; rep=$2
mkdir -p "$res" "$rep"
nvcc=$(command -v nvcc || true)
[ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
if [ -z "$nvcc" ]; then
  echo "[kernels-cuda] nvcc not found: no CUDA kernels packaged, the GPU backend is unavailable"
  echo "nvcc not found" > "$rep/NO-NVCC"
  exit 0
fi
rm -f "$rep/NO-NVCC"
status=0
for cu in "$src"/*.cu; do
  name=$(basename "$cu" .cu)
  out="$res/$name.fatbin"
  # a .cu that includes another .cu (flashbutterfly_ogr.cu) is stale when that one is newer than its fatbin
  inc=$(sed -n 's/^#include "\([^"]*\.cu\)".*/\1/p' "$cu"); newer_inc=
  for f in $inc; do [ "$src/$f" -nt "$out" ] && newer_inc=1; done
  if [ -z "$newer_inc" ] && [ "$out" -nt "$cu" ] && [ -s "$rep/$name.ptxas.txt" ] && [ -z "$(find "$src" -name '*.cuh' -newer "$out")" ]; then
    continue   # up to date
  fi
  echo "[kernels-cuda] nvcc $name.cu -> $name.fatbin (sm_80, sm_90a, compute_80)"
  if ! "$nvcc" -fatbin -O3 -std=c++17 -lineinfo -Xptxas -v \
      -gencode arch=compute_80,code=sm_80 \
      -gencode arch=compute_90a,code=sm_90a \
      -gencode arch=compute_80,code=compute_80 \
      -o "$out" "$cu" > "$rep/$name.ptxas.txt" 2>&1; then
    cat "$rep/$name.ptxas.txt"; rm -f "$out" "$rep/$name.ptxas.txt"; status=1
  fi
done
exit $status
