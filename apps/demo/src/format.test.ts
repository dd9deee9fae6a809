import { describe, expect, it } from 'vitest';
import { errorLine, formatAgo, formatBytes, formatDuration, progressLine } from './format.js';

describe('formatBytes', () => {
  it('uses decimal units only', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(529_952)).toBe('0.53 MB');
    expect(formatBytes(12_400_000)).toBe('12.4 MB');
    expect(formatBytes(4_840_000_000)).toBe('4.84 GB');
    expect(formatBytes(17_179_869_184)).toBe('17.18 GB');
  });
});

describe('formatDuration and formatAgo', () => {
  it('says seconds, minutes and hours', () => {
    expect(formatDuration(2.2)).toBe('3 s');
    expect(formatDuration(125)).toBe('2 min 5 s');
    expect(formatDuration(3840)).toBe('1 h 4 min');
  });

  it('says how long ago', () => {
    const now = Date.UTC(2025, 0, 10);
    expect(formatAgo(now - 5_000, now)).toBe('just now');
    expect(formatAgo(now - 60_000, now)).toBe('1 minute ago');
    expect(formatAgo(now - 3 * 3_600_000, now)).toBe('3 hours ago');
    expect(formatAgo(now - 30 * 86_400_000, now)).toMatch(/2024/);
  });
});

describe('progressLine', () => {
  it('describes a download with speed and time left', () => {
    expect(
      progressLine({
        phase: 'download',
        loadedBytes: 1e6,
        totalBytes: 4e6,
        bytesPerSecond: 1e6,
        etaSeconds: 2.2,
      }),
    ).toBe('Downloading and checking… 1.00 MB of 4.00 MB · 1.00 MB/s · about 3 s left');
  });

  it('says when the model comes from storage and when it is ready', () => {
    expect(
      progressLine({ phase: 'download', loadedBytes: 1e6, totalBytes: 1e6, fromCache: true }),
    ).toMatch(/^Reading the model from storage/);
    expect(progressLine({ phase: 'load', loadedBytes: 0, totalBytes: 2e6 })).toBe(
      'Loading the model into memory… 0 B of 2.00 MB',
    );
    expect(progressLine({ phase: 'ready', fromCache: true })).toMatch(/no download/);
  });
});

describe('errorLine', () => {
  it('puts the error code before the message, and adds the hint', () => {
    expect(
      errorLine({
        code: 'UNKNOWN_ACTION',
        message: "line 4, column 11: node 'a': unknown action 'x'",
      }),
    ).toBe("UNKNOWN_ACTION: line 4, column 11: node 'a': unknown action 'x'");
    expect(errorLine({ code: 'HTTP_404', message: 'x.json: 404', hint: 'check the path' })).toBe(
      'HTTP_404: x.json: 404 (check the path)',
    );
  });
});
