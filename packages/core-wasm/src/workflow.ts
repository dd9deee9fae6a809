import * as glue from '../wasm/tea_core.js';
import { CoreWasmError } from './errors.js';
import { call, currentGeneration, unwrap } from './instance.js';
import { assertString } from './json-boundary.js';
import { actionNames } from './registry.js';
import { runWorkflow } from './run.js';
import type { RunOptions, ValidationProblem, WorkflowState } from './types.js';

interface Parsed {
  id: number;
  name: string;
  nodeNames: string[];
  warnings: ValidationProblem[];
}

/** Parses `yaml` in the current engine instance. */
function parseIn(yaml: string, actions: string[]): Parsed {
  return unwrap<Parsed>(
    call(() => glue.workflow_parse(yaml, JSON.stringify(actions)), { what: 'parsing a workflow' }),
  );
}

// Frees the engine's copy when a Workflow is garbage-collected without `free()`; an id from an
// instance that has since been replaced is left alone (that instance is gone).
const finalizer = new FinalizationRegistry<{ id: number; generation: number }>(
  ({ id, generation }) => {
    try {
      if (generation === currentGeneration()) glue.workflow_free(id);
    } catch {
      // Nothing to free.
    }
  },
);

/** A parsed and validated workflow: compile once, run many times. */
export class Workflow {
  #id: number;
  #generation: number;
  #freed = false;
  readonly #yaml: string;
  readonly #actions: string[];
  readonly #parsed: Parsed;

  private constructor(yaml: string, actions: string[], parsed: Parsed) {
    this.#yaml = yaml;
    this.#actions = actions;
    this.#parsed = parsed;
    this.#id = parsed.id;
    this.#generation = currentGeneration();
    finalizer.register(this, { id: this.#id, generation: this.#generation }, this);
  }

  /**
   * Parses and validates YAML.
   * @throws {CoreWasmError} the first problem (`YAML_PARSE`, `VALIDATION`, `UNKNOWN_NODE`,
   *   `UNKNOWN_ACTION`, `TOO_LARGE`, `TOO_DEEP`, ...) with its line and column; `validateYaml`
   *   lists them all. `INVALID_ARGUMENT` when `yaml` is not a string.
   */
  static parse(yaml: string): Workflow {
    assertString(yaml, 'Workflow.parse(yaml): yaml');
    const actions = actionNames();
    return new Workflow(yaml, actions, parseIn(yaml, actions));
  }

  /** The workflow's `name`. */
  get name(): string {
    return this.#parsed.name;
  }

  /** Node names in written order. */
  get nodeNames(): string[] {
    return [...this.#parsed.nodeNames];
  }

  /** Warnings found when parsing (unknown keys with "did you mean"). */
  get warnings(): ValidationProblem[] {
    return this.#parsed.warnings.map((w) => ({ ...w }));
  }

  /** The id in the current engine instance; after a restart the YAML is parsed there again. */
  #currentId(): number {
    if (this.#freed)
      throw new CoreWasmError(
        'INVALID_ARGUMENT',
        'this Workflow was freed: parse the YAML again with Workflow.parse',
      );
    const generation = currentGeneration();
    if (generation !== this.#generation) {
      this.#id = parseIn(this.#yaml, this.#actions).id;
      this.#generation = generation;
      finalizer.unregister(this);
      finalizer.register(this, { id: this.#id, generation }, this);
    }
    return this.#id;
  }

  /** Runs on an initial state (an object, or a JSON string: then the result is one too). */
  run(state: string, options?: RunOptions): Promise<string>;
  run<S extends WorkflowState = WorkflowState>(
    state?: WorkflowState,
    options?: RunOptions,
  ): Promise<S>;
  async run(state: WorkflowState | string = {}, options: RunOptions = {}): Promise<unknown> {
    return runWorkflow({ id: () => this.#currentId() }, state, options);
  }

  /** Frees the engine's copy of this workflow; later runs fail with `INVALID_ARGUMENT`. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    finalizer.unregister(this);
    if (this.#generation === currentGeneration()) {
      const id = this.#id;
      call(() => glue.workflow_free(id), { what: 'freeing a workflow' });
    }
  }
}
