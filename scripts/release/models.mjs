// Step 3: each model profile as release assets. For each profile of the config: the GGUF
// (downloaded from its pinned URL, or a local file), checked against its pinned SHA-256, packed by
// `tea-model pack` into gguf-split shards, written flat into the assets folder as
// `<id>-0000i-of-0000N.gguf` + `<id>.manifest.json`; then `models.json` over all of them.
import { once } from 'node:events';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { run, sha256File, step, TEA_MODEL } from './lib.mjs';
import { gemmaNotice } from './texts.mjs';

/**
 * Downloads a URL to a file, streamed, retried with Range resume (a dropped connection does not
 * restart a 5 GB download), then hashed from disk; returns the SHA-256.
 */
async function download(url, path, attempts = 6) {
  rmSync(path, { force: true });
  for (let attempt = 1; ; attempt++) {
    const have = existsSync(path) ? statSync(path).size : 0;
    try {
      const response = await fetch(url, {
        redirect: 'follow',
        headers: have ? { Range: `bytes=${have}-` } : {},
        signal: AbortSignal.timeout(6 * 3600_000),
      });
      if (!response.ok || !response.body) throw new Error(`${url}: HTTP ${response.status}`);
      const resumed = have > 0 && response.status === 206;
      const total = Number(response.headers.get('content-length') ?? 0) + (resumed ? have : 0);
      const out = createWriteStream(path, { flags: resumed ? 'a' : 'w' });
      let done = resumed ? have : 0;
      let shown = done;
      try {
        for await (const piece of response.body) {
          done += piece.length;
          if (!out.write(piece)) await once(out, 'drain');
          if (done - shown > 256 * 2 ** 20) {
            shown = done;
            console.log(
              `    ${(done / 2 ** 20).toFixed(0)} of ${(total / 2 ** 20).toFixed(0)} MiB`,
            );
          }
        }
      } finally {
        out.end();
        await once(out, 'close');
      }
      if (total && done !== total) throw new Error(`${url}: got ${done} of ${total} bytes`);
      return sha256File(path);
    } catch (error) {
      if (attempt >= attempts) throw error;
      console.log(`    download interrupted (${error.message}); resuming (attempt ${attempt + 1})`);
      await new Promise((r) => setTimeout(r, 5000 * attempt));
    }
  }
}

async function fetchSource(profile, work) {
  if (!/^[0-9a-f]{64}$/.test(profile.sha256 ?? ''))
    throw new Error(
      `profile ${profile.id}: no pinned sha256 in the models config. Pin the upstream file's SHA-256 (the "SHA256" of the file on Hugging Face, or sha256sum of a trusted copy) before releasing.`,
    );
  let path;
  let actual;
  if (profile.file) {
    path = profile.file;
    actual = await sha256File(path);
  } else {
    path = join(work, `${profile.id}.gguf`);
    console.log(`    downloading ${profile.url}`);
    actual = await download(profile.url, path);
  }
  if (profile.bytes !== undefined && statSync(path).size !== profile.bytes)
    throw new Error(
      `profile ${profile.id}: ${profile.url ?? profile.file} is ${statSync(path).size} bytes, the pin says ${profile.bytes}`,
    );
  if (actual !== profile.sha256)
    throw new Error(
      `profile ${profile.id}: SHA-256 mismatch for ${profile.url ?? profile.file}: pinned ${profile.sha256}, got ${actual}`,
    );
  console.log(`    ${path}: SHA-256 matches the pin`);
  return path;
}

export async function buildModels({ config, out, work }) {
  const cfg = JSON.parse(readFileSync(config, 'utf8'));
  mkdirSync(out, { recursive: true });
  mkdirSync(work, { recursive: true });
  const manifests = [];
  const labels = [];
  for (const profile of cfg.profiles) {
    step(`Model profile ${profile.id}`);
    const source = await fetchSource(profile, work);
    const packed = join(work, `pack-${profile.id}`);
    rmSync(packed, { recursive: true, force: true });
    run(process.execPath, [
      TEA_MODEL,
      'pack',
      source,
      '--out',
      packed,
      '--max-chunk-size',
      cfg.maxChunkSize,
      '--id',
      profile.id,
      '--model-version',
      profile.version,
    ]);
    // Flat, because release assets are: shards keep their unique names, the manifest gets one.
    for (const f of readdirSync(packed))
      renameSync(
        join(packed, f),
        join(out, f === 'manifest.json' ? `${profile.id}.manifest.json` : f),
      );
    manifests.push(join(out, `${profile.id}.manifest.json`));
    if (profile.label) labels.push('--label', `${profile.id}=${profile.label}`);
    if (!profile.file) rmSync(source, { force: true });
  }
  const gemma = cfg.profiles.filter((p) => /gemma/i.test(p.id)).map((p) => p.id);
  if (gemma.length) writeFileSync(join(out, 'GEMMA-NOTICE.txt'), gemmaNotice(gemma));
  step('models.json');
  run(process.execPath, [
    TEA_MODEL,
    'index',
    ...manifests,
    '--out',
    join(out, 'models.json'),
    ...labels,
  ]);
}
