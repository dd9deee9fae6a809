#!/usr/bin/env node
// Ships wllama's wasm inside this package (wasm/wllama.wasm) so that an install served from the
// app's own origin never asks a CDN for it. The copy is made at build time from the exact
// @wllama/wllama version this package depends on.
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const pkgJson = require.resolve('@wllama/wllama/package.json');
const { version } = JSON.parse(readFileSync(pkgJson, 'utf8'));
const from = join(dirname(pkgJson), 'esm', 'wasm', 'wllama.wasm');
const outDir = new URL('../wasm/', import.meta.url).pathname;
mkdirSync(outDir, { recursive: true });
copyFileSync(from, join(outDir, 'wllama.wasm'));
const mb = (statSync(join(outDir, 'wllama.wasm')).size / 2 ** 20).toFixed(1);
console.log(`copied wllama ${version} wasm (${mb} MiB) to wasm/wllama.wasm`);
