import { CoreWasmError } from './errors.js';

/**
 * Rejects with `ABORTED` (`message`) as soon as `signal` aborts, so a slow handler cannot hold a
 * cancelled run or call; otherwise settles as `work` does.
 */
export function raceAbort<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  message: string,
): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CoreWasmError('ABORTED', message, { cause: signal.reason }));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
