import * as glue from './wasm-glue.js';
import { CoreWasmError } from './errors.js';
import { call, currentGeneration, unwrap } from './instance.js';
import { assertString, typeName } from './json-boundary.js';
import { actionNames } from './registry.js';
import { runWorkflow, type RunEnd } from './run.js';
import type {
  Checkpoint,
  RunOptions,
  RunResult,
  ValidationProblem,
  WorkflowState,
} from './types.js';

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

  /**
   * Runs on an initial state (an object, or a JSON string: then the result is one too) and
   * resolves to the final state.
   * @throws {CoreWasmError} `INTERRUPTED` (with `checkpoint`) when the run stops at an
   *   `interrupt_before` / `interrupt_after` node: use `invoke` for workflows that interrupt.
   */
  run(state: string, options?: RunOptions): Promise<string>;
  run<S extends WorkflowState = WorkflowState>(
    state?: WorkflowState,
    options?: RunOptions,
  ): Promise<S>;
  async run(state: WorkflowState | string = {}, options: RunOptions = {}): Promise<unknown> {
    const end = await runWorkflow({ id: () => this.#currentId() }, state, options);
    if (end.interrupted) {
      const result = this.#result(end);
      const error = new CoreWasmError(
        'INTERRUPTED',
        `the run stopped ${end.interrupted.when} node '${end.interrupted.node}' (interrupt_${end.interrupted.when}); continue it with workflow.resume(error.checkpoint), or run it with workflow.invoke()`,
        { node: end.interrupted.node },
      );
      if (result.status === 'interrupted') error.checkpoint = result.checkpoint;
      throw error;
    }
    return end.state;
  }

  /**
   * Runs on an initial state to its end or to an interrupt (`interrupt_before` /
   * `interrupt_after`, as upstream). An interrupted result carries a JSON checkpoint for `resume`.
   */
  async invoke<S extends WorkflowState = WorkflowState>(
    state: WorkflowState = {},
    options: RunOptions = {},
  ): Promise<RunResult<S>> {
    const end = await runWorkflow({ id: () => this.#currentId() }, state, options);
    return this.#result(end) as RunResult<S>;
  }

  /**
   * Continues an interrupted run from its checkpoint (from this workflow, possibly after a
   * `JSON.stringify` round trip), with `stateUpdates` merged over the checkpoint's state (as
   * upstream's resume with a state update). A run resumed before a node runs that node; after a
   * node, it continues with the next one.
   * @throws {CoreWasmError} `INVALID_ARGUMENT` for a checkpoint that is not one of this workflow.
   */
  async resume<S extends WorkflowState = WorkflowState>(
    checkpoint: Checkpoint,
    stateUpdates: WorkflowState = {},
    options: RunOptions = {},
  ): Promise<RunResult<S>> {
    const c = checkpoint as Partial<Checkpoint> | null;
    const bad = (why: string) =>
      new CoreWasmError('INVALID_ARGUMENT', `Workflow.resume(checkpoint): ${why}`);
    // What a field holds, safely (a hostile object may not convert to text).
    const shown = (v: unknown) =>
      typeof v === 'string'
        ? JSON.stringify(v.slice(0, 100))
        : typeof v === 'number'
          ? String(v)
          : typeName(v);
    if (c === null || typeof c !== 'object') throw bad('the checkpoint must be an object');
    if (c.version !== 1) throw bad(`unknown checkpoint version ${shown(c.version)}`);
    if (c.when !== 'before' && c.when !== 'after')
      throw bad(`when must be 'before' or 'after', got ${shown(c.when)}`);
    if (typeof c.node !== 'string' || !this.#parsed.nodeNames.includes(c.node))
      throw bad(`node ${shown(c.node)} is not a node of workflow '${this.name}'`);
    if (c.workflow !== this.name)
      throw bad(`it is from workflow ${shown(c.workflow)}, not '${this.name}'`);
    if (c.state === null || typeof c.state !== 'object' || Array.isArray(c.state))
      throw bad('state must be an object');
    if (stateUpdates === null || typeof stateUpdates !== 'object' || Array.isArray(stateUpdates))
      throw new CoreWasmError(
        'INVALID_ARGUMENT',
        'Workflow.resume: stateUpdates must be an object',
      );
    const end = await runWorkflow(
      { id: () => this.#currentId() },
      { ...c.state, ...stateUpdates },
      options,
      { node: c.node, when: c.when },
    );
    return this.#result(end) as RunResult<S>;
  }

  #result(end: RunEnd): RunResult {
    const state = end.state as WorkflowState;
    if (!end.interrupted) return { status: 'completed', state };
    const { node, when } = end.interrupted;
    const checkpoint: Checkpoint = {
      version: 1,
      workflow: this.name,
      node,
      when,
      state: structuredClone(state),
    };
    return { status: 'interrupted', node, when, state, checkpoint };
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
