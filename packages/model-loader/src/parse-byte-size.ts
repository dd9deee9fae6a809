import { ModelLoaderError } from './errors.js';

const UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  K: 1024,
  KB: 1000,
  KIB: 1024,
  M: 1024 ** 2,
  MB: 1000 ** 2,
  MIB: 1024 ** 2,
  G: 1024 ** 3,
  GB: 1000 ** 3,
  GIB: 1024 ** 3,
};

/**
 * Parses a human byte size such as `1.9G`, `512M`, `256MiB`, `2GB` or `1048576`.
 * Single letters and IEC suffixes (`K`, `M`, `G`, `KiB`, `MiB`, `GiB`) are powers of 1024;
 * SI suffixes (`KB`, `MB`, `GB`) are powers of 1000. The result is rounded down to whole bytes.
 *
 * @throws {ModelLoaderError} `INVALID_ARGUMENT` naming the input when it is not a positive size.
 */
export function parseByteSize(input: string | number): number {
  if (typeof input === 'number') {
    if (Number.isFinite(input) && input > 0) return Math.floor(input);
    throw new ModelLoaderError(
      'INVALID_ARGUMENT',
      `byte size must be a positive number, got ${input}`,
    );
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(input);
  const unit = match?.[2]?.toUpperCase() ?? '';
  const factor = UNITS[unit];
  if (!match?.[1] || factor === undefined) {
    throw new ModelLoaderError(
      'INVALID_ARGUMENT',
      `cannot read "${input}" as a byte size (examples: 1.9G, 512M, 256MiB, 2GB, 1048576)`,
    );
  }
  const bytes = Math.floor(Number(match[1]) * factor);
  if (bytes <= 0) {
    throw new ModelLoaderError('INVALID_ARGUMENT', `byte size must be positive, got "${input}"`);
  }
  return bytes;
}
