#!/usr/bin/env node
// Benchmark (not a test): peak memory of packing and of downloading a ~1 GB model.
//  1. generates a ~1 GiB random-weight GGUF (test-fixtures), once, in $TMPDIR;
//  2. packs it into gguf-split shards under 256 MiB with the tea-model CLI in a child process,
//     sampling that process's RSS (peak from /proc/<pid>/status VmHWM);
//  3. serves the shards on 127.0.0.1 and runs loadModel (download + SHA-256 verification), sampling
//     process.memoryUsage() every 20 ms: heapUsed and arrayBuffers growth are the JS memory.
// Baseline in the same run: the raw bytes of the model, and the same download without hashing
// into a byte counter (fetch + read only).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildVocab, shapeForSize, writeTinyLlama } from '@the-edge-agent/test-fixtures';
import { loadModel, parseManifest } from '../dist/index.js';

const dir = join(tmpdir(), 'tea-loader-bench');
const model = join(dir, 'bench-1g.gguf');
const out = join(dir, 'packed');
await mkdir(dir, { recursive: true });
const mib = (b) => (b / 2 ** 20).toFixed(1);

if (!existsSync(model)) {
  console.log('generating a ~1 GiB model (once)...');
  await writeTinyLlama(model, {
    seed: 1,
    shape: shapeForSize(2 ** 30, buildVocab().tokens.length),
  });
}
const modelBytes = statSync(model).size;

await rm(out, { recursive: true, force: true });
const t0 = Date.now();
const packPeak = await new Promise((resolve, reject) => {
  const child = spawn(
    process.execPath,
    [
      new URL('../dist/cli/main.js', import.meta.url).pathname,
      'pack',
      model,
      '--out',
      out,
      '--max-chunk-size',
      '256M',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  let peak = 0;
  const timer = setInterval(async () => {
    try {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
      peak = Math.max(peak, hwm);
    } catch {
      // the process ended
    }
  }, 50);
  child.on('exit', (code) => {
    clearInterval(timer);
    if (code === 0) resolve(peak);
    else reject(new Error(`pack exited ${code}`));
  });
});
const packSeconds = (Date.now() - t0) / 1000;
const manifestText = await readFile(join(out, 'manifest.json'), 'utf8');

const server = createServer((req, res) => {
  const path = join(out, decodeURIComponent(req.url.slice(1)));
  res.writeHead(200, { 'Content-Length': statSync(path).size });
  createReadStream(path).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}/`;
const manifest = parseManifest(manifestText, { url: `${base}manifest.json` });

async function measure(label, work) {
  globalThis.gc?.();
  const start = process.memoryUsage();
  let peakHeap = 0;
  let peakBuffers = 0;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed - start.heapUsed);
    peakBuffers = Math.max(peakBuffers, m.arrayBuffers - start.arrayBuffers);
  }, 20);
  const t = Date.now();
  await work();
  clearInterval(timer);
  const seconds = (Date.now() - t) / 1000;
  console.log(
    `  ${label}: ${seconds.toFixed(1)} s (${mib(manifest.totalBytes / seconds)} MiB/s), peak JS heap growth ${mib(peakHeap)} MiB, peak ArrayBuffer growth ${mib(peakBuffers)} MiB`,
  );
}

console.log(
  `[model-loader bench] model ${mib(modelBytes)} MiB -> ${manifest.chunks.length} gguf-split shards under 256 MiB`,
);
console.log(
  `  pack: ${packSeconds.toFixed(1)} s, peak RSS of the tea-model process ${mib(packPeak)} MiB`,
);
await measure('baseline: fetch + read only', async () => {
  for (const c of manifest.chunks) {
    const reader = (await fetch(c.url)).body.getReader();
    while (!(await reader.read()).done);
  }
});
let blobs;
await measure('loadModel: download + verify (concurrency 3)', async () => {
  blobs = await loadModel(manifest);
});
console.log(
  `  loaded ${blobs.length} verified Blobs, ${mib(blobs.reduce((s, b) => s + b.size, 0))} MiB`,
);
server.close();
