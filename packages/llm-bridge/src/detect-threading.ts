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
  /** Plain-words explanation of the decision, for logs and UIs. */
  reason: string;
}

/** Reads the threading-related features of the current global scope. */
export function readThreadingEnvironment(scope: object = globalThis): ThreadingEnvironment {
  const g = scope as {
    crossOriginIsolated?: boolean;
    SharedArrayBuffer?: unknown;
    navigator?: { hardwareConcurrency?: number };
  };
  return {
    crossOriginIsolated: g.crossOriginIsolated === true,
    sharedArrayBuffer: typeof g.SharedArrayBuffer === 'function',
    hardwareConcurrency: Math.max(1, Math.floor(g.navigator?.hardwareConcurrency ?? 1)),
  };
}

/**
 * Decides the thread count. `'auto'` uses every core when the page is cross-origin isolated and
 * `SharedArrayBuffer` exists, else one thread. A number is honoured when multi-threading is
 * possible and clamped to 1 when it is not (wllama's single-thread build cannot use more).
 */
export function detectThreading(
  requested: 'auto' | number = 'auto',
  env: ThreadingEnvironment = readThreadingEnvironment(),
): ThreadingDecision {
  const possible = env.crossOriginIsolated && env.sharedArrayBuffer;
  if (!possible) {
    const missing = !env.crossOriginIsolated
      ? 'the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp)'
      : 'SharedArrayBuffer is not available';
    return { ...env, multiThread: false, threads: 1, reason: `single-thread: ${missing}` };
  }
  if (requested !== 'auto' && (!Number.isInteger(requested) || requested < 1)) {
    throw new RangeError(`threads must be 'auto' or a positive integer, got ${String(requested)}`);
  }
  const threads = requested === 'auto' ? env.hardwareConcurrency : requested;
  return {
    ...env,
    multiThread: threads > 1,
    threads,
    reason:
      threads > 1
        ? `multi-thread: ${threads} threads (cross-origin isolated)`
        : 'single-thread: one thread requested or one core available',
  };
}
