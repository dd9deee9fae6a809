#!/usr/bin/env node
// tea-fixture --out model.gguf [--size 100M] [--seed 1] [--no-chat-template]
// tea-fixture --gemma3n E4B|E2B [--quant q4_k_m|f16] [--layers N] [--seed 1] --out model.gguf
// Writes a deterministic random-weight GGUF (tiny llama, or Gemma 3n in its real shapes).
import { parseArgs } from 'node:util';
import { shapeForSize, TINY_SHAPE } from './llama-shape.js';
import { buildVocab } from './vocab.js';
import { writeGemma3n } from './write-gemma3n.js';
import { writeGemma3nQ4KM } from './write-gemma3n-q4km.js';
import { writeTinyLlama } from './write-tiny-llama.js';

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 };
const USAGE =
  'usage: tea-fixture --out model.gguf [--size 100M] [--seed 1] [--no-chat-template]\n' +
  '       tea-fixture --gemma3n E4B|E2B [--quant q4_k_m|f16] [--layers N] [--seed 1] --out model.gguf';

function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)(?:i?B)?$/i.exec(text.trim());
  const unit = UNITS[(m?.[2] ?? '').toUpperCase()];
  if (!m?.[1] || unit === undefined) throw new Error(`--size: cannot read "${text}" (e.g. 5M, 1G)`);
  return Math.floor(Number(m[1]) * unit);
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    size: { type: 'string' },
    seed: { type: 'string', default: '1' },
    'no-chat-template': { type: 'boolean', default: false },
    gemma3n: { type: 'string' },
    quant: { type: 'string', default: 'q4_k_m' },
    layers: { type: 'string' },
  },
});
if (!values.out) fail('--out is required');
const seed = Number(values.seed);

if (values.gemma3n !== undefined) {
  const variant = values.gemma3n.toUpperCase();
  if (variant !== 'E4B' && variant !== 'E2B')
    fail(`--gemma3n: E4B or E2B, not "${values.gemma3n}"`);
  const layers = values.layers === undefined ? {} : { layers: Number(values.layers) };
  const quant = values.quant.toLowerCase();
  if (quant === 'q4_k_m') {
    const r = await writeGemma3nQ4KM(values.out, { variant, seed, ...layers });
    console.log(
      `wrote ${r.path}: ${r.bytes} bytes (${(r.bytes / 1e9).toFixed(2)} GB), Gemma 3n ${r.variant} ` +
        `Q4_K_M, ${r.layers} layers, ${r.tensorCount} tensors, vocab ${r.vocabSize}, ${r.seconds.toFixed(1)} s`,
    );
  } else if (quant === 'f16') {
    const r = await writeGemma3n(values.out, { variant, seed, ...layers });
    console.log(`wrote ${r.path}: ${r.bytes} bytes, Gemma 3n ${variant} F16, ${r.layers} layers`);
  } else fail(`--quant: q4_k_m or f16, not "${values.quant}"`);
} else {
  const shape = values.size
    ? shapeForSize(parseSize(values.size), buildVocab().tokens.length)
    : TINY_SHAPE;
  const result = await writeTinyLlama(values.out, {
    seed,
    shape,
    chatTemplate: !values['no-chat-template'],
  });
  console.log(
    `wrote ${result.path}: ${(result.bytes / 2 ** 20).toFixed(1)} MiB, ${result.tensorCount} tensors, ` +
      `embd ${shape.embd}, ${shape.layers} layers, vocab ${result.vocabSize}`,
  );
}
