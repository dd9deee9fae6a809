//! JavaScript bindings. Every export is synchronous and speaks JSON text: values cross the
//! boundary as `JSON.stringify` output checked by the TypeScript layer (depth, cycles, size) and
//! parsed here with the same limits, and they go back as JSON text that `JSON.parse` turns into
//! plain objects (a `__proto__` key stays a plain key). Runs are driven by the TypeScript layer
//! through `run_start` / `run_poll` / `run_reply` (see `driver`): the engine never calls
//! JavaScript while it works (only `Date.now`), so a trap always surfaces in the caller's own call.

use crate::driver::{Request, Step, StepRun};
use crate::engine::{check, render, Compiled};
use crate::error::{Code, EngineError, Problem, Severity};
use crate::exec::{Outcome, Resume, RunOptions, When};
use crate::limits::{self, parse_json};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::cell::{Cell, RefCell, UnsafeCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Date)]
    fn now() -> f64;
}

thread_local! {
    static WORKFLOWS: RefCell<HashMap<u32, Rc<Compiled>>> = RefCell::new(HashMap::new());
    static RUNS: RefCell<HashMap<u32, StepRun>> = RefCell::new(HashMap::new());
    static NEXT_ID: Cell<u32> = const { Cell::new(1) };
}

/// A short text in a fixed place of memory (`u32` length, then UTF-8 bytes), which the
/// JavaScript side reads after a trap without calling into the trapped instance.
#[repr(C)]
struct TrapText {
    len: u32,
    bytes: [u8; 252],
}

struct TrapCell(UnsafeCell<TrapText>);
// The engine is single-threaded (wasm32 without threads).
unsafe impl Sync for TrapCell {}

impl TrapCell {
    const fn new() -> TrapCell {
        TrapCell(UnsafeCell::new(TrapText { len: 0, bytes: [0; 252] }))
    }

    fn write(&self, text: &str) {
        let mut n = text.len().min(252);
        while !text.is_char_boundary(n) {
            n -= 1;
        }
        // SAFETY: single-threaded, and no reference into the cell outlives this call.
        unsafe {
            let t = &mut *self.0.get();
            t.bytes[..n].copy_from_slice(&text.as_bytes()[..n]);
            t.len = n as u32;
        }
    }

    fn address(&self) -> u32 {
        self.0.get() as usize as u32
    }
}

/// The node that started last in the current poll.
static TRAP_NODE: TrapCell = TrapCell::new();
/// The message of a panic (which then aborts: the crate builds with `panic = "abort"`).
static PANIC: TrapCell = TrapCell::new();

fn note_node(name: &str) {
    TRAP_NODE.write(name);
}

fn clear_node() {
    TRAP_NODE.write("");
}

/// Keeps a panic's message for the trap report.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let message = match info.payload().downcast_ref::<&str>() {
            Some(s) => s.to_string(),
            None => info.payload().downcast_ref::<String>().cloned().unwrap_or_else(|| "a panic".into()),
        };
        PANIC.write(&message);
    }));
}

fn next_id() -> u32 {
    NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id.wrapping_add(1).max(1));
        id
    })
}

fn error_json(e: &EngineError) -> Value {
    json!({
        "code": e.code.as_str(),
        "message": e.to_string(),
        "node": e.node,
        "line": e.pos.map(|p| p.line),
        "column": e.pos.map(|p| p.column),
    })
}

fn failure(e: &EngineError) -> String {
    json!({ "error": error_json(e) }).to_string()
}

/// An export's answer: the value's JSON text, or `{ error }`.
fn answer(result: Result<Value, EngineError>) -> String {
    match result {
        Ok(v) => v.to_string(),
        Err(e) => failure(&e),
    }
}

fn problem_json(p: &Problem) -> Value {
    json!({
        "severity": if p.severity == Severity::Error { "error" } else { "warning" },
        "code": p.code.as_str(),
        "message": p.message,
        "node": p.node,
        "line": p.pos.map(|p| p.line),
        "column": p.pos.map(|p| p.column),
    })
}

fn action_names(json: &str) -> Result<HashSet<String>, EngineError> {
    match parse_json(json, "the registered action names")? {
        Value::Array(names) => Ok(names.into_iter().filter_map(|n| n.as_str().map(str::to_string)).collect()),
        _ => Err(EngineError::new(Code::InvalidArgument, "the registered action names must be a list")),
    }
}

/// The engine's version.
#[wasm_bindgen]
pub fn version() -> String {
    crate::engine_version().to_string()
}

/// Every error code the engine raises, and the limits, as JSON.
#[wasm_bindgen]
pub fn engine_facts() -> String {
    let codes: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    json!({ "codes": codes, "limits": limits::as_json(), "builtinActions": crate::validate::BUILTIN_ACTIONS }).to_string()
}

/// Addresses of the trap report in memory: the last node started (`u32` length, then bytes),
/// the size of the last failed allocation (`u32`) and the last panic's message (as the node).
#[wasm_bindgen]
pub fn trap_report_addresses() -> Vec<u32> {
    vec![TRAP_NODE.address(), crate::heap::failed_allocation_address() as u32, PANIC.address()]
}

/// Parses and validates; `{ id, name, nodeNames, warnings }` or `{ error }`.
#[wasm_bindgen]
pub fn workflow_parse(yaml: &str, actions: &str) -> String {
    clear_node();
    answer(action_names(actions).and_then(|actions| Compiled::parse(yaml, &actions)).map(|c| {
        let id = next_id();
        let out = json!({
            "id": id,
            "name": c.workflow.name,
            "nodeNames": c.workflow.nodes.iter().map(|n| n.name.clone()).collect::<Vec<_>>(),
            "warnings": c.warnings.iter().map(problem_json).collect::<Vec<_>>(),
        });
        WORKFLOWS.with(|w| w.borrow_mut().insert(id, Rc::new(c)));
        out
    }))
}

/// Frees a parsed workflow (runs already started keep their own reference).
#[wasm_bindgen]
pub fn workflow_free(id: u32) {
    WORKFLOWS.with(|w| w.borrow_mut().remove(&id));
}

/// Every problem in a workflow, errors and warnings, as a JSON list.
#[wasm_bindgen]
pub fn validate_yaml(yaml: &str, actions: &str) -> String {
    clear_node();
    answer(action_names(actions).map(|actions| {
        let (_, problems) = check(yaml, &actions);
        json!({ "problems": problems.iter().map(problem_json).collect::<Vec<_>>() })
    }))
}

/// Starts a run of workflow `id`: `{ run }` or `{ error }`. `options` holds `max_steps`,
/// `variables` and the registered action names (`actions`).
#[wasm_bindgen]
pub fn run_start(id: u32, state: &str, options: &str) -> String {
    clear_node();
    let started = (|| -> Result<u32, EngineError> {
        let compiled = WORKFLOWS
            .with(|w| w.borrow().get(&id).cloned())
            .ok_or_else(|| EngineError::new(Code::InvalidArgument, "this workflow was freed; parse it again"))?;
        let state = parse_json(state, "the initial state")?;
        let options = parse_json(options, "the run options")?;
        let max_steps = options.get("max_steps").and_then(Value::as_u64).map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        let variables = match options.get("variables") {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        let secrets = match options.get("secrets") {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        let resume = match options.get("resume") {
            Some(Value::Object(r)) => {
                let node = r.get("node").and_then(Value::as_str).unwrap_or_default().to_string();
                let when = match r.get("when").and_then(Value::as_str) {
                    Some("after") => When::After,
                    _ => When::Before,
                };
                Some(Resume { node, when })
            }
            _ => None,
        };
        let actions = options
            .get("actions")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|n| n.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let run = StepRun::start(compiled, state, RunOptions { max_steps, variables, secrets, resume }, actions, now, note_node);
        let run_id = next_id();
        RUNS.with(|r| r.borrow_mut().insert(run_id, run));
        Ok(run_id)
    })();
    answer(started.map(|run| json!({ "run": run })))
}

/// One poll's answer, written straight to JSON text.
#[derive(Serialize)]
struct PollAnswer<'a> {
    events: &'a [Value],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    done: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    interrupted: Option<Value>,
    requests: Vec<RequestOut<'a>>,
    #[serde(rename = "yield")]
    yield_now: bool,
}

#[derive(Serialize)]
struct RequestOut<'a> {
    id: u32,
    action: &'a str,
    node: &'a str,
    params: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'a Value>,
}

/// Works on run `id` until it waits, finishes or used up its slice. Returns
/// `{ done: true, state }`, `{ done: true, error }` or `{ events, requests, yield }`.
#[wasm_bindgen]
pub fn run_poll(id: u32) -> String {
    clear_node();
    let step = RUNS.with(|r| r.borrow_mut().get_mut(&id).map(StepRun::poll));
    let Some(Step { done, events, requests, yield_now }) = step else {
        return json!({ "done": true, "events": [], "error": error_json(&EngineError::new(Code::InvalidArgument, "no such run")) })
            .to_string();
    };
    let finished = done.is_some();
    if finished {
        RUNS.with(|r| r.borrow_mut().remove(&id));
    }
    let (state, error, interrupted) = match &done {
        Some(Ok(Outcome::Done(state))) => (Some(state), None, None),
        Some(Ok(Outcome::Interrupted { node, when, state })) => (Some(state), None, Some(json!({ "node": node, "when": when.as_str() }))),
        Some(Err(e)) => (None, Some(error_json(e)), None),
        None => (None, None, None),
    };
    let answer = PollAnswer {
        events: &events,
        done: finished,
        state,
        error,
        interrupted,
        requests: requests
            .iter()
            .map(|r: &Request| RequestOut { id: r.id, action: &r.action, node: &r.node, params: &r.params, state: r.state.as_ref() })
            .collect(),
        yield_now,
    };
    serde_json::to_string(&answer)
        .unwrap_or_else(|e| failure(&EngineError::new(Code::InvalidArgument, format!("the run's answer could not be written: {e}"))))
}

/// Answers request `request` of run `id`: `ok` with the value as JSON text, or the error as
/// JSON text `{ code, message }` (a code the engine does not know becomes `ACTION_FAILED`). A
/// value over the limits reaches the run as that limit's error.
#[wasm_bindgen]
pub fn run_reply(id: u32, request: u32, ok: bool, value: &str) {
    let result = if ok {
        parse_json(value, "the reply")
    } else {
        let v: Value = serde_json::from_str(value).unwrap_or(Value::Null);
        let code = v.get("code").and_then(Value::as_str).and_then(Code::parse).unwrap_or(Code::ActionFailed);
        let message = v.get("message").and_then(Value::as_str).unwrap_or("the handler failed");
        Err(EngineError::new(code, message))
    };
    RUNS.with(|r| {
        if let Some(run) = r.borrow().get(&id) {
            run.reply(request, result);
        }
    });
}

/// Drops a run (aborted, or abandoned by its caller).
#[wasm_bindgen]
pub fn run_free(id: u32) {
    RUNS.with(|r| r.borrow_mut().remove(&id));
}

/// Renders a template over a state and variables (JSON texts); `{ value }` or `{ error }`.
#[wasm_bindgen]
pub fn render_template(template: &str, state: &str, variables: &str) -> String {
    clear_node();
    let out = (|| {
        let state = parse_json(state, "the state")?;
        let vars = parse_json(variables, "the variables")?;
        render(template, &state, &vars)
    })();
    answer(out.map(|v| json!({ "value": v })))
}

/// Checks and completes the parameters of a direct LLM call (`kind` "call" or "embed"), as
/// `llm.call` / `llm.embed` do: `{ value }` or `{ error }`.
#[wasm_bindgen]
pub fn llm_request(kind: &str, params: &str) -> String {
    clear_node();
    answer(parse_json(params, "the llm parameters").and_then(|p| crate::llm::check_request(kind, p)).map(|v| json!({ "value": v })))
}

/// Checks and completes an LLM handler's reply: `{ value }` or `{ error }`.
#[wasm_bindgen]
pub fn llm_reply(kind: &str, reply: &str) -> String {
    clear_node();
    answer(parse_json(reply, "the LLM handler's reply").and_then(|r| crate::llm::check_reply(kind, r)).map(|v| json!({ "value": v })))
}
