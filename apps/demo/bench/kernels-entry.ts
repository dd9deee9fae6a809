// Bench-page functions for prefill-profile.bench.ts: raw wllama on each build llm-bridge ships
// (the CPU build from source with relaxed SIMD and with SIMD128, and wllama's npm build), on the
// same cached Blobs: the first token's log-probabilities after given prompts (compared in Node
// with each other and with native llama.cpp), and one prefill at a time for the profiler.
import { createTea, type ModelManifest } from '@the-edge-agent/sdk';
import { Wllama as Wllama16 } from 'wllama-16g';
import wasm16 from 'wllama-16g-wasm?url';
import simd128Wasm from 'wllama-cpu-simd128-wasm?url';
import { WLLAMA_CPU_GLUE } from 'wllama-cpu-glue';
import { words } from './words.js';
import { rawCpuWllama } from './raw-wllama.js';

type Build = 'cpu-relaxed-simd' | 'cpu-simd128' | 'npm';
type Raw = InstanceType<typeof Wllama16>;

function rawWllama(build: Build): Raw {
  const config = { suppressNativeLog: true };
  if (build === 'cpu-relaxed-simd') return rawCpuWllama(config);
  if (build === 'cpu-simd128')
    return new Wllama16({ default: simd128Wasm, 'default.js': WLLAMA_CPU_GLUE } as never, {
      ...config,
      skipVersionCheck: true,
    });
  return new Wllama16({ default: wasm16 }, config);
}

/** The model's Blobs from the sdk's cache (downloading them the first time). */
async function blobsOf(manifestUrl: string): Promise<Blob[]> {
  const manifest = (await (await fetch(manifestUrl)).json()) as ModelManifest;
  const tea = await createTea({ manifestUrl, threads: 1, nCtx: 256, webgpu: 'off' });
  try {
    return await tea.cache!.getBlobs(manifest);
  } finally {
    await tea.dispose();
  }
}

interface Top {
  id: number;
  logprob: number;
}

async function firstToken(w: Raw, prompt: string, topK: number): Promise<Top[]> {
  const r = (await w.createCompletion({
    prompt,
    max_tokens: 1,
    temperature: 0,
    logprobs: topK,
  } as never)) as unknown as {
    choices: { logprobs: { content: { top_logprobs: Top[] }[] } }[];
  };
  return r.choices[0]!.logprobs.content[0]!.top_logprobs.map(({ id, logprob }) => ({
    id,
    logprob,
  }));
}

/** Each build's top-`topK` first-token log-probabilities after each prompt, on the same Blobs. */
async function firstTokens(
  manifestUrl: string,
  threads: number,
  builds: Build[],
  prompts: string[],
  topK: number,
) {
  const blobs = await blobsOf(manifestUrl);
  const tops: Record<string, Top[][]> = {};
  for (const build of builds) {
    const w = rawWllama(build);
    try {
      await w.loadModel(blobs, { n_ctx: 2048, n_threads: threads, n_gpu_layers: 0 });
      tops[build] = [];
      for (const prompt of prompts) tops[build]!.push(await firstToken(w, prompt, topK));
    } finally {
      await w.exit().catch(() => undefined);
    }
  }
  return tops;
}

let loaded: Raw | undefined;
let perWord = 0;

/** Loads `build` raw on the model's Blobs and measures its tokens per word; `prefill` then reads prompts. */
async function prepare(manifestUrl: string, threads: number, build: Build) {
  await release();
  const blobs = await blobsOf(manifestUrl);
  loaded = rawWllama(build);
  await loaded.loadModel(blobs, { n_ctx: 2048, n_threads: threads, n_gpu_layers: 0 });
  const r = (await loaded.createCompletion({
    prompt: words(40, 999_999),
    max_tokens: 1,
    temperature: 0,
  } as never)) as unknown as { usage: { prompt_tokens: number } };
  perWord = r.usage.prompt_tokens / 40;
  return { threads: loaded.getNumThreads() };
}

/** One new prompt of about `promptTokens` tokens, `max_tokens: 1`: tokens and milliseconds. */
async function prefill(promptTokens: number, seed: number) {
  const t = performance.now();
  const r = (await loaded!.createCompletion({
    prompt: words(Math.max(1, Math.round(promptTokens / perWord)), seed),
    max_tokens: 1,
    temperature: 0,
  } as never)) as unknown as { usage: { prompt_tokens: number } };
  return { promptTokens: r.usage.prompt_tokens, ms: performance.now() - t };
}

async function release() {
  await loaded?.exit().catch(() => undefined);
  loaded = undefined;
}

(window as unknown as { kernelsBench: unknown }).kernelsBench = {
  firstTokens,
  prepare,
  prefill,
  release,
};
