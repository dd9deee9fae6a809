import { BridgeAbortError } from './errors.js';
import { raceAbort } from './race-abort.js';

/**
 * Runs tasks one at a time, in the order they were queued. A model context serves one request
 * at a time; parallel workflow branches queue here instead of interleaving tokens.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** Requests queued or running. */
  get size(): number {
    return this.waiting;
  }

  /**
   * Queues `task`. If `signal` aborts while the task is still waiting its turn, it is dropped
   * and the promise rejects with an `ABORTED` error without ever running.
   */
  run<T>(task: () => Promise<T>, signal?: AbortSignal, what = 'the request'): Promise<T> {
    this.waiting++;
    const turn = this.tail.then(
      () => undefined,
      () => undefined,
    );
    const result = turn.then(() => {
      if (signal?.aborted) throw new BridgeAbortError(what, { cause: signal.reason });
      return task();
    });
    this.tail = result.catch(() => undefined).finally(() => this.waiting--);
    // Reject right away on abort, even while an earlier request still runs.
    return raceAbort(result, signal, what);
  }
}
