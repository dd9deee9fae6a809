import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LlmBridgeError } from './errors.js';
import { schemaToGrammar } from './schema-grammar.js';
import { toolAnswerSchema } from './tool-calls.js';

// Whatever schema comes in (random, deep, recursive, hostile), the converter answers with a
// grammar or an INVALID_REQUEST naming the path, quickly, and never anything else.

const RUNS = Number(process.env['TEA_PROPERTY_RUNS'] ?? 300);

const keyword = fc.constantFrom(
  'type',
  'properties',
  'required',
  'items',
  'enum',
  'const',
  'anyOf',
  'oneOf',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'additionalProperties',
  '$ref',
  '$defs',
  'pattern',
  'description',
  '__proto__',
  'constructor',
);
const leaf = fc.oneof(
  fc.constantFrom('string', 'integer', 'number', 'boolean', 'null', 'object', 'array', 'wat'),
  fc.integer({ min: -5, max: 2000 }),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('#/$defs/a', '#/nowhere', '#'),
  fc.string({ maxLength: 8 }),
);
const tree = fc.letrec<{ s: unknown }>((tie) => ({
  s: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('s'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(keyword, fc.string({ maxLength: 6 })), tie('s'), { maxKeys: 5 }),
  ),
}));
const schema = tree.s;

function converts(s: unknown): void {
  try {
    expect(typeof schemaToGrammar(s)).toBe('string');
  } catch (error) {
    expect(error).toBeInstanceOf(LlmBridgeError);
    expect((error as LlmBridgeError).code).toBe('INVALID_REQUEST');
  }
}

describe('schemaToGrammar under random schemas', () => {
  it('gives a grammar or INVALID_REQUEST', () => {
    fc.assert(fc.property(schema, converts), { numRuns: RUNS });
  });

  it('handles tools with random parameter schemas the same way', () => {
    fc.assert(
      fc.property(schema, (parameters) => {
        try {
          converts(
            toolAnswerSchema(
              [{ type: 'function', function: { name: 't', parameters: parameters as object } }],
              'auto',
            ),
          );
        } catch (error) {
          expect(error).toBeInstanceOf(LlmBridgeError);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('bounds self-referencing and wide schemas', () => {
    const deep: Record<string, unknown> = { type: 'object', properties: {} };
    let at = deep;
    for (let i = 0; i < 200; i++) {
      const next = { type: 'object', properties: {} };
      (at['properties'] as Record<string, unknown>)['x'] = next;
      at = next;
    }
    expect(() => schemaToGrammar(deep)).toThrow(/deeper than/);
    const wide = { enum: Array.from({ length: 5000 }, (_, i) => i) };
    expect(schemaToGrammar(wide).length).toBeGreaterThan(10_000);
    const loop = { $defs: { a: { $ref: '#/$defs/a' } }, $ref: '#/$defs/a' };
    converts(loop);
  });
});
