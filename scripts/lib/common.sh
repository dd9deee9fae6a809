# Shared helpers for the project's shell scripts (sourced, not run).
# shellcheck shell=bash

TEA_REPO_ROOT="${TEA_REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
# Cache for tools installed outside the repo (the offline Rust->wasm userland lives here).
TEA_CACHE_DIR="${TEA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tea-wasm-llm}"
# Where the Debian sid userland (rustc, wasm32 std, wasm-bindgen, binaryen) is kept.
TEA_SID_ROOT="${TEA_SID_ROOT:-$TEA_CACHE_DIR/sid-root}"
# Marker written once the toolchain in TEA_SID_ROOT is complete.
TEA_SID_READY="$TEA_SID_ROOT/.tea-toolchain-ready"
# Records which Rust toolchain the build uses: "native" (rustup) or "debian" (sid userland).
TEA_TOOLCHAIN_FILE="$TEA_CACHE_DIR/toolchain-mode"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
info() { printf '    %s\n' "$*"; }
warn() { printf '\033[33mwarning:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# Elapsed seconds since the script started, for progress lines.
elapsed() { echo "$(( $(date +%s) - TEA_T0 ))s"; }
export TEA_T0="${TEA_T0:-$(date +%s)}"
