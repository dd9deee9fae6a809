import { describe, expect, it } from 'vitest';
import { parseByteSize } from './parse-byte-size.js';

describe('parseByteSize', () => {
  it.each([
    ['1048576', 1048576],
    ['512M', 512 * 1024 ** 2],
    ['256MiB', 256 * 1024 ** 2],
    ['1.9G', Math.floor(1.9 * 1024 ** 3)],
    ['2GB', 2_000_000_000],
    ['10 kb', 10_000],
    [4096, 4096],
  ])('reads %s as %d bytes', (input, expected) => {
    expect(parseByteSize(input)).toBe(expected);
  });

  it.each(['', 'G', '-1G', '1.9X', '0', '1..2M'])('rejects %j with INVALID_ARGUMENT', (input) => {
    expect(() => parseByteSize(input)).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', name: 'ModelLoaderError' }),
    );
  });

  it('names the bad input in the message', () => {
    expect(() => parseByteSize('1.9X')).toThrow(/"1\.9X"/);
  });
});
