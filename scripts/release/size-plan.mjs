// The README's rows for the real model profiles, computed from the pins: each profile's pinned
// file size (`bytes` in models.config.json) and the shards `tea-model pack` will cut it into at
// the configured maximum. Where the profile names a known tensor layout (`tensorLayout`: the
// Gemma 3n Q4_K_M header of test-fixtures, real shapes and llama-quantize's types), the shards
// are planned as pack plans them: tensors in file order, never split, a new shard when the next
// tensor would pass the maximum, the metadata in the first; the header's size is what the pinned
// size leaves after the tensors' data. Without a layout (or one that does not fit the pinned
// size) only the least shard count is known.
export const BEGIN = '<!-- size-table:pins -->';
export const END = '<!-- /size-table:pins -->';
const ALIGN = 32;
const pad = (n) => (ALIGN - (n % ALIGN)) % ALIGN;

/** `512M` / `1.9G` (powers of 1024, as `tea-model pack --max-chunk-size` reads them) or bytes. */
export function parseSize(text) {
  const m = /^(\d+(?:\.\d+)?)\s*([KMG]?)(?:i?B)?$/i.exec(String(text).trim());
  if (!m) throw new Error(`not a size: ${text}`);
  return Math.floor(Number(m[1]) * 1024 ** ' KMG'.indexOf(m[2].toUpperCase() || ' '));
}

const mib = (n) => (n / 2 ** 20).toFixed(1);
const gb = (n) => `${(n / 1e9).toFixed(2)} GB`;

/** The known layouts: tensors (name, dims, data bytes) in the order the file has them. */
async function layouts() {
  let fixtures;
  try {
    fixtures = await import('@the-edge-agent/test-fixtures');
  } catch (error) {
    throw new Error(
      `the tensor layouts come from the built test-fixtures package: pnpm nx run @the-edge-agent/test-fixtures:build (${error.message})`,
      { cause: error },
    );
  }
  const { gemma3nHeader, headerTensorBytes, quantizedOrder } = fixtures;
  const of = (variant) => () =>
    quantizedOrder(gemma3nHeader(variant).tensors).map((t) => ({
      name: t.name,
      dims: t.dims.length,
      bytes: headerTensorBytes(t),
    }));
  return { 'gemma3n-E2B-Q4_K_M': of('E2B'), 'gemma3n-E4B-Q4_K_M': of('E4B') };
}

/**
 * The shards of a file of `bytes` with these tensors at `max` bytes a shard, or null when the
 * layout does not fit the size (its data alone is larger, or leaves over 64 MiB of header).
 */
export function planShards(bytes, tensors, max) {
  const info = (t) => 8 + Buffer.byteLength(t.name) + 4 + 8 * t.dims + 4 + 8;
  const data = tensors.reduce((s, t) => s + t.bytes + pad(t.bytes), 0);
  const header = bytes - data;
  if (header <= 0 || header > 64 * 2 ** 20) return null;
  // Shard 1 keeps the metadata (the header less the tensor infos); the others a few split keys.
  const metadata = header - tensors.reduce((s, t) => s + info(t), 0);
  const base = (i) => (i === 0 ? metadata : 96) + 64 + ALIGN;
  const shards = [];
  let size = 0;
  let count = 0;
  for (const t of tensors) {
    const add = info(t) + t.bytes + pad(t.bytes);
    if (count > 0 && base(shards.length) + size + add > max) {
      shards.push(base(shards.length) + size);
      size = 0;
      count = 0;
    }
    size += add;
    count++;
  }
  if (count) shards.push(base(shards.length) + size);
  return shards;
}

/** The Markdown lines of the table, from a models config. */
export async function pinsTable(config) {
  const max = parseSize(config.maxChunkSize);
  const known = config.profiles.some((p) => p.tensorLayout) ? await layouts() : {};
  const rows = [];
  for (const p of config.profiles) {
    if (!Number.isSafeInteger(p.bytes)) {
      rows.push([p.id, 'not pinned yet', '-', '-']);
      continue;
    }
    const layout = p.tensorLayout && known[p.tensorLayout];
    if (p.tensorLayout && !layout)
      throw new Error(`${p.id}: unknown tensorLayout ${p.tensorLayout}`);
    const shards = layout ? planShards(p.bytes, layout(), max) : null;
    const least = Math.ceil(p.bytes / max);
    rows.push(
      shards
        ? [p.id, gb(p.bytes), String(shards.length), shards.map(mib).join(', ')]
        : [
            p.id,
            gb(p.bytes),
            `at least ${least}`,
            `each at most ${mib(max)} (tensor layout not known${p.tensorLayout ? ': it does not fit the pinned size' : ''})`,
          ],
    );
  }
  const head = [
    'profile (computed from the pins)',
    'file (pinned)',
    `shards at ${config.maxChunkSize}`,
    'shard sizes (MiB)',
  ];
  const widths = head.map((h, i) => Math.max(h.length, 3, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** The table's lines between the README's markers, or null. */
export function readmeTable(text) {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) return null;
  return text
    .slice(start + BEGIN.length, end)
    .split('\n')
    .filter((l) => l.startsWith('|'));
}

/** The README with the table between its markers replaced (the markers must be there). */
export function withTable(text, lines) {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start)
    throw new Error(`the README has no ${BEGIN} ... ${END} block for the pinned sizes`);
  return `${text.slice(0, start + BEGIN.length)}\n\n${lines.join('\n')}\n\n${text.slice(end)}`;
}
