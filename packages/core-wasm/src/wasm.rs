//! JavaScript bindings: execute_yaml, Workflow, validate_yaml, render_template, the LLM handler
//! and registered actions. Rust errors become real JS `Error`s with `code`, `node`, `line`,
//! `column`.

use crate::engine::{check, render, Compiled};
use crate::error::{Code, EngineError, Problem, Severity};
use crate::exec::{normalize_llm_reply, Event, Host, RunOptions};
use futures::future::LocalBoxFuture;
use js_sys::{Array, Function, Promise, Reflect};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

thread_local! {
    static LLM_HANDLER: RefCell<Option<Function>> = const { RefCell::new(None) };
    static ACTIONS: RefCell<HashMap<String, Function>> = RefCell::new(HashMap::new());
}

fn to_js(v: &Value) -> JsValue {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::NULL)
}

fn from_js(v: &JsValue) -> Result<Value, EngineError> {
    if v.is_undefined() || v.is_null() {
        return Ok(Value::Null);
    }
    serde_wasm_bindgen::from_value(v.clone()).map_err(|e| EngineError::new(Code::InvalidArgument, format!("not JSON-compatible: {e}")))
}

fn set(obj: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

/// An `EngineError` as a JS `Error` with `code`, `node`, `line` and `column`.
fn js_error(e: &EngineError) -> JsValue {
    let err: JsValue = js_sys::Error::new(&e.to_string()).into();
    set(&err, "name", &"TeaEngineError".into());
    set(&err, "code", &e.code.as_str().into());
    if let Some(node) = &e.node {
        set(&err, "node", &node.into());
    }
    if let Some(pos) = e.pos {
        set(&err, "line", &(pos.line as u32).into());
        set(&err, "column", &(pos.column as u32).into());
    }
    err
}

/// A rejection from a JS handler, as an engine error (the handler's message is kept).
fn from_rejection(v: JsValue, code: Code) -> EngineError {
    let message = Reflect::get(&v, &"message".into()).ok().and_then(|m| m.as_string()).or_else(|| v.as_string()).unwrap_or_else(|| "the handler failed".into());
    let aborted = Reflect::get(&v, &"name".into()).ok().and_then(|n| n.as_string()).is_some_and(|n| n == "AbortError");
    EngineError::new(if aborted { Code::Aborted } else { code }, message)
}

fn problem_to_js(p: &Problem) -> JsValue {
    to_js(&json!({
        "severity": if p.severity == Severity::Error { "error" } else { "warning" },
        "code": p.code.as_str(),
        "message": p.message,
        "node": p.node,
        "line": p.pos.map(|p| p.line),
        "column": p.pos.map(|p| p.column),
    }))
}

fn registered() -> HashSet<String> {
    ACTIONS.with(|a| a.borrow().keys().cloned().collect())
}

/// Registers the function that serves `llm.call` / `llm.embed` (`null` clears it).
#[wasm_bindgen]
pub fn set_llm_handler(handler: JsValue) -> Result<(), JsValue> {
    let f = if handler.is_null() || handler.is_undefined() { None } else { Some(handler.dyn_into::<Function>().map_err(|_| js_error(&EngineError::new(Code::InvalidArgument, "set_llm_handler needs a function")))?) };
    LLM_HANDLER.with(|h| *h.borrow_mut() = f);
    Ok(())
}

/// Registers an async action `fn(params, state)` that workflows call with `uses: name`.
#[wasm_bindgen]
pub fn register_action(name: String, handler: Function) {
    ACTIONS.with(|a| a.borrow_mut().insert(name, handler));
}

/// Removes a registered action.
#[wasm_bindgen]
pub fn unregister_action(name: &str) {
    ACTIONS.with(|a| a.borrow_mut().remove(name));
}

struct JsHost {
    on_event: Option<Function>,
    signal: Option<JsValue>,
}

impl JsHost {
    fn from_options(options: &JsValue) -> (JsHost, RunOptions) {
        let get = |k: &str| Reflect::get(options, &k.into()).ok().filter(|v| !v.is_undefined() && !v.is_null());
        let on_event = get("onEvent").or_else(|| get("on_event")).and_then(|f| f.dyn_into::<Function>().ok());
        let signal = get("signal");
        let max_steps = get("max_steps").or_else(|| get("maxSteps")).and_then(|v| v.as_f64()).map(|n| n as usize);
        let variables = get("variables").and_then(|v| from_js(&v).ok()).and_then(|v| v.as_object().cloned()).unwrap_or_default();
        (JsHost { on_event, signal }, RunOptions { max_steps, variables })
    }

    fn send(&self, event: Value) {
        if let Some(f) = &self.on_event {
            let _ = f.call1(&JsValue::NULL, &to_js(&event));
        }
    }

    async fn call_llm(&self, kind: &str, params: Value, node: &str) -> Result<Value, EngineError> {
        let handler = LLM_HANDLER.with(|h| h.borrow().clone()).ok_or_else(|| {
            EngineError::new(Code::LlmHandlerMissing, "no LLM handler is registered: call set_llm_handler(fn) (the sdk's initTeaLlm does it)")
        })?;
        let mut req = match params {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        req.insert("kind".into(), json!(kind));
        let request = to_js(&Value::Object(req.clone()));
        if let Some(signal) = &self.signal {
            set(&request, "signal", signal);
        }
        let streaming = req.get("stream").and_then(Value::as_bool).unwrap_or(false);
        let on_token = self.on_event.clone().filter(|_| streaming).map(|f| {
            let node = node.to_string();
            Closure::<dyn Fn(JsValue)>::new(move |text: JsValue| {
                let event = to_js(&json!({ "type": "token", "node": node, "text": text.as_string().unwrap_or_default() }));
                let _ = f.call1(&JsValue::NULL, &event);
            })
        });
        if let Some(cb) = &on_token {
            set(&request, "onToken", cb.as_ref());
        }
        let reply = handler.call1(&JsValue::NULL, &request).map_err(|e| from_rejection(e, Code::ActionFailed))?;
        let reply = JsFuture::from(Promise::resolve(&reply)).await.map_err(|e| from_rejection(e, Code::ActionFailed))?;
        drop(on_token);
        from_js(&reply)
    }
}

impl Host for JsHost {
    fn call<'a>(&'a self, action: &'a str, params: Value, node: &'a str, state: &'a Value) -> LocalBoxFuture<'a, Result<Value, EngineError>> {
        Box::pin(async move {
            match action {
                "llm.call" => self.call_llm("call", params, node).await,
                "llm.embed" => self.call_llm("embed", params, node).await,
                name => {
                    let f = ACTIONS.with(|a| a.borrow().get(name).cloned()).ok_or_else(|| EngineError::new(Code::UnknownAction, format!("unknown action '{name}'")))?;
                    let out = f.call2(&JsValue::NULL, &to_js(&params), &to_js(state)).map_err(|e| from_rejection(e, Code::ActionFailed))?;
                    let out = JsFuture::from(Promise::resolve(&out)).await.map_err(|e| from_rejection(e, Code::ActionFailed))?;
                    from_js(&out)
                }
            }
        })
    }

    fn has_action(&self, name: &str) -> bool {
        ACTIONS.with(|a| a.borrow().contains_key(name))
    }

    fn emit(&self, event: Event) {
        self.send(match event {
            Event::NodeStart { node, step } => json!({ "type": "node_start", "node": node, "step": step }),
            Event::NodeEnd { node, step } => json!({ "type": "node_end", "node": node, "step": step }),
            Event::Error { node, step, code, message } => json!({ "type": "error", "node": node, "step": step, "code": code, "message": message }),
        });
    }

    fn aborted(&self) -> bool {
        self.signal.as_ref().and_then(|s| Reflect::get(s, &"aborted".into()).ok()).and_then(|v| v.as_bool()).unwrap_or(false)
    }
}

/// Reads the initial state: an object, or a JSON string (then the result is a JSON string too).
fn read_state(state: &JsValue) -> Result<(Value, bool), EngineError> {
    match state.as_string() {
        Some(text) => serde_json::from_str(&text).map(|v| (v, true)).map_err(|e| EngineError::new(Code::InvalidArgument, format!("initial state is not valid JSON: {e}"))),
        None => from_js(state).map(|v| (v, false)),
    }
}

fn run_compiled(compiled: Rc<Compiled>, state: JsValue, options: JsValue) -> Promise {
    future_to_promise(async move {
        let (initial, as_string) = read_state(&state).map_err(|e| js_error(&e))?;
        let (host, opts) = JsHost::from_options(&options);
        match compiled.run(initial, opts, &host).await {
            Ok(v) if as_string => Ok(JsValue::from_str(&v.to_string())),
            Ok(v) => Ok(to_js(&v)),
            Err(e) => Err(js_error(&e)),
        }
    })
}

/// Parses, validates and runs a workflow; resolves to the final state.
#[wasm_bindgen]
pub fn execute_yaml(yaml: &str, initial_state: JsValue, options: JsValue) -> Promise {
    match Compiled::parse(yaml, &registered()) {
        Ok(c) => run_compiled(Rc::new(c), initial_state, options),
        Err(e) => Promise::reject(&js_error(&e)),
    }
}

/// A compiled workflow: parse once, run many times.
#[wasm_bindgen(js_name = Workflow)]
pub struct WasmWorkflow {
    inner: Rc<Compiled>,
}

#[wasm_bindgen(js_class = Workflow)]
impl WasmWorkflow {
    /// Parses and validates; throws on the first error (with line and column).
    pub fn parse(yaml: &str) -> Result<WasmWorkflow, JsValue> {
        Compiled::parse(yaml, &registered()).map(|c| WasmWorkflow { inner: Rc::new(c) }).map_err(|e| js_error(&e))
    }

    /// Runs the workflow on a state; resolves to the final state.
    pub fn run(&self, state: JsValue, options: JsValue) -> Promise {
        run_compiled(self.inner.clone(), state, options)
    }

    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.inner.workflow.name.clone()
    }

    /// Node names in written order.
    #[wasm_bindgen(getter, js_name = nodeNames)]
    pub fn node_names(&self) -> Array {
        self.inner.workflow.nodes.iter().map(|n| JsValue::from_str(&n.name)).collect()
    }

    /// Validation warnings (unknown keys, ...) found when parsing.
    #[wasm_bindgen(getter)]
    pub fn warnings(&self) -> Array {
        self.inner.warnings.iter().map(problem_to_js).collect()
    }
}

/// Every problem in a workflow, errors and warnings, without running it.
#[wasm_bindgen]
pub fn validate_yaml(yaml: &str) -> Array {
    let (_, mut problems) = check(yaml, &registered());
    problems.sort_by_key(|p| p.pos.map(|p| (p.line, p.column)).unwrap_or((usize::MAX, 0)));
    problems.iter().map(problem_to_js).collect()
}

/// Renders a template against a state and variables (typed for a single `{{ expression }}`).
#[wasm_bindgen]
pub fn render_template(template: &str, state: JsValue, variables: JsValue) -> Result<JsValue, JsValue> {
    let state = from_js(&state).map_err(|e| js_error(&e))?;
    let vars = from_js(&variables).map_err(|e| js_error(&e))?;
    render(template, &state, &vars).map(|v| to_js(&v)).map_err(|e| js_error(&e))
}

fn direct(kind: &'static str, params: JsValue) -> Promise {
    future_to_promise(async move {
        let host = JsHost { on_event: None, signal: Reflect::get(&params, &"signal".into()).ok().filter(|s| !s.is_undefined()) };
        let mut p = from_js(&params).map_err(|e| js_error(&e))?;
        if kind == "call" {
            if let Value::Object(m) = &mut p {
                m.entry("max_tokens").or_insert(json!(100));
            }
        }
        let reply = host.call_llm(kind, p, "").await.map_err(|e| js_error(&e))?;
        Ok(to_js(&if kind == "call" { normalize_llm_reply(reply) } else { reply }))
    })
}

/// Calls the LLM handler directly (as `llm.call` does); resolves to `{ content, model, ... }`.
#[wasm_bindgen]
pub fn llm_call_async(params: JsValue) -> Promise {
    direct("call", params)
}

/// Calls the LLM handler for an embedding (as `llm.embed` does); resolves to `{ embedding }`.
#[wasm_bindgen]
pub fn llm_embed_async(params: JsValue) -> Promise {
    direct("embed", params)
}

/// The names registered with `register_action`.
#[wasm_bindgen]
pub fn registered_actions() -> Array {
    ACTIONS.with(|a| a.borrow().keys().map(|k| JsValue::from_str(k)).collect())
}
