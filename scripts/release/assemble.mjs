// Step 2: tea-wasm-llm-{version}.tar.gz, for self-hosting with no other origin:
//   index.html, assets/     the demo app (loads models/models.json beside it)
//   example.html            the sdk README's plain-HTML page, with an import map into lib/
//   lib/@the-edge-agent/*   the npm packages as published: unpacked from the very tarballs the
//                           registry serves, checked against its sha512 integrity (ESM, .d.ts,
//                           core .wasm, wllama .wasm); NPM-PACKAGES.json names each tarball
//   lib/idb, lib/hash-wasm   their browser runtime dependencies (ESM files; wllama is bundled
//                            into llm-bridge, in its 16 GiB build)
//   models/                 expected beside: the release's model assets (see SERVING.md)
//   LICENSE, NOTICE.md, licenses/, SERVING.md
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { releaseVersion, ROOT, run, step } from './lib.mjs';
import { defaultRegistry, fetchPublishedPackages } from './npm-tarballs.mjs';
import { noticeText, SERVE_JSON, serveText } from './texts.mjs';

/** The files of a browser dependency the tarball needs (its ESM entry, license, package.json). */
const RUNTIME_DEPS = [
  { name: 'idb', from: 'model-cache', files: ['package.json', 'LICENSE', 'build'] },
  {
    name: 'hash-wasm',
    from: 'model-loader',
    files: ['package.json', 'LICENSE', 'dist/index.esm.js'],
  },
  // The GGUF header reader model-loader imports on use (createTea({ model: '….gguf' })).
  {
    name: '@huggingface/gguf',
    from: 'model-loader',
    files: ['package.json', 'LICENSE', 'dist/browser'],
  },
  {
    name: '@huggingface/tasks',
    from: 'model-loader',
    via: '@huggingface/gguf',
    files: ['package.json', 'LICENSE', 'dist/esm'],
  },
];
/** Bundled into an npm package rather than copied beside it: only its license is copied. */
const BUNDLED_DEPS = [
  {
    name: '@wllama/wllama',
    from: 'llm-bridge',
    license: 'lib/@the-edge-agent/llm-bridge/wasm/LICENSE-wllama.txt',
  },
];

/** The folder of package `name` as Node resolves it from `packages/{from}` (or from `via`). */
function depDir(from, name, via) {
  const base = via ? depDir(from, via) : join(ROOT, 'packages', from);
  let dir = dirname(realpathSync(createRequire(join(base, 'package.json')).resolve(name)));
  const named = (d) =>
    existsSync(join(d, 'package.json')) &&
    JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')).name === name;
  while (!named(dir)) dir = dirname(dir);
  return dir;
}

function dirBytes(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((n, f) => n + dirBytes(join(path, f)), 0);
}

export async function assemble({ out, registry = defaultRegistry() }) {
  const version = releaseVersion();
  const name = `tea-wasm-llm-${version}`;
  const stage = join(out, 'stage', name);
  const assets = join(out, 'assets');
  rmSync(join(out, 'stage'), { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  mkdirSync(assets, { recursive: true });
  if (!existsSync(join(ROOT, 'apps/demo/dist/index.html')))
    throw new Error(
      'apps/demo/dist/index.html is missing: build first (pnpm nx run-many -t build)',
    );

  step(`The published npm packages ${version} from ${registry} (checked against its integrity)`);
  const npmDir = join(out, 'npm');
  const published = await fetchPublishedPackages({ version, registry, dir: npmDir });
  const sizes = Object.fromEntries(
    published.map((p) => [p.name, { file: p.file, packedBytes: p.bytes, integrity: p.integrity }]),
  );
  for (const [pkg, { file }] of Object.entries(sizes)) {
    const tmp = join(out, 'stage', 'unpack');
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    run('tar', ['xzf', join(npmDir, file), '-C', tmp]);
    const dest = join(stage, 'lib', pkg);
    mkdirSync(dirname(dest), { recursive: true });
    renameSync(join(tmp, 'package'), dest);
    sizes[pkg].unpackedBytes = dirBytes(dest);
    rmSync(tmp, { recursive: true, force: true });
  }

  step('Copying the browser runtime dependencies');
  const deps = {};
  for (const dep of RUNTIME_DEPS) {
    const from = depDir(dep.from, dep.name, dep.via);
    const pkg = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8'));
    deps[dep.name] = { version: pkg.version, license: pkg.license };
    for (const f of dep.files)
      cpSync(join(from, f), join(stage, 'lib', dep.name, f), { recursive: true });
    console.log(`    ${dep.name}@${pkg.version} (${pkg.license})`);
  }
  for (const dep of BUNDLED_DEPS) {
    const pkg = JSON.parse(readFileSync(join(depDir(dep.from, dep.name), 'package.json'), 'utf8'));
    deps[dep.name] = { version: pkg.version, license: pkg.license };
    console.log(`    ${dep.name}@${pkg.version} (${pkg.license}), bundled in ${dep.from}`);
  }

  step('Copying the demo app (without its development test model and benchmark)');
  const demo = join(ROOT, 'apps/demo/dist');
  for (const entry of readdirSync(demo))
    if (!['models', 'bench', 'bench-models'].includes(entry))
      cpSync(join(demo, entry), join(stage, entry), { recursive: true });
  mkdirSync(join(stage, 'models'), { recursive: true });
  writeFileSync(
    join(stage, 'models', 'README.txt'),
    'Put the release model assets here: models.json, *.manifest.json and *.gguf (see ../SERVING.md).\n',
  );
  const example = readFileSync(join(ROOT, 'packages/sdk/examples/plain-html.html'), 'utf8')
    .replaceAll('./node_modules/', './lib/')
    .replace(
      "// The manifest `tea-model pack` wrote for your model, served from your origin.\n          manifestUrl: './models/my-model/manifest.json',",
      "// The bundled profiles: models/models.json beside this page.\n          profiles: './models/models.json',",
    );
  if (!example.includes("profiles: './models/models.json'"))
    throw new Error('the plain-HTML example changed: update the release step that adapts it');
  writeFileSync(join(stage, 'example.html'), example);

  step('Licenses');
  cpSync(join(ROOT, 'LICENSE'), join(stage, 'LICENSE'));
  mkdirSync(join(stage, 'licenses'), { recursive: true });
  for (const dep of RUNTIME_DEPS) {
    const file = dep.files.find((f) => /^LICEN[CS]E/.test(f));
    cpSync(
      join(stage, 'lib', dep.name, file),
      join(stage, 'licenses', `${dep.name.replace('/', '__')}.txt`),
    );
  }
  for (const dep of BUNDLED_DEPS)
    cpSync(join(stage, dep.license), join(stage, 'licenses', `${dep.name.replace('/', '__')}.txt`));
  cpSync(
    join(stage, 'lib/@the-edge-agent/core-wasm/wasm/THIRD_PARTY_CRATES.md'),
    join(stage, 'licenses', 'rust-crates.md'),
  );
  writeFileSync(join(stage, 'NOTICE.md'), noticeText(version, deps));
  writeFileSync(join(stage, 'SERVING.md'), serveText(version));
  writeFileSync(join(stage, 'serve.json'), `${JSON.stringify(SERVE_JSON, null, 2)}\n`);
  // Which npm tarballs lib/ was unpacked from: `npm view <name>@<version> dist.integrity` agrees.
  writeFileSync(
    join(stage, 'NPM-PACKAGES.json'),
    `${JSON.stringify(
      published.map(({ name, version: v, file, integrity }) => ({
        name,
        version: v,
        file,
        integrity,
      })),
      null,
      2,
    )}\n`,
  );

  step('Writing the tarball');
  const tarball = join(assets, `${name}.tar.gz`);
  // Reproducible: sorted names, fixed times and owners, no gzip timestamp.
  run('bash', [
    '-c',
    `tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "${join(out, 'stage')}" -cf - "${name}" | gzip -9n > "${tarball}"`,
  ]);
  const report = {
    version,
    tarball: {
      file: `${name}.tar.gz`,
      bytes: statSync(tarball).size,
      unpackedBytes: dirBytes(stage),
    },
    packages: sizes,
    coreWasmBytes: statSync(join(stage, 'lib/@the-edge-agent/core-wasm/wasm/tea_core_bg.wasm'))
      .size,
    wllamaWasmBytes: statSync(join(stage, 'lib/@the-edge-agent/llm-bridge/wasm/wllama.wasm')).size,
    wllamaCpuWasmBytes: statSync(
      join(stage, 'lib/@the-edge-agent/llm-bridge/wasm/wllama-cpu-relaxed.wasm'),
    ).size,
  };
  writeFileSync(join(out, 'sizes.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`    ${report.tarball.file}: ${report.tarball.bytes} bytes`);
  return report;
}
