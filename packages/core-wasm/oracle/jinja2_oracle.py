#!/usr/bin/env python3
"""Renders TEA templates as upstream's Python engine does: the differential oracle for the engine's
template layer (oracle/README.md).

Reads JSON lines `{"id", "template", "state", "variables"}` on stdin and writes one JSON line per
case: `{"id", "ok": true, "value"}` or `{"id", "ok": false, "kind", "error"}`.

The rules are upstream's (fabceolin/the_edge_agent, python/src/the_edge_agent/yaml_engine.py and
yaml_templates.py at f507cd9), written here from their documented behaviour:

- a plain `jinja2.Environment` with `StrictUndefined` and `keep_trailing_newline=True`, plus the
  filters `fromjson` (the input back when it is not JSON), `json` (`json.dumps`) and `sha256`;
- `state`, `variables` and `secrets` are dicts whose attribute access answers a key first, then
  the dict methods get/pop/update/copy/clear/setdefault/keys/values/items, then None; a dict
  reached by attribute access is wrapped the same way;
- a text that is exactly one `{{ expression }}` evaluates to the value (compile_expression); a
  Python error other than a template error there gives the text back unchanged (`kind:
  "text-returned"`); anything else renders to text, then `${name}` takes a variable's value.

Needs Jinja2 (Debian's python3-jinja2) and nothing else.
"""

import hashlib
import json
import math
import re
import sys

from jinja2 import BaseLoader, Environment, StrictUndefined, TemplateError

KEPT_METHODS = frozenset(
    ["get", "pop", "update", "copy", "clear", "setdefault", "keys", "values", "items"]
)


class StateDict(dict):
    """A dict whose attributes are its keys (then some dict methods, then None)."""

    def __getattribute__(self, key):
        if key.startswith("_"):
            return super().__getattribute__(key)
        if dict.__contains__(self, key):
            value = dict.__getitem__(self, key)
            if isinstance(value, dict) and not isinstance(value, StateDict):
                return StateDict(value)
            return value
        if key in KEPT_METHODS:
            return super().__getattribute__(key)
        return None

    def __setattr__(self, key, value):
        self[key] = value


def fromjson(value):
    try:
        return json.loads(value)
    except (json.JSONDecodeError, TypeError):
        return value


def sha256(value):
    if isinstance(value, bytes):
        return hashlib.sha256(value).hexdigest()
    return hashlib.sha256(str(value).encode()).hexdigest()


def make_env():
    env = Environment(loader=BaseLoader(), undefined=StrictUndefined, keep_trailing_newline=True)
    env.filters["fromjson"] = fromjson
    env.filters["json"] = lambda v: json.dumps(v)
    env.filters["sha256"] = sha256
    return env


SINGLE = re.compile(r"^\{\{\s*([^}]+(?:\}(?!\})[^}]*)*)\s*\}\}$")
DOLLAR = re.compile(r"\$\{([^}]+)\}")


def render(env, text, state, variables):
    context = {
        "state": StateDict(state),
        "variables": StateDict(variables),
        "secrets": StateDict({}),
        "env": StateDict({}),
    }
    stripped = text.strip()
    single = SINGLE.match(stripped)
    if single and "{%" not in stripped and stripped.count("{{") == 1:
        expr = single.group(1).strip()
        try:
            return "value", env.compile_expression(expr)(**context)
        except TemplateError:
            raise
        except Exception as e:
            return "text-returned", (text, f"{type(e).__name__}: {e}")
    if "{{" not in text and "{%" not in text and "${" not in text:
        return "value", text
    out = env.from_string(text).render(**context)
    return "value", DOLLAR.sub(lambda m: str(variables.get(m.group(1), m.group(0))), out)


class Unserializable(Exception):
    pass


def plain(value, depth=0):
    """The value as JSON data; what JSON cannot hold is marked, not guessed."""
    if depth > 64:
        raise Unserializable("too deep")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):  # Markup too
        return str(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return {"$float": repr(value)}
        return value
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in dict.items(value)}
    if isinstance(value, (list, tuple)):
        return [plain(v, depth + 1) for v in value]
    raise Unserializable(type(value).__name__)


def main():
    env = make_env()
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        out = {"id": case.get("id")}
        try:
            kind, value = render(
                env, case["template"], case.get("state") or {}, case.get("variables") or {}
            )
            if kind == "text-returned":
                value, error = value
                out["error"] = error
            try:
                out.update(ok=True, kind=kind, value=plain(value))
            except Unserializable as e:
                out.update(ok=True, kind="unserializable", type=str(e), text=str(value)[:200])
        except TemplateError as e:
            out.update(ok=False, kind="template-error", error=f"{type(e).__name__}: {e}")
        except RecursionError as e:
            out.update(ok=False, kind="python-error", error=f"RecursionError: {e}")
        except Exception as e:  # what upstream's process_template lets through in text
            out.update(ok=False, kind="python-error", error=f"{type(e).__name__}: {e}")
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
