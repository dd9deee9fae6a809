#!/usr/bin/env node
// Engine overhead per node, in wasm (Node): a 100-node llm.call workflow with a no-op handler,
// against a baseline measured in the same run: the same 100 handler calls awaited in plain JS.
// Prints; asserts nothing.
import { statSync } from 'node:fs';
import { executeYaml, init, setLlmHandler, Workflow } from '../dist/index.js';

const NODES = 100;
const RUNS = 60;

await init();
setLlmHandler(() => ({ content: '' }));
const handler = async () => ({ content: '' });

const nodes = Array.from({ length: NODES }, (_, i) =>
  [
    `  - name: n${i}`,
    '    uses: llm.call',
    '    with:',
    `      prompt: "step ${i} of {{ state.topic }}"`,
    `    output: r${i % 5}`,
  ].join('\n'),
).join('\n');
const yaml = `name: bench\nnodes:\n${nodes}\n`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = async (fn) => {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e3; // µs
};

const wf = Workflow.parse(yaml);
for (let i = 0; i < 5; i++) await wf.run({ topic: 'warm-up' });
const baseline = [];
const compiled = [];
const parseAndRun = [];
for (let i = 0; i < RUNS; i++) {
  baseline.push(
    await time(async () => {
      for (let n = 0; n < NODES; n++) await handler({ kind: 'call', prompt: `step ${n}` });
    }),
  );
  compiled.push(await time(() => wf.run({ topic: 'tea' })));
  parseAndRun.push(await time(() => executeYaml(yaml, { topic: 'tea' })));
}
const base = median(baseline);
const run = median(compiled);
const full = median(parseAndRun);
const wasmBytes = statSync(new URL('../wasm/tea_core_bg.wasm', import.meta.url)).size;
console.log(
  `[core-wasm bench] ${NODES}-node llm.call workflow, no-op handler, median of ${RUNS} runs (Node ${process.version})`,
);
console.log(`  baseline (100 awaited handler calls in JS): ${(base / 1000).toFixed(2)} ms`);
console.log(
  `  Workflow.run (compiled once):               ${(run / 1000).toFixed(2)} ms -> ${((run - base) / NODES).toFixed(1)} µs per node of engine overhead (${(run / base).toFixed(1)}x baseline)`,
);
console.log(
  `  executeYaml (parse + validate + run):       ${(full / 1000).toFixed(2)} ms -> ${((full - base) / NODES).toFixed(1)} µs per node`,
);
console.log(`  release wasm: ${(wasmBytes / 1024).toFixed(0)} KiB (${wasmBytes} bytes)`);
