import * as glue from './wasm-glue.js';
import { CoreWasmError } from './errors.js';
import { call, engineFacts, unwrap } from './instance.js';
import { assertString, toJsonText } from './json-boundary.js';
import { actionNames } from './registry.js';
import type { RunOptions, ValidationProblem, WorkflowState } from './types.js';
import { Workflow } from './workflow.js';

/**
 * Parses, validates and runs a workflow; resolves to the final state. `initialState` may be an
 * object, or a JSON string (then the result is a JSON string too).
 * @throws {CoreWasmError} with `code`, `node`, `line` and `column` where known.
 */
export function executeYaml(
  yaml: string,
  initialState: string,
  options?: RunOptions,
): Promise<string>;
export function executeYaml<S extends WorkflowState = WorkflowState>(
  yaml: string,
  initialState?: WorkflowState,
  options?: RunOptions,
): Promise<S>;
export async function executeYaml(
  yaml: string,
  initialState: WorkflowState | string = {},
  options: RunOptions = {},
): Promise<unknown> {
  assertString(yaml, 'executeYaml(yaml): yaml');
  const workflow = Workflow.parse(yaml);
  try {
    // Workflow.run takes a state or a JSON string, as this function does.
    return await workflow.run(initialState as WorkflowState, options);
  } finally {
    workflow.free();
  }
}

/** Every problem in a workflow (errors and warnings, with line and column), without running it. */
export function validateYaml(yaml: string): ValidationProblem[] {
  assertString(yaml, 'validateYaml(yaml): yaml');
  const actions = JSON.stringify(actionNames());
  return unwrap<{ problems: ValidationProblem[] }>(
    call(() => glue.validate_yaml(yaml, actions), { what: 'validating a workflow' }),
  ).problems;
}

/**
 * Renders a template over `state` and `variables`. A template that is exactly one
 * `{{ expression }}` yields the expression's typed value.
 * @throws {CoreWasmError} `TEMPLATE` naming the expression; `TEMPLATE_BUDGET`, `TOO_LARGE`,
 *   `TOO_DEEP` over the limits; `INVALID_ARGUMENT` for arguments that are not JSON.
 */
export function renderTemplate(
  template: string,
  state: WorkflowState = {},
  variables: Record<string, unknown> = {},
): unknown {
  assertString(template, 'renderTemplate(template): template');
  const { limits } = engineFacts();
  const s = toJsonText(state, 'the state', limits);
  const v = toJsonText(variables, 'the variables', limits);
  if (template.length > limits.maxJsonBytes)
    throw new CoreWasmError(
      'TOO_LARGE',
      `the template is larger than ${limits.maxJsonBytes} bytes`,
    );
  return unwrap<{ value: unknown }>(
    call(() => glue.render_template(template, s, v), { what: 'rendering a template' }),
  ).value;
}
