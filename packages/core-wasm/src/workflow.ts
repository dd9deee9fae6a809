import * as wasm from '../wasm/tea_core.js';
import { toCoreWasmError } from './errors.js';
import { assertInitialized } from './init.js';
import type { RunOptions, ValidationProblem, WorkflowState } from './types.js';

/** A parsed and validated workflow: compile once, run many times. */
export class Workflow {
  private constructor(private readonly inner: wasm.Workflow) {}

  /**
   * Parses and validates YAML.
   * @throws {CoreWasmError} the first problem (`YAML_PARSE`, `VALIDATION`, `UNKNOWN_NODE`,
   *   `UNKNOWN_ACTION`, ...) with its line and column; `validateYaml` lists them all.
   */
  static parse(yaml: string): Workflow {
    assertInitialized();
    try {
      return new Workflow(wasm.Workflow.parse(yaml));
    } catch (error) {
      throw toCoreWasmError(error);
    }
  }

  /** The workflow's `name`. */
  get name(): string {
    return this.inner.name;
  }

  /** Node names in written order. */
  get nodeNames(): string[] {
    return this.inner.nodeNames as string[];
  }

  /** Warnings found when parsing (unknown keys with "did you mean"). */
  get warnings(): ValidationProblem[] {
    return this.inner.warnings as ValidationProblem[];
  }

  /** Runs on an initial state (an object, or a JSON string: then the result is one too). */
  run(state: string, options?: RunOptions): Promise<string>;
  run<S extends WorkflowState = WorkflowState>(
    state?: WorkflowState,
    options?: RunOptions,
  ): Promise<S>;
  async run(state: WorkflowState | string = {}, options: RunOptions = {}): Promise<unknown> {
    try {
      return await this.inner.run(state, options);
    } catch (error) {
      throw toCoreWasmError(error);
    }
  }

  /** Frees the wasm memory of this workflow. */
  free(): void {
    this.inner.free();
  }
}
