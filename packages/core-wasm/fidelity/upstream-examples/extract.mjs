// Copies upstream TEA's browser-capable example workflows (see ../README.md, "Upstream examples
// that use only browser-capable actions") into this folder, with upstream's own assertions where
// upstream has them. Run against a checkout of github.com/fabceolin/the_edge_agent:
//   node extract.mjs /path/to/the_edge_agent
// The copies are committed; this script documents where each came from.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// The demo's initial states are YAML: js-yaml (a dependency of the workspace's tooling) reads them.
const yamlLib = createRequire(import.meta.url)(process.env.JS_YAML ?? 'js-yaml');

const repo = process.argv[2];
if (!repo) throw new Error('usage: node extract.mjs <the_edge_agent checkout>');
const show = (path) =>
  execFileSync('git', ['-C', repo, 'show', `HEAD:${path}`], { encoding: 'utf8' });
const commit = execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
const cases = {};
const put = (name, source, yaml, entry) => {
  writeFileSync(
    new URL(`${name}.yaml`, import.meta.url),
    `# upstream: ${source} (MIT, ${commit.slice(0, 12)})\n${yaml.trimStart()}`,
  );
  cases[name] = { source, ...entry };
};

// rust/tea-wasm-llm/tests/test_examples.rs: YAML in Rust strings, and assert_eq! on the result.
const tests = show('rust/tea-wasm-llm/tests/test_examples.rs');
const consts = Object.fromEntries(
  [...tests.matchAll(/const (\w+): &str = r#"([\s\S]*?)"#;/g)].map((m) => [m[1], m[2]]),
);
for (const fn of tests.split(/#\[tokio::test\]/).slice(1)) {
  const name = /async fn test_(\w+)/.exec(fn)[1];
  const [, constName, state] = /execute_yaml\((\w+), json!\(([\s\S]*?)\)\)\.await/.exec(fn);
  const asserts = [...fn.matchAll(/assert_eq!\(result((?:\["\w+"\])+), (.+)\);/g)].map((m) => ({
    path: [...m[1].matchAll(/"(\w+)"/g)].map((k) => k[1]),
    value: JSON.parse(m[2]),
  }));
  put(
    `rust-test-${name.replace(/_/g, '-')}`,
    `rust/tea-wasm-llm/tests/test_examples.rs#test_${name}`,
    consts[constName],
    {
      initialState: JSON.parse(state),
      asserts,
    },
  );
}

// docs/extra/wasm-demo/app.js: the demo's EXAMPLES (YAML and a YAML initial state).
const app = show('docs/extra/wasm-demo/app.js');
for (const m of app.matchAll(
  /'([\w-]+)': \{\s*name: '[^']*',[\s\S]*?yaml: `([\s\S]*?)`,\s*state: `([\s\S]*?)`/g,
)) {
  // neurosymbolic-qa runs lua.eval / prolog.query: not browser-capable without handlers.
  if (m[1] === 'neurosymbolic-qa') continue;
  put(`wasm-demo-${m[1]}`, `docs/extra/wasm-demo/app.js#EXAMPLES['${m[1]}']`, m[2], {
    initialState: yamlLib.load(m[3]),
    asserts: [],
  });
}

// Files that run as they are.
for (const [name, path] of [
  ['fixture-simple-workflow', 'rust/tea-wasm-llm/tests/fixtures/simple-workflow.yaml'],
  ['llm-local-embed', 'examples/llm/local-embed.yaml'],
  ['workflows-test-claude-shell', 'examples/workflows/test-claude-shell.yaml'],
  ['workflows-autonomous-prompt', 'examples/workflows/autonomous-prompt.yaml'],
  ['truth-resolution-agent', 'examples/truth-resolution-agent.yaml'],
]) {
  put(name, path, show(path), { initialState: {}, asserts: [] });
}
writeFileSync(new URL('expected.json', import.meta.url), JSON.stringify(cases, null, 2) + '\n');
console.warn(`${Object.keys(cases).length} examples written`);
