#!/usr/bin/env bash
# Builds or tests the engine crate (crate/: Cargo.toml, build.rs, src/*.rs) with the toolchain
# that setup installed; the TypeScript wrapper lives in src/ beside it.
#   rust.sh build   -> cargo build (wasm32, release) + wasm-bindgen --target web + wasm-opt -Oz into wasm/
#   rust.sh test    -> cargo test (native) of the pure-Rust logic
#   rust.sh lint    -> cargo fmt --check, cargo clippy -D warnings (native with tests, and wasm32)
#   rust.sh fmt     -> cargo fmt (writes the formatted sources back)
# In "debian" mode the crate is copied into the offline sid userland, built there, and the
# output copied back; the cargo target dir stays in that userland so rebuilds are incremental.
set -euo pipefail
PKG_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CRATE_DIR="$PKG_DIR/crate"
source "$PKG_DIR/../../scripts/lib/common.sh"

OUT_NAME=tea_core
OUT_DIR="$PKG_DIR/wasm"
cmd="${1:-build}"

mode="$(cat "$TEA_TOOLCHAIN_FILE" 2>/dev/null || true)"
[ -n "$mode" ] || die "no Rust toolchain set up: run 'pnpm run setup' first"

build_steps() { # $1 = crate dir, $2 = output dir (paths as seen by the toolchain)
  cat <<SH
set -euo pipefail
cd "$1"
echo "    cargo build --release --target wasm32-unknown-unknown"
cargo build --quiet --release --target wasm32-unknown-unknown
rm -rf "$2" && mkdir -p "$2"
echo "    wasm-bindgen --target web --typescript --omit-default-module-path"
wasm-bindgen --target web --typescript --omit-default-module-path --out-dir "$2" --out-name $OUT_NAME target/wasm32-unknown-unknown/release/tea_core.wasm
echo "    cargo metadata (third-party crate list)"
cargo metadata --quiet --format-version 1 --filter-platform wasm32-unknown-unknown > "$2/cargo-metadata.json"
echo "    wasm-opt -Oz"
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue "$2/${OUT_NAME}_bg.wasm" -o "$2/${OUT_NAME}_bg.wasm"
SH
}

lint_steps() {
  cat <<'SH'
set -euo pipefail
command -v rustfmt >/dev/null && command -v clippy-driver >/dev/null || { echo "rustfmt or clippy is missing: run 'pnpm run setup' (or: rustup component add rustfmt clippy)" >&2; exit 1; }
echo "    rustfmt --check (cargo fmt needs /proc, which the offline userland lacks)"
rustfmt --check --edition 2021 src/lib.rs build.rs
echo "    clippy -D warnings (native, with tests; wasm32)"
# cargo-clippy's own launcher needs /proc; cargo check with clippy-driver as the wrapper is
# what it runs, and needs none.
export RUSTC_WORKSPACE_WRAPPER="$(command -v clippy-driver)" CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
cargo check --quiet --lib --tests --target-dir target/clippy
cargo check --quiet --lib --target wasm32-unknown-unknown --target-dir target/clippy
SH
}

crates() {
  node "$PKG_DIR/scripts/third-party-crates.mjs" "$OUT_DIR/cargo-metadata.json" "$OUT_DIR/THIRD_PARTY_CRATES.md"
  rm -f "$OUT_DIR/cargo-metadata.json"
  node "$PKG_DIR/scripts/patch-glue.mjs" "$OUT_DIR/$OUT_NAME.js"
}

case "$mode" in
  native)
    case "$cmd" in
      build) bash -c "$(build_steps "$CRATE_DIR" "$OUT_DIR")" && crates ;;
      test) (cd "$CRATE_DIR" && cargo test --quiet --lib) ;;
      lint) (cd "$CRATE_DIR" && bash -c "$(lint_steps)") ;;
      fmt) (cd "$CRATE_DIR" && rustfmt --edition 2021 src/lib.rs build.rs) ;;
      *) die "usage: rust.sh build|test|lint|fmt" ;;
    esac ;;
  debian)
    [ -f "$TEA_SID_READY" ] || die "the offline toolchain in $TEA_SID_ROOT is incomplete: run 'pnpm run setup'"
    # cargo, rustc and wasm-bindgen need no /proc; nothing is mounted, so the cache can be removed safely.
    work="$TEA_SID_ROOT/build/core-wasm"
    mkdir -p "$work"
    # Sync the crate sources (not target/) into the userland.
    rm -rf "$work/src" && cp -r "$CRATE_DIR/src" "$work/src" && cp "$CRATE_DIR/Cargo.toml" "$CRATE_DIR/build.rs" "$CRATE_DIR/rustfmt.toml" "$work/"
    run() { chroot "$TEA_SID_ROOT" /usr/bin/env -i HOME=/root PATH=/usr/bin:/bin LANG=C.UTF-8 /bin/bash -c "$1"; }
    case "$cmd" in
      build)
        run "$(build_steps /build/core-wasm /build/core-wasm-out)"
        rm -rf "$OUT_DIR" && cp -r "$TEA_SID_ROOT/build/core-wasm-out" "$OUT_DIR" && crates ;;
      test) run "cd /build/core-wasm && cargo test --quiet --lib" ;;
      lint) run "cd /build/core-wasm && $(lint_steps)" ;;
      fmt)
        run "cd /build/core-wasm && rustfmt --edition 2021 src/lib.rs build.rs"
        for f in "$work"/src/*.rs; do cp "$f" "$CRATE_DIR/src/"; done && cp "$work/build.rs" "$CRATE_DIR/" ;;
      *) die "usage: rust.sh build|test|lint|fmt" ;;
    esac ;;
  *) die "unknown toolchain mode '$mode' in $TEA_TOOLCHAIN_FILE: run 'pnpm run setup'" ;;
esac
