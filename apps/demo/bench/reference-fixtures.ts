// The shape-faithful Gemma 3n Q4_K_M fixtures the reference-model and agent benches share, and
// native llama.cpp (`llama-bench`, Debian's llama.cpp-tools in the setup's sid userland) on the
// same files.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sidRoot, writeGemma3nQ4KM } from '@the-edge-agent/test-fixtures';

/** Packed models (manifest + 512 MiB shards), outside dist-bench/, which every bench build empties. */
export const referenceModels = fileURLToPath(
  new URL('../.large/reference-models/', import.meta.url),
);
const teaModel = fileURLToPath(
  new URL('../../../packages/model-loader/dist/cli/main.js', import.meta.url),
);
const sid = sidRoot();
/** Whether native llama.cpp is installed (the offline toolchain's userland has it). */
export const nativeBench = existsSync(join(sid, 'usr/bin/llama-bench'));
/** Where the source GGUFs live: inside the userland when llama-bench can read them there. */
export const nativeDir = join(sid, 'tmp', 'tea-reference-bench');
const sourceOf = (id: string) => join(nativeBench ? nativeDir : referenceModels, `${id}.gguf`);

/**
 * Writes fixture `id` (seed 11) and packs it into 512 MiB shards, as the release packs them,
 * unless both are there already. Returns what it wrote, or undefined.
 */
export async function ensureReferenceModel(
  id: string,
  variant: 'E2B' | 'E4B',
  layers?: number,
): Promise<{ bytes: number; seconds: number } | undefined> {
  mkdirSync(referenceModels, { recursive: true });
  mkdirSync(nativeDir, { recursive: true });
  if (existsSync(`${referenceModels}${id}/manifest.json`) && existsSync(sourceOf(id)))
    return undefined;
  const r = await writeGemma3nQ4KM(sourceOf(id), {
    variant,
    seed: 11,
    ...(layers ? { layers } : {}),
  });
  execFileSync(
    process.execPath,
    [
      teaModel,
      'pack',
      sourceOf(id),
      '--out',
      `${referenceModels}${id}`,
      '--id',
      id,
      '--max-chunk-size',
      '512M',
    ],
    { stdio: 'ignore' },
  );
  return r;
}

/**
 * The native `llama-bench` (a path inside the sid userland): Debian's by default, or another one
 * named by `TEA_LLAMA_BENCH`, e.g. one built from the same llama.cpp tree as llm-bridge's CPU
 * wllama (native/README.md, "Native llama.cpp from the same source").
 */
export const llamaBenchBin = process.env['TEA_LLAMA_BENCH'] ?? 'llama-bench';

/** `llama-bench` on fixture `id`: prompt tokens (`-p`), generated tokens (`-n`), threads, rounds. */
export function llamaBench(
  id: string,
  run: { prompt: number; generate: number; threads: number; rounds: number },
): { avg_ts: number; stddev_ts: number } | undefined {
  if (!nativeBench) return undefined;
  const out = execFileSync(
    'chroot',
    [
      sid,
      llamaBenchBin,
      '-m',
      `/tmp/tea-reference-bench/${id}.gguf`,
      '-p',
      String(run.prompt),
      '-n',
      String(run.generate),
      '-t',
      String(run.threads),
      '-r',
      String(run.rounds),
      '-o',
      'json',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return (JSON.parse(out) as Array<{ avg_ts: number; stddev_ts: number }>)[0];
}

/** A token and its log-probability. */
export interface TopToken {
  id: number;
  logprob: number;
}

/**
 * Native llama.cpp's first-token top-`topK` log-probabilities after each prompt (Debian's
 * `llama-server` in the sid userland, CPU, on fixture `id`), or undefined where it is missing.
 */
export async function nativeFirstTokens(
  id: string,
  prompts: string[],
  topK: number,
  threads: number,
): Promise<TopToken[][] | undefined> {
  if (!existsSync(join(sid, 'usr/bin/llama-server'))) return undefined;
  const port = 8300 + (process.pid % 600);
  const server = spawn(
    'chroot',
    [
      sid,
      'llama-server',
      '-m',
      `/tmp/tea-reference-bench/${id}.gguf`,
      '--port',
      String(port),
      '-t',
      String(threads),
      '-c',
      '2048',
      '-np',
      '1',
      '--no-warmup',
    ],
    { stdio: 'ignore' },
  );
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let t = 0; ; t++) {
      const up = await fetch(`${base}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      if (t > 600 || server.exitCode !== null)
        throw new Error(`llama-server did not start on ${id}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const out: TopToken[][] = [];
    for (const prompt of prompts) {
      const r = (await (
        await fetch(`${base}/completion`, {
          method: 'POST',
          body: JSON.stringify({
            prompt,
            n_predict: 1,
            temperature: 0,
            n_probs: topK,
            cache_prompt: false,
          }),
        })
      ).json()) as { completion_probabilities: { top_logprobs: TopToken[] }[] };
      out.push(
        r.completion_probabilities[0]!.top_logprobs.map(({ id, logprob }) => ({ id, logprob })),
      );
    }
    return out;
  } finally {
    server.kill();
  }
}
