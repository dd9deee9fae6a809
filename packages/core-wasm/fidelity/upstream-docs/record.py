#!/usr/bin/env python3
"""Records upstream TEA's documented workflows, judged by upstream's own Python engine.

    python3 record.py /path/to/the_edge_agent   (a checkout: python/, docs/shared/, examples/)

1. Extracts every YAML workflow (a mapping with a `nodes:` list) from upstream's YAML reference
   (docs/shared/YAML_REFERENCE.md, docs/shared/yaml-reference/**) and examples/**, and keeps those
   that use only browser-capable actions (llm.call, llm.stream, llm.retry, llm.embed, llm.tools,
   return, passthrough, or none) and no inline code (`run:`, `script:`).
2. Runs each through upstream's Python engine (YAMLEngine.load_from_dict, then the graph's
   invoke) from the YAML's `initial_state` (as upstream's `tea run` starts it), with the LLM
   stubbed the way core-wasm's test stubs it: the reply to a chat is "echo:" + the last user
   message (no usage), an embedding of a text is [len(text), 1]. The OpenAI client upstream
   calls is replaced, and the command-line tools its `provider: shell` runs (claude, gemini...)
   are stand-ins that answer the same way, so upstream's own llm.* code runs. Third-party
   modules upstream imports but these workflows never use (fsspec, duckdb, ...) are empty
   stand-ins.
3. Writes <name>.yaml (the workflow as upstream documents it) and expected.json (where it came
   from, and upstream's final state or error). The copies are committed; upstream's code is not.

Needs Python 3 with PyYAML and Jinja2 (Debian's python3-yaml, python3-jinja2).
"""

import importlib.abc
import importlib.machinery
import json
import os
import re
import signal
import subprocess
import sys
import types

BROWSER_ACTIONS = {"llm.call", "llm.stream", "llm.retry", "llm.embed", "llm.tools", "return", "passthrough"}
STUBBED = set()


class _Stub(type):
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Stub(name, (object,), {})

    def __call__(cls, *a, **k):
        return cls


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Stub(name, (object,), {})


class _StandIns(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on sys.meta_path: a module nothing else finds is an empty stand-in."""

    def find_spec(self, name, path, target=None):
        STUBBED.add(name)
        return importlib.machinery.ModuleSpec(name, self, is_package=True)

    def create_module(self, spec):
        m = _StubModule(spec.name)
        m.__path__ = []
        return m

    def exec_module(self, module):
        pass


def _fake_openai():
    """The OpenAI client upstream's llm actions call, answering as the scripted LLM."""
    m = types.ModuleType("openai")
    ns = types.SimpleNamespace

    def last_user(messages):
        for msg in reversed(messages or []):
            if msg.get("role") == "user":
                c = msg.get("content")
                return c if isinstance(c, str) else json.dumps(c)
        return ""

    class Completions:
        def create(self, **kw):
            content = "echo:" + last_user(kw.get("messages"))
            if kw.get("stream"):
                return iter([ns(choices=[ns(delta=ns(content=content), finish_reason=None)], usage=None)])
            return ns(
                choices=[ns(message=ns(content=content, tool_calls=None, role="assistant"), finish_reason=None)],
                usage=None,
                model=None,
            )

    class Embeddings:
        def create(self, input=None, **kw):
            texts = input if isinstance(input, list) else [input]
            return ns(data=[ns(embedding=[len(str(t)), 1], index=i) for i, t in enumerate(texts)], usage=None)

    class OpenAI:
        def __init__(self, *a, **k):
            self.chat = ns(completions=Completions())
            self.embeddings = Embeddings()

    m.OpenAI = m.AzureOpenAI = OpenAI
    for name in ["APIError", "APIConnectionError", "RateLimitError", "APITimeoutError", "OpenAIError"]:
        setattr(m, name, type(name, (Exception,), {}))
    return m


def extract(root):
    """(name, source, yaml text) of every documented workflow, and why others were left out."""
    import yaml

    found, skipped = [], {}

    def blocks():
        for base in ["docs/shared"]:
            for dp, dn, fn in sorted(os.walk(os.path.join(root, base))):
                dn.sort()
                for f in sorted(fn):
                    if f.endswith(".md"):
                        path = os.path.join(dp, f)
                        text = open(path, encoding="utf-8").read()
                        for i, m in enumerate(re.finditer(r"```ya?ml\n(.*?)```", text, re.S)):
                            yield f"{os.path.relpath(path, root)}#yaml-block-{i + 1}", m.group(1)
        for dp, dn, fn in sorted(os.walk(os.path.join(root, "examples"))):
            dn.sort()
            for f in sorted(fn):
                if f.endswith((".yaml", ".yml")):
                    path = os.path.join(dp, f)
                    yield os.path.relpath(path, root), open(path, encoding="utf-8").read()

    def nodes(ns):
        for n in ns or []:
            if isinstance(n, dict):
                yield n
                for k in ("steps", "body"):
                    if isinstance(n.get(k), list):
                        yield from nodes(n[k])

    for source, text in blocks():
        try:
            doc = yaml.safe_load(text)
        except Exception:
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("nodes"), list):
            continue
        why = None
        for n in nodes(doc["nodes"]):
            if "run" in n or "script" in n:
                why = "inline code (run: / script:)"
                break
            a = n.get("uses") or n.get("action")
            if isinstance(a, dict):
                a = a.get("uses")
            if a and a not in BROWSER_ACTIONS:
                why = f"action {a}"
                break
        if why:
            skipped[source] = why
            continue
        name = re.sub(r"[^a-z0-9]+", "-", re.sub(r"\.(md|ya?ml)(#|$)", r"\2", source.lower().replace("docs/shared/", ""))).strip("-")
        found.append((name, source, text))
    return found, skipped


FAKE_CLI = """#!/usr/bin/env python3
# A stand-in for an LLM command-line tool (upstream's shell providers): answers as the scripted
# LLM, "echo:" + the prompt (the -p argument, else standard input).
import sys
args = sys.argv[1:]
prompt = args[args.index("-p") + 1] if "-p" in args else sys.stdin.read()
sys.stdout.write("echo:" + prompt)
"""


def fake_clis():
    """A folder of stand-ins for the CLIs upstream's shell providers run (claude, codex, ...)."""
    import tempfile

    d = tempfile.mkdtemp(prefix="tea-fake-cli-")
    for name in ["claude", "codex", "gemini", "qwen", "opencode", "agent"]:
        path = os.path.join(d, name)
        open(path, "w").write(FAKE_CLI)
        os.chmod(path, 0o755)
    return d


def run_upstream(root, text):
    """Upstream's final state, or its error, for one workflow, started as upstream's CLI starts
    it (`tea run`: the YAML's `initial_state`, no input)."""
    import yaml
    from the_edge_agent import YAMLEngine

    def encode(v):
        if hasattr(v, "to_dict"):
            return v.to_dict()
        return str(v)

    def alarm(*_):
        raise TimeoutError("upstream did not finish in 20 s")

    signal.signal(signal.SIGALRM, alarm)
    signal.alarm(20)
    try:
        engine = YAMLEngine()
        config = yaml.safe_load(text)
        try:
            graph = engine.load_from_dict(config)
        except Exception as e:
            return {"error": "load", "phase": "load", "upstreamMessage": f"{type(e).__name__}: {e}"}
        final = None
        initial = dict(config.get("initial_state") or {})
        for event in graph.invoke(initial):
            if isinstance(event, dict) and event.get("type") == "error":
                return {
                    "error": "run",
                    "phase": "run",
                    "node": event.get("node"),
                    "upstreamMessage": str(event.get("error")),
                }
            if isinstance(event, dict) and event.get("type") in ("final", "interrupt"):
                final = event
        if final is None:
            return {"error": "run", "phase": "run", "upstreamMessage": "no final event"}
        state = json.loads(json.dumps(final.get("state"), default=encode))
        if final.get("type") == "interrupt":
            return {"interrupted": {"node": final.get("node"), "state": state}}
        return {"state": state}
    except Exception as e:
        return {"error": "run", "phase": "run", "upstreamMessage": f"{type(e).__name__}: {e}"}
    finally:
        signal.alarm(0)


def main():
    root = os.path.abspath(sys.argv[1])
    out = os.path.dirname(os.path.abspath(__file__))
    sys.meta_path.append(_StandIns())
    sys.modules["openai"] = _fake_openai()
    sys.path.insert(0, os.path.join(root, "python", "src"))
    os.environ["PATH"] = fake_clis() + os.pathsep + os.environ.get("PATH", "")
    try:
        commit = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = ""
    commit = commit or os.environ.get("TEA_UPSTREAM_COMMIT", "unknown")
    found, skipped = extract(root)
    cases = {}
    for name, source, text in found:
        header = f"# upstream: {source} (MIT, {commit[:12]})\n"
        open(os.path.join(out, f"{name}.yaml"), "w", encoding="utf-8").write(header + text)
        cases[name] = {"source": source, "initialState": {}, "expect": run_upstream(root, text)}
        print(f"{name}: {list(cases[name]['expect'])[0]}", file=sys.stderr)
    record = {
        "upstream": commit,
        "llm": "echo:<last user message>, no usage; embedding [len(text), 1]",
        "standIns": sorted(m for m in STUBBED if "." not in m),
        "skipped": skipped,
        "cases": cases,
    }
    open(os.path.join(out, "expected.json"), "w", encoding="utf-8").write(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(cases)} workflows recorded, {len(skipped)} left out (not browser-capable)", file=sys.stderr)


if __name__ == "__main__":
    main()
