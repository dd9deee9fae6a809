import * as glue from './wasm-glue.js';
import { CoreWasmError, fromEngineError, type EngineErrorJson } from './errors.js';

/**
 * The engine's limits (see the README's table). They live in the Rust crate (`limits.rs`); this
 * layer reads them from the loaded module.
 */
export interface EngineLimits {
  maxYamlBytes: number;
  maxYamlDepth: number;
  maxYamlNodes: number;
  maxTemplateOperators: number;
  maxDepth: number;
  maxJsonBytes: number;
  maxOutputSegments: number;
  templateFuel: number;
  maxTemplateOutput: number;
  templateRecursion: number;
  sliceMs: number;
  heapLimit: number;
  /** Most branches one `dynamic_parallel` node starts. */
  maxParallelBranches: number;
  /** Most retries `max_retries` may ask for. */
  maxRetries: number;
}

interface Facts {
  codes: string[];
  limits: EngineLimits;
  builtinActions: string[];
}

let wasmModule: WebAssembly.Module | undefined;
let exports: { memory: WebAssembly.Memory } | undefined;
let facts: Facts | undefined;
let reportAt: [number, number, number] = [0, 0, 0];
let generation = 0;
let healthy = false;
let restarts = 0;
const trapListeners = new Set<() => void>();

/** Calls `listener` when the instance traps (runs in flight end then); returns the unsubscriber. */
export function onTrap(listener: () => void): () => void {
  trapListeners.add(listener);
  return () => trapListeners.delete(listener);
}

function adopt(out: { memory: WebAssembly.Memory }): void {
  exports = out;
  generation++;
  healthy = true;
  facts = JSON.parse(glue.engine_facts()) as Facts;
  const at = glue.trap_report_addresses();
  reportAt = [at[0]!, at[1]!, at[2]!];
}

/** Instantiates the engine from a compiled module (the first time, from `init`). */
export async function instantiate(module: WebAssembly.Module): Promise<void> {
  const out = (await glue.instantiateGlue({ module_or_path: module })) as unknown as {
    memory: WebAssembly.Memory;
  };
  wasmModule = module;
  adopt(out);
}

/** Whether `init` has completed. */
export function isReady(): boolean {
  return wasmModule !== undefined;
}

/**
 * A live engine instance: after a trap, a fresh one is made here from the same compiled module
 * (synchronously; registered actions and handlers live on this side and need nothing redone).
 */
function live(): void {
  if (!wasmModule)
    throw new CoreWasmError(
      'NOT_INITIALIZED',
      'the TEA engine is not initialised: await init() from @the-edge-agent/core-wasm first',
    );
  if (healthy) return;
  glue.__tea_reset();
  adopt(glue.initSync({ module: wasmModule }) as unknown as { memory: WebAssembly.Memory });
  restarts++;
}

/** The current instance's generation: handles made in an earlier one are stale. */
export function currentGeneration(): number {
  live();
  return generation;
}

/** The engine's limits, error codes and built-in action names. */
export function engineFacts(): Facts {
  live();
  return facts!;
}

/** How many times a trapped instance was replaced (for tests and diagnostics). */
export function restartCount(): number {
  return restarts;
}

/** A length-prefixed UTF-8 text at `at` in the instance's memory (`u32` length, then bytes). */
function textAt(view: DataView, at: number, max: number): string | undefined {
  const len = view.getUint32(at, true);
  if (len === 0 || len > max) return undefined;
  return new TextDecoder().decode(new Uint8Array(view.buffer, at + 4, len));
}

/** What the trapped instance left in its report area (read from memory, no call into it). */
function trapReport(): { node?: string; panic?: string; failedAllocation: number } {
  try {
    const view = new DataView(exports!.memory.buffer);
    const node = textAt(view, reportAt[0], 252);
    const panic = textAt(view, reportAt[2], 252);
    const failedAllocation = view.getUint32(reportAt[1], true);
    return { ...(node ? { node } : {}), ...(panic ? { panic } : {}), failedAllocation };
  } catch {
    return { failedAllocation: 0 };
  }
}

/**
 * Calls into the engine. Every export returns normally (errors come back as JSON), so anything
 * thrown is a trap (`unreachable`, out-of-bounds memory, the browser's stack limit): the
 * instance is discarded, a fresh one is made on the next call, and the caller gets
 * `WASM_TRAPPED` naming the node that was running (`node` when the report area has none).
 */
export function call<T>(work: () => T, context: { what: string; node?: string }): T {
  live();
  try {
    return work();
  } catch (cause) {
    healthy = false;
    const report = trapReport();
    const node = report.node ?? context.node;
    const heap = facts?.limits.heapLimit ?? 0;
    const why =
      report.failedAllocation > 0
        ? `it ran out of its ${Math.round(heap / 2 ** 20)} MiB heap (an allocation of ${report.failedAllocation} bytes failed)`
        : report.panic
          ? `it panicked: ${report.panic}`
          : `it trapped: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`;
    for (const listener of [...trapListeners]) listener();
    throw new CoreWasmError(
      'WASM_TRAPPED',
      `the TEA engine stopped while ${context.what}${node ? ` (node '${node}')` : ''}: ${why}. A fresh engine instance replaces it, so the next call works; please report the input that caused this.`,
      { cause, ...(node ? { node } : {}) },
    );
  }
}

/** Parses an engine answer; `{ error }` becomes a thrown `CoreWasmError`. */
export function unwrap<T>(text: string): T {
  const out = JSON.parse(text) as { error?: EngineErrorJson } & T;
  if (out.error) throw fromEngineError(out.error);
  return out;
}
