// Benchmark page (not part of the demo UI): the sdk and raw wllama in one page, so both are
// measured in the same run. Built by Vite as a second page of the demo.
import { Wllama } from '@wllama/wllama';
import wllamaWasm from '@wllama/wllama/esm/wasm/wllama.wasm?url';
import { clearModelCache, createTea, type TeaLlmConfig } from '@the-edge-agent/sdk';
import { DESCRIBE_SCHEMA } from './describe-schema.js';
import { decodeClock, rawTick, summary } from './clock.js';

type WllamaBuildChoice = NonNullable<TeaLlmConfig['wllamaBuild']>;

const SIMPLE_CHAT = `
name: ttft
nodes:
  - name: chat
    uses: llm.call
    with:
      prompt: "{{ state.question }}"
      max_tokens: 8
      stream: true
    output: chat
edges:
  - from: __start__
    to: chat
  - from: chat
    to: __end__
`;

const median = (xs: number[]) => summary(xs).median;

async function sdkLoads(manifestUrl: string, reps: number) {
  const cold: number[] = [];
  const warm: number[] = [];
  const acquire: number[] = [];
  const ttft: number[] = [];
  for (let i = 0; i < reps; i++) {
    await clearModelCache();
    let t = performance.now();
    let tea = await createTea({ manifestUrl, threads: 1 });
    cold.push(performance.now() - t);
    await tea.dispose();
    t = performance.now();
    let acquired = 0;
    tea = await createTea({
      manifestUrl,
      threads: 1,
      onProgress: (p) =>
        void (p.phase === 'load' && !acquired && (acquired = performance.now() - t)),
    });
    warm.push(performance.now() - t);
    acquire.push(acquired);
    // Time to first token of a one-node workflow.
    t = performance.now();
    let first = 0;
    await tea.run(
      SIMPLE_CHAT,
      { question: 'the cat' },
      { onEvent: (e) => void (e.type === 'token' && !first && (first = performance.now() - t)) },
    );
    ttft.push(first);
    await tea.dispose();
  }
  return {
    cold: median(cold),
    warm: median(warm),
    warmAcquire: median(acquire),
    workflowTtft: median(ttft),
  };
}

async function wllamaLoads(firstShardUrl: string, reps: number) {
  const wllama = () => new Wllama({ default: wllamaWasm }, { suppressNativeLog: true });
  const params = {
    n_ctx: 2048,
    n_threads: 1,
    n_gpu_layers: 0,
    embeddings: true,
    pooling_type: 'mean' as const,
  };
  const cached: number[] = [];
  const ttft: number[] = [];
  let w = wllama();
  await w.cacheManager.clear();
  await w.loadModelFromUrl({ url: firstShardUrl }, { ...params, useCache: true });
  await w.exit();
  for (let i = 0; i < reps; i++) {
    w = wllama();
    let t = performance.now();
    await w.loadModelFromUrl({ url: firstShardUrl }, { ...params, useCache: true });
    cached.push(performance.now() - t);
    t = performance.now();
    let first = 0;
    await w.createChatCompletion({
      messages: [{ role: 'user', content: 'the cat' }],
      max_tokens: 8,
      stream: true,
      onData: () => void (!first && (first = performance.now() - t)),
    });
    ttft.push(first);
    await w.exit();
  }
  await wllama().cacheManager.clear();
  return { cached: median(cached), directTtft: median(ttft) };
}

const PROMPT = 'the cat';

/** The sdk, from its IndexedDB cache: load time and decode speed. */
async function sdkDecode(
  manifestUrl: string,
  threads: number,
  tokens: number,
  build?: WllamaBuildChoice,
) {
  const t = performance.now();
  const tea = await createTea({
    manifestUrl,
    threads,
    nCtx: 512,
    webgpu: 'off',
    ...(build ? { wllamaBuild: build } : {}),
  });
  const load = performance.now() - t;
  const c = decodeClock();
  await tea.complete(PROMPT, { max_tokens: tokens, temperature: 0, onToken: c.tick });
  await tea.dispose();
  return { load, tps: c.rate() };
}

/** Raw wllama, from its own cache: load time and decode speed. */
async function wllamaDecode(firstShardUrl: string, threads: number, tokens: number) {
  const w = new Wllama({ default: wllamaWasm }, { suppressNativeLog: true });
  const t = performance.now();
  await w.loadModelFromUrl(
    { url: firstShardUrl },
    {
      n_ctx: 512,
      n_threads: threads,
      n_gpu_layers: 0,
      embeddings: true,
      pooling_type: 'mean',
      useCache: true,
    },
  );
  const load = performance.now() - t;
  const c = decodeClock();
  await w.createCompletion({
    prompt: PROMPT,
    max_tokens: tokens,
    temperature: 0,
    stream: true,
    onData: rawTick(c),
  });
  await w.exit();
  return { load, tps: c.rate() };
}

/** Fills both caches (sdk: IndexedDB; wllama: its OPFS cache) so that the rounds time loads from them. */
async function primeCaches(manifestUrl: string, firstShardUrl: string) {
  await clearModelCache();
  await (await createTea({ manifestUrl, threads: 1, nCtx: 512, webgpu: 'off' })).dispose();
  const w = new Wllama({ default: wllamaWasm }, { suppressNativeLog: true });
  await w.cacheManager.clear();
  await w.loadModelFromUrl({ url: firstShardUrl }, { n_ctx: 512, useCache: true, n_threads: 1 });
  await w.exit();
}

/** Rounds alternating which side goes first; medians of load time and decode speed. */
async function decodeRounds(
  manifestUrl: string,
  firstShardUrl: string,
  threads: number,
  rounds: number,
  tokens: number,
  build?: WllamaBuildChoice,
) {
  const sdk: Array<{ load: number; tps: number }> = [];
  const raw: Array<{ load: number; tps: number }> = [];
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      sdk.push(await sdkDecode(manifestUrl, threads, tokens, build));
      raw.push(await wllamaDecode(firstShardUrl, threads, tokens));
    } else {
      raw.push(await wllamaDecode(firstShardUrl, threads, tokens));
      sdk.push(await sdkDecode(manifestUrl, threads, tokens, build));
    }
  }
  const m = (xs: Array<{ load: number; tps: number }>) => ({
    load: median(xs.map((x) => x.load)),
    tps: median(xs.map((x) => x.tps)),
  });
  return { sdk: m(sdk), raw: m(raw) };
}

/**
 * Decode speed with and without constrained decoding (a JSON Schema through
 * `chat.completions.create`), on one loaded model, alternating which goes first each round.
 * Tokens/s between the first and last streamed token; the prompt is excluded.
 */
async function constrainedDecode(manifestUrl: string, rounds: number, tokens: number) {
  const tea = await createTea({ manifestUrl, threads: 1 });
  const schema = DESCRIBE_SCHEMA;
  const messages = [{ role: 'user' as const, content: 'Describe the cat' }];
  const run = async (constrained: boolean) => {
    const clock = decodeClock();
    const stream = await tea.chat.completions.create({
      messages,
      max_tokens: tokens,
      temperature: 0.8,
      seed: 7,
      stream: true,
      ...(constrained
        ? { response_format: { type: 'json_schema' as const, json_schema: { name: 'd', schema } } }
        : {}),
    });
    for await (const chunk of stream) if (chunk.choices[0].delta.content) clock.tick();
    return clock.rate();
  };
  const plain: number[] = [];
  const json: number[] = [];
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      plain.push(await run(false));
      json.push(await run(true));
    } else {
      json.push(await run(true));
      plain.push(await run(false));
    }
  }
  await tea.dispose();
  return {
    plain: summary(plain),
    json: summary(json),
    ratios: summary(json.map((j, i) => j / plain[i]!)),
  };
}

(window as unknown as { bench: unknown }).bench = {
  constrainedDecode,
  sdkLoads,
  wllamaLoads,
  primeCaches,
  decodeRounds,
};
(window as unknown as { benchReady: boolean }).benchReady = true;
