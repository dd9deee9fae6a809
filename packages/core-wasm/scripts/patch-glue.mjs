#!/usr/bin/env node
// Adds one export to wasm-bindgen's generated glue (wasm/tea_core.js): `__tea_reset()`, which
// forgets the current instance so that `initSync({ module })` can instantiate a fresh one. The
// TypeScript layer does that after a trap (src/instance.ts). Fails if the glue's shape changed.
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.argv[2];
const text = readFileSync(file, 'utf8');
const anchor = 'let wasmModule, wasm;';
const count = text.split(anchor).length - 1;
if (count !== 1) {
  console.error(`patch-glue: expected '${anchor}' once in ${file}, found it ${count} times`);
  process.exit(1);
}
if (!text.includes('function initSync(module)')) {
  console.error(`patch-glue: no initSync in ${file}`);
  process.exit(1);
}
const types = file.replace(/\.js$/, '.d.ts');
writeFileSync(types, `${readFileSync(types, 'utf8')}\nexport function __tea_reset(): void;\n`);
writeFileSync(
  file,
  `${text}\n/** Forgets the current instance (after a trap); initSync then makes a fresh one. */\nexport function __tea_reset() {\n    wasm = undefined;\n    wasmModule = undefined;\n}\n`,
);
