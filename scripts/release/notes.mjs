// Step 4b: release notes from changesets: each package's CHANGELOG.md section for the released
// version (written by `changeset version`), or the pending .changeset/*.md entries before that;
// then the model profiles and the artefact sizes.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGES, releaseVersion, ROOT, step } from './lib.mjs';

const mb = (n) =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(2)} GB`
    : n >= 2 ** 20
      ? `${(n / 2 ** 20).toFixed(1)} MiB`
      : `${(n / 1024).toFixed(1)} KiB`;

function changelogSection(pkg, version) {
  const file = join(ROOT, 'packages', pkg, 'CHANGELOG.md');
  if (!existsSync(file)) return null;
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(`\n## ${version}\n`);
  if (start < 0) return null;
  const rest = text.slice(start + `\n## ${version}\n`.length);
  const end = rest.search(/\n## /);
  return (end < 0 ? rest : rest.slice(0, end)).trim();
}

/** Pending changesets: `{ summary, bumps: { '@the-edge-agent/sdk': 'minor' } }`. */
function pendingChangesets() {
  const dir = join(ROOT, '.changeset');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md') && f !== 'README.md')
    .sort()
    .map((f) => {
      const text = readFileSync(join(dir, f), 'utf8');
      const m = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
      if (!m) throw new Error(`.changeset/${f}: no front matter`);
      const bumps = Object.fromEntries(
        m[1]
          .split('\n')
          .filter(Boolean)
          .map((l) => {
            const [, name, bump] = /^["']?([^"':]+)["']?:\s*(\w+)/.exec(l) ?? [];
            return [name, bump];
          }),
      );
      return { summary: m[2].trim(), bumps };
    });
}

/** The size table (Markdown lines) of a run's artefacts: `sizes.json` and `models.json`. */
export function sizeTable(sizes, modelsFile, { genericVersion = false } = {}) {
  const tarball = genericVersion
    ? sizes.tarball.file.replace(sizes.version, '{version}')
    : sizes.tarball.file;
  const rows = [[tarball, sizes.tarball.bytes]];
  for (const [name, s] of Object.entries(sizes.packages))
    rows.push([`${name} (npm tarball)`, s.packedBytes]);
  rows.push(['core engine `tea_core_bg.wasm`', sizes.coreWasmBytes]);
  rows.push(['wllama `wllama.wasm`', sizes.wllamaWasmBytes]);
  if (sizes.wllamaCpuWasmBytes)
    rows.push(['wllama CPU build `wllama-cpu-relaxed.wasm` (each of 2)', sizes.wllamaCpuWasmBytes]);
  if (existsSync(modelsFile))
    for (const p of JSON.parse(readFileSync(modelsFile, 'utf8')).profiles)
      rows.push([`model ${p.id} (${p.chunks} shards)`, p.totalBytes]);
  return ['| artefact | size |', '| --- | --- |', ...rows.map(([a, b]) => `| ${a} | ${mb(b)} |`)];
}

export function releaseNotes({ out, assets, sizes }) {
  step('Release notes');
  const version = releaseVersion();
  const lines = [`# tea-wasm-llm ${version}`, ''];
  const sections = PACKAGES.map((p) => [p, changelogSection(p, version)]).filter(([, s]) => s);
  if (sections.length) {
    for (const [p, s] of sections) lines.push(`## @the-edge-agent/${p}`, '', s, '');
  } else {
    const pending = pendingChangesets();
    lines.push('## Changes', '');
    if (!pending.length) lines.push('No changesets.');
    for (const c of pending)
      lines.push(
        `- ${c.summary.split('\n')[0]} (${Object.entries(c.bumps)
          .map(([n, b]) => `${n} ${b}`)
          .join(', ')})`,
      );
    lines.push('');
  }
  const modelsFile = join(assets, 'models.json');
  if (existsSync(modelsFile)) {
    const { profiles } = JSON.parse(readFileSync(modelsFile, 'utf8'));
    lines.push(
      '## Model profiles',
      '',
      '| profile | size | shards | runs on |',
      '| --- | --- | --- | --- |',
    );
    for (const p of profiles)
      lines.push(
        `| ${p.label ?? p.id} | ${mb(p.totalBytes)} | ${p.chunks} | ${p.modes.join(', ')} |`,
      );
    lines.push('');
  }
  if (existsSync(join(assets, 'GEMMA-NOTICE.txt')))
    lines.push(
      'The Gemma model files are provided under and subject to the Gemma Terms of Use (https://ai.google.dev/gemma/terms): see GEMMA-NOTICE.txt among the assets.',
      '',
    );
  if (sizes) lines.push('## Sizes', '', ...sizeTable(sizes, modelsFile), '');
  if (sizes)
    lines.push(
      '## npm packages',
      '',
      "The tarball's `lib/` is unpacked from these npm tarballs, as the registry serves them (checked against its `dist.integrity`; also in the tarball's `NPM-PACKAGES.json`):",
      '',
      '| package | tarball | integrity |',
      '| --- | --- | --- |',
      ...Object.entries(sizes.packages).map(
        ([name, p]) => `| ${name}@${sizes.version} | ${p.file} | \`${p.integrity}\` |`,
      ),
      '',
    );
  lines.push(
    'Install: `npm install @the-edge-agent/sdk`. Self-hosting: see SERVING.md in the tarball.',
    '',
  );
  writeFileSync(out, lines.join('\n'));
  console.log(`    wrote ${out}`);
}
