// Bench-page functions for the agent benchmark (agent.bench.ts): prefill and time to first token
// through the sdk and raw 16 GiB wllama on the same cached Blobs, prefix reuse across a
// workflow's nodes, and constrained vs free decoding on the reference vocabulary.
import { createTea, type ModelManifest } from '@the-edge-agent/sdk';
import { Wllama as Wllama16 } from 'wllama-16g';
import wasm16 from 'wllama-16g-wasm?url';

const now = () => performance.now();

/** Words for prompts: deterministic, different per seed, so no two rounds share a prefix. */
export function words(n: number, seed: number): string {
  const pool = 'tea river stone cloud garden letter market bridge window silver forest lamp paper ocean candle field mirror wheel'.split(' ');
  let x = seed * 2654435761 >>> 0;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out.push(pool[x % pool.length]!);
  }
  return out.join(' ');
}

async function blobsOf(manifestUrl: string, threads: number) {
  const manifest = (await (await fetch(manifestUrl)).json()) as ModelManifest;
  const tea = await createTea({ manifestUrl, threads, webgpu: 'off' });
  const blobs = await tea.cache!.getBlobs(manifest);
  await tea.dispose();
  return blobs;
}

/** Exploration: raw wllama, two chats sharing a system prompt; what the server reports. */
async function explore(manifestUrl: string, threads: number, systemWords: number) {
  const blobs = await blobsOf(manifestUrl, threads);
  const w = new Wllama16({ default: wasm16 }, { suppressNativeLog: true });
  await w.loadModel(blobs, { n_ctx: 2048, n_threads: threads, n_gpu_layers: 0 });
  const system = words(systemWords, 1);
  const out: unknown[] = [];
  for (const user of ['first question about tea', 'second question about stone', 'third one']) {
    const t0 = now();
    let first = 0;
    let last: any;
    await w.createChatCompletion({
      messages: [
        { role: 'system', content: system },
        { role: 'user', content: user },
      ],
      max_tokens: 4,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
      onData: (c: any) => {
        if (!first) first = now();
        last = c;
      },
    } as any);
    out.push({ ttft: first - t0, total: now() - t0, timings: last?.timings, usage: last?.usage });
  }
  await w.exit();
  return out;
}

/** Exploration: prefill speed by n_batch/n_ubatch, and how fast an abort lands mid-prefill. */
async function exploreBatch(manifestUrl: string, threads: number, promptWords: number, batches: number[], rounds: number) {
  const blobs = await blobsOf(manifestUrl, threads);
  const out: Record<string, number[]> = {};
  const aborts: Record<string, number> = {};
  for (let r = 0; r < rounds; r++) {
    for (const b of r % 2 ? [...batches].reverse() : batches) {
      const w = new Wllama16({ default: wasm16 }, { suppressNativeLog: true });
      await w.loadModel(blobs, { n_ctx: 2048, n_threads: threads, n_gpu_layers: 0, n_batch: b, n_ubatch: b } as any);
      let last: any;
      await w.createCompletion({ prompt: words(promptWords, 100 + r * 10 + b), max_tokens: 1, temperature: 0, stream: true, cache_prompt: false,
        onData: (c: any) => { if (c.timings) last = c.timings; } } as any);
      (out[b] ??= []).push(last.prompt_per_second);
      if (r === 0) {
        const ctl = new AbortController();
        const t0 = now();
        setTimeout(() => ctl.abort(), 3000);
        let at = 0;
        await w.createCompletion({ prompt: words(promptWords * 3, 7 + b), max_tokens: 1, stream: true, cache_prompt: false, abortSignal: ctl.signal,
          onData: () => undefined } as any).catch(() => { at = now(); });
        aborts[b] = (at || now()) - t0 - 3000;
      }
      await w.exit();
    }
  }
  return { prefillTps: out, abortLatencyMs: aborts };
}

(window as unknown as { agentBench: unknown }).agentBench = { explore, exploreBatch };
