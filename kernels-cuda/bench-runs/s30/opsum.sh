#!/usr/bin/env bash
# op bench summary of a sitting's extracted logs: learned (packed) and FB (monarch) fwd+bwd ms, both orders, default and alt
for f in "$1"/op-*.txt; do
  printf "%-28s packed %s | FB %s | fwd %s\n" "$(basename $f .txt)" "$(grep -E '^op packed fwd\+bwd  ' $f | awk '{print $7}' | paste -sd/)" "$(grep -E '^op monarch fwd\+bwd  ' $f | awk '{print $7}' | paste -sd/)" "$(grep -E '^op packed fwd  ' $f | awk '{print $7}' | paste -sd/)"
done
