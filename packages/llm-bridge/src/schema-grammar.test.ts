import { describe, expect, it } from 'vitest';
import { schemaToGrammar } from './schema-grammar.js';

// The grammar text for small schemas (llama.cpp parses and enforces it; the browser tests run it
// on a model), and the refusals.

describe('schemaToGrammar', () => {
  it('writes compact JSON rules: required properties in order, optional ones may be left out', () => {
    const g = schemaToGrammar({
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 3 },
        n: { type: 'integer' },
        tag: { enum: ['a', 'b'] },
      },
      required: ['name', 'n'],
      additionalProperties: false,
    });
    expect(g.split('\n')[0]).toBe('root ::= r0');
    expect(g).toMatch(
      /^r0 ::= "\{" "\\"name\\"" ":" r\d+ "," "\\"n\\"" ":" r\d+ \("," "\\"tag\\"" ":" r\d+\)\? "\}"$/m,
    );
    expect(g).toContain('::= "\\"" (char){0,3} "\\""');
    expect(g).toContain('::= "\\"a\\"" | "\\"b\\""');
    expect(g).not.toMatch(/\\n|\[ \\t\]/);
  });

  it('covers arrays with bounds, nested objects, anyOf, const, local $ref and recursion', () => {
    const g = schemaToGrammar({
      $defs: {
        node: {
          type: 'object',
          properties: { kids: { type: 'array', items: { $ref: '#/$defs/node' }, maxItems: 2 } },
        },
      },
      type: 'object',
      properties: {
        tree: { $ref: '#/$defs/node' },
        pick: { anyOf: [{ type: 'null' }, { const: 3 }] },
        list: { type: 'array', items: { type: 'number' }, minItems: 1, maxItems: 3 },
      },
      required: ['tree', 'pick', 'list'],
    });
    expect(g).toMatch(/::= "\[" (r\d+) \("," \1\)\{0,2\} "\]"/);
    expect(g).toMatch(/::= r\d+ \| r\d+$/m);
    expect(g).toMatch(/::= "3"$/m);
  });

  it('refuses what it cannot enforce, naming the schema path', () => {
    expect(() => schemaToGrammar({ type: 'string', pattern: '^a' })).toThrow(
      /at #: keyword 'pattern'/,
    );
    expect(() => schemaToGrammar({ type: 'object', properties: { a: { type: 'wat' } } })).toThrow(
      /#\/properties\/a: unknown type "wat"/,
    );
    expect(() => schemaToGrammar({ $ref: '#/nowhere' })).toThrow(/\$ref/);
    expect(() => schemaToGrammar({ type: 'object', properties: {}, required: ['x'] })).toThrow(
      /required property 'x'/,
    );
    expect(() => schemaToGrammar('{"type":"object"}')).toThrow(/must be an object/);
    expect(() => schemaToGrammar({ type: 'string', maxLength: 1e9 })).toThrow(/maxLength/);
    expect(() => schemaToGrammar({ enum: [] })).toThrow(/enum is empty/);
  });
});

describe('literals', () => {
  it('escape as llama.cpp reads them (no \\b or \\f, which GBNF does not know)', () => {
    const g = schemaToGrammar({ enum: ['a"b', 'c\\d', 'e\nf', '\b\f', 'é'] });
    expect(g.split('\n')[1]).toBe(
      String.raw`r0 ::= "\"a\\\"b\"" | "\"c\\\\d\"" | "\"e\\nf\"" | "\"\\b\\f\"" | "\"é\""`,
    );
  });
});
