import { WLLAMA_COMPAT_HEAP_LIMIT_BYTES, WLLAMA_HEAP_LIMIT_BYTES } from './fit-rule.js';

const PAGE = 65536;
/** wllama's worker steps down by this much when a memory cannot be reserved; so does the probe. */
const STEP = 128 * 2 ** 20;

/** What the probe found: the largest wasm heap this browser reserves for wllama. */
export interface HeapProbe {
  /** Bytes: the memory64 maximum that could be reserved (a multiple of 128 MiB), or 4 GiB for wasm32. */
  limitBytes: number;
  /** Whether memory64 memories can be created at all (wllama's default build needs them). */
  memory64: boolean;
}

/** Creates a shared memory with the given maximum, or throws (injectable for tests). */
export type MemoryFactory = (maxBytes: number, memory64: boolean) => unknown;

const browserFactory: MemoryFactory = (maxBytes, memory64) =>
  new WebAssembly.Memory(
    (memory64
      ? { initial: 1n, maximum: BigInt(maxBytes / PAGE), shared: true, address: 'i64' }
      : {
          initial: 1,
          maximum: maxBytes / PAGE,
          shared: true,
        }) as unknown as WebAssembly.MemoryDescriptor,
  );

let cached: HeapProbe | undefined;

/**
 * The wasm heap wllama can really get here. wllama's worker asks for a 16 GiB memory64 memory
 * and steps down 128 MiB at a time where the browser refuses (32-bit devices, low-memory
 * phones); this finds the same figure, by bisection, so the fit rule uses what the load will
 * get. Browsers without memory64 run wllama's compat build (wasm32): 4 GiB at most. The result
 * is cached for the page (pass `fresh` to probe again).
 */
export function probeWasmHeapLimit(
  options: { create?: MemoryFactory; fresh?: boolean } = {},
): HeapProbe {
  if (cached && !options.fresh && !options.create) return cached;
  const create = options.create ?? browserFactory;
  const can = (bytes: number, memory64: boolean) => {
    try {
      create(bytes, memory64);
      return true;
    } catch {
      return false;
    }
  };
  let result: HeapProbe;
  if (can(WLLAMA_HEAP_LIMIT_BYTES, true))
    result = { limitBytes: WLLAMA_HEAP_LIMIT_BYTES, memory64: true };
  else if (!can(STEP, true))
    result = {
      limitBytes: largest(WLLAMA_COMPAT_HEAP_LIMIT_BYTES, (b) => can(b, false)),
      memory64: false,
    };
  else
    result = { limitBytes: largest(WLLAMA_HEAP_LIMIT_BYTES, (b) => can(b, true)), memory64: true };
  if (!options.create) cached = result;
  return result;
}

/** The largest multiple of STEP up to `ceiling` that `ok` accepts (0 when none). */
function largest(ceiling: number, ok: (bytes: number) => boolean): number {
  let lo = 0;
  let hi = ceiling / STEP;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (ok(mid * STEP)) lo = mid;
    else hi = mid - 1;
  }
  return lo * STEP;
}
