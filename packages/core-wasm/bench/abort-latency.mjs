#!/usr/bin/env node
// Abort latency for runs that never wait on a handler (the engine must yield to the event loop
// by itself): a compute-only goto loop, and a loop whose every node renders a heavy template
// (about half the template budget). Each round aborts at a different moment (10-60 ms in), from
// a timer, as a click would: measured from the moment the timer was due (the user's click;
// it includes the wait for the engine to yield) and from the `abort()` call, to the rejection.
// Also the longest gap between two ticks of a 1 ms timer during each run: how long the page's
// event loop waited. Prints; asserts nothing.
import { executeYaml, init } from '../dist/index.js';

const ROUNDS = Number(process.env.ABORT_ROUNDS ?? 40);
await init();

const spin = `name: spin
settings: { max_steps: 1000000000 }
state_schema: { n: { type: int, default: 0 } }
nodes:
  - name: inc
    uses: return
    with: { value: "{{ state.n + 1 }}" }
    output: n
    goto: inc
`;
const heavy = `name: heavy
settings: { max_steps: 1000000000 }
nodes:
  - name: render
    uses: return
    with:
      value: "{% for i in range(180) %}{% for j in range(180) %}{{ i * j }}{% endfor %}{% endfor %}"
    output: text
    goto: render
`;

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `median ${q(0.5).toFixed(1)} ms, p90 ${q(0.9).toFixed(1)}, max ${s[s.length - 1].toFixed(1)} (n=${s.length})`;
};

async function latency(yaml) {
  const latencies = [];
  const fromDue = [];
  const gaps = [];
  for (let i = 0; i < ROUNDS; i++) {
    const controller = new AbortController();
    let last = performance.now();
    let worstGap = 0;
    const tick = setInterval(() => {
      const t = performance.now();
      worstGap = Math.max(worstGap, t - last);
      last = t;
    }, 1);
    let aborted = 0;
    const delay = 10 + ((i * 13) % 50);
    const due = performance.now() + delay;
    setTimeout(() => {
      aborted = performance.now();
      controller.abort();
    }, delay);
    const outcome = await executeYaml(yaml, {}, { signal: controller.signal }).then(
      () => 'finished',
      (e) => e.code,
    );
    const settled = performance.now();
    latencies.push(settled - aborted);
    fromDue.push(settled - due);
    clearInterval(tick);
    gaps.push(worstGap);
    if (outcome !== 'ABORTED') throw new Error(`expected ABORTED, got ${outcome}`);
  }
  return { latencies, fromDue, gaps };
}

console.log(`[core-wasm bench] abort latency, ${ROUNDS} rounds each (Node ${process.version})`);
for (const [name, yaml] of [
  ['compute-only goto loop', spin],
  ['heavy template per node', heavy],
]) {
  const { latencies, fromDue, gaps } = await latency(yaml);
  console.log(`  ${name.padEnd(24)} click (abort due) -> rejection: ${stats(fromDue)}`);
  console.log(`  ${''.padEnd(24)} abort() -> rejection: ${stats(latencies)}`);
  console.log(`  ${''.padEnd(24)} longest event-loop gap per run: ${stats(gaps)}`);
}
