import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  shapeForSize,
  buildVocab,
  writeGemma3nQ4KM,
  writeTinyLlama,
} from '@the-edge-agent/test-fixtures';

const dir = new URL('./.fixtures/', import.meta.url);

/** URLs (on the test server, which serves the repo root) of the generated test models. */
export const fixtureUrls = {
  /** A few hundred KB: the tests' model. */
  tiny: '/packages/llm-bridge/e2e/.fixtures/tiny.gguf',
  /**
   * A Gemma 3n E2B-shaped model cut to 2 layers and a 4,096-token vocabulary (~50 MB): real
   * widths, sliding-window attention (window 512), Q4_K_M. For what depends on the architecture.
   */
  gemmaSwa: '/packages/llm-bridge/e2e/.fixtures/gemma3n-2l.gguf',
  /** ~100 MiB: the benchmark's model, big enough that decoding dominates. */
  bench: '/packages/llm-bridge/e2e/.fixtures/bench-100m.gguf',
};

/** Generates the test models once (deterministic: same bytes on every run and machine). */
export async function prepareFixtures(): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const tiny = fileURLToPath(new URL('tiny.gguf', dir));
  if (!existsSync(tiny)) await writeTinyLlama(tiny, { seed: 1 });
  const gemma = fileURLToPath(new URL('gemma3n-2l.gguf', dir));
  if (!existsSync(gemma))
    await writeGemma3nQ4KM(gemma, { variant: 'E2B', layers: 2, vocab: 4096, seed: 3 });
}

/** Generates the benchmark model once. */
export async function prepareBenchFixture(): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const bench = fileURLToPath(new URL('bench-100m.gguf', dir));
  if (!existsSync(bench)) {
    await writeTinyLlama(bench, {
      seed: 1,
      shape: shapeForSize(100 * 2 ** 20, buildVocab().tokens.length),
    });
  }
}
