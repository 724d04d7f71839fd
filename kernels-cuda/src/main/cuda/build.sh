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
# Files compile in parallel, one nvcc per core (at most 4; LONGCONV4J_NVCC_JOBS overrides): each writes its own fatbin and
# report, so the outputs are the same as a serial build's (checked: byte-identical fatbins).
jobs_max=${LONGCONV4J_NVCC_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$jobs_max" -gt 4 ] && jobs_max=4
[ "$jobs_max" -lt 1 ] && jobs_max=1
compile() {   # name cu out
  if ! "$nvcc" -fatbin -O3 -std=c++17 -lineinfo -Xptxas -v \
      -gencode arch=compute_80,code=sm_80 \
      -gencode arch=compute_90a,code=sm_90a \
      -gencode arch=compute_80,code=compute_80 \
      -o "$3" "$2" > "$rep/$1.ptxas.txt" 2>&1; then
    cat "$rep/$1.ptxas.txt"; rm -f "$3" "$rep/$1.ptxas.txt"; return 1
  fi
}
# deps FILE: the files of this folder that FILE includes with #include "...", transitively (each once)
deps() {
  local todo=("$1") seen=" " f inc
  while [ ${#todo[@]} -gt 0 ]; do
    f=${todo[0]}; todo=("${todo[@]:1}")
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
      inc="$src/$inc"
      case "$seen" in *" $inc "*) continue ;; esac
      seen="$seen$inc "
      [ -f "$inc" ] && { echo "$inc"; todo+=("$inc"); }
    done
  done
}
running=0
for cu in "$src"/*.cu; do
  name=$(basename "$cu" .cu)
  out="$res/$name.fatbin"
  # stale when the .cu or any file it includes (directly or through another, "..." includes of this folder) is newer
  newer_dep=
  for f in $(deps "$cu"); do [ "$f" -nt "$out" ] && newer_dep=1; done
  if [ -z "$newer_dep" ] && [ "$out" -nt "$cu" ] && [ -s "$rep/$name.ptxas.txt" ]; then
    continue   # up to date
  fi
  echo "[kernels-cuda] nvcc $name.cu -> $name.fatbin (sm_80, sm_90a, compute_80)"
  compile "$name" "$cu" "$out" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs_max" ]; then wait -n || status=1; running=$((running - 1)); fi
done
while [ "$running" -gt 0 ]; do wait -n || status=1; running=$((running - 1)); done
exit $status
