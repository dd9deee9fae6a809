import { CoreWasmError } from './errors.js';
import { engineFacts } from './instance.js';
import { assertFunction, assertString } from './json-boundary.js';
import type { ActionHandler, LlmHandler } from './types.js';

// Actions and the default LLM handler live on this side of the boundary: the engine only learns
// their names, and asks for calls through the run driver (run.ts).
const actions = new Map<string, ActionHandler>();
let defaultLlm: LlmHandler | null = null;

/** Registers an async action that workflows call with `uses: name` (also `lua.eval`, `prolog.query`). */
export function registerAction(name: string, handler: ActionHandler): void {
  assertString(name, 'registerAction(name, handler): name');
  assertFunction(handler, `registerAction('${name}', handler): handler`);
  if (!name.trim())
    throw new CoreWasmError('INVALID_ARGUMENT', 'registerAction needs a non-empty action name');
  if (name.startsWith('__'))
    throw new CoreWasmError(
      'INVALID_ARGUMENT',
      `'${name}': action names starting with '__' are reserved for the engine`,
    );
  if (engineFacts().builtinActions.includes(name))
    throw new CoreWasmError(
      'INVALID_ARGUMENT',
      `'${name}' is a built-in action and cannot be replaced; register your action under another name${name.startsWith('llm.') ? ', or serve LLM calls with setLlmHandler / RunOptions.llmHandler' : ''}`,
    );
  actions.set(name, handler);
}

/** Removes a registered action. */
export function unregisterAction(name: string): void {
  assertString(name, 'unregisterAction(name): name');
  engineFacts();
  actions.delete(name);
}

/** The registered action named `name`. */
export function actionNamed(name: string): ActionHandler | undefined {
  return actions.get(name);
}

/** The names of the registered actions. */
export function actionNames(): string[] {
  return [...actions.keys()];
}

/**
 * Registers the page's default function that serves `llm.call` / `llm.embed` (`null` removes it).
 * A run can bring its own with `RunOptions.llmHandler`.
 */
export function setLlmHandler(handler: LlmHandler | null): void {
  engineFacts();
  if (handler !== null) assertFunction(handler, 'setLlmHandler(handler)');
  defaultLlm = handler;
}

/** The default LLM handler, if one is set. */
export function defaultLlmHandler(): LlmHandler | null {
  return defaultLlm;
}
