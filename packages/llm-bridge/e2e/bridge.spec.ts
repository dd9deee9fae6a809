import { expect, type Page, test } from '@playwright/test';
import { PLAIN_ORIGIN } from '../../../tools/e2e-origins.js';
import { fixtureUrls, prepareFixtures } from './fixtures.js';
import { openHarness } from './harness.js';

/** A result without its `cached_tokens` figure, which depends on what the model read before. */
function withoutCache<T extends { usage: { prompt_tokens_details?: unknown } }>(r: T): T {
  const { prompt_tokens_details: _cached, ...usage } = r.usage;
  return { ...r, usage };
}

test.beforeAll(async () => {
  await prepareFixtures();
});

test.describe('llm-bridge in Chromium', () => {
  test('greedy completion equals raw wllama on the same model (differential)', async ({ page }) => {
    await openHarness(page);
    const result = await page.evaluate(async (url) => {
      const { bridgeModule, Wllama } = window.harness;
      const blob = await (await fetch(url)).blob();
      const bridge = bridgeModule.createBridge({ threads: 1, nCtx: 256, webgpu: 'off' });
      await bridge.load([blob]);
      const viaBridge = await bridge.complete({
        prompt: 'the cat',
        max_tokens: 16,
        temperature: 0,
        seed: 7,
      });
      await bridge.unload();
      const raw = new Wllama(
        { default: '/packages/llm-bridge/wasm/wllama.wasm' },
        { suppressNativeLog: true },
      );
      await raw.loadModel([blob], { n_ctx: 256, n_threads: 1, n_gpu_layers: 0, embeddings: true });
      const direct = await raw.createCompletion({
        prompt: 'the cat',
        max_tokens: 16,
        temperature: 0,
        seed: 7,
      });
      await raw.exit();
      return { viaBridge, direct: direct.choices[0]?.text, directUsage: direct.usage };
    }, fixtureUrls.tiny);
    expect(result.viaBridge.content.length).toBeGreaterThan(0);
    expect(result.viaBridge.content).toBe(result.direct);
    expect(result.viaBridge.finish_reason).toBe('length');
    expect(result.viaBridge.usage).toEqual({
      prompt_tokens: result.directUsage.prompt_tokens,
      completion_tokens: 16,
      total_tokens: result.directUsage.prompt_tokens + 16,
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });
});

test.describe('llm-bridge builds', () => {
  test('CPU-only loads run the CPU build from source (relaxed SIMD here); every build gives the same greedy text', async ({
    page,
  }) => {
    await openHarness(page);
    const runs = await page.evaluate(async (url) => {
      const { bridgeModule } = window.harness;
      const blob = await (await fetch(url)).blob();
      const out = [];
      for (const wllamaBuild of ['auto', 'cpu-relaxed-simd', 'cpu-simd128', 'npm'] as const) {
        for (const threads of [1, 2]) {
          const bridge = bridgeModule.createBridge({
            threads,
            nCtx: 256,
            webgpu: 'off',
            wllamaBuild,
          });
          const info = await bridge.load([blob]);
          const r = await bridge.complete({ prompt: 'the cat', max_tokens: 16, temperature: 0 });
          await bridge.unload();
          out.push({
            wllamaBuild,
            threads,
            build: info.wllama.build,
            reason: info.wllama.buildReason,
            libllama: info.wllama.libllama,
            multi: info.multiThread,
            text: r.content,
          });
        }
      }
      return out;
    }, fixtureUrls.tiny);
    expect(runs[0]).toMatchObject({
      wllamaBuild: 'auto',
      build: 'cpu-relaxed-simd',
      reason: 'CPU only, relaxed SIMD available',
    });
    expect(runs.map((r) => r.build)).toEqual([
      'cpu-relaxed-simd',
      'cpu-relaxed-simd',
      'cpu-relaxed-simd',
      'cpu-relaxed-simd',
      'cpu-simd128',
      'cpu-simd128',
      'npm',
      'npm',
    ]);
    // The CPU build's llama.cpp is node-llama-cpp 3.22.1's; the npm build reports its own.
    expect(runs[0]?.libllama).toMatch(/^[0-9a-f]{7} \(node-llama-cpp 3\.22\.1\)$/);
    expect(runs.at(-1)?.libllama).toMatch(/^b\d+-[0-9a-f]{7}$/);
    expect(runs.filter((r) => r.threads === 2).every((r) => r.multi)).toBe(true);
    expect(runs[0]?.text.length).toBeGreaterThan(0);
    for (const r of runs)
      expect(r.text, `${r.wllamaBuild} at ${r.threads} threads`).toBe(runs[0]?.text);
  });

  test('on a Q4_K_M model (repacked Q4_K/Q6_K kernels) every build gives the same greedy text and prompt usage', async ({
    page,
  }) => {
    test.setTimeout(300_000);
    await openHarness(page);
    const runs = await page.evaluate(async (url) => {
      const { bridgeModule } = window.harness;
      const blob = await (await fetch(url)).blob();
      const prompt =
        'tea river stone cloud garden letter market bridge window silver forest lamp paper ocean candle field mirror wheel '.repeat(
          3,
        );
      const out = [];
      for (const wllamaBuild of ['npm', 'cpu-relaxed-simd', 'cpu-simd128'] as const) {
        const log: string[] = [];
        const keep = (...a: unknown[]) => void log.push(a.map(String).join(' '));
        const logger = { debug: keep, log: keep, warn: keep, error: keep };
        const bridge = bridgeModule.createBridge({
          threads: 2,
          nCtx: 512,
          webgpu: 'off',
          wllamaBuild,
          logger,
        });
        await bridge.load([blob]);
        const r = await bridge.complete({ prompt, max_tokens: 24, temperature: 0 });
        await bridge.unload();
        // llama.cpp names the buffer the weights went to: CPU_REPACK where ggml repacked them.
        const repack = log.some((l) => /CPU_REPACK model buffer size/.test(l));
        out.push({ wllamaBuild, text: r.content, usage: r.usage, repack });
      }
      return out;
    }, fixtureUrls.gemmaSwa);
    expect(runs[0]?.usage.prompt_tokens).toBeGreaterThan(40);
    expect(runs[0]?.text.length).toBeGreaterThan(0);
    expect(runs.map((r) => r.repack)).toEqual([false, true, true]);
    for (const r of runs.slice(1)) {
      expect(r.text, r.wllamaBuild).toBe(runs[0]?.text);
      expect(r.usage, r.wllamaBuild).toEqual(runs[0]?.usage);
    }
  });

  test('a build that cannot run the load is refused before loading, and the bridge stays usable', async ({
    page,
  }) => {
    await openHarness(page);
    const r = await page.evaluate(async (url) => {
      const { bridgeModule } = window.harness;
      const blob = await (await fetch(url)).blob();
      const bridge = bridgeModule.createBridge({
        nCtx: 256,
        webgpu: 'on',
        wllamaBuild: 'cpu-simd128',
      });
      const refused = await bridge.load([blob]).then(
        () => 'loaded',
        (e: { code?: string; message: string }) => `${e.code}: ${e.message}`,
      );
      const ok = bridgeModule.createBridge({
        nCtx: 256,
        webgpu: 'off',
        wllamaBuild: 'cpu-simd128',
      });
      const info = await ok.load([blob]);
      await ok.unload();
      return { refused, build: info.wllama.build, loadedAfter: bridge.isLoaded };
    }, fixtureUrls.tiny);
    // webgpu: 'on' with no adapter is refused first (this page has none); the build is never fetched.
    expect(r.refused).toMatch(/^(WEBGPU_UNAVAILABLE|LOAD_FAILED): /);
    expect(r.build).toBe('cpu-simd128');
    expect(r.loadedAfter).toBe(false);
  });
});

test.describe('llm-bridge requests', () => {
  test('streaming yields the same text as non-streaming; chat uses the model template', async ({
    page,
  }) => {
    await openHarness(page);
    const r = await page.evaluate(async (url) => {
      const bridge = await window.harness.loadedBridge(url);
      const req = { prompt: 'a dog', max_tokens: 12, temperature: 0 };
      const plain = await bridge.complete(req);
      const pieces: string[] = [];
      const streamed = await bridge.complete({ ...req, onToken: (t: string) => pieces.push(t) });
      const chatPieces: string[] = [];
      const chat = await bridge.chat({
        messages: [{ role: 'user', content: 'hello' }],
        max_tokens: 8,
        temperature: 0,
        onToken: (t: string) => chatPieces.push(t),
      });
      const viaHandler = await window.harness.bridgeModule.bridgeHandler(bridge)({
        kind: 'call',
        prompt: 'hello',
        max_tokens: 8,
        temperature: 0,
      });
      const info = bridge.info();
      await bridge.unload();
      return {
        plain,
        streamed,
        pieces,
        chat,
        chatPieces,
        viaHandler,
        info,
        loadedAfter: bridge.isLoaded,
      };
    }, fixtureUrls.tiny);
    expect(r.pieces.length).toBeGreaterThan(1);
    expect(r.pieces.join('')).toBe(r.plain.content);
    // The same prompt again is read from the KV cache (all but the last token, which llama.cpp
    // evaluates again for its logits); everything else is equal.
    expect(r.streamed.usage.prompt_tokens_details?.cached_tokens).toBe(
      r.plain.usage.prompt_tokens - 1,
    );
    expect(withoutCache(r.streamed)).toEqual(withoutCache(r.plain));
    expect(r.chatPieces.join('')).toBe(r.chat.content);
    // The fixture's template renders "user: hello\nassistant:", so the chat prompt is longer
    // than the raw one; the engine handler's `prompt` goes through the same template.
    expect(r.chat.usage.prompt_tokens).toBeGreaterThan(2);
    expect(withoutCache(r.viaHandler as typeof r.chat)).toEqual(withoutCache(r.chat));
    expect(r.info).toMatchObject({
      architecture: 'llama',
      nCtx: 256,
      threads: 1,
      multiThread: false,
      webgpu: false,
    });
    expect(r.info.wllama.version).toBe('3.13.0');
    expect(r.loadedAfter).toBe(false);
  });

  test('stop sequences end generation with finish_reason "stop"', async ({ page }) => {
    await openHarness(page);
    const r = await page.evaluate(async (url) => {
      const bridge = await window.harness.loadedBridge(url);
      const free = await bridge.complete({ prompt: 'the cat', max_tokens: 16, temperature: 0 });
      // Stop at the third word of the unconstrained output.
      const words = free.content.trim().split(/\s+/);
      const stop = ` ${words[2]}`;
      const stopped = await bridge.complete({
        prompt: 'the cat',
        max_tokens: 16,
        temperature: 0,
        stop,
      });
      await bridge.unload();
      return { free, stopped, stop };
    }, fixtureUrls.tiny);
    expect(r.stopped.finish_reason).toBe('stop');
    expect(r.free.content.startsWith(r.stopped.content)).toBe(true);
    expect(r.stopped.content).not.toContain(r.stop);
    expect(r.stopped.content.length).toBeLessThan(r.free.content.length);
  });

  test('abort stops generation within a few tokens, and the bridge keeps serving', async ({
    page,
  }) => {
    await openHarness(page);
    const r = await page.evaluate(async (url) => {
      const { bridgeModule } = window.harness;
      const bridge = bridgeModule.createBridge({ threads: 1, nCtx: 512, webgpu: 'off' });
      await bridge.load([await (await fetch(url)).blob()]);
      const controller = new AbortController();
      let tokens = 0;
      let error: { code: string; name: string } = { code: 'none', name: '' };
      try {
        await bridge.complete({
          prompt: 'the cat',
          max_tokens: 400,
          temperature: 0,
          signal: controller.signal,
          onToken: () => {
            tokens++;
            if (tokens === 3) controller.abort();
          },
        });
      } catch (e) {
        error = { code: (e as { code: string }).code, name: (e as Error).name };
      }
      const tokensAtReject = tokens;
      await new Promise((res) => setTimeout(res, 300));
      const after = await bridge.complete({ prompt: 'the cat', max_tokens: 4, temperature: 0 });
      await bridge.unload();
      return { error, tokensAtReject, tokensLater: tokens, after };
    }, fixtureUrls.tiny);
    expect(r.error).toEqual({ code: 'ABORTED', name: 'AbortError' });
    expect(r.tokensAtReject).toBe(3);
    expect(r.tokensLater).toBeLessThan(3 + 5);
    expect(r.after.usage.completion_tokens).toBe(4);
  });

  test('two concurrent requests both complete with their own, uncorrupted output', async ({
    page,
  }) => {
    await openHarness(page);
    const r = await page.evaluate(async (url) => {
      const bridge = await window.harness.loadedBridge(url);
      const a = { prompt: 'the cat', max_tokens: 10, temperature: 0 };
      const b = { prompt: 'a dog', max_tokens: 10, temperature: 0 };
      const seqA = await bridge.complete(a);
      const seqB = await bridge.complete(b);
      const [parA, parB] = await Promise.all([bridge.complete(a), bridge.complete(b)]);
      await bridge.unload();
      return { seqA, seqB, parA, parB };
    }, fixtureUrls.tiny);
    expect(r.seqA.content).not.toBe(r.seqB.content);
    expect(withoutCache(r.parA)).toEqual(withoutCache(r.seqA));
    expect(withoutCache(r.parB)).toEqual(withoutCache(r.seqB));
  });

  test('embeddings have the model dimension', async ({ page }) => {
    await openHarness(page);
    const r = await page.evaluate(async (url) => {
      const bridge = await window.harness.loadedBridge(url);
      const one = await bridge.embed('hello');
      const many = await bridge.embed(['hello', 'a dog']);
      const viaHandler = await window.harness.bridgeModule.bridgeHandler(bridge)({
        kind: 'embed',
        input: 'hello',
      });
      const nEmbd = bridge.info().nEmbd;
      await bridge.unload();
      return { one, many, viaHandler, nEmbd };
    }, fixtureUrls.tiny);
    expect(r.one).toHaveLength(r.nEmbd);
    expect(r.many).toHaveLength(2);
    expect(r.many[0]).toEqual(r.one);
    expect(r.many[1]).not.toEqual(r.one);
    expect(r.viaHandler).toEqual({ embedding: r.one });
    const norm = Math.hypot(...r.one);
    expect(norm).toBeCloseTo(1, 3);
  });
});

test.describe('llm-bridge thread modes', () => {
  const greedy = async (page: Page, threads: number | 'auto') =>
    page.evaluate(
      async ({ url, threads }) => {
        const { bridgeModule } = window.harness;
        const bridge = bridgeModule.createBridge({ threads, nCtx: 256, webgpu: 'off' });
        await bridge.load([await (await fetch(url)).blob()]);
        const out = await bridge.complete({ prompt: 'the cat', max_tokens: 12, temperature: 0 });
        const info = bridge.info();
        await bridge.unload();
        return {
          content: out.content,
          threads: info.threads,
          multiThread: info.multiThread,
          isolated: crossOriginIsolated,
        };
      },
      { url: fixtureUrls.tiny, threads },
    );

  test('without COOP/COEP it loads single-thread; with them 2 threads give the same output', async ({
    page,
  }) => {
    await openHarness(page, PLAIN_ORIGIN);
    const plain = await greedy(page, 2);
    expect(plain).toMatchObject({ isolated: false, threads: 1, multiThread: false });
    await openHarness(page);
    const isolated = await greedy(page, 2);
    expect(isolated).toMatchObject({ isolated: true, threads: 2, multiThread: true });
    expect(isolated.content).toBe(plain.content);
  });

  test('threads: 8 on a 2-core page runs 2 threads and warns with both numbers', async ({
    page,
  }) => {
    // The page sees 2 cores whatever machine runs the test (CI runners have 4).
    await page.addInitScript(() =>
      Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => 2 }),
    );
    const warnings: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'warning') warnings.push(m.text());
    });
    await openHarness(page);
    const r = await page.evaluate(async (url) => {
      const { bridgeModule } = window.harness;
      const bridge = bridgeModule.createBridge({ threads: 8, nCtx: 256, webgpu: 'off' });
      await bridge.load([await (await fetch(url)).blob()]);
      const out = await bridge.complete({ prompt: 'the cat', max_tokens: 8, temperature: 0 });
      const info = bridge.info();
      await bridge.unload();
      return { info, tokens: out.usage.completion_tokens, cores: navigator.hardwareConcurrency };
    }, fixtureUrls.tiny);
    expect(r.cores).toBe(2);
    expect(r.info).toMatchObject({ threads: 2, threadsRequested: 8, multiThread: true });
    expect(r.info.threadingReason).toMatch(/clamped from 8/);
    expect(r.tokens).toBeGreaterThan(0);
    expect(
      warnings.filter((w) => /threads: 8 was asked for.*2 cores.*so 2 are used/.test(w)),
    ).toHaveLength(1);
  });
});

test.describe('llm-bridge errors', () => {
  test('calls before load, a truncated GGUF and a non-GGUF file give the documented errors', async ({
    page,
  }) => {
    await openHarness(page);
    const r = await page.evaluate(async (url) => {
      const { bridgeModule } = window.harness;
      const codeOf = async (p: Promise<unknown>) =>
        p.then(
          () => ({ code: 'none', message: '' }),
          (e: { code: string; message: string }) => ({ code: e.code, message: String(e.message) }),
        );
      const bridge = bridgeModule.createBridge({ threads: 1, nCtx: 256, webgpu: 'off' });
      const beforeLoad = await codeOf(bridge.complete({ prompt: 'x' }));
      const infoBefore = await codeOf(Promise.resolve().then(() => bridge.info()));
      const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
      const truncated = await codeOf(
        bridge.load([new Blob([bytes.slice(0, Math.floor(bytes.length / 2))])]),
      );
      const notGguf = await codeOf(
        bridge.load([new Blob([new TextEncoder().encode('<html>not a model</html>')])]),
      );
      const loadedAfterFailures = bridge.isLoaded;
      // The bridge recovers: a good model still loads after the failures.
      await bridge.load([new Blob([bytes])]);
      const ok = await bridge.complete({ prompt: 'the cat', max_tokens: 2, temperature: 0 });
      await bridge.unload();
      return {
        beforeLoad,
        infoBefore,
        truncated,
        notGguf,
        loadedAfterFailures,
        ok: ok.usage.completion_tokens,
      };
    }, fixtureUrls.tiny);
    expect(r.beforeLoad.code).toBe('MODEL_NOT_LOADED');
    expect(r.infoBefore.code).toBe('MODEL_NOT_LOADED');
    expect(r.truncated.code).toBe('LOAD_FAILED');
    expect(r.truncated.message).toMatch(/loading the model failed: .+/);
    expect(r.notGguf.code).toBe('LOAD_FAILED');
    expect(r.loadedAfterFailures).toBe(false);
    expect(r.ok).toBe(2);
  });
});

test.describe('llm-bridge loading', () => {
  test('loads from a URL with progress, and an aborted load frees the bridge', async ({ page }) => {
    await openHarness(page);
    const r = await page.evaluate(async (url) => {
      const { bridgeModule } = window.harness;
      const bridge = bridgeModule.createBridge({ threads: 1, nCtx: 256, webgpu: 'off' });
      const progress: Array<{ loadedBytes: number; totalBytes: number }> = [];
      await bridge.load([new URL(url, location.href).href], {
        onProgress: (p) => progress.push(p),
      });
      const fromUrl = await bridge.complete({ prompt: 'the cat', max_tokens: 6, temperature: 0 });
      await bridge.unload();
      const blob = await (await fetch(url)).blob();
      await bridge.load([blob]);
      const fromBlob = await bridge.complete({ prompt: 'the cat', max_tokens: 6, temperature: 0 });
      await bridge.unload();
      const controller = new AbortController();
      const pending = bridge.load([blob], { signal: controller.signal });
      controller.abort();
      const aborted = await pending.then(
        () => 'loaded',
        (e: { code: string }) => e.code,
      );
      return {
        progress,
        fromUrl,
        fromBlob,
        aborted,
        loadedAfterAbort: bridge.isLoaded,
        size: blob.size,
      };
    }, fixtureUrls.tiny);
    expect(r.fromUrl.content).toBe(r.fromBlob.content);
    expect(r.progress.at(-1)).toEqual({ loadedBytes: r.size, totalBytes: r.size });
    expect(r.aborted).toBe('ABORTED');
    expect(r.loadedAfterAbort).toBe(false);
  });
  test('a load from a signed URL that fails says no secret (query, fragment, userinfo)', async ({
    page,
  }) => {
    await openHarness(page);
    const r = await page.evaluate(async () => {
      const { bridgeModule } = window.harness;
      const out: { code?: string; text: string }[] = [];
      for (const url of [
        `${location.origin}/missing/m-00001-of-00002.gguf?X-Amz-Credential=AKIA&X-Amz-Signature=SECRET1`,
        `${location.origin}/missing/m.gguf?token=SECRET2#SECRET3`,
      ]) {
        const bridge = bridgeModule.createBridge({ threads: 1, nCtx: 256, webgpu: 'off' });
        const e = await bridge.load([url]).then(
          () => undefined,
          (e: Error & { code?: string; cause?: Error }) => e,
        );
        out.push({
          ...(e?.code ? { code: e.code } : {}),
          text: `${e?.message} ${e?.cause?.message ?? ''} ${JSON.stringify(e)}`,
        });
        // The bridge is usable again.
        await bridge
          .load([await (await fetch('/packages/llm-bridge/e2e/.fixtures/tiny.gguf')).blob()])
          .catch(() => undefined);
        await bridge.unload();
      }
      return out;
    });
    for (const { code, text } of r) {
      expect(code).toBe('LOAD_FAILED');
      expect(text).toContain('/missing/');
      expect(text).not.toMatch(/SECRET|AKIA/);
    }
  });
});
