#!/usr/bin/env bash
# fatsync.sh SRC DST: copy SRC checkout's built fatbins (and ptxas reports) into the DST checkout (a git worktree of the
# same repository) for every kernel whose .cu and "..."-included files are byte-identical in both trees, so DST's build
# (kernels-cuda/src/main/cuda/build.sh) skips nvcc for them. A fatbin SRC has not rebuilt since its sources changed is
# not copied. Developer tool: nvcc takes ~20 minutes for all kernels on two cores.
set -euo pipefail
src=$(cd "$1" && pwd); dst=$(cd "$2" && pwd)
cu=kernels-cuda/src/main/cuda
res=kernels-cuda/target/classes/ai/longconv4j/cuda
rep=kernels-cuda/target/cuda
mkdir -p "$dst/$res" "$dst/$rep"
deps() {   # the .cu and its transitive "..." includes, relative to $cu
  local todo=("$1") seen=" $1 " f inc
  echo "$1"
  while [ ${#todo[@]} -gt 0 ]; do
    f=${todo[0]}; todo=("${todo[@]:1}")
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$src/$cu/$f"); do
      case "$seen" in *" $inc "*) continue ;; esac
      seen="$seen$inc "
      [ -f "$src/$cu/$inc" ] && { echo "$inc"; todo+=("$inc"); }
    done
  done
}
copied=0; skipped=0
for f in "$src/$cu"/*.cu; do
  name=$(basename "$f" .cu)
  fb="$src/$res/$name.fatbin"; pt="$src/$rep/$name.ptxas.txt"
  [ -s "$fb" ] && [ -s "$pt" ] || { skipped=$((skipped + 1)); continue; }
  same=1
  for d in $(deps "$name.cu"); do
    [ "$src/$cu/$d" -nt "$fb" ] && same=0
    cmp -s "$src/$cu/$d" "$dst/$cu/$d" || same=0
  done
  if [ $same = 1 ]; then
    cp "$fb" "$dst/$res/"; cp "$pt" "$dst/$rep/"; touch "$dst/$res/$name.fatbin" "$dst/$rep/$name.ptxas.txt"
    copied=$((copied + 1))
  else
    skipped=$((skipped + 1))
  fi
done
echo "fatsync: $copied fatbins copied, $skipped left to nvcc"
