import { describe, expect, it } from 'vitest';
import { probeWasmHeapLimit } from './probe-heap.js';

const GiB = 2 ** 30;

/** A browser that can reserve at most `max64` bytes of memory64 (0: none) and `max32` of wasm32. */
const browser = (max64: number, max32 = 4 * GiB) => {
  const asked: number[] = [];
  return {
    asked,
    create: (bytes: number, memory64: boolean) => {
      asked.push(bytes);
      if (bytes > (memory64 ? max64 : max32)) throw new RangeError('could not allocate memory');
      return {};
    },
  };
};

describe('probeWasmHeapLimit', () => {
  it('gets 16 GiB in one try where the browser reserves it', () => {
    const b = browser(64 * GiB);
    expect(probeWasmHeapLimit({ create: b.create })).toEqual({
      limitBytes: 16 * GiB,
      memory64: true,
    });
    expect(b.asked).toEqual([16 * GiB]);
  });

  it("finds the largest 128 MiB step a smaller device reserves, as wllama's worker will", () => {
    const b = browser(6.3 * GiB);
    const { limitBytes } = probeWasmHeapLimit({ create: b.create });
    expect(limitBytes).toBe(6.25 * GiB);
    expect(b.asked.length).toBeLessThan(10);
  });

  it('falls back to wasm32 (the compat build, 4 GiB at most) without memory64', () => {
    expect(probeWasmHeapLimit({ create: browser(0).create })).toEqual({
      limitBytes: 4 * GiB,
      memory64: false,
    });
    expect(probeWasmHeapLimit({ create: browser(0, 2 * GiB).create }).limitBytes).toBe(2 * GiB);
  });
});
