#!/usr/bin/env node
// Regenerates tools/workflow-lint/action-inputs.json: the inputs of every action the workflows
// pin, read from each action's action.yml at the exact pinned commit. actionlint cannot know the
// inputs of an action pinned by SHA, so the workflow lint checks `with:` against this file, and
// refuses a `uses:` whose commit is not in it (bumping a pin means running this again).
//   node tools/workflow-lint/action-inputs-gen.mjs [--mirrors DIR]
// DIR holds a git mirror of each action repository as DIR/<owner>+<name>/repo (default
// $TEA_ACTION_MIRRORS or /work/.mirror); `git clone --mirror https://github.com/<owner>/<name>
// DIR/<owner>+<name>/repo` makes one.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ACTION_INPUTS = fileURLToPath(new URL('./action-inputs.json', import.meta.url));

const { values } = parseArgs({
  options: {
    mirrors: { type: 'string', default: process.env.TEA_ACTION_MIRRORS ?? '/work/.mirror' },
  },
});

/** `owner/name[/path]@sha` of every remote action the workflows pin -> the version comment. */
function pinnedActions() {
  const dir = `${ROOT}.github/workflows/`;
  const found = new Map();
  for (const f of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)))
    for (const m of readFileSync(dir + f, 'utf8').matchAll(
      /^\s*(?:-\s+)?uses:\s*([^\s#'"]+)[ \t]*(?:#[ \t]*(\S+))?/gm,
    )) {
      if (!/^[^./][^@]*@[0-9a-f]{40}$/.test(m[1])) continue;
      if (found.has(m[1]) && found.get(m[1]) !== m[2])
        throw new Error(`${m[1]} is commented both as ${found.get(m[1])} and ${m[2]}`);
      found.set(m[1], m[2]);
    }
  return [...found].sort(([a], [b]) => a.localeCompare(b));
}

/** Checks that `version` (the pin's comment) is a tag at `sha`, or a branch that contains it. */
function checkVersion(mirror, sha, version, ref) {
  if (!version) throw new Error(`${ref} has no version comment (# vX.Y.Z)`);
  const git = (...args) => execFileSync('git', ['-C', mirror, ...args], { encoding: 'utf8' });
  const tags = git('tag', '--points-at', sha).split('\n');
  const branches = git('branch', '--format=%(refname:short)', '--contains', sha).split('\n');
  if (!tags.includes(version) && !branches.includes(version))
    throw new Error(
      `${ref} is commented "# ${version}", but ${version} is neither a tag at that commit (${tags.filter(Boolean).join(', ') || 'none'}) nor a branch containing it`,
    );
}

function actionYml(mirror, sha, path) {
  for (const name of ['action.yml', 'action.yaml'])
    try {
      return execFileSync(
        'git',
        ['-C', mirror, 'show', `${sha}:${path ? `${path}/` : ''}${name}`],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        },
      );
    } catch {
      // try the other name
    }
  throw new Error(`${mirror} has no action.yml at ${sha}${path ? ` under ${path}` : ''}`);
}

const data = {};
for (const [ref, version] of pinnedActions()) {
  const [spec, sha] = ref.split('@');
  const [owner, name, ...sub] = spec.split('/');
  const mirror = `${values.mirrors}/${owner}+${name}/repo`;
  checkVersion(mirror, sha, version, ref);
  const action = parse(actionYml(mirror, sha, sub.join('/')));
  const inputs = {};
  for (const [input, def] of Object.entries(action.inputs ?? {}).sort(([a], [b]) =>
    a.localeCompare(b),
  ))
    inputs[input] = {
      required: def?.required === true && def?.default === undefined,
      ...(def?.deprecationMessage ? { deprecated: true } : {}),
    };
  data[ref] = { version, name: action.name, inputs };
  console.log(`${ref} (${version}): ${Object.keys(inputs).length} inputs`);
}
const text = await prettier.format(JSON.stringify(data), {
  ...(await prettier.resolveConfig(ACTION_INPUTS)),
  filepath: ACTION_INPUTS,
});
writeFileSync(ACTION_INPUTS, text);
console.log(`wrote ${ACTION_INPUTS}`);
