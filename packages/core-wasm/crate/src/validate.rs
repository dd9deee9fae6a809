//! Validation: every problem at once, each with its YAML line and column.

use crate::error::{Code, Problem};
use crate::limits::MAX_OUTPUT_SEGMENTS;
use crate::llm::{check_response_format, PROVIDERS};
use crate::model::{
    schema_kind, NodeDef, NodeKind, Output, Workflow, DYNAMIC_PARALLEL_KEYS, EDGE_KEYS, END, NODE_KEYS, SETTINGS_KEYS, START,
    TOP_LEVEL_KEYS, WHILE_LOOP_KEYS,
};
use crate::source::{Seg, Source};
use crate::template::Templates;
use serde_json::Value;
use std::collections::{HashMap, HashSet, VecDeque};

/// Actions the engine runs itself.
pub const BUILTIN_ACTIONS: &[&str] = &["return", "passthrough", "llm.call", "llm.stream", "llm.retry", "llm.tools", "llm.embed"];
/// Upstream actions that run only through a handler registered with `register_action`.
pub const HANDLER_ACTIONS: &[&str] = &["lua.eval", "prolog.query"];
/// Type names offered in "did you mean" (Python typing forms such as `Optional[str]` are read too).
const SCHEMA_TYPES: &[&str] =
    &["str", "string", "int", "integer", "float", "number", "bool", "boolean", "list", "array", "dict", "object", "any", "Optional[str]"];

fn did_you_mean<'a>(word: &str, options: impl IntoIterator<Item = &'a str>) -> String {
    options
        .into_iter()
        .map(|o| (strsim::jaro_winkler(word, o), o))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, o)| format!(" (did you mean '{o}'?)"))
        .unwrap_or_default()
}

fn unknown_keys(src: &Source, path: &[Seg], known: &[&str], what: &str, strict: bool, out: &mut Vec<Problem>) {
    let mut node = &src.value;
    for seg in path {
        node = match (seg, node) {
            (Seg::Key(k), Value::Object(m)) => match m.get(*k) {
                Some(v) => v,
                None => return,
            },
            (Seg::Index(i), Value::Array(a)) => match a.get(*i) {
                Some(v) => v,
                None => return,
            },
            _ => return,
        };
    }
    let Value::Object(m) = node else { return };
    for key in m.keys().filter(|k| !known.contains(&k.as_str())) {
        let message = format!("unknown {what} key '{key}'{}", did_you_mean(key, known.iter().copied()));
        let p = if strict { Problem::error(Code::Validation, message) } else { Problem::warning(Code::Validation, message) };
        out.push(p.at(src.key_pos(path, key)));
    }
}

/// Reports `problem` as a warning, or as an error under `settings.strict`.
fn soft(code: Code, message: String, strict: bool) -> Problem {
    if strict {
        Problem::error(code, message)
    } else {
        Problem::warning(code, message)
    }
}

/// Checks a workflow. `actions` are the names registered from JavaScript; `templates` receives
/// every template compiled (the run uses them from there).
pub fn validate(src: &Source, wf: &Workflow, actions: &HashSet<String>, templates: &Templates, out: &mut Vec<Problem>) {
    let strict = wf.settings.strict;
    unknown_keys(src, &[], TOP_LEVEL_KEYS, "top-level", strict, out);
    check_settings(src, wf, strict, out);
    check_state_schema(src, wf, out);
    let names: HashSet<&str> = wf.nodes.iter().map(|n| n.name.as_str()).collect();
    let node_actions: HashMap<String, Option<String>> = wf.nodes.iter().map(|n| (n.name.clone(), n.action.clone())).collect();
    let cx = Cx { src, actions, templates, names: &names, node_actions: &node_actions, strict };
    cx.nodes(wf, out);
    check_edges(src, wf, &names, templates, strict, out);
    check_interrupts(src, wf, &names, out);
    if wf.nodes.is_empty() {
        out.push(Problem::error(Code::Validation, "the workflow has no nodes").at(src.pos(&[])));
    }
    unreachable(wf, strict, out);
}

/// `state_schema` field types this engine knows.
fn check_state_schema(src: &Source, wf: &Workflow, out: &mut Vec<Problem>) {
    for field in &wf.state_schema {
        if let Some(ty) = &field.ty {
            if schema_kind(ty).is_none() {
                out.push(
                    Problem::error(
                        Code::StateSchema,
                        format!(
                            "state_schema field '{}' has unknown type '{ty}'{}",
                            field.name,
                            did_you_mean(ty, SCHEMA_TYPES.iter().copied())
                        ),
                    )
                    .at(src.pos(&[Seg::Key("state_schema"), Seg::Key(&field.name)])),
                );
            }
        }
    }
}

/// Edges: their conditions, ends, `fan_in`, parallel edges beside others, unknown keys.
fn check_edges(src: &Source, wf: &Workflow, names: &HashSet<&str>, templates: &Templates, strict: bool, out: &mut Vec<Problem>) {
    for edge in &wf.edges {
        if let Some(cond) = edge.cond.expression() {
            if let Err(e) = templates.check_syntax(cond, true) {
                out.push(Problem::error(e.code, e.message).at(edge.when_pos.or(edge.pos)));
            }
        }
        if edge.from != START && !names.contains(edge.from.as_str()) {
            out.push(
                Problem::error(
                    Code::UnknownNode,
                    format!("edge from unknown node '{}'{}", edge.from, did_you_mean(&edge.from, names.iter().copied())),
                )
                .at(edge.from_pos),
            );
        }
        if edge.to != END && !names.contains(edge.to.as_str()) {
            out.push(
                Problem::error(
                    Code::UnknownNode,
                    format!("edge to unknown node '{}'{}", edge.to, did_you_mean(&edge.to, names.iter().copied())),
                )
                .at(edge.to_pos),
            );
        }
        match &edge.fan_in {
            Some(f) if !names.contains(f.as_str()) => {
                out.push(Problem::error(Code::UnknownNode, format!("fan_in node '{f}' is not a node")).at(edge.pos))
            }
            None if edge.parallel => out.push(
                Problem::error(Code::Validation, format!("parallel edge from '{}' to '{}' needs `fan_in: <node>`", edge.from, edge.to))
                    .at(edge.pos),
            ),
            _ => {}
        }
        if edge.parallel && wf.edges.iter().any(|e| e.from == edge.from && !e.parallel) {
            out.push(
                Problem::error(
                    Code::Validation,
                    format!("'{}' has both `type: parallel` edges and other edges; this engine does not run both (write the other route from the fan-in node)", edge.from),
                )
                .at(edge.pos),
            );
        }
    }
    if let Value::Object(top) = &src.value {
        if let Some(Value::Array(edges)) = top.get("edges") {
            for i in 0..edges.len() {
                unknown_keys(src, &[Seg::Key("edges"), Seg::Index(i)], EDGE_KEYS, "edge", strict, out);
            }
        }
    }
}

/// `interrupt_before` / `interrupt_after` name nodes of the workflow.
fn check_interrupts(src: &Source, wf: &Workflow, names: &HashSet<&str>, out: &mut Vec<Problem>) {
    for (key, list) in [("interrupt_before", &wf.settings.interrupt_before), ("interrupt_after", &wf.settings.interrupt_after)] {
        for name in list.iter().filter(|n| !names.contains(n.as_str())) {
            let at = ["settings", "config"].iter().find_map(|k| src.pos(&[Seg::Key(k), Seg::Key(key)]));
            out.push(
                Problem::error(
                    Code::UnknownNode,
                    format!("{key} names '{name}', which is not a node{}", did_you_mean(name, names.iter().copied())),
                )
                .at(at),
            );
        }
    }
}

/// Unknown `settings:` / `config:` keys: upstream ones this engine does not use, and typos.
fn check_settings(src: &Source, wf: &Workflow, strict: bool, out: &mut Vec<Problem>) {
    let Value::Object(top) = &src.value else { return };
    for key in ["settings", "config"] {
        let Some(Value::Object(m)) = top.get(key) else { continue };
        for k in m.keys().filter(|k| !SETTINGS_KEYS.contains(&k.as_str())) {
            let message = match k.as_str() {
                "checkpoint_dir" | "checkpointer" => format!(
                    "`{key}.{k}` is ignored: an interrupted run returns its checkpoint to the caller (keep it where you like and pass it to resume)"
                ),
                _ => format!("unknown {key} key '{k}' (ignored by the browser engine){}", did_you_mean(k, SETTINGS_KEYS.iter().copied())),
            };
            out.push(soft(Code::Validation, message, strict).at(src.key_pos(&[Seg::Key(key)], k)));
        }
        if let Some(Value::Object(p)) = m.get("parallel") {
            for k in p.keys().filter(|k| !["merge_strategy", "strategy", "record_failures"].contains(&k.as_str())) {
                out.push(
                    soft(
                        Code::Validation,
                        format!("unknown {key}.parallel key '{k}' (ignored; this engine reads merge_strategy and record_failures)"),
                        strict,
                    )
                    .at(src.key_pos(&[Seg::Key(key), Seg::Key("parallel")], k)),
                );
            }
        }
        if let Some(Value::Object(llm)) = m.get("llm") {
            for k in llm.keys() {
                if let Some(message) = llm_param_problem(k) {
                    out.push(
                        soft(Code::Validation, format!("{key}.llm: {message}"), strict)
                            .at(src.key_pos(&[Seg::Key(key), Seg::Key("llm")], k)),
                    );
                }
            }
            let at = |field: &str| src.pos(&[Seg::Key(key), Seg::Key("llm"), Seg::Key(field)]);
            out.extend(provider_problems(llm, strict, &at));
        }
    }
    let _ = wf;
}

/// What the `llm.*` actions read.
const LLM_PARAMS: &[&str] = &[
    "prompt",
    "messages",
    "system",
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "seed",
    "stop",
    "stream",
    "model",
    "max_retries",
    "base_delay",
    "max_delay",
    "response_format",
    "grammar",
    "provider",
    "api_base",
];
/// Upstream `llm.call` parameters that configure a provider in ways a browser does not: ignored
/// (a warning). `provider` / `api_base` / `model` reach the handler (the sdk routes them).
const LLM_PROVIDER_PARAMS: &[&str] = &[
    "backend",
    "api_key",
    "deployment",
    "timeout",
    "shell_provider",
    "opik_trace",
    "opik_project_name",
    "metadata",
    "n_ctx",
    "n_gpu_layers",
    "n_threads",
];

const API_KEY_IGNORED: &str = "parameter 'api_key' is not read from YAML (it would sit in the workflow's text): put the key in the run's secrets (`OPENAI_API_KEY` for OpenAI-compatible endpoints); the engine drops it";

/// `provider` and `api_base` of an `llm.*` node (or `settings.llm`), when written as literals:
/// a provider this runtime knows (`shell` and `azure` warn: a browser cannot run a CLI, and
/// Azure's own API shape is not spoken), an http(s) `api_base`.
fn provider_problems(m: &serde_json::Map<String, Value>, strict: bool, at: &dyn Fn(&str) -> Option<crate::error::Pos>) -> Vec<Problem> {
    let mut out = Vec::new();
    let literal = |v: &Value| v.as_str().filter(|s| !s.contains("{{") && !s.contains("{%")).map(str::to_string);
    if let Some(v) = m.get("provider") {
        match literal(v) {
            Some(p) if p == "shell" => out.push(
                soft(Code::Validation, "provider 'shell' runs a local command-line program, which a browser cannot: the page's model serves this call".into(), strict)
                    .at(at("provider")),
            ),
            Some(p) if p == "azure" => out.push(
                soft(
                    Code::Validation,
                    "provider 'azure' is not spoken by the sdk (Azure's deployment URLs and `api-key` header): use `provider: openai` with your resource's OpenAI-compatible `api_base` (…/openai/v1); a handler of your own receives `provider` as written"
                        .into(),
                    strict,
                )
                .at(at("provider")),
            ),
            Some(p) if !PROVIDERS.contains(&p.as_str()) => out.push(
                Problem::error(
                    Code::Validation,
                    format!("unknown provider '{p}' (one of {}){}", PROVIDERS.join(", "), did_you_mean(&p, PROVIDERS.iter().copied())),
                )
                .at(at("provider")),
            ),
            Some(_) => {}
            None if v.is_string() => {}
            None => out.push(Problem::error(Code::Validation, "`provider` must be a string").at(at("provider"))),
        }
    }
    if let Some(v) = m.get("api_base") {
        match literal(v) {
            Some(b) if !(b.starts_with("http://") || b.starts_with("https://")) => out.push(
                Problem::error(Code::Validation, format!("`api_base` must be an http(s) URL such as http://127.0.0.1:8080/v1, got {b:?}"))
                    .at(at("api_base")),
            ),
            Some(_) => {}
            None if v.is_string() => {}
            None => out.push(Problem::error(Code::Validation, "`api_base` must be a URL (text)").at(at("api_base"))),
        }
    }
    out
}

/// What `llm.tools` reads besides the `llm.call` parameters.
const TOOLS_PARAMS: &[&str] = &["tools", "tool_choice", "max_tool_rounds"];

/// A string holding a template (`{{` or `{%`): its value is known only at run time.
fn is_template_string(v: &Value) -> bool {
    matches!(v, Value::String(s) if s.contains("{{") || s.contains("{%"))
}

/// `llm.tools`: its tools (name, parameters, a registered `action`), `tool_choice` naming one of
/// them, `max_tool_rounds`, and a prompt: all checked before any generation.
fn check_tools(
    m: &serde_json::Map<String, Value>,
    base: &[Seg],
    src: &Source,
    node: &str,
    (actions, node_actions): (&HashSet<String>, &HashMap<String, Option<String>>),
    out: &mut Vec<Problem>,
) {
    let tools = Tools { m, base, src, node, actions, node_actions };
    if !m.contains_key("prompt") && !m.contains_key("messages") {
        out.push(Problem::error(Code::Validation, "llm.tools needs `prompt` or `messages`").in_node(node).at(src.pos(base)));
    }
    let names = tools.tools(out);
    tools.tool_choice(&names, out);
    tools.max_rounds(out);
}

/// An `llm.tools` node's parameters being checked, and what its tools may call.
struct Tools<'a> {
    m: &'a serde_json::Map<String, Value>,
    /// Where the parameters are (`nodes[i].with`).
    base: &'a [Seg<'a>],
    src: &'a Source,
    node: &'a str,
    actions: &'a HashSet<String>,
    node_actions: &'a HashMap<String, Option<String>>,
}

impl Tools<'_> {
    fn at(&self, extra: &[Seg]) -> Option<crate::error::Pos> {
        let mut p = self.base.to_vec();
        p.extend_from_slice(extra);
        self.src.pos(&p)
    }

    /// `tools`: a non-empty list (or a template), each tool checked; returns the tools' names.
    fn tools(&self, out: &mut Vec<Problem>) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        match self.m.get("tools") {
            Some(Value::Array(tools)) if !tools.is_empty() => {
                for (i, t) in tools.iter().enumerate() {
                    self.tool(i, t, &mut names, out);
                }
            }
            Some(v) if is_template_string(v) => {}
            _ => out.push(
                Problem::error(Code::Validation, "llm.tools needs `tools`: a list of { name, description, parameters, action }")
                    .in_node(self.node)
                    .at(self.src.pos(self.base)),
            ),
        }
        names
    }

    /// One tool: a mapping with a unique `name`, what it calls, `parameters`, no unknown keys.
    fn tool(&self, i: usize, t: &Value, names: &mut Vec<String>, out: &mut Vec<Problem>) {
        let here = [Seg::Key("tools"), Seg::Index(i)];
        let Value::Object(t) = t else {
            out.push(
                Problem::error(Code::Validation, "a tool must be a mapping with `name` and `action`").in_node(self.node).at(self.at(&here)),
            );
            return;
        };
        match t.get("name").and_then(Value::as_str) {
            Some(n) if !n.is_empty() && n.len() <= 64 && n.chars().all(|c| c.is_alphanumeric() || "_.-".contains(c)) => {
                if names.iter().any(|x| x == n) {
                    out.push(
                        Problem::error(Code::Validation, format!("tool name '{n}' is used twice")).in_node(self.node).at(self.at(&here)),
                    );
                }
                names.push(n.to_string());
            }
            _ => out.push(
                Problem::error(Code::Validation, "a tool needs a `name` (letters, digits, _ . -, at most 64)")
                    .in_node(self.node)
                    .at(self.at(&here)),
            ),
        }
        self.tool_target(t, here, out);
        if let Some(p) = t.get("parameters") {
            if !p.is_object() && !is_template_string(p) {
                out.push(
                    Problem::error(
                        Code::Validation,
                        "tool `parameters` must be a mapping (a JSON Schema, or name: { type, description, required })",
                    )
                    .in_node(self.node)
                    .at(self.at(&[here[0], here[1], Seg::Key("parameters")])),
                );
            }
        }
        for k in t.keys().filter(|k| !["name", "description", "parameters", "action", "node"].contains(&k.as_str())) {
            out.push(
                Problem::warning(Code::Validation, format!("unknown tool key '{k}' (name, description, parameters, action or node)"))
                    .in_node(self.node)
                    .at(self.at(&[here[0], here[1]])),
            );
        }
    }

    /// What a tool calls: a registered `action`, or a `node` whose action is registered.
    fn tool_target(&self, t: &serde_json::Map<String, Value>, here: [Seg; 2], out: &mut Vec<Problem>) {
        let key_at = |k: &'static str| self.at(&[here[0], here[1], Seg::Key(k)]);
        match (t.get("action"), t.get("node")) {
            (Some(_), Some(_)) => {
                out.push(Problem::error(Code::Validation, "give a tool `action` or `node`, not both").in_node(self.node).at(self.at(&here)))
            }
            (None, Some(Value::String(n))) if is_template_string(&Value::String(n.clone())) => {}
            (None, Some(Value::String(n))) => match self.node_actions.get(n) {
                None => out.push(
                    Problem::error(
                        Code::UnknownNode,
                        format!(
                            "tool node '{n}' is not a node of this workflow{}",
                            did_you_mean(n, self.node_actions.keys().map(String::as_str))
                        ),
                    )
                    .in_node(self.node)
                    .at(key_at("node")),
                ),
                Some(Some(a)) if self.actions.contains(a) => {}
                Some(a) => out.push(
                    Problem::error(
                        Code::Validation,
                        format!(
                            "tool node '{n}' uses {}: a tool runs a registered action (registerAction), so its node must use one",
                            a.as_deref().map(|a| format!("'{a}'")).unwrap_or("no action".into())
                        ),
                    )
                    .in_node(self.node)
                    .at(key_at("node")),
                ),
            },
            (Some(Value::String(a)), None) if is_template_string(&Value::String(a.clone())) => {}
            (Some(Value::String(a)), None) if self.actions.contains(a) => {}
            (Some(Value::String(a)), None) => out.push(
                Problem::error(
                    Code::UnknownAction,
                    format!(
                        "tool action '{a}' is not registered: register it with registerAction('{a}', fn) before loading the workflow{}",
                        did_you_mean(a, self.actions.iter().map(String::as_str))
                    ),
                )
                .in_node(self.node)
                .at(key_at("action")),
            ),
            _ => out.push(
                Problem::error(
                    Code::Validation,
                    "a tool needs `action` (the registered action it calls) or `node` (a node whose action it runs)",
                )
                .in_node(self.node)
                .at(self.at(&here)),
            ),
        }
    }

    /// `tool_choice`: auto, none, required, or one of the tools.
    fn tool_choice(&self, names: &[String], out: &mut Vec<Problem>) {
        match self.m.get("tool_choice") {
            None => {}
            Some(Value::String(c))
                if matches!(c.as_str(), "auto" | "none" | "required") || is_template_string(&Value::String(c.clone())) => {}
            Some(Value::String(c)) if names.iter().any(|n| n == c) => {}
            Some(v) => {
                let named = v.get("function").and_then(|f| f.get("name")).and_then(Value::as_str).or(v.as_str());
                if !named.is_some_and(|n| names.iter().any(|x| x == n)) {
                    out.push(
                        Problem::error(
                            Code::Validation,
                            format!(
                                "tool_choice must be auto, none, required or one of the tools ({}){}",
                                names.join(", "),
                                named.map(|n| did_you_mean(n, names.iter().map(String::as_str))).unwrap_or_default()
                            ),
                        )
                        .in_node(self.node)
                        .at(self.at(&[Seg::Key("tool_choice")])),
                    );
                }
            }
        }
    }

    /// `max_tool_rounds`: an integer from 1 to MAX_RETRIES (or a template).
    fn max_rounds(&self, out: &mut Vec<Problem>) {
        if let Some(r) = self.m.get("max_tool_rounds") {
            if !r.as_u64().is_some_and(|n| (1..=crate::limits::MAX_RETRIES).contains(&n)) && !is_template_string(r) {
                out.push(
                    Problem::error(
                        Code::Validation,
                        format!("max_tool_rounds must be an integer from 1 to {}", crate::limits::MAX_RETRIES),
                    )
                    .in_node(self.node)
                    .at(self.at(&[Seg::Key("max_tool_rounds")])),
                );
            }
        }
    }
}

fn llm_param_problem(k: &str) -> Option<String> {
    if LLM_PARAMS.contains(&k) {
        return None;
    }
    Some(if k == "api_key" {
        API_KEY_IGNORED.to_string()
    } else if LLM_PROVIDER_PARAMS.contains(&k) {
        format!("parameter '{k}' is ignored: the page's LLM handler (the sdk's model) serves every call")
    } else {
        format!("unknown llm parameter '{k}' (ignored){}", did_you_mean(k, LLM_PARAMS.iter().copied()))
    })
}

/// What checking a node needs.
struct Cx<'a> {
    src: &'a Source,
    actions: &'a HashSet<String>,
    templates: &'a Templates,
    names: &'a HashSet<&'a str>,
    /// Each top-level node's action (a tool may name a node: it runs that node's action).
    node_actions: &'a HashMap<String, Option<String>>,
    strict: bool,
}

impl Cx<'_> {
    fn at(&self, path: &[Seg], key: &'static str) -> Option<crate::error::Pos> {
        let mut p = path.to_vec();
        p.push(Seg::Key(key));
        self.src.pos(&p)
    }

    /// The workflow's nodes: unique, unreserved names, each node checked, `goto` beside edges.
    fn nodes(&self, wf: &Workflow, out: &mut Vec<Problem>) {
        let mut seen = HashSet::new();
        for (i, node) in wf.nodes.iter().enumerate() {
            if !seen.insert(node.name.as_str()) {
                out.push(Problem::error(Code::Validation, format!("duplicate node name '{}'", node.name)).in_node(&node.name).at(node.pos));
            }
            if node.name == START || node.name == END {
                out.push(Problem::error(Code::Validation, format!("'{}' is reserved and cannot name a node", node.name)).at(node.pos));
            }
            self.node(&[Seg::Key("nodes"), Seg::Index(i)], node, false, out);
            if node.has_goto && wf.edges.iter().any(|e| e.from == node.name) {
                out.push(
                    soft(
                        Code::Validation,
                        format!(
                            "node '{}' has both `goto` and edges; its edges are ignored (goto takes precedence, as upstream)",
                            node.name
                        ),
                        self.strict,
                    )
                    .in_node(&node.name)
                    .at(node.goto.first().and_then(|r| r.pos)),
                );
            }
        }
    }

    /// Checks one node (a step or loop body node when `nested`), and the nodes inside it.
    fn node(&self, path: &[Seg], node: &NodeDef, nested: bool, out: &mut Vec<Problem>) {
        let raw = value_at(self.src, path);
        let kind_name = raw.and_then(|m| m.get("type")).and_then(Value::as_str).unwrap_or("");
        self.node_shape(path, node, raw, kind_name, out);
        match &node.kind {
            NodeKind::Plain => self.plain(path, node, out),
            NodeKind::WhileLoop { .. } => self.while_loop(path, node, out),
            NodeKind::DynamicParallel { .. } => self.dynamic_parallel(path, node, raw, out),
        }
        self.nesting(path, node, nested, kind_name, out);
        self.routes(path, node, out);
    }

    /// A node's keys for its type, `fan_in: true|false`, a known `type`, no inline code.
    fn node_shape(
        &self,
        path: &[Seg],
        node: &NodeDef,
        raw: Option<&serde_json::Map<String, Value>>,
        kind_name: &str,
        out: &mut Vec<Problem>,
    ) {
        let keys = match &node.kind {
            NodeKind::WhileLoop { .. } => WHILE_LOOP_KEYS,
            NodeKind::DynamicParallel { .. } => DYNAMIC_PARALLEL_KEYS,
            NodeKind::Plain => NODE_KEYS,
        };
        unknown_keys(self.src, path, keys, "node", self.strict, out);
        if let (NodeKind::Plain, Some(v)) = (&node.kind, raw.and_then(|m| m.get("fan_in"))) {
            if !v.is_boolean() {
                out.push(
                    Problem::error(Code::Validation, "`fan_in:` on a node marks it as a fan-in node and must be true or false (the parallel edges name the node they join: `fan_in: <node>` goes on the edge)")
                        .in_node(&node.name)
                        .at(self.at(path, "fan_in")),
                );
            }
        }
        if !kind_name.is_empty() && !matches!(kind_name, "while_loop" | "dynamic_parallel" | "action" | "normal") {
            out.push(
                Problem::error(
                    Code::Validation,
                    format!("unknown node type '{kind_name}' (this engine runs while_loop and dynamic_parallel)"),
                )
                .in_node(&node.name)
                .at(self.at(path, "type")),
            );
        }
        for (key, pos) in &node.unsupported {
            out.push(
                Problem::error(
                    Code::Validation,
                    format!("inline `{key}:` code cannot run in the browser engine; move it into a JavaScript action registered with register_action(name, fn) and call it with `uses: name`"),
                )
                .in_node(&node.name)
                .at(*pos),
            );
        }
    }

    /// A `while_loop` node: its condition, `max_iterations`, and the nodes of its body.
    fn while_loop(&self, path: &[Seg], node: &NodeDef, out: &mut Vec<Problem>) {
        let NodeKind::WhileLoop { condition, max_iterations, body } = &node.kind else { return };
        if condition.is_empty() {
            out.push(Problem::error(Code::Validation, "while_loop needs a `condition`").in_node(&node.name).at(node.pos));
        } else if let Err(e) = self.templates.check_syntax(condition, true) {
            out.push(Problem::error(e.code, e.message).in_node(&node.name).at(self.at(path, "condition")));
        }
        if !(1..=1000).contains(max_iterations) {
            out.push(
                Problem::error(Code::Validation, "while_loop needs `max_iterations`, an integer from 1 to 1000")
                    .in_node(&node.name)
                    .at(self.at(path, "max_iterations").or(node.pos)),
            );
        }
        if body.is_empty() {
            out.push(Problem::error(Code::Validation, "while_loop needs a `body` with at least one node").in_node(&node.name).at(node.pos));
        }
        for (j, b) in body.iter().enumerate() {
            self.node(&child(path, "body", j), b, true, out);
        }
    }

    /// A `dynamic_parallel` node: `items`, one of `action:` / `steps:`, `fan_in`, its steps.
    fn dynamic_parallel(&self, path: &[Seg], node: &NodeDef, raw: Option<&serde_json::Map<String, Value>>, out: &mut Vec<Problem>) {
        let NodeKind::DynamicParallel { items, fan_in, action_mode, .. } = &node.kind else { return };
        let raw = raw.cloned().unwrap_or_default();
        if items.is_empty() {
            out.push(
                Problem::error(Code::Validation, "dynamic_parallel needs `items` (e.g. items: \"{{ state.list }}\")")
                    .in_node(&node.name)
                    .at(node.pos),
            );
        } else if let Err(e) = self.templates.check_syntax(items, false) {
            out.push(Problem::error(e.code, e.message).in_node(&node.name).at(self.at(path, "items")));
        }
        let modes: Vec<&str> = ["action", "steps", "subgraph"].into_iter().filter(|k| raw.contains_key(*k)).collect();
        if raw.contains_key("subgraph") {
            out.push(
                Problem::error(
                    Code::Validation,
                    "dynamic_parallel `subgraph:` (a workflow file per item) is not supported in the browser; use `action:` or `steps:`",
                )
                .in_node(&node.name)
                .at(self.at(path, "subgraph")),
            );
        }
        if modes.len() != 1 {
            out.push(
                Problem::error(Code::Validation, "dynamic_parallel needs exactly one of `action:` or `steps:`")
                    .in_node(&node.name)
                    .at(node.pos),
            );
        }
        if fan_in.is_empty() {
            out.push(
                Problem::error(Code::Validation, "dynamic_parallel needs `fan_in: <node>` (the node that reads parallel_results)")
                    .in_node(&node.name)
                    .at(node.pos),
            );
        } else if !self.names.contains(fan_in.as_str()) {
            out.push(
                Problem::error(
                    Code::UnknownNode,
                    format!("fan_in node '{fan_in}' is not a node{}", did_you_mean(fan_in, self.names.iter().copied())),
                )
                .in_node(&node.name)
                .at(self.at(path, "fan_in")),
            );
        }
        if raw.contains_key("output") {
            out.push(
                soft(
                    Code::Validation,
                    "a dynamic_parallel node's `output` is ignored: results are in `parallel_results` (as upstream)".into(),
                    self.strict,
                )
                .in_node(&node.name)
                .at(self.at(path, "output")),
            );
        }
        let key = if *action_mode { "action" } else { "steps" };
        for (j, step) in node.steps.iter().enumerate() {
            let p = if *action_mode { child_key(path, "action") } else { child(path, key, j) };
            self.node(&p, step, true, out);
        }
    }

    /// What a step or loop body node cannot be or have.
    fn nesting(&self, path: &[Seg], node: &NodeDef, nested: bool, kind_name: &str, out: &mut Vec<Problem>) {
        if nested && !matches!(node.kind, NodeKind::Plain) {
            out.push(
                Problem::error(
                    Code::Validation,
                    format!("a `type: {kind_name}` node cannot be a step or loop body node (upstream runs only actions there); make it a workflow node"),
                )
                .in_node(&node.name)
                .at(self.at(path, "type")),
            );
        }
        if nested && (node.has_goto || node.retry.is_some() || node.fallback.is_some()) {
            out.push(
                soft(Code::Validation, "`goto`, `retry` and `fallback` of a step or loop body node are ignored".into(), self.strict)
                    .in_node(&node.name)
                    .at(node.pos),
            );
        }
    }

    /// Where a node goes next: its `fallback` and `goto` targets (and the conditions).
    fn routes(&self, path: &[Seg], node: &NodeDef, out: &mut Vec<Problem>) {
        if let Some(f) = &node.fallback {
            if !self.names.contains(f.as_str()) {
                out.push(
                    Problem::error(
                        Code::UnknownNode,
                        format!("fallback node '{f}' is not a node{}", did_you_mean(f, self.names.iter().copied())),
                    )
                    .in_node(&node.name)
                    .at(self.at(path, "fallback")),
                );
            }
        }
        for rule in &node.goto {
            if let Some(cond) = &rule.when {
                if let Err(e) = self.templates.check_syntax(cond, true) {
                    out.push(Problem::error(e.code, e.message).in_node(&node.name).at(rule.pos));
                }
            }
            if rule.to != END && !self.names.contains(rule.to.as_str()) {
                out.push(
                    Problem::error(
                        Code::UnknownNode,
                        format!("goto target '{}' is not a node{}", rule.to, did_you_mean(&rule.to, self.names.iter().copied())),
                    )
                    .in_node(&node.name)
                    .at(rule.pos),
                );
            }
        }
    }

    fn plain(&self, path: &[Seg], node: &NodeDef, out: &mut Vec<Problem>) {
        match &node.action {
            None => {}
            Some(a) if BUILTIN_ACTIONS.contains(&a.as_str()) || self.actions.contains(a) => {}
            Some(a) if HANDLER_ACTIONS.contains(&a.as_str()) => out.push(
                Problem::error(Code::UnknownAction, format!("action '{a}' needs a handler: register one with register_action('{a}', fn)"))
                    .in_node(&node.name)
                    .at(node.action_pos),
            ),
            Some(a) => {
                let known = BUILTIN_ACTIONS.iter().copied().chain(self.actions.iter().map(String::as_str));
                out.push(
                    Problem::error(Code::UnknownAction, format!("unknown action '{a}'{}", did_you_mean(a, known)))
                        .in_node(&node.name)
                        .at(node.action_pos),
                );
            }
        }
        for (j, step) in node.steps.iter().enumerate() {
            self.node(&child(path, "steps", j), step, true, out);
        }
        check_params(self.src, path, node.action.as_deref(), &node.params, &node.name, self.strict, (self.actions, self.node_actions), out);
        if let Some(Output::Key(output)) = &node.output {
            let segments = output.split('.').count();
            let at = self.at(path, "output");
            if segments > MAX_OUTPUT_SEGMENTS {
                out.push(
                    Problem::error(
                        Code::Validation,
                        format!("`output` has {segments} dotted segments; the limit is {MAX_OUTPUT_SEGMENTS}"),
                    )
                    .in_node(&node.name)
                    .at(at),
                );
            } else if output.split('.').any(str::is_empty) {
                out.push(
                    Problem::error(Code::Validation, format!("`output` '{output}' has an empty segment (write `a.b`, not `a..b` or `.a`)"))
                        .in_node(&node.name)
                        .at(at),
                );
            }
        }
        if let Some(Output::Map(map)) = &node.output {
            for (k, t) in map {
                if let Value::String(t) = t {
                    if let Err(e) = self.templates.check_syntax(t, false) {
                        out.push(Problem::error(e.code, e.message).in_node(&node.name).at(self.src.key_pos(&child_key(path, "output"), k)));
                    }
                }
            }
        }
        check_templates(self.src, path, &node.params, &node.name, self.templates, out);
    }
}

fn child<'a>(path: &[Seg<'a>], key: &'a str, j: usize) -> Vec<Seg<'a>> {
    let mut p = path.to_vec();
    p.push(Seg::Key(key));
    p.push(Seg::Index(j));
    p
}

fn child_key<'a>(path: &[Seg<'a>], key: &'a str) -> Vec<Seg<'a>> {
    let mut p = path.to_vec();
    p.push(Seg::Key(key));
    p
}

/// The mapping at `path` in the document, if it is one.
fn value_at<'v>(src: &'v Source, path: &[Seg]) -> Option<&'v serde_json::Map<String, Value>> {
    let mut node = &src.value;
    for seg in path {
        node = match (seg, node) {
            (Seg::Key(k), Value::Object(m)) => m.get(*k)?,
            (Seg::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    node.as_object()
}

/// The key a node's parameters are under (`with`, or the older `params`).
fn params_key(src: &Source, path: &[Seg]) -> &'static str {
    match value_at(src, path) {
        Some(m) if !m.contains_key("with") && m.contains_key("params") => "params",
        _ => "with",
    }
}

/// Template syntax errors in a node's parameters, each at its parameter's line.
fn check_templates(src: &Source, path: &[Seg], params: &Value, node: &str, templates: &Templates, out: &mut Vec<Problem>) {
    let key = params_key(src, path);
    // Iterative: parameters nest as deep as the YAML allows.
    let mut stack: Vec<(&Value, Option<&str>)> = vec![(params, None)];
    while let Some((v, top_key)) = stack.pop() {
        match v {
            Value::String(s) => {
                if let Err(e) = templates.check_syntax(s, false) {
                    let mut p = child_key(path, key);
                    if let Some(k) = top_key {
                        p.push(Seg::Key(k));
                    }
                    let at = src.pos(&p);
                    out.push(Problem::error(e.code, e.message).in_node(node).at(at));
                }
            }
            Value::Array(items) => stack.extend(items.iter().map(|x| (x, top_key))),
            Value::Object(m) => stack.extend(m.iter().map(|(k, x)| (x, top_key.or(Some(k.as_str()))))),
            _ => {}
        }
    }
}

/// Whether any string inside `v` is a template (then its shape is known only at run time).
fn contains_template(v: &Value) -> bool {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) if s.contains("{{") || s.contains("{%") => return true,
            Value::Array(items) => stack.extend(items),
            Value::Object(m) => stack.extend(m.values()),
            _ => {}
        }
    }
    false
}

#[allow(clippy::too_many_arguments)]
fn check_params(
    src: &Source,
    path: &[Seg],
    action: Option<&str>,
    params: &Value,
    node: &str,
    strict: bool,
    (actions, node_actions): (&HashSet<String>, &HashMap<String, Option<String>>),
    out: &mut Vec<Problem>,
) {
    let key = params_key(src, path);
    let base = child_key(path, key);
    let m = match params {
        Value::Null => return,
        Value::Object(m) => m,
        _ => {
            out.push(Problem::error(Code::Validation, format!("`{key}` must be a mapping of parameters")).in_node(node).at(src.pos(&base)));
            return;
        }
    };
    let params = Params { src, base: &base, m, action, node, strict };
    params.llm_warnings(out);
    match action {
        Some("llm.call" | "llm.stream" | "llm.retry") => params.llm_call(out),
        Some("llm.tools") => check_tools(m, &base, src, node, (actions, node_actions), out),
        Some("llm.embed") => params.llm_embed(out),
        _ => {}
    }
}

/// A string with `{{`: a parameter whose type is known only after templating.
fn holds_expression(v: &Value) -> bool {
    matches!(v, Value::String(s) if s.contains("{{"))
}

/// A node's parameters (`with:`) being checked, and where they are.
struct Params<'a> {
    src: &'a Source,
    /// Where the parameters are (`nodes[i].with`).
    base: &'a [Seg<'a>],
    m: &'a serde_json::Map<String, Value>,
    action: Option<&'a str>,
    node: &'a str,
    strict: bool,
}

impl Params<'_> {
    fn at(&self, field: &str) -> Option<crate::error::Pos> {
        let mut p = self.base.to_vec();
        p.push(Seg::Key(field));
        self.src.pos(&p)
    }

    /// Parameter `field`, when given and not a template, must pass `ok` (be `what`).
    fn expect(&self, out: &mut Vec<Problem>, field: &str, ok: fn(&Value) -> bool, what: &str) {
        if let Some(v) = self.m.get(field) {
            if !ok(v) && !holds_expression(v) {
                out.push(
                    Problem::error(
                        Code::Validation,
                        format!("parameter '{field}' of {} must be {what}", self.action.unwrap_or("the action")),
                    )
                    .in_node(self.node)
                    .at(self.at(field)),
                );
            }
        }
    }

    /// The `llm.*` actions' provider, and parameters they ignore or do not know (warnings).
    fn llm_warnings(&self, out: &mut Vec<Problem>) {
        if matches!(self.action, Some("llm.call" | "llm.stream" | "llm.retry" | "llm.tools" | "llm.embed")) {
            for p in provider_problems(self.m, self.strict, &|f: &str| self.at(f)) {
                out.push(p.in_node(self.node));
            }
        }
        if matches!(self.action, Some("llm.call" | "llm.stream" | "llm.retry" | "llm.tools")) {
            for k in self.m.keys().filter(|k| self.action != Some("llm.tools") || !TOOLS_PARAMS.contains(&k.as_str())) {
                if let Some(message) = llm_param_problem(k) {
                    out.push(soft(Code::Validation, message, self.strict).in_node(self.node).at(self.at(k)));
                }
            }
        }
        if self.action == Some("llm.embed") {
            const EMBED_PARAMS: &[&str] = &["input", "text", "model", "provider", "api_base"];
            for k in self.m.keys().filter(|k| !EMBED_PARAMS.contains(&k.as_str())) {
                let message = if k == "api_key" {
                    API_KEY_IGNORED.to_string()
                } else if LLM_PROVIDER_PARAMS.contains(&k.as_str()) {
                    format!("parameter '{k}' is ignored: the page's LLM handler (the sdk's model) serves every call")
                } else {
                    format!("unknown llm.embed parameter '{k}' (ignored){}", did_you_mean(k, EMBED_PARAMS.iter().copied()))
                };
                out.push(soft(Code::Validation, message, self.strict).in_node(self.node).at(self.at(k)));
            }
        }
    }

    /// `llm.call` / `llm.stream` / `llm.retry`: parameter types, `response_format`, a prompt.
    fn llm_call(&self, out: &mut Vec<Problem>) {
        self.expect(out, "prompt", Value::is_string, "a string");
        self.expect(out, "system", Value::is_string, "a string");
        self.expect(out, "messages", Value::is_array, "a list of { role, content }");
        self.expect(out, "max_tokens", |v| v.as_u64().is_some(), "a positive integer");
        self.expect(out, "temperature", Value::is_number, "a number");
        self.expect(out, "top_p", Value::is_number, "a number");
        self.expect(out, "top_k", |v| v.as_u64().is_some(), "a non-negative integer");
        self.expect(out, "seed", |v| v.as_i64().is_some(), "an integer");
        self.expect(out, "stop", |v| v.is_string() || v.is_array(), "a string or a list of strings");
        self.expect(out, "stream", Value::is_boolean, "true or false");
        self.expect(out, "grammar", Value::is_string, "a GBNF grammar (text)");
        if let Some(format) = self.m.get("response_format") {
            if !holds_expression(format) && !contains_template(format) {
                if let Err(e) = check_response_format(format) {
                    out.push(Problem::error(Code::Validation, e.message).in_node(self.node).at(self.at("response_format")));
                }
            }
            let json = !matches!(format.get("type").and_then(Value::as_str), Some("text"));
            if json && self.m.contains_key("grammar") {
                out.push(
                    Problem::error(Code::Validation, "give `grammar` or a JSON `response_format`, not both")
                        .in_node(self.node)
                        .at(self.at("grammar")),
                );
            }
        }
        if !self.m.contains_key("prompt") && !self.m.contains_key("messages") {
            out.push(
                Problem::error(Code::Validation, "llm.call needs `prompt` or `messages`").in_node(self.node).at(self.src.pos(self.base)),
            );
        }
    }

    /// `llm.embed`: `input` (or upstream's `text`).
    fn llm_embed(&self, out: &mut Vec<Problem>) {
        self.expect(out, "input", |v| v.is_string() || v.is_array(), "a string or a list of strings");
        self.expect(out, "text", |v| v.is_string() || v.is_array(), "a string or a list of strings");
        if !self.m.contains_key("input") && !self.m.contains_key("text") {
            out.push(
                Problem::error(Code::Validation, "llm.embed needs `input` (or upstream's `text`)")
                    .in_node(self.node)
                    .at(self.src.pos(self.base)),
            );
        }
    }
}

/// Nodes no route from `__start__` reaches (goto, edges, implicit chaining): a warning (an error
/// under `strict`), as upstream runs such workflows.
fn unreachable(wf: &Workflow, strict: bool, out: &mut Vec<Problem>) {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut queue: VecDeque<&str> = VecDeque::new();
    fn from<'w>(wf: &'w Workflow, name: &'w str) -> impl Iterator<Item = &'w crate::model::EdgeDef> {
        wf.edges.iter().filter(move |e| e.from == name)
    }
    if from(wf, START).next().is_none() {
        queue.extend(wf.nodes.first().map(|n| n.name.as_str()));
    }
    queue.extend(from(wf, START).flat_map(|e| [Some(e.to.as_str()), e.fan_in.as_deref()]).flatten());
    while let Some(name) = queue.pop_front() {
        if name == END || !seen.insert(name) {
            continue;
        }
        let Some(idx) = wf.nodes.iter().position(|n| n.name == name) else { continue };
        let node = &wf.nodes[idx];
        if node.has_goto {
            queue.extend(node.goto.iter().map(|r| r.to.as_str()));
        } else if from(wf, name).next().is_some() {
            queue.extend(from(wf, name).flat_map(|e| [Some(e.to.as_str()), e.fan_in.as_deref()]).flatten());
        } else if let Some(next) = wf.nodes.get(idx + 1) {
            queue.push_back(&next.name);
        }
        if let NodeKind::DynamicParallel { fan_in, .. } = &node.kind {
            queue.push_back(fan_in);
        }
        queue.extend(node.fallback.as_deref());
    }
    // Nodes that `llm.tools` nodes name as tools run when the model calls them.
    let tools: HashSet<&str> = wf
        .nodes
        .iter()
        .filter(|n| n.action.as_deref() == Some("llm.tools"))
        .filter_map(|n| n.params.get("tools").and_then(Value::as_array))
        .flatten()
        .filter_map(|t| t.get("node").and_then(Value::as_str))
        .collect();
    for node in &wf.nodes {
        if !seen.contains(node.name.as_str()) && !tools.contains(node.name.as_str()) {
            out.push(
                soft(Code::Validation, format!("node '{}' is never reached from __start__ (it will not run)", node.name), strict)
                    .in_node(&node.name)
                    .at(node.pos),
            );
        }
    }
}
