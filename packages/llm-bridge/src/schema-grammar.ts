import { LlmBridgeError } from './errors.js';

// JSON Schema -> GBNF for llama.cpp's grammar sampler: constrained decoding of structured output.
// llama.cpp has its own converter behind `response_format`, but (1) its JSON lets the model put up
// to two newlines and twenty tabs between every token, which a small or noisy model fills until
// `max_tokens`, and (2) wllama's chat path fails to start its sampler with some chat templates.
// This converter writes compact JSON (no free whitespace) and refuses what it cannot enforce.

/** JSON Schema keywords this converter enforces. */
const ENFORCED = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minItems',
  'maxItems',
  'enum',
  'const',
  'anyOf',
  'oneOf',
  'minLength',
  'maxLength',
  '$defs',
  'definitions',
  '$ref',
]);
/** Keywords that only document a schema. */
const DESCRIPTIVE = new Set([
  'title',
  'description',
  '$schema',
  '$id',
  '$comment',
  'examples',
  'default',
  'strict',
]);

/** Most distinct rules one schema may produce (a bound on hostile schemas). */
const MAX_RULES = 2000;
/** Deepest nesting of schemas followed. */
const MAX_DEPTH = 32;
/** Longest `minLength` / `maxLength` / `maxItems` spelled out in the grammar. */
const MAX_REPEAT = 1000;

const PRIMITIVES: Record<string, string> = {
  ws: '""',
  string: '"\\"" char* "\\""',
  char: '[^"\\\\\\x00-\\x1f] | "\\\\" (["\\\\/bfnrt] | "u" [0-9a-fA-F]{4})',
  integer: '"-"? ("0" | [1-9] [0-9]{0,15})',
  number: '"-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})?',
  boolean: '"true" | "false"',
  null: '"null"',
  value: 'object | array | string | number | boolean | null',
  object: '"{" (string ":" value ("," string ":" value)*)? "}"',
  array: '"[" (value ("," value)*)? "]"',
};

function bad(path: string, why: string): LlmBridgeError {
  return new LlmBridgeError('INVALID_REQUEST', `response schema at ${path || '#'}: ${why}`);
}

/** A GBNF string literal for `text` (llama.cpp's escapes: `\\`, `\"`, `\n`, `\r`, `\t`, `\xHH`). */
function literal(text: string): string {
  let out = '"';
  for (const c of text) {
    const code = c.codePointAt(0)!;
    if (c === '"') out += '\\"';
    else if (c === '\\') out += '\\\\';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return `${out}"`;
}

/** A GBNF literal for a JSON value, as compact JSON. */
function jsonLiteral(value: unknown): string {
  return literal(JSON.stringify(value));
}

function repeat(item: string, min: number, max: number | undefined): string {
  if (max === undefined) return min === 0 ? `(${item})*` : `(${item}){${min},}`;
  return `(${item}){${min},${max}}`;
}

function count(value: unknown, path: string, key: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > MAX_REPEAT)
    throw bad(path, `${key} must be an integer from 0 to ${MAX_REPEAT}`);
  return value as number;
}

class Converter {
  readonly rules = new Map<string, string>();
  private readonly names = new Map<unknown, string>();

  constructor(private readonly root: Record<string, unknown>) {}

  private add(name: string, body: string): string {
    if (this.rules.size >= MAX_RULES) throw bad('', `the grammar passes ${MAX_RULES} rules`);
    let unique = name;
    for (let i = 1; this.rules.has(unique); i++) unique = `${name}-${i}`;
    this.rules.set(unique, body);
    return unique;
  }

  private primitive(name: string): string {
    if (!this.rules.has(name)) {
      this.rules.set(name, PRIMITIVES[name]!);
      for (const dep of [
        'char',
        'string',
        'integer',
        'number',
        'boolean',
        'null',
        'object',
        'array',
        'value',
      ])
        if (new RegExp(`\\b${dep}\\b`).test(PRIMITIVES[name]!) && dep !== name) this.primitive(dep);
    }
    return name;
  }

  private resolve(ref: string, path: string): unknown {
    const m = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
    const defs = m ? (this.root[m[1]!] as Record<string, unknown> | undefined) : undefined;
    const target =
      m && defs && typeof defs === 'object' ? defs[decodeURIComponent(m[2]!)] : undefined;
    if (target === undefined)
      throw bad(path, `$ref ${JSON.stringify(ref)} does not name a local $defs entry`);
    return target;
  }

  /** The rule name for `schema` at `path`. */
  rule(schema: unknown, path: string, depth: number): string {
    if (depth > MAX_DEPTH) throw bad(path, `nests deeper than ${MAX_DEPTH} levels`);
    if (
      schema === true ||
      (schema !== null && typeof schema === 'object' && Object.keys(schema).length === 0)
    )
      return this.primitive('value');
    if (schema === false) throw bad(path, 'is `false`: no value can match it');
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema))
      throw bad(path, 'must be an object (a JSON Schema)');
    const known = this.names.get(schema);
    if (known) return known;
    const s = schema as Record<string, unknown>;
    for (const key of Object.keys(s))
      if (!ENFORCED.has(key) && !DESCRIPTIVE.has(key))
        throw bad(
          path,
          `keyword '${key}' cannot be enforced by constrained decoding; remove it or validate it after`,
        );
    const name = `r${this.rules.size}`;
    // Reserve the name first: recursive schemas ($ref to an ancestor) refer back to it.
    this.names.set(schema, name);
    this.rules.set(name, '""');
    this.rules.set(name, this.body(s, path, depth));
    return name;
  }

  private body(s: Record<string, unknown>, path: string, depth: number): string {
    if (typeof s['$ref'] === 'string')
      return this.rule(this.resolve(s['$ref'], path), `${path}/$ref`, depth + 1);
    if ('const' in s) return jsonLiteral(s['const']);
    if (Array.isArray(s['enum'])) {
      if (s['enum'].length === 0) throw bad(path, 'enum is empty');
      return s['enum'].map(jsonLiteral).join(' | ');
    }
    const alternatives = (s['anyOf'] ?? s['oneOf']) as unknown;
    if (alternatives !== undefined) {
      if (!Array.isArray(alternatives) || alternatives.length === 0)
        throw bad(path, 'anyOf / oneOf must be a non-empty list');
      return alternatives.map((a, i) => this.rule(a, `${path}/anyOf/${i}`, depth + 1)).join(' | ');
    }
    const type = s['type'];
    if (Array.isArray(type)) return type.map((t) => this.typed(s, t, path, depth)).join(' | ');
    if (type === undefined) {
      if (s['properties'] !== undefined) return this.typed(s, 'object', path, depth);
      if (s['items'] !== undefined) return this.typed(s, 'array', path, depth);
      return this.primitive('value');
    }
    return this.typed(s, type, path, depth);
  }

  private typed(s: Record<string, unknown>, type: unknown, path: string, depth: number): string {
    switch (type) {
      case 'string': {
        const min = count(s['minLength'], path, 'minLength') ?? 0;
        const max = count(s['maxLength'], path, 'maxLength');
        if (max !== undefined && max < min) throw bad(path, 'maxLength is below minLength');
        if (min === 0 && max === undefined) return this.primitive('string');
        this.primitive('char');
        return `"\\"" ${repeat('char', min, max)} "\\""`;
      }
      case 'integer':
        return this.primitive('integer');
      case 'number':
        return this.primitive('number');
      case 'boolean':
        return this.primitive('boolean');
      case 'null':
        return this.primitive('null');
      case 'array': {
        const min = count(s['minItems'], path, 'minItems') ?? 0;
        const max = count(s['maxItems'], path, 'maxItems');
        if (max !== undefined && max < min) throw bad(path, 'maxItems is below minItems');
        const item = this.rule(s['items'] ?? true, `${path}/items`, depth + 1);
        if (max === 0) return '"[" "]"';
        const rest = repeat(
          `"," ${item}`,
          Math.max(0, min - 1),
          max === undefined ? undefined : max - 1,
        );
        const list = `${item} ${rest}`;
        return min === 0 ? `"[" (${list})? "]"` : `"[" ${list} "]"`;
      }
      case 'object':
        return this.object(s, path, depth);
      default:
        throw bad(path, `unknown type ${JSON.stringify(type)}`);
    }
  }

  /** Properties in schema order; required ones always, optional ones may be left out. */
  private object(s: Record<string, unknown>, path: string, depth: number): string {
    const props = (s['properties'] ?? {}) as Record<string, unknown>;
    if (typeof props !== 'object' || props === null || Array.isArray(props))
      throw bad(path, 'properties must be an object');
    const required = new Set(
      Array.isArray(s['required']) ? (s['required'] as unknown[]).map(String) : [],
    );
    for (const r of required)
      if (!(r in props)) throw bad(path, `required property '${r}' is not in properties`);
    const extra = s['additionalProperties'];
    if (Object.keys(props).length === 0) {
      if (extra === false) return '"{" "}"';
      return this.primitive('object');
    }
    if (extra !== undefined && extra !== false)
      throw bad(path, 'additionalProperties beside properties cannot be enforced; set it to false');
    const kv = Object.keys(props).map((key) => {
      const value = this.rule(props[key], `${path}/properties/${key}`, depth + 1);
      return {
        key,
        required: required.has(key),
        rule: `${literal(JSON.stringify(key))} ":" ${value}`,
      };
    });
    // Required properties in order, each optional one may appear at its place: a sequence where
    // every element after the first present one is preceded by a comma.
    const parts: string[] = [];
    let first = true;
    for (const p of kv) {
      if (p.required) {
        parts.push(first ? p.rule : `"," ${p.rule}`);
        first = false;
      } else if (first) {
        // An optional property before any required one: the comma belongs to what follows.
        parts.push(`(${p.rule} ",")?`);
      } else {
        parts.push(`("," ${p.rule})?`);
      }
    }
    if (first) {
      // No required property: any subset in order, comma-separated. Rule `tail_i` is property i
      // followed, optionally, by a comma and one of the later tails.
      const tails: string[] = [];
      for (let i = kv.length - 1; i >= 0; i--) {
        const later = tails.slice(0, kv.length - 1 - i);
        const next = later.length ? ` ("," (${later.join(' | ')}))?` : '';
        tails.unshift(this.add(`${this.nameOf(path)}-tail`, `${kv[i]!.rule}${next}`));
      }
      return `"{" (${tails.join(' | ')})? "}"`;
    }
    return `"{" ${parts.join(' ')} "}"`;
  }

  private nameOf(path: string): string {
    return `o${path.replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-|-$/g, '') || 'root'}`.slice(0, 40);
  }
}

/**
 * A compact-JSON GBNF grammar for values that match `schema` (a JSON Schema object). Throws an
 * `INVALID_REQUEST` `LlmBridgeError` naming the schema path for anything it cannot enforce.
 */
export function schemaToGrammar(schema: unknown): string {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema))
    throw bad('', 'must be an object (a JSON Schema)');
  const c = new Converter(schema as Record<string, unknown>);
  const root = c.rule(schema, '#', 0);
  const lines = [`root ::= ${root}`];
  for (const [name, body] of c.rules) lines.push(`${name} ::= ${body}`);
  return lines.join('\n');
}

/** A grammar for any JSON object (`response_format: { type: 'json_object' }`). */
export function jsonObjectGrammar(): string {
  return schemaToGrammar({ type: 'object' });
}
