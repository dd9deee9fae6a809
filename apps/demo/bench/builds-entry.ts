// Bench-page functions for the wllama-build benchmark (builds.bench.ts): prefill and decode
// through the sdk on each wllama build llm-bridge ships (the CPU build from source with relaxed
// SIMD and with SIMD128, and wllama's npm build), on the same cached Blobs, rounds alternating.
import { createTea, type Tea } from '@the-edge-agent/sdk';
import { decodeClock, summary } from './clock.js';
import { words } from './words.js';

type Build = 'cpu-relaxed-simd' | 'cpu-simd128' | 'npm';

interface Sample {
  build: Build;
  round: number;
  promptTokens: number;
  prefillTps: number;
  decodeTps: number;
  decodeTokens: number;
  text: string;
}

const now = () => performance.now();

/**
 * `rounds` rounds; each loads every build in turn (the order rotates every round), reads one new
 * prompt of about `promptTokens` tokens with `max_tokens: 1` (prefill tok/s = prompt tokens / time
 * to the first token), then generates `decodeTokens` tokens greedily after a short prompt (decode
 * tok/s between the first and the last streamed token), and frees the model.
 */
async function buildRounds(
  manifestUrl: string,
  threads: number,
  promptTokens: number,
  decodeTokens: number,
  rounds: number,
  builds: Build[],
) {
  const samples: Sample[] = [];
  let perWord = 0;
  for (let round = 0; round < rounds; round++) {
    const order = builds.map((_, i) => builds[(i + round) % builds.length]!);
    for (const build of order) {
      const tea: Tea = await createTea({
        manifestUrl,
        threads,
        nCtx: 2048,
        webgpu: 'off',
        wllamaBuild: build,
      });
      try {
        const got = tea.info().model;
        if (got?.wllama.build !== build)
          throw new Error(`asked for the ${build} build, got ${got?.wllama.build}`);
        if (!perWord) {
          const r = await tea.complete(words(40, 999_999), { max_tokens: 1 });
          perWord = r.usage.prompt_tokens / 40;
        }
        const prompt = words(Math.max(1, Math.round(promptTokens / perWord)), 7_000 + round);
        const t = now();
        const p = await tea.complete(prompt, { max_tokens: 1, temperature: 0 });
        const prefillTps = p.usage.prompt_tokens / ((now() - t) / 1000);
        const clock = decodeClock();
        const d = await tea.complete('The history of tea', {
          max_tokens: decodeTokens,
          temperature: 0,
          onToken: clock.tick,
        });
        samples.push({
          build,
          round,
          promptTokens: p.usage.prompt_tokens,
          prefillTps,
          decodeTps: clock.rate(),
          decodeTokens: d.usage.completion_tokens,
          text: d.content,
        });
      } finally {
        await tea.dispose();
      }
    }
  }
  const of = (b: Build) => samples.filter((s) => s.build === b);
  const base = of('npm');
  return {
    promptTokens: samples[0]?.promptTokens ?? 0,
    builds: builds.map((b) => {
      const s = of(b);
      return {
        build: b,
        prefill: summary(s.map((x) => x.prefillTps)),
        decode: summary(s.map((x) => x.decodeTps)),
        decodeTokens: s[0]?.decodeTokens ?? 0,
        // Ratios to the npm build measured in the same round.
        prefillVsNpm: base.length
          ? summary(s.map((x) => x.prefillTps / base.find((y) => y.round === x.round)!.prefillTps))
          : null,
        decodeVsNpm: base.length
          ? summary(s.map((x) => x.decodeTps / base.find((y) => y.round === x.round)!.decodeTps))
          : null,
        sameTextAsNpm: base.length
          ? s.every((x) => x.text === base.find((y) => y.round === x.round)!.text)
          : null,
      };
    }),
  };
}

(window as unknown as { buildsBench: unknown }).buildsBench = { buildRounds };
