/** The browser features that decide whether wllama can run multi-threaded. */
export interface ThreadingEnvironment {
  /** `globalThis.crossOriginIsolated`: the page was served with COOP/COEP. */
  crossOriginIsolated: boolean;
  /** `SharedArrayBuffer` exists (it needs cross-origin isolation in browsers). */
  sharedArrayBuffer: boolean;
  /** `navigator.hardwareConcurrency` (1 when unknown). */
  hardwareConcurrency: number;
}

/** How many threads inference will use, and why. */
export interface ThreadingDecision extends ThreadingEnvironment {
  /** True when more than one thread will be used. */
  multiThread: boolean;
  /** The thread count to pass to wllama (`n_threads`). */
  threads: number;
  /** What was asked for (`'auto'` or a count), before any clamping. */
  requested: 'auto' | number;
  /** Plain-words explanation of the decision, for logs and UIs. */
  reason: string;
  /**
   * Set when the request could not be honoured as given (more threads than cores): says what was
   * asked, what is used and why. The bridge logs it once per load as a warning.
   */
  warning?: string;
}

/**
 * Cores that `'auto'` leaves to the page and the browser once a machine has more than
 * {@link AUTO_ALL_CORES_UP_TO}: llama.cpp's threads spin while they wait for each other, so a
 * thread that shares its core with the page's main thread (token streaming, UI, IndexedDB) or
 * the browser's own work stalls every other one at each barrier.
 */
export const AUTO_SPARE_CORES = 1;

/**
 * Up to this many cores, `'auto'` uses them all. Measured on a 2-core machine (llm-bridge README,
 * "Threads"): 2 threads decode the reference model 1.9x and prefill 1.8x as fast as 1, so
 * leaving a core idle there costs half the speed; on larger machines one core spared costs at
 * most a quarter of the threads and keeps the page responsive.
 */
export const AUTO_ALL_CORES_UP_TO = 4;

/** Reads the threading-related features of the current global scope. */
export function readThreadingEnvironment(scope: object = globalThis): ThreadingEnvironment {
  const g = scope as {
    crossOriginIsolated?: boolean;
    SharedArrayBuffer?: unknown;
    navigator?: { hardwareConcurrency?: number };
  };
  const cores = Number(g.navigator?.hardwareConcurrency);
  return {
    crossOriginIsolated: g.crossOriginIsolated === true,
    sharedArrayBuffer: typeof g.SharedArrayBuffer === 'function',
    hardwareConcurrency: Number.isFinite(cores) ? Math.max(1, Math.floor(cores)) : 1,
  };
}

/** The thread count `'auto'` picks for a machine with `cores` logical cores. */
export function autoThreads(cores: number): number {
  const n = Math.max(1, Math.floor(cores));
  return n <= AUTO_ALL_CORES_UP_TO ? n : n - AUTO_SPARE_CORES;
}

/**
 * Decides the thread count. `'auto'` uses every core (all but one past four cores, see
 * {@link autoThreads}) when the page is cross-origin isolated and `SharedArrayBuffer` exists,
 * else one thread. A number is honoured up to `navigator.hardwareConcurrency`; a larger one is
 * clamped to it with a `warning` (llama.cpp's threads spin-wait: on 2 cores, 4 threads decoded
 * 25-40x slower than 2). Without multi-threading any request becomes 1 (wllama's single-thread
 * mode cannot use more).
 * @throws {RangeError} when `requested` is neither `'auto'` nor a positive integer.
 */
export function detectThreading(
  requested: 'auto' | number = 'auto',
  env: ThreadingEnvironment = readThreadingEnvironment(),
): ThreadingDecision {
  if (requested !== 'auto' && (!Number.isInteger(requested) || requested < 1)) {
    throw new RangeError(`threads must be 'auto' or a positive integer, got ${String(requested)}`);
  }
  const possible = env.crossOriginIsolated && env.sharedArrayBuffer;
  if (!possible) {
    const missing = !env.crossOriginIsolated
      ? 'the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp)'
      : 'SharedArrayBuffer is not available';
    return {
      ...env,
      requested,
      multiThread: false,
      threads: 1,
      reason: `single-thread: ${missing}`,
    };
  }
  const cores = env.hardwareConcurrency;
  if (requested === 'auto') {
    const threads = autoThreads(cores);
    return {
      ...env,
      requested,
      multiThread: threads > 1,
      threads,
      reason:
        threads === 1
          ? 'single-thread: one core available'
          : threads === cores
            ? `multi-thread: ${threads} threads, one per core (auto, cross-origin isolated)`
            : `multi-thread: ${threads} threads on ${cores} cores (auto leaves ${cores - threads} to the page)`,
    };
  }
  const threads = Math.min(requested, cores);
  const clamped = threads < requested;
  return {
    ...env,
    requested,
    multiThread: threads > 1,
    threads,
    reason: clamped
      ? `${threads > 1 ? 'multi' : 'single'}-thread: ${threads} (clamped from ${requested}: this device has ${cores} core${cores === 1 ? '' : 's'})`
      : threads > 1
        ? `multi-thread: ${threads} threads (as asked, cross-origin isolated)`
        : 'single-thread: one thread requested',
    ...(clamped
      ? {
          warning: `threads: ${requested} was asked for, but this device has ${cores} core${cores === 1 ? '' : 's'} (navigator.hardwareConcurrency), so ${threads} are used: llama.cpp's threads busy-wait, and more threads than cores run many times slower`,
        }
      : {}),
  };
}
