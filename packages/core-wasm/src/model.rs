//! The workflow model, read from the YAML document, with each element's source position.

use crate::error::{Code, Pos, Problem};
use crate::source::{Seg, Source};
use serde_json::{Map, Value};

pub const START: &str = "__start__";
pub const END: &str = "__end__";

/// How parallel branch results merge back into the state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeStrategy {
    MergeDeep,
    LastWriteWins,
    Isolated,
    FailOnConflict,
}

/// A `goto:` rule; `when: None` is the final unconditional `{ to: ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct GotoRule {
    pub when: Option<String>,
    pub to: String,
    pub pos: Option<Pos>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NodeDef {
    pub name: String,
    pub action: Option<String>,
    pub params: Value,
    pub output: Option<String>,
    pub goto: Vec<GotoRule>,
    pub pos: Option<Pos>,
    pub action_pos: Option<Pos>,
    /// `run:` / `steps:` (not runnable in a browser engine), with where they are.
    pub unsupported: Vec<(String, Option<Pos>)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EdgeDef {
    pub from: String,
    pub to: String,
    pub when: Option<String>,
    pub when_pos: Option<Pos>,
    pub fan_in: Option<String>,
    pub pos: Option<Pos>,
    pub from_pos: Option<Pos>,
    pub to_pos: Option<Pos>,
}

/// A declared state field.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDef {
    pub name: String,
    pub ty: Option<String>,
    pub default: Option<Value>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub max_steps: usize,
    pub merge: MergeStrategy,
    pub strict: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Workflow {
    pub name: String,
    pub description: Option<String>,
    pub state_schema: Vec<FieldDef>,
    pub variables: Map<String, Value>,
    pub settings: Settings,
    pub nodes: Vec<NodeDef>,
    pub edges: Vec<EdgeDef>,
}

pub const TOP_LEVEL_KEYS: &[&str] = &["name", "description", "state_schema", "variables", "settings", "config", "nodes", "edges"];
pub const NODE_KEYS: &[&str] = &["name", "uses", "action", "with", "params", "output", "goto", "run", "steps", "description"];
pub const EDGE_KEYS: &[&str] = &["from", "to", "when", "condition", "parallel", "fan_in"];

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Workflow {
    /// Reads the model. Shape errors (a node without a name, edges that are not a list, ...)
    /// are collected into `problems` with their positions; what can be read is kept.
    pub fn from_source(src: &Source, problems: &mut Vec<Problem>) -> Workflow {
        let empty = Map::new();
        let top = match &src.value {
            Value::Object(m) => m,
            Value::Null => &empty,
            _ => {
                problems
                    .push(Problem::error(Code::Validation, "a workflow must be a YAML mapping (name, nodes, edges, ...)").at(src.pos(&[])));
                &empty
            }
        };
        let settings_key = if top.contains_key("settings") { "settings" } else { "config" };
        let settings = read_settings(top.get(settings_key), src, settings_key, problems);
        let variables = match top.get("variables") {
            Some(Value::Object(m)) => m.clone(),
            None | Some(Value::Null) => Map::new(),
            Some(_) => {
                problems.push(Problem::error(Code::Validation, "`variables` must be a mapping").at(src.pos(&[Seg::Key("variables")])));
                Map::new()
            }
        };
        let mut nodes = Vec::new();
        match top.get("nodes") {
            Some(Value::Array(list)) => {
                for (i, raw) in list.iter().enumerate() {
                    if let Some(node) = read_node(raw, i, src, problems) {
                        nodes.push(node);
                    }
                }
            }
            None | Some(Value::Null) => {}
            Some(_) => problems.push(Problem::error(Code::Validation, "`nodes` must be a list").at(src.pos(&[Seg::Key("nodes")]))),
        }
        let mut edges = Vec::new();
        match top.get("edges") {
            Some(Value::Array(list)) => {
                for (i, raw) in list.iter().enumerate() {
                    read_edges(raw, i, src, problems, &mut edges);
                }
            }
            None | Some(Value::Null) => {}
            Some(_) => problems.push(Problem::error(Code::Validation, "`edges` must be a list").at(src.pos(&[Seg::Key("edges")]))),
        }
        Workflow {
            name: text(top.get("name")).unwrap_or_default(),
            description: text(top.get("description")),
            state_schema: read_schema(top.get("state_schema"), src, problems),
            variables,
            settings,
            nodes,
            edges,
        }
    }

    pub fn node(&self, name: &str) -> Option<&NodeDef> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

fn read_settings(raw: Option<&Value>, src: &Source, key: &str, problems: &mut Vec<Problem>) -> Settings {
    let mut s = Settings { max_steps: 1000, merge: MergeStrategy::MergeDeep, strict: false };
    let Some(Value::Object(m)) = raw else { return s };
    if let Some(v) = m.get("max_steps") {
        match v.as_u64() {
            Some(n) if n > 0 => s.max_steps = usize::try_from(n).unwrap_or(usize::MAX),
            _ => problems.push(
                Problem::error(Code::Validation, "`max_steps` must be a positive integer")
                    .at(src.pos(&[Seg::Key(key), Seg::Key("max_steps")])),
            ),
        }
    }
    s.strict = m.get("strict").and_then(Value::as_bool).unwrap_or(false);
    if let Some(Value::Object(p)) = m.get("parallel") {
        let field = if p.contains_key("merge_strategy") { "merge_strategy" } else { "strategy" };
        if let Some(name) = p.get(field).and_then(Value::as_str) {
            s.merge = match name {
                "merge_deep" => MergeStrategy::MergeDeep,
                "last_write_wins" => MergeStrategy::LastWriteWins,
                "isolated" => MergeStrategy::Isolated,
                "fail_on_conflict" => MergeStrategy::FailOnConflict,
                // Upstream's execution strategies (thread/process/remote) do not apply here.
                "thread" | "process" | "remote" if field == "strategy" => MergeStrategy::MergeDeep,
                other => {
                    problems.push(
                        Problem::error(
                            Code::Validation,
                            format!("unknown merge strategy '{other}' (use merge_deep, last_write_wins, isolated or fail_on_conflict)"),
                        )
                        .at(src.pos(&[Seg::Key(key), Seg::Key("parallel"), Seg::Key(field)])),
                    );
                    MergeStrategy::MergeDeep
                }
            };
        }
    }
    s
}

fn read_schema(raw: Option<&Value>, src: &Source, problems: &mut Vec<Problem>) -> Vec<FieldDef> {
    let Some(Value::Object(m)) = raw else {
        if matches!(raw, Some(v) if !v.is_null()) {
            problems.push(
                Problem::error(Code::Validation, "`state_schema` must be a mapping of field: type")
                    .at(src.pos(&[Seg::Key("state_schema")])),
            );
        }
        return Vec::new();
    };
    m.iter()
        .map(|(name, spec)| match spec {
            Value::String(t) => FieldDef { name: name.clone(), ty: Some(t.clone()), default: None },
            Value::Object(o) => FieldDef { name: name.clone(), ty: text(o.get("type")), default: o.get("default").cloned() },
            _ => FieldDef { name: name.clone(), ty: None, default: None },
        })
        .collect()
}

fn read_node(raw: &Value, i: usize, src: &Source, problems: &mut Vec<Problem>) -> Option<NodeDef> {
    let path = [Seg::Key("nodes"), Seg::Index(i)];
    let Value::Object(m) = raw else {
        problems.push(Problem::error(Code::Validation, format!("nodes[{i}] must be a mapping with a `name`")).at(src.pos(&path)));
        return None;
    };
    let Some(name) = text(m.get("name")) else {
        problems.push(Problem::error(Code::Validation, format!("nodes[{i}] has no `name`")).at(src.pos(&path)));
        return None;
    };
    let action_key = if m.contains_key("uses") { "uses" } else { "action" };
    let params_key = if m.contains_key("with") { "with" } else { "params" };
    let goto = read_goto(m.get("goto"), &path, src, problems, &name);
    let unsupported = ["run", "steps"].iter().filter(|k| m.contains_key(**k)).map(|k| (k.to_string(), src.key_pos(&path, k))).collect();
    Some(NodeDef {
        action: text(m.get(action_key)),
        params: m.get(params_key).cloned().unwrap_or(Value::Null),
        output: text(m.get("output")),
        goto,
        pos: src.pos(&path),
        action_pos: src.pos(&[path[0], path[1], Seg::Key(action_key)]),
        unsupported,
        name,
    })
}

fn read_goto(raw: Option<&Value>, path: &[Seg; 2], src: &Source, problems: &mut Vec<Problem>, node: &str) -> Vec<GotoRule> {
    let gpath = [path[0], path[1], Seg::Key("goto")];
    match raw {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(to)) => vec![GotoRule { when: None, to: to.clone(), pos: src.pos(&gpath) }],
        Some(Value::Array(rules)) => rules
            .iter()
            .enumerate()
            .filter_map(|(j, r)| {
                let rpath = [gpath[0], gpath[1], gpath[2], Seg::Index(j)];
                let to = r.get("to").and_then(|v| text(Some(v)));
                if to.is_none() {
                    problems.push(Problem::error(Code::Validation, format!("goto rule {j} has no `to`")).in_node(node).at(src.pos(&rpath)));
                }
                let when = r.get("if").or_else(|| r.get("when")).and_then(|v| text(Some(v)));
                Some(GotoRule { when, to: to?, pos: src.pos(&[rpath[0], rpath[1], rpath[2], rpath[3], Seg::Key("to")]) })
            })
            .collect(),
        Some(_) => {
            problems.push(
                Problem::error(Code::Validation, "`goto` must be a node name or a list of { if, to } rules")
                    .in_node(node)
                    .at(src.pos(&gpath)),
            );
            Vec::new()
        }
    }
}

fn read_edges(raw: &Value, i: usize, src: &Source, problems: &mut Vec<Problem>, out: &mut Vec<EdgeDef>) {
    let path = [Seg::Key("edges"), Seg::Index(i)];
    let Value::Object(m) = raw else {
        problems.push(Problem::error(Code::Validation, format!("edges[{i}] must be a mapping with `from` and `to`")).at(src.pos(&path)));
        return;
    };
    let from = text(m.get("from"));
    let when_key = if m.contains_key("when") { "when" } else { "condition" };
    let when = m.get(when_key).and_then(|v| text(Some(v)));
    let when_pos = src.pos(&[path[0], path[1], Seg::Key(when_key)]);
    let fan_in = text(m.get("fan_in"));
    let targets: Vec<(String, Option<Pos>)> = match m.get("to") {
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .filter_map(|(j, v)| text(Some(v)).map(|t| (t, src.pos(&[path[0], path[1], Seg::Key("to"), Seg::Index(j)]))))
            .collect(),
        other => text(other).map(|t| vec![(t, src.pos(&[path[0], path[1], Seg::Key("to")]))]).unwrap_or_default(),
    };
    let Some(from) = from else {
        problems.push(Problem::error(Code::Validation, format!("edges[{i}] has no `from`")).at(src.pos(&path)));
        return;
    };
    if targets.is_empty() {
        problems.push(Problem::error(Code::Validation, format!("edges[{i}] has no `to`")).at(src.pos(&path)));
        return;
    }
    for (to, to_pos) in targets {
        out.push(EdgeDef {
            from: from.clone(),
            to,
            when: when.clone(),
            when_pos,
            fan_in: fan_in.clone(),
            pos: src.pos(&path),
            from_pos: src.pos(&[path[0], path[1], Seg::Key("from")]),
            to_pos,
        });
    }
}
