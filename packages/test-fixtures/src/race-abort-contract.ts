import { describe, expect, it } from 'vitest';

/** The shape both packages' `raceAbort(work, signal, text)` have. */
export type RaceAbort = <T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  text: string,
) => Promise<T>;

/** How a package's `ABORTED` error looks, so that the suite can check it. */
export interface RaceAbortContractOptions {
  /** The `code` of the abort error (`ABORTED` in both packages). */
  code: string;
  /** The `name` of the abort error (`AbortError` wherever the package makes one so). */
  name?: string;
  /**
   * Cases (by their title) this implementation is known to fail today: they run as `it.fails`,
   * so the suite goes red as soon as the implementation is fixed and the entry must go.
   */
  knownGaps?: readonly string[];
}

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

/** Work that settles when told to, and whether anyone listened to its outcome. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => {
    resolve = a;
    reject = b;
  });
  return { promise, resolve, reject };
}

/** A signal whose listener count can be read (`AbortSignal` keeps it private). */
function countedSignal(controller: AbortController) {
  const signal = controller.signal;
  let listeners = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
    listeners++;
    add(...args);
  }) as AbortSignal['addEventListener'];
  signal.removeEventListener = ((...args: Parameters<AbortSignal['removeEventListener']>) => {
    listeners--;
    remove(...args);
  }) as AbortSignal['removeEventListener'];
  return { signal, listeners: () => listeners };
}

/** A case of the contract, run against one implementation. */
type Case = (
  raceAbort: RaceAbort,
  isAbort: (error: unknown, text: string) => void,
) => Promise<void>;

/** Whether `raceAbort` subscribed to `work` (a later rejection is then never unhandled). */
function watchThen<T>(work: Promise<T>): () => boolean {
  let observed = false;
  const then = work.then.bind(work);
  work.then = ((...args: Parameters<typeof then>) => {
    observed = true;
    return then(...args);
  }) as typeof work.then;
  return () => observed;
}

const CASES: ReadonlyArray<readonly [string, Case]> = [
  [
    'returns the work itself without a signal',
    async (raceAbort) => {
      const work = Promise.resolve(1);
      expect(raceAbort(work, undefined, 'x')).toBe(work);
      await expect(raceAbort(Promise.reject(new Error('boom')), undefined, 'x')).rejects.toThrow(
        'boom',
      );
    },
  ],
  [
    'settles as the work does while the signal stays quiet',
    async (raceAbort) => {
      const controller = new AbortController();
      await expect(raceAbort(Promise.resolve('v'), controller.signal, 'x')).resolves.toBe('v');
      const error = new Error('boom');
      await expect(raceAbort(Promise.reject(error), controller.signal, 'x')).rejects.toBe(error);
    },
  ],
  [
    'rejects with the abort error as soon as the signal aborts, with its reason as cause',
    async (raceAbort, isAbort) => {
      const controller = new AbortController();
      const work = deferred<string>();
      const raced = raceAbort(work.promise, controller.signal, 'the call');
      const reason = new Error('stop');
      controller.abort(reason);
      const error = await raced.then(
        () => undefined,
        (e: unknown) => e,
      );
      isAbort(error, 'the call');
      expect((error as { cause?: unknown }).cause).toBe(reason);
      // The work settling later changes nothing.
      work.resolve('late');
      await tick();
    },
  ],
  [
    'rejects at once when the signal was already aborted',
    async (raceAbort, isAbort) => {
      const controller = new AbortController();
      controller.abort('gone');
      const error = await raceAbort(
        new Promise(() => undefined),
        controller.signal,
        'loading',
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      isAbort(error, 'loading');
      expect((error as { cause?: unknown }).cause).toBe('gone');
    },
  ],
  [
    "observes the work's outcome even when aborted first (a later failure is never unhandled)",
    async (raceAbort) => {
      for (const early of [true, false]) {
        const controller = new AbortController();
        if (early) controller.abort();
        const work = deferred<never>();
        // Unobserved, the work's later rejection would be unhandled (fatal in Node by default).
        const observed = watchThen(work.promise);
        const raced = raceAbort(work.promise, controller.signal, 'x').catch(() => undefined);
        controller.abort();
        await raced;
        expect(observed(), early ? 'signal aborted before the call' : 'aborted during').toBe(true);
        work.promise.catch(() => undefined);
        work.reject(new Error('the work failed after the abort'));
        await tick();
      }
    },
  ],
  [
    'removes its abort listener once the work settles',
    async (raceAbort) => {
      const counted = countedSignal(new AbortController());
      await raceAbort(Promise.resolve(1), counted.signal, 'x');
      await tick();
      expect(counted.listeners()).toBe(0);
      await raceAbort(Promise.reject(new Error('e')), counted.signal, 'x').catch(() => undefined);
      await tick();
      expect(counted.listeners()).toBe(0);
    },
  ],
];

/** The titles of the contract's cases (what `knownGaps` may name). */
export const RACE_ABORT_CASES: readonly string[] = CASES.map(([title]) => title);

/**
 * Registers the cases every `raceAbort` must pass (core-wasm's and llm-bridge's), so the two
 * copies behave the same: call it from a `*.test.ts` of each package with its implementation.
 */
export function raceAbortContract(
  name: string,
  raceAbort: RaceAbort,
  options: RaceAbortContractOptions,
): void {
  const gaps = new Set(options.knownGaps ?? []);
  for (const gap of gaps)
    if (!RACE_ABORT_CASES.includes(gap)) throw new Error(`no raceAbort contract case '${gap}'`);
  const isAbort = (error: unknown, text: string) => {
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: options.code });
    if (options.name) expect((error as Error).name).toBe(options.name);
    expect((error as Error).message).toContain(text);
  };
  describe(`raceAbort contract: ${name}`, () => {
    for (const [title, run] of CASES)
      (gaps.has(title) ? it.fails : it)(title, () => run(raceAbort, isAbort));
  });
}
