import { stat } from 'node:fs/promises';
import { readGgufHeader } from './gguf-header.js';

/** What `tea-model inspect` reports about a GGUF. */
export interface InspectResult {
  file: string;
  bytes: number;
  architecture: string | undefined;
  name: string | undefined;
  tensorCount: number;
  fileType: number | undefined;
  /** The split this file is, for a gguf-split shard. */
  split?: { no: number; count: number; tensorsTotal: number };
}

/** Reads a GGUF's header (no tensor data). */
export async function inspect(path: string): Promise<InspectResult> {
  const bytes = (await stat(path)).size;
  const h = await readGgufHeader(path, bytes);
  const m = h.metadata as Record<string, { value: unknown } | undefined>;
  const num = (k: string) =>
    typeof m[k]?.value === 'number' ? (m[k]!.value as number) : undefined;
  const str = (k: string) =>
    typeof m[k]?.value === 'string' ? (m[k]!.value as string) : undefined;
  const count = num('split.count');
  return {
    file: path,
    bytes,
    architecture: str('general.architecture'),
    name: str('general.name'),
    tensorCount: h.tensors.length,
    fileType: num('general.file_type'),
    ...(count !== undefined
      ? {
          split: { no: num('split.no') ?? 0, count, tensorsTotal: num('split.tensors.count') ?? 0 },
        }
      : {}),
  };
}
