import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { init, Workflow, type LlmRequest, type RunOptions } from './index.js';

// The fidelity corpus (fidelity/): upstream TEA constructs with upstream's own results. Every case
// must give upstream's result, or, where this engine deliberately differs, the result written in
// the case's `ours` (with `why`; the README's compatibility table lists them).

interface Expectation {
  state?: unknown;
  error?: string;
  interrupted?: { node: string; when: string; state: unknown };
}

interface Case {
  initialState: Record<string, unknown>;
  options: { variables?: Record<string, unknown>; max_steps?: number };
  expect: Expectation;
  ours?: Expectation & { why: string };
  ignore?: string[];
}

const dir = new URL('../fidelity/', import.meta.url);
const cases = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as Record<
  string,
  Case
>;
const files = readdirSync(new URL('cases/', dir)).filter((f) => f.endsWith('.yaml'));

/** The corpus's scripted LLM: `echo:` + the prompt (or the last message); embeddings [length, 1]. */
function scripted(request: LlmRequest) {
  if (request.kind === 'embed') return { embedding: [String(request.input).length, 1] };
  const text = request.prompt ?? request.messages?.at(-1)?.content ?? '';
  return { content: `echo:${text}` };
}

/** Removes `path` (dots, `[n]` and `[*]`) from `value`, in place. */
function drop(value: unknown, path: string): void {
  const parts = path.replace(/\[(\*|\d+)\]/g, '.$1').split('.');
  const walk = (v: unknown, i: number): void => {
    if (v === null || typeof v !== 'object') return;
    const key = parts[i]!;
    const o = v as Record<string, unknown>;
    const targets = key === '*' ? Object.keys(o) : [key];
    for (const k of targets) {
      if (i === parts.length - 1) delete o[k];
      else walk(o[k], i + 1);
    }
  };
  walk(value, 0);
}

/** Whether case `name` gives `want` (a final state, an interrupt, or an error code). */
async function gives(name: string, want: Expectation): Promise<string | true> {
  const c = cases[name]!;
  const yaml = readFileSync(new URL(`cases/${name}.yaml`, dir), 'utf8');
  const options: RunOptions = { llmHandler: scripted, ...c.options };
  let got: Expectation;
  try {
    const workflow = Workflow.parse(yaml);
    try {
      const r = await workflow.invoke(structuredClone(c.initialState), options);
      got =
        r.status === 'completed'
          ? { state: r.state }
          : { interrupted: { node: r.node, when: r.when, state: r.state } };
    } finally {
      workflow.free();
    }
  } catch (error) {
    got = { error: (error as { code?: string }).code ?? String(error) };
  }
  if (want.error !== undefined) {
    // An upstream error named by one of our codes must be that code; one described in words (no
    // code of ours names it) matches any coded failure.
    const ok = /^[A-Z_]+$/.test(want.error) ? got.error === want.error : got.error !== undefined;
    return ok || JSON.stringify(got);
  }
  const expected = structuredClone({ state: want.state, interrupted: want.interrupted });
  const actual = structuredClone({ state: got.state, interrupted: got.interrupted });
  for (const p of c.ignore ?? []) {
    drop(expected, p);
    drop(actual, p);
  }
  const a = JSON.stringify(sorted(actual));
  return a === JSON.stringify(sorted(expected)) || (got.error ? JSON.stringify(got) : a);
}

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
    );
  return v;
}

beforeAll(async () => {
  await init();
});

describe('fidelity corpus (upstream TEA behaviour)', () => {
  it('has an expectation for every case and a case for every expectation', () => {
    expect(files.map((f) => f.replace(/\.yaml$/, '')).sort()).toEqual(Object.keys(cases).sort());
  });

  for (const name of Object.keys(cases).sort()) {
    const c = cases[name]!;
    it(c.ours ? `${name} (a documented difference: ${c.ours.why})` : name, async () => {
      expect(await gives(name, c.ours ?? c.expect)).toBe(true);
    });
  }

  it('documents every difference with a reason, and only where upstream is not matched', async () => {
    for (const [name, c] of Object.entries(cases)) {
      if (!c.ours) continue;
      expect(c.ours.why.length, name).toBeGreaterThan(20);
      expect(await gives(name, c.expect), `${name} matches upstream: drop its "ours"`).not.toBe(
        true,
      );
    }
  });
});
