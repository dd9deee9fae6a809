import { Validator, type Schema } from '@cfworker/json-schema';
import type { EngineLimits } from './instance.js';
import { toJsonText } from './json-boundary.js';
import { promptProgressEvent } from './prompt-progress.js';
import { raceAbort } from './race-abort.js';
import { actionNamed } from './registry.js';
import { schemaMismatch, schemaProblem, StructuredOutputError } from './structured-output.js';
import type { LlmHandler, LlmMessage, LlmRequest, WorkflowEvent } from './types.js';

// `llm.tools`, as upstream documents it: the model may call tools, each mapped to a registered
// action (or to a workflow node, whose action runs with its `with:` under the arguments); their results go back to the model, until it answers without a tool call or
// `max_tool_rounds` is reached. Returns `{ content, tool_calls, tool_results, rounds }`. Only the
// workflow's tools can run: a call naming anything else, or with arguments that do not match the
// tool's parameters, gets an error message back as its result, never a call.

interface ToolDef {
  name: string;
  description: string;
  parameters: Schema & object;
  action: string;
  /** For a tool that names a node: the node's `with:` (rendered), under the model's arguments. */
  base: Record<string, unknown>;
  validator: Validator;
}

interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

type Message = LlmMessage;
type Choice = Extract<LlmRequest, { kind: 'call' }>['tool_choice'];

/** Upstream's YAML parameter style (`name: { type, description, required }`) as JSON Schema. */
function parametersSchema(raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === null)
    return { type: 'object', properties: {}, additionalProperties: false };
  const p = raw as Record<string, unknown>;
  if (p['type'] === 'object' || 'properties' in p) return p;
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const [name, spec] of Object.entries(p)) {
    if (spec !== null && typeof spec === 'object' && !Array.isArray(spec)) {
      const { required: req, ...rest } = spec as Record<string, unknown>;
      properties[name] = { type: 'string', ...rest };
      if (req === true) required.push(name);
    } else {
      properties[name] = { type: String(spec) };
    }
  }
  return { type: 'object', properties, required, additionalProperties: false };
}

function toolsOf(raw: unknown): ToolDef[] {
  if (!Array.isArray(raw) || raw.length === 0)
    throw new StructuredOutputError('VALIDATION', `llm.tools needs a list of tools`);
  return raw.map((t: Record<string, unknown>, i) => {
    const name = String(t['name'] ?? '');
    const action = String(t['action'] ?? '');
    const parameters = parametersSchema(t['parameters']);
    const problem = schemaProblem(parameters);
    if (problem)
      throw new StructuredOutputError(
        'VALIDATION',
        `tools[${i}] (${name}) parameters are not a valid JSON Schema: ${problem}`,
      );
    if (!actionNamed(action))
      throw new StructuredOutputError(
        'VALIDATION',
        `tool '${name}' calls action '${action}', which is not registered`,
      );
    return {
      name,
      description: String(t['description'] ?? ''),
      parameters: parameters as Schema & object,
      action,
      base:
        t['with'] !== null && typeof t['with'] === 'object' && !Array.isArray(t['with'])
          ? (t['with'] as Record<string, unknown>)
          : {},
      validator: new Validator(parameters as Schema, '2020-12', false),
    };
  });
}

/** The first round's `tool_choice` in OpenAI's shape (a tool name forces that tool). */
function choiceOf(raw: unknown, tools: ToolDef[]): Choice {
  if (raw === undefined || raw === 'auto' || raw === 'none' || raw === 'required')
    return raw as Choice;
  const name =
    typeof raw === 'string'
      ? raw
      : (raw as { function?: { name?: unknown } } | null)?.function?.name;
  if (typeof name === 'string' && tools.some((t) => t.name === name))
    return { type: 'function', function: { name } };
  throw new StructuredOutputError(
    'VALIDATION',
    `tool_choice must be auto, none, required or one of the tools (${tools.map((t) => t.name).join(', ')})`,
  );
}

type ToolLoopOptions = {
  signal?: AbortSignal;
  emit: (event: WorkflowEvent) => void;
  limits: EngineLimits;
};

/** A model's reply in the loop, as far as the loop reads it. */
interface ModelReply {
  content?: unknown;
  tool_calls?: unknown;
  usage?: Record<string, number>;
  finish_reason?: unknown;
}

/** One `llm.tools` node's loop: what it sends the model, and what it has gathered so far. */
interface Loop {
  node: string;
  state: Record<string, unknown>;
  tools: ToolDef[];
  /** The tools in OpenAI's shape, as the model is given them. */
  openaiTools: {
    type: 'function';
    function: { name: string; description: string; parameters: Schema & object };
  }[];
  /** The node's other parameters (model, max_tokens, temperature, ...), passed on as they are. */
  sampling: Record<string, unknown>;
  /** The conversation (one array, extended round by round, as the model is given it). */
  messages: Message[];
  choice: Choice;
  maxRounds: number;
  calls: { id: string; name: string; arguments: unknown }[];
  results: { tool_call_id: string; name: string; result: string }[];
  rounds: number;
  usage: Record<string, number> | undefined;
}

/** The loop of a node from its parameters: tools, first `tool_choice`, opening messages. */
function startLoop(
  params: Record<string, unknown>,
  state: Record<string, unknown>,
  node: string,
): Loop {
  const {
    tools: rawTools,
    tool_choice: rawChoice,
    max_tool_rounds: rawRounds,
    prompt,
    system,
    messages: rawMessages,
    ...sampling
  } = params;
  const tools = toolsOf(rawTools);
  const choice = choiceOf(rawChoice, tools);
  const maxRounds = rawRounds === undefined ? 10 : Number(rawRounds);
  const messages: Message[] = [];
  if (typeof system === 'string') messages.push({ role: 'system', content: system });
  if (Array.isArray(rawMessages)) messages.push(...(rawMessages as LlmMessage[]));
  else if (typeof prompt === 'string') messages.push({ role: 'user', content: prompt });
  const openaiTools = tools.map((t) => ({
    type: 'function' as const,
    function: { name: t.name, description: t.description, parameters: t.parameters },
  }));
  return {
    node,
    state,
    tools,
    openaiTools,
    sampling,
    messages,
    choice,
    maxRounds,
    calls: [],
    results: [],
    rounds: 0,
    usage: undefined,
  };
}

/** One round's call of the model with the conversation so far and the tools. */
async function askModel(
  loop: Loop,
  llm: LlmHandler,
  options: ToolLoopOptions,
): Promise<ModelReply> {
  const request = {
    ...loop.sampling,
    kind: 'call',
    messages: loop.messages as LlmMessage[],
    tools: loop.openaiTools,
    ...(loop.choice !== undefined ? { tool_choice: loop.choice } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    onPromptProgress: (p: { processed: number; total: number; cached: number }) =>
      options.emit(promptProgressEvent(loop.node, p)),
  } as LlmRequest;
  return (await raceAbort(
    Promise.resolve().then(() => llm(request)),
    options.signal,
    'the run was aborted',
  )) as ModelReply;
}

/** The node's result when the model answered without a tool call. */
function answered(loop: Loop, reply: ModelReply, cut: boolean): Record<string, unknown> {
  return {
    content: typeof reply?.content === 'string' ? reply.content : '',
    tool_calls: loop.calls,
    tool_results: loop.results,
    rounds: loop.rounds,
    ...(cut ? { finish_reason: 'length' } : {}),
    ...(loop.usage ? { usage: loop.usage } : {}),
  };
}

/** The node's result when the model still called tools after `max_tool_rounds`. */
function outOfRounds(loop: Loop, options: ToolLoopOptions): Record<string, unknown> {
  options.emit({
    type: 'warning',
    node: loop.node,
    message: `the model still called tools after max_tool_rounds (${loop.maxRounds}); the node ends with no answer`,
  });
  return {
    content: '',
    tool_calls: loop.calls,
    tool_results: loop.results,
    rounds: loop.rounds,
    warning: `Max tool rounds (${loop.maxRounds}) reached`,
    ...(loop.usage ? { usage: loop.usage } : {}),
  };
}

/** A tool call's id, name and arguments (undefined when they are not JSON). */
function readCall(call: ToolCall, loop: Loop): { id: string; name: string; args: unknown } {
  const name = String(call?.function?.name ?? '');
  const id = String(call?.id ?? `call_${loop.rounds}_${loop.calls.length}`);
  let args: unknown;
  try {
    args = JSON.parse(String(call?.function?.arguments ?? '{}'));
  } catch {
    args = undefined;
  }
  return { id, name, args };
}

/** Runs a tool's action on arguments that match its parameters; a failure is the result. */
async function runTool(
  tool: ToolDef,
  name: string,
  args: unknown,
  state: Record<string, unknown>,
  options: ToolLoopOptions,
): Promise<{ result: string; failed: boolean }> {
  try {
    const action = actionNamed(tool.action)!;
    const value = await raceAbort(
      Promise.resolve().then(() =>
        action({ ...tool.base, ...(args as Record<string, unknown>) }, state),
      ),
      options.signal,
      'the run was aborted',
    );
    const result = toJsonText(
      value ?? null,
      `the result of tool '${name}' (action '${tool.action}')`,
      options.limits,
    );
    return { result, failed: false };
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ABORTED') throw error;
    return {
      result: JSON.stringify({ error: (error as Error)?.message ?? String(error) }),
      failed: true,
    };
  }
}

/** What a tool call gets back: the tool's result, or an error message naming what was wrong. */
async function toolOutcome(
  loop: Loop,
  name: string,
  args: unknown,
  options: ToolLoopOptions,
): Promise<{ result: string; failed: boolean }> {
  const tool = loop.tools.find((t) => t.name === name);
  const error = (message: string) => ({ result: JSON.stringify({ error: message }), failed: true });
  if (!tool)
    return error(
      `unknown tool '${name}'; the tools are ${loop.tools.map((t) => t.name).join(', ')}`,
    );
  if (args === undefined) return error('the arguments are not JSON');
  const mismatch = schemaMismatch(tool.validator, args);
  if (mismatch)
    return error(
      `the arguments do not match ${name}'s parameters at ${mismatch.instanceLocation}: ${mismatch.error}`,
    );
  return runTool(tool, name, args, loop.state, options);
}

/** One tool call of a round: recorded, run, its result recorded and added to the conversation. */
async function answerCall(loop: Loop, call: ToolCall, options: ToolLoopOptions): Promise<void> {
  const { node, rounds: round } = loop;
  const { id, name, args } = readCall(call, loop);
  loop.calls.push({ id, name, arguments: args ?? null });
  options.emit({ type: 'tool_call', node, round, id, name, arguments: args ?? null });
  const { result, failed } = await toolOutcome(loop, name, args, options);
  loop.results.push({ tool_call_id: id, name, result });
  options.emit({ type: 'tool_result', node, round, id, name, result, ok: !failed });
  loop.messages.push({ role: 'tool', content: result, tool_call_id: id });
}

/** Runs the tool loop of one `llm.tools` node. */
export async function runToolLoop(
  params: Record<string, unknown>,
  state: Record<string, unknown>,
  node: string,
  llm: LlmHandler,
  options: ToolLoopOptions,
): Promise<Record<string, unknown>> {
  const loop = startLoop(params, state, node);
  while (loop.rounds < loop.maxRounds) {
    const reply = await askModel(loop, llm, options);
    if (reply?.usage) loop.usage = reply.usage;
    const toolCalls = (Array.isArray(reply?.tool_calls) ? reply.tool_calls : []) as ToolCall[];
    const cut = reply?.finish_reason === 'length';
    const budget = String(loop.sampling['max_tokens'] ?? 'default');
    // A call cut off by max_tokens cannot run (OpenAI reports it as tool_calls with
    // finish_reason 'length'); a reply cut off is text, as an llm.call's is.
    if (cut && toolCalls.length > 0)
      throw new StructuredOutputError(
        'LLM_OUTPUT_INVALID',
        `the model's tool call was cut off at max_tokens (${budget}) before it was complete; raise max_tokens`,
      );
    if (toolCalls.length === 0) {
      if (cut)
        options.emit({
          type: 'warning',
          node,
          message: `the model's reply was cut off at max_tokens (${budget}); raise max_tokens for a longer answer`,
        });
      return answered(loop, reply, cut);
    }
    loop.rounds++;
    // A forced or required choice holds for the first round; then the model may answer.
    loop.choice = loop.choice === 'none' ? 'none' : 'auto';
    loop.messages.push({
      role: 'assistant',
      content: typeof reply.content === 'string' ? reply.content : '',
      tool_calls: toolCalls,
    } as unknown as LlmMessage);
    for (const call of toolCalls) await answerCall(loop, call, options);
  }
  return outOfRounds(loop, options);
}
