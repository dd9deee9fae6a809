#!/usr/bin/env bash
# Installs the Rust -> wasm32 toolchain the core-wasm package builds with.
#
#   native: rustup's wasm32-unknown-unknown target + `cargo install wasm-bindgen-cli`
#           (matching the wasm-bindgen crate) + wasm-opt. Used where the internet allows.
#   debian: an offline Debian sid userland (rustc, libstd-rust-dev-wasm32, wasm-bindgen CLI,
#           binaryen, vendored crates under /usr/share/cargo/registry), debootstrapped once into
#           $TEA_SID_ROOT (outside the repo) and reused. Used where crates.io is unreachable.
#
# TEA_TOOLCHAIN=auto|native|debian picks one (default auto: what is already installed, then
# native if it can be installed, then debian).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# Crates the engine uses, as Debian packages (the offline registry; keep in step with
# packages/core-wasm/crate/Cargo.toml), and python3-gguf: llama.cpp's GGUF reader, which model-loader's
# tests use as an independent check of the size accounting.
SID_PACKAGES=(
  rustc cargo libstd-rust-dev-wasm32 wasm-bindgen lld binaryen ca-certificates
  librust-wasm-bindgen-dev librust-wasm-bindgen-futures-dev librust-js-sys-dev
  librust-serde-dev librust-serde-derive-dev librust-serde-json-dev librust-serde-yaml-dev
  librust-serde-wasm-bindgen-dev librust-minijinja-dev librust-console-error-panic-hook-dev
  librust-strsim-dev librust-indexmap-dev librust-futures-dev librust-marked-yaml-dev librust-yaml-rust2-dev
  rustfmt rust-clippy  # cargo fmt --check and cargo clippy -D warnings run in pnpm test
  python3-gguf llama.cpp-tools  # llama-quantize, llama-bench: test-fixtures checks its Q4_K_M writer against them
  python3-jinja2  # core-wasm's template oracle: Jinja2 renders every generated template the engine renders (oracle/)
  shellcheck  # the workflow lint runs it over every run: script (sid's is current: 0.11)
  emscripten cmake make libsimde-dev  # llm-bridge's CPU wllama, built from source (packages/llm-bridge/native)
)
SID_PACKAGES_ID="$(printf '%s\n' "${SID_PACKAGES[@]}" | sha256sum | cut -c1-16)"

native_ready() {
  command -v rustup >/dev/null 2>&1 || return 1
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown || return 1
  command -v rustfmt >/dev/null 2>&1 && command -v clippy-driver >/dev/null 2>&1 || return 1
  command -v wasm-bindgen >/dev/null 2>&1 && command -v wasm-opt >/dev/null 2>&1
}

debian_ready() {
  [ -f "$TEA_SID_READY" ] && [ "$(cat "$TEA_SID_READY")" = "$SID_PACKAGES_ID" ]
}

# Runs a command inside the sid userland. apt/dpkg get /proc for the duration of the command
# only: a mount left behind would make `rm -rf` of the cache folder fail (or worse).
sid_exec() {
  local cmd="$1" mounted="" rc=0
  if ! mountpoint -q "$TEA_SID_ROOT/proc"; then
    mount -t proc proc "$TEA_SID_ROOT/proc" && mounted=1
  fi
  chroot "$TEA_SID_ROOT" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin \
    LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive /bin/bash -c "$cmd" || rc=$?
  [ -z "$mounted" ] || umount "$TEA_SID_ROOT/proc" || true
  return "$rc"
}

debian_mirror() {
  if [ -n "${TEA_DEBIAN_MIRROR:-}" ]; then echo "$TEA_DEBIAN_MIRROR"; return; fi
  # Use the mirror this machine's apt already uses for Debian.
  local uri
  uri="$(grep -hoE '^(URIs:|deb) +[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
        | head -n1 | awk '{print $2}')" || true
  [ -n "$uri" ] || die "cannot find a Debian mirror in /etc/apt; set TEA_DEBIAN_MIRROR=<mirror url>"
  echo "${uri%/}"
}

install_debian() {
  [ "$(id -u)" = 0 ] || die "the offline toolchain needs root (debootstrap, chroot). Run setup as root, or install rustup with internet access (see README)."
  if ! command -v debootstrap >/dev/null 2>&1; then
    step "Installing debootstrap from apt ($(elapsed))"
    apt-get install -y debootstrap >/dev/null || { apt-get update >/dev/null && apt-get install -y debootstrap >/dev/null; }
  fi
  mkdir -p "$TEA_CACHE_DIR"
  if [ ! -x "$TEA_SID_ROOT/usr/bin/apt-get" ]; then
    local mirror partial="$TEA_SID_ROOT.partial"
    mirror="$(debian_mirror)"
    step "Bootstrapping a Debian sid userland into $TEA_SID_ROOT from $mirror (1-2 min, once) ($(elapsed))"
    rm -rf "$partial"
    debootstrap --variant=minbase sid "$partial" "$mirror" > "$TEA_CACHE_DIR/debootstrap.log" 2>&1 \
      || { tail -n 20 "$TEA_CACHE_DIR/debootstrap.log" >&2; die "debootstrap failed (full log: $TEA_CACHE_DIR/debootstrap.log)"; }
    mv "$partial" "$TEA_SID_ROOT"
  fi
  step "Installing rustc, wasm32 std, wasm-bindgen, binaryen and vendored crates in the sid userland (a few minutes, once) ($(elapsed))"
  local pkgs="${SID_PACKAGES[*]}" log="$TEA_CACHE_DIR/sid-apt.log"
  if ! sid_exec "apt-get --fix-broken install -y && apt-get install -y --no-install-recommends $pkgs" > "$log" 2>&1; then
    info "install failed; refreshing the package lists (sid's Release file may be expired) and retrying"
    sid_exec "apt-get -o Acquire::Check-Valid-Until=false update && apt-get --fix-broken install -y && apt-get install -y --no-install-recommends $pkgs" >> "$log" 2>&1 \
      || { tail -n 20 "$log" >&2; die "installing the Rust toolchain in the sid userland failed (full log: $log)"; }
  fi
  mkdir -p "$TEA_SID_ROOT/root/.cargo"
  cat > "$TEA_SID_ROOT/root/.cargo/config.toml" <<'TOML'
# Offline build: crates come from Debian's vendored registry, never from crates.io.
[source.crates-io]
replace-with = "debian"
[source.debian]
directory = "/usr/share/cargo/registry"
[net]
offline = true
[target.wasm32-unknown-unknown]
linker = "wasm-ld"
TOML
  echo "$SID_PACKAGES_ID" > "$TEA_SID_READY"
}

# The wasm-bindgen CLI and the wasm-bindgen crate must be the same version exactly.
check_bindgen_debian() {
  local cli crate
  cli="$(sid_exec 'wasm-bindgen --version' | awk '{print $2}')"
  crate="$(sid_exec 'ls -d /usr/share/cargo/registry/wasm-bindgen-[0-9]* | sed "s/.*wasm-bindgen-//" | sort -V | tail -n1')"
  [ -n "$cli" ] && [ "$cli" = "$crate" ] \
    || die "wasm-bindgen CLI ($cli) and crate ($crate) differ in $TEA_SID_ROOT; remove that folder and run setup again"
  info "rustc $(sid_exec 'rustc --version' | awk '{print $2}'), wasm-bindgen $cli (CLI = crate), $(sid_exec 'wasm-opt --version')"
}

check_bindgen_native() {
  local cli crate
  cli="$(wasm-bindgen --version | awk '{print $2}')"
  crate="$(cd "$TEA_REPO_ROOT/packages/core-wasm/crate" && cargo metadata --format-version 1 2>/dev/null \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const p=JSON.parse(s).packages.find(p=>p.name==="wasm-bindgen");console.log(p?p.version:"")})')"
  [ -n "$crate" ] && [ "$cli" = "$crate" ] \
    || die "wasm-bindgen CLI ($cli) does not match the wasm-bindgen crate ($crate): run 'cargo install wasm-bindgen-cli --version $crate --force'"
  info "$(rustc --version), wasm-bindgen $cli (CLI = crate), $(wasm-opt --version)"
}

try_install_native() {
  command -v rustup >/dev/null 2>&1 || return 1
  step "Trying rustup's wasm32 target (needs internet) ($(elapsed))"
  timeout 60 rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || { info "no internet for rustup: using the offline Debian toolchain"; return 1; }
  # The engine's test runs rustfmt --check and clippy -D warnings.
  timeout 120 rustup component add rustfmt clippy >/dev/null 2>&1 || return 1
  local crate
  crate="$(cd "$TEA_REPO_ROOT/packages/core-wasm/crate" && cargo metadata --format-version 1 \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const p=JSON.parse(s).packages.find(p=>p.name==="wasm-bindgen");console.log(p?p.version:"")})')" || return 1
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$crate" ]; then
    step "cargo install wasm-bindgen-cli --version $crate ($(elapsed))"
    cargo install wasm-bindgen-cli --version "$crate" --locked --force || return 1
  fi
  if ! command -v wasm-opt >/dev/null 2>&1; then
    step "Installing wasm-opt (binaryen) ($(elapsed))"
    { [ "$(id -u)" = 0 ] && apt-get install -y binaryen >/dev/null 2>&1; } || cargo install wasm-opt --locked || return 1
  fi
}

main() {
  mkdir -p "$TEA_CACHE_DIR"
  local want="${TEA_TOOLCHAIN:-auto}" mode=""
  case "$want" in
    native) native_ready || try_install_native || die "native toolchain unavailable (rustup + internet needed)"; mode=native ;;
    debian) debian_ready || install_debian; mode=debian ;;
    auto)
      if native_ready; then mode=native
      elif debian_ready; then mode=debian
      elif [ "${CI:-}" != "true" ] && try_install_native; then mode=native
      else install_debian; mode=debian; fi ;;
    *) die "TEA_TOOLCHAIN must be auto, native or debian (got '$want')" ;;
  esac
  step "Rust -> wasm toolchain: $mode ($(elapsed))"
  if [ "$mode" = debian ]; then check_bindgen_debian; else check_bindgen_native; fi
  echo "$mode" > "$TEA_TOOLCHAIN_FILE"
}

[ "${BASH_SOURCE[0]}" = "$0" ] && main "$@"
