import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { executeYaml, init, type LlmRequest, type RunOptions } from './index.js';

// The fidelity corpus (fidelity/): upstream TEA constructs with upstream's own results. Issue 14
// makes the engine match them; until then this is a ratchet: the cases in
// fidelity/matching.json must keep matching, and a case that starts to match must be added there
// (so the list always says exactly where the engine stands).

interface Case {
  initialState: Record<string, unknown>;
  options: { variables?: Record<string, unknown>; max_steps?: number };
  expect: { state?: unknown; error?: string; interrupted?: unknown };
  ignore?: string[];
}

const dir = new URL('../fidelity/', import.meta.url);
const cases = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as Record<
  string,
  Case
>;
const matching = new Set(
  JSON.parse(readFileSync(new URL('matching.json', dir), 'utf8')) as string[],
);
const files = readdirSync(new URL('cases/', dir)).filter((f) => f.endsWith('.yaml'));

/** The corpus's scripted LLM: `echo:` + the prompt (or the last message); embeddings [length, 1]. */
function scripted(request: LlmRequest) {
  if (request.kind === 'embed') return { embedding: [String(request.input).length, 1] };
  const text = request.prompt ?? request.messages?.at(-1)?.content ?? '';
  return { content: `echo:${text}` };
}

/** Removes `path` (dots, `[n]` and `[*]`) from `value`, in place. */
function drop(value: unknown, path: string): void {
  const parts = path
    .replace(/\[(\*|\d+)\]/g, '.$1')
    .split('.')
    .slice(1);
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

async function outcome(name: string): Promise<boolean> {
  const c = cases[name]!;
  const yaml = readFileSync(new URL(`cases/${name}.yaml`, dir), 'utf8');
  const options: RunOptions = { llmHandler: scripted, ...c.options };
  try {
    const state = (await executeYaml(yaml, structuredClone(c.initialState), options)) as unknown;
    if (!c.expect.state) return false;
    const want = structuredClone({ state: c.expect.state });
    const got = { state };
    for (const p of c.ignore ?? []) {
      drop(want, p);
      drop(got, p);
    }
    return JSON.stringify(sorted(got)) === JSON.stringify(sorted(want));
  } catch (error) {
    // An upstream error named by one of our codes must be that code; one described in words
    // (no code of ours fits it) matches any coded failure.
    const want = c.expect.error;
    if (want === undefined) return false;
    const code = (error as { code?: string }).code;
    return /^[A-Z_]+$/.test(want) ? code === want : code !== undefined;
  }
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

  it('keeps every case listed in matching.json matching, and lists every case that matches', async () => {
    const now: string[] = [];
    for (const name of Object.keys(cases).sort()) if (await outcome(name)) now.push(name);
    const lost = [...matching].filter((n) => !now.includes(n));
    const unlisted = now.filter((n) => !matching.has(n));
    expect({ lost, unlisted }).toEqual({ lost: [], unlisted: [] });
    console.warn(`[fidelity] ${now.length} of ${Object.keys(cases).length} cases match upstream`);
  });
});
