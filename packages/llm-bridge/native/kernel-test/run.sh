#!/bin/sh
# Differential + speed harness for the wasm Q4_K/Q6_K repack kernels.
#
# Builds ggml (ggml-base + ggml-cpu static libs) twice from a pristine llama.cpp tree with
# ../patches/0001-ggml-cpu-wasm-repack.patch applied and ../ggml/arch/wasm/repack.cpp copied in:
# once with plain SIMD128, once with GGML_WASM_RELAXED_SIMD=ON. Links test-wasm-repack.cpp against each
# and runs it under node (single thread). Exit status is non-zero if any variant FAILs.
#
# Usage: run.sh [--quick] [--variant simd128|relaxed]
# Env:   SID_ROOT   Debian sid userland with emscripten, cmake, node (default below)
#        LLAMA_SRC  pristine llama.cpp git tree (default /root/wsrc/llama.cpp), cloned with the host's git
#        BUILD_DIR  build folder (default: ./build next to this script); must have the same path inside
#                   SID_ROOT (true for anything under /work, which is bind-mounted there)
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
NATIVE=$(cd "$HERE/.." && pwd)
SID_ROOT=${SID_ROOT:-/root/.cache/tea-wasm-llm/sid-root}
LLAMA_SRC=${LLAMA_SRC:-/root/wsrc/llama.cpp}
BUILD_DIR=${BUILD_DIR:-$HERE/build}
VARIANTS="simd128 relaxed"
ARGS=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) ARGS="$ARGS --quick" ;;
        --variant) shift; VARIANTS="$1" ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

# run a command inside the sid userland (paths under /work and /wsrc are bind-mounted there)
sid() {
    chroot "$SID_ROOT" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
        /bin/sh -c "$1"
}

SRC="$BUILD_DIR/llama.cpp"
rm -rf "$SRC" && mkdir -p "$BUILD_DIR"
git clone -q "$LLAMA_SRC" "$SRC"
(cd "$SRC" && git apply "$NATIVE/patches/0001-ggml-cpu-wasm-repack.patch")
cp "$NATIVE/ggml/arch/wasm/repack.cpp" "$SRC/ggml/src/ggml-cpu/arch/wasm/repack.cpp"

STATUS=0
for v in $VARIANTS; do
    case "$v" in
        simd128) RELAXED=OFF; FLAGS="-msimd128" ;;
        relaxed) RELAXED=ON;  FLAGS="-msimd128 -mrelaxed-simd" ;;
        *) echo "unknown variant $v" >&2; exit 2 ;;
    esac
    B="$BUILD_DIR/ggml-$v"
    echo "== building ggml ($v)"
    sid "set -e
        # configure from the llama.cpp root (the ggml/ subfolder alone lacks ggml.pc.in in this tree)
        emcmake cmake -S '$SRC' -B '$B' -DCMAKE_BUILD_TYPE=Release -DGGML_OPENMP=OFF -DLLAMA_WASM_MEM64=OFF \
            -DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
            -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_HTML=OFF \
            -DGGML_WASM_RELAXED_SIMD=$RELAXED >'$B.cmake.log' 2>&1 || { tail -30 '$B.cmake.log'; exit 1; }
        grep -q 'Wasm detected' '$B.cmake.log' || { echo 'ggml-cpu did not take the wasm branch' >&2; exit 1; }
        cmake --build '$B' --target ggml-base ggml-cpu -j2 >/dev/null
        em++ -O3 $FLAGS -std=c++17 -I'$SRC/ggml/include' -I'$SRC/ggml/src' -I'$SRC/ggml/src/ggml-cpu' \
            '$HERE/test-wasm-repack.cpp' '$B/ggml/src/libggml-cpu.a' '$B/ggml/src/libggml-base.a' \
            -sALLOW_MEMORY_GROWTH=1 -sSTACK_SIZE=1MB -sENVIRONMENT=node -o '$B/test-wasm-repack.cjs'"
    echo "== running ($v)"
    # --no-liftoff: time the optimizing tier only (browsers reach it after a few calls; with a busy
    # machine V8's background tier-up can otherwise land in the middle of the timed runs)
    if ! sid "node --no-liftoff '$B/test-wasm-repack.cjs' --variant $v $ARGS"; then
        STATUS=1
    fi
done
exit $STATUS
