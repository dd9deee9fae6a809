import { LlmBridgeError } from './errors.js';
import type { ChatMessage, ChatTool, ToolCall, ToolChoice } from './types.js';

// Tool calling on any model, as llama.cpp's "generic" tool-call format does it: the tools are
// described in a system message, and the answer is constrained (grammar) to one JSON object,
// a call or a reply. It does not depend on
// the model's chat template knowing tools (the random-weight test models' do not; neither do
// many small models'), and arguments always parse and match the tool's parameter schema. Here the
// call is `{"name", "arguments"}` and a reply `{"response"}`: short, for small contexts.

/** What the model may answer, as a JSON Schema (the grammar enforces it). */
export function toolAnswerSchema(tools: ChatTool[], choice: ToolChoice | undefined): object {
  const forced = typeof choice === 'object' && choice !== null ? choice.function.name : undefined;
  const callable = forced ? tools.filter((t) => t.function.name === forced) : tools;
  if (forced && callable.length === 0)
    throw new LlmBridgeError(
      'INVALID_REQUEST',
      `tool_choice names '${forced}', which is not in tools`,
    );
  const calls = callable.map((t) => ({
    type: 'object',
    properties: {
      name: { const: t.function.name },
      arguments: t.function.parameters ?? {
        type: 'object',
        properties: {},
        additionalProperties: false,
      },
    },
    required: ['name', 'arguments'],
    additionalProperties: false,
  }));
  const answer = {
    type: 'object',
    properties: { response: { type: 'string' } },
    required: ['response'],
    additionalProperties: false,
  };
  const options = forced || choice === 'required' ? calls : [...calls, answer];
  return options.length === 1 ? options[0]! : { anyOf: options };
}

/** A compact signature of a schema's type: `integer`, `"add"|"mul"`, `{x: number}`. */
function typeOf(schema: unknown, depth = 0): string {
  const s = (schema ?? {}) as Record<string, unknown>;
  if (Array.isArray(s['enum'])) return s['enum'].map((v) => JSON.stringify(v)).join('|');
  if ('const' in s) return JSON.stringify(s['const']);
  const any = (s['anyOf'] ?? s['oneOf']) as unknown[] | undefined;
  if (Array.isArray(any)) return any.map((a) => typeOf(a, depth)).join('|');
  if (s['type'] === 'array') return `${typeOf(s['items'], depth)}[]`;
  if ((s['type'] === 'object' || s['properties']) && depth < 2) return `{${args(s, depth + 1)}}`;
  return typeof s['type'] === 'string'
    ? s['type']
    : Array.isArray(s['type'])
      ? s['type'].join('|')
      : 'any';
}

/** `a: integer, b?: string` for an object schema's properties (optional ones marked `?`). */
function args(schema: Record<string, unknown>, depth: number): string {
  const props = (schema['properties'] ?? {}) as Record<string, unknown>;
  const required = new Set(
    Array.isArray(schema['required']) ? (schema['required'] as string[]) : [],
  );
  return Object.entries(props)
    .map(([k, v]) => `${k}${required.has(k) ? '' : '?'}: ${typeOf(v, depth)}`)
    .join(', ');
}

/**
 * The system text that tells the model its tools and the answer format: compact signatures
 * (`calc(a: integer, op: "add"|"mul") - arithmetic`); the grammar enforces the exact schema, so
 * a small context is not spent on it.
 */
export function toolSystemPrompt(tools: ChatTool[], choice: ToolChoice | undefined): string {
  const sig = (t: ChatTool) => {
    const f = t.function;
    const s = `${f.name}(${args((f.parameters ?? {}) as Record<string, unknown>, 1)})`;
    return f.description ? `${s} - ${f.description}` : s;
  };
  if (typeof choice === 'object' && choice !== null) {
    const tool = tools.find((t) => t.function.name === choice.function.name);
    return `Call ${tool ? sig(tool) : choice.function.name}. Reply {"name":"${choice.function.name}","arguments":{..}}.`;
  }
  const list = tools.map(sig).join('\n');
  if (choice === 'required')
    return `Tools:\n${list}\nCall one: reply {"name":..,"arguments":{..}}.`;
  return `Tools:\n${list}\nTo call one reply {"name":..,"arguments":{..}}, else {"response":".."}.`;
}

/**
 * The conversation for a model without native tool messages: the tool description joins the
 * system message, an assistant's tool calls become the JSON it answered, and tool results become
 * user messages naming the tool.
 */
export function toolMessages(
  messages: ChatMessage[],
  system: string | undefined,
): { role: 'system' | 'user' | 'assistant'; content: string }[] {
  const names = new Map<string, string>();
  const out: { role: 'system' | 'user' | 'assistant'; content: string }[] = [];
  const first = messages[0];
  if (system !== undefined) {
    if (first?.role === 'system')
      out.push({ role: 'system', content: `${first.content ?? ''}\n\n${system}` });
    else out.push({ role: 'system', content: system });
  } else if (first?.role === 'system') out.push({ role: 'system', content: first.content ?? '' });
  for (const m of first?.role === 'system' ? messages.slice(1) : messages) {
    if (m.role === 'assistant' && m.tool_calls?.length) {
      for (const c of m.tool_calls) {
        names.set(c.id, c.function.name);
        let args: unknown;
        try {
          args = JSON.parse(c.function.arguments);
        } catch {
          args = c.function.arguments;
        }
        out.push({
          role: 'assistant',
          content: JSON.stringify({ name: c.function.name, arguments: args }),
        });
      }
    } else if (m.role === 'tool') {
      const name = names.get(m.tool_call_id ?? '') ?? 'the tool';
      out.push({ role: 'user', content: `Result of ${name}: ${m.content ?? ''}` });
    } else if (m.role === 'system') {
      out.push({ role: 'system', content: m.content ?? '' });
    } else {
      out.push({ role: m.role, content: m.content ?? '' });
    }
  }
  return out;
}

let counter = 0;

const REPLY_START = '{"response":"';

/**
 * The text of a JSON string cut off anywhere (no closing quote): the escapes that are complete,
 * decoded; a dangling backslash or half `\uXXXX` escape dropped.
 */
function partialJsonString(body: string): string {
  for (let end = body.length; end >= Math.max(0, body.length - 6); end--) {
    try {
      return JSON.parse(`"${body.slice(0, end)}"`) as string;
    } catch {
      // an escape was cut in half: try without its last characters
    }
  }
  return '';
}

/**
 * The model's constrained answer as OpenAI's `content` / `tool_calls`. An answer cut off by
 * `max_tokens` is read as OpenAI reports one: a reply cut off is the reply's text so far; a call
 * cut off is a tool call whose `arguments` are the incomplete JSON (its `name` as far as it got),
 * so that a caller seeing `finish_reason: 'length'` knows which of the two it was.
 */
export function parseToolAnswer(text: string): { content: string; toolCalls: ToolCall[] } {
  let value: { name?: unknown; arguments?: unknown; response?: unknown };
  try {
    value = JSON.parse(text) as typeof value;
  } catch {
    if (!text.trim()) return { content: '', toolCalls: [] };
    if (
      text.length <= REPLY_START.length
        ? REPLY_START.startsWith(text) && text.length > 2
        : text.startsWith(REPLY_START)
    )
      return { content: partialJsonString(text.slice(REPLY_START.length)), toolCalls: [] };
    const name = /^\{"name":"([\w.-]*)/.exec(text)?.[1] ?? '';
    const args = /^\{"name":"[\w.-]*","arguments":(.*)$/s.exec(text)?.[1] ?? '';
    return { content: '', toolCalls: [call(name, args)] };
  }
  if (typeof value.name === 'string')
    return { content: '', toolCalls: [call(value.name, JSON.stringify(value.arguments ?? {}))] };
  return { content: typeof value.response === 'string' ? value.response : text, toolCalls: [] };
}

function call(name: string, args: string): ToolCall {
  counter = (counter + 1) % 1e9;
  return {
    id: `call_${Date.now().toString(36)}_${counter}`,
    type: 'function',
    function: { name, arguments: args },
  };
}
