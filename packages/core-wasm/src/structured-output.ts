import { Validator } from '@cfworker/json-schema';

// Structured output of `llm.call` (`response_format: json_object | json_schema`): the model's
// text must be JSON (matching the schema); the result gains the parsed value as `json`. Decoding
// is constrained by the LLM handler (llama.cpp's grammar sampler); this is the check of what came
// back, so that a reply cut off by `max_tokens`, or a handler that ignored the format, is a coded
// error and never a half-object in the state.

/** A failure to report as `{ code, message }` to the engine. */
export class StructuredOutputError extends Error {
  constructor(
    readonly code: 'LLM_OUTPUT_INVALID' | 'VALIDATION',
    message: string,
  ) {
    super(message);
  }
}

interface Format {
  type?: unknown;
  json_schema?: { name?: unknown; schema?: unknown };
}

const validators = new WeakMap<object, Validator>();

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);
const SCHEMA_MAPS = ['properties', '$defs', 'definitions', 'patternProperties', 'dependentSchemas'];
const SCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf', 'prefixItems'];
const SCHEMA_ONE = [
  'items',
  'additionalProperties',
  'not',
  'if',
  'then',
  'else',
  'contains',
  'propertyNames',
];
const COUNTS = ['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties'];

/** Where `schema` is not a well-formed JSON Schema (its structure, types and local `$ref`s). */
export function schemaProblem(root: unknown): string | undefined {
  const stack: [unknown, string, number][] = [[root, '#', 0]];
  while (stack.length) {
    const [s, path, depth] = stack.pop()!;
    if (typeof s === 'boolean') continue;
    if (s === null || typeof s !== 'object' || Array.isArray(s))
      return `${path} is not a schema (an object or a boolean)`;
    if (depth > 64) return `${path} nests deeper than 64 levels`;
    const o = s as Record<string, unknown>;
    const types = Array.isArray(o['type'])
      ? (o['type'] as unknown[])
      : o['type'] === undefined
        ? []
        : [o['type']];
    for (const t of types)
      if (typeof t !== 'string' || !TYPES.has(t))
        return `${path}/type ${JSON.stringify(t)} is not a JSON Schema type`;
    if (
      o['required'] !== undefined &&
      !(Array.isArray(o['required']) && o['required'].every((r) => typeof r === 'string'))
    )
      return `${path}/required must be a list of property names`;
    if (o['enum'] !== undefined && !Array.isArray(o['enum'])) return `${path}/enum must be a list`;
    for (const k of COUNTS)
      if (o[k] !== undefined && !(Number.isInteger(o[k]) && (o[k] as number) >= 0))
        return `${path}/${k} must be a non-negative integer`;
    if (typeof o['$ref'] === 'string') {
      const ref = o['$ref'];
      const m = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
      const defs = m
        ? ((root as Record<string, unknown>)[m[1]!] as Record<string, unknown> | undefined)
        : undefined;
      if (
        ref !== '#' &&
        !(m && defs && typeof defs === 'object' && decodeURIComponent(m[2]!) in defs)
      )
        return `${path}/$ref ${JSON.stringify(ref)} does not name a local $defs entry`;
    } else if (o['$ref'] !== undefined) return `${path}/$ref must be a string`;
    for (const k of SCHEMA_MAPS) {
      const m = o[k];
      if (m === undefined) continue;
      if (m === null || typeof m !== 'object' || Array.isArray(m))
        return `${path}/${k} must be an object of schemas`;
      for (const [name, sub] of Object.entries(m))
        stack.push([sub, `${path}/${k}/${name}`, depth + 1]);
    }
    for (const k of SCHEMA_LISTS) {
      const l = o[k];
      if (l === undefined) continue;
      if (!Array.isArray(l) || l.length === 0)
        return `${path}/${k} must be a non-empty list of schemas`;
      l.forEach((sub, i) => stack.push([sub, `${path}/${k}/${i}`, depth + 1]));
    }
    for (const k of SCHEMA_ONE)
      if (o[k] !== undefined) stack.push([o[k], `${path}/${k}`, depth + 1]);
  }
  return undefined;
}

/** The validator of a `json_schema` format (checked before the handler is called). */
export function schemaValidator(format: unknown): Validator | undefined {
  const f = format as Format | undefined;
  if (f?.type !== 'json_schema') return undefined;
  const schema = f.json_schema?.schema;
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema))
    throw new StructuredOutputError(
      'VALIDATION',
      `response_format.json_schema.schema must be a JSON Schema object`,
    );
  let v = validators.get(schema);
  if (!v) {
    const problem = schemaProblem(schema);
    if (problem)
      throw new StructuredOutputError(
        'VALIDATION',
        `response_format.json_schema.schema is not a valid JSON Schema: ${problem}`,
      );
    try {
      v = new Validator(schema as Record<string, unknown>, '2020-12', false);
      // A schema the validator cannot read fails here, before any generation.
      v.validate(null);
    } catch (error) {
      throw new StructuredOutputError(
        'VALIDATION',
        `response_format.json_schema.schema is not a usable JSON Schema: ${(error as Error).message}`,
      );
    }
    validators.set(schema, v);
  }
  return v;
}

/** Where `value` fails `validator` (its deepest error), or undefined when it matches. */
export function schemaMismatch(
  validator: Validator,
  value: unknown,
): { instanceLocation: string; keywordLocation: string; error: string } | undefined {
  const result = validator.validate(value);
  if (result.valid) return undefined;
  const e = result.errors.at(-1) ?? result.errors[0];
  return {
    instanceLocation: e?.instanceLocation ?? '#',
    keywordLocation: e?.keywordLocation ?? '#',
    error: e?.error ?? 'invalid',
  };
}

/** `reply` with `json` added, or the coded error of a reply that is not the asked-for JSON. */
export function checkStructured(
  format: unknown,
  validator: Validator | undefined,
  reply: Record<string, unknown>,
  maxTokens: unknown,
): Record<string, unknown> {
  const type = (format as Format | undefined)?.type;
  if (type !== 'json_object' && type !== 'json_schema') return reply;
  const content = typeof reply['content'] === 'string' ? reply['content'] : '';
  const cut =
    reply['finish_reason'] === 'length'
      ? ` The reply was cut off at max_tokens (${String(maxTokens ?? 'default')}): raise max_tokens, or ask for less.`
      : '';
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch {
    const head = content.length > 80 ? `${content.slice(0, 80)}…` : content;
    throw new StructuredOutputError(
      'LLM_OUTPUT_INVALID',
      `the model's reply is not complete JSON (${JSON.stringify(head)}).${cut}`,
    );
  }
  if (
    type === 'json_object' &&
    (value === null || typeof value !== 'object' || Array.isArray(value))
  )
    throw new StructuredOutputError(
      'LLM_OUTPUT_INVALID',
      `response_format json_object asks for a JSON object, the model gave ${Array.isArray(value) ? 'a list' : typeof value}`,
    );
  const mismatch = validator && schemaMismatch(validator, value);
  if (mismatch) {
    const where = `${mismatch.instanceLocation} (schema ${mismatch.keywordLocation})`;
    throw new StructuredOutputError(
      'LLM_OUTPUT_INVALID',
      `the model's JSON does not match the schema at ${where}: ${mismatch.error}.${cut}`,
    );
  }
  return { ...reply, json: value };
}
