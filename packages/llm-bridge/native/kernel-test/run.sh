#!/usr/bin/env bash
# The wasm Q4_K/Q6_K repack kernels' differential test, with timings: runs the test programs that
# native/build.sh linked against each variant's ggml (memory64, as shipped) under the sid
# userland's Node, single thread. Exit status is non-zero if a variant FAILs.
#
# Usage: run.sh [--quick] [--no-bench] [--seed N] [--variant simd128|relaxed]
# (--no-liftoff times V8's optimizing tier only, as a browser reaches it after a few calls.)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../../../scripts/lib/common.sh"
dir="$TEA_CACHE_DIR/wllama-cpu/current"
[ -f "$dir/wllama-build.json" ] || die "no CPU build in $dir: run packages/llm-bridge/native/build.sh"
variants=(simd128 relaxed)
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --variant) shift; variants=("$1") ;;
    --seed) args+=("$1" "$2"); shift ;;
    *) args+=("$1") ;;
  esac
  shift
done
inside=/tmp/tea-kernel-test
status=0
for v in "${variants[@]}"; do
  rm -rf "$TEA_SID_ROOT$inside" && mkdir -p "$TEA_SID_ROOT$inside"
  cp "$dir/$v/"kernel-test.* "$TEA_SID_ROOT$inside/"
  chroot "$TEA_SID_ROOT" /usr/bin/env -i PATH=/usr/bin:/bin node --no-liftoff "$inside/kernel-test.cjs" \
    --variant "$v" "${args[@]}" || status=1
done
rm -rf "${TEA_SID_ROOT:?}$inside"
exit "$status"
