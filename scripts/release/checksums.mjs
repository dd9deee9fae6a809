// Step 4a: SHA256SUMS over every asset (`sha256sum -c SHA256SUMS` checks it), and its check.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256File, step } from './lib.mjs';

const assetsIn = (dir) =>
  readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isFile() && d.name !== 'SHA256SUMS')
    .map((d) => d.name)
    .sort();

export async function writeChecksums({ dir }) {
  step('SHA256SUMS');
  const lines = [];
  for (const name of assetsIn(dir)) lines.push(`${await sha256File(join(dir, name))}  ${name}`);
  writeFileSync(join(dir, 'SHA256SUMS'), `${lines.join('\n')}\n`);
  console.log(`    ${lines.length} assets`);
}

/** Re-hashes every asset listed in SHA256SUMS and checks nothing is missing or unlisted. */
export async function checkChecksums({ dir }) {
  const file = join(dir, 'SHA256SUMS');
  if (!existsSync(file)) throw new Error(`${file} is missing`);
  const listed = new Map(
    readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const [hash, name] = l.split(/\s+\*?/, 2);
        return [name, hash];
      }),
  );
  const problems = [];
  for (const name of assetsIn(dir)) {
    if (!listed.has(name)) problems.push(`${name}: not in SHA256SUMS`);
    else if ((await sha256File(join(dir, name))) !== listed.get(name))
      problems.push(`${name}: SHA-256 differs from SHA256SUMS`);
  }
  for (const name of listed.keys())
    if (!existsSync(join(dir, name))) problems.push(`${name}: listed but missing`);
  if (problems.length) throw new Error(`checksum check failed:\n  ${problems.join('\n  ')}`);
  console.log(`    all ${listed.size} assets match SHA256SUMS`);
}
