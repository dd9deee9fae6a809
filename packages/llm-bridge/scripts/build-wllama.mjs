#!/usr/bin/env node
// @ts-check
// Builds the wllama this package ships: the exact pinned @wllama/wllama, with its memory64
// ceiling raised from 4 GiB to 16 GiB so that models such as Gemma 3n E4B Q4_K_M (~4.5-4.8 GB)
// load CPU-only. Nothing is downloaded and nothing is compiled: wllama's 4 GiB cap is four
// constants (see README, "The 16 GiB wllama build"), changed here in place.
//
// 1. The inputs (wllama's ESM bundle and its wasm) must have the pinned SHA-256: another wllama
//    version or a tampered install stops the build.
// 2. Each change replaces a text that must occur exactly once; the wasm's memory import is
//    rewritten by a parser that checks the old maximum first.
// 3. The outputs are checked (the wasm's import section is parsed again) and every hash is
//    recorded in wasm/wllama-build.json, which ships with the package.
//
// Outputs: wasm/wllama.wasm, wasm/wllama-build.json and wasm/LICENSE-wllama.txt (shipped), and
// vendor/wllama.js (bundled into dist by tsup; not shipped on its own).
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { cpuBuildDir, takeCpuBuild } from './cpu-wllama.mjs';
import { applyTextChanges } from './text-changes.mjs';
import { readMemoryImports, setImportedMemoryMaximum } from './wasm-memory-limit.mjs';

export { applyTextChanges };

export const WLLAMA_PIN = {
  version: '3.13.0',
  js: {
    path: 'esm/index.js',
    sha256: 'fffd95c16ca191f31f4303664a05189c43d0cb20c52b67276c04e8857b138b64',
  },
  wasm: {
    path: 'esm/wasm/wllama.wasm',
    sha256: '79ac5be917b71d50571a4f584436a9f6baf6b6e57719d094ed8bd950e9a65780',
  },
};

const PAGE = 65536;
export const STOCK_MAX_PAGES = 65536; // 4 GiB
export const MAX_PAGES = 262144; // 16 GiB

/**
 * The JS changes: each `find` must occur exactly once in wllama's esm/index.js (the Emscripten
 * glue and the worker code are strings inside it, so the worker is covered too).
 * @type {{ why: string, find: string, replace: string }[]}
 */
export const JS_CHANGES = [
  {
    why: "Emscripten's heap ceiling: emscripten_resize_heap never grows memory past it",
    find: 'var getHeapMax=()=>4294967296;',
    replace: `var getHeapMax=()=>${MAX_PAGES * PAGE};`,
  },
  {
    why: 'the memory the glue creates itself when none is passed in (kept for completeness: the next change always passes one)',
    find: 'maximum:65536n,shared:true,address:"i64"',
    replace: `maximum:${MAX_PAGES}n,shared:true,address:"i64"`,
  },
  {
    why: "the worker's memory: try 16 GiB first (it steps down 128 MiB at a time where a browser cannot reserve that much); the compat build (wasm32) keeps 4 GiB",
    find: 'let maxBytes = 4096 * 1024 * 1024;',
    replace: 'let maxBytes = (isCompat ? 4096 : 16384) * 1024 * 1024;',
  },
  {
    why: 'single-thread runs get the same stepping-down memory as multi-thread ones instead of a fixed one that fails outright where 16 GiB cannot be reserved',
    find: 'wasmMemory: hasMultithread ? getWasmMemory() : null,',
    replace: 'wasmMemory: hasMultithread || !isCompat ? getWasmMemory() : null,',
  },
  {
    why: "the CPU build (compiled from source, another Emscripten) brings its own glue: a path map entry 'default.js' holding that code is run instead of the glue bundled here",
    find: `      wasmPath: absoluteUrl(this.pathConfig["default"]),
      compat: false
    };`,
    replace: `      wasmPath: absoluteUrl(this.pathConfig["default"]),
      jsPath: this.pathConfig["default.js"] ? { code: this.pathConfig["default.js"] } : void 0,
      compat: false
    };`,
  },
];

const sha256 = (/** @type {Uint8Array | string} */ data) =>
  createHash('sha256').update(data).digest('hex');

/**
 * Builds from the installed @wllama/wllama (or `from`, a folder laid out like it) and the CPU
 * build native/build.sh made (or `cpu`, a folder laid out like it) into this package (or `to`).
 * Throws on any mismatch.
 * @param {{ from?: string, to?: string, cpu?: string }} [where]
 */
export function build(where = {}) {
  const require = createRequire(import.meta.url);
  const root = where.from ?? dirname(require.resolve('@wllama/wllama/package.json'));
  const pkgJson = join(root, 'package.json');
  const { version } = JSON.parse(readFileSync(pkgJson, 'utf8'));
  if (version !== WLLAMA_PIN.version)
    throw new Error(
      `wllama patch: pinned to @wllama/wllama ${WLLAMA_PIN.version}, found ${version}`,
    );
  const inputs = /** @type {const} */ (['js', 'wasm']).map((k) => {
    const { path, sha256: expected } = WLLAMA_PIN[k];
    const bytes = readFileSync(join(root, path));
    const actual = sha256(bytes);
    if (actual !== expected)
      throw new Error(
        `wllama patch: ${path} of @wllama/wllama ${version} has SHA-256 ${actual}, pinned ${expected}. ` +
          'Another build of wllama must be reviewed before its limits are changed: update WLLAMA_PIN and JS_CHANGES together.',
      );
    return { path, bytes, sha256: actual };
  });
  const [js, wasm] = /** @type {[typeof inputs[0], typeof inputs[0]]} */ (inputs);

  const outJs = applyTextChanges(js.bytes.toString('utf8'), JS_CHANGES);
  const outWasm = setImportedMemoryMaximum(wasm.bytes, {
    module: 'env',
    name: 'memory',
    expectMaxPages: STOCK_MAX_PAGES,
    maxPages: MAX_PAGES,
  });
  const memory = readMemoryImports(outWasm).find((m) => m.module === 'env' && m.name === 'memory');
  if (!memory?.memory64 || !memory.shared || memory.maxPages !== MAX_PAGES)
    throw new Error(`wllama patch: output memory import is wrong: ${JSON.stringify(memory)}`);

  const here = where.to ?? new URL('..', import.meta.url).pathname;
  mkdirSync(join(here, 'wasm'), { recursive: true });
  mkdirSync(join(here, 'vendor'), { recursive: true });
  const cpu = takeCpuBuild(where.cpu ?? cpuBuildDir(), here);
  writeFileSync(join(here, 'wasm/wllama.wasm'), outWasm);
  writeFileSync(join(here, 'vendor/wllama.js'), outJs);
  // wllama is MIT-licensed; its licence travels with the code bundled from it.
  copyFileSync(join(root, 'LICENCE'), join(here, 'wasm/LICENSE-wllama.txt'));
  const record = {
    wllama: version,
    memory64MaxBytes: MAX_PAGES * PAGE,
    stockMaxBytes: STOCK_MAX_PAGES * PAGE,
    inputs: inputs.map(({ path, sha256: h }) => ({ file: `@wllama/wllama/${path}`, sha256: h })),
    outputs: [
      { file: 'wasm/wllama.wasm', sha256: sha256(outWasm), bytes: outWasm.length },
      {
        file: 'dist/index.js (bundles vendor/wllama.js)',
        sha256: sha256(outJs),
        bytes: outJs.length,
      },
    ],
    changes: [
      {
        file: 'esm/wasm/wllama.wasm',
        what: `import env.memory maximum ${STOCK_MAX_PAGES} -> ${MAX_PAGES} pages`,
      },
      ...JS_CHANGES.map((c) => ({
        file: 'esm/index.js',
        what: `${c.find} -> ${c.replace}`,
        why: c.why,
      })),
    ],
    cpu,
  };
  writeFileSync(join(here, 'wasm/wllama-build.json'), `${JSON.stringify(record, null, 2)}\n`);
  console.log(
    `wllama ${version}: memory64 maximum 4 GiB -> 16 GiB; wasm ${(outWasm.length / 2 ** 20).toFixed(1)} MiB ` +
      `sha256 ${sha256(outWasm).slice(0, 16)}…, ${JS_CHANGES.length} JS changes`,
  );
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  try {
    build();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
