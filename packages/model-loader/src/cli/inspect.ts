import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ModelResources, RunMode } from '../model-index.js';
import { type GgufHeader, readGgufHeader } from './gguf-header.js';
import { quantization } from './pack.js';
import { computeResources, DEFAULT_N_CTX, runModes } from './resources.js';

/** What `tea-model inspect` reports about a GGUF. */
export interface InspectResult {
  file: string;
  bytes: number;
  architecture: string | undefined;
  name: string | undefined;
  quantization: string | undefined;
  tensorCount: number;
  fileType: number | undefined;
  /** The split this file is, for a gguf-split shard. */
  split?: { no: number; count: number; tensorsTotal: number; shardsRead: number };
  /** Needs computed from the header(s); for a split model, from every shard found beside it. */
  resources: ModelResources;
  /** Where it can run at `nCtx` tokens (`cpu`: in wllama's wasm heap; `webgpu`: with offload). */
  modes: RunMode[];
  nCtx: number;
}

const SHARD = /-(\d{5})-of-(\d{5})\.gguf$/i;

/** The other shards of a gguf-split model that exist beside `path`, headers only. */
async function siblingHeaders(path: string, count: number): Promise<GgufHeader[]> {
  const headers: GgufHeader[] = [];
  for (let i = 2; i <= count; i++) {
    const other = path.replace(
      SHARD,
      `-${String(i).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.gguf`,
    );
    if (other === path || !existsSync(other)) continue;
    headers.push(await readGgufHeader(other, (await stat(other)).size));
  }
  return headers;
}

/** Reads a GGUF's header (no tensor data), and for a first shard the other shards' headers. */
export async function inspect(path: string, nCtx = DEFAULT_N_CTX): Promise<InspectResult> {
  const bytes = (await stat(path)).size;
  const h = await readGgufHeader(path, bytes);
  const m = h.metadata as Record<string, { value: unknown } | undefined>;
  const num = (k: string) =>
    typeof m[k]?.value === 'number' ? (m[k]!.value as number) : undefined;
  const str = (k: string) =>
    typeof m[k]?.value === 'string' ? (m[k]!.value as string) : undefined;
  const count = num('split.count');
  const no = num('split.no') ?? 0;
  const others =
    count && count > 1 && no === 0 && SHARD.test(path) ? await siblingHeaders(path, count) : [];
  const resources = computeResources([h, ...others]);
  return {
    file: path,
    bytes,
    architecture: str('general.architecture'),
    name: str('general.name'),
    quantization: quantization(h),
    tensorCount: h.tensors.length,
    fileType: num('general.file_type'),
    ...(count !== undefined
      ? {
          split: {
            no,
            count,
            tensorsTotal: num('split.tensors.count') ?? 0,
            shardsRead: 1 + others.length,
          },
        }
      : {}),
    resources,
    modes: await runModes(resources, nCtx),
    nCtx,
  };
}
