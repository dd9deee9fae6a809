import { describe, expect, it } from 'vitest';
import { autoThreads, detectThreading, readThreadingEnvironment } from './detect-threading.js';

const isolated = { crossOriginIsolated: true, sharedArrayBuffer: true, hardwareConcurrency: 8 };

describe('detectThreading', () => {
  it('auto uses every core up to four, all but one on larger machines', () => {
    for (const [cores, threads] of [
      [1, 1],
      [2, 2],
      [4, 4],
      [6, 5],
      [8, 7],
      [16, 15],
    ] as const) {
      const decision = detectThreading('auto', { ...isolated, hardwareConcurrency: cores });
      expect(decision).toMatchObject({ threads, multiThread: threads > 1, requested: 'auto' });
      expect(decision.warning).toBeUndefined();
      expect(autoThreads(cores)).toBe(threads);
    }
    expect(detectThreading('auto', isolated).reason).toMatch(/7 threads on 8 cores/);
  });

  it('clamps a request for more threads than cores and warns with both numbers', () => {
    const decision = detectThreading(8, { ...isolated, hardwareConcurrency: 2 });
    expect(decision).toMatchObject({ multiThread: true, threads: 2, requested: 8 });
    expect(decision.warning).toMatch(/threads: 8 was asked for.*2 cores.*so 2 are used/);
    expect(decision.reason).toMatch(/clamped from 8/);
    const one = detectThreading(4, { ...isolated, hardwareConcurrency: 1 });
    expect(one).toMatchObject({ multiThread: false, threads: 1 });
    expect(one.warning).toMatch(/1 core \(/);
  });

  it('honours any count up to the cores, even more than auto would pick', () => {
    const decision = detectThreading(8, isolated);
    expect(decision).toMatchObject({ threads: 8, multiThread: true });
    expect(decision.warning).toBeUndefined();
  });

  it('honours an explicit thread count when isolated', () => {
    expect(detectThreading(2, { ...isolated, hardwareConcurrency: 2 })).toMatchObject({
      multiThread: true,
      threads: 2,
    });
  });

  it('falls back to one thread without cross-origin isolation and says why', () => {
    const decision = detectThreading(4, { ...isolated, crossOriginIsolated: false });
    expect(decision).toMatchObject({ multiThread: false, threads: 1 });
    expect(decision.reason).toMatch(/not cross-origin isolated/);
    // Not a clamp: the reason says what to change, and the sdk warns about isolation once.
    expect(decision.warning).toBeUndefined();
  });

  it('falls back to one thread without SharedArrayBuffer', () => {
    const decision = detectThreading('auto', { ...isolated, sharedArrayBuffer: false });
    expect(decision).toMatchObject({ multiThread: false, threads: 1 });
    expect(decision.reason).toMatch(/SharedArrayBuffer/);
  });

  it('rejects a thread count that is not a positive integer', () => {
    expect(() => detectThreading(0, isolated)).toThrow(RangeError);
    expect(() => detectThreading(1.5, isolated)).toThrow(RangeError);
    // Wrong whatever the page allows: a typo must not hide behind a missing COOP header.
    expect(() => detectThreading(-2, { ...isolated, crossOriginIsolated: false })).toThrow(
      RangeError,
    );
    expect(() => detectThreading(Number.NaN, isolated)).toThrow(RangeError);
  });
});

describe('readThreadingEnvironment', () => {
  it('reads the features of a scope', () => {
    const scope = {
      crossOriginIsolated: true,
      SharedArrayBuffer,
      navigator: { hardwareConcurrency: 6 },
    };
    expect(readThreadingEnvironment(scope)).toEqual({ ...isolated, hardwareConcurrency: 6 });
  });

  it('reads a missing or nonsense core count as one core', () => {
    for (const hardwareConcurrency of [undefined, Number.NaN, 0, -3, 'eight'])
      expect(
        readThreadingEnvironment({ navigator: { hardwareConcurrency } }).hardwareConcurrency,
      ).toBe(1);
  });

  it('defaults to one core and no isolation on an empty scope', () => {
    expect(readThreadingEnvironment({})).toEqual({
      crossOriginIsolated: false,
      sharedArrayBuffer: false,
      hardwareConcurrency: 1,
    });
  });
});
