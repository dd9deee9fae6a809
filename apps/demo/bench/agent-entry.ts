// Bench-page functions for the agent benchmark (agent.bench.ts): prefill and time to first token
// through the sdk and raw wllama (the same CPU build) on the same cached Blobs, prefix reuse across a
// workflow's nodes, and constrained vs free decoding on the reference vocabulary.
import { createTea, type ModelManifest, type Tea, type WorkflowEvent } from '@the-edge-agent/sdk';
import { Wllama as Wllama16 } from 'wllama-16g';
import wasm16 from 'wllama-16g-wasm?url';
import { DESCRIBE_SCHEMA } from './describe-schema.js';
import { decodeClock, summary } from './clock.js';
import { rawCpuWllama } from './raw-wllama.js';
import { words } from './words.js';

const now = () => performance.now();

const load = (manifestUrl: string, threads: number, promptCache = true) =>
  createTea({ manifestUrl, threads, nCtx: 2048, webgpu: 'off', promptCache });

/** Tokens per word of this model's tokenizer on `words()` text (raw completion, no template). */
async function tokensPerWord(tea: Tea): Promise<number> {
  // Short: on a CPU every calibration token costs a sixth of a second or more.
  const r = await tea.complete(words(40, 999_999), { max_tokens: 1 });
  return r.usage.prompt_tokens / 40;
}

interface PrefillSample {
  side: 'sdk' | 'raw';
  size: number;
  round: number;
  promptTokens: number;
  ttftMs: number;
}

/**
 * Prefill and time to first token, sdk vs raw 16 GiB wllama (its default batch sizes) on the same
 * Blobs. Each round loads one side, reads one prompt of each size (a raw completion with
 * `max_tokens: 1`: the call ends with the first token), frees it, then the other side; the order
 * alternates. Every prompt is new to the model (no prefix reuse). `roundsFor(size)` rounds.
 */
async function prefillRounds(
  manifestUrl: string,
  threads: number,
  sizes: number[],
  rounds: number[],
) {
  const manifest = (await (await fetch(manifestUrl)).json()) as ModelManifest;
  const first = await load(manifestUrl, threads);
  const perWord = await tokensPerWord(first);
  const blobs = await first.cache!.getBlobs(manifest);
  const info = first.info().model;
  await first.dispose();
  const samples: PrefillSample[] = [];
  const prompt = (size: number, round: number) =>
    words(Math.max(1, Math.round(size / perWord)), size * 1000 + round);
  const runSdk = async (round: number) => {
    const tea = await load(manifestUrl, threads);
    try {
      for (const [i, size] of sizes.entries()) {
        if (round >= rounds[i]!) continue;
        const t = now();
        const r = await tea.complete(prompt(size, round), { max_tokens: 1, temperature: 0 });
        samples.push({
          side: 'sdk',
          size,
          round,
          promptTokens: r.usage.prompt_tokens,
          ttftMs: now() - t,
        });
      }
    } finally {
      await tea.dispose();
    }
  };
  const runRaw = async (round: number) => {
    const w = rawCpuWllama({ suppressNativeLog: true });
    try {
      await w.loadModel(blobs, { n_ctx: 2048, n_threads: threads, n_gpu_layers: 0 });
      for (const [i, size] of sizes.entries()) {
        if (round >= rounds[i]!) continue;
        let tokens = 0;
        const t = now();
        await w.createCompletion({
          prompt: prompt(size, round),
          max_tokens: 1,
          temperature: 0,
          stream: true,
          onData: (c: { usage?: { prompt_tokens: number } | null }) =>
            void (c.usage && (tokens = c.usage.prompt_tokens)),
        } as never);
        samples.push({ side: 'raw', size, round, promptTokens: tokens, ttftMs: now() - t });
      }
    } finally {
      await w.exit().catch(() => undefined);
    }
  };
  const most = Math.max(...rounds);
  for (let round = 0; round < most; round++) {
    if (round % 2 === 0) {
      await runSdk(round);
      await runRaw(round);
    } else {
      await runRaw(round);
      await runSdk(round);
    }
  }
  return {
    info: { threads: info.threads, multiThread: info.multiThread },
    sizes: sizes.map((size) => {
      const of = (side: 'sdk' | 'raw') => samples.filter((s) => s.side === side && s.size === size);
      const sdk = of('sdk');
      const raw = of('raw');
      return {
        size,
        promptTokens: sdk[0]?.promptTokens ?? 0,
        rawPromptTokens: raw[0]?.promptTokens ?? 0,
        sdkTtft: summary(sdk.map((s) => s.ttftMs)),
        rawTtft: summary(raw.map((s) => s.ttftMs)),
        sdkTps: summary(sdk.map((s) => s.promptTokens / (s.ttftMs / 1000))),
        rawTps: summary(raw.map((s) => s.promptTokens / (s.ttftMs / 1000))),
        ratios: summary(sdk.map((s, i) => raw[i]!.ttftMs / s.ttftMs)),
      };
    }),
  };
}

const workflowYaml = `
name: three-nodes-one-system-prompt
nodes:
  - name: classify
    uses: llm.call
    with:
      system: "{{ state.system }}"
      prompt: "Classify: {{ state.text }}"
      max_tokens: 8
      temperature: 0
    output: kind
  - name: extract
    uses: llm.call
    with:
      system: "{{ state.system }}"
      prompt: "List the nouns in: {{ state.text }}"
      max_tokens: 8
      temperature: 0
    output: nouns
  - name: reply
    uses: llm.call
    with:
      system: "{{ state.system }}"
      prompt: "Answer in one line: {{ state.text }}"
      max_tokens: 8
      temperature: 0
    output: answer
`;

/**
 * A 3-node workflow whose nodes share a ~`systemTokens` system prompt, run on two handles of the
 * same model: prompt cache on (the default) and off. Per node: time to first token (from
 * node_start to the first prompt-progress report after the prompt is read, i.e. the first token's
 * turn) and cached tokens; per run: the whole time. A new system prompt each round, so node 1 is
 * always cold. The arms alternate; their outputs are compared (temperature 0).
 */
async function reuseRounds(
  manifestUrl: string,
  threads: number,
  systemTokens: number,
  rounds: number,
) {
  const cached = await load(manifestUrl, threads, true);
  const fresh = await load(manifestUrl, threads, false);
  const perWord = await tokensPerWord(fresh);
  type Arm = { ttft: number[][]; cachedTokens: number[][]; totals: number[]; outputs: string[] };
  const arms: Record<'reuse' | 'fresh', Arm> = {
    reuse: { ttft: [[], [], []], cachedTokens: [[], [], []], totals: [], outputs: [] },
    fresh: { ttft: [[], [], []], cachedTokens: [[], [], []], totals: [], outputs: [] },
  };
  const nodes = ['classify', 'extract', 'reply'];
  const outputKeys = ['kind', 'nouns', 'answer'];
  let promptTokens = 0;
  const runArm = async (name: 'reuse' | 'fresh', round: number) => {
    const tea = name === 'reuse' ? cached : fresh;
    const state = {
      system: words(Math.round(systemTokens / perWord), 5000 + round),
      text: 'the stone bridge over the river',
    };
    const started = new Map<string, number>();
    const firstToken = new Map<string, number>();
    const firstProgress = new Map<string, Extract<WorkflowEvent, { type: 'prompt_progress' }>>();
    const t = now();
    const final = await tea.run(workflowYaml, state, {
      onEvent: (e) => {
        if (e.type === 'node_start') started.set(e.node, now());
        if (e.type === 'prompt_progress' && !firstProgress.has(e.node))
          firstProgress.set(e.node, e);
        if ((e.type === 'token' || e.type === 'node_end') && !firstToken.has(e.node))
          firstToken.set(e.node, now());
      },
    });
    arms[name].totals.push(now() - t);
    nodes.forEach((node, i) => {
      arms[name].ttft[i]!.push(firstToken.get(node)! - started.get(node)!);
      arms[name].cachedTokens[i]!.push(firstProgress.get(node)?.cached ?? -1);
      if (i === 0) promptTokens = firstProgress.get(node)?.total ?? 0;
    });
    const results = final as Record<string, { content?: string } | undefined>;
    arms[name].outputs.push(JSON.stringify(outputKeys.map((k) => results[k]?.content)));
  };
  for (let round = 0; round < rounds; round++) {
    const order: Array<'reuse' | 'fresh'> = round % 2 ? ['fresh', 'reuse'] : ['reuse', 'fresh'];
    for (const arm of order) await runArm(arm, round);
  }
  await cached.dispose();
  await fresh.dispose();
  const report = (a: Arm) => ({
    node1: summary(a.ttft[0]!),
    nodes23: summary([...a.ttft[1]!, ...a.ttft[2]!]),
    later: summary(a.ttft[1]!.map((x, i) => (x + a.ttft[2]![i]!) / 2 / a.ttft[0]![i]!)),
    cached: a.cachedTokens.map((c) => summary(c).median),
    total: summary(a.totals),
  });
  return {
    promptTokens,
    reuse: report(arms.reuse),
    fresh: report(arms.fresh),
    totalRatio: summary(arms.reuse.totals.map((x, i) => x / arms.fresh.totals[i]!)),
    sameOutputs: arms.reuse.outputs.every((o, i) => o === arms.fresh.outputs[i]),
  };
}

/**
 * Decode speed with and without a JSON Schema grammar on one handle, alternating which goes
 * first each round; tokens/s between the first and last streamed token (the prompt excluded).
 */
async function constrainedRounds(
  manifestUrl: string,
  threads: number,
  rounds: number,
  tokens: number,
) {
  const tea = await load(manifestUrl, threads);
  const schema = DESCRIBE_SCHEMA;
  const run = async (constrained: boolean, seed: number) => {
    const clock = decodeClock();
    const r = await tea.chat('Describe the cat', {
      max_tokens: tokens,
      temperature: 0.8,
      seed,
      onToken: clock.tick,
      ...(constrained
        ? { response_format: { type: 'json_schema', json_schema: { name: 'd', schema } } }
        : {}),
    });
    return { rate: clock.rate(), tokens: r.usage.completion_tokens };
  };
  const free: number[] = [];
  const json: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const a = i % 2 === 0;
    const first = await run(!a, i);
    const second = await run(a, i);
    (a ? free : json).push(first.rate);
    (a ? json : free).push(second.rate);
  }
  const info = tea.info().model;
  await tea.dispose();
  return {
    threads: info.threads,
    free: summary(free),
    json: summary(json),
    ratios: summary(json.map((j, i) => j / free[i]!)),
  };
}

(window as unknown as { agentBench: unknown }).agentBench = {
  Wllama: Wllama16,
  wasm16,
  prefillRounds,
  reuseRounds,
  constrainedRounds,
};
