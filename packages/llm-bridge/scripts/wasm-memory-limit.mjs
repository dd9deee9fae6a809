// @ts-check
// Reads and rewrites the limits of the memory a WebAssembly module imports (the wasm binary
// format's import section, https://webassembly.github.io/spec/core/binary/modules.html#import-section
// and the memory64 proposal's limits flags). Used at build time to raise wllama's memory64
// maximum; tested on hand-made modules and on the shipped wllama.wasm.

const MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const IMPORT_SECTION = 2;
const KIND = { func: 0, table: 1, memory: 2, global: 3, tag: 4 };
const FLAG_MAX = 0x01;
const FLAG_SHARED = 0x02;
const FLAG_64 = 0x04;

/** An error in a wasm binary, with the byte offset where reading stopped. */
export class WasmFormatError extends Error {
  /** @param {string} message @param {number} offset */
  constructor(message, offset) {
    super(`${message} (at byte ${offset})`);
    this.name = 'WasmFormatError';
    this.offset = offset;
  }
}

/**
 * Unsigned LEB128 at `offset`, as a Number (exact below 2^53, plenty for page counts).
 * @param {Uint8Array} bytes @param {number} offset
 * @returns {{ value: number, next: number }}
 */
export function readUleb(bytes, offset) {
  let value = 0;
  let scale = 1;
  let i = offset;
  for (;;) {
    if (i >= bytes.length) throw new WasmFormatError('LEB128 runs past the end', offset);
    const byte = /** @type {number} */ (bytes[i++]);
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) break;
    if (i - offset > 10) throw new WasmFormatError('LEB128 longer than 10 bytes', offset);
  }
  return { value, next: i };
}

/** @param {number} value @returns {number[]} */
export function encodeUleb(value) {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a u64: ${value}`);
  const out = [];
  let v = value;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    out.push(byte);
  } while (v > 0);
  return out;
}

/**
 * @typedef {object} MemoryImport
 * @property {string} module
 * @property {string} name
 * @property {boolean} shared
 * @property {boolean} memory64
 * @property {number} minPages
 * @property {number | undefined} maxPages
 * @property {number} limitsOffset  offset of the limits' flags byte in the module
 * @property {number} limitsEnd     offset just past the limits
 */

/** @param {Uint8Array} bytes @param {number} at */
function readName(bytes, at) {
  const { value: len, next } = readUleb(bytes, at);
  if (next + len > bytes.length) throw new WasmFormatError('name runs past the end', at);
  return { text: new TextDecoder().decode(bytes.subarray(next, next + len)), next: next + len };
}

/** @param {Uint8Array} bytes @param {number} at */
function readLimits(bytes, at) {
  const flags = bytes[at];
  if (flags === undefined || flags > 0x07)
    throw new WasmFormatError(`bad limits flags ${flags}`, at);
  const min = readUleb(bytes, at + 1);
  const max = flags & FLAG_MAX ? readUleb(bytes, min.next) : undefined;
  return { flags, min: min.value, max: max?.value, next: max ? max.next : min.next };
}

/**
 * Finds the import section: `{ start, end, contentStart }` (start = its id byte).
 * @param {Uint8Array} bytes
 */
function findImportSection(bytes) {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b))
    throw new WasmFormatError('not a WebAssembly 1.0 binary (bad magic or version)', 0);
  let at = 8;
  while (at < bytes.length) {
    const id = /** @type {number} */ (bytes[at]);
    const size = readUleb(bytes, at + 1);
    const end = size.next + size.value;
    if (end > bytes.length) throw new WasmFormatError(`section ${id} runs past the end`, at);
    if (id === IMPORT_SECTION) return { start: at, end, contentStart: size.next };
    at = end;
  }
  return undefined;
}

/**
 * Every memory the module imports, with its limits.
 * @param {Uint8Array} bytes
 * @returns {MemoryImport[]}
 */
export function readMemoryImports(bytes) {
  const section = findImportSection(bytes);
  if (!section) return [];
  const count = readUleb(bytes, section.contentStart);
  let at = count.next;
  /** @type {MemoryImport[]} */
  const memories = [];
  for (let i = 0; i < count.value; i++) {
    const module = readName(bytes, at);
    const name = readName(bytes, module.next);
    const kind = bytes[name.next];
    at = name.next + 1;
    if (kind === KIND.func) at = readUleb(bytes, at).next;
    else if (kind === KIND.table) {
      const ref = bytes[at];
      // funcref / externref (0x70 / 0x6f); typed references (0x63/0x64 + heap type) are not used
      // by the modules this reads, so they are refused rather than guessed.
      if (ref !== 0x70 && ref !== 0x6f) throw new WasmFormatError(`table type ${ref}`, at);
      at = readLimits(bytes, at + 1).next;
    } else if (kind === KIND.memory) {
      const limits = readLimits(bytes, at);
      memories.push({
        module: module.text,
        name: name.text,
        shared: (limits.flags & FLAG_SHARED) !== 0,
        memory64: (limits.flags & FLAG_64) !== 0,
        minPages: limits.min,
        maxPages: limits.max,
        limitsOffset: at,
        limitsEnd: limits.next,
      });
      at = limits.next;
    } else if (kind === KIND.global) at += 2;
    else if (kind === KIND.tag) at = readUleb(bytes, at + 1).next;
    else throw new WasmFormatError(`unknown import kind ${kind}`, at - 1);
    if (at > section.end) throw new WasmFormatError('import runs past its section', at);
  }
  if (at !== section.end) throw new WasmFormatError('import section has trailing bytes', at);
  return memories;
}

/**
 * Returns a copy of the module whose imported memory `module.name` has `maxPages` as its
 * maximum. Refuses (throws) unless exactly one such import exists, it has a maximum, and that
 * maximum is `expectMaxPages`: a different input is a different build, never patched blindly.
 * The import section is re-encoded when the new maximum's LEB128 has another length.
 *
 * @param {Uint8Array} bytes
 * @param {{ module: string, name: string, expectMaxPages: number, maxPages: number }} change
 * @returns {Uint8Array}
 */
export function setImportedMemoryMaximum(bytes, change) {
  const found = readMemoryImports(bytes).filter(
    (m) => m.module === change.module && m.name === change.name,
  );
  if (found.length !== 1)
    throw new Error(
      `expected one imported memory ${change.module}.${change.name}, found ${found.length}`,
    );
  const memory = /** @type {MemoryImport} */ (found[0]);
  if (memory.maxPages !== change.expectMaxPages)
    throw new Error(
      `${change.module}.${change.name}: maximum is ${memory.maxPages} pages, expected ${change.expectMaxPages}`,
    );
  if (!memory.memory64 && change.maxPages > 65536)
    throw new Error(`${change.module}.${change.name} is a 32-bit memory: at most 65536 pages`);
  const flags = /** @type {number} */ (bytes[memory.limitsOffset]);
  const limits = [flags, ...encodeUleb(memory.minPages), ...encodeUleb(change.maxPages)];
  const section = /** @type {{ start: number, end: number, contentStart: number }} */ (
    findImportSection(bytes)
  );
  const content = [
    ...bytes.subarray(section.contentStart, memory.limitsOffset),
    ...limits,
    ...bytes.subarray(memory.limitsEnd, section.end),
  ];
  const head = [IMPORT_SECTION, ...encodeUleb(content.length)];
  const out = new Uint8Array(
    section.start + head.length + content.length + bytes.length - section.end,
  );
  out.set(bytes.subarray(0, section.start), 0);
  out.set(head, section.start);
  out.set(content, section.start + head.length);
  out.set(bytes.subarray(section.end), section.start + head.length + content.length);
  return out;
}
