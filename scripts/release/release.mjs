#!/usr/bin/env node
// The release, step by step; the tag-triggered workflow runs exactly these commands, and
// `dry-run` runs them all locally with a generated test model in place of the real ones.
//   node scripts/release/release.mjs assemble  [--out release]
//   node scripts/release/release.mjs models    [--config scripts/release/models.config.json] [--out release]
//   node scripts/release/release.mjs checksums [--out release]
//   node scripts/release/release.mjs verify    [--out release]
//   node scripts/release/release.mjs notes     [--out release]
//   node scripts/release/release.mjs check-tag <tag>
//   node scripts/release/release.mjs dry-run   [--out .tmp/release]
//   node scripts/release/release.mjs size-table [--out .tmp/release]   (the README's table)
// Assets land in <out>/assets (upload all of them); notes in <out>/RELEASE_NOTES.md.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { assemble } from './assemble.mjs';
import { writeChecksums } from './checksums.mjs';
import { dryRun } from './dry-run.mjs';
import { releaseVersion, ROOT } from './lib.mjs';
import { buildModels } from './models.mjs';
import { releaseNotes, sizeTable } from './notes.mjs';
import { verifyAssets } from './verify.mjs';

const [command, ...rest] = process.argv.slice(2);
const { values, positionals } = parseArgs({
  args: rest,
  allowPositionals: true,
  options: {
    out: { type: 'string' },
    config: { type: 'string', default: join(ROOT, 'scripts/release/models.config.json') },
  },
});
const out = resolve(
  values.out ??
    (['dry-run', 'size-table'].includes(command)
      ? join(ROOT, '.tmp/release')
      : join(ROOT, 'release')),
);
const assets = join(out, 'assets');

const commands = {
  assemble: () => assemble({ out }),
  models: () =>
    buildModels({ config: resolve(values.config), out: assets, work: join(out, 'work') }),
  checksums: () => writeChecksums({ dir: assets }),
  verify: () => verifyAssets({ dir: assets }),
  notes: () =>
    releaseNotes({
      out: join(out, 'RELEASE_NOTES.md'),
      assets,
      sizes: existsSync(join(out, 'sizes.json'))
        ? JSON.parse(readFileSync(join(out, 'sizes.json'), 'utf8'))
        : undefined,
    }),
  'check-tag': () => {
    const tag = positionals[0] ?? '';
    if (tag !== `v${releaseVersion()}`)
      throw new Error(
        `tag ${tag} does not match the packages' version v${releaseVersion()}: run changeset version first`,
      );
    console.log(`tag ${tag} matches the packages' version`);
  },
  'dry-run': () => dryRun({ out }),
  'size-table': () =>
    console.log(
      sizeTable(
        JSON.parse(readFileSync(join(out, 'sizes.json'), 'utf8')),
        join(assets, 'models.json'),
        { genericVersion: true },
      ).join('\n'),
    ),
};

if (!commands[command]) {
  console.error(
    `usage: release.mjs ${Object.keys(commands).join('|')} [--out DIR] [--config FILE]`,
  );
  process.exit(2);
}
try {
  await commands[command]();
} catch (error) {
  console.error(`release ${command}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
