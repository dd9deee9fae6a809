import { CoreWasmError, fromEngineError, type EngineErrorJson } from './errors.js';
import {
  call,
  currentGeneration,
  engineFacts,
  onTrap,
  unwrap,
  type EngineLimits,
} from './instance.js';
import { assertFunction, toJsonText, typeName } from './json-boundary.js';
import { redactDeep, redactor, type Redact } from './redact.js';
import { actionNames, defaultLlmHandler } from './registry.js';
import { reportListenerError, serve, type Reply, type Request } from './serve.js';
import type { LlmHandler, RunOptions, WorkflowEvent } from './types.js';
import * as glue from './wasm-glue.js';
import { yieldToEventLoop } from './yield-to-event-loop.js';

export type { Redact } from './redact.js';

/** Where an interrupted run stopped (and where a resumed one continues). */
type Interrupt = { node: string; when: 'before' | 'after' };

/** What one `run_poll` answers: events, then the end of the run or requests to serve. */
type Step =
  | {
      done: true;
      events: WorkflowEvent[];
      state?: unknown;
      error?: EngineErrorJson;
      interrupted?: Interrupt;
    }
  | { done?: false; events: WorkflowEvent[]; requests: Request[]; yield: boolean };

/** The parsed workflow a run starts from: its id in the current engine instance. */
export interface RunTarget {
  /** The workflow's id in the current instance (re-parsed there after a restart). */
  id(): number;
}

function checkOptions(options: unknown): RunOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object')
    throw new CoreWasmError(
      'INVALID_ARGUMENT',
      `run options must be an object, got ${typeName(options)}`,
    );
  const o = options as RunOptions;
  if (o.onEvent !== undefined) assertFunction(o.onEvent, 'RunOptions.onEvent');
  if (o.llmHandler !== undefined && o.llmHandler !== null)
    assertFunction(o.llmHandler, 'RunOptions.llmHandler');
  if (
    o.signal !== undefined &&
    (typeof o.signal !== 'object' ||
      o.signal === null ||
      typeof o.signal.addEventListener !== 'function')
  )
    throw new CoreWasmError(
      'INVALID_ARGUMENT',
      `RunOptions.signal must be an AbortSignal, got ${typeName(o.signal)}`,
    );
  if (o.max_steps !== undefined && !(Number.isSafeInteger(o.max_steps) && o.max_steps > 0))
    throw new CoreWasmError(
      'INVALID_ARGUMENT',
      `RunOptions.max_steps must be a positive integer, got ${String(o.max_steps)}`,
    );
  if (o.secrets !== undefined) {
    if (typeof o.secrets !== 'object' || o.secrets === null || Array.isArray(o.secrets))
      throw new CoreWasmError(
        'INVALID_ARGUMENT',
        `RunOptions.secrets must be an object of strings, got ${typeName(o.secrets)}`,
      );
    for (const [k, v] of Object.entries(o.secrets))
      if (typeof v !== 'string')
        throw new CoreWasmError(
          'INVALID_ARGUMENT',
          `RunOptions.secrets.${k} must be a string, got ${typeName(v)}`,
        );
  }
  if (
    o.variables !== undefined &&
    (typeof o.variables !== 'object' || o.variables === null || Array.isArray(o.variables))
  )
    throw new CoreWasmError(
      'INVALID_ARGUMENT',
      `RunOptions.variables must be an object, got ${typeName(o.variables)}`,
    );
  return o;
}

/** How a run ended: its final state (JSON text when it started from text), and the interrupt. */
export interface RunEnd {
  state: unknown;
  interrupted?: Interrupt;
}

/** The initial state as JSON text: a string is taken as JSON text already (its size checked). */
function initialStateText(state: unknown, limits: EngineLimits): string {
  if (typeof state === 'string') {
    if (state.length > limits.maxJsonBytes)
      throw new CoreWasmError(
        'TOO_LARGE',
        `the initial state is larger than ${limits.maxJsonBytes} bytes of JSON`,
      );
    return state;
  }
  return toJsonText(state ?? {}, 'the initial state', limits);
}

/** The options `run_start` reads, as JSON text. */
function runOptionsText(
  options: RunOptions,
  limits: EngineLimits,
  resume: Interrupt | undefined,
): string {
  return JSON.stringify({
    ...(options.max_steps !== undefined ? { max_steps: options.max_steps } : {}),
    variables: JSON.parse(
      toJsonText(options.variables ?? {}, 'RunOptions.variables', limits),
    ) as unknown,
    ...(options.secrets ? { secrets: options.secrets } : {}),
    ...(resume ? { resume } : {}),
    actions: actionNames(),
  });
}

/** A run started in the engine, and what serving and ending it needs. */
interface StartedRun {
  /** The run's id in the engine instance of `generation`. */
  run: number;
  generation: number;
  options: RunOptions;
  llm: LlmHandler | null;
  redact: Redact | undefined;
  /** The run started from JSON text, so it ends with JSON text. */
  asText: boolean;
}

/**
 * Runs a parsed workflow: starts it in the engine, then polls it, serving its requests and
 * yielding to the event loop whenever the engine used up its slice of work, until it ends, stops
 * at an interrupt, fails or the signal aborts. `resume` continues an interrupted run.
 */
export async function runWorkflow(
  target: RunTarget,
  state: unknown,
  rawOptions: unknown,
  resume?: Interrupt,
): Promise<RunEnd> {
  const options = checkOptions(rawOptions);
  const { limits } = engineFacts();
  const asText = typeof state === 'string';
  const stateText = initialStateText(state, limits);
  const optionsText = runOptionsText(options, limits, resume);
  const redact = redactor(options.secrets);
  const signal = options.signal;
  if (signal?.aborted)
    throw new CoreWasmError('ABORTED', 'the run was aborted before it started', {
      cause: signal.reason,
    });
  const llm = options.llmHandler ?? defaultLlmHandler();
  const workflow = target.id();
  const generation = currentGeneration();
  const { run } = unwrap<{ run: number }>(
    call(() => glue.run_start(workflow, stateText, optionsText), { what: 'starting a run' }),
  );
  return new Promise<RunEnd>((resolve, reject) => {
    new PolledRun({ run, generation, options, llm, redact, asText }, resolve, reject).start();
  });
}

/**
 * One run in flight: polls the engine, serves the requests it hands out (concurrently; each
 * reply wakes the poll), forwards its events, and settles once: at its end, at an interrupt, on
 * an error, an abort, or a trap of the engine instance.
 */
class PolledRun {
  readonly #started: StartedRun;
  readonly #resolve: (end: RunEnd) => void;
  readonly #reject: (error: unknown) => void;
  #settled = false;
  /** The node running now and its step (from `node_start` events): aborts and errors name it. */
  #node: string | undefined;
  #step = 0;
  /** Wakes the poll loop while it waits for a reply. */
  #wake: (() => void) | undefined;
  #delivered = 0;
  /** While this run is inside the engine, a trap is its own and reaches it as the thrown error. */
  #inside = false;
  /**
   * What handlers and actions threw: a run that fails on one keeps it as its error's `cause`
   * (with its own `code`, e.g. a remote endpoint's, which the engine reports as ACTION_FAILED).
   */
  readonly #thrown: unknown[] = [];
  #stopListening: () => void = () => undefined;

  constructor(
    started: StartedRun,
    resolve: (end: RunEnd) => void,
    reject: (error: unknown) => void,
  ) {
    this.#started = started;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** Listens for traps and the abort signal, then polls until the run settles. */
  start(): void {
    this.#stopListening = onTrap(() => this.#onTrap());
    this.#started.options.signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#loop().catch((error: unknown) => this.#finish(error));
  }

  /** Whether the engine instance this run lived in was replaced (after a trap). */
  #stale(): boolean {
    return this.#started.generation !== currentGeneration();
  }

  /** Calls into the engine for this run (a trap names the node running). */
  #guarded<T>(work: () => T, what: string): T {
    this.#inside = true;
    try {
      return call(work, { what, ...(this.#node ? { node: this.#node } : {}) });
    } finally {
      this.#inside = false;
    }
  }

  /** A trap in another call ended the instance this run waits in. */
  #onTrap(): void {
    const node = this.#node;
    if (!this.#inside)
      this.#finish(
        new CoreWasmError(
          'WASM_TRAPPED',
          `the TEA engine trapped in another call while this run was waiting${node ? ` in node '${node}'` : ''}; the run ended, run it again`,
          node ? { node } : undefined,
        ),
      );
  }

  /** Hands an event to `onEvent` (redacted; a throwing listener is reported, not fatal). */
  readonly #emit = (raw: WorkflowEvent): void => {
    const { redact, options } = this.#started;
    const event = redact ? (redactDeep(raw, redact) as WorkflowEvent) : raw;
    if (event.type === 'node_start') {
      this.#node = event.node;
      this.#step = event.step;
    }
    if (!options.onEvent) return;
    try {
      options.onEvent(event);
    } catch (error) {
      reportListenerError(error);
    }
  };

  /** Settles the run once: stops listening, frees it in the engine, resolves or rejects. */
  #finish(error: unknown, value?: RunEnd): void {
    if (this.#settled) return;
    const { redact, options, run } = this.#started;
    if (redact && error instanceof CoreWasmError && error.message !== redact(error.message))
      error = new CoreWasmError(error.code, redact(error.message), error);
    this.#settled = true;
    this.#stopListening();
    options.signal?.removeEventListener('abort', this.#onAbort);
    if (!this.#stale()) {
      try {
        glue.run_free(run);
      } catch {
        // Freeing a finished run cannot fail; a trap here is seen by the next call.
      }
    }
    this.#wake?.();
    if (error) this.#reject(error);
    else this.#resolve(value ?? { state: undefined });
  }

  readonly #onAbort = (): void => {
    const node = this.#node;
    const message = `the run was aborted${node ? ` in node '${node}'` : ''}`;
    if (node) this.#emit({ type: 'error', node, step: this.#step, code: 'ABORTED', message });
    this.#finish(
      new CoreWasmError('ABORTED', message, {
        cause: this.#started.options.signal?.reason,
        ...(node ? { node } : {}),
      }),
    );
  };

  /** Gives a served request's reply to the engine and wakes the poll loop. */
  #deliver(id: number, reply: Reply): void {
    if (this.#settled || this.#stale()) return;
    if (!reply.ok && reply.error !== undefined) this.#thrown.push(reply.error);
    const { run } = this.#started;
    try {
      this.#guarded(() => glue.run_reply(run, id, reply.ok, reply.text), 'taking a reply');
    } catch (error) {
      this.#finish(error);
      return;
    }
    this.#delivered++;
    this.#wake?.();
  }

  /** The run's end as the engine reports it: its error (with the cause thrown), else its state. */
  #end(out: Extract<Step, { done: true }>): void {
    if (out.error) {
      const message = out.error.message;
      const cause = this.#thrown.find((e) => {
        const m = (e as { message?: unknown } | null)?.message;
        return typeof m === 'string' && m !== '' && message.includes(m);
      });
      this.#finish(fromEngineError(out.error, cause));
      return;
    }
    const { redact, asText } = this.#started;
    const final = redact ? redactDeep(out.state, redact) : out.state;
    this.#finish(undefined, {
      state: asText ? JSON.stringify(final) : final,
      ...(out.interrupted ? { interrupted: out.interrupted } : {}),
    });
  }

  /** Polls until the run settles: each poll's requests are served, replies wake the next. */
  async #loop(): Promise<void> {
    const { run, llm, options } = this.#started;
    while (!this.#settled) {
      if (this.#stale()) {
        this.#finish(
          new CoreWasmError(
            'WASM_TRAPPED',
            'the TEA engine was restarted after a trap in another call, which ended this run; run it again',
          ),
        );
        return;
      }
      const seen = this.#delivered;
      const out = JSON.parse(
        this.#guarded(() => glue.run_poll(run), 'running the workflow'),
      ) as Step;
      for (const event of out.events) this.#emit(event);
      if (this.#settled) return;
      if (out.done) {
        this.#end(out);
        return;
      }
      for (const req of out.requests)
        void serve(req, llm, options, this.#emit).then((reply) => this.#deliver(req.id, reply));
      if (out.yield) {
        await yieldToEventLoop();
        continue;
      }
      if (this.#delivered === seen) await new Promise<void>((r) => (this.#wake = r));
      this.#wake = undefined;
    }
  }
}
