import * as wasm from '../wasm/tea_core.js';
import { toCoreWasmError } from './errors.js';
import { assertInitialized } from './init.js';
import type { RunOptions, ValidationProblem, WorkflowState } from './types.js';

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
  assertInitialized();
  try {
    return await wasm.execute_yaml(yaml, initialState, options);
  } catch (error) {
    throw toCoreWasmError(error);
  }
}

/** Every problem in a workflow (errors and warnings, with line and column), without running it. */
export function validateYaml(yaml: string): ValidationProblem[] {
  assertInitialized();
  return wasm.validate_yaml(yaml) as ValidationProblem[];
}

/**
 * Renders a template over `state` and `variables`. A template that is exactly one
 * `{{ expression }}` yields the expression's typed value.
 * @throws {CoreWasmError} `TEMPLATE` naming the expression.
 */
export function renderTemplate(
  template: string,
  state: WorkflowState = {},
  variables: Record<string, unknown> = {},
): unknown {
  assertInitialized();
  try {
    return wasm.render_template(template, state, variables);
  } catch (error) {
    throw toCoreWasmError(error);
  }
}
