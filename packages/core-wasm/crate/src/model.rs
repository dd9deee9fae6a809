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

/// How an edge decides whether it is taken (upstream Python's `add_edge_from_config`).
#[derive(Clone, Debug, PartialEq)]
pub enum EdgeCond {
    /// No `when:` / `condition:`.
    Always,
    /// `when: "<expression>"` (also `!name` and a bare `name`): taken when it is true.
    Truthy(String),
    /// `condition: <expression>` or `{ type: expression, value }` with `when: <value>` (default
    /// true): taken when the condition's truth equals the value.
    Equals(String, Value),
    /// `when: true` / `when: false` (or the strings "true" / "false").
    Const(bool),
}

impl EdgeCond {
    /// The expression to compile, if any.
    pub fn expression(&self) -> Option<&str> {
        match self {
            EdgeCond::Truthy(e) | EdgeCond::Equals(e, _) => Some(e),
            _ => None,
        }
    }
}

/// Where a node's result goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// `output: key` (dotted keys nest: `a.b`).
    Key(String),
    /// `output: { key: "{{ result.x }}" }`: templates over the action's `result`.
    Map(Map<String, Value>),
}

/// Node-level `retry:` (upstream Rust engine's `RetryConfig`).
#[derive(Clone, Debug, PartialEq)]
pub struct RetryDef {
    pub max_retries: u32,
    pub base_delay_ms: f64,
    pub max_delay_ms: f64,
    pub multiplier: f64,
}

/// What kind of node this is.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// An action (`uses:`), a list of `steps:`, or nothing (a no-op join point).
    Plain,
    /// `type: while_loop`: runs `body` while `condition` holds, at most `max_iterations` times.
    WhileLoop { condition: String, max_iterations: u64, body: Vec<NodeDef> },
    /// `type: dynamic_parallel`: one branch per item of `items`, joined at `fan_in`.
    DynamicParallel { items: String, item_var: String, index_var: String, action_mode: bool, fan_in: String },
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
    pub output: Option<Output>,
    /// Whether the node has a `goto:` key (a node with one never chains implicitly).
    pub has_goto: bool,
    pub goto: Vec<GotoRule>,
    pub pos: Option<Pos>,
    pub action_pos: Option<Pos>,
    /// `run:` / `script:` (code, not runnable in a browser engine), with where they are.
    pub unsupported: Vec<(String, Option<Pos>)>,
    pub kind: NodeKind,
    /// `steps:` of a plain node, or a dynamic_parallel node's branch body (its `action:` as one
    /// step in action mode).
    pub steps: Vec<NodeDef>,
    pub retry: Option<RetryDef>,
    pub fallback: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EdgeDef {
    pub from: String,
    pub to: String,
    pub cond: EdgeCond,
    /// `type: parallel` (upstream Python's parallel edge, joined at `fan_in`).
    pub parallel: bool,
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
    /// `settings.llm`: defaults for the `llm.*` actions' parameters.
    pub llm: Map<String, Value>,
    pub interrupt_before: Vec<String>,
    pub interrupt_after: Vec<String>,
    /// `settings.parallel.record_failures`: a failing `type: parallel` branch is recorded in
    /// `parallel_results` (`success: false`) and the fan-in runs. Off by default: as upstream,
    /// the run fails with the branch's error.
    pub record_failures: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Workflow {
    pub name: String,
    pub description: Option<String>,
    pub state_schema: Vec<FieldDef>,
    pub variables: Map<String, Value>,
    /// `initial_state:`: defaults under the state a run is given (as upstream's CLI merges it).
    pub initial_state: Map<String, Value>,
    pub settings: Settings,
    pub nodes: Vec<NodeDef>,
    pub edges: Vec<EdgeDef>,
}

pub const TOP_LEVEL_KEYS: &[&str] =
    &["name", "description", "state_schema", "variables", "settings", "config", "nodes", "edges", "initial_state"];
pub const NODE_KEYS: &[&str] = &[
    "name",
    "uses",
    "action",
    "with",
    "params",
    "output",
    "output_key",
    "goto",
    "run",
    "script",
    "steps",
    "description",
    "type",
    "retry",
    "fallback",
    // Upstream marks fan-in nodes `fan_in: true`; here the edges say which node joins.
    "fan_in",
];
pub const WHILE_LOOP_KEYS: &[&str] = &["name", "type", "condition", "max_iterations", "body", "goto", "description"];
pub const DYNAMIC_PARALLEL_KEYS: &[&str] =
    &["name", "type", "items", "item_var", "index_var", "action", "steps", "fan_in", "output", "description", "max_concurrency"];
pub const EDGE_KEYS: &[&str] = &["from", "to", "when", "condition", "parallel", "fan_in", "type"];
/// `settings:` keys this engine reads (`config:` is read too; upstream keeps interrupts there).
pub const SETTINGS_KEYS: &[&str] =
    &["max_steps", "max_iterations", "strict", "parallel", "llm", "interrupt_before", "interrupt_after", "raise_exceptions"];

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
        let settings = read_settings(top, src, problems);
        let variables = match top.get("variables") {
            Some(Value::Object(m)) => m.clone(),
            None | Some(Value::Null) => Map::new(),
            Some(_) => {
                problems.push(Problem::error(Code::Validation, "`variables` must be a mapping").at(src.pos(&[Seg::Key("variables")])));
                Map::new()
            }
        };
        let initial_state = match top.get("initial_state") {
            Some(Value::Object(m)) => m.clone(),
            None | Some(Value::Null) => Map::new(),
            Some(_) => {
                problems
                    .push(Problem::error(Code::Validation, "`initial_state` must be a mapping").at(src.pos(&[Seg::Key("initial_state")])));
                Map::new()
            }
        };
        let mut nodes = Vec::new();
        match top.get("nodes") {
            Some(Value::Array(list)) => {
                for (i, raw) in list.iter().enumerate() {
                    if let Some(node) = read_node(raw, &[Seg::Key("nodes"), Seg::Index(i)], src, problems) {
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
            initial_state,
            settings,
            nodes,
            edges,
        }
    }

    pub fn node(&self, name: &str) -> Option<&NodeDef> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

/// `settings:` and `config:` together (upstream Python reads interrupts from `config:` and the
/// rest from `settings:`; the browser runtime treats them as one). `settings:` wins.
fn read_settings(top: &Map<String, Value>, src: &Source, problems: &mut Vec<Problem>) -> Settings {
    let mut s = Settings {
        max_steps: 1000,
        merge: MergeStrategy::Isolated,
        strict: false,
        llm: Map::new(),
        interrupt_before: Vec::new(),
        interrupt_after: Vec::new(),
        record_failures: false,
    };
    for key in ["config", "settings"] {
        match top.get(key) {
            Some(Value::Object(m)) => read_settings_map(&mut s, m, src, key, problems),
            None | Some(Value::Null) => {}
            Some(_) => problems.push(Problem::error(Code::Validation, format!("`{key}` must be a mapping")).at(src.pos(&[Seg::Key(key)]))),
        }
    }
    s
}

fn read_settings_map(s: &mut Settings, m: &Map<String, Value>, src: &Source, key: &str, problems: &mut Vec<Problem>) {
    let at = |field: &str| src.pos(&[Seg::Key(key), Seg::Key(field)]);
    for field in ["max_steps", "max_iterations"] {
        if let Some(v) = m.get(field) {
            match v.as_u64() {
                Some(n) if n > 0 => s.max_steps = usize::try_from(n).unwrap_or(usize::MAX),
                _ => problems.push(Problem::error(Code::Validation, format!("`{field}` must be a positive integer")).at(at(field))),
            }
        }
    }
    if let Some(v) = m.get("strict") {
        s.strict = v.as_bool().unwrap_or(false);
    }
    match m.get("llm") {
        Some(Value::Object(llm)) => s.llm.extend(llm.iter().map(|(k, v)| (k.clone(), v.clone()))),
        None | Some(Value::Null) => {}
        Some(_) => problems.push(Problem::error(Code::Validation, "`llm` must be a mapping of llm.call parameters").at(at("llm"))),
    }
    for (field, list) in [("interrupt_before", &mut s.interrupt_before), ("interrupt_after", &mut s.interrupt_after)] {
        match m.get(field) {
            Some(Value::Array(names)) => {
                for n in names {
                    match n.as_str() {
                        Some(name) => list.push(name.to_string()),
                        None => {
                            problems.push(Problem::error(Code::Validation, format!("`{field}` must be a list of node names")).at(at(field)))
                        }
                    }
                }
            }
            Some(Value::String(name)) => list.push(name.clone()),
            None | Some(Value::Null) => {}
            Some(_) => problems.push(Problem::error(Code::Validation, format!("`{field}` must be a list of node names")).at(at(field))),
        }
    }
    if let Some(Value::Object(p)) = m.get("parallel") {
        match p.get("record_failures") {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) => s.record_failures = *b,
            Some(_) => problems.push(Problem::error(Code::Validation, "`parallel.record_failures` must be true or false").at(src.pos(&[
                Seg::Key(key),
                Seg::Key("parallel"),
                Seg::Key("record_failures"),
            ]))),
        }
        let field = if p.contains_key("merge_strategy") { "merge_strategy" } else { "strategy" };
        if let Some(name) = p.get(field).and_then(Value::as_str) {
            s.merge = match name {
                "merge_deep" => MergeStrategy::MergeDeep,
                "last_write_wins" => MergeStrategy::LastWriteWins,
                "isolated" => MergeStrategy::Isolated,
                "fail_on_conflict" => MergeStrategy::FailOnConflict,
                // Upstream's execution strategies (thread/process/remote) do not apply here.
                "thread" | "process" | "remote" if field == "strategy" => s.merge,
                other => {
                    problems.push(
                        Problem::error(
                            Code::Validation,
                            format!("unknown merge strategy '{other}' (use merge_deep, last_write_wins, isolated or fail_on_conflict)"),
                        )
                        .at(src.pos(&[Seg::Key(key), Seg::Key("parallel"), Seg::Key(field)])),
                    );
                    s.merge
                }
            };
        }
    }
}

/// A `state_schema` type as upstream writes it: `str`, `Optional[str]`, `List[str]`,
/// `dict[str, Any]`... reduced to the JSON kind it checks (`None` = any).
pub fn schema_kind(ty: &str) -> Option<&'static str> {
    let t = ty.trim();
    let (outer, inner) = match t.find('[') {
        Some(i) if t.ends_with(']') => (&t[..i], Some(&t[i + 1..t.len() - 1])),
        _ => (t, None),
    };
    Some(match outer.trim().to_ascii_lowercase().as_str() {
        "str" | "string" => "string",
        "int" | "integer" => "integer",
        "float" | "number" => "number",
        "bool" | "boolean" => "boolean",
        "list" | "array" | "sequence" | "tuple" | "set" => "list",
        "dict" | "object" | "mapping" => "object",
        "any" | "typing.any" => "any",
        "optional" => return inner.and_then(schema_kind).map(|k| if k == "any" { "any" } else { optional(k) }),
        "union" => "any",
        _ => return None,
    })
}

fn optional(kind: &str) -> &'static str {
    match kind {
        "string" => "string?",
        "integer" => "integer?",
        "number" => "number?",
        "boolean" => "boolean?",
        "list" => "list?",
        "object" => "object?",
        _ => "any",
    }
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

fn read_output(v: Option<&Value>) -> Option<Output> {
    match v? {
        Value::Object(m) => Some(Output::Map(m.clone())),
        other => text(Some(other)).map(Output::Key),
    }
}

fn read_retry(v: Option<&Value>, at: Option<Pos>, node: &str, problems: &mut Vec<Problem>) -> Option<RetryDef> {
    let m = match v? {
        Value::Object(m) => m,
        Value::Null => return None,
        _ => {
            problems
                .push(Problem::error(Code::Validation, "`retry` must be a mapping (max_retries, base_delay_ms, ...)").in_node(node).at(at));
            return None;
        }
    };
    let num = |k: &str, d: f64| m.get(k).and_then(Value::as_f64).filter(|x| *x >= 0.0).unwrap_or(d);
    let max_retries = m.get("max_retries").and_then(Value::as_u64).unwrap_or(3);
    if max_retries > crate::limits::MAX_RETRIES {
        problems.push(
            Problem::error(Code::Validation, format!("`retry.max_retries` must be at most {}", crate::limits::MAX_RETRIES))
                .in_node(node)
                .at(at),
        );
    }
    Some(RetryDef {
        max_retries: u32::try_from(max_retries.min(crate::limits::MAX_RETRIES)).unwrap_or(0),
        base_delay_ms: num("base_delay_ms", 1000.0),
        max_delay_ms: num("max_delay_ms", 30000.0),
        multiplier: num("backoff_multiplier", 2.0),
    })
}

fn read_node(raw: &Value, path: &[Seg], src: &Source, problems: &mut Vec<Problem>) -> Option<NodeDef> {
    let here = path.len().checked_sub(1).map(|_| path).unwrap_or(path);
    let Value::Object(m) = raw else {
        problems.push(Problem::error(Code::Validation, "a node must be a mapping with a `name`").at(src.pos(here)));
        return None;
    };
    let Some(name) = text(m.get("name")) else {
        problems.push(Problem::error(Code::Validation, "a node has no `name`").at(src.pos(here)));
        return None;
    };
    let action_key = if m.contains_key("uses") { "uses" } else { "action" };
    let goto = read_goto(m.get("goto"), &sub_path(path, "goto"), src, problems, &name);
    let unsupported = ["run", "script"].iter().filter(|k| m.contains_key(**k)).map(|k| (k.to_string(), src.key_pos(path, k))).collect();
    let (kind, action, params, steps) = read_kind(m, path, &name, src, problems);
    let output = read_output(m.get("output").or_else(|| m.get("output_key")));
    let retry = read_retry(m.get("retry"), src.pos(&sub_path(path, "retry")), &name, problems);
    Some(NodeDef {
        action,
        params,
        output,
        has_goto: m.get("goto").is_some_and(|g| !g.is_null()),
        goto,
        pos: src.pos(path),
        action_pos: src.pos(&sub_path(path, action_key)),
        unsupported,
        kind,
        steps,
        retry,
        fallback: text(m.get("fallback")),
        name,
    })
}

/// `path` with `key` added.
fn sub_path<'a>(path: &[Seg<'a>], key: &'a str) -> Vec<Seg<'a>> {
    let mut p = path.to_vec();
    p.push(Seg::Key(key));
    p
}

/// What a node is by its `type`: its kind, action and parameters (plain nodes only), and the
/// nodes it runs (`steps`, or a `dynamic_parallel` node's `action`).
fn read_kind(
    m: &Map<String, Value>,
    path: &[Seg],
    name: &str,
    src: &Source,
    problems: &mut Vec<Problem>,
) -> (NodeKind, Option<String>, Value, Vec<NodeDef>) {
    let kind_name = m.get("type").and_then(Value::as_str).unwrap_or("");
    let action_key = if m.contains_key("uses") { "uses" } else { "action" };
    let params_key = if m.contains_key("with") { "with" } else { "params" };
    let mut steps = Vec::new();
    let (kind, action, params) = match kind_name {
        "while_loop" => {
            let condition = text(m.get("condition")).unwrap_or_default();
            let max_iterations = m.get("max_iterations").and_then(Value::as_u64).unwrap_or(0);
            (
                NodeKind::WhileLoop { condition, max_iterations, body: read_node_list(m, path, "body", name, src, problems) },
                None,
                Value::Null,
            )
        }
        "dynamic_parallel" => {
            let action_mode = m.contains_key("action");
            if let Some(a) = m.get("action") {
                let mut a = a.clone();
                if let Value::Object(o) = &mut a {
                    o.entry("name").or_insert_with(|| Value::String(format!("{name}.action")));
                }
                steps.extend(read_node(&a, &sub_path(path, "action"), src, problems));
            } else {
                steps = read_node_list(m, path, "steps", name, src, problems);
            }
            let kind = NodeKind::DynamicParallel {
                items: text(m.get("items")).unwrap_or_default(),
                item_var: text(m.get("item_var")).unwrap_or_else(|| "item".into()),
                index_var: text(m.get("index_var")).unwrap_or_else(|| "index".into()),
                action_mode,
                fan_in: text(m.get("fan_in")).unwrap_or_default(),
            };
            (kind, None, Value::Null)
        }
        _ => {
            if m.contains_key("steps") {
                steps = read_node_list(m, path, "steps", name, src, problems);
            }
            (NodeKind::Plain, text(m.get(action_key)), m.get(params_key).cloned().unwrap_or(Value::Null))
        }
    };
    (kind, action, params, steps)
}

/// The nodes listed under `key` of node `name` (`steps`, a loop's `body`); a step without a
/// name is named by its position, as upstream does.
fn read_node_list(
    m: &Map<String, Value>,
    path: &[Seg],
    key: &'static str,
    name: &str,
    src: &Source,
    problems: &mut Vec<Problem>,
) -> Vec<NodeDef> {
    match m.get(key) {
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .filter_map(|(j, raw)| {
                let mut p = sub_path(path, key);
                p.push(Seg::Index(j));
                let mut raw = raw.clone();
                if let Value::Object(o) = &mut raw {
                    o.entry("name").or_insert_with(|| Value::String(format!("{name}.{key}[{j}]")));
                }
                read_node(&raw, &p, src, problems)
            })
            .collect(),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => {
            problems.push(
                Problem::error(Code::Validation, format!("`{key}` must be a list of nodes"))
                    .in_node(name)
                    .at(src.pos(&sub_path(path, key))),
            );
            Vec::new()
        }
    }
}

fn read_goto(raw: Option<&Value>, gpath: &[Seg], src: &Source, problems: &mut Vec<Problem>, node: &str) -> Vec<GotoRule> {
    match raw {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(to)) => vec![GotoRule { when: None, to: to.clone(), pos: src.pos(gpath) }],
        Some(Value::Array(rules)) => rules
            .iter()
            .enumerate()
            .filter_map(|(j, r)| {
                let mut rpath = gpath.to_vec();
                rpath.push(Seg::Index(j));
                let to = r.get("to").and_then(|v| text(Some(v)));
                if to.is_none() {
                    problems.push(Problem::error(Code::Validation, format!("goto rule {j} has no `to`")).in_node(node).at(src.pos(&rpath)));
                }
                let when = r.get("if").or_else(|| r.get("when")).and_then(|v| text(Some(v)));
                rpath.push(Seg::Key("to"));
                Some(GotoRule { when, to: to?, pos: src.pos(&rpath) })
            })
            .collect(),
        Some(_) => {
            problems.push(
                Problem::error(Code::Validation, "`goto` must be a node name or a list of { if, to } rules")
                    .in_node(node)
                    .at(src.pos(gpath)),
            );
            Vec::new()
        }
    }
}

/// An edge's condition, as upstream Python's `add_edge_from_config` reads `condition:` / `when:`.
fn read_cond(m: &Map<String, Value>, at: Option<Pos>, problems: &mut Vec<Problem>) -> EdgeCond {
    if let Some(c) = m.get("condition") {
        let when = m.get("when").cloned().unwrap_or(Value::Bool(true));
        let expr = match c {
            Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("expression") => text(o.get("value")),
            Value::Object(o) => {
                let t = o.get("type").map(|t| t.to_string()).unwrap_or_else(|| "nothing".into());
                problems.push(Problem::error(Code::Validation, format!("unknown condition type {t} (use `type: expression`)")).at(at));
                None
            }
            other => text(Some(other)),
        };
        return expr.map(|e| EdgeCond::Equals(e, when)).unwrap_or(EdgeCond::Always);
    }
    match m.get("when") {
        None | Some(Value::Null) => EdgeCond::Always,
        Some(Value::Bool(b)) => EdgeCond::Const(*b),
        Some(Value::String(w)) if w.eq_ignore_ascii_case("true") => EdgeCond::Const(true),
        Some(Value::String(w)) if w.eq_ignore_ascii_case("false") => EdgeCond::Const(false),
        Some(Value::String(w)) => EdgeCond::Truthy(w.clone()),
        Some(Value::Number(n)) => EdgeCond::Const(n.as_f64().is_some_and(|x| x != 0.0)),
        Some(_) => {
            problems.push(Problem::error(Code::Validation, "`when` must be an expression or true / false").at(at));
            EdgeCond::Always
        }
    }
}

fn read_edges(raw: &Value, i: usize, src: &Source, problems: &mut Vec<Problem>, out: &mut Vec<EdgeDef>) {
    let path = [Seg::Key("edges"), Seg::Index(i)];
    let Value::Object(m) = raw else {
        problems.push(Problem::error(Code::Validation, format!("edges[{i}] must be a mapping with `from` and `to`")).at(src.pos(&path)));
        return;
    };
    let edge_type = m.get("type").and_then(Value::as_str).unwrap_or("normal");
    if !matches!(edge_type, "normal" | "entry" | "finish" | "parallel") {
        problems.push(
            Problem::error(Code::Validation, format!("unknown edge type '{edge_type}' (use normal, entry, finish or parallel)"))
                .at(src.pos(&[path[0], path[1], Seg::Key("type")])),
        );
    }
    let from = text(m.get("from")).or_else(|| (edge_type == "entry").then(|| START.to_string()));
    let when_key = if m.contains_key("condition") { "condition" } else { "when" };
    let when_pos = src.pos(&[path[0], path[1], Seg::Key(when_key)]);
    let cond = read_cond(m, when_pos, problems);
    let fan_in = text(m.get("fan_in"));
    let mut targets: Vec<(String, Option<Pos>)> = match m.get("to") {
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .filter_map(|(j, v)| text(Some(v)).map(|t| (t, src.pos(&[path[0], path[1], Seg::Key("to"), Seg::Index(j)]))))
            .collect(),
        other => text(other).map(|t| vec![(t, src.pos(&[path[0], path[1], Seg::Key("to")]))]).unwrap_or_default(),
    };
    if targets.is_empty() && edge_type == "finish" {
        targets.push((END.to_string(), src.pos(&path)));
    }
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
            cond: cond.clone(),
            parallel: edge_type == "parallel",
            when_pos,
            fan_in: fan_in.clone(),
            pos: src.pos(&path),
            from_pos: src.pos(&[path[0], path[1], Seg::Key("from")]),
            to_pos,
        });
    }
}
