#!/usr/bin/env node
// tea-fixture --out model.gguf [--size 100M] [--seed 1] [--no-chat-template]
// Writes a deterministic random-weight llama GGUF for tests and benchmarks.
import { parseArgs } from 'node:util';
import { shapeForSize, TINY_SHAPE } from './llama-shape.js';
import { buildVocab } from './vocab.js';
import { writeTinyLlama } from './write-tiny-llama.js';

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 };

function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)(?:i?B)?$/i.exec(text.trim());
  const unit = UNITS[(m?.[2] ?? '').toUpperCase()];
  if (!m?.[1] || unit === undefined) throw new Error(`--size: cannot read "${text}" (e.g. 5M, 1G)`);
  return Math.floor(Number(m[1]) * unit);
}

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    size: { type: 'string' },
    seed: { type: 'string', default: '1' },
    'no-chat-template': { type: 'boolean', default: false },
  },
});
if (!values.out) {
  console.error(
    'usage: tea-fixture --out model.gguf [--size 100M] [--seed 1] [--no-chat-template]',
  );
  process.exit(2);
}
const shape = values.size
  ? shapeForSize(parseSize(values.size), buildVocab().tokens.length)
  : TINY_SHAPE;
const result = await writeTinyLlama(values.out, {
  seed: Number(values.seed),
  shape,
  chatTemplate: !values['no-chat-template'],
});
console.log(
  `wrote ${result.path}: ${(result.bytes / 2 ** 20).toFixed(1)} MiB, ${result.tensorCount} tensors, ` +
    `embd ${shape.embd}, ${shape.layers} layers, vocab ${result.vocabSize}`,
);
