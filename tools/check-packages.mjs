#!/usr/bin/env node
// Checks what each published package would ship, as npm users get it:
//   publint --strict       (package.json fields, exports, files)
//   attw --pack --profile esm-only   (types resolve for every ESM consumer)
//   README links: every relative link of the README is a file the tarball contains
// Runs on the built packages (the `check-packages` target depends on every build).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dirs = readdirSync(join(root, 'packages')).map((name) => join(root, 'packages', name));
let failed = 0;
for (const dir of dirs) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (pkg.private) continue;
  // Asset subpaths (the engine's .wasm) are files to fetch, not modules with types.
  const assets = Object.keys(pkg.exports ?? {}).filter((key) => /\.(wasm|json|gguf)$/.test(key));
  const exclude = assets.length ? ['--exclude-entrypoints', ...assets] : [];
  for (const [cmd, args] of [
    ['publint', ['--strict']],
    ['attw', ['--pack', '.', '--profile', 'esm-only', '--format', 'table-flipped', ...exclude]],
  ]) {
    try {
      execFileSync('pnpm', ['exec', cmd, ...args], { cwd: dir, stdio: 'pipe' });
      console.log(`ok   ${cmd.padEnd(7)} ${pkg.name}`);
    } catch (error) {
      failed++;
      console.log(`FAIL ${cmd.padEnd(7)} ${pkg.name}`);
      console.log(String(error.stdout ?? ''), String(error.stderr ?? ''));
    }
  }
  // What `npm pack` would ship, and the README's relative links into it.
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  )[0].files.map((f) => f.path);
  const readme = readFileSync(join(dir, 'README.md'), 'utf8');
  const links = [...readme.matchAll(/\]\((?!https?:|#|mailto:)([^)#\s]+)/g)].map((m) =>
    m[1].replace(/^\.\//, ''),
  );
  const missing = links.filter((l) => !packed.some((f) => f === l || f.startsWith(`${l}/`)));
  if (missing.length) {
    failed++;
    console.log(
      `FAIL links   ${pkg.name}: the README links to ${missing.join(', ')}, not in the package`,
    );
  } else console.log(`ok   links   ${pkg.name} (${links.length} README links)`);
  // The browser entry carries no CLI code: the sources (from the source maps) of every file
  // `dist/index.js` imports, statically or on use, are outside src/cli.
  const cliSources = browserSources(join(dir, 'dist')).filter((s) =>
    /(^|\/)src\/cli(\/|\.ts$)/.test(s),
  );
  if (cliSources.length) {
    failed++;
    console.log(`FAIL browser ${pkg.name}: dist/index.js loads CLI code: ${cliSources.join(', ')}`);
  } else console.log(`ok   browser ${pkg.name} (no CLI code in dist/index.js's modules)`);
}
/** The source files of `dist/index.js` and of every dist file it imports (`./x.js`, `import('./x.js')`). */
function browserSources(dist) {
  const seen = new Set();
  const sources = new Set();
  const walk = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(join(dist, file), 'utf8');
    for (const m of text.matchAll(/(?:from\s*|import\s*\(\s*)['"]\.\/([^'"]+\.js)['"]/g))
      walk(m[1]);
    try {
      for (const s of JSON.parse(readFileSync(join(dist, `${file}.map`), 'utf8')).sources)
        sources.add(s);
    } catch {
      sources.add(`${file} (no source map)`);
    }
  };
  walk('index.js');
  return [...sources];
}

if (failed) {
  console.error(`${failed} package check(s) failed`);
  process.exit(1);
}
