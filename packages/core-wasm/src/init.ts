import { CoreWasmError } from './errors.js';
import { executeYaml, renderTemplate, validateYaml } from './execute.js';
import { instantiate, isReady } from './instance.js';
import { yieldToEventLoop } from './yield-to-event-loop.js';

/**
 * Where to load the engine's `.wasm` from: a URL (or string URL), a `Response`, the bytes, or a
 * compiled `WebAssembly.Module`. Omit it to use the `.wasm` shipped beside this package.
 */
export type InitInput = URL | string | Response | BufferSource | WebAssembly.Module;

let ready: Promise<void> | undefined;

/** The `.wasm` shipped in this package (`@the-edge-agent/core-wasm/tea_core_bg.wasm`). */
function defaultWasmUrl(): URL {
  // Bundlers (Vite, webpack, esbuild) recognise this pattern and emit the file as an asset.
  return new URL('../wasm/tea_core_bg.wasm', import.meta.url);
}

function isNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string' && !('document' in globalThis);
}

/** Node's fetch cannot read `file:` URLs, so in Node the bytes are read from disk. */
async function readWasmFromDisk(url: URL): Promise<Uint8Array> {
  const fsModule = 'node:fs/promises';
  const fs = (await import(/* @vite-ignore */ fsModule)) as {
    readFile(path: URL): Promise<Uint8Array>;
  };
  return fs.readFile(url);
}

async function resolveSource(input: InitInput | undefined): Promise<InitInput> {
  if (input !== undefined) return input;
  const url = defaultWasmUrl();
  return isNode() && url.protocol === 'file:' ? readWasmFromDisk(url) : url;
}

// A small workflow touching the common paths: parsing, templates, conditions, a loop.
const WARM_UP = `name: warm-up
state_schema: { n: { type: int, default: 0 } }
variables: { step: 1 }
nodes:
  - name: count
    uses: return
    with:
      value: "{{ state.n + variables.step }}"
      text: "{% for i in range(3) %}{{ i }}{% endfor %} {{ state | tojson }}"
    output: n
    goto:
      - if: "state.n < 3"
        to: count
      - to: done
  - name: done
    uses: passthrough
`;

/**
 * Runs a small workflow once, in a few tasks. V8 compiles a wasm function the first time it is
 * called: the first run of a page spent ~60 ms compiling inside one node, where neither an
 * abort nor a paint could get in. Paid here instead, in pieces the page can paint between.
 */
async function warmUp(): Promise<void> {
  const steps = [
    () => validateYaml(WARM_UP),
    () => renderTemplate('{{ state.a | default(1) }} {% if state.b %}b{% endif %}', { a: 1 }),
    () => executeYaml(WARM_UP, {}),
  ];
  for (const step of steps) {
    await step();
    await yieldToEventLoop();
  }
}

/** Compiles the module (kept, so that a trapped instance can be replaced without a refetch). */
async function compile(input: InitInput): Promise<WebAssembly.Module> {
  if (input instanceof WebAssembly.Module) return input;
  let source: InitInput = input;
  if (typeof source === 'string' || source instanceof URL) source = await fetch(source);
  if (typeof Response !== 'undefined' && source instanceof Response) {
    if (!source.ok) throw new Error(`HTTP ${source.status} for ${source.url || 'the wasm'}`);
    const wasmType = source.headers.get('Content-Type')?.startsWith('application/wasm');
    if (wasmType && typeof WebAssembly.compileStreaming === 'function')
      return WebAssembly.compileStreaming(source);
    return WebAssembly.compile(await source.arrayBuffer());
  }
  return WebAssembly.compile(source as BufferSource);
}

/**
 * Loads and instantiates the engine's WebAssembly module. Call it once before any other function;
 * later calls return the same promise. Works in browsers (fetches the `.wasm` by URL) and in Node
 * (reads the bytes from disk).
 *
 * @param input where to load the `.wasm` from; defaults to the copy shipped with this package.
 * @throws {CoreWasmError} `WASM_INIT_FAILED` when the module cannot be fetched or instantiated.
 */
export function init(input?: InitInput): Promise<void> {
  ready ??= (async () => {
    try {
      await instantiate(await compile(await resolveSource(input)));
      await warmUp();
    } catch (cause) {
      ready = undefined;
      const detail = cause instanceof Error ? cause.message : String(cause);
      throw new CoreWasmError(
        'WASM_INIT_FAILED',
        `could not load the TEA engine's wasm: ${detail}`,
        {
          cause,
        },
      );
    }
  })();
  return ready;
}

/** Whether `init()` has completed, so the engine's functions can be called. */
export function isInitialized(): boolean {
  return isReady();
}

/** @throws {CoreWasmError} `NOT_INITIALIZED` unless `init()` has completed. */
export function assertInitialized(): void {
  if (!isReady()) {
    throw new CoreWasmError(
      'NOT_INITIALIZED',
      'the TEA engine is not initialised: await init() from @the-edge-agent/core-wasm first',
    );
  }
}
