import { CoreWasmError } from './errors.js';

/** The limits a value must keep to cross into the engine (owned by the Rust side's `limits`). */
export interface BoundaryLimits {
  maxDepth: number;
  maxJsonBytes: number;
}

interface Frame {
  value: unknown;
  depth: number;
  parent: Frame | undefined;
  key: string | number;
  exit: boolean;
}

/** Longest path quoted in a message; longer ones keep their start and end. */
const PATH_IN_MESSAGE = 120;

/** `what` and, below the root, the path: `the initial state at user.tags[3]`. */
function pathOf(f: Frame | undefined): string {
  const parts: Array<string | number> = [];
  for (let x = f; x?.parent; x = x.parent) parts.push(x.key);
  parts.reverse();
  let root = f;
  while (root?.parent) root = root.parent;
  let path = '';
  for (const p of parts) path += typeof p === 'number' ? `[${p}]` : path ? `.${p}` : p;
  if (path.length > PATH_IN_MESSAGE)
    path = `${path.slice(0, PATH_IN_MESSAGE / 2)}…${path.slice(-PATH_IN_MESSAGE / 2)}`;
  return path ? `${String(root?.key)} at ${path}` : String(root?.key);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v !== 'object') return `a ${typeof v}`;
  const ctor = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor
    ?.name;
  return ctor ? `a ${ctor}` : 'an object';
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The state of one walk over a value on its way to JSON text. */
interface Walk {
  /** The value's name in errors ("the initial state"). */
  what: string;
  limits: BoundaryLimits;
  /** The containers on the path to the frame being visited (a cycle comes back to one). */
  onPath: Set<object>;
  /** The frames still to visit (a container's exit frame sits below its children). */
  stack: Frame[];
  /** The JSON text's length so far, as estimated from what was visited. */
  bytes: number;
  /** Whether a typed array was seen (then the text is written with them as lists). */
  typed: boolean;
}

function tooLarge(w: Walk): CoreWasmError {
  return new CoreWasmError(
    'TOO_LARGE',
    `${w.what} is larger than the engine's limit of ${w.limits.maxJsonBytes} bytes of JSON`,
  );
}

/** The value a frame stands for in JSON: after its `toJSON`, as `JSON.stringify` calls it. */
function jsonValueOf(f: Frame): unknown {
  const v = f.value;
  if (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as { toJSON?: unknown }).toJSON === 'function'
  ) {
    return (v as { toJSON(key: string): unknown }).toJSON(String(f.key));
  }
  return v;
}

/**
 * Counts a scalar (string, boolean, finite number, undefined, null) and answers true; answers
 * false for an object, which is walked. Throws for what JSON cannot hold.
 */
function countScalar(w: Walk, f: Frame, v: unknown): boolean {
  switch (typeof v) {
    case 'string':
      w.bytes += v.length + 2;
      if (w.bytes > w.limits.maxJsonBytes) throw tooLarge(w);
      return true;
    case 'boolean':
      w.bytes += 5;
      return true;
    case 'number':
      if (!Number.isFinite(v))
        throw new CoreWasmError(
          'INVALID_ARGUMENT',
          `${pathOf(f)} is ${v}, which JSON cannot hold: use a finite number or null`,
        );
      w.bytes += 8;
      return true;
    case 'undefined':
      w.bytes += 4;
      return true;
    case 'object':
      if (v !== null) return false;
      w.bytes += 4;
      return true;
    default:
      throw new CoreWasmError(
        'INVALID_ARGUMENT',
        `${pathOf(f)} is a ${typeof v}, which is not JSON data (state, variables and replies must be JSON: objects, arrays, strings, finite numbers, booleans, null)`,
      );
  }
}

/** Counts a typed array (an embedding from another library, often): a list of finite numbers. */
function countTypedArray(w: Walk, f: Frame, obj: ArrayBufferView): void {
  if (obj instanceof BigInt64Array || obj instanceof BigUint64Array)
    throw new CoreWasmError(
      'INVALID_ARGUMENT',
      `${pathOf(f)} is ${typeName(obj)}, which is not JSON data: convert it to numbers first`,
    );
  for (const x of obj as unknown as Iterable<number>)
    if (!Number.isFinite(x))
      throw new CoreWasmError(
        'INVALID_ARGUMENT',
        `${pathOf(f)} holds ${x}, which JSON cannot hold: use finite numbers`,
      );
  w.typed = true;
  w.bytes += 2 + (obj as unknown as ArrayLike<number>).length * 8;
  if (w.bytes > w.limits.maxJsonBytes) throw tooLarge(w);
}

/** Throws unless `obj` is a plain object or an array, not on its own path, within the depth. */
function checkContainer(w: Walk, f: Frame, obj: object): void {
  if (!Array.isArray(obj) && !isPlainObject(obj))
    throw new CoreWasmError(
      'INVALID_ARGUMENT',
      `${pathOf(f)} is ${typeName(obj)}, which is not JSON data: convert it to a plain object or array first`,
    );
  if (w.onPath.has(obj))
    throw new CoreWasmError(
      'INVALID_ARGUMENT',
      `${pathOf(f)} is a circular reference (a value that contains itself), which JSON cannot hold`,
    );
  if (f.depth + 1 > w.limits.maxDepth)
    throw new CoreWasmError(
      'TOO_DEEP',
      `${pathOf(f)} nests deeper than the engine's limit of ${w.limits.maxDepth} levels`,
    );
}

/** Enters a container: puts it on the path, queues its exit, then its items or properties. */
function enter(w: Walk, f: Frame, obj: object): void {
  w.onPath.add(obj);
  w.stack.push({ ...f, value: obj, exit: true });
  if (Array.isArray(obj)) {
    w.bytes += 2 + obj.length;
    for (let i = obj.length - 1; i >= 0; i--)
      w.stack.push({ value: obj[i], depth: f.depth + 1, parent: f, key: i, exit: false });
  } else {
    const keys = Object.keys(obj);
    w.bytes += 2;
    for (const k of keys) {
      w.bytes += k.length + 4;
      w.stack.push({
        value: (obj as Record<string, unknown>)[k],
        depth: f.depth + 1,
        parent: f,
        key: k,
        exit: false,
      });
    }
  }
  if (w.bytes > w.limits.maxJsonBytes) throw tooLarge(w);
}

/** Visits one frame: leaves a container, counts a scalar or typed array, or enters a container. */
function visit(w: Walk, f: Frame): void {
  if (f.exit) {
    w.onPath.delete(f.value as object);
    return;
  }
  const v = jsonValueOf(f);
  if (countScalar(w, f, v)) return;
  const obj = v as object;
  if (ArrayBuffer.isView(obj) && !(obj instanceof DataView)) {
    countTypedArray(w, f, obj);
    return;
  }
  checkContainer(w, f, obj);
  enter(w, f, obj);
}

/** Writes the text once the walk has found `value` to be JSON data within the limits. */
function writeJson(value: unknown, w: Walk): string {
  let text: string | undefined;
  try {
    text = w.typed ? JSON.stringify(value, typedArraysAsLists) : JSON.stringify(value);
  } catch (cause) {
    // A getter or a toJSON that answers differently the second time: JSON.stringify saw a value
    // the walk did not.
    throw new CoreWasmError(
      'INVALID_ARGUMENT',
      `${w.what} could not be written as JSON: ${String(cause)}`,
      {
        cause,
      },
    );
  }
  text ??= 'null';
  if (text.length > w.limits.maxJsonBytes) throw tooLarge(w);
  return text;
}

/**
 * The JSON text of `value`, after checking that it is JSON data the engine accepts: no cycles,
 * no nesting deeper than `maxDepth`, no functions, symbols, bigints, non-finite numbers, Maps,
 * Sets or class instances (a `toJSON` method, as on `Date`, is honoured; a typed array such as
 * `Float32Array` becomes a list of numbers), and at most
 * `maxJsonBytes` of text. `what` names the value in errors ("the initial state"); paths are
 * written from it (`the initial state.user.tags[3]`). Walks iteratively, so hostile depth
 * cannot overflow the stack. Object properties that are `undefined` are left out, as
 * `JSON.stringify` does.
 * @throws {CoreWasmError} `INVALID_ARGUMENT`, `TOO_DEEP` or `TOO_LARGE`.
 */
export function toJsonText(value: unknown, what: string, limits: BoundaryLimits): string {
  const w: Walk = {
    what,
    limits,
    onPath: new Set<object>(),
    stack: [{ value, depth: 0, parent: undefined, key: what, exit: false }],
    bytes: 0,
    typed: false,
  };
  while (w.stack.length) visit(w, w.stack.pop()!);
  return writeJson(value, w);
}

function typedArraysAsLists(_key: string, v: unknown): unknown {
  return ArrayBuffer.isView(v) && !(v instanceof DataView)
    ? Array.from(v as unknown as ArrayLike<number>)
    : v;
}

/** `INVALID_ARGUMENT` unless `value` is a string. */
export function assertString(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string')
    throw new CoreWasmError('INVALID_ARGUMENT', `${what} must be a string, got ${typeName(value)}`);
}

/** `INVALID_ARGUMENT` unless `value` is a function. */
export function assertFunction(
  value: unknown,
  what: string,
): asserts value is (...a: never[]) => unknown {
  if (typeof value !== 'function')
    throw new CoreWasmError(
      'INVALID_ARGUMENT',
      `${what} must be a function, got ${typeName(value)}`,
    );
}

export { typeName };
