import { expect, test } from '@playwright/test';
import { fixtureUrls, prepareFixtures } from './fixtures.js';
import { openHarness } from './harness.js';

// The context on the random-weight fixture model (256-token context): a prompt that cannot fit
// with its max_tokens fails before generation with the numbers, and the next call still works;
// prefix reuse (llama-server's cache_prompt) changes nothing but the time: the same greedy
// outputs with and without it, even with two conversations interleaved on one model.

test.beforeAll(prepareFixtures);

/** `n` words of a small vocabulary, different for each seed (a few tokens per word). */
const wordsSource = `(n, seed) => Array.from({ length: n }, (_, i) =>
  ['the', 'cat', 'dog', 'sat', 'on', 'mat', 'a', 'big', 'red'][(i * 7 + seed * 3 + ((i * seed) % 5)) % 9]).join(' ')`;

test('a prompt plus max_tokens over nCtx is CONTEXT_EXCEEDED before any token, with the numbers; the bridge keeps working', async ({
  page,
}) => {
  await openHarness(page);
  const r = await page.evaluate(
    async ({ url, wordsSource }) => {
      const words = eval(wordsSource) as (n: number, seed: number) => string;
      const bridge = await window.harness.loadedBridge(url);
      const tokens: string[] = [];
      const progress: unknown[] = [];
      const failure = async (p: Promise<unknown>) =>
        p.then(
          () => null,
          (e: Error & Record<string, unknown>) => ({
            code: e.code,
            name: e.name,
            message: e.message,
            promptTokens: e['promptTokens'],
            maxTokens: e['maxTokens'],
            nCtx: e['nCtx'],
          }),
        );
      // ~190 prompt tokens + 100 > 256: llama.cpp alone would answer 66 tokens and stop.
      const over = await failure(
        bridge.complete({
          prompt: words(70, 1),
          max_tokens: 100,
          temperature: 0,
          onToken: (t) => tokens.push(t),
          onPromptProgress: (p) => progress.push(p),
        }),
      );
      // Longer than the whole context: refused before it is read.
      const huge = await failure(bridge.complete({ prompt: words(400, 2), max_tokens: 8 }));
      // Through the chat template too, and with tools (their description is part of the prompt).
      const chat = await failure(
        bridge.chat({ messages: [{ role: 'user', content: words(70, 3) }], max_tokens: 120 }),
      );
      const fits = await bridge.complete({
        prompt: words(70, 1),
        max_tokens: 40,
        temperature: 0,
        onPromptProgress: (p) => progress.push(p),
      });
      return { over, huge, chat, tokens, progress, fits, nCtx: bridge.info().nCtx };
    },
    { url: fixtureUrls.tiny, wordsSource },
  );
  expect(r.nCtx).toBe(256);
  expect(r.over).toMatchObject({
    code: 'CONTEXT_EXCEEDED',
    name: 'ContextExceededError',
    maxTokens: 100,
    nCtx: 256,
  });
  const prompt = r.over!.promptTokens as number;
  expect(prompt).toBeGreaterThan(156);
  expect(r.over!.message).toContain(`the prompt is ${prompt} tokens and max_tokens is 100`);
  expect(r.over!.message).toContain(`lower max_tokens to ${256 - prompt} or less`);
  expect(r.over!.message).toMatch(/Nothing was generated/);
  expect(r.tokens).toEqual([]);
  expect(r.huge).toMatchObject({ code: 'CONTEXT_EXCEEDED', maxTokens: 8, nCtx: 256 });
  expect(r.huge!.promptTokens as number).toBeGreaterThan(256);
  expect(r.chat).toMatchObject({ code: 'CONTEXT_EXCEEDED', maxTokens: 120 });
  // The next call on the same bridge fits and runs, with its prompt progress reported.
  expect(r.fits.usage.prompt_tokens).toBe(prompt);
  expect(r.fits.usage.completion_tokens).toBeGreaterThan(0);
  // Reported before any token is read (what the refused call had read already is reused), then
  // after each batch, up to the whole prompt.
  const first = r.progress[0] as { processed: number; total: number; cached: number };
  expect(first).toMatchObject({ total: prompt, processed: first.cached });
  expect(r.progress.at(-1)).toMatchObject({ processed: prompt, total: prompt });
});

test("overflow: 'drop-oldest' drops the oldest turns until the chat fits, keeping the system message and the question", async ({
  page,
}) => {
  await openHarness(page);
  const r = await page.evaluate(
    async ({ url, wordsSource }) => {
      const words = eval(wordsSource) as (n: number, seed: number) => string;
      const bridge = await window.harness.loadedBridge(url);
      const messages = [
        { role: 'system' as const, content: 'be brief' },
        { role: 'user' as const, content: words(25, 1) },
        { role: 'assistant' as const, content: words(25, 2) },
        { role: 'user' as const, content: words(25, 3) },
        { role: 'assistant' as const, content: words(25, 4) },
        { role: 'user' as const, content: 'the cat' },
      ];
      const kept = await bridge.chat({
        messages,
        max_tokens: 40,
        temperature: 0,
        overflow: 'drop-oldest',
      });
      const strict = await bridge.chat({ messages, max_tokens: 40 }).then(
        () => 'answered',
        (e: { code: string }) => e.code,
      );
      // The system message and the last question alone do not fit 250 tokens: still an error.
      const hopeless = await bridge
        .chat({ messages, max_tokens: 250, overflow: 'drop-oldest' })
        .then(
          () => 'answered',
          (e: { code: string }) => e.code,
        );
      // What the model answered equals a chat that never had the dropped turns.
      const short = await bridge.chat({
        messages: [messages[0]!, ...messages.slice(1 + (kept.dropped_messages ?? 0))],
        max_tokens: 40,
        temperature: 0,
      });
      return { kept, strict, hopeless, short };
    },
    { url: fixtureUrls.tiny, wordsSource },
  );
  expect(r.strict).toBe('CONTEXT_EXCEEDED');
  expect(r.hopeless).toBe('CONTEXT_EXCEEDED');
  expect([2, 4]).toContain(r.kept.dropped_messages);
  expect(r.kept.usage.prompt_tokens + 40).toBeLessThanOrEqual(256);
  expect(r.kept.content).toBe(r.short.content);
});

test('prefix reuse: the same greedy outputs with and without it, two conversations interleaved on one model, and the cached tokens reported', async ({
  page,
}) => {
  await openHarness(page);
  const r = await page.evaluate(
    async ({ url, wordsSource }) => {
      const words = eval(wordsSource) as (n: number, seed: number) => string;
      const blob = await (await fetch(url)).blob();
      const make = async (promptCache: boolean) => {
        const b = window.harness.bridgeModule.createBridge({
          threads: 1,
          nCtx: 256,
          webgpu: 'off',
          promptCache,
        });
        await b.load([blob]);
        return b;
      };
      const reuse = await make(true);
      const fresh = await make(false);
      // Two agents, each with its own system prompt, taking turns on one model: A1 B1 A2 B2 A3.
      const system = { A: words(20, 5), B: words(20, 6) };
      const turns = [
        ['A', 'the cat sat'],
        ['B', 'a big dog'],
        ['A', 'on the mat'],
        ['B', 'red cat'],
        ['A', 'the dog sat on a mat'],
        ['A', 'the dog sat on a big mat'],
      ] as const;
      const out: {
        reuse: string;
        fresh: string;
        prompt: number;
        cachedReuse: number;
        cachedFresh: number;
      }[] = [];
      for (const [who, user] of turns) {
        const messages = [
          { role: 'system' as const, content: system[who] },
          { role: 'user' as const, content: user },
        ];
        const a = await reuse.chat({ messages, max_tokens: 24, temperature: 0 });
        const b = await fresh.chat({ messages, max_tokens: 24, temperature: 0 });
        out.push({
          reuse: a.content,
          fresh: b.content,
          prompt: a.usage.prompt_tokens,
          cachedReuse: a.usage.prompt_tokens_details?.cached_tokens ?? -1,
          cachedFresh: b.usage.prompt_tokens_details?.cached_tokens ?? -1,
        });
      }
      // Raw completions too, sharing a prefix with each other.
      for (const prompt of [words(40, 7), `${words(40, 7)} the cat`, words(40, 7)]) {
        const a = await reuse.complete({ prompt, max_tokens: 24, temperature: 0 });
        const b = await fresh.complete({ prompt, max_tokens: 24, temperature: 0 });
        out.push({
          reuse: a.content,
          fresh: b.content,
          prompt: a.usage.prompt_tokens,
          cachedReuse: a.usage.prompt_tokens_details?.cached_tokens ?? -1,
          cachedFresh: b.usage.prompt_tokens_details?.cached_tokens ?? -1,
        });
      }
      await reuse.unload();
      await fresh.unload();
      return out;
    },
    { url: fixtureUrls.tiny, wordsSource },
  );
  for (const [i, o] of r.entries()) {
    expect(o.reuse, `request ${i}`).toBe(o.fresh);
    expect(o.reuse.length, `request ${i}`).toBeGreaterThan(0);
    expect(o.cachedFresh, `request ${i}`).toBe(0);
  }
  // A prompt that starts as the last one did reads only what is new; one that does not, reads it all.
  expect(r[0]!.cachedReuse).toBe(0);
  expect(r[1]!.cachedReuse).toBeLessThan(r[1]!.prompt / 2); // B after A: other system prompt
  expect(r[5]!.cachedReuse).toBeGreaterThan(r[5]!.prompt / 2); // A after A: same system prompt
  expect(r[7]!.cachedReuse).toBeGreaterThan(r[7]!.prompt / 2); // the prefix, then it extended
  expect(r[8]!.cachedReuse).toBeGreaterThan(r[8]!.prompt / 2);
});

test('prefix reuse on sliding-window attention (Gemma 3n): a shared system prompt is read once', async ({
  page,
}) => {
  await openHarness(page);
  const r = await page.evaluate(async (url) => {
    const bridge = window.harness.bridgeModule.createBridge({
      threads: 1,
      nCtx: 1024,
      webgpu: 'off',
    });
    await bridge.load([await (await fetch(url)).blob()]);
    const system = Array.from({ length: 40 }, (_, i) => ['tea', 'river', 'stone'][i % 3]).join(' ');
    const out: { prompt: number; cached: number }[] = [];
    for (const user of ['one question', 'another question', 'a third']) {
      const a = await bridge.chat({
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: user },
        ],
        max_tokens: 2,
        temperature: 0,
      });
      out.push({
        prompt: a.usage.prompt_tokens,
        cached: a.usage.prompt_tokens_details?.cached_tokens ?? -1,
      });
    }
    const info = bridge.info();
    await bridge.unload();
    return { out, architecture: info.architecture };
  }, fixtureUrls.gemmaSwa);
  expect(r.architecture).toBe('gemma3n');
  expect(r.out[0]!.cached).toBe(0);
  // llama.cpp keeps only the window of sliding-window layers unless told to keep it all; then
  // every prompt was read again from the start (0 cached).
  for (const o of r.out.slice(1)) expect(o.cached).toBeGreaterThan(o.prompt / 2);
});
