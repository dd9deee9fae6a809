// Benchmark page (not part of the demo UI): the sdk and raw wllama in one page, so both are
// measured in the same run. Built by Vite as a second page of the demo.
import { Wllama } from '@wllama/wllama';
import wllamaWasm from '@wllama/wllama/esm/wasm/wllama.wasm?url';
import { clearModelCache, createTea } from '@the-edge-agent/sdk';

const SIMPLE_CHAT = `
name: ttft
nodes:
  - name: chat
    uses: llm.call
    with:
      prompt: "{{ state.question }}"
      max_tokens: 8
      stream: true
edges:
  - from: __start__
    to: chat
  - from: chat
    to: __end__
`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

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

(window as unknown as { bench: unknown }).bench = { sdkLoads, wllamaLoads };
(window as unknown as { benchReady: boolean }).benchReady = true;
