import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  encodeUleb,
  readMemoryImports,
  readUleb,
  setImportedMemoryMaximum,
  WasmFormatError,
} from './wasm-memory-limit.mjs';

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const name = (s: string) => [s.length, ...new TextEncoder().encode(s)];
const section = (id: number, content: number[]) => [id, ...encodeUleb(content.length), ...content];

/** A module with a type section, then imports: a function, a global, then the memory. */
function moduleWithMemory(flags: number, min: number, max?: number): Uint8Array {
  const limits = [flags, ...encodeUleb(min), ...(max === undefined ? [] : encodeUleb(max))];
  const imports = [
    3,
    ...name('env'),
    ...name('f'),
    0x00,
    0,
    ...name('env'),
    ...name('g'),
    0x03,
    0x7f,
    0x00,
    ...name('env'),
    ...name('memory'),
    0x02,
    ...limits,
  ];
  const types = [1, 0x60, 0, 0];
  const custom = [...name('after'), 1, 2, 3];
  return new Uint8Array([
    ...HEADER,
    ...section(1, types),
    ...section(2, imports),
    ...section(0, custom),
  ]);
}

describe('LEB128', () => {
  it('round-trips page counts around the byte boundaries', () => {
    for (const v of [0, 1, 127, 128, 2048, 65535, 65536, 262144, 2 ** 32, 2 ** 48]) {
      const bytes = new Uint8Array(encodeUleb(v));
      expect(readUleb(bytes, 0)).toEqual({ value: v, next: bytes.length });
    }
    expect(encodeUleb(65536)).toEqual([0x80, 0x80, 0x04]);
    expect(encodeUleb(262144)).toEqual([0x80, 0x80, 0x10]);
  });

  it('refuses a LEB that runs past the end', () => {
    expect(() => readUleb(new Uint8Array([0x80, 0x80]), 0)).toThrow(WasmFormatError);
  });
});

describe('readMemoryImports', () => {
  it('reads a shared memory64 import behind other imports', () => {
    expect(readMemoryImports(moduleWithMemory(0x07, 2048, 65536))).toMatchObject([
      {
        module: 'env',
        name: 'memory',
        shared: true,
        memory64: true,
        minPages: 2048,
        maxPages: 65536,
      },
    ]);
  });

  it('reads a memory without maximum', () => {
    expect(readMemoryImports(moduleWithMemory(0x00, 1))[0]).toMatchObject({ maxPages: undefined });
  });

  it('refuses what is not a wasm module, and truncated modules', () => {
    expect(() => readMemoryImports(new TextEncoder().encode('<!doctype html>'))).toThrow(/magic/);
    const whole = moduleWithMemory(0x07, 2048, 65536);
    expect(() => readMemoryImports(whole.subarray(0, whole.length - 12))).toThrow(WasmFormatError);
  });

  it('refuses an unknown import kind instead of guessing its length', () => {
    const bytes = moduleWithMemory(0x07, 2048, 65536);
    bytes[readMemoryImports(bytes)[0]!.limitsOffset - 1] = 0x09;
    expect(() => readMemoryImports(bytes)).toThrow(/unknown import kind 9/);
  });
});

describe('setImportedMemoryMaximum', () => {
  const change = { module: 'env', name: 'memory', expectMaxPages: 65536, maxPages: 262144 };

  it('raises the maximum in place when the LEB length stays (4 GiB -> 16 GiB)', () => {
    const input = moduleWithMemory(0x07, 2048, 65536);
    const out = setImportedMemoryMaximum(input, change);
    expect(out.length).toBe(input.length);
    expect(readMemoryImports(out)[0]).toMatchObject({
      maxPages: 262144,
      shared: true,
      minPages: 2048,
    });
    const diff = [...out].flatMap((b, i) => (b === input[i] ? [] : [i]));
    expect(diff).toHaveLength(1);
  });

  it('re-encodes the section when the new maximum is longer, keeping what follows intact', () => {
    const input = moduleWithMemory(0x05, 1, 127);
    const out = setImportedMemoryMaximum(input, { ...change, expectMaxPages: 127 });
    expect(out.length).toBe(input.length + 2);
    expect(readMemoryImports(out)[0]).toMatchObject({ maxPages: 262144, shared: false });
    expect([...out.slice(-4)]).toEqual([0, 1, 2, 3].map((i) => [...input.slice(-4)][i]));
    // The custom section after it still parses as the last section.
    expect(() => readMemoryImports(out)).not.toThrow();
  });

  it('refuses a different input build (another maximum), a 32-bit memory and a missing import', () => {
    expect(() => setImportedMemoryMaximum(moduleWithMemory(0x07, 2048, 32768), change)).toThrow(
      /maximum is 32768 pages, expected 65536/,
    );
    expect(() => setImportedMemoryMaximum(moduleWithMemory(0x03, 2048, 65536), change)).toThrow(
      /32-bit memory/,
    );
    expect(() =>
      setImportedMemoryMaximum(moduleWithMemory(0x07, 2048, 65536), { ...change, name: 'mem' }),
    ).toThrow(/found 0/);
  });
});

describe('the shipped wllama.wasm (built by scripts/build-wllama.mjs)', () => {
  const shipped = readFileSync(new URL('../wasm/wllama.wasm', import.meta.url));
  const require = createRequire(import.meta.url);
  const stockPath = join(
    dirname(require.resolve('@wllama/wllama/package.json')),
    'esm/wasm/wllama.wasm',
  );

  it('imports a shared memory64 memory with a 16 GiB maximum', () => {
    const [memory, ...others] = readMemoryImports(shipped);
    expect(others).toHaveLength(0);
    expect(memory).toMatchObject({ module: 'env', name: 'memory', shared: true, memory64: true });
    expect((memory?.maxPages ?? 0) * 65536).toBe(16 * 2 ** 30);
  });

  it('differs from the stock wasm (4 GiB maximum) in exactly that one byte', () => {
    const stock = readFileSync(stockPath);
    expect((readMemoryImports(stock)[0]?.maxPages ?? 0) * 65536).toBe(4 * 2 ** 30);
    expect(shipped.length).toBe(stock.length);
    const diff = [...shipped].flatMap((b, i) => (b === stock[i] ? [] : [i]));
    expect(diff).toHaveLength(1);
    expect([stock[diff[0]!], shipped[diff[0]!]]).toEqual([0x04, 0x10]);
  });
});
