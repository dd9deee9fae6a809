import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { sdkPage } from '../../../tools/sdk-page.js';

// Structured output in a workflow, end to end in Chromium: the sdk's handle (the tiny
// random-weight model, whose free text is noise) answers an llm.call with response_format, and
// the node's result carries the JSON text and its parsed, schema-checked value.

const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, '.site-structured');

test.beforeAll(() => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'index.html'),
    sdkPage(`
      import { createTea, registerAction } from '@the-edge-agent/sdk';
      const yaml = \`
name: extract
nodes:
  - name: extract
    uses: llm.call
    with:
      prompt: "Extract the trip: {{ state.text }}"
      max_tokens: 96
      temperature: 0
      response_format:
        type: json_schema
        json_schema:
          name: trip
          schema:
            type: object
            properties:
              city: { type: string, maxLength: 10 }
              days: { type: integer }
              mode: { enum: [train, plane, bike] }
            required: [city, days, mode]
            additionalProperties: false
    output: trip
  - name: summary
    uses: return
    with:
      value: "{{ state.trip.json.mode }}"
    output: mode
\`;
      const agent = \`
name: agent
nodes:
  - name: agent
    uses: llm.tools
    with:
      prompt: "6*7?"
      max_tokens: 120
      temperature: 0
      tool_choice: calc
      max_tool_rounds: 1
      tools:
        - name: calc
          description: arithmetic
          parameters:
            type: object
            properties:
              op: { enum: [add, mul] }
              exact: { type: boolean }
            required: [op, exact]
            additionalProperties: false
          action: math.calc
    output: result
\`;
      window.agent = async () => {
        const calls = [];
        const tea = await createTea({ manifestUrl: '/apps/demo/public/models/tiny-test-model/manifest.json', webgpu: 'off', useCache: false });
        registerAction('math.calc', (params) => { calls.push(params); return { value: 42 }; });
        const events = [];
        try {
          const state = await tea.run(agent, {}, { onEvent: (e) => events.push(e.type) });
          return { result: state.result, calls, events };
        } catch (e) {
          return { code: e.code, message: e.message };
        } finally {
          await tea.dispose();
        }
      };
      window.openai = async () => {
        const tea = await createTea({ manifestUrl: '/apps/demo/public/models/tiny-test-model/manifest.json', webgpu: 'off', useCache: false });
        try {
          const messages = [{ role: 'user', content: 'Tell me about tea' }];
          const whole = await tea.chat.completions.create({ messages, max_tokens: 24, temperature: 0 });
          const chunks = [];
          for await (const c of await tea.chat.completions.create({ messages, max_tokens: 24, temperature: 0, stream: true }))
            chunks.push(c);
          const schema = { type: 'object', properties: { ok: { type: 'boolean' }, level: { enum: ['low', 'high'] } }, required: ['ok', 'level'], additionalProperties: false };
          const json = await tea.chat.completions.create({
            messages, max_tokens: 48, temperature: 0,
            response_format: { type: 'json_schema', json_schema: { name: 'x', schema } },
          });
          return { whole, chunks, json };
        } finally {
          await tea.dispose();
        }
      };
      window.run = async () => {
        const tea = await createTea({ manifestUrl: '/apps/demo/public/models/tiny-test-model/manifest.json', webgpu: 'off', useCache: false });
        try {
          const state = await tea.run(yaml, { text: 'Lisbon by train for 3 days' });
          return { trip: state.trip, mode: state.mode };
        } catch (e) {
          return { code: e.code, message: e.message };
        } finally {
          await tea.dispose();
        }
      };
      window.ready = true;
    `),
  );
});

test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a workflow gets schema-valid JSON from the model and reads it as state', async ({ page }) => {
  await page.goto('/packages/sdk/e2e/.site-structured/index.html');
  await page.waitForFunction(() => (window as { ready?: boolean }).ready === true);
  const r = await page.evaluate(() =>
    (window as unknown as { run(): Promise<Record<string, unknown>> }).run(),
  );
  expect(r['code'], String(r['message'])).toBeUndefined();
  const trip = r['trip'] as { content: string; json: { city: string; days: number; mode: string } };
  expect(JSON.parse(trip.content)).toEqual(trip.json);
  expect(Object.keys(trip.json)).toEqual(['city', 'days', 'mode']);
  expect(trip.json.city.length).toBeLessThanOrEqual(10);
  expect(Number.isInteger(trip.json.days)).toBe(true);
  expect(['train', 'plane', 'bike']).toContain(trip.json.mode);
  expect(r['mode']).toBe(trip.json.mode);
});

test('a forced tool call from the model runs the registered action with arguments that match', async ({
  page,
}) => {
  await page.goto('/packages/sdk/e2e/.site-structured/index.html');
  await page.waitForFunction(() => (window as { ready?: boolean }).ready === true);
  const r = await page.evaluate(() =>
    (window as unknown as { agent(): Promise<Record<string, unknown>> }).agent(),
  );
  expect(r['code'], String(r['message'])).toBeUndefined();
  const calls = r['calls'] as { op: string; exact: boolean }[];
  expect(calls, JSON.stringify(r)).toHaveLength(1);
  expect(['add', 'mul']).toContain(calls[0]!.op);
  expect(typeof calls[0]!.exact).toBe('boolean');
  const result = r['result'] as { tool_results: { result: string }[]; rounds: number };
  expect(result.rounds).toBe(1);
  expect(result.tool_results[0]!.result).toBe('{"value":42}');
  expect(r['events']).toEqual(expect.arrayContaining(['tool_call', 'tool_result']));
});

test('chat.completions.create: OpenAI shapes; streamed chunks add up to the whole answer', async ({
  page,
}) => {
  await page.goto('/packages/sdk/e2e/.site-structured/index.html');
  await page.waitForFunction(() => (window as { ready?: boolean }).ready === true);
  type Chunk = {
    object: string;
    choices: { delta: { content?: string }; finish_reason: string | null }[];
  };
  const r = await page.evaluate(() =>
    (
      window as unknown as {
        openai(): Promise<{
          whole: { object: string; choices: { message: { content: string } }[]; usage: object };
          chunks: Chunk[];
          json: { choices: { message: { content: string }; finish_reason: string }[] };
        }>;
      }
    ).openai(),
  );
  expect(r.whole.object).toBe('chat.completion');
  expect(r.whole.choices[0]!.message.content.length).toBeGreaterThan(0);
  expect(r.chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
  expect(r.chunks.map((c) => c.choices[0]!.delta.content ?? '').join('')).toBe(
    r.whole.choices[0]!.message.content,
  );
  expect(r.chunks.at(-1)!.choices[0]!.finish_reason).not.toBeNull();
  const value = JSON.parse(r.json.choices[0]!.message.content) as { ok: boolean; level: string };
  expect(typeof value.ok).toBe('boolean');
  expect(['low', 'high']).toContain(value.level);
});
