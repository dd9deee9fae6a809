#!/usr/bin/env bash
# Builds llm-bridge's CPU wllama from source (README.md in this folder says why and how):
# wllama 3.13's JavaScript protocol and glue, adapted to the llama.cpp tree shipped inside the
# node-llama-cpp npm package, ggml's WebAssembly kernels plus this project's repacked GEMM
# (ggml/arch/wasm/repack.cpp), a 16 GiB memory64 maximum set at link time. Two variants:
#   simd128  WebAssembly SIMD (every browser wllama's default build runs in)
#   relaxed  + relaxed SIMD (Chromium 114+), chosen at load by feature detection
#
# Inputs are pinned in inputs.json (npm integrity, llama.cpp commit and tree hash, emscripten's
# Debian version). The result is cached outside the repository, keyed by the hash of this folder:
#   $TEA_CACHE_DIR/wllama-cpu/<key>/{simd128,relaxed}/wllama.{js,wasm} and wllama-build.json
# and $TEA_CACHE_DIR/wllama-cpu/current points at the newest one (llm-bridge's build reads it).
# A second run with nothing changed finishes in a second.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../../../scripts/lib/common.sh"

JOBS="${TEA_BUILD_JOBS:-$(nproc)}"
INPUTS="$HERE/inputs.json"
pin() { node -p "require('$INPUTS')$1"; }

# The cache key: everything in this folder that changes the output.
key="$(cd "$HERE" && find build.sh inputs.json adapt-wllama-glue.mjs patches ggml kernel-test/test-wasm-repack.cpp -type f -print0 \
  | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
CACHE="$TEA_CACHE_DIR/wllama-cpu"
OUT="$CACHE/$key"
if [ -f "$OUT/wllama-build.json" ]; then
  ln -sfn "$key" "$CACHE/current"
  info "wllama CPU build $key is built ($OUT)"
  exit 0
fi

# The compiler: Debian sid's emscripten in the offline userland (setup installs it), else an
# emcc on PATH (emsdk) of the pinned version.
want_em="$(pin '.emscripten.version')"
if [ -x "$TEA_SID_ROOT/usr/bin/emcc" ]; then
  [ "$(id -u)" = 0 ] || die "building wllama in $TEA_SID_ROOT needs root (chroot)"
  ROOT="$TEA_SID_ROOT"
  have_em="$(chroot "$ROOT" dpkg-query -W -f='${Version}' emscripten)"
elif command -v emcc >/dev/null 2>&1; then
  ROOT=""
  have_em="$(emcc --version | head -n1 | sed -E 's/.* ([0-9]+\.[0-9]+\.[0-9]+).*/\1/')"
else
  die "no emscripten: run 'bash scripts/setup.sh' (it installs Debian's emscripten $want_em in $TEA_SID_ROOT), or put emsdk's emcc $want_em on PATH"
fi
[ "${have_em%%+*}" = "${want_em%%+*}" ] \
  || warn "emscripten $have_em differs from the pinned $want_em: the build goes on, and its record says so"

step "Building wllama from source into $OUT (about 15 min on 2 cores, once) ($(elapsed))"
WORK="${ROOT:-$CACHE}/build/wllama-cpu"
SRC="$CACHE/src"
mkdir -p "$SRC" "$WORK"

# 1. npm tarballs, checked against their pinned integrity.
fetch_tarball() { # name version integrity -> path
  local name="$1" version="$2" integrity="$3" file
  file="$SRC/$(echo "${name#@}" | tr / -)-$version.tgz"
  if [ ! -f "$file" ]; then
    (cd "$SRC" && npm pack "$name@$version" --silent >/dev/null) || die "npm pack $name@$version failed"
  fi
  node -e '
    const [file, want] = process.argv.slice(1);
    const [algo, b64] = want.split(/-(.*)/s);
    const got = require("crypto").createHash(algo).update(require("fs").readFileSync(file)).digest("base64");
    if (got !== b64) { console.error(`${file}: ${algo} ${got}, pinned ${b64}`); process.exit(1); }' "$file" "$integrity" \
    || die "$name@$version does not match its pinned integrity: delete $file and check inputs.json"
  echo "$file"
}
w313="$(fetch_tarball @wllama/wllama "$(pin '.wllama.version')" "$(pin '.wllama.integrity')")"
w361="$(fetch_tarball @wllama/wllama "$(pin '.wllamaServerParts.version')" "$(pin '.wllamaServerParts.integrity')")"
nlc="$(fetch_tarball node-llama-cpp "$(pin '.llamaCpp.npm.version')" "$(pin '.llamaCpp.npm.integrity')")"

rm -rf "$WORK/src" && mkdir -p "$WORK/src/w313" "$WORK/src/w361" "$WORK/src/nlc"
tar xzf "$w313" -C "$WORK/src/w313"
tar xzf "$w361" -C "$WORK/src/w361"
tar xzf "$nlc" -C "$WORK/src/nlc" package/llama/gitRelease.bundle

# 2. The wllama tree: 3.13's CMakeLists.txt and glue, adapted; llama.cpp from the bundle, patched.
# Files are replaced only when their content changes, so that a kept build folder recompiles only
# what changed (a kernel edit rebuilds ggml-cpu, not llama.cpp).
tree="$WORK/wllama"
mkdir -p "$tree"
put() { cmp -s "$1" "$2" || { mkdir -p "$(dirname "$2")" && cp "$1" "$2"; }; }
rm -rf "$WORK/adapted"
node "$HERE/adapt-wllama-glue.mjs" "$WORK/src/w313/package" "$WORK/src/w361/package" "$WORK/adapted" >/dev/null
(cd "$WORK/adapted" && find . -type f) | while read -r f; do put "$WORK/adapted/$f" "$tree/$f"; done
commit="$(pin '.llamaCpp.commit')"
rm -rf "$WORK/llama.cpp"
git clone -q "$WORK/src/nlc/package/llama/gitRelease.bundle" "$WORK/llama.cpp" 2>/dev/null
git -C "$WORK/llama.cpp" -c advice.detachedHead=false checkout -q "$commit"
[ "$(git -C "$WORK/llama.cpp" rev-parse 'HEAD^{tree}')" = "$(pin '.llamaCpp.tree')" ] \
  || die "llama.cpp $commit has another tree hash than inputs.json pins"
for p in "$HERE"/patches/*.patch; do
  git -C "$WORK/llama.cpp" apply --whitespace=nowarn "$p" || die "patch $(basename "$p") does not apply"
done
cp "$HERE/ggml/arch/wasm/repack.cpp" "$WORK/llama.cpp/ggml/src/ggml-cpu/arch/wasm/repack.cpp"
rm -rf "$WORK/llama.cpp/.git"
# Mirror the patched tree into the build tree: changed files only, removed files removed.
(cd "$WORK/llama.cpp" && find . -type f) | while read -r f; do put "$WORK/llama.cpp/$f" "$tree/llama.cpp/$f"; done
(cd "$tree/llama.cpp" && find . -type f) | while read -r f; do [ -e "$WORK/llama.cpp/$f" ] || rm -f "$tree/llama.cpp/$f"; done

# 3. Compile: one build folder, the relaxed variant recompiles only ggml-cpu.
in_root() { # runs a command where emcc is: in the sid userland (with /proc for the duration) or here
  if [ -z "$ROOT" ]; then (cd "$tree" && bash -c "$1"); return; fi
  local mounted="" rc=0
  if ! mountpoint -q "$ROOT/proc"; then mount -t proc proc "$ROOT/proc" && mounted=1; fi
  chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
    CCACHE_DIR=/root/.ccache /bin/bash -c "cd /build/wllama-cpu/wllama && $1" || rc=$?
  [ -z "$mounted" ] || umount "$ROOT/proc" || true
  return "$rc"
}
CMAKE_FLAGS=(
  -DCMAKE_BUILD_TYPE=Release
  -DEMSCRIPTEN_SYSTEM_PROCESSOR=wasm # ggml's arch/wasm kernels (emscripten says x86 otherwise)
  -DGGML_WEBGPU=OFF                  # Dawn comes from GitHub: WebGPU stays on the npm build
  -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF
  -DLIBLLAMA_COMMIT="${commit:0:7}"
)
log="$CACHE/build-$key.log"
: > "$log"
stage="$WORK/out"
rm -rf "$stage" && mkdir -p "$stage"
for variant in simd128 relaxed; do
  relaxed=OFF; [ "$variant" = relaxed ] && relaxed=ON
  info "$variant: compiling ($(elapsed))"
  in_root "emcmake cmake -S . -B build ${CMAKE_FLAGS[*]} -DGGML_WASM_RELAXED_SIMD=$relaxed && emmake make -C build -j$JOBS wllama" >> "$log" 2>&1 \
    || { tail -n 30 "$log" >&2; die "the $variant build failed (full log: $log)"; }
  mkdir -p "$stage/$variant"
  cp "$tree/build/wllama.js" "$tree/build/wllama.wasm" "$stage/$variant/"
  # The kernels' differential test (kernel-test/), linked against this variant's ggml: the build
  # stops unless they equal ggml's generic kernels; pnpm test runs it again.
  info "$variant: kernel test ($(elapsed))"
  cp "$HERE/kernel-test/test-wasm-repack.cpp" "$tree/test-wasm-repack.cpp"
  flags="-msimd128"; [ "$variant" = relaxed ] && flags="-msimd128 -mrelaxed-simd"
  in_root "em++ -O3 $flags -pthread -sMEMORY64=1 -fwasm-exceptions -std=c++17 \
      -Illama.cpp/ggml/include -Illama.cpp/ggml/src -Illama.cpp/ggml/src/ggml-cpu test-wasm-repack.cpp \
      build/llama.cpp/ggml/src/libggml-cpu.a build/llama.cpp/ggml/src/libggml-base.a \
      -sALLOW_MEMORY_GROWTH=1 -sSTACK_SIZE=1MB -sENVIRONMENT=node -o build/kernel-test.cjs \
      && node build/kernel-test.cjs --quick --no-bench --variant $variant" >> "$log" 2>&1 \
    || { tail -n 30 "$log" >&2; die "the $variant kernels differ from ggml's generic ones (full log: $log)"; }
  cp "$tree/build/kernel-test.cjs" "$stage/$variant/kernel-test.cjs"
  [ ! -f "$tree/build/kernel-test.wasm" ] || cp "$tree/build/kernel-test.wasm" "$stage/$variant/kernel-test.wasm"
done

# 4. The build record: every input and output hash, the flags, the compiler.
node - "$INPUTS" "$stage" "$have_em" "$key" "${CMAKE_FLAGS[*]}" <<'NODE'
const fs = require('fs'), path = require('path'), crypto = require('crypto');
const [inputsFile, stage, emscripten, key, flags] = process.argv.slice(2);
const sha = (f) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const inputs = JSON.parse(fs.readFileSync(inputsFile, 'utf8'));
const variants = {};
for (const v of ['simd128', 'relaxed'])
  variants[v] = Object.fromEntries(['wllama.js', 'wllama.wasm'].map((f) => {
    const p = path.join(stage, v, f);
    return [f, { sha256: sha(p), bytes: fs.statSync(p).size }];
  }));
const record = { key, builtAt: new Date().toISOString(), inputs, emscripten: { used: emscripten },
  cmake: flags.split(' ').concat(['-DGGML_WASM_RELAXED_SIMD=OFF|ON']), variants };
fs.writeFileSync(path.join(stage, 'wllama-build.json'), JSON.stringify(record, null, 2) + '\n');
NODE
rm -rf "$OUT" && mv "$stage" "$OUT"
ln -sfn "$key" "$CACHE/current"
info "built in $(elapsed): $OUT"
