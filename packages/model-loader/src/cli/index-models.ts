import { readFile, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ModelLoaderError } from '../errors.js';
import { parseManifest } from '../manifest.js';
import {
  type ModelIndex,
  type ModelProfile,
  type ModelResources,
  parseModelIndex,
} from '../model-index.js';
import { runModes } from './resources.js';

/** Options of `indexModels`. */
export interface IndexOptions {
  /** Where to write `models.json`; manifest paths in it are relative to its folder. */
  out: string;
  /** Labels by model id. */
  labels?: Record<string, string>;
}

/**
 * Writes `models.json` listing the given manifests as profiles, in the order given (best
 * first), with the run modes computed from each manifest's `model.resources`.
 */
export async function indexModels(manifests: string[], options: IndexOptions): Promise<ModelIndex> {
  const outDir = dirname(resolve(options.out));
  const profiles: ModelProfile[] = [];
  for (const path of manifests) {
    const abs = resolve(path);
    const m = parseManifest(await readFile(abs, 'utf8'), { url: pathToFileURL(abs) });
    const rel = relative(outDir, abs);
    if (rel.startsWith('..'))
      throw new ModelLoaderError(
        'INVALID_ARGUMENT',
        `${path} is not inside the folder of ${options.out}: models.json must be served with its manifests`,
      );
    const resources = m.model['resources'] as ModelResources | undefined;
    const label = options.labels?.[m.model.id];
    profiles.push({
      id: m.model.id,
      version: m.model.version,
      ...(label ? { label } : {}),
      manifest: rel.split(sep).join('/'),
      totalBytes: m.totalBytes,
      chunks: m.chunks.length,
      ...(typeof m.model['architecture'] === 'string'
        ? { architecture: m.model['architecture'] }
        : {}),
      ...(m.model.quantization ? { quantization: m.model.quantization } : {}),
      modes: await runModes(resources),
      ...(resources ? { resources } : {}),
    });
  }
  const index: ModelIndex = { modelsVersion: 1, profiles };
  parseModelIndex(index, { url: pathToFileURL(resolve(options.out)) });
  await writeFile(options.out, `${JSON.stringify(index, null, 2)}\n`);
  return index;
}
