/**
 * The JSON Schema the constrained-decoding benches ask for: a long string and a long list, so
 * that a random-weight model writes for the whole token budget inside the grammar.
 */
export const DESCRIBE_SCHEMA = {
  type: 'object',
  properties: {
    title: { type: 'string', maxLength: 400 },
    tags: { type: 'array', items: { enum: ['a', 'b', 'c'] }, maxItems: 50 },
  },
  required: ['title', 'tags'],
  additionalProperties: false,
};
