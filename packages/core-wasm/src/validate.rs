//! Validation: every problem at once, each with its YAML line and column.

use crate::error::{Code, Problem};
use crate::limits::MAX_OUTPUT_SEGMENTS;
use crate::model::{Workflow, EDGE_KEYS, END, NODE_KEYS, START, TOP_LEVEL_KEYS};
use crate::source::{Seg, Source};
use crate::template::Templates;
use serde_json::Value;
use std::collections::{HashSet, VecDeque};

/// Actions the engine runs itself.
pub const BUILTIN_ACTIONS: &[&str] = &["return", "passthrough", "llm.call", "llm.stream", "llm.embed"];
/// Upstream actions that run only through a handler registered with `register_action`.
pub const HANDLER_ACTIONS: &[&str] = &["lua.eval", "prolog.query"];
const SCHEMA_TYPES: &[&str] =
    &["str", "string", "int", "integer", "float", "number", "bool", "boolean", "list", "array", "dict", "object", "any"];

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

/// Checks a workflow. `actions` are the names registered from JavaScript; `templates` receives
/// every template compiled (the run uses them from there).
pub fn validate(src: &Source, wf: &Workflow, actions: &HashSet<String>, templates: &Templates, out: &mut Vec<Problem>) {
    let strict = wf.settings.strict;
    unknown_keys(src, &[], TOP_LEVEL_KEYS, "top-level", strict, out);
    for field in &wf.state_schema {
        if let Some(ty) = &field.ty {
            if !SCHEMA_TYPES.contains(&ty.as_str()) {
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
    let names: HashSet<&str> = wf.nodes.iter().map(|n| n.name.as_str()).collect();
    let mut seen = HashSet::new();
    for (i, node) in wf.nodes.iter().enumerate() {
        unknown_keys(src, &[Seg::Key("nodes"), Seg::Index(i)], NODE_KEYS, "node", strict, out);
        if !seen.insert(node.name.as_str()) {
            out.push(Problem::error(Code::Validation, format!("duplicate node name '{}'", node.name)).in_node(&node.name).at(node.pos));
        }
        if node.name == START || node.name == END {
            out.push(Problem::error(Code::Validation, format!("'{}' is reserved and cannot name a node", node.name)).at(node.pos));
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
        match &node.action {
            None if node.unsupported.is_empty() => {
                out.push(Problem::error(Code::Validation, "node has no action (`uses:` or `action:`)").in_node(&node.name).at(node.pos))
            }
            None => {}
            Some(a) if BUILTIN_ACTIONS.contains(&a.as_str()) || actions.contains(a) => {}
            Some(a) if HANDLER_ACTIONS.contains(&a.as_str()) => out.push(
                Problem::error(Code::UnknownAction, format!("action '{a}' needs a handler: register one with register_action('{a}', fn)"))
                    .in_node(&node.name)
                    .at(node.action_pos),
            ),
            Some(a) => {
                let known = BUILTIN_ACTIONS.iter().copied().chain(actions.iter().map(String::as_str));
                out.push(
                    Problem::error(Code::UnknownAction, format!("unknown action '{a}'{}", did_you_mean(a, known)))
                        .in_node(&node.name)
                        .at(node.action_pos),
                );
            }
        }
        check_params(src, i, node.action.as_deref(), &node.params, &node.name, out);
        if let Some(output) = &node.output {
            let segments = output.split('.').count();
            let at = src.pos(&[Seg::Key("nodes"), Seg::Index(i), Seg::Key("output")]);
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
        check_templates(src, i, &node.params, &node.name, templates, out);
        for rule in &node.goto {
            if let Some(cond) = &rule.when {
                if let Err(e) = templates.check_syntax(cond, true) {
                    out.push(Problem::error(Code::Template, e.message).in_node(&node.name).at(rule.pos));
                }
            }
            if rule.to != END && !names.contains(rule.to.as_str()) {
                out.push(
                    Problem::error(
                        Code::UnknownNode,
                        format!("goto target '{}' is not a node{}", rule.to, did_you_mean(&rule.to, names.iter().copied())),
                    )
                    .in_node(&node.name)
                    .at(rule.pos),
                );
            }
        }
    }
    for edge in &wf.edges {
        if let Some(cond) = &edge.when {
            if let Err(e) = templates.check_syntax(cond, true) {
                out.push(Problem::error(Code::Template, e.message).at(edge.when_pos.or(edge.pos)));
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
        if let Some(f) = &edge.fan_in {
            if !names.contains(f.as_str()) {
                out.push(Problem::error(Code::UnknownNode, format!("fan_in node '{f}' is not a node")).at(edge.pos));
            }
        }
    }
    if let Value::Object(top) = &src.value {
        if let Some(Value::Array(edges)) = top.get("edges") {
            for i in 0..edges.len() {
                unknown_keys(src, &[Seg::Key("edges"), Seg::Index(i)], EDGE_KEYS, "edge", strict, out);
            }
        }
    }
    if !wf.edges.is_empty() && !wf.edges.iter().any(|e| e.from == START) {
        out.push(Problem::error(Code::Validation, "edges are used but none starts at '__start__'").at(src.pos(&[Seg::Key("edges")])));
    }
    if wf.nodes.is_empty() {
        out.push(Problem::error(Code::Validation, "the workflow has no nodes").at(src.pos(&[])));
    }
    unreachable(wf, out);
}

/// Template syntax errors in a node's parameters, each at its parameter's line.
fn check_templates(src: &Source, i: usize, params: &Value, node: &str, templates: &Templates, out: &mut Vec<Problem>) {
    let key = match &src.value {
        Value::Object(top) => match top.get("nodes").and_then(|n| n.get(i)) {
            Some(Value::Object(m)) if m.contains_key("with") => "with",
            _ => "params",
        },
        _ => "with",
    };
    // Iterative: parameters nest as deep as the YAML allows.
    let mut stack: Vec<(&Value, Option<&str>)> = vec![(params, None)];
    while let Some((v, top_key)) = stack.pop() {
        match v {
            Value::String(s) => {
                if let Err(e) = templates.check_syntax(s, false) {
                    let at = match top_key {
                        Some(k) => src.pos(&[Seg::Key("nodes"), Seg::Index(i), Seg::Key(key), Seg::Key(k)]),
                        None => src.pos(&[Seg::Key("nodes"), Seg::Index(i), Seg::Key(key)]),
                    };
                    out.push(Problem::error(Code::Template, e.message).in_node(node).at(at));
                }
            }
            Value::Array(items) => stack.extend(items.iter().map(|x| (x, top_key))),
            Value::Object(m) => stack.extend(m.iter().map(|(k, x)| (x, top_key.or(Some(k.as_str()))))),
            _ => {}
        }
    }
}

fn check_params(src: &Source, i: usize, action: Option<&str>, params: &Value, node: &str, out: &mut Vec<Problem>) {
    let key = match &src.value {
        Value::Object(top) => match top.get("nodes").and_then(|n| n.get(i)) {
            Some(Value::Object(m)) if m.contains_key("with") => "with",
            _ => "params",
        },
        _ => "with",
    };
    let at = |field: &str| src.pos(&[Seg::Key("nodes"), Seg::Index(i), Seg::Key(key), Seg::Key(field)]);
    let m = match params {
        Value::Null => return,
        Value::Object(m) => m,
        _ => {
            out.push(Problem::error(Code::Validation, format!("`{key}` must be a mapping of parameters")).in_node(node).at(src.pos(&[
                Seg::Key("nodes"),
                Seg::Index(i),
                Seg::Key(key),
            ])));
            return;
        }
    };
    let is_template = |v: &Value| matches!(v, Value::String(s) if s.contains("{{"));
    let mut expect = |field: &str, ok: fn(&Value) -> bool, what: &str| {
        if let Some(v) = m.get(field) {
            if !ok(v) && !is_template(v) {
                out.push(
                    Problem::error(Code::Validation, format!("parameter '{field}' of {} must be {what}", action.unwrap_or("the action")))
                        .in_node(node)
                        .at(at(field)),
                );
            }
        }
    };
    match action {
        Some("llm.call" | "llm.stream") => {
            expect("prompt", Value::is_string, "a string");
            expect("system", Value::is_string, "a string");
            expect("messages", Value::is_array, "a list of { role, content }");
            expect("max_tokens", |v| v.as_u64().is_some(), "a positive integer");
            expect("temperature", Value::is_number, "a number");
            expect("top_p", Value::is_number, "a number");
            expect("top_k", |v| v.as_u64().is_some(), "a non-negative integer");
            expect("seed", |v| v.as_i64().is_some(), "an integer");
            expect("stop", |v| v.is_string() || v.is_array(), "a string or a list of strings");
            expect("stream", Value::is_boolean, "true or false");
            if !m.contains_key("prompt") && !m.contains_key("messages") {
                out.push(Problem::error(Code::Validation, "llm.call needs `prompt` or `messages`").in_node(node).at(src.pos(&[
                    Seg::Key("nodes"),
                    Seg::Index(i),
                    Seg::Key(key),
                ])));
            }
        }
        Some("llm.embed") => {
            expect("input", |v| v.is_string() || v.is_array(), "a string or a list of strings");
            expect("text", |v| v.is_string() || v.is_array(), "a string or a list of strings");
            if !m.contains_key("input") && !m.contains_key("text") {
                out.push(Problem::error(Code::Validation, "llm.embed needs `input` (or upstream's `text`)").in_node(node).at(src.pos(&[
                    Seg::Key("nodes"),
                    Seg::Index(i),
                    Seg::Key(key),
                ])));
            }
        }
        _ => {}
    }
}

/// Nodes no path from `__start__` reaches (edges, gotos, and written order without edges).
fn unreachable(wf: &Workflow, out: &mut Vec<Problem>) {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut queue: VecDeque<&str> = VecDeque::new();
    if wf.edges.is_empty() {
        if let Some(first) = wf.nodes.first() {
            queue.push_back(&first.name);
        }
    } else {
        queue.extend(wf.edges.iter().filter(|e| e.from == START).map(|e| e.to.as_str()));
        queue.extend(wf.edges.iter().filter(|e| e.from == START).filter_map(|e| e.fan_in.as_deref()));
    }
    while let Some(name) = queue.pop_front() {
        if name == END || !seen.insert(name) {
            continue;
        }
        let Some(idx) = wf.nodes.iter().position(|n| n.name == name) else { continue };
        let node = &wf.nodes[idx];
        queue.extend(node.goto.iter().map(|r| r.to.as_str()));
        queue.extend(wf.edges.iter().filter(|e| e.from == name).map(|e| e.to.as_str()));
        queue.extend(wf.edges.iter().filter(|e| e.from == name).filter_map(|e| e.fan_in.as_deref()));
        let falls_through = node.goto.iter().all(|r| r.when.is_some());
        if wf.edges.is_empty() && falls_through {
            if let Some(next) = wf.nodes.get(idx + 1) {
                queue.push_back(&next.name);
            }
        }
    }
    for node in &wf.nodes {
        if !seen.contains(node.name.as_str()) {
            out.push(
                Problem::error(Code::Validation, format!("node '{}' is unreachable from __start__", node.name))
                    .in_node(&node.name)
                    .at(node.pos),
            );
        }
    }
}
