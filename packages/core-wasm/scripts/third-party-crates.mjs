#!/usr/bin/env node
// Turns `cargo metadata` (for wasm32) into wasm/THIRD_PARTY_CRATES.md: every crate compiled into
// (or generating code for) tea_core_bg.wasm, with its version, declared license and repository.
//   node scripts/third-party-crates.mjs <cargo-metadata.json> <out.md>
import { readFileSync, writeFileSync } from 'node:fs';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: third-party-crates.mjs <cargo-metadata.json> <out.md>');
  process.exit(2);
}
const meta = JSON.parse(readFileSync(input, 'utf8'));
const nodes = new Map(meta.resolve.nodes.map((n) => [n.id, n]));
const packages = new Map(meta.packages.map((p) => [p.id, p]));
const reached = new Set();
const stack = [meta.resolve.root];
while (stack.length) {
  for (const dep of nodes.get(stack.pop()).deps) {
    // Normal and build dependencies; dev-dependencies never reach the wasm.
    if (dep.dep_kinds.some((k) => k.kind !== 'dev') && !reached.has(dep.pkg)) {
      reached.add(dep.pkg);
      stack.push(dep.pkg);
    }
  }
}
const rows = [...reached]
  .map((id) => packages.get(id))
  .sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version))
  .map(
    (p) =>
      `| ${p.name} | ${p.version} | ${p.license ?? p.license_file ?? '?'} | ${p.repository ?? ''} |`,
  );
writeFileSync(
  output,
  [
    '# Third-party Rust crates in tea_core_bg.wasm',
    '',
    'Generated from `cargo metadata` at build time. Each crate is used under the license it declares.',
    '',
    '| crate | version | license | repository |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n'),
);
console.log(`    ${rows.length} third-party crates listed in ${output}`);
