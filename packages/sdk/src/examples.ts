import conditionalRouting from '@the-edge-agent/core-wasm/examples/conditional-routing.yaml';
import embedding from '@the-edge-agent/core-wasm/examples/embedding.yaml';
import gotoLoop from '@the-edge-agent/core-wasm/examples/goto-loop.yaml';
import jsonExtraction from '@the-edge-agent/core-wasm/examples/json-extraction.yaml';
import parallelFanOut from '@the-edge-agent/core-wasm/examples/parallel-fan-out.yaml';
import simpleChat from '@the-edge-agent/core-wasm/examples/simple-chat.yaml';
import toolAgent from '@the-edge-agent/core-wasm/examples/tool-agent.yaml';
import type { ActionHandler } from '@the-edge-agent/core-wasm';

/** An example workflow with a state to start it from. */
export interface ExampleWorkflow {
  /** Stable key: the engine example's file name, e.g. `simple-chat`. */
  id: string;
  /** What it does, in a few words (what a menu shows). */
  name: string;
  /** One sentence on what the workflow does and which engine feature it shows. */
  description: string;
  /** The YAML, starting with a comment that says what it does. */
  yaml: string;
  state: Record<string, unknown>;
}

/** The YAML with its leading comment replaced by `comment` (the corpus' own notes are for engine developers). */
function described(yaml: string, comment: string): string {
  const body = yaml.replace(/^(#.*\n)+/, '');
  return `${comment
    .split('\n')
    .map((line) => `# ${line}`)
    .join('\n')}\n${body}`;
}

const example = (
  id: string,
  name: string,
  description: string,
  yaml: string,
  state: Record<string, unknown>,
): ExampleWorkflow => ({ id, name, description, yaml: described(yaml, description), state });

/** The engine's example corpus (documented in core-wasm's `examples/`), ready to run, named for what each does. */
export const exampleWorkflows: ExampleWorkflow[] = [
  example(
    'simple-chat',
    'Answer a question',
    'Answers the question in the state with one model call, streaming the reply.',
    simpleChat,
    { question: 'What is a tea ceremony?' },
  ),
  example(
    'conditional-routing',
    'Short or long reply, by message length',
    'Measures the message, then a conditional edge picks a one-word reply or a careful explanation.',
    conditionalRouting,
    { message: 'hi' },
  ),
  example(
    'goto-loop',
    'Rewrite a draft three times',
    'Drafts a text, then a goto loops back to the draft node until three rounds are done.',
    gotoLoop,
    { topic: 'green tea' },
  ),
  example(
    'parallel-fan-out',
    'Pros and cons, side by side',
    'Asks for the pros and the cons in parallel branches, then joins both answers.',
    parallelFanOut,
    { topic: 'WebAssembly' },
  ),
  example(
    'embedding',
    'Turn a text into a vector',
    'Embeds the text with the model and reports the vector length.',
    embedding,
    { text: 'hello world' },
  ),
  example(
    'json-extraction',
    'Extract trip details as JSON',
    'Pulls city, days and travel mode out of a sentence as JSON that always matches the schema.',
    jsonExtraction,
    { text: 'Three days in Lisbon, by train from Porto' },
  ),
  example(
    'tool-agent',
    'Calculator agent with tools',
    'The model may call JavaScript tools (a calculator, a clock); each call and result is shown.',
    toolAgent,
    { question: 'What is 6 times 7?' },
  ),
];

/**
 * The JavaScript tools `tool-agent.yaml` calls: register them (`registerAction(name, fn)`) after
 * the engine started (`initTeaLlm` / `createTea`) and before running it.
 */
export const exampleActions: Record<string, ActionHandler> = {
  'calc.evaluate': (params) => {
    const a = Number(params['a']);
    const b = Number(params['b']);
    const op = String(params['op']);
    const result = op === 'add' ? a + b : op === 'sub' ? a - b : op === 'mul' ? a * b : a / b;
    return { result };
  },
  'clock.now': () => ({ iso: new Date().toISOString() }),
};
