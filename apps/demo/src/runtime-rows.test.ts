import { describe, expect, it } from 'vitest';
import { runtimeRows } from './runtime-rows.js';

describe('runtimeRows', () => {
  it('describes an isolated multi-thread page', () => {
    const rows = runtimeRows({
      engineVersion: '0.1.0',
      threading: {
        crossOriginIsolated: true,
        sharedArrayBuffer: true,
        hardwareConcurrency: 4,
        multiThread: true,
        threads: 4,
        reason: 'multi-thread: 4 threads (cross-origin isolated)',
      },
    });
    const byField = Object.fromEntries(rows.map((r) => [r.field, r.value]));
    expect(byField).toMatchObject({
      engine: 'v0.1.0 (WebAssembly)',
      isolation: 'yes',
      threads: '4 (multi-thread)',
    });
  });

  it('describes a single-thread page', () => {
    const rows = runtimeRows({
      engineVersion: '1.2.3',
      threading: {
        crossOriginIsolated: false,
        sharedArrayBuffer: false,
        hardwareConcurrency: 2,
        multiThread: false,
        threads: 1,
        reason: 'single-thread: the page is not cross-origin isolated',
      },
    });
    expect(rows.find((r) => r.field === 'threads')?.value).toBe('1 (single-thread)');
    expect(rows.find((r) => r.field === 'isolation')?.value).toBe('no');
  });
});
