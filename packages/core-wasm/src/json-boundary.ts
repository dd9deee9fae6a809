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
  const onPath = new Set<object>();
  const stack: Frame[] = [{ value, depth: 0, parent: undefined, key: what, exit: false }];
  let bytes = 0;
  let typed = false;
  const tooLarge = () =>
    new CoreWasmError(
      'TOO_LARGE',
      `${what} is larger than the engine's limit of ${limits.maxJsonBytes} bytes of JSON`,
    );
  while (stack.length) {
    const f = stack.pop()!;
    if (f.exit) {
      onPath.delete(f.value as object);
      continue;
    }
    let v = f.value;
    if (
      v !== null &&
      typeof v === 'object' &&
      typeof (v as { toJSON?: unknown }).toJSON === 'function'
    ) {
      v = (v as { toJSON(key: string): unknown }).toJSON(String(f.key));
    }
    switch (typeof v) {
      case 'string':
        bytes += v.length + 2;
        if (bytes > limits.maxJsonBytes) throw tooLarge();
        continue;
      case 'boolean':
        bytes += 5;
        continue;
      case 'number':
        if (!Number.isFinite(v))
          throw new CoreWasmError(
            'INVALID_ARGUMENT',
            `${pathOf(f)} is ${v}, which JSON cannot hold: use a finite number or null`,
          );
        bytes += 8;
        continue;
      case 'undefined':
        bytes += 4;
        continue;
      case 'object':
        break;
      default:
        throw new CoreWasmError(
          'INVALID_ARGUMENT',
          `${pathOf(f)} is a ${typeof v}, which is not JSON data (state, variables and replies must be JSON: objects, arrays, strings, finite numbers, booleans, null)`,
        );
    }
    if (v === null) {
      bytes += 4;
      continue;
    }
    const obj = v as object;
    if (ArrayBuffer.isView(obj) && !(obj instanceof DataView)) {
      // A typed array (an embedding from another library, often) is a list of numbers.
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
      typed = true;
      bytes += 2 + (obj as unknown as ArrayLike<number>).length * 8;
      if (bytes > limits.maxJsonBytes) throw tooLarge();
      continue;
    }
    if (!Array.isArray(obj) && !isPlainObject(obj))
      throw new CoreWasmError(
        'INVALID_ARGUMENT',
        `${pathOf(f)} is ${typeName(obj)}, which is not JSON data: convert it to a plain object or array first`,
      );
    if (onPath.has(obj))
      throw new CoreWasmError(
        'INVALID_ARGUMENT',
        `${pathOf(f)} is a circular reference (a value that contains itself), which JSON cannot hold`,
      );
    if (f.depth + 1 > limits.maxDepth)
      throw new CoreWasmError(
        'TOO_DEEP',
        `${pathOf(f)} nests deeper than the engine's limit of ${limits.maxDepth} levels`,
      );
    onPath.add(obj);
    stack.push({ ...f, value: obj, exit: true });
    if (Array.isArray(obj)) {
      bytes += 2 + obj.length;
      for (let i = obj.length - 1; i >= 0; i--)
        stack.push({ value: obj[i], depth: f.depth + 1, parent: f, key: i, exit: false });
    } else {
      const keys = Object.keys(obj);
      bytes += 2;
      for (const k of keys) {
        bytes += k.length + 4;
        stack.push({
          value: (obj as Record<string, unknown>)[k],
          depth: f.depth + 1,
          parent: f,
          key: k,
          exit: false,
        });
      }
    }
    if (bytes > limits.maxJsonBytes) throw tooLarge();
  }
  let text: string | undefined;
  try {
    text = typed ? JSON.stringify(value, typedArraysAsLists) : JSON.stringify(value);
  } catch (cause) {
    // A getter or a toJSON that answers differently the second time: JSON.stringify saw a value
    // the walk did not.
    throw new CoreWasmError(
      'INVALID_ARGUMENT',
      `${what} could not be written as JSON: ${String(cause)}`,
      {
        cause,
      },
    );
  }
  text ??= 'null';
  if (text.length > limits.maxJsonBytes) throw tooLarge();
  return text;
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
