// Helpers shared by the release steps.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The packages published to npm, in dependency order. */
export const PACKAGES = ['core-wasm', 'model-loader', 'model-cache', 'llm-bridge', 'sdk'];

/** The release version: the sdk's (changesets version every package; the tag is `v` + this). */
export function releaseVersion() {
  return JSON.parse(readFileSync(`${ROOT}packages/sdk/package.json`, 'utf8')).version;
}

/** Runs a command, printing it; throws with its exit status when it fails. */
export function run(command, args, options = {}) {
  console.log(`    $ ${command} ${args.join(' ')}`);
  return execFileSync(command, args, { stdio: 'inherit', cwd: ROOT, ...options });
}

/** Streaming SHA-256 of a file (lowercase hex). */
export async function sha256File(path) {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(piece);
  return hash.digest('hex');
}

/** Prints a step header. */
export function step(text) {
  console.log(`\n==> ${text}`);
}

/** The model-loader CLI (`tea-model`), built. */
export const TEA_MODEL = `${ROOT}packages/model-loader/dist/cli/main.js`;
