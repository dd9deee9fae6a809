import { Validator, type Schema } from '@cfworker/json-schema';
import { expect, test } from '@playwright/test';
import { fixtureUrls, prepareFixtures } from './fixtures.js';
import { openHarness, type CodedFailure } from './harness.js';

// Constrained decoding on the random-weight fixture model, whose free text is noise: whatever it
// would say, a `json_schema` request yields JSON that validates, and a grammar is obeyed.

test.beforeAll(async () => {
  await prepareFixtures();
});

const schemas: Record<string, object> = {
  person: {
    type: 'object',
    properties: {
      name: { type: 'string', maxLength: 12 },
      age: { type: 'integer' },
      tags: { type: 'array', items: { enum: ['tea', 'wasm', 'llm'] }, maxItems: 3 },
    },
    required: ['name', 'age', 'tags'],
    additionalProperties: false,
  },
  nested: {
    type: 'object',
    properties: {
      ok: { type: 'boolean' },
      point: {
        type: 'object',
        properties: { x: { type: 'number' }, y: { type: 'number' } },
        required: ['x', 'y'],
      },
      level: { enum: ['low', 'high'] },
      note: { anyOf: [{ type: 'null' }, { type: 'string', maxLength: 8 }] },
    },
    required: ['ok', 'point', 'level'],
  },
  list: { type: 'array', items: { type: 'integer' }, minItems: 1, maxItems: 4 },
};

test('json_schema output validates for several schemas and seeds', async ({ page }) => {
  await openHarness(page);
  const outputs = await page.evaluate(
    async ({ url, schemas }) => {
      const bridge = await window.harness.loadedBridge(url);
      const out: { schema: string; seed: number; content: string; finish: string }[] = [];
      for (const [name, schema] of Object.entries(schemas))
        for (const seed of [1, 2, 3]) {
          const r = await bridge.chat({
            messages: [{ role: 'user', content: `Describe ${name}` }],
            max_tokens: 120,
            temperature: 0.8,
            seed,
            response_format: { type: 'json_schema', json_schema: { name, schema } },
          });
          out.push({ schema: name, seed, content: r.content, finish: r.finish_reason });
        }
      const grammar = await bridge.chat({
        messages: [{ role: 'user', content: 'yes or no?' }],
        max_tokens: 8,
        temperature: 0,
        grammar: 'root ::= "yes" | "no"',
      });
      out.push({
        schema: 'grammar',
        seed: 0,
        content: grammar.content,
        finish: grammar.finish_reason,
      });
      return out;
    },
    { url: fixtureUrls.tiny, schemas },
  );
  for (const o of outputs) {
    if (o.schema === 'grammar') {
      expect(['yes', 'no']).toContain(o.content);
      continue;
    }
    expect(o.finish, `${o.schema} seed ${o.seed}: ${o.content}`).toBe('stop');
    const value = JSON.parse(o.content) as unknown;
    const result = new Validator(schemas[o.schema] as Schema, '2020-12').validate(value);
    expect(result.valid, `${o.schema} seed ${o.seed}: ${o.content}`).toBe(true);
  }
});

test('schemas and grammars that cannot work fail before generation, and the bridge goes on', async ({
  page,
}) => {
  await openHarness(page);
  const r = await page.evaluate(async (url) => {
    const bridge = await window.harness.loadedBridge(url);
    const fail = async (work: () => Promise<unknown>): Promise<CodedFailure> => {
      try {
        await work();
        return { code: 'none', message: '' };
      } catch (e) {
        const err = e as CodedFailure;
        return { code: err.code, message: err.message };
      }
    };
    const ask = { messages: [{ role: 'user' as const, content: 'x' }], max_tokens: 8 };
    const pattern = await fail(() =>
      bridge.chat({
        ...ask,
        response_format: {
          type: 'json_schema',
          json_schema: { schema: { type: 'string', pattern: '^a' } },
        },
      }),
    );
    const badGrammar = await fail(() => bridge.chat({ ...ask, grammar: 'root ::= ("yes" ' }));
    const after = await bridge.chat({ ...ask, temperature: 0 });
    return { pattern, badGrammar, after: after.content.length };
  }, fixtureUrls.tiny);
  expect(r.pattern.code).toBe('INVALID_REQUEST');
  expect(r.pattern.message).toContain("keyword 'pattern'");
  expect(r.badGrammar.code).toBe('INVALID_REQUEST');
  expect(r.badGrammar.message).toContain('grammar does not parse');
  expect(r.after).toBeGreaterThan(0);
});

test('a forced tool call has arguments that match the tool; tool results feed the next turn', async ({
  page,
}) => {
  await openHarness(page);
  // Short arguments: the fixture model's context is 256 tokens, and its noise fills any number
  // with digits up to the grammar's limit.
  const parameters: Schema = {
    type: 'object',
    properties: {
      op: { enum: ['add', 'mul'] },
      unit: { type: 'string', maxLength: 4 },
      exact: { type: 'boolean' },
    },
    required: ['op', 'unit', 'exact'],
    additionalProperties: false,
  };
  const r = await page.evaluate(
    async ({ url, parameters }) => {
      const bridge = await window.harness.loadedBridge(url);
      const tools = [
        {
          type: 'function' as const,
          function: { name: 'calc', description: 'arithmetic', parameters },
        },
        { type: 'function' as const, function: { name: 'clock', description: 'the time' } },
      ];
      const ask = { role: 'user' as const, content: '6*7?' };
      const forced = await bridge.chat({
        messages: [ask],
        tools,
        tool_choice: { type: 'function', function: { name: 'calc' } },
        max_tokens: 100,
        temperature: 0,
      });
      const call = forced.tool_calls?.[0];
      const next = await bridge.chat({
        messages: [
          ask,
          { role: 'assistant', content: null, tool_calls: forced.tool_calls ?? [] },
          { role: 'tool', tool_call_id: call?.id ?? '', content: '42' },
        ],
        tools,
        tool_choice: 'none',
        max_tokens: 8,
        temperature: 0,
      });
      const unknown = await bridge
        .chat({
          messages: [ask],
          tools,
          tool_choice: { type: 'function', function: { name: 'nope' } },
        })
        .then(
          () => 'none',
          (e: { code: string }) => e.code,
        );
      return { forced, next: next.content.length, unknown };
    },
    { url: fixtureUrls.tiny, parameters },
  );
  expect(r.forced.finish_reason, JSON.stringify(r.forced)).toBe('tool_calls');
  expect(r.forced.tool_calls).toHaveLength(1);
  const call = r.forced.tool_calls![0]!;
  expect(call.function.name).toBe('calc');
  const args = JSON.parse(call.function.arguments) as unknown;
  expect(new Validator(parameters, '2020-12').validate(args).valid, call.function.arguments).toBe(
    true,
  );
  expect(r.next).toBeGreaterThan(0);
  expect(r.unknown).toBe('INVALID_REQUEST');
});

test('constrained output equals raw wllama given the same grammar (differential, temperature 0)', async ({
  page,
}) => {
  await openHarness(page);
  const r = await page.evaluate(
    async ({ url, schema }) => {
      const { bridgeModule, Wllama } = window.harness;
      const blob = await (await fetch(url)).blob();
      const messages = [{ role: 'user' as const, content: 'Describe a person' }];
      const bridge = bridgeModule.createBridge({ threads: 1, nCtx: 256, webgpu: 'off' });
      await bridge.load([blob]);
      const viaBridge = await bridge.chat({
        messages,
        max_tokens: 96,
        temperature: 0,
        seed: 3,
        response_format: { type: 'json_schema', json_schema: { name: 'p', schema } },
      });
      await bridge.unload();
      const raw = new Wllama(
        { default: '/packages/llm-bridge/wasm/wllama.wasm' },
        { suppressNativeLog: true },
      );
      await raw.loadModel([blob], { n_ctx: 256, n_threads: 1, n_gpu_layers: 0 });
      const direct = await raw.createChatCompletion({
        messages,
        max_tokens: 96,
        temperature: 0,
        seed: 3,
        grammar: bridgeModule.schemaToGrammar(schema),
      } as never);
      await raw.exit();
      return {
        viaBridge: viaBridge.content,
        direct: (direct as { choices: { message: { content: string } }[] }).choices[0]?.message
          .content,
      };
    },
    { url: fixtureUrls.tiny, schema: schemas['person']! },
  );
  expect(r.viaBridge.length).toBeGreaterThan(2);
  expect(r.viaBridge).toBe(r.direct);
});
