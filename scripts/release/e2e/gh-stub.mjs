#!/usr/bin/env node
// A recording stand-in for GitHub's `gh` CLI (the release subcommands publish.mjs uses), with
// its state in $GH_STUB_STATE: the release, every call, and uploads told to fail once.
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const file = process.env.GH_STUB_STATE;
const state = JSON.parse(readFileSync(file, 'utf8'));
const args = process.argv.slice(2);
state.calls.push(args.join(' '));
const save = () => writeFileSync(file, JSON.stringify(state, null, 2));
const fail = (message) => {
  save();
  process.stderr.write(`${message}\n`);
  process.exit(1);
};
const [group, command, , ...rest] = args;
if (group !== 'release') fail(`stub: unsupported ${args.join(' ')}`);
const r = state.release;
if (command === 'view') {
  save();
  if (!r) fail('release not found');
  process.stdout.write(
    JSON.stringify({
      isDraft: r.isDraft,
      assets: r.assets.map(({ name, size }) => ({ name, size })),
    }),
  );
} else if (command === 'create') {
  if (r) fail('release already exists');
  if (!rest.includes('--draft')) fail('stub: create without --draft');
  state.release = { isDraft: true, assets: [] };
  save();
} else if (command === 'upload') {
  if (rest.includes('--clobber')) fail('stub: --clobber deletes assets');
  const path = rest[0];
  const name = basename(path);
  if (r.assets.some((a) => a.name === name)) fail(`asset ${name} already exists`);
  if (state.failUploads.includes(name)) {
    state.failUploads.splice(state.failUploads.indexOf(name), 1);
    fail(`upload of ${name}: connection reset`);
  }
  r.assets.push({ name, size: statSync(path).size, path });
  save();
} else if (command === 'delete-asset') {
  r.assets = r.assets.filter((a) => a.name !== rest[0]);
  save();
} else if (command === 'download') {
  const name = rest[rest.indexOf('--pattern') + 1];
  const dir = rest[rest.indexOf('--dir') + 1];
  copyFileSync(r.assets.find((a) => a.name === name).path, join(dir, name));
  save();
} else if (command === 'edit') {
  if (rest.includes('--draft=false')) r.isDraft = false;
  save();
} else fail(`stub: unsupported release ${command}`);
