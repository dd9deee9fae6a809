import { describe, expect, it } from 'vitest';
import { errorLine, formatBytes, progressLine } from './format.js';

describe('format', () => {
  it('formats bytes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(5 * 2 ** 30)).toBe('5.00 GiB');
  });

  it('describes download progress with speed and time left', () => {
    expect(
      progressLine({
        phase: 'download',
        loadedBytes: 2 ** 20,
        totalBytes: 4 * 2 ** 20,
        bytesPerSecond: 2 ** 20,
        etaSeconds: 2.2,
      }),
    ).toBe('Downloading and verifying 1.00 MiB / 4.00 MiB · 1.00 MiB/s · about 3 s left');
    expect(progressLine({ phase: 'ready', fromCache: true })).toMatch(/no download/);
  });

  it('puts the error code before the message', () => {
    expect(
      errorLine({
        code: 'UNKNOWN_ACTION',
        message: "line 4, column 11: node 'a': unknown action 'x'",
      }),
    ).toBe("UNKNOWN_ACTION: line 4, column 11: node 'a': unknown action 'x'");
  });
});
