import { BridgeAbortError } from './errors.js';

// core-wasm has its own copy (the layers do not import each other); both run the contract suite
// of @the-edge-agent/test-fixtures/contracts (race-abort.contract.test.ts), so they behave alike.
// Even with a signal aborted before the call, the work is subscribed to: its later rejection is
// never an unhandled one.

/**
 * Settles like `work`, except that it rejects with an `ABORTED` error as soon as `signal` aborts
 * (the work itself is not cancelled here; callers stop it through the same signal).
 */
export function raceAbort<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  what: string,
): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new BridgeAbortError(what, { cause: signal.reason }));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
