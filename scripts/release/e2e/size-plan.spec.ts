import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import {
  gemma3nHeader,
  headerTensorBytes,
  quantizedOrder,
  writeSparseGguf,
} from '@the-edge-agent/test-fixtures';
import { pinsTable, planShards, readmeTable } from '../size-plan.mjs';

// The README's rows of the real model profiles are computed from the pins: the table between
// its markers must be what `size-table --pins` computes from models.config.json, and the shard
// plan must be what `tea-model pack` writes.
const root = fileURLToPath(new URL('../../../', import.meta.url));

test("the README's table of pinned sizes is the one computed from models.config.json", async () => {
  const config = JSON.parse(
    readFileSync(join(root, 'scripts/release/models.config.json'), 'utf8'),
  ) as Parameters<typeof pinsTable>[0];
  const readme = readmeTable(readFileSync(join(root, 'README.md'), 'utf8'));
  expect(readme, 'README.md has no <!-- size-table:pins --> block').not.toBeNull();
  expect(
    readme,
    'the README table is stale: run node scripts/release/release.mjs pin (or size-table --pins)',
  ).toEqual(await pinsTable(config));
  const cli = execFileSync(
    process.execPath,
    [join(root, 'scripts/release/release.mjs'), 'size-table', '--pins'],
    { cwd: root, encoding: 'utf8' },
  );
  expect(cli.trim().split('\n')).toEqual(readme);
  expect(readme![0]).toContain('computed from the pins');
});

test('the shard plan from a tensor layout and a size is what tea-model pack writes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tea-size-plan-'));
  try {
    // Gemma 3n's real shapes, 4 layers and a small vocabulary: 46 MB, sparse on disk.
    const header = gemma3nHeader('E2B', { layers: 4, vocab: 8192 });
    header.tensors = quantizedOrder(header.tensors);
    const gguf = join(dir, 'g.gguf');
    const { bytes } = await writeSparseGguf(gguf, header);
    const max = 8 * 2 ** 20;
    execFileSync(
      process.execPath,
      [
        join(root, 'packages/model-loader/dist/cli/main.js'),
        'pack',
        gguf,
        '--out',
        join(dir, 'out'),
        '--max-chunk-size',
        '8M',
      ],
      { stdio: 'pipe' },
    );
    const manifest = JSON.parse(readFileSync(join(dir, 'out/manifest.json'), 'utf8')) as {
      chunks: { bytes: number }[];
    };
    const planned = planShards(
      bytes,
      header.tensors.map((t) => ({
        name: t.name,
        dims: t.dims.length,
        bytes: headerTensorBytes(t),
      })),
      max,
    )!;
    expect(planned).toHaveLength(manifest.chunks.length);
    planned.forEach((p, i) =>
      expect(Math.abs(p - manifest.chunks[i]!.bytes), `shard ${i + 1}`).toBeLessThan(256),
    );
    // A size the layout does not fit: only the least shard count is known.
    expect(planShards(1000, [{ name: 'a', dims: 1, bytes: 2000 }], max)).toBeNull();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a pinned profile with a layout that fits gets its planned shards; one without, the least count', async () => {
  const layoutBytes = quantizedOrder(gemma3nHeader('E2B').tensors).reduce(
    (s, t) => s + headerTensorBytes(t),
    0,
  );
  const table = await pinsTable({
    maxChunkSize: '512M',
    profiles: [
      { id: 'fits', tensorLayout: 'gemma3n-E2B-Q4_K_M', bytes: layoutBytes + 8 * 2 ** 20 },
      { id: 'smaller', tensorLayout: 'gemma3n-E2B-Q4_K_M', bytes: 3_000_000_000 },
      { id: 'none', bytes: 3_000_000_000 },
      { id: 'unpinned' },
    ],
  });
  expect(table[2]).toMatch(/^\| fits +\| 3\.31 GB +\| 5 +\| 86\.\d, 1575\.\d, \d+\.\d, /);
  expect(table[3]).toMatch(
    /^\| smaller +\| 3\.00 GB +\| at least 6 +\| each at most 512\.0 \(tensor layout not known: it does not fit the pinned size\)/,
  );
  expect(table[4]).toMatch(
    /^\| none +\| 3\.00 GB +\| at least 6 +\| each at most 512\.0 \(tensor layout not known\) +\|$/,
  );
  expect(table[5]).toMatch(/^\| unpinned +\| not pinned yet +\| - +\| - +\|$/);
});
