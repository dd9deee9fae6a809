import { describe, expect, it } from 'vitest';
import { detectThreading, readThreadingEnvironment } from './detect-threading.js';

const isolated = { crossOriginIsolated: true, sharedArrayBuffer: true, hardwareConcurrency: 8 };

describe('detectThreading', () => {
  it('uses every core when cross-origin isolated', () => {
    expect(detectThreading('auto', isolated)).toMatchObject({ multiThread: true, threads: 8 });
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
  });

  it('falls back to one thread without SharedArrayBuffer', () => {
    const decision = detectThreading('auto', { ...isolated, sharedArrayBuffer: false });
    expect(decision).toMatchObject({ multiThread: false, threads: 1 });
    expect(decision.reason).toMatch(/SharedArrayBuffer/);
  });

  it('rejects a thread count that is not a positive integer', () => {
    expect(() => detectThreading(0, isolated)).toThrow(RangeError);
    expect(() => detectThreading(1.5, isolated)).toThrow(RangeError);
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

  it('defaults to one core and no isolation on an empty scope', () => {
    expect(readThreadingEnvironment({})).toEqual({
      crossOriginIsolated: false,
      sharedArrayBuffer: false,
      hardwareConcurrency: 1,
    });
  });
});
