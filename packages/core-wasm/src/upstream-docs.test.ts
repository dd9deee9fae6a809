import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CoreWasmError, init, validateYaml, Workflow, type LlmRequest } from './index.js';

// Upstream TEA's documented workflows (its YAML reference and examples/) that use only
// browser-capable actions, with the results upstream's own Python engine gives
// (fidelity/upstream-docs/, recorded by its record.py): each must give the same here, or be listed
// in differences.json with the compatibility-table row that explains it (and a summary of what
// this engine gives instead, so that a change to it is noticed).

interface Case {
  source: string;
  initialState: Record<string, unknown>;
  expect:
    | { state: Record<string, unknown> }
    | { error: 'load' | 'run'; upstreamMessage: string }
    | { interrupted: { node: string; state: unknown } };
}

const dir = new URL('../fidelity/upstream-docs/', import.meta.url);
const record = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as {
  cases: Record<string, Case>;
};
const differences = JSON.parse(readFileSync(new URL('differences.json', dir), 'utf8')) as Record<
  string,
  { why: string; ours: unknown }
>;

/** The scripted LLM upstream's run had: "echo:" + the last user message; [len, 1] embeddings. */
function scripted(request: LlmRequest) {
  if (request.kind === 'embed') return { embedding: [String(request.input).length, 1] };
  const last = request.messages?.filter((m) => m.role === 'user').at(-1)?.content;
  return { content: `echo:${request.prompt ?? last ?? ''}` };
}

async function ours(yaml: string, initial: Record<string, unknown>): Promise<unknown> {
  const errors = validateYaml(yaml).filter((p) => p.severity === 'error');
  if (errors.length) return { error: 'load', codes: errors.map((e) => e.code) };
  const workflow = Workflow.parse(yaml);
  try {
    const r = await workflow.invoke(structuredClone(initial), { llmHandler: scripted });
    return r.status === 'completed' ? { state: r.state } : { interrupted: { node: r.node } };
  } catch (e) {
    if (e instanceof CoreWasmError) return { error: 'run', code: e.code, message: e.message };
    throw e;
  } finally {
    workflow.free();
  }
}

/** What a run gave, in short: the error and its code, or the final state's keys. */
function summary(got: unknown): unknown {
  const g = got as Record<string, unknown>;
  if ('state' in g) return { stateKeys: Object.keys(g['state'] as object).sort() };
  return { error: g['error'], code: g['code'] ?? g['codes'] };
}

function same(want: Case['expect'], got: unknown): boolean {
  const g = got as Record<string, unknown>;
  if ('state' in want)
    return 'state' in g && JSON.stringify(g['state']) === JSON.stringify(want.state);
  if ('error' in want) return g['error'] === want.error;
  return 'interrupted' in g;
}

beforeAll(async () => {
  await init();
});

describe("upstream's documented workflows, judged by upstream's engine", () => {
  const names = Object.keys(record.cases);
  for (const name of names) {
    const c = record.cases[name]!;
    it(`${name} (${c.source})`, async () => {
      const got = await ours(readFileSync(new URL(`${name}.yaml`, dir), 'utf8'), c.initialState);
      const known = differences[name];
      if (known) {
        // A listed difference stays what it was (a fix removes it from the list).
        expect(
          same(c.expect, got),
          `${name} now matches upstream: remove it from differences.json`,
        ).toBe(false);
        expect(summary(got)).toEqual(known.ours);
      } else {
        expect(got, `upstream: ${JSON.stringify(c.expect)}`).toSatisfy((g) => same(c.expect, g));
      }
    });
  }

  it('every difference names a row of the compatibility table', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const [name, d] of Object.entries(differences)) {
      expect(names, name).toContain(name);
      expect(readme, `${name}: "${d.why}"`).toContain(d.why);
    }
    console.warn(
      `[upstream docs] ${names.length - Object.keys(differences).length} of ${names.length} documented workflows match upstream's engine`,
    );
  });
});
