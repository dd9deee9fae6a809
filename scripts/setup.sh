#!/usr/bin/env bash
# One command that sets up everything the tests and the demo need. Idempotent: a second run
# checks what is there, installs nothing, and finishes in seconds.
#   - pnpm (the exact version in package.json's packageManager)
#   - node_modules (pnpm install --frozen-lockfile)
#   - Chromium for the browser tests (Playwright's own where installed, else Debian's from apt)
#   - the Rust -> wasm32 toolchain (scripts/setup-rust.sh: rustup where the internet allows,
#     else an offline Debian sid userland cached in ~/.cache/tea-wasm-llm)
#   - llm-bridge's CPU wllama, built from source (packages/llm-bridge/native/build.sh; cached)
#   - shellcheck for the workflow lint (the sid userland's, else the system's, else apt's)
#   - nginx for model-loader's nginx suite (the system's, else Debian's from apt)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$TEA_REPO_ROOT"

step "Checking Node.js ($(elapsed))"
command -v node >/dev/null 2>&1 || die "Node.js 20.19+ is required (https://nodejs.org)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "Node.js 20.19+ is required, found $(node -v)"
info "node $(node -v)"

want_pnpm="$(node -p 'require("./package.json").packageManager.split("@")[1]')"
if [ "$(pnpm -v 2>/dev/null || true)" != "$want_pnpm" ]; then
  step "Installing pnpm $want_pnpm (npm i -g) ($(elapsed))"
  npm i -g "pnpm@$want_pnpm" --no-fund --no-audit >/dev/null
fi
info "pnpm $(pnpm -v)"

step "Installing workspace dependencies (pnpm install --frozen-lockfile) ($(elapsed))"
pnpm install --frozen-lockfile --reporter=append-only 2>&1 | grep -vE '^(Progress|\s*$)' | tail -n 5

step "Checking Chromium for the browser tests ($(elapsed))"
if [ -n "${TEA_CHROMIUM_PATH:-}" ]; then
  [ -x "$TEA_CHROMIUM_PATH" ] || die "TEA_CHROMIUM_PATH=$TEA_CHROMIUM_PATH is not an executable"
  info "using TEA_CHROMIUM_PATH=$TEA_CHROMIUM_PATH"
elif node -e 'const p=require("@playwright/test").chromium.executablePath(); process.exit(require("fs").existsSync(p)?0:1)' 2>/dev/null; then
  info "using Playwright's own Chromium"
elif [ -x /usr/bin/chromium ]; then
  info "using $(/usr/bin/chromium --version 2>/dev/null | head -n1) at /usr/bin/chromium"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  info "installing Debian's chromium with apt (about a minute)"
  apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium >/dev/null
  info "installed $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
else
  die "no Chromium for the browser tests: run 'pnpm exec playwright install chromium' (internet), install your distribution's chromium, or set TEA_CHROMIUM_PATH"
fi

# model-loader's nginx suite (packages/model-loader/e2e/nginx*.spec.ts) starts its own nginx per
# run (a temporary prefix, a free port on 127.0.0.1); only the binary is needed.
step "Checking nginx for the browser tests ($(elapsed))"
nginx_bin="${TEA_NGINX_PATH:-/usr/sbin/nginx}"
if [ -x "$nginx_bin" ]; then
  info "$("$nginx_bin" -v 2>&1 | head -n1) at $nginx_bin"
elif [ -n "${TEA_NGINX_PATH:-}" ]; then
  die "TEA_NGINX_PATH=$TEA_NGINX_PATH is not an executable"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  info "installing Debian's nginx with apt"
  apt-get install -y --no-install-recommends nginx >/dev/null 2>&1 \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends nginx >/dev/null; }
  [ -x "$nginx_bin" ] || die "nginx was installed but $nginx_bin is not there"
  info "installed $("$nginx_bin" -v 2>&1 | head -n1)"
else
  die "no nginx for model-loader's nginx suite: install it (apt-get install nginx), or set TEA_NGINX_PATH to an nginx binary"
fi

bash scripts/setup-rust.sh

# llm-bridge's CPU build of wllama, compiled from pinned sources with the Emscripten the line above
# installed (packages/llm-bridge/native/README.md). About 15 minutes once; cached outside the repo.
bash packages/llm-bridge/native/build.sh

# The workflow lint (in pnpm test) runs shellcheck over every `run:` script. The offline sid
# userland above carries a current one; elsewhere it comes from the system (GitHub's Ubuntu
# runners have it) or from apt.
step "Checking shellcheck for the workflow lint ($(elapsed))"
find_shellcheck() {
  node --input-type=module -e 'import { findShellcheck } from "./tools/workflow-lint/shellcheck.mjs";
    const s = findShellcheck(); console.log(`shellcheck ${s.version} (${s.where})`);' 2>/dev/null
}
if ! found="$(find_shellcheck)"; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    info "installing shellcheck with apt"
    apt-get install -y --no-install-recommends shellcheck >/dev/null 2>&1 \
      || { apt-get update >/dev/null && apt-get install -y --no-install-recommends shellcheck >/dev/null; }
    found="$(find_shellcheck)" || die "shellcheck was installed but does not run"
  else
    die "no shellcheck for the workflow lint: install it (apt-get install shellcheck, brew install shellcheck) or set TEA_SHELLCHECK=/path/to/shellcheck"
  fi
fi
info "$found"

step "Setup complete in $(elapsed). Next: pnpm test (all tests), pnpm demo (the demo app)"
