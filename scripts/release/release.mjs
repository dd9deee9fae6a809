#!/usr/bin/env node
// The release, step by step; the tag-triggered workflow runs exactly these commands, and
// `dry-run` runs them all locally with a generated test model in place of the real ones.
//   node scripts/release/release.mjs assemble  [--out release] [--registry URL|local]   (lib/ from
//        the published npm tarballs, checked against the registry's integrity; default npm's
//        registry; `local`: packed here and served from a local registry, for dry runs)
//   node scripts/release/release.mjs check-npm [--registry URL]   (the packages are published and
//        their tarballs match the registry's integrity: fails in seconds, before the build)
//   node scripts/release/release.mjs models    [--config scripts/release/models.config.json] [--out release]
//   node scripts/release/release.mjs checksums [--out release]
//   node scripts/release/release.mjs verify    [--out release]
//   node scripts/release/release.mjs notes     [--out release]
//   node scripts/release/release.mjs check-tag <tag>
//   node scripts/release/release.mjs check-pins [--config FILE]   (model pins: fails in seconds)
//   node scripts/release/release.mjs pin [--revision REV] [--dry-run|--check] [--config FILE]
//        [--readme FILE]   (each profile's commit, SHA-256 and size from the Hugging Face API, no
//        download; writes the config and the README's pinned sizes; HF_ENDPOINT, HF_TOKEN)
//   node scripts/release/release.mjs publish <tag> [--out release]   (draft, upload, verify, publish)
//   node scripts/release/release.mjs dry-run   [--out .tmp/release]
//   node scripts/release/release.mjs size-table [--out .tmp/release]   (the README's table)
//   node scripts/release/release.mjs size-table --pins [--config FILE]   (its rows of the real
//        profiles, computed from the pins)
// Assets land in <out>/assets (upload all of them); notes in <out>/RELEASE_NOTES.md.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { releaseVersion, ROOT } from './lib.mjs';

// Each command imports what it needs when it runs: commands that need no build (check-tag,
// check-pins) work in a fresh, unbuilt checkout; the dry run's test model needs the built
// test-fixtures package.

const [command, ...rest] = process.argv.slice(2);
const { values, positionals } = parseArgs({
  args: rest,
  allowPositionals: true,
  options: {
    out: { type: 'string' },
    config: { type: 'string', default: join(ROOT, 'scripts/release/models.config.json') },
    registry: { type: 'string' },
    revision: { type: 'string' },
    readme: { type: 'string', default: join(ROOT, 'README.md') },
    'dry-run': { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
    pins: { type: 'boolean', default: false },
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
  assemble: async () => {
    const { assemble } = await import('./assemble.mjs');
    if (values.registry !== 'local')
      return assemble({
        out,
        ...(values.registry ? { registry: values.registry.replace(/\/+$/, '') } : {}),
      });
    const registry = await (await import('./local-registry.mjs')).localRegistry(out);
    try {
      return await assemble({ out, registry: registry.url });
    } finally {
      await registry.close();
    }
  },
  'check-npm': async () => {
    const { defaultRegistry, fetchPublishedPackages } = await import('./npm-tarballs.mjs');
    const registry = values.registry?.replace(/\/+$/, '') ?? defaultRegistry();
    await fetchPublishedPackages({ version: releaseVersion(), registry, dir: join(out, 'npm') });
  },
  models: async () =>
    (await import('./models.mjs')).buildModels({
      config: resolve(values.config),
      out: assets,
      work: join(out, 'work'),
    }),
  'check-pins': async () =>
    (await import('./pins.mjs')).checkPins(
      JSON.parse(readFileSync(resolve(values.config), 'utf8')),
      resolve(values.config),
    ),
  pin: async () =>
    (await import('./pin.mjs')).pin({
      config: resolve(values.config),
      readme: resolve(values.readme),
      revision: values.revision,
      mode: values.check ? 'check' : values['dry-run'] ? 'dry-run' : 'write',
    }),
  checksums: async () => (await import('./checksums.mjs')).writeChecksums({ dir: assets }),
  verify: async () => (await import('./verify.mjs')).verifyAssets({ dir: assets }),
  notes: async () =>
    (await import('./notes.mjs')).releaseNotes({
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
  publish: async () => (await import('./publish.mjs')).publishRelease({ tag: positionals[0], out }),
  'dry-run': async () => (await import('./dry-run.mjs')).dryRun({ out }),
  'size-table': async () => {
    if (values.pins) {
      const { pinsTable } = await import('./size-plan.mjs');
      const config = JSON.parse(readFileSync(resolve(values.config), 'utf8'));
      return console.log((await pinsTable(config)).join('\n'));
    }
    const { sizeTable } = await import('./notes.mjs');
    const sizes = JSON.parse(readFileSync(join(out, 'sizes.json'), 'utf8'));
    console.log(sizeTable(sizes, join(assets, 'models.json'), { genericVersion: true }).join('\n'));
  },
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
